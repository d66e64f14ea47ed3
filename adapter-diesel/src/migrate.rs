//! `migrate()` and `drop_namespace()`: Diesel's embedded migrations, run
//! under the same lock as the sqlx adapters take, so that several
//! processes (of this adapter or of `adapter-postgres` / `adapter-mysql`)
//! migrating one fresh namespace at once take turns.
//!
//! The statements here are SQL text where Diesel's query builder has no
//! form for them: DDL (`CREATE SCHEMA`, `DROP SCHEMA`, `DROP DATABASE`),
//! MySQL's `SET SESSION`, and PostgreSQL's `pg_advisory_xact_lock`, which
//! returns `void` (a type Diesel cannot select). Each place says so.

use std::error::Error as StdError;

use auth_core::{AdapterError, Result, with_timeout};
use diesel::expression::functions::declare_sql_function;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel::{Connection, RunQueryDsl};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Object;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::errors::{DbError, classify, timeout_in};
use crate::setup::{pg_millis, quote_mysql, quote_pg, set_config};
use crate::{AsyncMysqlConnection, AsyncPgConnection, DieselAdapter, Held, Limits};

/// The PostgreSQL migrations (`migrations/postgres`): the tables of
/// `adapter-postgres`'s `0001_init.sql`, then its `0002` (the
/// authenticator `counter` as `bigint`, so it holds every `u32`). Run them
/// with your own `diesel_migrations` harness if you prefer; the adapter's
/// [`migrate`](DieselAdapter::migrate) adds the lock and the schema.
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The MySQL / MariaDB migrations (`migrations/mysql`): the tables of
/// `adapter-mysql`'s `0001_init.sql`, then the NO PAD binary collation on
/// every table, as `adapter-mysql`'s `migrate()` gives it.
pub const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// The SQLite migrations (`migrations/sqlite`): the tables of
/// `adapter-sqlite`'s `0001_init.sql`.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

#[declare_sql_function]
extern "SQL" {
    /// MySQL's `GET_LOCK(name, seconds)`: 1 got it, 0 timed out, NULL error.
    fn get_lock(name: Text, seconds: Integer) -> Nullable<BigInt>;
    /// MySQL's `RELEASE_LOCK(name)`.
    fn release_lock(name: Text) -> Nullable<BigInt>;
    /// MySQL's two-argument `CONCAT` (Diesel's `concat` renders `||`, which
    /// MySQL reads as OR).
    #[sql_name = "CONCAT"]
    fn mysql_concat(a: Text, b: Text) -> Text;
    /// MySQL's `SHA1`, as hex text.
    fn sha1(text: Text) -> Text;
    /// MySQL's `DATABASE()`: the connection's database.
    fn database() -> Text;
    /// `VERSION()`.
    fn version() -> Text;
}

/// What a migration run fails with: a statement, or the migration harness.
#[derive(Debug)]
enum MigrateError {
    Diesel(diesel::result::Error),
    Harness(Box<dyn StdError + Send + Sync>),
    Lock(String),
}

impl From<diesel::result::Error> for MigrateError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Diesel(e)
    }
}

impl MigrateError {
    fn into_adapter_error(self, limits: &Limits) -> AdapterError {
        match self {
            Self::Diesel(e) => classify(e, limits),
            Self::Harness(e) => match e.downcast::<diesel::result::Error>() {
                Ok(e) => classify(*e, limits),
                Err(e) => AdapterError::backend(DbError {
                    message: format!("migrate: {e}"),
                    timeout: None,
                }),
            },
            Self::Lock(message) => AdapterError::backend(DbError {
                message,
                timeout: None,
            }),
        }
    }
}

impl DieselAdapter {
    /// Creates the tables and indexes (PostgreSQL: and the schema), or
    /// upgrades them, with Diesel's migrations embedded in this crate
    /// ([`POSTGRES_MIGRATIONS`], [`MYSQL_MIGRATIONS`],
    /// [`SQLITE_MIGRATIONS`]), recorded in Diesel's
    /// `__diesel_schema_migrations` table of the namespace. Tables that
    /// Auth.js or another adapter of this workspace created are kept
    /// (`CREATE TABLE IF NOT EXISTS`).
    ///
    /// Safe to run at every start, from any number of processes at once on
    /// one fresh namespace: concurrent runs take turns under a lock, and
    /// the later ones find nothing to do.
    ///
    /// - PostgreSQL: one transaction holding `pg_advisory_xact_lock` on the
    ///   key `adapter-postgres` uses for the schema, so its migrations and
    ///   ours take turns too; the migrate timeout is its statement and lock
    ///   timeout. The connection is taken out of the pool and closed after.
    /// - MySQL / MariaDB: the named lock `adapter-mysql` takes (`GET_LOCK`
    ///   of `auth_core.migrate.<SHA1 of the database>`), on a connection
    ///   taken out of the pool, whose closing releases it whatever happens.
    /// - SQLite: one `BEGIN IMMEDIATE` transaction; the others wait for it
    ///   (up to the busy timeout).
    ///
    /// Errors: `Backend` when a statement fails, or when it runs out of the
    /// migrate timeout ([`is_timeout`](AdapterError::is_timeout) true).
    pub async fn migrate(&self) -> Result<()> {
        let limits = self.limits;
        let migrate = async {
            match self.checkout().await? {
                Held::Postgres(conn) => {
                    migrate_postgres(Object::take(conn), self.namespace.clone(), limits).await
                }
                Held::Mysql(conn) => migrate_mysql(Object::take(conn), limits).await,
                Held::Sqlite(mut conn) => {
                    let result = conn
                        .spawn_blocking(|conn| {
                            conn.immediate_transaction(|conn| {
                                conn.run_pending_migrations(crate::SQLITE_MIGRATIONS)
                                    .map(drop)
                                    .map_err(diesel::result::Error::QueryBuilderError)
                            })
                        })
                        .await;
                    result.map_err(|e| MigrateError::from(e).into_adapter_error(&limits))
                }
            }
        };
        with_timeout(limits.migrate, "migrate", migrate)
            .await
            .map_err(|e| match timeout_in(&e) {
                Some(after) => AdapterError::timed_out("migrate", after),
                None => e,
            })
    }
}

