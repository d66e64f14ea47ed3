#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::timestamp::{check_year_range, truncate_to_millis};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Result,
    Session, SessionUpdate, User, UserUpdate, VerificationToken, new_id, with_timeout,
};
use sqlx::mysql::{
    MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions, MySqlQueryResult, MySqlRow,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, MySql, Row, SqlSafeStr, SqlStr};
use time::{OffsetDateTime, PrimitiveDateTime};

/// The table layouts and names this adapter can use; see
/// [`MysqlOptions::layout`] and the crate docs' "Sharing a database with
/// Auth.js".
pub use auth_core::layout::{Layout, TableNames};

/// The sqlx this crate is built on, to build a [`MySqlPool`] of the matching
/// version for [`MysqlAdapter::from_pool`].
pub use sqlx;

mod errors;

use errors::{is_deadlock, server_timeout, write_error};

/// The schema as plain SQL, for teams that run their own migration tool. It
/// is migration 1 of [`MysqlAdapter::migrate`]; `migrate()` then converts the
/// key columns to a NO PAD binary collation (see the crate docs), which this
/// SQL alone does not do.
pub const SCHEMA_SQL: &str = include_str!("../migrations/0001_init.sql");

/// The tables of [`Layout::Drizzle`] as plain SQL: `@auth/drizzle-adapter`'s
/// default MySQL schema (names, keys, foreign keys), with the value columns
/// widened so every value of the adapter contract fits (see the crate docs'
/// table of differences). [`MysqlAdapter::migrate`] runs it with the
/// configured table names, then widens the same columns of tables Drizzle
/// created first.
pub const DRIZZLE_SCHEMA_SQL: &str = include_str!("../layouts/drizzle.sql");

/// The longest table (and constraint) name MySQL accepts, in characters.
const MAX_NAME: usize = 64;

/// The table in which [`MysqlAdapter::migrate`] records applied migrations.
/// It is not sqlx's default `_sqlx_migrations`, so an application that keeps
/// its own sqlx migrations in the same database does not collide with ours.
pub const MIGRATIONS_TABLE: &str = "_auth_core_migrations";

/// How many expired rows [`Adapter::purge_expired`] deletes per statement, so
/// a large purge never holds many row locks at once.
const PURGE_BATCH: u64 = 1000;

/// How often the read-then-conditional-write calls (`update_session`,
/// `delete_session`, `use_verification_token`) read again when a concurrent
/// call changed the row in between (or a deadlock rolled the write back)
/// before they give up with a `Backend` error that says so.
pub const MAX_ATTEMPTS: u32 = 16;

/// The most characters a key column (`VARCHAR(255)`) holds.
const KEY_CHARS: usize = 255;
/// The most bytes a `TEXT` column holds.
const TEXT_BYTES: usize = 65_535;

/// The NO PAD binary collations, best first: MySQL 8.0.17+ and MariaDB
/// 10.2.2+ have one of them.
const NO_PAD_COLLATIONS: [&str; 2] = ["utf8mb4_0900_bin", "utf8mb4_nopad_bin"];

/// The columns that are looked up, unique or a foreign key, by table (0
/// user, 1 account, 2 session, 3 verification token, 4 authenticator, the
/// order of [`TableNames::all`]): they get a NO PAD binary collation in
/// `migrate()` so that `'u1 '` is never `'u1'`. `id` of accounts and
/// sessions exists in the Prisma layout only; a missing column is skipped.
const KEY_COLUMNS: [(usize, &str); 13] = [
    (0, "id"),
    (0, "email"),
    (1, "id"),
    (1, "userId"),
    (1, "provider"),
    (1, "providerAccountId"),
    (2, "id"),
    (2, "sessionToken"),
    (2, "userId"),
    (3, "identifier"),
    (3, "token"),
    (4, "credentialID"),
    (4, "userId"),
];

// ------------------------------------------------------------------ options

/// The time limits of an adapter; see the `MysqlOptions` builder methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Timeouts {
    operation: Duration,
    lock: Duration,
    statement: Duration,
    migrate: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            operation: MysqlOptions::DEFAULT_OPERATION_TIMEOUT,
            lock: MysqlOptions::DEFAULT_LOCK_TIMEOUT,
            statement: MysqlOptions::DEFAULT_STATEMENT_TIMEOUT,
            migrate: MysqlOptions::DEFAULT_MIGRATE_TIMEOUT,
        }
    }
}

/// Which server and database to use, how many connections to keep, and how
/// long any call may wait.
///
/// The database is the namespace: every table lives in it, as Auth.js
/// expects (the database named in its URL).
#[derive(Clone)]
pub struct MysqlOptions {
    connect: MySqlConnectOptions,
    max_connections: u32,
    create_database: bool,
    timeouts: Timeouts,
    layout: Layout,
    table_names: TableNames,
}

impl MysqlOptions {
    /// Default of [`operation_timeout`](Self::operation_timeout): 10 s.
    pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default of [`lock_timeout`](Self::lock_timeout): 5 s.
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default of [`statement_timeout`](Self::statement_timeout): 10 s.
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default of [`migrate_timeout`](Self::migrate_timeout): 120 s.
    pub const DEFAULT_MIGRATE_TIMEOUT: Duration = Duration::from_secs(120);

    /// Parses `mysql://user:password@host:port/database?options` (sqlx's
    /// URL syntax; MariaDB servers take the same URL).
    ///
    /// Errors: `InvalidInput` (field `url`) when it is not such a URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let connect = MySqlConnectOptions::from_str(url).map_err(|e| {
            // sqlx's message never repeats the URL, so no password leaks here.
            AdapterError::invalid_input("url", format!("not a MySQL URL: {e}"))
        })?;
        Ok(Self::from_connect_options(connect))
    }

    /// The former name of [`from_connect_options`](Self::from_connect_options).
    #[doc(hidden)]
    pub fn new(connect: MySqlConnectOptions) -> Self {
        Self::from_connect_options(connect)
    }

    /// Options from sqlx connect options built by hand.
    pub fn from_connect_options(connect: MySqlConnectOptions) -> Self {
        Self {
            // Instants are bound and read as UTC DATETIMEs and "now" is the
            // caller's clock sent as a parameter, so nothing depends on this;
            // it keeps NOW() in ad-hoc queries on our connections in UTC.
            connect: connect.timezone(Some("+00:00".to_owned())),
            max_connections: 10,
            create_database: false,
            timeouts: Timeouts::default(),
            layout: Layout::Prisma,
            table_names: TableNames::of(Layout::Prisma),
        }
    }

    /// The namespace: the database `name` that holds the tables, instead of
    /// the one in the URL.
    pub fn namespace(mut self, name: impl AsRef<str>) -> Self {
        self.connect = self.connect.database(name.as_ref());
        self
    }

    /// The former name of [`namespace`](Self::namespace).
    #[doc(hidden)]
    pub fn database(self, name: &str) -> Self {
        self.namespace(name)
    }

    /// Sets the most connections the pool opens (default 10, at least 1).
    pub fn pool_size(mut self, size: u32) -> Self {
        self.max_connections = size.max(1);
        self
    }

    /// The former name of [`pool_size`](Self::pool_size).
    #[doc(hidden)]
    pub fn max_connections(self, max: u32) -> Self {
        self.pool_size(max)
    }

    /// Creates the database (utf8mb4, binary collation) before connecting
    /// if it does not exist yet. Off by default; needs the `CREATE`
    /// privilege.
    pub fn create_database_if_missing(mut self, create: bool) -> Self {
        self.create_database = create;
        self
    }

    /// The longest any one call (connecting, and every [`Adapter`] method)
    /// takes in all, waiting for a pooled connection included (default
    /// 10 s, at least 1 ms). A call that runs out of time returns a
    /// `Backend` error for which `is_timeout()` is true.
    pub fn operation_timeout(mut self, limit: Duration) -> Self {
        self.timeouts.operation = limit.max(Duration::from_millis(1));
        self
    }

    /// How long a statement waits for a row lock another transaction holds
    /// (`innodb_lock_wait_timeout`, whole seconds, rounded up; default 5 s,
    /// at least 1 s). Running out is a `Backend` error with `is_timeout()`.
    pub fn lock_timeout(mut self, limit: Duration) -> Self {
        self.timeouts.lock = limit;
        self
    }

    /// The longest one statement runs on the server (default 10 s, at least
    /// 1 ms): MariaDB's `max_statement_time` (every statement), MySQL's
    /// `max_execution_time` (read-only `SELECT`s; MySQL has no limit for
    /// other statements, which [`lock_timeout`](Self::lock_timeout) and
    /// [`operation_timeout`](Self::operation_timeout) bound).
    pub fn statement_timeout(mut self, limit: Duration) -> Self {
        self.timeouts.statement = limit.max(Duration::from_millis(1));
        self
    }

    /// The longest [`MysqlAdapter::migrate`] takes in all, waiting for another
    /// process's migration lock included (default 120 s, at least 1 s). The
    /// migration's own statements have no statement time limit.
    pub fn migrate_timeout(mut self, limit: Duration) -> Self {
        self.timeouts.migrate = limit.max(Duration::from_secs(1));
        self
    }

    /// The sqlx connect options, e.g. to adjust TLS.
    pub fn connect_options(&self) -> &MySqlConnectOptions {
        &self.connect
    }

    /// The database these options name, if any.
    pub fn database_name(&self) -> Option<&str> {
        self.connect.get_database()
    }

    /// Pool options with the per-connection setup these options ask for
    /// (strict SQL mode, lock and statement timeouts), the pool size, and
    /// [`operation_timeout`](Self::operation_timeout) as the time to wait for
    /// a free connection: for building a pool of your own to pass to
    /// [`MysqlAdapter::from_pool_with`].
    pub fn pool_options(&self) -> MySqlPoolOptions {
        session_pool_options(self.timeouts)
            .max_connections(self.max_connections)
            .acquire_timeout(self.timeouts.operation)
    }

    /// Uses the tables of `layout` ([`Layout::Prisma`], the default, or
    /// [`Layout::Drizzle`]) and resets the table names to that layout's own;
    /// call [`table_names`](Self::table_names) or
    /// [`table_prefix`](Self::table_prefix) after it. [`Layout::PgAdapter`]
    /// is PostgreSQL only: [`MysqlAdapter::connect_with`] refuses it with
    /// `InvalidInput` (field `layout`).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self.table_names = TableNames::of(layout);
        self
    }

    /// Uses these table names (for tables created with custom names); the
    /// columns stay those of the layout. Checked when connecting:
    /// `InvalidInput` (field `table_names`) for an empty, repeated or
    /// over-long (64 bytes) name, or one with a NUL.
    pub fn table_names(mut self, names: TableNames) -> Self {
        self.table_names = names;
        self
    }

    /// Puts `prefix` before each of the current table names, e.g.
    /// `.layout(Layout::Drizzle).table_prefix("auth_")` for `auth_user`,
    /// `auth_account`, ...
    pub fn table_prefix(mut self, prefix: &str) -> Self {
        self.table_names = std::mem::take(&mut self.table_names).with_prefix(prefix);
        self
    }

    /// The layout set with [`layout`](Self::layout).
    pub fn get_layout(&self) -> Layout {
        self.layout
    }

    /// The table names in use.
    pub fn get_table_names(&self) -> &TableNames {
        &self.table_names
    }
}

