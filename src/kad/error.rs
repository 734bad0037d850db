//! The record store's errors.

use std::fmt;

use libp2p::kad::store;
use netabase_backend_api::BackendError;

use crate::error::NetabaseError;

/// What can go wrong in the record store.
#[derive(Debug)]
#[non_exhaustive]
pub enum KadError {
    /// A limit of [`MemoryStoreConfig`](store::MemoryStoreConfig) refused the write; nothing was written.
    Limit(store::Error),
    /// The store failed, or stored bytes are corrupt ([`NetabaseError::Corrupt`]).
    Store(NetabaseError),
}

impl fmt::Display for KadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KadError::Limit(e) => write!(f, "record store limit: {e}"),
            KadError::Store(e) => write!(f, "record store: {e}"),
        }
    }
}

impl std::error::Error for KadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KadError::Limit(e) => Some(e),
            KadError::Store(e) => Some(e),
        }
    }
}

impl From<NetabaseError> for KadError {
    fn from(e: NetabaseError) -> Self {
        KadError::Store(e)
    }
}

impl From<BackendError> for KadError {
    fn from(e: BackendError) -> Self {
        KadError::Store(NetabaseError::Backend(e))
    }
}

impl From<store::Error> for KadError {
    fn from(e: store::Error) -> Self {
        KadError::Limit(e)
    }
}

/// Result type of the record store.
pub type KadResult<T> = std::result::Result<T, KadError>;

pub(super) fn corrupt(table: &'static str, key: &[u8], reason: impl fmt::Display) -> KadError {
    KadError::Store(NetabaseError::Corrupt {
        table,
        key: key.to_vec(),
        reason: reason.to_string(),
    })
}
