//! IndexedDB backend of `netabase_store`, for the browser (wasm32 only; on other targets this
//! crate is empty).
//!
//! * One object store per table; keys and values are `Uint8Array`s, which IndexedDB orders
//!   bytewise (unsigned, shorter prefix first): the order of the key codec, so ranges and
//!   prefixes work unchanged. A `Vec<u8>` would become a JS array key and sort wrongly.
//! * `IndexedDbBackend::open` creates the object stores it is given in the upgrade
//!   transaction; a table first written later (a model added to the definition, a table of
//!   the conformance kit) is created at commit by bumping the database version itself.
//! * **Atomicity survives auto-commit.** IndexedDB commits a transaction by itself as soon as
//!   the code awaits anything but that transaction's requests (a timer, a fetch). So a write
//!   transaction here does not hold an IndexedDB transaction: it buffers its writes (reads in
//!   it see them, merged over the committed state) and `commit` replays them in one
//!   `readwrite` IndexedDB transaction that awaits only its own requests. A user awaiting a
//!   timer in the middle of a write transaction cannot get half a commit; dropping it writes
//!   nothing.
//! * Reads run each call in a short `readonly` IndexedDB transaction, so reads are
//!   read-committed (`snapshot_reads: false`), and a read transaction may span foreign awaits.
//! * Values are copied once, out of the JS `Uint8Array`, into an owned `Vec<u8>` guard.
//!
//! One writer per backend handle at a time (a second `begin_write` while one is alive is
//! `BackendError::AlreadyOpen`). Writers in other tabs are not coordinated.
#![cfg(target_arch = "wasm32")]

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::{KeyRange, cursor::CursorDirection};
use js_sys::Uint8Array;
use netabase_backend_api::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
    BackendError, Capabilities, Direction, Result, in_bounds, is_empty_range,
};
use wasm_bindgen::{JsCast, JsValue};

const NAME: &str = "indexeddb";

/// An IndexedDB error, as text (JS values cannot cross threads; the message can).
#[derive(Debug)]
struct IdbError(String);

impl fmt::Display for IdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IdbError {}

fn engine(e: impl fmt::Display) -> BackendError {
    BackendError::engine(NAME, IdbError(e.to_string()))
}

fn bytes_to_js(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
}

/// Bytes of a key (an `ArrayBuffer`) or a value (a `Uint8Array`) read back.
fn js_to_bytes(value: &JsValue) -> Result<Vec<u8>> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        return Ok(array.to_vec());
    }
    if value.is_instance_of::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(value).to_vec());
    }
    Err(BackendError::Corrupted {
        message: format!("IndexedDB returned a non-binary key or value: {value:?}"),
    })
}

fn check_name(name: &str) -> Result<()> {
    match name.is_empty() {
        true => Err(BackendError::InvalidConfig {
            message: "table names must not be empty".into(),
        }),
        false => Ok(()),
    }
}

/// The IndexedDB key range of `(lower, upper)`, `None` for the whole store. The caller has
/// ruled out empty ranges (IndexedDB rejects inverted ones).
fn key_range(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> Option<KeyRange<JsValue>> {
    let end = |b: Bound<&[u8]>| match b {
        Bound::Included(k) => Some((bytes_to_js(k), false)),
        Bound::Excluded(k) => Some((bytes_to_js(k), true)),
        Bound::Unbounded => None,
    };
    match (end(lower), end(upper)) {
        (None, None) => None,
        (Some((l, lo)), None) => Some(KeyRange::LowerBound(l, lo)),
        (None, Some((u, uo))) => Some(KeyRange::UpperBound(u, uo)),
        (Some((l, lo)), Some((u, uo))) => Some(KeyRange::Bound(l, lo, u, uo)),
    }
}

/// An IndexedDB database seen through the async contract. See the [crate docs](crate).
pub struct IndexedDbBackend {
    name: String,
    db: RefCell<Database>,
    stores: RefCell<BTreeSet<String>>,
    writing: Cell<bool>,
}

impl fmt::Debug for IndexedDbBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexedDbBackend")
            .field("name", &self.name)
            .field("stores", &self.stores.borrow())
            .finish()
    }
}

impl IndexedDbBackend {
    /// Opens (creating if needed) the database `name`, with an object store for each of
    /// `tables`: stores that do not exist yet are created in an upgrade transaction (the
    /// database version is bumped by one).
    pub async fn open(name: &str, tables: &[&str]) -> Result<Self> {
        Self::open_at_least(name, tables, 0).await
    }

