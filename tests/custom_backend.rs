//! A complete custom backend in one file, as `docs/backends.md` walks through it: a
//! copy-on-write map with snapshot reads, written against the byte-level contract alone. It
//! passes the conformance kit and then runs the typed layer (models, indexes, queries)
//! unchanged.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use netabase_store::backend::{
    Backend, BackendError, Capabilities, Direction, ReadTable, ReadTransaction, Result, WriteTable,
    WriteTransaction, in_bounds, is_empty_range,
};

/// One table: sorted keys, shared values.
type Table = BTreeMap<Vec<u8>, Arc<[u8]>>;
/// Every table, by name.
type Tables = BTreeMap<String, Table>;

/// The committed state behind an `Arc`: a reader clones the `Arc` (its snapshot), a writer
/// edits a private copy and swaps it in at commit.
#[derive(Default)]
pub struct CowBackend {
    committed: Mutex<Arc<Tables>>,
    writer: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere cannot leave the maps half-edited (they are swapped whole).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Backend for CowBackend {
    type ReadTxn<'db> = CowRead;
    type WriteTxn<'db> = CowWrite<'db>;

    const CAPABILITIES: Capabilities = Capabilities::new("cow").with_snapshot_reads(true);

    fn begin_read(&self) -> Result<CowRead> {
        Ok(CowRead(Arc::clone(&lock(&self.committed))))
    }

    fn begin_write(&self) -> Result<CowWrite<'_>> {
        let guard = lock(&self.writer); // one writer at a time
        let working = (**lock(&self.committed)).clone();
        Ok(CowWrite {
            db: self,
            _writer: guard,
            working: Mutex::new(working),
            open: Mutex::new(HashSet::new()),
        })
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

/// The contract reserves the empty name (the conformance kit checks it).
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(BackendError::InvalidConfig {
            message: "a table name cannot be empty".into(),
        });
    }
    Ok(())
}

/// A read transaction: a snapshot.
pub struct CowRead(Arc<Tables>);

impl ReadTransaction for CowRead {
    type Table<'t> = CowReadTable<'t>;

    fn open_table(&self, name: &str) -> Result<CowReadTable<'_>> {
        check_name(name)?;
        // A table never written reads as empty.
        Ok(CowReadTable(self.0.get(name)))
    }
}

/// A table of a snapshot.
pub struct CowReadTable<'t>(Option<&'t Table>);

/// The entries of `table` within the bounds, in `direction` (collected: this backend keeps
/// it simple; a real one would return a lazy iterator).
fn scan<'g>(
    table: Option<&'g Table>,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    direction: Direction,
) -> std::vec::IntoIter<Result<(&'g [u8], &'g [u8])>> {
    let mut out: Vec<Result<(&[u8], &[u8])>> = match table {
        Some(t) if !is_empty_range(lower, upper) => t
            .range::<[u8], _>((lower, upper))
            .filter(|(k, _)| in_bounds(k, lower, upper))
            .map(|(k, v)| Ok((k.as_slice(), &v[..])))
            .collect(),
        _ => Vec::new(),
    };
    if direction == Direction::Reverse {
        out.reverse();
    }
    out.into_iter()
}

impl ReadTable for CowReadTable<'_> {
    type Guard<'g>
        = &'g [u8]
    where
        Self: 'g;
    type Range<'g>
        = std::vec::IntoIter<Result<(&'g [u8], &'g [u8])>>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        Ok(self.0.and_then(|t| t.get(key)).map(|v| &v[..]))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<Self::Range<'_>> {
        Ok(scan(self.0, lower, upper, direction))
    }

    fn len(&self) -> Result<u64> {
        Ok(self.0.map_or(0, |t| t.len() as u64))
    }
}

/// A write transaction: a private copy of every table, published at commit.
pub struct CowWrite<'db> {
    db: &'db CowBackend,
    _writer: MutexGuard<'db, ()>,
    working: Mutex<Tables>,
    open: Mutex<HashSet<String>>,
}

impl WriteTransaction for CowWrite<'_> {
    type Table<'t>
        = CowWriteTable<'t>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<CowWriteTable<'_>> {
        check_name(name)?;
        if !lock(&self.open).insert(name.to_owned()) {
            return Err(BackendError::TableAlreadyOpen {
                table: name.to_owned(),
            });
        }
        // The table handle owns its map while it lives and gives it back when dropped.
        let table = lock(&self.working).remove(name).unwrap_or_default();
        Ok(CowWriteTable {
            txn: self,
            name: name.to_owned(),
            table,
        })
    }

    fn commit(self) -> Result<()> {
        let working = std::mem::take(&mut *lock(&self.working));
        *lock(&self.db.committed) = Arc::new(working);
        Ok(())
    }

    fn abort(self) -> Result<()> {
        Ok(()) // the private copy is dropped
    }
}

/// A table of a write transaction.
pub struct CowWriteTable<'t> {
    txn: &'t CowWrite<'t>,
    name: String,
    table: Table,
}

impl Drop for CowWriteTable<'_> {
    fn drop(&mut self) {
        lock(&self.txn.open).remove(&self.name);
        let table = std::mem::take(&mut self.table);
        lock(&self.txn.working).insert(std::mem::take(&mut self.name), table);
    }
}

impl ReadTable for CowWriteTable<'_> {
    type Guard<'g>
        = &'g [u8]
    where
        Self: 'g;
    type Range<'g>
        = std::vec::IntoIter<Result<(&'g [u8], &'g [u8])>>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        Ok(self.table.get(key).map(|v| &v[..]))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<Self::Range<'_>> {
        Ok(scan(Some(&self.table), lower, upper, direction))
    }

    fn len(&self) -> Result<u64> {
        Ok(self.table.len() as u64)
    }
}

impl WriteTable for CowWriteTable<'_> {
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.table.insert(key.to_vec(), Arc::from(value));
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.table.remove(key).is_some())
    }

    fn clear(&mut self) -> Result<()> {
        self.table.clear();
        Ok(())
    }
}

/// The conformance kit's harness: a fresh backend per check.
struct CowHarness(CowBackend);

impl netabase_store::backend::conformance::Harness for CowHarness {
    type Backend = CowBackend;

    fn new() -> Self {
        CowHarness(CowBackend::default())
    }

    fn backend(&self) -> &CowBackend {
        &self.0
    }

    /// Not persistent: the kit only reopens backends that claim `persistent`.
    fn reopen(&mut self) {}
}

netabase_store::backend::conformance_tests!(kit: CowHarness);

/// The typed layer, unchanged, on the new backend.
#[test]
fn the_typed_layer_runs_on_the_custom_backend() {
    use common::*;
    use netabase_store::Store;
    let store = Store::<BlogDefinition, _>::from_backend(CowBackend::default()).unwrap();
    let users = store.open_tree::<User>();
    users
        .put_many([user(1, "a@x", 30), user(2, "b@x", 30)])
        .unwrap();
    assert_eq!(users.get(1).unwrap(), Some(user(1, "a@x", 30)));
    assert_eq!(users.count_by(User::AGE, 30).unwrap(), 2);
    let snapshot = store.read().unwrap();
    users.delete(1).unwrap();
    assert!(
        snapshot
            .open_tree::<User>()
            .unwrap()
            .contains_key(1)
            .unwrap()
    );
    assert_eq!(users.get_by(User::EMAIL, "a@x").unwrap(), vec![]);
}