impl fmt::Debug for MysqlOptions {
    // sqlx's own Debug would print the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MysqlOptions")
            .field("host", &self.connect.get_host())
            .field("port", &self.connect.get_port())
            .field("username", &self.connect.get_username())
            .field("database", &self.connect.get_database())
            .field("max_connections", &self.max_connections)
            .field("create_database", &self.create_database)
            .field("operation_timeout", &self.timeouts.operation)
            .field("lock_timeout", &self.timeouts.lock)
            .field("statement_timeout", &self.timeouts.statement)
            .field("migrate_timeout", &self.timeouts.migrate)
            .field("layout", &self.layout)
            .field("table_names", &self.table_names)
            .finish()
    }
}

/// `innodb_lock_wait_timeout` in whole seconds, rounded up, at least 1.
fn lock_wait_seconds(limit: Duration) -> u64 {
    (limit.as_millis().div_ceil(1000) as u64).max(1)
}

/// Whether the server on `conn` is MariaDB (else MySQL).
async fn is_mariadb(conn: &mut MySqlConnection) -> sqlx::Result<bool> {
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut *conn)
        .await?;
    Ok(version.contains("MariaDB"))
}

/// Pool options whose connections run in strict SQL mode with the lock and
/// statement timeouts of `timeouts`.
///
/// A connection is not pinged before each use (`test_before_acquire(false)`):
/// sqlx's ping is one more round trip on every call (see the crate README's
/// "Performance" section for what it costs). A connection the
/// server dropped fails the one call that meets it, and is then discarded.
fn session_pool_options(timeouts: Timeouts) -> MySqlPoolOptions {
    MySqlPoolOptions::new()
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                // An over-long value or an impossible date is an error, never
                // silently truncated (the server default usually has
                // STRICT_TRANS_TABLES already; this makes it certain).
                let statement_limit = if is_mariadb(conn).await? {
                    format!(
                        "max_statement_time = {:.3}",
                        timeouts.statement.as_secs_f64()
                    )
                } else {
                    format!("max_execution_time = {}", timeouts.statement.as_millis())
                };
                // Only numbers are formatted into this statement.
                let sql = format!(
                    "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'), \
                 innodb_lock_wait_timeout = {}, {statement_limit}",
                    lock_wait_seconds(timeouts.lock)
                );
                conn.execute(AssertSqlSafe(sql)).await?;
                Ok(())
            })
        })
}

// ------------------------------------------------------------------ connect

/// The MySQL / MariaDB adapter: an sqlx connection pool and the Auth.js
/// tables in one database. Cheap to clone (the pool is shared).
///
/// See the [crate docs](crate) for the schema and what each call costs.
#[derive(Clone)]
pub struct MysqlAdapter {
    pool: MySqlPool,
    /// The database the pool's connections use.
    database: String,
    timeouts: Timeouts,
    /// The layout and every statement with its table names, built once
    /// when the adapter is.
    sql: Arc<Statements>,
}

impl fmt::Debug for MysqlAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = self.pool.connect_options();
        f.debug_struct("MysqlAdapter")
            .field("host", &options.get_host())
            .field("database", &self.database)
            .field("connections", &self.pool.size())
            .field("operation_timeout", &self.timeouts.operation)
            .field("layout", &self.sql.layout)
            .field("table_names", &self.sql.names)
            .finish()
    }
}

