//! The MySQL / MariaDB error table: which server error numbers mean a
//! conflict, a missing user, a value the column cannot hold, a deadlock or a
//! timeout, and the model field a server message names.

use std::time::Duration;

use auth_core::{AdapterError, Key};
use sqlx::mysql::MySqlDatabaseError;

use crate::{Timeouts, lock_wait_seconds};

/// The limit a driver error says was exceeded, if it is a timeout: the pool
/// had no free connection in time, a lock wait ran out (1205), or the server
/// stopped a statement (MariaDB 1969, MySQL 3024).
pub(crate) fn server_timeout(
    source: &(dyn std::error::Error + Send + Sync + 'static),
    timeouts: Timeouts,
) -> Option<Duration> {
    let err = source.downcast_ref::<sqlx::Error>()?;
    if matches!(err, sqlx::Error::PoolTimedOut) {
        return Some(timeouts.operation);
    }
    let number = err
        .as_database_error()?
        .try_downcast_ref::<MySqlDatabaseError>()?
        .number();
    match number {
        // ER_LOCK_WAIT_TIMEOUT
        1205 => Some(Duration::from_secs(lock_wait_seconds(timeouts.lock))),
        // ER_STATEMENT_TIMEOUT (MariaDB), ER_QUERY_TIMEOUT (MySQL)
        1969 | 3024 => Some(timeouts.statement),
        _ => None,
    }
}

/// ER_LOCK_DEADLOCK: InnoDB rolled the statement's transaction back to break a
/// lock cycle. The read-then-write loops simply read again.
pub(crate) fn is_deadlock(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.try_downcast_ref::<MySqlDatabaseError>())
        .is_some_and(|e| e.number() == 1213)
}

/// Maps a failed write: a duplicate key is a `Conflict` on `key`,
/// a missing parent row is the user `user_id` being `NotFound`, and a value
/// the column cannot hold (strict mode refuses it) is `InvalidInput`.
/// Anything else is `Backend`.
///
/// The server's message is never copied into a `Conflict`: MySQL quotes the
/// duplicate value in it, which may be a session token.
pub(crate) fn write_error(err: sqlx::Error, key: Key, user_id: &str) -> AdapterError {
    let Some(db) = err
        .as_database_error()
        .and_then(|e| e.try_downcast_ref::<MySqlDatabaseError>())
    else {
        return AdapterError::backend(err);
    };
    let field = || column_field(db.message());
    match db.number() {
        // ER_DUP_KEY, ER_DUP_ENTRY, ER_DUP_UNIQUE, ER_DUP_ENTRY_WITH_KEY_NAME,
        // ER_DUP_UNKNOWN_IN_INDEX
        1022 | 1062 | 1169 | 1586 | 1859 => AdapterError::conflict(key),
        // ER_NO_REFERENCED_ROW, ER_NO_REFERENCED_ROW_2
        1216 | 1452 => AdapterError::user_not_found(user_id),
        // ER_DATA_TOO_LONG
        1406 => AdapterError::invalid_input(field(), "too long for its column"),
        // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD (e.g. invalid UTF-8),
        // WARN_DATA_TRUNCATED
        1366 | 1265 => AdapterError::invalid_input(field(), "cannot be stored unchanged"),
        // ER_TRUNCATED_WRONG_VALUE (e.g. an invalid date), ER_WARN_DATA_OUT_OF_RANGE,
        // ER_DATETIME_FUNCTION_OVERFLOW
        1292 | 1264 | 1441 => AdapterError::invalid_input(field(), "out of range for its column"),
        // ER_BAD_NULL_ERROR
        1048 => AdapterError::invalid_input(field(), "may not be null"),
        _ => AdapterError::backend(err),
    }
}

/// The model field named by the column that a server message quotes, e.g.
/// `Data too long for column 'email' at row 1` → `email`.
fn column_field(message: &str) -> &'static str {
    // MySQL quotes 'name'; MariaDB may qualify it: `db`.`table`.`name`.
    let column = message
        .split_once("column ")
        .map(|(_, rest)| {
            let quoted = rest.split(" at row").next().unwrap_or(rest);
            let last = quoted.rsplit('.').next().unwrap_or(quoted);
            last.trim_matches(['\'', '`', '"', ' '])
        })
        .unwrap_or_default();
    match column {
        "id" => "id",
        "name" => "name",
        "email" => "email",
        "emailVerified" => "email_verified",
        "image" => "image",
        "userId" => "user_id",
        "type" => "account_type",
        "provider" => "provider",
        "providerAccountId" => "provider_account_id",
        "refresh_token" => "refresh_token",
        "access_token" => "access_token",
        "expires_at" => "expires_at",
        "token_type" => "token_type",
        "scope" => "scope",
        "id_token" => "id_token",
        "session_state" => "session_state",
        "sessionToken" => "session_token",
        "expires" => "expires",
        "identifier" => "identifier",
        "token" => "token",
        "credentialID" => "credential_id",
        "credentialPublicKey" => "credential_public_key",
        "counter" => "counter",
        "credentialDeviceType" => "credential_device_type",
        "credentialBackedUp" => "credential_backed_up",
        "transports" => "transports",
        _ => "value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_in_server_messages_become_model_fields() {
        assert_eq!(
            column_field("Data too long for column 'email' at row 1"),
            "email"
        );
        assert_eq!(
            column_field(
                "Incorrect string value: '\\xF0' for column `test`.`User`.`name` at row 1"
            ),
            "name"
        );
        assert_eq!(
            column_field("Incorrect datetime value: 'x' for column `expires` at row 1"),
            "expires"
        );
        assert_eq!(column_field("no column here"), "value");
    }
}
