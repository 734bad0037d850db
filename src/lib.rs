//! # netabase_store
//!
//! A type-safe, zero-copy, multi-backend embedded store. Declare models once with derive
//! macros, open a store on a backend, and read records in place: a read hands back a
//! [`Ref`] that derefs to the model's rkyv archive straight out of the backend's page,
//! validated once and never copied.
//!
//! ```
//! use netabase_store::prelude::*;
//!
//! #[netabase_definition_module(BlogDefinition, BlogKeys)]
//! pub mod blog {
//!     use netabase_store::NetabaseModel;
//!
//!     #[derive(NetabaseModel, Clone, Debug, PartialEq)]
//!     #[netabase(BlogDefinition)]
//!     pub struct User {
//!         #[primary_key]
//!         pub id: u64,
//!         pub username: String,
//!         #[secondary_key]
//!         pub email: String,
//!     }
//! }
//! use blog::*;
//!
//! # fn main() -> Result<(), netabase_store::NetabaseError> {
//! let store = Store::<BlogDefinition, _>::temp()?;
//!
//! // Write in a transaction: indexes are maintained atomically with the record.
//! let txn = store.write()?;
//! {
//!     let mut users = txn.open_tree::<User>()?;
//!     users.put(User { id: 1, username: "alice".into(), email: "alice@example.com".into() })?;
//! }
//! txn.commit()?;
//!
//! // Read in place: `alice` derefs to `ArchivedUser`, borrowed from the backend's page.
//! let txn = store.read()?;
//! let users = txn.open_tree::<User>()?;
//! let alice = users.get(UserPrimaryKey(1))?.expect("stored above");
//! assert_eq!(alice.username, "alice");
//!
//! // Lookups take keys by value, by reference or borrowed; `User::EMAIL` names a secondary key.
//! assert_eq!(users.get_by(User::EMAIL, "alice@example.com")?.count(), 1);
//! let by_email = UserSecondaryKeys::Email(UserEmailSecondaryKey("alice@example.com".into()));
//! assert_eq!(users.get_by_secondary_key(by_email)?.count(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! ## Layers
//!
//! * [`netabase_backend_api`] (re-exported as [`backend`]): the byte-level contract every
//!   backend implements, and its conformance kit.
//! * [`key`]: the order-preserving, self-delimiting key codec.
//! * [`traits`]: the schema traits the macros implement.
//! * [`index`]: secondary index planning, sans I/O.
//! * [`ReadTxn`] / [`WriteTxn`] and [`Tree`]: type-state transactions; writes exist only on
//!   a write transaction's trees.
//! * [`Store`]: the facade, with an auto-commit [`StoreTree`].
//!
//! ## How models get their rkyv derives
//!
//! `#[netabase_definition_module]` adds `rkyv::Archive`, `rkyv::Serialize` and
//! `rkyv::Deserialize` (through this crate's re-export, so you need no rkyv dependency) to
//! every struct and enum it declares (models, the types nested in them, key newtypes and
//! earlier model versions) that does not derive `Archive` itself, `#[rkyv(derive(Debug))]`
//! when the type derives `Debug` (so archived records print), and
//! `#[derive(NetabaseSchema)]`, the archived layout the store records and checks (see
//! [`schema`]). A type of the module that is not stored says `#[netabase(skip)]`. Outside a
//! definition module, [`netabase_type`] does the same for one struct or enum. A type that
//! derives rkyv itself must use `#[rkyv(crate = netabase_store::rkyv)]` or depend on the same
//! rkyv.
//!
//! ## Archive format
//!
//! rkyv's format is global to a build; this crate pins it to little-endian, unaligned
//! (alignment 1) and 32-bit relative pointers, so the same bytes read on every platform
//! (native and wasm32) and at any offset inside a backend page. The store records the
//! format and its schema on first open. Reopening with a changed schema either evolves the
//! store (new models, changed secondary keys, earlier model versions migrated: see
//! [`Store::from_backend`]) or is refused naming the change
//! ([`NetabaseError::SchemaMismatch`]). See `docs/format.md`.
//!
//! ## Features
//!
//! * default: `redb` and `memory`.
//! * `native`: `redb`, `sled` and `memory` (the 0.0.x name).
//! * `redb`: the redb backend, [`Store::redb`], [`Store::open`], [`RedbStore`].
//! * `memory`: the in-memory MVCC backend, [`Store::memory`], [`Store::temp`], [`MemoryStore`].
//! * `sled` (opt-in): the sled 0.34 backend, `Store::sled`, `SledStore`.
//! * `indexeddb` (wasm32 only): the IndexedDB backend and `IndexedDBStore`, an [`AsyncStore`]
//!   in the browser.
//! * `libp2p` (alias `record-store`): `kad::KadStore`, a libp2p Kademlia `RecordStore` in
//!   the same store as the models.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod asynchronous;
pub mod config;
mod error;
mod guard;
pub mod index;
#[cfg(all(feature = "indexeddb", target_arch = "wasm32"))]
pub mod indexeddb;
pub mod integrity;
#[cfg(feature = "libp2p")]
pub mod kad;
pub mod key;
mod meta;
pub mod query;
pub mod schema;
mod scratch;
mod steps;
mod store;
pub mod subscribe;
pub mod traits;
mod tree;
mod txn;

