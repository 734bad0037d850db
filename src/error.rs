//! The one error type of the typed layer.

use std::error::Error as StdError;
use std::fmt;

pub use netabase_backend_api::BackendError;

use crate::key::KeyDecodeError;

/// Everything that can go wrong in `netabase_store`.
///
/// Bad input never panics: corrupt bytes, a wrong schema, a unique-key clash or a
/// configuration that cannot be honoured each have a variant here.
#[derive(Debug)]
#[non_exhaustive]
pub enum NetabaseError {
    /// The backend failed (I/O, engine error, read-only store, entry too large, ...).
    Backend(BackendError),
    /// Stored bytes are not a valid archive of the model: the record was damaged, or was
    /// written by something else.
    Corrupt {
        /// The table holding the bytes.
        table: &'static str,
        /// The (encoded) key under which they are stored.
        key: Vec<u8>,
        /// Why validation failed.
        reason: String,
    },
    /// A model could not be serialized.
    Serialize {
        /// The model's name.
        model: &'static str,
        /// rkyv's message.
        reason: String,
    },
    /// A unique secondary key value is already held by another record. Nothing of the
    /// failing write was applied.
    UniqueViolation {
        /// The model's name.
        model: &'static str,
        /// The secondary key's field name.
        key: &'static str,
        /// The encoded primary key of the record that already holds the value.
        existing_primary_key: Vec<u8>,
    },
    /// The store was written with a different schema (or archive format) than the one it is
    /// opened with; reading it would misinterpret bytes.
    SchemaMismatch {
        /// The definition being opened.
        definition: &'static str,
        /// What differs.
        details: String,
    },
    /// The store holds records of a newer version of a model than this build knows: it
    /// was written by newer code. Nothing was changed.
    SchemaTooNew {
        /// The model's name.
        model: &'static str,
        /// The version its records are stored at.
        stored_version: u32,
        /// The newest version this build knows.
        known_version: u32,
    },
    /// Migrating a model's records to its current version failed (a record did not
    /// validate as its stored version, or a conversion failed or panicked). The migration
    /// ran in one write transaction, which was rolled back: the store is as it was.
    MigrationFailed {
        /// The model's name.
        model: &'static str,
        /// The version the records are stored at.
        from_version: u32,
        /// The version they were being migrated to.
        to_version: u32,
        /// The encoded primary key of the record that failed.
        key: Vec<u8>,
        /// What went wrong.
        reason: String,
    },
    /// A secondary index entry points at a record that does not exist.
    IndexInconsistent {
        /// The index table.
        table: &'static str,
        /// The index key that has no record.
        index_key: Vec<u8>,
    },
    /// An earlier error inside this write transaction may have left it half-applied, so it
    /// refuses to commit. Drop it (rolling back) and retry.
    TransactionPoisoned,
    /// A write transaction was begun (directly, or by an auto-commit call) on a thread that
    /// already holds a write transaction of the same store: it would wait for itself
    /// forever. Finish (commit or drop) the first one, or write through it.
    ReentrantWrite,
    /// Encoded key bytes could not be decoded.
    KeyDecode(KeyDecodeError),
    /// The configuration cannot be honoured.
    Config {
        /// What is wrong.
        message: String,
    },
}

/// Short alias for [`NetabaseError`].
pub type Error = NetabaseError;

/// Result type of the typed layer.
pub type Result<T, E = NetabaseError> = std::result::Result<T, E>;

impl fmt::Display for NetabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetabaseError::Backend(e) => write!(f, "backend error: {e}"),
            NetabaseError::Corrupt { table, key, reason } => write!(
                f,
                "corrupt record in table `{table}` under key {}: {reason}",
                HexBytes(key)
            ),
            NetabaseError::Serialize { model, reason } => {
                write!(f, "cannot serialize a `{model}`: {reason}")
            }
            NetabaseError::UniqueViolation {
                model,
                key,
                existing_primary_key,
            } => write!(
                f,
                "unique secondary key `{model}.{key}` is already held by the record with \
                 primary key {}",
                HexBytes(existing_primary_key)
            ),
            NetabaseError::SchemaMismatch {
                definition,
                details,
            } => write!(
                f,
                "the store was written with another schema than `{definition}`: {details}"
            ),
            NetabaseError::SchemaTooNew {
                model,
                stored_version,
                known_version,
            } => write!(
                f,
                "the store holds version {stored_version} of `{model}`, written by newer code; \
                 this build knows versions up to {known_version}"
            ),
            NetabaseError::MigrationFailed {
                model,
                from_version,
                to_version,
                key,
                reason,
            } => write!(
                f,
                "migrating `{model}` from version {from_version} to {to_version} failed at the \
                 record with primary key {}: {reason}; the store was left as it was",
                HexBytes(key)
            ),
            NetabaseError::IndexInconsistent { table, index_key } => write!(
                f,
                "index `{table}` has an entry {} whose record is missing",
                HexBytes(index_key)
            ),
            NetabaseError::TransactionPoisoned => write!(
                f,
                "an earlier error in this write transaction may have left it half-applied; \
                 it was rolled back"
            ),
            NetabaseError::ReentrantWrite => write!(
                f,
                "this thread already holds a write transaction of this store; a second one \
                 would wait for itself forever (commit or drop the first, or write through it)"
            ),
            NetabaseError::KeyDecode(e) => write!(f, "cannot decode key: {e}"),
            NetabaseError::Config { message } => write!(f, "invalid configuration: {message}"),
        }
    }
}

impl StdError for NetabaseError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            NetabaseError::Backend(e) => Some(e),
            NetabaseError::KeyDecode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<BackendError> for NetabaseError {
    fn from(e: BackendError) -> Self {
        NetabaseError::Backend(e)
    }
}

impl From<KeyDecodeError> for NetabaseError {
    fn from(e: KeyDecodeError) -> Self {
        NetabaseError::KeyDecode(e)
    }
}

/// Formats bytes as `0x..` hex (keys in error messages).
struct HexBytes<'a>(&'a [u8]);

impl fmt::Display for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn assert<T: Send + Sync + 'static>() {}
        assert::<NetabaseError>();
    }

    #[test]
    fn corrupt_error_names_table_and_key() {
        let e = NetabaseError::Corrupt {
            table: "User",
            key: vec![0, 1, 0xff],
            reason: "bad".into(),
        };
        assert_eq!(
            e.to_string(),
            "corrupt record in table `User` under key 0x0001ff: bad"
        );
    }
}
