//! Integrity checks and repair: finding what damage or a crash left behind, and fixing what
//! can be fixed without guessing.
//!
//! [`Store::check_integrity`](crate::Store::check_integrity) reads every model in one read
//! transaction and reports, per model, the records, the index entries, and every way the two
//! disagree. [`Store::repair`](crate::Store::repair) rebuilds the indexes in one write
//! transaction and, on request, first purges the records whose bytes no longer validate.
//! [`Tree::purge`] removes one such record together with every index entry pointing at it.
//!
//! ```
//! use netabase_store::{netabase_definition_module, NetabaseError, RepairOptions, Store};
//! use netabase_store::backend::{Backend, WriteTable, WriteTransaction};
//!
//! #[netabase_definition_module(AppDefinition, AppKeys)]
//! mod app {
//!     #[derive(netabase_store::NetabaseModel, Clone, Debug, PartialEq)]
//!     #[netabase(AppDefinition)]
//!     pub struct User {
//!         #[primary_key]
//!         pub id: u64,
//!         #[secondary_key]
//!         pub email: String,
//!     }
//! }
//! use app::*;
//!
//! let store = Store::<AppDefinition, _>::temp()?;
//! let users = store.open_tree::<User>();
//! users.put_many([User { id: 1, email: "a@x".into() }, User { id: 2, email: "b@x".into() }])?;
//! assert!(store.check_integrity()?.is_clean());
//!
//! // Damage, as a bad disk or a foreign writer would leave it: user 2's bytes are garbage.
//! let txn = store.backend().begin_write()?;
//! txn.open_table("User")?.insert(&netabase_store::key::key_bytes(&2u64), b"garbage")?;
//! txn.commit()?;
//!
//! // Reading it is a typed error, and so is `delete` (its index entries cannot be computed).
//! assert!(matches!(users.get(2), Err(NetabaseError::Corrupt { .. })));
//! let report = store.check_integrity()?;
//! assert_eq!(report.model("User").unwrap().undecodable.len(), 1);
//! println!("{report}"); // User: 2 records, 2 index entries, 1 dangling index entries, 1 undecodable records
//!
//! // Repair: purge what does not validate, rebuild every index, in one transaction.
//! let repaired = store.repair(RepairOptions::new().purge_undecodable(true))?;
//! assert_eq!(repaired.purged(), 1);
//! assert!(store.check_integrity()?.is_clean());
//! assert_eq!(users.get_by(User::EMAIL, "a@x")?.len(), 1);
//! # Ok::<(), NetabaseError>(())
//! ```
//!
//! Damage that still validates as an archive (a changed integer, a record copied under
//! another key) reads as data unless the store keeps checksums,
//! [`Checksummed`](crate::Checksummed):
//!
//! ```
//! # use netabase_store::{netabase_definition_module, NetabaseError, RepairOptions, Store};
//! # use netabase_store::backend::{Backend, BackendError, ReadTable, ReadTransaction, WriteTable, WriteTransaction};
//! # #[netabase_definition_module(AppDefinition, AppKeys)]
//! # mod app {
//! #     #[derive(netabase_store::NetabaseModel, Clone, Debug, PartialEq)]
//! #     #[netabase(AppDefinition)]
//! #     pub struct User {
//! #         #[primary_key]
//! #         pub id: u64,
//! #         pub age: u8,
//! #     }
//! # }
//! # use app::*;
//! use netabase_store::{Checksummed, MemoryBackend};
//!
//! let store = Store::<AppDefinition, _>::from_backend(Checksummed::new(MemoryBackend::new()))?;
//! store.open_tree::<User>().put(User { id: 1, age: 30 })?;
//!
//! // Flip one bit of the stored age, below the checksum layer: still a valid archive.
//! let key = netabase_store::key::key_bytes(&1u64);
//! let raw = store.backend().inner();
//! let mut bytes = raw.begin_read()?.open_table("User")?.get(&key)?.unwrap().as_ref().to_vec();
//! bytes[0] ^= 0x01;
//! let txn = raw.begin_write()?;
//! txn.open_table("User")?.insert(&key, &bytes)?;
//! txn.commit()?;
//!
//! let e = store.open_tree::<User>().get(1).unwrap_err();
//! assert!(matches!(e, NetabaseError::Backend(BackendError::ChecksumMismatch { .. })));
//! assert_eq!(store.check_integrity()?.model("User").unwrap().undecodable, vec![key]);
//! # Ok::<(), NetabaseError>(())
//! ```

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use netabase_backend_api::{BackendError, Direction, ReadTable, WriteTable};

