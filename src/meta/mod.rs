//! The store's metadata table: archive format and schema, checked (and evolved) on every
//! open.
//!
//! On first open a store records, in the table [`META_TABLE`], the archive format
//! ([`FORMAT`]), the definition's name and fingerprint, and one schema record per model
//! (its version, archived layout, keys and version history; see `docs/format.md`). Every
//! later open compares them with the definition it is opened with, model by model:
//!
//! * same version, same layout, same keys: nothing to do;
//! * same version and layout, keys added, removed or changed (tag, kind, uniqueness,
//!   fields): the affected index entries are rebuilt from the records;
//! * an earlier version that the model's `from` chain declares, with the layout that
//!   version has in code: every record is migrated to the current version (and the index
//!   rebuilt);
//! * a model added to the definition: recorded;
//! * anything else (a layout changed without a new version, a newer version than the code
//!   knows, a model removed, another format or definition): an error naming the change,
//!   and nothing is written. Reading such a store would misinterpret bytes.
//!
//! Everything an open changes happens in one write transaction: a failure (a migration
//! whose conversion fails, a unique key that the rebuilt index finds held twice) rolls it
//! all back. A read-only store that needs changes is an error; one that has no metadata yet
//! is opened without recording any.

use std::ops::Bound;

use netabase_backend_api::{
    Backend, BackendError, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};

use crate::error::{NetabaseError, Result};
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::txn::{ReadTxn, WriteTxn};

mod open_async;
mod plan;
mod record;

pub(crate) use open_async::open_schema_async;
use plan::{Evolve, Planner};
use record::ModelRecord;

/// Name of the metadata table. Model tables never start with `__`.
pub const META_TABLE: &str = "__netabase_meta";

/// The archive and key format this build reads and writes. Part of the recorded schema;
/// changing any part of it makes old stores refuse to open instead of being misread.
pub const FORMAT: &str = "netabase-1;rkyv-0.8;little-endian;unaligned;ptr32;keys-1;index-1";

const KEY_FORMAT: &[u8] = b"format";

/// What a store on a checksummed backend adds to its format tag.
const CHECKSUM_SUFFIX: &str = ";checksums-crc32";

/// The format tag a store on `B` records: [`FORMAT`], plus [`CHECKSUM_SUFFIX`] when every value
/// carries a checksum ([`Checksummed`](netabase_backend_api::checksum::Checksummed)).
fn format_of<B: Backend>() -> String {
    if B::CAPABILITIES.checksums {
        format!("{FORMAT}{CHECKSUM_SUFFIX}")
    } else {
        FORMAT.to_owned()
    }
}
const KEY_DEFINITION: &[u8] = b"definition";
const KEY_FINGERPRINT: &[u8] = b"fingerprint";
const MODEL_PREFIX: &[u8] = b"model:";
/// The first line of every model schema record.
const RECORD_HEADER: &str = "netabase-model 2";

/// How far a migration has come, reported to the callback of
/// [`Store::from_backend_with_progress`](crate::Store::from_backend_with_progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationProgress {
    /// The model being migrated.
    pub model: &'static str,
    /// The version its records are stored at.
    pub from_version: u32,
    /// The version they are migrated to.
    pub to_version: u32,
    /// Which pass is running.
    pub stage: MigrationStage,
    /// Records done in this pass.
    pub done: u64,
    /// Records in all.
    pub total: u64,
}

/// The two passes of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationStage {
    /// Reading each record as its stored version and converting it.
    Converting,
    /// Writing the converted records (and their index entries).
    Writing,
}

/// What opening does to one model.
#[derive(Debug)]
enum Plan {
    /// Record its schema (a model new to the store).
    Record,
    /// Rebuild the index entries of these tags, and record the new keys.
    Rebuild(Vec<u8>),
    /// Migrate every record from this version.
    Migrate(u32),
}