    /// Like [`open`](Self::open), and upgrades the database to at least IndexedDB version
    /// `min_version` (a database already at a higher version keeps it).
    pub async fn open_at_least(name: &str, tables: &[&str], min_version: u32) -> Result<Self> {
        for table in tables {
            check_name(table)?;
        }
        let db = Database::open(name).await.map_err(engine)?;
        let backend = IndexedDbBackend {
            name: name.to_owned(),
            stores: RefCell::new(db.object_store_names().collect()),
            db: RefCell::new(db),
            writing: Cell::new(false),
        };
        backend
            .ensure_stores(tables.iter().copied(), min_version)
            .await?;
        Ok(backend)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's IndexedDB version (bumped whenever object stores were created).
    pub fn version(&self) -> f64 {
        self.db.borrow().version()
    }

    /// The object stores the database has.
    pub fn tables(&self) -> Vec<String> {
        self.stores.borrow().iter().cloned().collect()
    }

    /// Closes the database connection (other handles to the same database can then upgrade
    /// it).
    pub fn close(self) {
        self.db.into_inner().close();
    }

    /// Deletes the database `name` (all its data). Fails while a connection is open.
    pub async fn delete(name: &str) -> Result<()> {
        Database::delete_by_name(name)
            .map_err(engine)?
            .await
            .map_err(engine)
    }

    /// Creates the object stores of `tables` that are missing, in one version upgrade (to at
    /// least `min_version`).
    async fn ensure_stores<'a>(
        &self,
        tables: impl Iterator<Item = &'a str>,
        min_version: u32,
    ) -> Result<()> {
        let missing: Vec<String> = {
            let stores = self.stores.borrow();
            tables
                .filter(|t| !stores.contains(*t))
                .map(str::to_owned)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let current = self.db.borrow().version() as u32;
        if missing.is_empty() && current >= min_version {
            return Ok(());
        }
        let bump = u32::from(!missing.is_empty());
        let version = (current + bump).max(min_version);
        self.db.borrow().clone().close();
        let create = missing.clone();
        let db = Database::open(self.name.as_str())
            .with_version(version)
            .with_on_upgrade_needed(move |_event, db| {
                for table in &create {
                    db.create_object_store(table.as_str()).build()?;
                }
                Ok(())
            })
            .await
            .map_err(engine)?;
        *self.stores.borrow_mut() = db.object_store_names().collect();
        *self.db.borrow_mut() = db;
        Ok(())
    }

    fn has_store(&self, table: &str) -> bool {
        self.stores.borrow().contains(table)
    }

    /// A handle on the current database connection (cheap: a JS reference).
    fn database(&self) -> Database {
        self.db.borrow().clone()
    }

    /// `get` of committed data, in its own readonly transaction.
    async fn committed_get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if !self.has_store(table) {
            return Ok(None);
        }
        let db = self.database();
        let tx = db.transaction(table).build().map_err(engine)?;
        let store = tx.object_store(table).map_err(engine)?;
        let value: Option<JsValue> = store
            .get(bytes_to_js(key))
            .primitive()
            .map_err(engine)?
            .await
            .map_err(engine)?;
        value.as_ref().map(js_to_bytes).transpose()
    }

    /// Up to `limit` committed entries of `(lower, upper)` in `direction`.
    async fn committed_range(
        &self,
        table: &str,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
        limit: Option<usize>,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let limit = limit.unwrap_or(usize::MAX);
        if !self.has_store(table) || is_empty_range(lower, upper) || limit == 0 {
            return Ok(Vec::new());
        }
        let db = self.database();
        let tx = db.transaction(table).build().map_err(engine)?;
        let store = tx.object_store(table).map_err(engine)?;
        let direction = match direction {
            Direction::Forward => CursorDirection::Next,
            Direction::Reverse => CursorDirection::Prev,
        };
        let query =
            key_range(lower, upper).unwrap_or(KeyRange::LowerBound(bytes_to_js(&[]), false));
        let cursor = store
            .open_cursor()
            .with_query::<JsValue, _>(query)
            .with_direction(direction)
            .primitive()
            .map_err(engine)?
            .await
            .map_err(engine)?;
        let mut out = Vec::new();
        let Some(mut cursor) = cursor else {
            return Ok(out);
        };
        while out.len() < limit {
            let Some(value) = cursor.next_record::<JsValue>().await.map_err(engine)? else {
                break;
            };
            let key: Option<JsValue> = cursor.key().map_err(engine)?;
            let key = key.ok_or_else(|| engine("a cursor record without a key"))?;
            out.push((js_to_bytes(&key)?, js_to_bytes(&value)?));
        }
        Ok(out)
    }