use crate::error::Result;
use crate::guard::Ref;
use crate::index::IndexEntries;
use crate::key::KeyArg;
use crate::subscribe::RawChange;
use crate::traits::model::NetabaseModelTrait;
use crate::tree::Tree;

/// What [`Store::check_integrity`](crate::Store::check_integrity) found in one model.
///
/// A model is clean when every record validates and is stored under its own primary key,
/// the index holds exactly the entries the records imply, and no unique key value is held
/// by two records ([`is_clean`](Self::is_clean)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelIntegrity {
    /// The model's name.
    pub model: &'static str,
    /// Records stored (valid or not).
    pub records: u64,
    /// Entries in the model's secondary index table.
    pub index_entries: u64,
    /// Index entries that no valid record implies: an entry whose record is gone, no longer
    /// holds that key value, does not validate, or an entry that is not well formed.
    pub dangling_entries: u64,
    /// Entries that a valid record implies but the index lacks (lookups by that value miss
    /// the record).
    pub missing_entries: u64,
    /// Unique key values held by more than one valid record.
    pub unique_conflicts: u64,
    /// Primary keys (encoded) of the records whose bytes do not validate as an archive of
    /// the model: they cannot be read, only purged ([`Tree::purge`]).
    pub undecodable: Vec<Vec<u8>>,
    /// Primary keys (encoded) of the records that validate but are stored under a key other
    /// than their own primary key (damage that moved or changed the key bytes).
    pub misplaced: Vec<Vec<u8>>,
}

impl ModelIntegrity {
    /// Whether nothing is wrong with this model.
    pub fn is_clean(&self) -> bool {
        self.dangling_entries == 0
            && self.missing_entries == 0
            && self.unique_conflicts == 0
            && self.undecodable.is_empty()
            && self.misplaced.is_empty()
    }
}

impl fmt::Display for ModelIntegrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} records, {} index entries",
            self.model, self.records, self.index_entries
        )?;
        if self.is_clean() {
            return f.write_str(", clean");
        }
        let problems = [
            (self.dangling_entries, "dangling index entries"),
            (self.missing_entries, "missing index entries"),
            (self.unique_conflicts, "unique key conflicts"),
            (self.undecodable.len() as u64, "undecodable records"),
            (self.misplaced.len() as u64, "misplaced records"),
        ];
        for (n, what) in problems {
            if n > 0 {
                write!(f, ", {n} {what}")?;
            }
        }
        Ok(())
    }
}

/// What [`Store::check_integrity`](crate::Store::check_integrity) found: one entry per model
/// of the definition, in declaration order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IntegrityReport {
    /// Per model.
    pub models: Vec<ModelIntegrity>,
}

impl IntegrityReport {
    /// Whether every model is clean.
    pub fn is_clean(&self) -> bool {
        self.models.iter().all(ModelIntegrity::is_clean)
    }

    /// The report of the model named `name`.
    pub fn model(&self, name: &str) -> Option<&ModelIntegrity> {
        self.models.iter().find(|m| m.model == name)
    }
}

impl fmt::Display for IntegrityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, model) in self.models.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{model}")?;
        }
        Ok(())
    }
}

/// What [`Store::repair`](crate::Store::repair) does beyond rebuilding the indexes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairOptions {
    /// Remove the records that do not validate or are stored under a key not their own
    /// (reported as `undecodable` / `misplaced`) before rebuilding. Off by default: without
    /// it, such a record makes the repair fail with
    /// [`NetabaseError::Corrupt`](crate::NetabaseError::Corrupt) and nothing changes.
    pub purge_undecodable: bool,
}