impl MysqlAdapter {
    /// Connects to the database named in `url`, e.g.
    /// `mysql://app:secret@127.0.0.1:3306/auth`, with a pool of up to 10
    /// connections and the default time limits. Call
    /// [`migrate`](Self::migrate) before first use.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(MysqlOptions::from_url(url)?).await
    }

    /// Connects with explicit options (another database, the pool size,
    /// creating the database, time limits) and checks that a first
    /// connection opens.
    ///
    /// Errors: `InvalidInput` (field `database`) if no database is named or
    /// its name is unusable; `InvalidInput` (field `layout`) for
    /// [`Layout::PgAdapter`], (field `table_names`) for unusable table
    /// names; `Backend` if the server cannot be reached, with
    /// `is_timeout()` true if it does not answer within the
    /// [`operation_timeout`](MysqlOptions::operation_timeout).
    pub async fn connect_with(options: MysqlOptions) -> Result<Self> {
        let sql = Arc::new(Statements::new(options.layout, &options.table_names)?);
        let database = options.database_name().ok_or_else(|| {
            AdapterError::invalid_input(
                "database",
                "no database named: put it in the URL or use MysqlOptions::namespace",
            )
        })?;
        let timeouts = options.timeouts;
        let connect = async {
            if options.create_database {
                create_database(&options.connect, database).await?;
            }
            options
                .pool_options()
                .connect_with(options.connect.clone())
                .await
                .map_err(AdapterError::backend)
        };
        let pool = guarded(timeouts, "connect", connect).await?;
        Ok(Self::with_timeouts(pool, timeouts, sql))
    }

    /// Pool options with the per-connection setup this adapter relies on
    /// (strict SQL mode) and the default lock and statement timeouts, for
    /// building a pool of your own to pass to [`from_pool`](Self::from_pool).
    /// [`MysqlOptions::pool_options`] does the same with other limits.
    pub fn pool_options() -> MySqlPoolOptions {
        session_pool_options(Timeouts::default())
            .acquire_timeout(MysqlOptions::DEFAULT_OPERATION_TIMEOUT)
    }

    /// Wraps an existing pool with the default time limits; its connections'
    /// default database is the one used. Its connections should run in
    /// strict SQL mode (MySQL 8 and MariaDB 10.2+ do by default;
    /// [`pool_options`](Self::pool_options) makes sure), or over-long values
    /// are truncated instead of refused.
    pub fn from_pool(pool: MySqlPool) -> Self {
        let sql = Statements::new(Layout::Prisma, &TableNames::of(Layout::Prisma))
            .expect("the default layout and names are valid");
        Self::with_timeouts(pool, Timeouts::default(), Arc::new(sql))
    }

    fn with_timeouts(pool: MySqlPool, timeouts: Timeouts, sql: Arc<Statements>) -> Self {
        let database = pool
            .connect_options()
            .get_database()
            .unwrap_or_default()
            .to_owned();
        Self {
            pool,
            database,
            timeouts,
            sql,
        }
    }

    /// Wraps an existing pool (best built from
    /// [`options.pool_options()`](MysqlOptions::pool_options)) with the time
    /// limits, layout and table names of `options`; the rest of `options` is
    /// not used.
    ///
    /// Errors: `InvalidInput` (fields `layout`, `table_names`) as for
    /// [`connect_with`](Self::connect_with).
    pub fn from_pool_with(pool: MySqlPool, options: &MysqlOptions) -> Result<Self> {
        let sql = Statements::new(options.layout, &options.table_names)?;
        Ok(Self::with_timeouts(pool, options.timeouts, Arc::new(sql)))
    }

    /// The table layout in use.
    pub fn layout(&self) -> Layout {
        self.sql.layout
    }

    /// The table names in use.
    pub fn table_names(&self) -> &TableNames {
        &self.sql.names
    }

    /// The underlying connection pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// The namespace: the database the pool's connections use (`""` for a
    /// pool whose connect options name none).
    pub fn namespace(&self) -> &str {
        &self.database
    }

    /// Removes the namespace and everything in it: `DROP DATABASE IF
    /// EXISTS` on the adapter's database (for a pool whose connect options
    /// name none, the connection's `DATABASE()`), then closes the pool.
    /// Every table in the database goes, not only this adapter's: meant for
    /// tests and tear-downs (the conformance tests call it after each case).
    /// Clones of this adapter stop working.
    ///
    /// Errors: `Backend` when the server refuses or no database is in use,
    /// within the [`migrate_timeout`](MysqlOptions::migrate_timeout).
    pub async fn drop_namespace(self) -> Result<()> {
        let drop = async {
            let database = if self.database.is_empty() {
                sqlx::query_scalar::<_, Option<String>>("SELECT DATABASE()")
                    .fetch_one(&self.pool)
                    .await
                    .map_err(AdapterError::backend)?
                    .ok_or_else(|| AdapterError::backend("the connections use no database"))?
            } else {
                self.database.clone()
            };
            let sql = format!("DROP DATABASE IF EXISTS {}", ident(&database));
            self.pool
                .execute(AssertSqlSafe(sql))
                .await
                .map_err(AdapterError::backend)?;
            Ok(())
        };
        // DDL waits for the metadata locks of everyone still using the
        // database: the migrate timeout bounds it.
        let limited = Timeouts {
            operation: self.timeouts.migrate,
            ..self.timeouts
        };
        let result = guarded(limited, "drop_namespace", drop).await;
        self.pool.close().await;
        result
    }

    /// Runs `call` as the public call `operation`: within the operation
    /// timeout, with the server's lock-wait and statement timeouts reported
    /// as timeouts.
    async fn guard<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        guarded(self.timeouts, operation, call).await
    }

    // ------------------------------------------------------------ migrate

    /// Creates the tables and indexes, or upgrades them to the latest
    /// version, then gives the key columns a NO PAD binary collation if the
    /// server has one; safe to run at every start and from any number of
    /// processes at once. Applied versions are recorded in
    /// [`MIGRATIONS_TABLE`]. Tables that Auth.js created first are kept
    /// (`CREATE TABLE IF NOT EXISTS`).
    ///
    /// With another [`Layout`] or other table names, it runs that layout's
    /// DDL (`CREATE TABLE IF NOT EXISTS`, under the same lock) with the
    /// configured names and records nothing in [`MIGRATIONS_TABLE`] (which
    /// belongs to the default tables). For [`Layout::Drizzle`] it then
    /// widens the value columns of tables Drizzle created first to the types
    /// of [`DRIZZLE_SCHEMA_SQL`] (`ALTER TABLE .. MODIFY`, values kept).
    ///
    /// One connection, taken out of the pool for the whole migration, holds
    /// the named lock `auth_core.migrate.<SHA1 of the database name>`
    /// (`GET_LOCK` with a positive timeout: MariaDB answers a negative one,
    /// which sqlx's own migration lock uses, with `NULL` at once and locks
    /// nothing), so concurrent callers run one after the other and the later
    /// ones find nothing left to do.
    ///
    /// Errors: `Backend` if the lock is not free within the
    /// [`migrate_timeout`](MysqlOptions::migrate_timeout) (or the server
    /// refuses it), or a statement fails.
    pub async fn migrate(&self) -> Result<()> {
        let timeouts = self.timeouts;
        let migrate = async {
            let conn = self.pool.acquire().await.map_err(AdapterError::backend)?;
            // Out of the pool: this connection's session settings change, and
            // closing it releases the lock whatever happens.
            let mut conn = conn.detach();
            let result = migrate_on(&mut conn, timeouts.migrate, &self.sql).await;
            // Closing also releases the lock if RELEASE_LOCK was not reached.
            let closed = conn.close().await;
            result?;
            closed.map_err(AdapterError::backend)
        };
        let limited = Timeouts {
            operation: timeouts.migrate,
            ..timeouts
        };
        guarded(limited, "migrate", migrate).await
    }

    // ------------------------------------------------------------ helpers

    /// The session `token`, if it exists and, with `now`, has not expired
    /// (`expires > now`).
    async fn find_session(
        &self,
        token: &str,
        now: Option<PrimitiveDateTime>,
    ) -> Result<Option<Session>> {
        let row = sqlx::query(self.sql.find_session.clone())
            .bind(token)
            .bind(token)
            .bind(now)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(AdapterError::backend)?;
        row.map(|row| {
            Ok(Session {
                session_token: token.to_owned(),
                user_id: get(&row, 0)?,
                expires: instant(&row, 1)?,
            })
        })
        .transpose()
    }

    /// Deletes the user in one transaction and returns its row, if any.
    ///
    /// All or nothing: the row lock keeps new sessions, accounts and
    /// authenticators of this user waiting on their foreign-key check until
    /// the delete (and its cascade) commits; then they fail as NotFound.
    async fn delete_user_row(&self, id: &str) -> sqlx::Result<Option<MySqlRow>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(self.sql.delete_user_select.clone())
            .bind(id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if row.is_some() {
            sqlx::query(self.sql.delete_user.clone())
                .bind(id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    async fn find_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        let row = sqlx::query(self.sql.find_authenticator.clone())
            .bind(credential_id)
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(AdapterError::backend)?;
        row.as_ref().map(authenticator_row).transpose()
    }
}

/// Runs `call` within `timeouts.operation`; a server lock-wait or statement
/// timeout, or no free pooled connection, becomes a timeout of `operation`.
async fn guarded<T>(
    timeouts: Timeouts,
    operation: &'static str,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    match with_timeout(timeouts.operation, operation, call).await {
        Err(AdapterError::Backend(source)) => {
            Err(match server_timeout(source.as_ref(), timeouts) {
                Some(after) => AdapterError::timed_out(operation, after),
                None => AdapterError::Backend(source),
            })
        }
        other => other,
    }
}

/// The lock name of `migrate()` for the connection's database: at most 64
/// characters whatever the database is called (MySQL's limit).
const MIGRATE_LOCK: &str = "CONCAT('auth_core.migrate.', SHA1(DATABASE()))";

/// The migration on its own connection: the lock, sqlx's migrator (with its
/// own lock off), the collation of the key columns, and the lock released.
async fn migrate_on(conn: &mut MySqlConnection, wait: Duration, sql: &Statements) -> Result<()> {
    // No statement time limit for DDL on this connection (it is closed
    // afterwards); the whole call is bounded by the migrate timeout.
    let unlimited = if is_mariadb(conn).await.map_err(AdapterError::backend)? {
        "SET SESSION max_statement_time = 0"
    } else {
        "SET SESSION max_execution_time = 0"
    };
    conn.execute(unlimited)
        .await
        .map_err(AdapterError::backend)?;
    let seconds = wait.as_secs().max(1);
    let got: Option<i64> =
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT GET_LOCK({MIGRATE_LOCK}, ?)")))
            .bind(seconds)
            .fetch_one(&mut *conn)
            .await
            .map_err(AdapterError::backend)?;
    match got {
        Some(1) => {}
        Some(_) => {
            return Err(AdapterError::backend(format!(
                "migrate: another process held the migration lock for more than {seconds} s \
                 (GET_LOCK returned 0); nothing was changed"
            )));
        }
        None => {
            return Err(AdapterError::backend(
                "migrate: the server refused the migration lock (GET_LOCK returned NULL); \
                 nothing was changed",
            ));
        }
    }

    if let Some(ddl) = &sql.ddl {
        // Instants read from TIMESTAMP columns being widened are converted
        // with the session time zone: UTC, as Drizzle writes them.
        conn.execute("SET SESSION time_zone = '+00:00'")
            .await
            .map_err(AdapterError::backend)?;
        for statement in ddl {
            // Built by `Statements::new` from this crate's DDL; table names
            // are quoted identifiers.
            conn.execute(AssertSqlSafe(statement.clone()))
                .await
                .map_err(AdapterError::backend)?;
        }
        if sql.layout == Layout::Drizzle {
            widen_columns(conn, &sql.names).await?;
        }
    } else {
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        // Our lock above; sqlx's would be GET_LOCK(name, -1), a no-op on MariaDB.
        migrator.set_locking(false);
        // `run_direct` on the connection itself: `run(&mut *conn)` trips the
        // "Acquire is not general enough" limitation inside a `Send` future.
        migrator
            .run_direct(None, &mut *conn, false)
            .await
            .map_err(AdapterError::backend)?;
    }
    convert_key_collations(conn, &sql.names).await?;

    sqlx::query(AssertSqlSafe(format!(
        "SELECT RELEASE_LOCK({MIGRATE_LOCK})"
    )))
    .execute(&mut *conn)
    .await
    .map_err(AdapterError::backend)?;
    Ok(())
}

/// The NO PAD binary collation of the server, if it has one.
async fn no_pad_collation(conn: &mut MySqlConnection) -> Result<Option<&'static str>> {
    let available: Vec<String> = sqlx::query_scalar(
        "SELECT COLLATION_NAME FROM information_schema.COLLATIONS \
         WHERE COLLATION_NAME IN (?, ?)",
    )
    .bind(NO_PAD_COLLATIONS[0])
    .bind(NO_PAD_COLLATIONS[1])
    .fetch_all(&mut *conn)
    .await
    .map_err(AdapterError::backend)?;
    Ok(NO_PAD_COLLATIONS
        .into_iter()
        .find(|name| available.iter().any(|a| a == name)))
}

/// Where `migrate()` keeps the foreign keys it dropped to convert a table,
/// until they are added again: a run that dies in between leaves them here,
/// and the next run adds them back first. The table exists only meanwhile.
const PENDING_FOREIGN_KEYS: &str = "_auth_core_pending_foreign_keys";