    /// The number of committed entries, and which of `probes` are committed.
    async fn committed_count(&self, table: &str, probes: &[&[u8]]) -> Result<(u64, Vec<bool>)> {
        if !self.has_store(table) {
            return Ok((0, vec![false; probes.len()]));
        }
        let db = self.database();
        let tx = db.transaction(table).build().map_err(engine)?;
        let store = tx.object_store(table).map_err(engine)?;
        let total = store
            .count()
            .primitive()
            .map_err(engine)?
            .await
            .map_err(engine)?;
        let mut present = Vec::with_capacity(probes.len());
        for probe in probes {
            let n = store
                .count()
                .with_query(bytes_to_js(probe))
                .primitive()
                .map_err(engine)?
                .await
                .map_err(engine)?;
            present.push(n > 0);
        }
        Ok((u64::from(total), present))
    }
}

impl AsyncBackend for IndexedDbBackend {
    type ReadTxn<'db> = IdbReadTxn<'db>;
    type WriteTxn<'db> = IdbWriteTxn<'db>;

    const CAPABILITIES: Capabilities = Capabilities::new(NAME)
        .with_snapshot_reads(false)
        .with_zero_copy_reads(false)
        .with_persistent(true);

    async fn begin_read(&self) -> Result<IdbReadTxn<'_>> {
        Ok(IdbReadTxn { backend: self })
    }

    async fn begin_write(&self) -> Result<IdbWriteTxn<'_>> {
        if self.writing.replace(true) {
            return Err(BackendError::AlreadyOpen);
        }
        Ok(IdbWriteTxn {
            backend: self,
            tables: RefCell::new(BTreeMap::new()),
            open: RefCell::new(BTreeSet::new()),
        })
    }
}

/// A read transaction: each read is its own readonly IndexedDB transaction.
pub struct IdbReadTxn<'db> {
    backend: &'db IndexedDbBackend,
}

impl AsyncReadTransaction for IdbReadTxn<'_> {
    type Table<'t>
        = IdbReadTable<'t>
    where
        Self: 't;

    async fn open_table(&self, name: &str) -> Result<IdbReadTable<'_>> {
        check_name(name)?;
        Ok(IdbReadTable {
            backend: self.backend,
            name: name.to_owned(),
        })
    }
}

/// A table of a read transaction.
pub struct IdbReadTable<'t> {
    backend: &'t IndexedDbBackend,
    name: String,
}

impl AsyncReadTable for IdbReadTable<'_> {
    type Guard<'g>
        = Vec<u8>
    where
        Self: 'g;

    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.backend.committed_get(&self.name, key).await
    }

    async fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
        limit: Option<usize>,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.backend
            .committed_range(&self.name, lower, upper, direction, limit)
            .await
    }

    async fn len(&self) -> Result<u64> {
        Ok(self.backend.committed_count(&self.name, &[]).await?.0)
    }
}

/// The buffered writes of one table: cleared first, then these keys set (`Some`) or removed
/// (`None`).
#[derive(Default)]
struct Overlay {
    cleared: bool,
    entries: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// A write transaction: its writes are buffered and replayed in one readwrite IndexedDB
/// transaction at commit (see the [crate docs](crate)).
pub struct IdbWriteTxn<'db> {
    backend: &'db IndexedDbBackend,
    tables: RefCell<BTreeMap<String, Overlay>>,
    open: RefCell<BTreeSet<String>>,
}

impl Drop for IdbWriteTxn<'_> {
    fn drop(&mut self) {
        self.backend.writing.set(false);
    }
}

impl AsyncWriteTransaction for IdbWriteTxn<'_> {
    type Table<'t>
        = IdbWriteTable<'t>
    where
        Self: 't;

    async fn open_table(&self, name: &str) -> Result<IdbWriteTable<'_>> {
        check_name(name)?;
        if !self.open.borrow_mut().insert(name.to_owned()) {
            return Err(BackendError::TableAlreadyOpen {
                table: name.to_owned(),
            });
        }
        self.tables.borrow_mut().entry(name.to_owned()).or_default();
        Ok(IdbWriteTable {
            txn: self,
            name: name.to_owned(),
        })
    }

    async fn commit(self) -> Result<()> {
        let tables = std::mem::take(&mut *self.tables.borrow_mut());
        let touched: Vec<&str> = tables
            .iter()
            .filter(|(_, o)| o.cleared || !o.entries.is_empty())
            .map(|(name, _)| name.as_str())
            .collect();
        if touched.is_empty() {
            return Ok(());
        }
        self.backend
            .ensure_stores(touched.iter().copied(), 0)
            .await?;
        let db = self.backend.database();
        let tx = db
            .transaction(touched.as_slice())
            .with_mode(TransactionMode::Readwrite)
            .build()
            .map_err(engine)?;
        // Every request is issued here, then the commit awaits them all: nothing but this
        // transaction's own requests is awaited while it is open.
        for name in &touched {
            let Some(overlay) = tables.get(*name) else {
                continue;
            };
            let store = tx.object_store(name).map_err(engine)?;
            if overlay.cleared {
                store.clear().map_err(engine)?;
            }
            for (key, value) in &overlay.entries {
                match value {
                    Some(value) => {
                        store
                            .put(bytes_to_js(value))
                            .with_key(bytes_to_js(key))
                            .primitive()
                            .map_err(engine)?;
                    }
                    None => {
                        store.delete(bytes_to_js(key)).primitive().map_err(engine)?;
                    }
                }
            }
        }
        tx.commit().await.map_err(engine)
    }

    async fn abort(self) -> Result<()> {
        Ok(())
    }
}

