//! Zero-copy reads (the earlier `redb_zerocopy`): a `Ref` derefs to the archived record
//! inside redb's page; fields are read in place, and the owned model is one call away.
//!
//! Run with `cargo run --example zero_copy`.

#[path = "shared/schema.rs"]
mod schema;

use netabase_store::backend::{ReadTable, ReadTransaction};
use netabase_store::prelude::*;
use schema::*;

fn main() -> Result<(), NetabaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::<BlogDefinition, _>::redb(dir.path().join("zc.redb"))?;
    store
        .open_tree::<Post>()
        .put_many((1..=50).map(|id| post(id, 7)))?;

    let txn = store.read()?;
    let posts = txn.open_tree::<Post>()?;
    let p = posts.get(8)?.expect("stored");

    // The archive lies in the very bytes redb hands a raw reader: the same address.
    let raw_table = txn.backend_txn().open_table("Post")?;
    let raw = raw_table
        .get(&netabase_store::key::key_bytes(&8u64))?
        .expect("stored");
    assert_eq!(
        p.as_bytes().as_ptr(),
        raw.as_ref().as_ptr(),
        "the record was copied"
    );

    // Fields are read in place: the title's bytes are inside the record's bytes.
    let record = p.as_bytes().as_ptr_range();
    assert!(record.contains(&p.title.as_str().as_ptr()));
    assert_eq!(p.title, "Post 8");
    assert_eq!(p.author_id.to_native(), 7);
    assert_eq!(
        p.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["rust", "db"]
    );

    // An owned model when you want one.
    assert_eq!(p.deserialize()?, post(8, 7));
    println!("zero_copy: the record is read in place from redb's page: ok");
    Ok(())
}