/// Text of an `information_schema` column, whatever its character set (MySQL
/// 8 reports some of them as binary strings).
fn text_at(row: &MySqlRow, index: usize) -> Result<String> {
    get::<Option<String>>(row, index).map(Option::unwrap_or_default)
}

/// A quoted identifier; backticks in it are doubled.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Adds back the foreign keys a previous `migrate()` dropped and did not add
/// again (it stopped half-way), then removes the bookkeeping table.
async fn restore_pending_foreign_keys(conn: &mut MySqlConnection) -> Result<()> {
    let pending: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
    )
    .bind(PENDING_FOREIGN_KEYS)
    .fetch_optional(&mut *conn)
    .await
    .map_err(AdapterError::backend)?;
    if pending.is_none() {
        return Ok(());
    }
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT `table_name`, `name`, `add_sql` FROM {}",
        ident(PENDING_FOREIGN_KEYS)
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(AdapterError::backend)?;
    let existing = foreign_keys(conn).await?;
    conn.execute("SET SESSION foreign_key_checks = 0")
        .await
        .map_err(AdapterError::backend)?;
    for row in &rows {
        let (table, name, add_sql) = (text_at(row, 0)?, text_at(row, 1)?, text_at(row, 2)?);
        if !existing
            .iter()
            .any(|fk| fk.table == table && fk.name == name)
        {
            // Written by an earlier run of this function from server metadata.
            conn.execute(AssertSqlSafe(add_sql))
                .await
                .map_err(AdapterError::backend)?;
        }
    }
    conn.execute("SET SESSION foreign_key_checks = 1")
        .await
        .map_err(AdapterError::backend)?;
    conn.execute(AssertSqlSafe(format!(
        "DROP TABLE {}",
        ident(PENDING_FOREIGN_KEYS)
    )))
    .await
    .map_err(AdapterError::backend)?;
    Ok(())
}

/// A foreign key of the current database.
struct ForeignKey {
    table: String,
    name: String,
    columns: Vec<String>,
    referenced_table: String,
    referenced_columns: Vec<String>,
    update_rule: String,
    delete_rule: String,
}

impl ForeignKey {
    fn drop_sql(&self) -> String {
        format!(
            "ALTER TABLE {} DROP FOREIGN KEY {}",
            ident(&self.table),
            ident(&self.name)
        )
    }

    fn add_sql(&self) -> Result<String> {
        let rule = |rule: &str| match rule {
            "CASCADE" | "SET NULL" | "SET DEFAULT" | "RESTRICT" | "NO ACTION" => {
                Ok(rule.to_owned())
            }
            other => Err(AdapterError::backend(format!(
                "migrate: unknown referential action {other:?} on foreign key {:?}",
                self.name
            ))),
        };
        let list = |names: &[String]| {
            names
                .iter()
                .map(|n| ident(n))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Ok(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) \
             ON DELETE {} ON UPDATE {}",
            ident(&self.table),
            ident(&self.name),
            list(&self.columns),
            ident(&self.referenced_table),
            list(&self.referenced_columns),
            rule(&self.delete_rule)?,
            rule(&self.update_rule)?,
        ))
    }
}

/// Every foreign key of the current database, its columns in order.
async fn foreign_keys(conn: &mut MySqlConnection) -> Result<Vec<ForeignKey>> {
    let rows = sqlx::query(
        "SELECT CONVERT(k.TABLE_NAME USING utf8mb4), CONVERT(k.CONSTRAINT_NAME USING utf8mb4), \
                CONVERT(k.COLUMN_NAME USING utf8mb4), \
                CONVERT(k.REFERENCED_TABLE_NAME USING utf8mb4), \
                CONVERT(k.REFERENCED_COLUMN_NAME USING utf8mb4), \
                CONVERT(r.UPDATE_RULE USING utf8mb4), CONVERT(r.DELETE_RULE USING utf8mb4) \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME \
          AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(AdapterError::backend)?;
    let mut keys: Vec<ForeignKey> = Vec::new();
    for row in &rows {
        let (table, name) = (text_at(row, 0)?, text_at(row, 1)?);
        let (column, referenced) = (text_at(row, 2)?, text_at(row, 4)?);
        match keys.last_mut() {
            Some(fk) if fk.table == table && fk.name == name => {
                fk.columns.push(column);
                fk.referenced_columns.push(referenced);
            }
            _ => keys.push(ForeignKey {
                table,
                name,
                columns: vec![column],
                referenced_table: text_at(row, 3)?,
                referenced_columns: vec![referenced],
                update_rule: text_at(row, 5)?,
                delete_rule: text_at(row, 6)?,
            }),
        }
    }
    Ok(keys)
}

/// Gives every table with a key column whose collation is not the server's
/// NO PAD binary collation that collation (`CONVERT TO`, which keeps each
/// column's type). Idempotent: tables already converted are left alone, so
/// a second run costs two queries.
///
/// Neither server lets a column of a foreign key change its collation (not
/// even with `foreign_key_checks = 0` on MariaDB), so the foreign keys that
/// touch a table to convert are dropped first and added back unchanged after
/// (their definitions are kept in [`PENDING_FOREIGN_KEYS`] meanwhile).
async fn convert_key_collations(conn: &mut MySqlConnection, names: &TableNames) -> Result<()> {
    restore_pending_foreign_keys(conn).await?;
    let Some(collation) = no_pad_collation(conn).await? else {
        return Ok(());
    };
    let rows = sqlx::query(
        "SELECT CONVERT(TABLE_NAME USING utf8mb4), CONVERT(COLUMN_NAME USING utf8mb4), \
                CONVERT(COLLATION_NAME USING utf8mb4) \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME IS NOT NULL \
           AND TABLE_NAME IN (?, ?, ?, ?, ?)",
    )
    .bind(&names.user)
    .bind(&names.account)
    .bind(&names.session)
    .bind(&names.verification_token)
    .bind(&names.authenticator)
    .fetch_all(&mut *conn)
    .await
    .map_err(AdapterError::backend)?;
    let mut tables: Vec<&str> = Vec::new();
    for row in &rows {
        let (table, column, current) = (text_at(row, 0)?, text_at(row, 1)?, text_at(row, 2)?);
        // A key column that is missing or not text is another tool's business.
        let all = names.all();
        if let Some(&(index, _)) = KEY_COLUMNS
            .iter()
            .find(|(t, c)| all[*t] == table && *c == column)
            && let table = all[index]
            && current != collation
            && !tables.contains(&table)
        {
            tables.push(table);
        }
    }
    if tables.is_empty() {
        return Ok(());
    }
    let touched: Vec<ForeignKey> = foreign_keys(conn)
        .await?
        .into_iter()
        .filter(|fk| {
            tables.contains(&fk.table.as_str()) || tables.contains(&fk.referenced_table.as_str())
        })
        .collect();
    if !touched.is_empty() {
        conn.execute(AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {} (`table_name` VARCHAR(64) NOT NULL, \
             `name` VARCHAR(64) NOT NULL, `add_sql` TEXT NOT NULL, \
             PRIMARY KEY (`table_name`, `name`)) \
             ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
            ident(PENDING_FOREIGN_KEYS)
        )))
        .await
        .map_err(AdapterError::backend)?;
        for fk in &touched {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {} (`table_name`, `name`, `add_sql`) VALUES (?, ?, ?)",
                ident(PENDING_FOREIGN_KEYS)
            )))
            .bind(&fk.table)
            .bind(&fk.name)
            .bind(fk.add_sql()?)
            .execute(&mut *conn)
            .await
            .map_err(AdapterError::backend)?;
        }
        for fk in &touched {
            conn.execute(AssertSqlSafe(fk.drop_sql()))
                .await
                .map_err(AdapterError::backend)?;
        }
    }
    for table in tables {
        // The table name is quoted; the collation is a constant of this crate.
        let sql = format!(
            "ALTER TABLE {} CONVERT TO CHARACTER SET utf8mb4 COLLATE {collation}",
            ident(table)
        );
        conn.execute(AssertSqlSafe(sql))
            .await
            .map_err(AdapterError::backend)?;
    }
    // Adds the foreign keys back and drops the bookkeeping table.
    restore_pending_foreign_keys(conn).await
}

/// `CREATE DATABASE IF NOT EXISTS`, over a connection to `information_schema`
/// (which every account can open) since the database may not exist yet.
async fn create_database(connect: &MySqlConnectOptions, name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 64 || name.contains('\0') || name.ends_with(' ') {
        return Err(AdapterError::invalid_input(
            "database",
            "a MySQL database name has 1 to 64 characters, no NUL and no trailing space",
        ));
    }
    let mut conn = connect
        .clone()
        .database("information_schema")
        .connect()
        .await
        .map_err(AdapterError::backend)?;
    // A quoted identifier is the one place SQL is built at run time: the name
    // is validated above and backticks in it are doubled.
    let sql = format!(
        "CREATE DATABASE IF NOT EXISTS `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
        name.replace('`', "``")
    );
    conn.execute(AssertSqlSafe(sql))
        .await
        .map_err(AdapterError::backend)?;
    conn.close().await.map_err(AdapterError::backend)?;
    Ok(())
}

// ------------------------------------------------------------ validation