async fn migrate_postgres(
    conn: AsyncPgConnection,
    schema: Option<String>,
    limits: Limits,
) -> Result<()> {
    // The migration's statements may wait as long as the migration may.
    let migrate_limits = Limits {
        statement: crate::server_cap(limits.migrate),
        lock: crate::server_cap(limits.migrate),
        ..limits
    };
    let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
    tokio::task::spawn_blocking(move || {
        conn.transaction::<_, MigrateError, _>(|conn| {
            let limit = pg_millis(migrate_limits.statement);
            diesel::select((
                set_config("statement_timeout", limit.clone(), true),
                set_config("lock_timeout", limit, true),
            ))
            .execute(conn)?;
            // SQL text: pg_advisory_xact_lock returns `void`, which Diesel
            // cannot select. The key is adapter-postgres's for this schema
            // (for a pool from elsewhere, the first schema of its
            // search_path); the lock ends with the transaction.
            diesel::sql_query(
                "SELECT pg_advisory_xact_lock(hashtextextended('adapter-postgres migrate ' \
                 || COALESCE($1, current_schema(), current_setting('search_path')), 0))",
            )
            .bind::<Nullable<Text>, _>(schema.as_deref())
            .execute(conn)?;
            if let Some(schema) = &schema {
                // SQL text: DDL. The name is quoted.
                diesel::sql_query(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_pg(schema)))
                    .execute(conn)?;
            }
            conn.run_pending_migrations(crate::POSTGRES_MIGRATIONS)
                .map_err(MigrateError::Harness)?;
            Ok(())
        })
        // The connection is dropped (closed) here, out of the pool.
    })
    .await
    .map_err(|e| AdapterError::backend(e.to_string()))?
    .map_err(|e| e.into_adapter_error(&migrate_limits))
}

async fn migrate_mysql(conn: AsyncMysqlConnection, limits: Limits) -> Result<()> {
    let mut conn = AsyncConnectionWrapper::<AsyncMysqlConnection>::from(conn);
    tokio::task::spawn_blocking(move || {
        let result = (|| {
            let version: String = diesel::select(version()).get_result(&mut conn)?;
            // SQL text: `SET` has no Diesel DSL. No statement limit for the
            // DDL on this connection, which is closed afterwards; the
            // migrate timeout bounds the whole run.
            let unlimited = if version.contains("MariaDB") {
                "SET SESSION max_statement_time = 0"
            } else {
                "SET SESSION max_execution_time = 0"
            };
            diesel::connection::SimpleConnection::batch_execute(&mut conn, unlimited)?;
            let name = || mysql_concat("auth_core.migrate.", sha1(database()));
            let seconds = i32::try_from(limits.migrate.as_secs().max(1)).unwrap_or(i32::MAX);
            let got: Option<i64> =
                diesel::select(get_lock(name(), seconds)).get_result(&mut conn)?;
            match got {
                Some(1) => {}
                Some(_) => {
                    return Err(MigrateError::Lock(format!(
                        "migrate: another process held the migration lock for more than \
                         {seconds} s; nothing was changed"
                    )));
                }
                None => {
                    return Err(MigrateError::Lock(
                        "migrate: the server refused the migration lock; nothing was changed"
                            .to_owned(),
                    ));
                }
            }
            conn.run_pending_migrations(crate::MYSQL_MIGRATIONS)
                .map_err(MigrateError::Harness)?;
            diesel::select(release_lock(name())).execute(&mut conn)?;
            Ok(())
        })();
        // Dropping the connection closes it, which releases the lock if
        // RELEASE_LOCK was not reached.
        drop(conn);
        result
    })
    .await
    .map_err(|e| AdapterError::backend(e.to_string()))?
    .map_err(|e| e.into_adapter_error(&limits))
}

/// Drops the namespace on `held`: the schema (PostgreSQL) or the database
/// (MySQL); nothing for SQLite, whose file the caller removes.
pub(crate) async fn drop_namespace(mut held: Held, namespace: &str) -> Result<()> {
    let limits = Limits::default();
    match held.connection() {
        crate::AnyConnection::Postgres(conn) => {
            // SQL text: DDL. The name is quoted.
            let drop = diesel::sql_query(format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                quote_pg(namespace)
            ));
            diesel_async::RunQueryDsl::execute(drop, conn)
                .await
                .map_err(|e| classify(e, &limits))?;
        }
        crate::AnyConnection::Mysql(conn) => {
            // SQL text: DDL. The name is quoted.
            let drop = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {}",
                quote_mysql(namespace)
            ));
            diesel_async::RunQueryDsl::execute(drop, conn)
                .await
                .map_err(|e| classify(e, &limits))?;
        }
        crate::AnyConnection::Sqlite(_) => {}
    }
    Ok(())
}
