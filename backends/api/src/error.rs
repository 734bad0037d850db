use std::error::Error as StdError;
use std::fmt;

/// An error reported by a backend.
#[derive(Debug)]
#[non_exhaustive]
pub enum BackendError {
    /// An I/O error from the file system.
    Io(std::io::Error),
    /// The table is already open in this write transaction (open one tree per model per
    /// write transaction).
    TableAlreadyOpen {
        /// The table's name.
        table: String,
    },
    /// An entry is larger than the backend accepts.
    ValueTooLarge {
        /// The entry's size, key plus value, in bytes.
        len: usize,
        /// The largest size the backend accepts.
        max: usize,
    },
    /// A write was attempted on a store opened read-only.
    ReadOnly,
    /// The database files are damaged or not a database of this backend.
    Corrupted {
        /// What the engine reported.
        message: String,
    },
    /// A value's checksum does not match its key and bytes (a [`Checksummed`] backend): the
    /// stored bytes changed, or the value was moved to another key.
    ///
    /// [`Checksummed`]: crate::checksum::Checksummed
    ChecksumMismatch {
        /// The table holding the entry.
        table: String,
        /// The entry's key.
        key: Vec<u8>,
    },
    /// The database is already open (by this process or another one) and cannot be opened
    /// twice.
    AlreadyOpen,
    /// The configuration cannot be honoured (for example a missing path with
    /// `create_if_missing(false)`).
    InvalidConfig {
        /// What is wrong with it.
        message: String,
    },
    /// A previous error left the database in a state where it refuses further work until
    /// it is reopened.
    Poisoned {
        /// What the engine reported.
        message: String,
    },
    /// Any other engine error.
    Engine {
        /// The backend that reported it.
        backend: &'static str,
        /// The engine's error.
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
}

impl BackendError {
    /// Wraps an engine error that has no more precise variant.
    pub fn engine(backend: &'static str, source: impl StdError + Send + Sync + 'static) -> Self {
        BackendError::Engine {
            backend,
            source: Box::new(source),
        }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Io(e) => write!(f, "I/O error: {e}"),
            BackendError::TableAlreadyOpen { table } => write!(
                f,
                "table `{table}` is already open in this write transaction \
                 (open one tree per model per write transaction)"
            ),
            BackendError::ValueTooLarge { len, max } => {
                write!(
                    f,
                    "entry of {len} bytes exceeds the backend's limit of {max} bytes"
                )
            }
            BackendError::ReadOnly => write!(f, "the store is open read-only"),
            BackendError::Corrupted { message } => write!(f, "database is corrupted: {message}"),
            BackendError::ChecksumMismatch { table, key } => {
                write!(f, "checksum mismatch in table `{table}` under key ")?;
                key.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            BackendError::AlreadyOpen => write!(f, "the database is already open"),
            BackendError::InvalidConfig { message } => {
                write!(f, "invalid configuration: {message}")
            }
            BackendError::Poisoned { message } => {
                write!(f, "database refuses further work until reopened: {message}")
            }
            BackendError::Engine { backend, source } => write!(f, "{backend} error: {source}"),
        }
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            BackendError::Io(e) => Some(e),
            BackendError::Engine { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<std::io::Error> for BackendError {
    fn from(e: std::io::Error) -> Self {
        BackendError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_error_is_send_sync_static() {
        fn assert<T: Send + Sync + 'static>() {}
        assert::<BackendError>();
    }
}