/// `InvalidInput` for `field` unless `value` fits a `VARCHAR(255)` column
/// (255 characters in utf8mb4, whatever their bytes).
fn check_key(field: &'static str, value: &str) -> Result<()> {
    // Counting stops early: a 1 MiB value costs 256 steps.
    if value.chars().nth(KEY_CHARS).is_some() {
        return Err(AdapterError::invalid_input(
            field,
            format!("longer than {KEY_CHARS} characters, the size of its VARCHAR(255) column"),
        ));
    }
    Ok(())
}

fn check_optional_key(field: &'static str, value: Option<&str>) -> Result<()> {
    value.map_or(Ok(()), |v| check_key(field, v))
}

/// `InvalidInput` for `field` unless `value` fits a `TEXT` column (65,535
/// bytes).
fn check_text(field: &'static str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if v.len() > TEXT_BYTES => Err(AdapterError::invalid_input(
            field,
            format!(
                "{} bytes, more than the {TEXT_BYTES} bytes of its TEXT column",
                v.len()
            ),
        )),
        _ => Ok(()),
    }
}

/// The caller's clock, as the parameter that decides expiry (`expires > ?`).
fn now() -> Result<PrimitiveDateTime> {
    db_time("now", OffsetDateTime::now_utc())
}

/// The `Backend` error of a read-then-write loop that never won its write.
fn gave_up(operation: &str) -> AdapterError {
    AdapterError::backend(format!(
        "{operation}: the row changed between read and write {MAX_ATTEMPTS} times in a row; \
         gave up"
    ))
}

// ------------------------------------------------------------- row mapping

fn get<'r, T>(row: &'r MySqlRow, index: usize) -> Result<T>
where
    T: sqlx::Decode<'r, MySql> + sqlx::Type<MySql>,
{
    row.try_get(index).map_err(AdapterError::backend)
}

fn instant(row: &MySqlRow, index: usize) -> Result<OffsetDateTime> {
    Ok(get::<PrimitiveDateTime>(row, index)?.assume_utc())
}

fn optional_instant(row: &MySqlRow, index: usize) -> Result<Option<OffsetDateTime>> {
    Ok(get::<Option<PrimitiveDateTime>>(row, index)?.map(PrimitiveDateTime::assume_utc))
}

/// The UTC wall-clock time a DATETIME(3) column stores for `instant`,
/// truncated to the millisecond (the server would round).
///
/// Errors: `InvalidInput` outside years 1000–9999, the range MySQL and
/// MariaDB document for DATETIME.
fn db_time(field: &'static str, instant: OffsetDateTime) -> Result<PrimitiveDateTime> {
    let utc = check_year_range(field, truncate_to_millis(instant), 1000..=9999)?;
    Ok(PrimitiveDateTime::new(utc.date(), utc.time()))
}

/// A user from the columns `id`, `name`, `email`, `emailVerified`, `image`
/// starting at `first`.
fn user_at(row: &MySqlRow, first: usize) -> Result<User> {
    Ok(User {
        id: get(row, first)?,
        name: get(row, first + 1)?,
        email: get(row, first + 2)?,
        email_verified: optional_instant(row, first + 3)?,
        image: get(row, first + 4)?,
    })
}

fn user_row(row: &MySqlRow) -> Result<User> {
    user_at(row, 0)
}

fn account_row(row: &MySqlRow) -> Result<Account> {
    Ok(Account {
        user_id: get(row, 0)?,
        account_type: get::<String>(row, 1)?
            .parse::<AccountType>()
            .map_err(|e| AdapterError::stored_data("type", e.to_string()))?,
        provider: get(row, 2)?,
        provider_account_id: get(row, 3)?,
        refresh_token: get(row, 4)?,
        access_token: get(row, 5)?,
        expires_at: get(row, 6)?,
        token_type: get(row, 7)?,
        scope: get(row, 8)?,
        id_token: get(row, 9)?,
        session_state: get(row, 10)?,
    })
}

fn authenticator_row(row: &MySqlRow) -> Result<Authenticator> {
    Ok(Authenticator {
        credential_id: get(row, 0)?,
        user_id: get(row, 1)?,
        provider_account_id: get(row, 2)?,
        credential_public_key: get(row, 3)?,
        counter: u32::try_from(get::<i64>(row, 4)?)
            .map_err(|_| AdapterError::stored_data("counter", "outside the u32 range"))?,
        credential_device_type: get(row, 5)?,
        credential_backed_up: get(row, 6)?,
        transports: get(row, 7)?,
    })
}

// ------------------------------------------------------------- statements

/// Every statement of the adapter, written once for the Prisma names and
/// renamed for the configured ones when the adapter is built (never per
/// call; the default names keep the `&'static str` itself). The columns and
/// their types are the same in both layouts once `migrate()` has run, so
/// only the table names differ.
struct Statements {
    layout: Layout,
    names: TableNames,
    /// What `migrate()` runs instead of the versioned migrations; `None`
    /// for the default layout and names.
    ddl: Option<Vec<String>>,
    find_session: SqlStr,
    delete_user_select: SqlStr,
    delete_user: SqlStr,
    find_authenticator: SqlStr,
    create_user: SqlStr,
    get_user: SqlStr,
    get_user_by_email: SqlStr,
    get_user_by_account: SqlStr,
    update_user_select: SqlStr,
    update_user: SqlStr,
    link_account: SqlStr,
    unlink_account_select: SqlStr,
    unlink_account: SqlStr,
    get_account: SqlStr,
    list_accounts: SqlStr,
    create_session: SqlStr,
    get_session_and_user: SqlStr,
    update_session: SqlStr,
    delete_session: SqlStr,
    list_sessions: SqlStr,
    create_token: SqlStr,
    use_token_select: SqlStr,
    use_token_delete: SqlStr,
    create_authenticator: SqlStr,
    list_authenticators: SqlStr,
    update_counter: SqlStr,
    purge_sessions: SqlStr,
    purge_tokens: SqlStr,
}

