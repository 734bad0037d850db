//! The store in the browser: [`IndexedDBStore`], an [`AsyncStore`] on IndexedDB (feature
//! `indexeddb`, wasm32 only).

use netabase_backend_indexeddb::IndexedDbBackend;

use crate::asynchronous::AsyncStore;
use crate::error::Result;
use crate::traits::definition::NetabaseDefinitionTrait;

/// An async store on IndexedDB; the 0.0.x name.
pub type IndexedDBStore<D> = AsyncStore<D, IndexedDbBackend>;

/// Every table of definition `D`: the metadata table, and each model's record table and (if it
/// has secondary keys) index table.
pub fn definition_tables<D: NetabaseDefinitionTrait>() -> Vec<&'static str> {
    let mut tables = vec![crate::META_TABLE];
    for model in D::MODELS {
        tables.push(model.table);
        if !model.secondary_keys.is_empty() {
            tables.push(model.index_table);
        }
    }
    tables
}

impl<D: NetabaseDefinitionTrait> AsyncStore<D, IndexedDbBackend> {
    /// Opens (creating if needed) the IndexedDB database `database_name` with an object store
    /// for every table of `D` (a definition that gained a model upgrades the database version
    /// by itself), and checks or records the schema.
    pub async fn new(database_name: &str) -> Result<Self> {
        let tables = definition_tables::<D>();
        let backend = IndexedDbBackend::open(database_name, &tables).await?;
        Self::from_backend(backend).await
    }
}
