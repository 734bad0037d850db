//! The store in the browser: [`IndexedDBStore`], an [`AsyncStore`] on IndexedDB (feature
//! `indexeddb`, wasm32 only).

use netabase_backend_indexeddb::IndexedDbBackend;

use crate::asynchronous::AsyncStore;
use crate::error::Result;
use crate::traits::definition::NetabaseDefinitionTrait;

/// Where an [`IndexedDBStore`] lives: the database name and the least IndexedDB version to
/// open it at (the 0.0.x configuration). The store bumps the version itself when it needs new
/// object stores, so `version` is only a floor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedDBConfig {
    /// The IndexedDB database name.
    pub database_name: String,
    /// The least IndexedDB version to open the database at (default 1).
    pub version: u32,
}

impl IndexedDBConfig {
    /// The database `database_name` at version 1 or above.
    pub fn new(database_name: impl Into<String>) -> Self {
        IndexedDBConfig {
            database_name: database_name.into(),
            version: 1,
        }
    }

    /// Sets the least version.
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }
}

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
        Self::with_config(IndexedDBConfig::new(database_name)).await
    }

    /// [`new`](Self::new) from an [`IndexedDBConfig`]: the database is opened at
    /// `config.version` or above.
    pub async fn with_config(config: IndexedDBConfig) -> Result<Self> {
        let tables = definition_tables::<D>();
        let backend =
            IndexedDbBackend::open_at_least(&config.database_name, &tables, config.version).await?;
        Self::from_backend(backend).await
    }
}
