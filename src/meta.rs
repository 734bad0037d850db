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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Bound;

use netabase_backend_api::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
    Backend, BackendError, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};

use crate::error::{NetabaseError, Result};
use crate::schema::{LayoutNode, ModelVersion, diff_layouts, layout_text, parse_layout};
use crate::store::Store;
use crate::traits::definition::{ModelVisitor, NetabaseDefinitionTrait};
use crate::traits::model::{ModelInfo, NetabaseModelTrait};
use crate::txn::WriteTxn;

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
/// [`Store::from_backend_with_progress`].
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

/// One model's schema record, as stored under `model:<Name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ModelRecord {
    version: u32,
    layout: String,
    primary_key: String,
    /// Tag → `name kind unique|- field,field`.
    keys: BTreeMap<u8, String>,
    /// The earlier versions the records were stored at, oldest first, with their layouts.
    history: Vec<(u32, String)>,
}

impl ModelRecord {
    fn of(info: &ModelInfo) -> Self {
        ModelRecord {
            version: info.version,
            layout: layout_text(info.shape),
            primary_key: info.primary_key.to_owned(),
            keys: info
                .secondary_keys
                .iter()
                .map(|k| {
                    let unique = if k.unique { "unique" } else { "-" };
                    let line = format!(
                        "{} {} {unique} {}",
                        k.name,
                        k.kind.as_str(),
                        k.fields.join(",")
                    );
                    (k.tag, line)
                })
                .collect(),
            history: Vec::new(),
        }
    }

    fn encode(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{RECORD_HEADER}");
        let _ = writeln!(out, "version {}", self.version);
        let _ = writeln!(out, "layout {}", self.layout);
        let _ = writeln!(out, "pk {}", self.primary_key);
        for (tag, line) in &self.keys {
            let _ = writeln!(out, "sk {tag} {line}");
        }
        for (version, layout) in &self.history {
            let _ = writeln!(out, "history {version} {layout}");
        }
        out
    }

