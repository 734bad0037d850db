//! Compile-time properties of the public types.
mod common;
use common::*;

use netabase_store::backend::{ReadTable, WriteTable};
use netabase_store::redb::{RedbReadTable, RedbWriteTable};
use netabase_store::{NetabaseError, RedbBackend, Store};
use static_assertions::{assert_impl_all, assert_not_impl_any};

// Read transactions' tables have no write methods; write transactions' tables do.
assert_impl_all!(RedbReadTable<'static>: ReadTable);
assert_not_impl_any!(RedbReadTable<'static>: WriteTable);
assert_impl_all!(RedbWriteTable<'static>: ReadTable, WriteTable);

// One store is shared between threads.
assert_impl_all!(Store<BlogDefinition, RedbBackend>: Send, Sync);
assert_impl_all!(NetabaseError: Send, Sync, std::error::Error);

// The generated key types are ordinary values.
assert_impl_all!(UserPrimaryKey: Clone, Ord, std::hash::Hash, std::fmt::Debug, Send, Sync);
assert_impl_all!(UserSecondaryKeys: Clone, Ord, std::hash::Hash, std::fmt::Debug);
assert_impl_all!(BlogKeys: Clone, Eq, std::hash::Hash);

#[test]
fn a_store_is_usable_from_many_threads() {
    let store = Store::<BlogDefinition, _>::temp().unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let store = &store;
            s.spawn(move || {
                for i in 0..25 {
                    store
                        .open_tree::<User>()
                        .put(user(t * 100 + i, "x@x", 1))
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(store.open_tree::<User>().len().unwrap(), 100);
    assert_eq!(
        store
            .open_tree::<User>()
            .get_by_secondary_key(email_key("x@x"))
            .unwrap()
            .len(),
        100
    );
}