pub use asynchronous::{AsyncStore, AsyncStoreTree, AsyncTree};
pub use config::{Durability, FileConfig};
pub use error::{Error, NetabaseError, Result};
pub use guard::Ref;
pub use integrity::{IntegrityReport, ModelIntegrity, ModelRepair, RepairOptions, RepairReport};
pub use meta::{FORMAT, META_TABLE, MigrationProgress, MigrationStage};
pub use netabase_backend_api as backend;
pub use netabase_backend_api::checksum::Checksummed;
pub use netabase_store_derive::{
    NetabaseKey, NetabaseModel, NetabaseSchema, netabase_definition_module, netabase_type,
};
pub use query::{Cursor, Iter, Page, PrimaryQuery, SecondaryIter, SecondaryQuery, StoreQuery};
#[cfg(feature = "memory")]
pub use store::MemoryStore;
#[cfg(feature = "redb")]
pub use store::RedbStore;
#[cfg(feature = "sled")]
pub use store::SledStore;
pub use store::{BackendStore, Batch, NetabaseStore, Store, StoreTree};
pub use subscribe::{Change, ChangeKind, Event, Subscription, SubscriptionBuilder};
pub use tree::{Tree, TreeRef};
pub use txn::{ReadTree, ReadTxn, WriteTree, WriteTxn};

/// The pinned rkyv, re-exported so generated code and users name one version.
pub use rkyv;

/// The redb backend (feature `redb`).
#[cfg(feature = "redb")]
pub use netabase_backend_redb as redb;

#[cfg(feature = "redb")]
pub use netabase_backend_redb::RedbBackend;

/// The memory backend (feature `memory`).
#[cfg(feature = "memory")]
pub use netabase_backend_memory as memory;

#[cfg(feature = "memory")]
pub use netabase_backend_memory::MemoryBackend;

/// The IndexedDB backend (feature `indexeddb`, wasm32).
#[cfg(all(feature = "indexeddb", target_arch = "wasm32"))]
pub use netabase_backend_indexeddb as indexeddb_backend;

#[cfg(all(feature = "indexeddb", target_arch = "wasm32"))]
pub use indexeddb::{IndexedDBConfig, IndexedDBStore};

#[cfg(all(feature = "indexeddb", target_arch = "wasm32"))]
pub use netabase_backend_indexeddb::IndexedDbBackend;

/// The sled backend (feature `sled`).
#[cfg(feature = "sled")]
pub use netabase_backend_sled as sled;

#[cfg(feature = "sled")]
pub use netabase_backend_sled::SledBackend;

/// The error module under the name the 0.0.x releases used.
pub mod errors {
    pub use crate::error::{Error, NetabaseError, Result};
}

/// Everything a typical user imports.
pub mod prelude {
    pub use crate::config::{Durability, FileConfig};
    pub use crate::error::NetabaseError;
    pub use crate::key::{BytesPrefix, Key, KeyArg, KeyNewtype, KeyPrefix, KeyRange, StrPrefix};
    pub use crate::store::BackendStore;
    pub use crate::traits::definition::NetabaseDefinitionTrait;
    pub use crate::traits::model::{
        KeyField, NetabaseModelTrait, SecondaryKey, SecondaryKeyEnum, SecondaryLookup,
    };
    pub use crate::{NetabaseKey, NetabaseModel, NetabaseStore, Store, netabase_definition_module};
}

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The migration guide's snippets (`docs/migration.md`), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/migration.md")]
pub struct MigrationGuideDoctests;

#[doc(hidden)]
pub mod __private {
    pub use crate::index::IndexEntries;
    pub use crate::key::{Key, KeyNewtype};
    pub use crate::schema::{
        Field, MigrationError, ModelVersion, Schema, Shape, Variant, convert_from,
        convert_try_from, read_version_exact,
    };
    pub use crate::traits::definition::{ModelVisitor, NetabaseDefinitionTrait};
    pub use crate::traits::model::{
        KeyField, KeyKind, ModelInfo, NetabaseModelTrait, SecondaryKey, SecondaryKeyEnum,
        SecondaryKeyInfo, SecondaryLookup,
    };

    /// The definition fingerprint: a hash of its name and every model's
    /// [`ModelInfo::hash`], computed at compile time.
    pub const fn fingerprint(name: &str, models: &[&ModelInfo]) -> u64 {
        let mut hash = crate::schema::hash_str(crate::schema::HASH_START, name);
        let mut i = 0;
        while i < models.len() {
            hash = models[i].hash(hash);
            i += 1;
        }
        hash
    }
}
