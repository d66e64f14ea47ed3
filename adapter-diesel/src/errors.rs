//! Diesel's errors in the contract's terms: which mean a conflict, a missing
//! user, a value the column cannot hold or a timeout, and a `Backend` error
//! that never quotes a stored value.

use std::fmt;
use std::time::Duration;

use auth_core::{AdapterError, Key};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::Limits;

/// A database error without the parts that may quote stored values (a
/// PostgreSQL `DETAIL`, say, which repeats the duplicate key: a session
/// token). When it says the server, a lock or the pool gave up waiting,
/// `timeout` is the limit that ran out; the adapter then reports it as
/// [`AdapterError::timed_out`].
#[derive(Debug)]
pub(crate) struct DbError {
    pub message: String,
    pub timeout: Option<Duration>,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbError {}

/// Any error of a read (or of a write whose constraint errors need no
/// translation).
pub(crate) fn classify(err: DieselError, limits: &Limits) -> AdapterError {
    match err {
        DieselError::DatabaseError(kind, info) => {
            let message = info.message().to_owned();
            if let Some(after) = timeout_of(&message, limits) {
                return AdapterError::backend(DbError {
                    message,
                    timeout: Some(after),
                });
            }
            if message.contains("index row size") {
                // A key too long for its B-tree entry (PostgreSQL): normally
                // refused before sending; this catches tables made elsewhere.
                return AdapterError::invalid_input(
                    indexed_field(info.constraint_name().unwrap_or(&message)),
                    "too long for its index",
                );
            }
            if message.starts_with("Data too long for column") {
                return AdapterError::invalid_input(
                    column_field(&message),
                    "too long for its column",
                );
            }
            let message = match kind {
                // MySQL quotes the duplicate value in the message: never
                // show it (conflicts are normally mapped before this).
                DatabaseErrorKind::UniqueViolation => "unique constraint violated".to_owned(),
                _ => message,
            };
            AdapterError::backend(DbError {
                message,
                timeout: None,
            })
        }
        other => AdapterError::backend(DbError {
            message: other.to_string(),
            timeout: None,
        }),
    }
}

/// The error of a write: a unique violation is a `Conflict` on `key`, a
/// foreign-key violation means the user `user_id` is missing, the rest as
/// [`classify`].
pub(crate) fn write_error(
    err: DieselError,
    key: Key,
    user_id: Option<&str>,
    limits: &Limits,
) -> AdapterError {
    match &err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            AdapterError::conflict(key)
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
            AdapterError::user_not_found(user_id.unwrap_or_default())
        }
        _ => classify(err, limits),
    }
}

/// The limit a server message says ran out, if it is a timeout:
/// PostgreSQL's `statement_timeout` and `lock_timeout` (SQLSTATE 57014,
/// 55P03), MySQL's lock wait (1205) and statement limits (MariaDB 1969,
/// MySQL 3024), SQLite's busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED`).
/// Diesel keeps the message but not the code, so the message decides.
fn timeout_of(message: &str, limits: &Limits) -> Option<Duration> {
    if message.contains("statement timeout")
        || message.contains("max_statement_time exceeded")
        || message.contains("maximum statement execution time exceeded")
    {
        Some(limits.statement)
    } else if message.contains("lock timeout") || message.starts_with("Lock wait timeout") {
        Some(limits.lock)
    } else if message.contains("database is locked") || message.contains("database table is locked")
    {
        Some(limits.busy)
    } else {
        None
    }
}

/// `true` for an error the server raised to break a lock cycle or a
/// serialization conflict: the whole call may simply run again.
pub(crate) fn is_retryable(err: &AdapterError) -> bool {
    match err {
        AdapterError::Backend(source) => source.downcast_ref::<DbError>().is_some_and(|e| {
            e.message.starts_with("Deadlock found")
                || e.message.contains("deadlock detected")
                || e.message.contains("could not serialize access")
        }),
        _ => false,
    }
}

/// The limit after which the error says the call gave up, if it is a
/// timeout.
pub(crate) fn timeout_in(err: &AdapterError) -> Option<Duration> {
    match err {
        AdapterError::Backend(source) => source.downcast_ref::<DbError>()?.timeout,
        _ => None,
    }
}

/// The model field of an index named in an "index row size" error.
fn indexed_field(text: &str) -> &'static str {
    let index = text
        .split_once("index \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or(text, |(name, _)| name);
    match index {
        "User_email_key" => "email",
        "User_pkey" => "id",
        "Account_provider_providerAccountId_key" => "provider_account_id",
        "Account_userId_idx" | "Session_userId_idx" => "user_id",
        "Session_sessionToken_key" => "session_token",
        "VerificationToken_pkey" | "VerificationToken_token_key" => "token",
        "Authenticator_pkey" | "Authenticator_credentialID_key" => "credential_id",
        _ => "value",
    }
}

/// The model field named by the column a MySQL message quotes, e.g.
/// `Data too long for column 'email' at row 1` → `email`.
fn column_field(message: &str) -> &'static str {
    let column = message
        .split_once("column ")
        .map(|(_, rest)| {
            let quoted = rest.split(" at row").next().unwrap_or(rest);
            let last = quoted.rsplit('.').next().unwrap_or(quoted);
            last.trim_matches(['\'', '`', '"', ' '])
        })
        .unwrap_or_default();
    match column {
        "name" => "name",
        "email" => "email",
        "image" => "image",
        "userId" => "user_id",
        "provider" => "provider",
        "providerAccountId" => "provider_account_id",
        "refresh_token" => "refresh_token",
        "access_token" => "access_token",
        "token_type" => "token_type",
        "scope" => "scope",
        "id_token" => "id_token",
        "session_state" => "session_state",
        "sessionToken" => "session_token",
        "identifier" => "identifier",
        "token" => "token",
        "credentialID" => "credential_id",
        "credentialPublicKey" => "credential_public_key",
        "credentialDeviceType" => "credential_device_type",
        "transports" => "transports",
        _ => "value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_name_fields_and_timeouts() {
        let limits = Limits::default();
        assert_eq!(
            column_field("Data too long for column 'email' at row 1"),
            "email"
        );
        assert_eq!(
            indexed_field(r#"index row size 6128 exceeds maximum 2704 for index "User_email_key""#),
            "email"
        );
        assert_eq!(
            timeout_of("canceling statement due to statement timeout", &limits),
            Some(limits.statement)
        );
        assert_eq!(
            timeout_of(
                "Lock wait timeout exceeded; try restarting transaction",
                &limits
            ),
            Some(limits.lock)
        );
        assert_eq!(timeout_of("database is locked", &limits), Some(limits.busy));
        assert_eq!(timeout_of("syntax error", &limits), None);
    }
}
