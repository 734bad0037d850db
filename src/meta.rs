//! The store's metadata table: archive format and schema, checked on every open.
//!
//! On first open a store records, in the table [`META_TABLE`], the archive format
//! ([`FORMAT`]), the definition's name and fingerprint, and each model's layout text. Every
//! later open compares them with the definition it is opened with:
//!
//! * same fingerprint and format: open;
//! * models added (and nothing else changed): open, and record the new models;
//! * a different format, a model whose layout changed, or a model that disappeared:
//!   [`NetabaseError::SchemaMismatch`] naming what changed. Reading such a store would
//!   misinterpret bytes.
//!
//! A read-only store that has no metadata yet is opened without recording any.

use netabase_backend_api::{
    Backend, BackendError, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};

use crate::error::{NetabaseError, Result};
use crate::traits::definition::NetabaseDefinitionTrait;

/// Name of the metadata table. Model tables never start with `__`.
pub const META_TABLE: &str = "__netabase_meta";

/// The archive and key format this build reads and writes. Part of the recorded schema;
/// changing any part of it makes old stores refuse to open instead of being misread.
pub const FORMAT: &str = "netabase-1;rkyv-0.8;little-endian;unaligned;ptr32;keys-1;index-1";

const KEY_FORMAT: &[u8] = b"format";
const KEY_DEFINITION: &[u8] = b"definition";
const KEY_FINGERPRINT: &[u8] = b"fingerprint";
const MODEL_PREFIX: &[u8] = b"model:";

fn text<G: AsRef<[u8]>>(guard: Option<G>) -> Option<String> {
    guard.map(|g| String::from_utf8_lossy(g.as_ref()).into_owned())
}

fn model_key(name: &str) -> Vec<u8> {
    [MODEL_PREFIX, name.as_bytes()].concat()
}

/// Compares the stored schema with `D`, recording it when the store is new (or has only
/// gained models).
pub(crate) fn check_schema<D: NetabaseDefinitionTrait, B: Backend>(backend: &B) -> Result<()> {
    let mismatch = |details: String| NetabaseError::SchemaMismatch {
        definition: D::NAME,
        details,
    };
    let mut missing_models = Vec::new();
    {
        let txn = backend.begin_read()?;
        let meta = txn.open_table(META_TABLE)?;
        let fingerprint = meta.get(KEY_FINGERPRINT)?;
        if fingerprint.as_ref().map(|f| f.as_ref()) == Some(&D::FINGERPRINT.to_le_bytes()[..])
            && meta.get(KEY_FORMAT)?.as_ref().map(|f| f.as_ref()) == Some(FORMAT.as_bytes())
        {
            return Ok(());
        }
        if fingerprint.is_some() {
            let format = text(meta.get(KEY_FORMAT)?);
            if format.as_deref() != Some(FORMAT) {
                return Err(mismatch(format!(
                    "archive format changed: stored `{}`, this build uses `{FORMAT}`",
                    format.unwrap_or_default()
                )));
            }
            let stored_def = text(meta.get(KEY_DEFINITION)?).unwrap_or_default();
            if stored_def != D::NAME {
                return Err(mismatch(format!(
                    "the store holds definition `{stored_def}`, not `{}`",
                    D::NAME
                )));
            }
            let mut changes = Vec::new();
            for model in D::MODELS {
                match text(meta.get(&model_key(model.name))?) {
                    None => missing_models.push(*model),
                    Some(stored) if stored != model.layout => changes.push(format!(
                        "model `{}` changed layout: stored `{stored}`, now `{}`",
                        model.name, model.layout
                    )),
                    Some(_) => {}
                }
            }
            let (lo, hi) = (
                std::ops::Bound::Included(MODEL_PREFIX),
                std::ops::Bound::Excluded(&b"model;"[..]),
            );
            for entry in meta.range(lo, hi, netabase_backend_api::Direction::Forward)? {
                let (key, _) = entry?;
                let name = String::from_utf8_lossy(
                    key.as_ref().get(MODEL_PREFIX.len()..).unwrap_or_default(),
                )
                .into_owned();
                if !D::MODELS.iter().any(|m| m.name == name) {
                    changes.push(format!("model `{name}` was removed from the definition"));
                }
            }
            if !changes.is_empty() {
                return Err(mismatch(changes.join("; ")));
            }
        } else {
            missing_models.extend(D::MODELS.iter().copied());
        }
    }
    let txn = match backend.begin_write() {
        Ok(txn) => txn,
        // A read-only store that was never written has nothing to misread.
        Err(BackendError::ReadOnly) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    {
        let mut meta = txn.open_table(META_TABLE)?;
        meta.insert(KEY_FORMAT, FORMAT.as_bytes())?;
        meta.insert(KEY_DEFINITION, D::NAME.as_bytes())?;
        meta.insert(KEY_FINGERPRINT, &D::FINGERPRINT.to_le_bytes())?;
        for model in missing_models {
            meta.insert(&model_key(model.name), model.layout.as_bytes())?;
        }
    }
    txn.commit()?;
    Ok(())
}