impl Statements {
    fn new(layout: Layout, names: &TableNames) -> Result<Self> {
        if layout == Layout::PgAdapter {
            return Err(AdapterError::invalid_input(
                "layout",
                "the pg-adapter layout is PostgreSQL only; use Layout::Prisma or Layout::Drizzle",
            ));
        }
        names.check(MAX_NAME)?;
        let prisma = TableNames::of(Layout::Prisma);
        let ddl = match layout {
            Layout::Drizzle => Some(ddl_statements(
                DRIZZLE_SCHEMA_SQL,
                &TableNames::of(Layout::Drizzle),
                names,
            )),
            _ if *names != prisma => Some(ddl_statements(SCHEMA_SQL, &prisma, names)),
            _ => None,
        };
        let default = *names == prisma;
        let r = |template: &'static str| -> SqlStr {
            if default {
                template.into_sql_str()
            } else {
                // Table names are quoted identifiers, checked above.
                AssertSqlSafe(Arc::<str>::from(rename(template, &prisma, names))).into_sql_str()
            }
        };
        Ok(Self {
            layout,
            names: names.clone(),
            ddl,
            find_session: r("SELECT `userId`, `expires` FROM `Session` \
             WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY) \
               AND (? IS NULL OR `expires` > ?)"),
            delete_user_select: r(
                "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
             WHERE `id` = ? AND `id` = CAST(? AS BINARY) FOR UPDATE",
            ),
            delete_user: r("DELETE FROM `User` WHERE `id` = ? AND `id` = CAST(? AS BINARY)"),
            find_authenticator: r(
                "SELECT `credentialID`, `userId`, `providerAccountId`, `credentialPublicKey`, \
             CAST(`counter` AS SIGNED), `credentialDeviceType`, `credentialBackedUp`, \
             `transports` FROM `Authenticator` \
             WHERE `credentialID` = ? AND `credentialID` = CAST(? AS BINARY)",
            ),
            create_user: r(
                "INSERT INTO `User` (`id`, `name`, `email`, `emailVerified`, `image`) \
                 VALUES (?, ?, ?, ?, ?)",
            ),
            get_user: r(
                "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
                 WHERE `id` = ? AND `id` = CAST(? AS BINARY)",
            ),
            get_user_by_email: r(
                "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
                 WHERE `email` = ? AND `email` = CAST(? AS BINARY)",
            ),
            get_user_by_account: r(
                "SELECT u.`id`, u.`name`, u.`email`, u.`emailVerified`, u.`image` \
                 FROM `Account` a JOIN `User` u ON u.`id` = a.`userId` \
                 WHERE a.`provider` = ? AND a.`providerAccountId` = ? \
                   AND a.`provider` = CAST(? AS BINARY) \
                   AND a.`providerAccountId` = CAST(? AS BINARY)",
            ),
            update_user_select: r(
                "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
                 WHERE `id` = ? AND `id` = CAST(? AS BINARY) FOR UPDATE",
            ),
            update_user: r(
                "UPDATE `User` SET `name` = ?, `email` = ?, `emailVerified` = ?, \
                     `image` = ? WHERE `id` = ? AND `id` = CAST(? AS BINARY)",
            ),
            link_account: r(
                "INSERT INTO `Account` (`userId`, `type`, `provider`, `providerAccountId`, \
                 `refresh_token`, `access_token`, `expires_at`, `token_type`, `scope`, \
                 `id_token`, `session_state`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ),
            unlink_account_select: r(
                "SELECT `userId`, `type`, `provider`, `providerAccountId`, `refresh_token`, \
                 `access_token`, `expires_at`, `token_type`, `scope`, `id_token`, \
                 `session_state` FROM `Account` \
                 WHERE `provider` = ? AND `providerAccountId` = ? \
                   AND `provider` = CAST(? AS BINARY) \
                   AND `providerAccountId` = CAST(? AS BINARY) \
                 FOR UPDATE",
            ),
            unlink_account: r("DELETE FROM `Account` \
                 WHERE `provider` = ? AND `providerAccountId` = ? \
                   AND `provider` = CAST(? AS BINARY) \
                   AND `providerAccountId` = CAST(? AS BINARY)"),
            get_account: r(
                "SELECT `userId`, `type`, `provider`, `providerAccountId`, `refresh_token`, \
                 `access_token`, `expires_at`, `token_type`, `scope`, `id_token`, \
                 `session_state` FROM `Account` \
                 WHERE `provider` = ? AND `providerAccountId` = ? \
                   AND `provider` = CAST(? AS BINARY) \
                   AND `providerAccountId` = CAST(? AS BINARY)",
            ),
            list_accounts: r(
                "SELECT `userId`, `type`, `provider`, `providerAccountId`, `refresh_token`, \
                 `access_token`, `expires_at`, `token_type`, `scope`, `id_token`, \
                 `session_state` FROM `Account` \
                 WHERE `userId` = ? AND `userId` = CAST(? AS BINARY)",
            ),
            create_session: r(
                "INSERT INTO `Session` (`sessionToken`, `userId`, `expires`) VALUES (?, ?, ?)",
            ),
            get_session_and_user: r(
                "SELECT s.`expires`, u.`id`, u.`name`, u.`email`, u.`emailVerified`, \
                 u.`image` FROM `Session` s JOIN `User` u ON u.`id` = s.`userId` \
                 WHERE s.`sessionToken` = ? AND s.`sessionToken` = CAST(? AS BINARY) \
                   AND s.`expires` > ?",
            ),
            update_session: r("UPDATE `Session` SET `userId` = ?, `expires` = ? \
                     WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY) \
                       AND `userId` = CAST(? AS BINARY) AND `expires` = ?"),
            delete_session: r("DELETE FROM `Session` \
                     WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY) \
                       AND `userId` = CAST(? AS BINARY) AND `expires` = ?"),
            list_sessions: r("SELECT `sessionToken`, `userId`, `expires` FROM `Session` \
                 WHERE `userId` = ? AND `userId` = CAST(? AS BINARY) AND `expires` > ?"),
            create_token: r(
                "INSERT INTO `VerificationToken` (`identifier`, `token`, `expires`) \
                 VALUES (?, ?, ?)",
            ),
            use_token_select: r("SELECT `expires`, `expires` > ? FROM `VerificationToken` \
                     WHERE `identifier` = ? AND `token` = ? \
                       AND `identifier` = CAST(? AS BINARY) AND `token` = CAST(? AS BINARY)"),
            use_token_delete: r("DELETE FROM `VerificationToken` \
                     WHERE `identifier` = ? AND `token` = ? \
                       AND `identifier` = CAST(? AS BINARY) AND `token` = CAST(? AS BINARY) \
                       AND `expires` = ?"),
            create_authenticator: r(
                "INSERT INTO `Authenticator` (`credentialID`, `userId`, `providerAccountId`, \
                 `credentialPublicKey`, `counter`, `credentialDeviceType`, \
                 `credentialBackedUp`, `transports`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ),
            list_authenticators: r(
                "SELECT `credentialID`, `userId`, `providerAccountId`, `credentialPublicKey`, \
                 CAST(`counter` AS SIGNED), `credentialDeviceType`, `credentialBackedUp`, \
                 `transports` FROM `Authenticator` \
                 WHERE `userId` = ? AND `userId` = CAST(? AS BINARY)",
            ),
            update_counter: r("UPDATE `Authenticator` SET `counter` = ? \
                 WHERE `credentialID` = ? AND `credentialID` = CAST(? AS BINARY)"),
            purge_sessions: r(
                "DELETE FROM `Session` WHERE `expires` <= ? ORDER BY `expires` LIMIT 1000",
            ),
            purge_tokens: r("DELETE FROM `VerificationToken` WHERE `expires` <= ? \
                 ORDER BY `expires` LIMIT 1000"),
        })
    }
}

/// The statements of a DDL file (comment lines dropped) with its tables
/// renamed from `from` to `to`.
fn ddl_statements(sql: &str, from: &TableNames, to: &TableNames) -> Vec<String> {
    let code: String = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .map(|line| format!("{line}\n"))
        .collect();
    code.split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty())
        .map(|statement| rename(statement, from, to))
        .collect()
}

/// Whether an identifier ending in `tail` is an index or constraint name of
/// our DDL (`User_email_key`, `account_userId_user_id_fk`), not a column
/// such as `session_state`.
fn is_constraint_name(tail: &str) -> bool {
    ["_key", "_idx", "_fkey", "_fk", "_unique"]
        .iter()
        .any(|suffix| tail.ends_with(suffix))
}

