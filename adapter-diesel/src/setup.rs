//! Opening one connection of each backend with the settings the adapter
//! relies on.
//!
//! Session settings have no place in Diesel's query builder. On PostgreSQL
//! they go through `set_config()`, a function Diesel can call; MySQL's `SET
//! SESSION` and SQLite's `PRAGMA` are statements of their own, so those two
//! are SQL text, with only numbers formatted into it.

use diesel::ConnectionError;
use diesel::expression::functions::declare_sql_function;
use diesel::sql_types::{Bool, Text};
use diesel::{Connection, ConnectionResult, SqliteConnection};
use diesel_async::{
    AsyncConnection, AsyncMysqlConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
};

use crate::{AsyncSqliteConnection, Limits};
use auth_core::{AdapterError, Result};

#[declare_sql_function]
extern "SQL" {
    /// PostgreSQL's `set_config(setting_name, new_value, is_local)`.
    fn set_config(setting_name: Text, new_value: Text, is_local: Bool) -> Text;
    /// `VERSION()`: MySQL or MariaDB, and which release.
    fn version() -> Text;
}

fn setup_failed(e: diesel::result::Error) -> ConnectionError {
    ConnectionError::CouldntSetupConfiguration(e)
}

/// `name` as a quoted PostgreSQL identifier.
pub(crate) fn quote_pg(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `name` as a quoted MySQL identifier.
pub(crate) fn quote_mysql(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A PostgreSQL connection whose `search_path` is `schema` alone, with the
/// statement and lock timeouts of `limits`.
pub(crate) async fn postgres(
    url: &str,
    schema: &str,
    limits: Limits,
) -> ConnectionResult<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    diesel::select((
        set_config("search_path", quote_pg(schema), false),
        set_config("statement_timeout", pg_millis(limits.statement), false),
        set_config("lock_timeout", pg_millis(limits.lock), false),
    ))
    .execute(&mut conn)
    .await
    .map_err(setup_failed)?;
    Ok(conn)
}

/// `limit` as a PostgreSQL setting value, e.g. `"5000ms"`.
pub(crate) fn pg_millis(limit: std::time::Duration) -> String {
    format!("{}ms", limit.as_millis().max(1))
}

/// `url` (`mysql://` or `mariadb://`) with `database` as its database, in
/// the `mysql://` form mysql_async reads.
pub(crate) fn mysql_url(url: &str, database: &str) -> Result<String> {
    let mut parsed = crate::parse_url(url)?;
    if parsed.scheme() != "mysql" {
        parsed
            .set_scheme("mysql")
            .map_err(|()| AdapterError::invalid_input("url", "not a MySQL URL"))?;
    }
    // `set_path` escapes what a path cannot hold, but takes `%` as the start
    // of an escape: escape it first.
    parsed.set_path(&format!("/{}", database.replace('%', "%25")));
    Ok(parsed.into())
}

/// A MySQL / MariaDB connection in strict SQL mode, with the lock-wait and
/// statement limits of `limits`.
pub(crate) async fn mysql(url: &str, limits: Limits) -> ConnectionResult<AsyncMysqlConnection> {
    let mut conn = AsyncMysqlConnection::establish(url).await?;
    let version: String = diesel::select(version())
        .get_result(&mut conn)
        .await
        .map_err(setup_failed)?;
    let statement_limit = if version.contains("MariaDB") {
        format!("max_statement_time = {:.3}", limits.statement.as_secs_f64())
    } else {
        format!("max_execution_time = {}", limits.statement.as_millis())
    };
    // `SET` has no Diesel DSL. Only numbers are formatted into it. Strict
    // mode makes an over-long value or an impossible date an error instead
    // of a silent truncation; UTC keeps NOW() in ad-hoc queries honest
    // (the adapter sends the caller's clock, and DATETIME has no zone).
    let sql = format!(
        "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), \
         innodb_lock_wait_timeout = {}, time_zone = '+00:00', {statement_limit}",
        lock_wait_seconds(limits.lock)
    );
    conn.batch_execute(&sql).await.map_err(setup_failed)?;
    Ok(conn)
}

/// `innodb_lock_wait_timeout` in whole seconds, rounded up, at least 1.
pub(crate) fn lock_wait_seconds(limit: std::time::Duration) -> u64 {
    (limit.as_millis().div_ceil(1000) as u64).max(1)
}

/// `CREATE DATABASE IF NOT EXISTS`, over a connection to
/// `information_schema` (which every account can open), since the database
/// may not exist yet.
pub(crate) async fn create_mysql_database(url: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 64 || name.contains('\0') || name.ends_with(' ') {
        return Err(AdapterError::invalid_input(
            "database",
            "a MySQL database name has 1 to 64 characters, no NUL and no trailing space",
        ));
    }
    let url = mysql_url(url, "information_schema")?;
    let mut conn = AsyncMysqlConnection::establish(&url)
        .await
        .map_err(|e| AdapterError::backend(format!("cannot connect: {e}")))?;
    // DDL has no Diesel DSL; the name is checked above and quoted.
    let sql = format!(
        "CREATE DATABASE IF NOT EXISTS {} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        quote_mysql(name)
    );
    conn.batch_execute(&sql)
        .await
        .map_err(|e| AdapterError::backend(e.to_string()))
}

/// The `PRAGMA`s of every SQLite connection (statements Diesel has no DSL
/// for; only numbers are formatted in): the busy timeout first, so the
/// others wait for other connections' locks too; WAL (readers proceed while
/// one connection writes) for a file; foreign keys on (the cascades of
/// `delete_user` depend on it).
fn sqlite_pragmas(limits: Limits, in_memory: bool) -> String {
    let journal = if in_memory {
        // Never a journal file beside a database that has no file.
        "PRAGMA journal_mode = MEMORY;"
    } else {
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    };
    format!(
        "PRAGMA busy_timeout = {}; {journal} PRAGMA foreign_keys = ON;",
        limits.busy.as_millis().min(i32::MAX as u128)
    )
}

/// An SQLite connection to `path` (a file, or a `file:` URI of the `memdb`
/// VFS), configured by [`sqlite_pragmas`].
pub(crate) async fn sqlite(
    path: &str,
    limits: Limits,
    in_memory: bool,
) -> ConnectionResult<AsyncSqliteConnection> {
    let mut conn = AsyncSqliteConnection::establish(path).await?;
    // Switching a new file to WAL takes an exclusive lock, and SQLite may
    // answer "database is locked" at once, without waiting in the busy
    // handler, while other connections open the same new file (several
    // instances migrating it together). Try again until the busy timeout.
    let pragmas = sqlite_pragmas(limits, in_memory);
    let started = std::time::Instant::now();
    loop {
        match conn.batch_execute(&pragmas).await {
            Ok(()) => return Ok(conn),
            Err(e) if is_locked(&e) && started.elapsed() < limits.busy => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => return Err(setup_failed(e)),
        }
    }
}

/// SQLite's "database is locked" / "database table is locked" (`SQLITE_BUSY`,
/// `SQLITE_LOCKED`).
fn is_locked(e: &diesel::result::Error) -> bool {
    e.to_string().contains("is locked")
}

/// The connection that keeps an in-memory database alive.
pub(crate) async fn sqlite_keeper(uri: String, limits: Limits) -> Result<SqliteConnection> {
    tokio::task::spawn_blocking(move || {
        let mut conn =
            SqliteConnection::establish(&uri).map_err(|e| AdapterError::backend(e.to_string()))?;
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            &sqlite_pragmas(limits, true),
        )
        .map_err(|e| AdapterError::backend(e.to_string()))?;
        Ok(conn)
    })
    .await
    .map_err(|e| AdapterError::backend(e.to_string()))?
}

/// `true` for a path SQLite would open as a database private to each
/// connection, which a pool cannot share.
pub(crate) fn is_private_per_connection(path: &str) -> bool {
    path.starts_with("file:") && (path.contains("mode=memory") || path.starts_with("file::memory:"))
}