/// Buffered writes of one range: set (`Some`) or removed (`None`).
type Buffered = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// A table of a write transaction.
pub struct IdbWriteTable<'t> {
    txn: &'t IdbWriteTxn<'t>,
    name: String,
}

impl Drop for IdbWriteTable<'_> {
    fn drop(&mut self) {
        self.txn.open.borrow_mut().remove(&self.name);
    }
}

impl IdbWriteTable<'_> {
    fn with_overlay<R>(&self, f: impl FnOnce(&mut Overlay) -> R) -> R {
        let mut tables = self.txn.tables.borrow_mut();
        f(tables.entry(self.name.clone()).or_default())
    }
}

impl AsyncReadTable for IdbWriteTable<'_> {
    type Guard<'g>
        = Vec<u8>
    where
        Self: 'g;

    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (buffered, cleared) = self.with_overlay(|o| (o.entries.get(key).cloned(), o.cleared));
        match (buffered, cleared) {
            (Some(value), _) => Ok(value),
            (None, true) => Ok(None),
            (None, false) => self.txn.backend.committed_get(&self.name, key).await,
        }
    }

    async fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
        limit: Option<usize>,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if is_empty_range(lower, upper) {
            return Ok(Vec::new());
        }
        let (buffered, cleared): (Buffered, bool) = self.with_overlay(|o| {
            let entries = o
                .entries
                .iter()
                .filter(|(k, _)| in_bounds(k, lower, upper))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (entries, o.cleared)
        });
        // Each buffered key can hide at most one committed entry of the first `limit`.
        let committed = match cleared {
            true => Vec::new(),
            false => {
                let fetch = limit.map(|n| n.saturating_add(buffered.len()));
                self.txn
                    .backend
                    .committed_range(&self.name, lower, upper, direction, fetch)
                    .await?
            }
        };
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = committed.into_iter().collect();
        for (key, value) in buffered {
            match value {
                Some(value) => merged.insert(key, value),
                None => merged.remove(&key),
            };
        }
        let limit = limit.unwrap_or(usize::MAX);
        Ok(match direction {
            Direction::Forward => merged.into_iter().take(limit).collect(),
            Direction::Reverse => merged.into_iter().rev().take(limit).collect(),
        })
    }

    async fn len(&self) -> Result<u64> {
        let (keys, cleared): (Vec<(Vec<u8>, bool)>, bool) = self.with_overlay(|o| {
            let keys = o
                .entries
                .iter()
                .map(|(k, v)| (k.clone(), v.is_some()))
                .collect();
            (keys, o.cleared)
        });
        let sets = keys.iter().filter(|(_, set)| *set).count() as u64;
        if cleared {
            return Ok(sets);
        }
        let probes: Vec<&[u8]> = keys.iter().map(|(k, _)| k.as_slice()).collect();
        let (committed, present) = self
            .txn
            .backend
            .committed_count(&self.name, &probes)
            .await?;
        let shadowed = present.iter().filter(|p| **p).count() as u64;
        Ok(committed - shadowed + sets)
    }
}

impl AsyncWriteTable for IdbWriteTable<'_> {
    async fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.with_overlay(|o| o.entries.insert(key.to_vec(), Some(value.to_vec())));
        Ok(())
    }

    async fn remove(&mut self, key: &[u8]) -> Result<bool> {
        let existed = self.get(key).await?.is_some();
        self.with_overlay(|o| o.entries.insert(key.to_vec(), None));
        Ok(existed)
    }

    async fn clear(&mut self) -> Result<()> {
        self.with_overlay(|o| {
            o.cleared = true;
            o.entries.clear();
        });
        Ok(())
    }
}