impl RepairOptions {
    /// The defaults: rebuild indexes only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also purge undecodable and misplaced records (see the field).
    pub fn purge_undecodable(mut self, yes: bool) -> Self {
        self.purge_undecodable = yes;
        self
    }
}

/// What [`Store::repair`](crate::Store::repair) did to one model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelRepair {
    /// The model's name.
    pub model: &'static str,
    /// Primary keys (encoded) of the records purged.
    pub purged: Vec<Vec<u8>>,
    /// Index entries written by the rebuild.
    pub index_entries: u64,
}

/// What [`Store::repair`](crate::Store::repair) did, per model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepairReport {
    /// Per model, in declaration order.
    pub models: Vec<ModelRepair>,
}

impl RepairReport {
    /// How many records were purged in all.
    pub fn purged(&self) -> usize {
        self.models.iter().map(|m| m.purged.len()).sum()
    }
}

/// One item of a table scan: an entry, or the key of an entry whose checksum failed (on a
/// [`Checksummed`](netabase_backend_api::checksum::Checksummed) backend), which a check
/// counts and a purge removes instead of stopping at it.
enum Scanned<G> {
    Entry(G, G),
    BadChecksum(Vec<u8>),
}

fn scanned<G>(item: netabase_backend_api::Result<(G, G)>) -> Result<Scanned<G>> {
    match item {
        Ok((key, value)) => Ok(Scanned::Entry(key, value)),
        Err(BackendError::ChecksumMismatch { key, .. }) => Ok(Scanned::BadChecksum(key)),
        Err(e) => Err(e.into()),
    }
}

/// Why a stored record cannot be used as it is.
enum Bad {
    Undecodable,
    Misplaced,
}

/// Validates the record stored under `key`: `None` when it is usable.
fn classify<M: NetabaseModelTrait, G: netabase_backend_api::StableBytes>(
    key: &[u8],
    value: G,
    scratch: &mut Vec<u8>,
) -> std::result::Result<Ref<M, G>, Bad> {
    let record = Ref::<M, G>::new(value, M::INFO.table, key).map_err(|_| Bad::Undecodable)?;
    scratch.clear();
    M::encode_archived_primary_key(record.archived(), scratch);
    if scratch.as_slice() == key {
        Ok(record)
    } else {
        Err(Bad::Misplaced)
    }
}

impl<M: NetabaseModelTrait, T: ReadTable> Tree<'_, M, T> {
    /// Checks this model's records and index against each other (see [`ModelIntegrity`]).
    ///
    /// Reads every record and every index entry once, and holds the expected index entries
    /// in memory (about the size of the index). An error from the backend itself (a page it
    /// cannot read) is returned as the error; everything the typed layer can detect is
    /// counted in the report.
    pub fn check_integrity(&self) -> Result<ModelIntegrity> {
        let mut report = ModelIntegrity {
            model: M::INFO.name,
            ..ModelIntegrity::default()
        };
        let mut expected = BTreeSet::new();
        let mut unique_values = HashSet::new();
        let mut entries = IndexEntries::new();
        let mut scratch = Vec::new();
        let all = (Bound::Unbounded, Bound::Unbounded, Direction::Forward);
        for item in self.primary_table().range(all.0, all.1, all.2)? {
            report.records += 1;
            let (key, value) = match scanned(item)? {
                Scanned::Entry(key, value) => (key, value),
                Scanned::BadChecksum(key) => {
                    report.undecodable.push(key);
                    continue;
                }
            };
            let key = key.as_ref();
            let record = match classify::<M, _>(key, value, &mut scratch) {
                Ok(record) => record,
                Err(Bad::Undecodable) => {
                    report.undecodable.push(key.to_vec());
                    continue;
                }
                Err(Bad::Misplaced) => {
                    report.misplaced.push(key.to_vec());
                    continue;
                }
            };
            entries.reset(key);
            M::archived_index_entries(record.archived(), &mut entries);
            entries.sort_dedup();
            for entry in entries.iter() {
                if entry.unique && !unique_values.insert(entry.prefix().to_vec()) {
                    report.unique_conflicts += 1;
                }
                expected.insert(entry.key.to_vec());
            }
        }
        if let Some(index) = self.index_table() {
            for item in index.range(all.0, all.1, all.2)? {
                report.index_entries += 1;
                let found = match scanned(item)? {
                    Scanned::Entry(key, _) => expected.remove(key.as_ref()),
                    // An entry whose bytes changed is not the entry a record implies.
                    Scanned::BadChecksum(_) => false,
                };
                if !found {
                    report.dangling_entries += 1;
                }
            }
        }
        report.missing_entries = expected.len() as u64;
        Ok(report)
    }
}