/// Compares the schema recorded in `store` with `D`, and evolves the store (records new
/// models, rebuilds changed indexes, migrates earlier versions) in one write transaction.
///
/// `read` and `write` begin the store's transactions (the store passes its own
/// [`read`](crate::Store::read) and [`write`](crate::Store::write)).
pub(crate) fn open_schema<'s, D: NetabaseDefinitionTrait, B: Backend + 's>(
    read: impl FnOnce() -> Result<ReadTxn<'s, D, B>>,
    write: impl FnOnce() -> Result<WriteTxn<'s, D, B>>,
    progress: &mut dyn FnMut(MigrationProgress),
) -> Result<()> {
    let mismatch = |details: String| NetabaseError::SchemaMismatch {
        definition: D::NAME,
        details,
    };
    let expected = format_of::<B>();
    // A store written without checksums, read through a checksummed backend: its first value
    // fails the checksum.
    let unchecksummed = |e: netabase_backend_api::BackendError| match e {
        netabase_backend_api::BackendError::ChecksumMismatch { table, .. }
            if table == META_TABLE =>
        {
            mismatch(
                "this store was written without checksums: open it on its backend directly, \
                 not through `Checksummed`"
                    .to_owned(),
            )
        }
        e => NetabaseError::Backend(e),
    };
    let (stored, plans) = {
        let txn = read()?;
        let meta = txn.backend_txn().open_table(META_TABLE)?;
        let fingerprint = meta.get(KEY_FINGERPRINT).map_err(unchecksummed)?;
        let format = text(meta.get(KEY_FORMAT).map_err(unchecksummed)?);
        if fingerprint.as_ref().map(|f| f.as_ref()) == Some(&D::FINGERPRINT.to_le_bytes()[..])
            && format.as_deref() == Some(expected.as_str())
        {
            return Ok(());
        }
        let stored = fingerprint.is_some();
        if stored {
            if format.as_deref() != Some(expected.as_str()) {
                let format = format.unwrap_or_default();
                let checksummed = format!("{FORMAT}{CHECKSUM_SUFFIX}");
                if !B::CAPABILITIES.checksums && format.starts_with(&checksummed) {
                    return Err(mismatch(
                        "this store keeps a checksum with every value: open it through \
                         `Checksummed` (`Store<D, Checksummed<B>>`)"
                            .to_owned(),
                    ));
                }
                return Err(mismatch(format!(
                    "archive format changed: stored `{format}`, this build uses `{expected}`"
                )));
            }
            let stored_def = text(meta.get(KEY_DEFINITION)?).unwrap_or_default();
            if stored_def != D::NAME {
                return Err(mismatch(format!(
                    "the store holds definition `{stored_def}`, not `{}`",
                    D::NAME
                )));
            }
        }
        let mut planner = Planner {
            meta: &meta,
            plans: Vec::new(),
            errors: Vec::new(),
            too_new: None,
        };
        D::visit_models(&mut planner)?;
        let Planner {
            plans,
            mut errors,
            too_new,
            ..
        } = planner;
        if let Some(e) = too_new {
            return Err(e);
        }
        for name in stored_model_names(&meta)? {
            if !D::MODELS.iter().any(|m| m.name == name) {
                errors.push(format!(
                    "model `{name}` was removed from the definition (its records would be \
                     orphaned)"
                ));
            }
        }
        if !errors.is_empty() {
            return Err(mismatch(errors.join("; ")));
        }
        (stored, plans)
    };

    let txn = match write() {
        Ok(txn) => txn,
        Err(NetabaseError::Backend(BackendError::ReadOnly)) => {
            // A read-only store may lack the records of new models (they have no records
            // to misread), but cannot be migrated or re-indexed.
            return match plans.iter().find(|(_, p)| !matches!(p, Plan::Record)) {
                Some((name, plan)) if stored => Err(mismatch(format!(
                    "the store is opened read-only but `{name}` needs {}",
                    match plan {
                        Plan::Migrate(v) => format!("migrating from version {v}"),
                        _ => "its index rebuilt for changed secondary keys".to_owned(),
                    }
                ))),
                _ => Ok(()),
            };
        }
        Err(e) => return Err(e),
    };
    let mut evolve = Evolve {
        txn: &txn,
        plans,
        progress,
    };
    D::visit_models(&mut evolve)?;
    {
        let mut meta = txn.backend_txn().open_table(META_TABLE)?;
        meta.insert(KEY_FORMAT, format_of::<B>().as_bytes())?;
        meta.insert(KEY_DEFINITION, D::NAME.as_bytes())?;
        meta.insert(KEY_FINGERPRINT, &D::FINGERPRINT.to_le_bytes())?;
        for (name, plan) in &evolve.plans {
            let Some(model) = D::MODELS.iter().find(|m| m.name == *name) else {
                continue;
            };
            let mut record = ModelRecord::of(model);
            if let (Plan::Migrate(_) | Plan::Rebuild(_), Some(old)) =
                (plan, read_record(&meta, name)?)
            {
                record.history = old.history.clone();
                if matches!(plan, Plan::Migrate(_)) {
                    record.history.push((old.version, old.layout));
                }
            }
            meta.insert(&model_key(name), record.encode().as_bytes())?;
        }
    }
    txn.commit()
}

fn text<G: AsRef<[u8]>>(guard: Option<G>) -> Option<String> {
    guard.map(|g| String::from_utf8_lossy(g.as_ref()).into_owned())
}

fn model_key(name: &str) -> Vec<u8> {
    [MODEL_PREFIX, name.as_bytes()].concat()
}

fn read_record<T: ReadTable>(meta: &T, name: &str) -> Result<Option<ModelRecord>> {
    let Some(bytes) = text(meta.get(&model_key(name))?) else {
        return Ok(None);
    };
    ModelRecord::decode(&bytes)
        .map(Some)
        .map_err(|reason| NetabaseError::SchemaMismatch {
            definition: "?",
            details: format!("the schema record of model `{name}` cannot be read: {reason}"),
        })
}

fn stored_model_names<T: ReadTable>(meta: &T) -> Result<Vec<String>> {
    let mut upper = MODEL_PREFIX.to_vec();
    if let Some(last) = upper.last_mut() {
        *last += 1;
    }
    meta.range(
        Bound::Included(MODEL_PREFIX),
        Bound::Excluded(&upper),
        Direction::Forward,
    )?
    .map(|entry| {
        let (key, _) = entry?;
        Ok(
            String::from_utf8_lossy(key.as_ref().get(MODEL_PREFIX.len()..).unwrap_or_default())
                .into_owned(),
        )
    })
    .collect()
}
