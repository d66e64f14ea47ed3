//! Driver errors: the [`MongoError`] source that leaves out what the server
//! quotes, and the mapping of duplicate keys to `Conflict`.

use std::fmt;

use auth_core::{AdapterError, Key};

/// A driver error, as the source of [`AdapterError::Backend`].
///
/// Its `Display` and `Debug` leave out the messages the server sends back,
/// which may quote the values of a failed write (a duplicate-key message
/// quotes the session token); the error code, its name and the driver's own
/// description remain. [`MongoError::driver_error`] gives the whole error.
pub struct MongoError(pub(crate) mongodb::error::Error);

impl MongoError {
    /// The driver's error, with the server's messages.
    pub fn driver_error(&self) -> &mongodb::error::Error {
        &self.0
    }

    /// The server's error code, if the server refused the operation.
    pub fn code(&self) -> Option<i32> {
        server_code(&self.0)
    }
}

impl fmt::Display for MongoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use mongodb::error::{ErrorKind, WriteFailure};
        match self.0.kind.as_ref() {
            ErrorKind::Command(e) => write!(
                f,
                "the server refused the command: error {} ({})",
                e.code, e.code_name
            ),
            ErrorKind::Write(WriteFailure::WriteError(e)) => write!(
                f,
                "the server refused the write: error {} ({})",
                e.code,
                e.code_name.as_deref().unwrap_or("unnamed")
            ),
            ErrorKind::Write(WriteFailure::WriteConcernError(e)) => write!(
                f,
                "write concern failed: error {} ({})",
                e.code, e.code_name
            ),
            ErrorKind::InsertMany(_) | ErrorKind::BulkWrite(_) => {
                write!(
                    f,
                    "the server refused a batch write: error {:?}",
                    self.code()
                )
            }
            ErrorKind::Transaction { .. } => write!(f, "the transaction failed or timed out"),
            _ => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for MongoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MongoError")
            .field(&format_args!("{self}"))
            .finish()
    }
}

impl std::error::Error for MongoError {}

pub(crate) fn server_code(error: &mongodb::error::Error) -> Option<i32> {
    use mongodb::error::{ErrorKind, WriteFailure};
    match error.kind.as_ref() {
        ErrorKind::Command(e) => Some(e.code),
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some(e.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(e)) => Some(e.code),
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|e| e.code),
        _ => None,
    }
}

pub(crate) fn backend(error: mongodb::error::Error) -> AdapterError {
    AdapterError::backend(MongoError(error))
}

/// Duplicate key (`E11000`) → `Conflict` on the unique `key`; anything
/// else → `Backend`.
pub(crate) fn write_error(error: mongodb::error::Error, key: Key) -> AdapterError {
    match server_code(&error) {
        Some(11000 | 11001) => AdapterError::conflict(key),
        _ => backend(error),
    }
}
