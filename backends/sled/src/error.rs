//! Mapping sled's errors to [`BackendError`].

use std::convert::Infallible;
use std::path::Path;

use netabase_backend_api::BackendError;
use sled::transaction::TransactionError;

use crate::NAME;

pub(crate) fn invalid_config(path: &Path, what: &str) -> BackendError {
    BackendError::InvalidConfig {
        message: format!("sled database directory `{}` {what}", path.display()),
    }
}

/// Whether sled's error is its "could not acquire lock" on the `db` file (another handle has
/// the database open). sled 0.34 reports it as `io::ErrorKind::Other` with this message.
pub(crate) fn is_lock_error(e: &std::io::Error) -> bool {
    e.to_string().contains("could not acquire lock")
}

pub(crate) fn map_sled_error(e: sled::Error) -> BackendError {
    match e {
        sled::Error::Io(e) if is_lock_error(&e) => BackendError::AlreadyOpen,
        sled::Error::Io(e) => BackendError::Io(e),
        sled::Error::Corruption { at, .. } => BackendError::Corrupted {
            message: match at {
                Some(at) => format!("sled read corrupted data at {at:?}"),
                None => "sled read corrupted data".to_owned(),
            },
        },
        e => BackendError::engine(NAME, e),
    }
}

/// [`map_sled_error`] for errors of `Config::open`, naming the database. sled reports damaged
/// configuration files as `Unsupported`, so every `Unsupported` error here (this backend sets
/// no option sled could refuse) is [`BackendError::Corrupted`] too.
pub(crate) fn map_open_error(e: sled::Error, shown: &str) -> BackendError {
    let e = match e {
        sled::Error::Unsupported(message) => {
            return BackendError::Corrupted {
                message: format!("{shown}: {message}"),
            };
        }
        sled::Error::Io(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            return BackendError::Corrupted {
                message: format!("{shown}: {e}"),
            };
        }
        e => e,
    };
    match map_sled_error(e) {
        BackendError::Corrupted { message } => BackendError::Corrupted {
            message: format!("{shown}: {message}"),
        },
        other => other,
    }
}

pub(crate) fn map_transaction_error(e: TransactionError<Infallible>) -> BackendError {
    match e {
        TransactionError::Abort(never) => match never {},
        TransactionError::Storage(e) => map_sled_error(e),
    }
}