/// `template` with every backquoted identifier that is one of `from`'s table
/// names replaced by the matching name of `to` (backticks doubled), and
/// every constraint name that starts with such a name and `_` (foreign key
/// names are unique per database) given the new name as its start, cut to
/// 64 characters with a hash if longer. One pass, so a name of `to` that is
/// also one of `from` is never renamed twice.
fn rename(template: &str, from: &TableNames, to: &TableNames) -> String {
    if from == to {
        return template.to_owned();
    }
    let pairs: Vec<(&str, &str)> = from.all().into_iter().zip(to.all()).collect();
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('`') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = &after[..close];
        let renamed = pairs.iter().find_map(|(old, new)| {
            if name == *old {
                Some((*new).to_owned())
            } else {
                name.strip_prefix(old)
                    .filter(|tail| tail.starts_with('_') && is_constraint_name(tail))
                    .map(|tail| fit_name(format!("{new}{tail}")))
            }
        });
        match renamed {
            Some(name) => out.push_str(&ident(&name)),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `name` if it has at most 64 characters; else its first 47 and a hash of
/// the whole, so long prefixes still give distinct constraint names.
fn fit_name(name: String) -> String {
    if name.chars().count() <= MAX_NAME {
        return name;
    }
    // FNV-1a: stable across builds and platforms.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let head: String = name.chars().take(MAX_NAME - 17).collect();
    format!("{head}_{hash:016x}")
}

/// The value columns `migrate()` widens in tables of [`Layout::Drizzle`]
/// that Drizzle created, by table (the order of [`TableNames::all`]): the
/// column, its definition in [`DRIZZLE_SCHEMA_SQL`], and the kind that
/// already holds every value of the contract.
const DRIZZLE_WIDENED: [(usize, &str, &str, Wide); 14] = [
    (0, "name", "TEXT NULL", Wide::Text),
    (0, "emailVerified", "DATETIME(3) NULL", Wide::Millis),
    (0, "image", "TEXT NULL", Wide::Text),
    (1, "refresh_token", "TEXT NULL", Wide::Text),
    (1, "access_token", "TEXT NULL", Wide::Text),
    (1, "expires_at", "BIGINT NULL", Wide::BigInt),
    (1, "scope", "TEXT NULL", Wide::Text),
    (1, "id_token", "TEXT NULL", Wide::Text),
    (1, "session_state", "TEXT NULL", Wide::Text),
    (2, "expires", "DATETIME(3) NOT NULL", Wide::Millis),
    (3, "expires", "DATETIME(3) NOT NULL", Wide::Millis),
    (4, "credentialPublicKey", "TEXT NOT NULL", Wide::Text),
    (4, "counter", "INT UNSIGNED NOT NULL", Wide::Unsigned),
    (4, "transports", "TEXT NULL", Wide::Text),
];

/// What a widened column must be.
#[derive(Clone, Copy)]
enum Wide {
    /// `TEXT` or longer.
    Text,
    /// `DATETIME(3)`: 1000–9999, milliseconds, no time zone conversion.
    Millis,
    /// `BIGINT`.
    BigInt,
    /// `INT UNSIGNED` or `BIGINT`.
    Unsigned,
}

impl Wide {
    fn holds(self, data_type: &str, column_type: &str, precision: Option<u64>) -> bool {
        match self {
            Wide::Text => matches!(data_type, "text" | "mediumtext" | "longtext"),
            Wide::Millis => data_type == "datetime" && precision == Some(3),
            Wide::BigInt => data_type == "bigint",
            Wide::Unsigned => {
                data_type == "bigint" || (data_type == "int" && column_type.contains("unsigned"))
            }
        }
    }
}

/// Widens the value columns of Drizzle tables created by Drizzle's own DDL
/// (`VARCHAR(255)`, `TIMESTAMP`, signed `INT`) to the types of
/// [`DRIZZLE_SCHEMA_SQL`], one `ALTER TABLE` per table that needs it;
/// stored values are kept (TIMESTAMPs are read in UTC). Columns that are
/// missing are another tool's business and left alone. Idempotent.
async fn widen_columns(conn: &mut MySqlConnection, names: &TableNames) -> Result<()> {
    let rows = sqlx::query(
        "SELECT CONVERT(TABLE_NAME USING utf8mb4), CONVERT(COLUMN_NAME USING utf8mb4), \
                CONVERT(LOWER(DATA_TYPE) USING utf8mb4), \
                CONVERT(LOWER(COLUMN_TYPE) USING utf8mb4), CAST(DATETIME_PRECISION AS UNSIGNED) \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?, ?, ?, ?)",
    )
    .bind(&names.user)
    .bind(&names.account)
    .bind(&names.session)
    .bind(&names.verification_token)
    .bind(&names.authenticator)
    .fetch_all(&mut *conn)
    .await
    .map_err(AdapterError::backend)?;
    let all = names.all();
    for (index, table) in all.iter().enumerate() {
        let mut changes = Vec::new();
        for &(_, column, definition, wide) in DRIZZLE_WIDENED.iter().filter(|w| w.0 == index) {
            for row in &rows {
                if text_at(row, 0)? == *table
                    && text_at(row, 1)? == column
                    && !wide.holds(
                        &text_at(row, 2)?,
                        &text_at(row, 3)?,
                        get::<Option<u64>>(row, 4)?,
                    )
                {
                    changes.push(format!("MODIFY {} {definition}", ident(column)));
                }
            }
        }
        if !changes.is_empty() {
            let sql = format!("ALTER TABLE {} {}", ident(table), changes.join(", "));
            conn.execute(AssertSqlSafe(sql))
                .await
                .map_err(AdapterError::backend)?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------- the adapter

// Every lookup by a key pairs the indexed equality (`col = ?`) with a byte
// comparison (`col = CAST(? AS BINARY)`), so 'a@x.com ' never finds
// 'a@x.com' even on a table whose collation pads with spaces (`utf8mb4_bin`,
// or a case-insensitive one another tool made). `migrate()` gives our key
// columns a NO PAD binary collation, so unique keys and foreign keys are
// byte-exact as well.
//
// Every method runs inside `guard`: it returns within the operation timeout.

#[async_trait]
impl Adapter for MysqlAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        self.guard("create_user", async {
            check_optional_key("email", user.email.as_deref())?;
            check_text("name", user.name.as_deref())?;
            check_text("image", user.image.as_deref())?;
            let verified = user
                .email_verified
                .map(|t| db_time("email_verified", t))
                .transpose()?;
            let id = new_id();
            sqlx::query(self.sql.create_user.clone())
                .bind(&id)
                .bind(&user.name)
                .bind(&user.email)
                .bind(verified)
                .bind(&user.image)
                .execute(&self.pool)
                .await
                .map_err(|e| write_error(e, Key::Email, &id))?;
            Ok(User {
                email_verified: verified.map(PrimitiveDateTime::assume_utc),
                ..user.into_user(id)
            })
        })
        .await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        self.guard("get_user", async {
            let row = sqlx::query(self.sql.get_user.clone())
                .bind(id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            row.as_ref().map(user_row).transpose()
        })
        .await
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.guard("get_user_by_email", async {
            let row = sqlx::query(self.sql.get_user_by_email.clone())
                .bind(email)
                .bind(email)
                .fetch_optional(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            row.as_ref().map(user_row).transpose()
        })
        .await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        self.guard("get_user_by_account", async {
            let row = sqlx::query(self.sql.get_user_by_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            row.as_ref().map(user_row).transpose()
        })
        .await
    }

    async fn update_user(&self, update: UserUpdate) -> Result<User> {
        self.guard("update_user", async {
            if let Some(email) = &update.email {
                check_optional_key("email", email.as_deref())?;
            }
            if let Some(name) = &update.name {
                check_text("name", name.as_deref())?;
            }
            if let Some(image) = &update.image {
                check_text("image", image.as_deref())?;
            }
            let verified = match update.email_verified {
                Some(Some(t)) => Some(Some(db_time("email_verified", t)?)),
                Some(None) => Some(None),
                None => None,
            };
            let not_found = || AdapterError::user_not_found(&update.id);
            // Without RETURNING: lock the row, write, and return the locked
            // row with the update applied, which is exactly what was stored.
            let mut tx = self.pool.begin().await.map_err(AdapterError::backend)?;
            let row = sqlx::query(self.sql.update_user_select.clone())
                .bind(&update.id)
                .bind(&update.id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(AdapterError::backend)?;
            let Some(current) = row.as_ref().map(user_row).transpose()? else {
                tx.rollback().await.map_err(AdapterError::backend)?;
                return Err(not_found());
            };
            let mut next = current.clone();
            UserUpdate {
                email_verified: verified.map(|v| v.map(PrimitiveDateTime::assume_utc)),
                ..update.clone()
            }
            .apply_to(&mut next);
            if next != current {
                sqlx::query(self.sql.update_user.clone())
                    .bind(&next.name)
                    .bind(&next.email)
                    .bind(
                        next.email_verified
                            .map(|t| db_time("email_verified", t))
                            .transpose()?,
                    )
                    .bind(&next.image)
                    .bind(&next.id)
                    .bind(&next.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| write_error(e, Key::Email, &update.id))?;
            }
            tx.commit().await.map_err(AdapterError::backend)?;
            Ok(next)
        })
        .await
    }

    async fn delete_user(&self, id: &str) -> Result<Option<User>> {
        self.guard("delete_user", async {
            // A deadlock victim's transaction is rolled back whole: try again.
            let mut attempts = 0;
            let row = loop {
                attempts += 1;
                match self.delete_user_row(id).await {
                    Err(e) if attempts < 3 && is_deadlock(&e) => continue,
                    done => break done.map_err(AdapterError::backend)?,
                }
            };
            row.as_ref().map(user_row).transpose()
        })
        .await
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        self.guard("link_account", async {
            check_key("user_id", &account.user_id)?;
            check_key("provider", &account.provider)?;
            check_key("provider_account_id", &account.provider_account_id)?;
            check_text("refresh_token", account.refresh_token.as_deref())?;
            check_text("access_token", account.access_token.as_deref())?;
            check_optional_key("token_type", account.token_type.as_deref())?;
            check_text("scope", account.scope.as_deref())?;
            check_text("id_token", account.id_token.as_deref())?;
            check_text("session_state", account.session_state.as_deref())?;
            sqlx::query(self.sql.link_account.clone())
                .bind(&account.user_id)
                .bind(account.account_type.as_str())
                .bind(&account.provider)
                .bind(&account.provider_account_id)
                .bind(&account.refresh_token)
                .bind(&account.access_token)
                .bind(account.expires_at)
                .bind(&account.token_type)
                .bind(&account.scope)
                .bind(&account.id_token)
                .bind(&account.session_state)
                .execute(&self.pool)
                .await
                .map_err(|e| write_error(e, Key::ProviderAccountId, &account.user_id))?;
            Ok(account)
        })
        .await
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        self.guard("unlink_account", async {
            let mut tx = self.pool.begin().await.map_err(AdapterError::backend)?;
            let row = sqlx::query(self.sql.unlink_account_select.clone())
                .bind(provider)
                .bind(provider_account_id)
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(AdapterError::backend)?;
            let Some(account) = row.as_ref().map(account_row).transpose()? else {
                tx.rollback().await.map_err(AdapterError::backend)?;
                return Ok(None);
            };
            sqlx::query(self.sql.unlink_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .bind(provider)
                .bind(provider_account_id)
                .execute(&mut *tx)
                .await
                .map_err(AdapterError::backend)?;
            tx.commit().await.map_err(AdapterError::backend)?;
            Ok(Some(account))
        })
        .await
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        self.guard("get_account", async {
            let row = sqlx::query(self.sql.get_account.clone())
                .bind(provider)
                .bind(provider_account_id)
                .bind(provider)
                .bind(provider_account_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            row.as_ref().map(account_row).transpose()
        })
        .await
    }

    async fn list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
        self.guard("list_accounts_by_user_id", async {
            // On `Account_userId_idx`; the binary comparison keeps the match
            // exact under any collation.
            let rows = sqlx::query(self.sql.list_accounts.clone())
                .bind(user_id)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            rows.iter().map(account_row).collect()
        })
        .await
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        self.guard("create_session", async {
            check_key("session_token", &session.session_token)?;
            check_key("user_id", &session.user_id)?;
            let expires = db_time("expires", session.expires)?;
            sqlx::query(self.sql.create_session.clone())
                .bind(&session.session_token)
                .bind(&session.user_id)
                .bind(expires)
                .execute(&self.pool)
                .await
                .map_err(|e| write_error(e, Key::SessionToken, &session.user_id))?;
            Ok(Session {
                expires: expires.assume_utc(),
                ..session
            })
        })
        .await
    }

    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>> {
        self.guard("get_session_and_user", async {
            let now = now()?;
            // One round trip: the join, with expiry judged by the caller's
            // clock.
            let row = sqlx::query(self.sql.get_session_and_user.clone())
                .bind(session_token)
                .bind(session_token)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            let Some(row) = row else {
                return Ok(None);
            };
            let user = user_at(&row, 1)?;
            let session = Session {
                session_token: session_token.to_owned(),
                user_id: user.id.clone(),
                expires: instant(&row, 0)?,
            };
            Ok(Some((session, user)))
        })
        .await
    }

    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        self.guard("update_session", async {
            if let Some(user_id) = &update.user_id {
                check_key("user_id", user_id)?;
            }
            let expires = update.expires.map(|t| db_time("expires", t)).transpose()?;
            let now = now()?;
            // Without RETURNING: read the live row, then write every column
            // on the condition that the row is still the one read. The
            // returned session is then exactly what was stored; if another
            // call changed the row in between, read again (a bounded number
            // of times). An expired session is not found, so never revived.
            for _ in 0..MAX_ATTEMPTS {
                let Some(current) = self.find_session(&update.session_token, Some(now)).await?
                else {
                    return Ok(None);
                };
                let next = Session {
                    session_token: current.session_token.clone(),
                    user_id: update
                        .user_id
                        .clone()
                        .unwrap_or_else(|| current.user_id.clone()),
                    expires: expires.map_or(current.expires, PrimitiveDateTime::assume_utc),
                };
                if next == current {
                    return Ok(Some(current));
                }
                let done = sqlx::query(self.sql.update_session.clone())
                    .bind(&next.user_id)
                    .bind(db_time("expires", next.expires)?)
                    .bind(&current.session_token)
                    .bind(&current.session_token)
                    .bind(&current.user_id)
                    .bind(db_time("expires", current.expires)?)
                    .execute(&self.pool)
                    .await;
                match done {
                    Ok(done) if matched(&done) => return Ok(Some(next)),
                    Ok(_) => {}
                    Err(e) if is_deadlock(&e) => {}
                    Err(e) => {
                        return Err(write_error(e, Key::SessionToken, &next.user_id));
                    }
                }
            }
            Err(gave_up("update_session"))
        })
        .await
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        self.guard("delete_session", async {
            // Read, then delete only if the row is still the one read, so the
            // session returned is exactly the one removed.
            for _ in 0..MAX_ATTEMPTS {
                let Some(current) = self.find_session(session_token, None).await? else {
                    return Ok(None);
                };
                let done = sqlx::query(self.sql.delete_session.clone())
                    .bind(session_token)
                    .bind(session_token)
                    .bind(&current.user_id)
                    .bind(db_time("expires", current.expires)?)
                    .execute(&self.pool)
                    .await;
                match done {
                    Ok(done) if matched(&done) => return Ok(Some(current)),
                    Ok(_) => {}
                    Err(e) if is_deadlock(&e) => {}
                    Err(e) => return Err(AdapterError::backend(e)),
                }
            }
            Err(gave_up("delete_session"))
        })
        .await
    }

    async fn list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        self.guard("list_sessions_by_user_id", async {
            let now = now()?;
            // On `Session_userId_idx`, with expiry judged by the caller's
            // clock.
            let rows = sqlx::query(self.sql.list_sessions.clone())
                .bind(user_id)
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            rows.iter()
                .map(|row| {
                    Ok(Session {
                        session_token: get(row, 0)?,
                        user_id: get(row, 1)?,
                        expires: instant(row, 2)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        self.guard("create_verification_token", async {
            check_key("identifier", &token.identifier)?;
            check_key("token", &token.token)?;
            let expires = db_time("expires", token.expires)?;
            sqlx::query(self.sql.create_token.clone())
                .bind(&token.identifier)
                .bind(&token.token)
                .bind(expires)
                .execute(&self.pool)
                .await
                .map_err(|e| write_error(e, Key::Token, ""))?;
            Ok(VerificationToken {
                expires: expires.assume_utc(),
                ..token
            })
        })
        .await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        self.guard("use_verification_token", async {
            let now = now()?;
            // Atomic without RETURNING or a transaction: of the callers that
            // read the row, only the one whose DELETE removes it (affected
            // rows = 1) returns it. Matching `expires` as well guarantees that
            // what is returned is the row that was deleted, even if the token
            // was used and issued again in between.
            for _ in 0..MAX_ATTEMPTS {
                let row = sqlx::query(self.sql.use_token_select.clone())
                    .bind(now)
                    .bind(identifier)
                    .bind(token)
                    .bind(identifier)
                    .bind(token)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(AdapterError::backend)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let expires: PrimitiveDateTime = get(&row, 0)?;
                let live: bool = get(&row, 1)?;
                let done = sqlx::query(self.sql.use_token_delete.clone())
                    .bind(identifier)
                    .bind(token)
                    .bind(identifier)
                    .bind(token)
                    .bind(expires)
                    .execute(&self.pool)
                    .await;
                let done = match done {
                    Ok(done) => done,
                    Err(e) if is_deadlock(&e) => continue,
                    Err(e) => return Err(AdapterError::backend(e)),
                };
                if matched(&done) {
                    // An expired token is consumed all the same, but not
                    // returned.
                    return Ok(live.then(|| VerificationToken {
                        identifier: identifier.to_owned(),
                        token: token.to_owned(),
                        expires: expires.assume_utc(),
                    }));
                }
            }
            Err(gave_up("use_verification_token"))
        })
        .await
    }

    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        self.guard("create_authenticator", async {
            check_key("credential_id", &authenticator.credential_id)?;
            check_key("user_id", &authenticator.user_id)?;
            check_key("provider_account_id", &authenticator.provider_account_id)?;
            check_text(
                "credential_public_key",
                Some(&authenticator.credential_public_key),
            )?;
            check_key(
                "credential_device_type",
                &authenticator.credential_device_type,
            )?;
            check_text("transports", authenticator.transports.as_deref())?;
            sqlx::query(self.sql.create_authenticator.clone())
                .bind(&authenticator.credential_id)
                .bind(&authenticator.user_id)
                .bind(&authenticator.provider_account_id)
                .bind(&authenticator.credential_public_key)
                .bind(authenticator.counter)
                .bind(&authenticator.credential_device_type)
                .bind(authenticator.credential_backed_up)
                .bind(&authenticator.transports)
                .execute(&self.pool)
                .await
                .map_err(|e| write_error(e, Key::CredentialId, &authenticator.user_id))?;
            Ok(authenticator)
        })
        .await
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        self.guard("get_authenticator", self.find_authenticator(credential_id))
            .await
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        self.guard("list_authenticators_by_user_id", async {
            let rows = sqlx::query(self.sql.list_authenticators.clone())
                .bind(user_id)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(AdapterError::backend)?;
            rows.iter().map(authenticator_row).collect()
        })
        .await
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator> {
        self.guard("update_authenticator_counter", async {
            let not_found = || {
                AdapterError::not_found(
                    Entity::Authenticator,
                    format!("credential id {credential_id:?}"),
                )
            };
            // Only the counter of an authenticator ever changes, so the row
            // read first plus the new counter is what the UPDATE leaves
            // stored.
            let current = self
                .find_authenticator(credential_id)
                .await?
                .ok_or_else(not_found)?;
            let done = sqlx::query(self.sql.update_counter.clone())
                .bind(counter)
                .bind(credential_id)
                .bind(credential_id)
                .execute(&self.pool)
                .await
                .map_err(|e| write_error(e, Key::CredentialId, &current.user_id))?;
            if !matched(&done) {
                return Err(not_found());
            }
            Ok(Authenticator { counter, ..current })
        })
        .await
    }

    async fn purge_expired(&self) -> Result<u64> {
        self.guard("purge_expired", async {
            let now = now()?;
            let mut purged = 0;
            for sql in [&self.sql.purge_sessions, &self.sql.purge_tokens] {
                loop {
                    let done = sqlx::query(sql.clone())
                        .bind(now)
                        .execute(&self.pool)
                        .await
                        .map_err(AdapterError::backend)?;
                    purged += done.rows_affected();
                    if done.rows_affected() < PURGE_BATCH {
                        break;
                    }
                }
            }
            Ok(purged)
        })
        .await
    }
}

/// Whether an UPDATE or DELETE found its row. sqlx connects with
/// `CLIENT_FOUND_ROWS`, so an UPDATE that matches a row counts it even when
/// it changes no value.
fn matched(done: &MySqlQueryResult) -> bool {
    done.rows_affected() > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_outside_datetime_range_are_invalid_input() {
        use time::macros::datetime;
        assert!(
            db_time("expires", datetime!(0999-12-31 23:59:59.999 UTC))
                .unwrap_err()
                .is_invalid_input()
        );
        assert_eq!(
            db_time("expires", datetime!(2030-01-01 01:00:00.123999 +01:00)).unwrap(),
            datetime!(2030-01-01 00:00:00.123)
        );
    }

    #[test]
    fn key_limits_count_characters_and_text_limits_count_bytes() {
        // 255 four-byte characters fit a utf8mb4 VARCHAR(255); 256 do not.
        assert!(check_key("email", &"😀".repeat(255)).is_ok());
        let err = check_key("email", &"a".repeat(256)).unwrap_err();
        assert!(matches!(
            err,
            AdapterError::InvalidInput { field: "email", .. }
        ));
        assert!(check_text("name", Some(&"a".repeat(65_535))).is_ok());
        let err = check_text("name", Some(&"é".repeat(32_768))).unwrap_err();
        assert!(matches!(
            err,
            AdapterError::InvalidInput { field: "name", .. }
        ));
        // The reason never repeats the value.
        let secret = format!("secret{}", "x".repeat(70_000));
        let err = check_text("id_token", Some(&secret)).unwrap_err();
        assert!(!format!("{err:?}").contains("secret"));
    }

    #[test]
    fn lock_waits_are_whole_seconds_rounded_up() {
        assert_eq!(lock_wait_seconds(Duration::ZERO), 1);
        assert_eq!(lock_wait_seconds(Duration::from_millis(1)), 1);
        assert_eq!(lock_wait_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(lock_wait_seconds(Duration::from_secs(5)), 5);
    }

    #[test]
    fn debug_of_options_hides_the_password() {
        let options = MysqlOptions::from_url("mysql://app:hunter2@db.example:3307/auth")
            .unwrap()
            .pool_size(3);
        let printed = format!("{options:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("auth") && printed.contains("3307"));
    }
}
