//! The schema check of an async store: the records of the synchronous open, without the
//! evolution.

use std::ops::Bound;

use netabase_backend_api::{
    AsyncBackend, AsyncReadTable, AsyncReadTransaction, AsyncWriteTable, AsyncWriteTransaction,
    Direction,
};

use super::{
    FORMAT, KEY_DEFINITION, KEY_FINGERPRINT, KEY_FORMAT, META_TABLE, MODEL_PREFIX, ModelRecord,
    model_key, text,
};
use crate::error::{NetabaseError, Result};
use crate::traits::definition::NetabaseDefinitionTrait;

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