    fn decode(text: &str) -> std::result::Result<Self, String> {
        let mut lines = text.lines();
        if lines.next() != Some(RECORD_HEADER) {
            return Err(format!(
                "it does not start with `{RECORD_HEADER}` (a record written before schema \
                 records were versioned, or damaged)"
            ));
        }
        let mut record = ModelRecord {
            version: 0,
            layout: String::new(),
            primary_key: String::new(),
            keys: BTreeMap::new(),
            history: Vec::new(),
        };
        for line in lines {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let number = |s: &str| s.parse::<u32>().map_err(|_| format!("bad line `{line}`"));
            match word {
                "version" => record.version = number(rest)?,
                "layout" => record.layout = rest.to_owned(),
                "pk" => record.primary_key = rest.to_owned(),
                "sk" => {
                    let (tag, key) = rest.split_once(' ').ok_or(format!("bad line `{line}`"))?;
                    let tag = tag
                        .parse::<u8>()
                        .map_err(|_| format!("bad line `{line}`"))?;
                    record.keys.insert(tag, key.to_owned());
                }
                "history" => {
                    let (v, layout) = rest.split_once(' ').ok_or(format!("bad line `{line}`"))?;
                    record.history.push((number(v)?, layout.to_owned()));
                }
                _ => return Err(format!("unknown line `{line}`")),
            }
        }
        if record.version == 0 || record.layout.is_empty() {
            return Err("it has no version or no layout".to_owned());
        }
        Ok(record)
    }
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
pub(crate) fn open_schema<D: NetabaseDefinitionTrait, B: Backend>(
    store: &Store<D, B>,
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
        let txn = store.read()?;
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

    let txn = match store.write() {
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

/// Decides, per model, what opening must do.
struct Planner<'a, T> {
    meta: &'a T,
    plans: Vec<(&'static str, Plan)>,
    errors: Vec<String>,
    too_new: Option<NetabaseError>,
}

impl<D: NetabaseDefinitionTrait, T: ReadTable> ModelVisitor<D> for Planner<'_, T> {
    fn visit<M: NetabaseModelTrait<Definition = D>>(&mut self) -> Result<()> {
        let name = M::INFO.name;
        let stored = match read_record(self.meta, name) {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                self.plans.push((name, Plan::Record));
                return Ok(());
            }
            Err(NetabaseError::SchemaMismatch { details, .. }) => {
                self.errors.push(details);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let current = ModelRecord::of(M::INFO);
        let parse = |text: &str, what: &str| {
            parse_layout(text)
                .map_err(|e| format!("the {what} layout of `{name}` is unreadable: {e}"))
        };
        if stored.version > current.version {
            self.too_new.get_or_insert(NetabaseError::SchemaTooNew {
                model: name,
                stored_version: stored.version,
                known_version: current.version,
            });
            return Ok(());
        }
        if stored.version < current.version {
            let mut versions = Vec::new();
            <M as ModelVersion>::versions(&mut versions);
            let Some((_, shape)) = versions.iter().find(|(v, _)| *v == stored.version) else {
                let known: Vec<String> = versions.iter().map(|(v, _)| v.to_string()).collect();
                self.errors.push(format!(
                    "`{name}` is stored at version {}, which its `from` chain does not declare \
                     (it declares versions {})",
                    stored.version,
                    known.join(", ")
                ));
                return Ok(());
            };
            let declared = LayoutNode::of(shape);
            match parse(&stored.layout, "stored") {
                Ok(old) if old == declared => {
                    self.plans.push((name, Plan::Migrate(stored.version)));
                }
                Ok(old) => self.errors.push(format!(
                    "`{name}` version {} in code does not match the stored version {}: {}",
                    stored.version,
                    stored.version,
                    diff_layouts(name, &old, &declared).join(", ")
                )),
                Err(e) => self.errors.push(e),
            }
            return Ok(());
        }
        if stored.layout != current.layout {
            match parse(&stored.layout, "stored") {
                Ok(old) => self.errors.push(format!(
                    "`{name}` changed layout at version {}: {} (to keep the records, declare \
                     the old layout as an earlier version with `from`, and give the model a new \
                     `version = N`)",
                    current.version,
                    diff_layouts(name, &old, &LayoutNode::of(M::INFO.shape)).join(", ")
                )),
                Err(e) => self.errors.push(e),
            }
            return Ok(());
        }
        if stored.primary_key != current.primary_key {
            self.errors.push(format!(
                "`{name}`'s primary key changed from `{}` to `{}`: records are stored under the \
                 old key (declare a new version to migrate them)",
                stored.primary_key, current.primary_key
            ));
            return Ok(());
        }
        if stored.keys != current.keys {
            let tags = stored
                .keys
                .keys()
                .chain(current.keys.keys())
                .copied()
                .filter(|t| stored.keys.get(t) != current.keys.get(t))
                .collect::<std::collections::BTreeSet<u8>>();
            self.plans
                .push((name, Plan::Rebuild(tags.into_iter().collect())));
        }
        Ok(())
    }
}

/// Carries the plans out inside one write transaction.
struct Evolve<'a, 'db, D: NetabaseDefinitionTrait, B: Backend> {
    txn: &'a WriteTxn<'db, D, B>,
    plans: Vec<(&'static str, Plan)>,
    progress: &'a mut dyn FnMut(MigrationProgress),
}

impl<D: NetabaseDefinitionTrait, B: Backend> ModelVisitor<D> for Evolve<'_, '_, D, B> {
    fn visit<M: NetabaseModelTrait<Definition = D>>(&mut self) -> Result<()> {
        match self.plans.iter().find(|(n, _)| *n == M::INFO.name) {
            Some((_, Plan::Rebuild(tags))) => {
                self.txn.open_tree::<M>()?.rebuild_index_tags(Some(tags))?;
            }
            Some((_, Plan::Migrate(from))) => migrate::<D, B, M>(self.txn, *from, self.progress)?,
            Some((_, Plan::Record)) | None => {}
        }
        Ok(())
    }
}

/// Reads every record of `M` as version `from`, converts it to the current version, and
/// writes them all back through the typed tree (so every index entry is rebuilt and unique
/// keys are checked).
fn migrate<D: NetabaseDefinitionTrait, B: Backend, M: NetabaseModelTrait<Definition = D>>(
    txn: &WriteTxn<'_, D, B>,
    from: u32,
    progress: &mut dyn FnMut(MigrationProgress),
) -> Result<()> {
    let mut tree = txn.open_tree::<M>()?;
    let total = tree.len()?;
    let mut report = |stage, done| {
        progress(MigrationProgress {
            model: M::INFO.name,
            from_version: from,
            to_version: M::VERSION,
            stage,
            done,
            total,
        })
    };
    let failed = |key: &[u8], reason: String| NetabaseError::MigrationFailed {
        model: M::INFO.name,
        from_version: from,
        to_version: M::VERSION,
        key: key.to_vec(),
        reason,
    };
    let mut converted = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for entry in
        tree.primary_table()
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)?
    {
        let (key, value) = entry?;
        let model = M::read_version(from, value.as_ref())
            .map_err(|e| failed(key.as_ref(), e.to_string()))?;
        converted.push(model);
        report(MigrationStage::Converting, converted.len() as u64);
    }
    tree.clear()?;
    let mut key = Vec::new();
    for (done, model) in converted.iter().enumerate() {
        if tree.contains_key(model.primary_key())? {
            key.clear();
            model.encode_primary_key(&mut key);
            return Err(failed(
                &key,
                "two records convert to the same primary key (one would be lost)".to_owned(),
            ));
        }
        tree.put(model)?;
        report(MigrationStage::Writing, done as u64 + 1);
    }
    Ok(())
}

/// The schema check of an [`AsyncStore`](crate::AsyncStore): the same records as
/// [`open_schema`], read and written through the async contract.
///
/// A new store is recorded and models added to the definition are recorded. Anything that
/// would need the synchronous open's evolution (a migration, a re-index, a removed model) is a
/// [`SchemaMismatch`](NetabaseError::SchemaMismatch) saying so, and nothing is written: the
/// async store does not migrate (on native, open the backend once with [`Store`] to evolve it).
pub(crate) async fn open_schema_async<D: NetabaseDefinitionTrait, B: AsyncBackend>(
    backend: &B,
) -> Result<()> {
    let mismatch = |details: String| NetabaseError::SchemaMismatch {
        definition: D::NAME,
        details,
    };
    let missing = {
        let txn = backend.begin_read().await?;
        let meta = txn.open_table(META_TABLE).await?;
        let fingerprint = meta.get(KEY_FINGERPRINT).await?;
        let format = text(meta.get(KEY_FORMAT).await?);
        if fingerprint.as_ref().map(|f| f.as_ref()) == Some(&D::FINGERPRINT.to_le_bytes()[..])
            && format.as_deref() == Some(FORMAT)
        {
            return Ok(());
        }
        if fingerprint.is_some() {
            if format.as_deref() != Some(FORMAT) {
                return Err(mismatch(format!(
                    "archive format changed: stored `{}`, this build uses `{FORMAT}`",
                    format.unwrap_or_default()
                )));
            }
            let stored_def = text(meta.get(KEY_DEFINITION).await?).unwrap_or_default();
            if stored_def != D::NAME {
                return Err(mismatch(format!(
                    "the store holds definition `{stored_def}`, not `{}`",
                    D::NAME
                )));
            }
        }
        let mut missing = Vec::new();
        for model in D::MODELS {
            let current = ModelRecord::of(model);
            let Some(stored) = text(meta.get(&model_key(model.name)).await?) else {
                missing.push((model_key(model.name), current.encode()));
                continue;
            };
            let stored = ModelRecord::decode(&stored).map_err(|reason| {
                mismatch(format!(
                    "the schema record of `{}` cannot be read: {reason}",
                    model.name
                ))
            })?;
            let same = stored.version == current.version
                && stored.layout == current.layout
                && stored.primary_key == current.primary_key
                && stored.keys == current.keys;
            if !same {
                return Err(mismatch(format!(
                    "model `{}` changed (version, layout or keys); the async store does not \
                     migrate or re-index: open the store once with the synchronous `Store`",
                    model.name
                )));
            }
        }
        let mut upper = MODEL_PREFIX.to_vec();
        if let Some(last) = upper.last_mut() {
            *last += 1;
        }
        let stored = meta
            .range(
                Bound::Included(MODEL_PREFIX),
                Bound::Excluded(&upper),
                Direction::Forward,
                None,
            )
            .await?;
        for (key, _) in stored {
            let name = key.as_ref().get(MODEL_PREFIX.len()..).unwrap_or_default();
            if !D::MODELS.iter().any(|m| m.name.as_bytes() == name) {
                return Err(mismatch(format!(
                    "model `{}` was removed from the definition (its records would be orphaned)",
                    String::from_utf8_lossy(name)
                )));
            }
        }
        missing
    };
    let txn = backend.begin_write().await?;
    {
        let mut meta = txn.open_table(META_TABLE).await?;
        meta.insert(KEY_FORMAT, FORMAT.as_bytes()).await?;
        meta.insert(KEY_DEFINITION, D::NAME.as_bytes()).await?;
        meta.insert(KEY_FINGERPRINT, &D::FINGERPRINT.to_le_bytes())
            .await?;
        for (key, record) in &missing {
            meta.insert(key, record.as_bytes()).await?;
        }
    }
    Ok(txn.commit().await?)
}