impl<M: NetabaseModelTrait, T: WriteTable> Tree<'_, M, T> {
    /// Removes the record stored under `key` whether or not its bytes still validate,
    /// together with every index entry pointing at `key`; returns whether a record was
    /// stored there.
    ///
    /// This is the way out for a record that [`remove`](Self::remove) refuses because it is
    /// [`Corrupt`](crate::NetabaseError::Corrupt): its index entries cannot be computed from
    /// its bytes, so the whole index table is scanned for entries naming `key` (cost: one
    /// pass over the model's index). Entries pointing at `key` are removed even when no
    /// record is stored there. A failure after the first change poisons the transaction.
    pub fn purge(&mut self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        let mut pk = Vec::new();
        key.encode_as(&mut pk);
        self.purge_encoded(&pk)
    }

    /// [`purge`](Self::purge) with the primary key already encoded.
    pub(crate) fn purge_encoded(&mut self, pk: &[u8]) -> Result<bool> {
        let (primary, index, poison, capture) = self.parts_mut();
        let mut dangling = Vec::new();
        if let Some(index) = &index {
            for item in index.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
                let names_pk = |key: &[u8]| M::index_entry_primary_key(key) == Some(pk);
                match scanned(item)? {
                    // Only the entries naming `pk` are copied, not every key scanned.
                    Scanned::Entry(key, _) if names_pk(key.as_ref()) => {
                        dangling.push(key.as_ref().to_vec());
                    }
                    Scanned::BadChecksum(key) if names_pk(&key) => dangling.push(key),
                    _ => {}
                }
            }
        }
        let old = match capture {
            // A value whose checksum failed is published as a removal of unknown bytes.
            Some(_) => match primary.get(pk) {
                Ok(old) => old.map(|g| Arc::<[u8]>::from(g.as_ref())),
                Err(BackendError::ChecksumMismatch { .. }) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let result = (|| {
            if let Some(index) = index {
                for entry in &dangling {
                    index.remove(entry)?;
                }
            }
            primary.remove(pk)
        })();
        let existed = crate::tree::poison_on_err(poison, result)?;
        if existed && let Some(capture) = capture {
            capture.borrow_mut().push(RawChange {
                table: M::INFO.table,
                key: pk.into(),
                old,
                new: None,
            });
        }
        Ok(existed)
    }

    /// Purges every record that does not validate or is misplaced (see [`ModelIntegrity`]);
    /// returns their keys.
    pub(crate) fn purge_undecodable(&mut self) -> Result<Vec<Vec<u8>>> {
        let mut scratch = Vec::new();
        let mut bad = Vec::new();
        for item in
            self.primary_table()
                .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)?
        {
            match scanned(item)? {
                Scanned::Entry(key, value) => {
                    if classify::<M, _>(key.as_ref(), value, &mut scratch).is_err() {
                        bad.push(key.as_ref().to_vec());
                    }
                }
                Scanned::BadChecksum(key) => bad.push(key),
            }
        }
        for key in &bad {
            self.purge_encoded(key)?;
        }
        Ok(bad)
    }
}
