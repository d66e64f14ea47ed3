#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, NewUser, Result, Session, SessionUpdate, User,
    UserUpdate, VerificationToken, with_timeout,
};
use diesel::SqliteConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncMysqlConnection, AsyncPgConnection};

/// Diesel, for queries of your own on the adapter's connections.
pub use diesel;
/// diesel-async, whose connections and pools the adapter runs on.
pub use diesel_async;
/// diesel_migrations, whose embedded migrations [`DieselAdapter::migrate`]
/// runs.
pub use diesel_migrations;

mod checks;
mod errors;
mod migrate;
mod ops;
mod rows;
pub mod schema;

pub use checks::{MYSQL_TEXT_BYTES, MYSQL_VARCHAR_CHARS, POSTGRES_MAX_KEY_BYTES};
pub use migrate::{MYSQL_MIGRATIONS, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

use errors::{DbError, is_retryable, timeout_in};

/// SQLite through Diesel's own (blocking) connection, run on Tokio's
/// blocking threads by diesel-async's [`SyncConnectionWrapper`].
pub type AsyncSqliteConnection = SyncConnectionWrapper<SqliteConnection>;

/// How long one adapter call may take unless told otherwise.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server runs one statement unless told otherwise (capped
/// below the operation timeout, see [`DieselOptions::statement_timeout`]).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(9);
/// How long a statement waits for a row lock unless told otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long SQLite waits for another connection's write lock unless told
/// otherwise (`PRAGMA busy_timeout`).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`DieselAdapter::migrate`] may take unless told otherwise,
/// waiting for other processes' migrations included.
pub const DEFAULT_MIGRATE_TIMEOUT: Duration = Duration::from_secs(60);

/// How many times a call that the server rolled back to break a deadlock
/// (MySQL, PostgreSQL) is run again before its error is returned.
const DEADLOCK_RETRIES: u32 = 4;

// ----------------------------------------------------------------- backend

/// The database behind an adapter, chosen by the URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// PostgreSQL 12 or later (`postgres://`, `postgresql://`), through
    /// diesel-async's [`AsyncPgConnection`] (tokio-postgres).
    Postgres,
    /// MySQL 8 or MariaDB 10.11+ (`mysql://`, `mariadb://`), through
    /// diesel-async's [`AsyncMysqlConnection`] (mysql_async).
    Mysql,
    /// SQLite, compiled in (`sqlite://path`, `sqlite::memory:`), through
    /// Diesel's [`SqliteConnection`] on blocking threads
    /// ([`AsyncSqliteConnection`]).
    Sqlite,
}

impl Backend {
    /// The backend a URL's scheme names: `postgres`/`postgresql`,
    /// `mysql`/`mariadb`, `sqlite`.
    ///
    /// Errors: `InvalidInput` (field `url`) for any other scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::Mysql),
            "sqlite" => Ok(Self::Sqlite),
            _ => Err(AdapterError::invalid_input(
                "url",
                "the scheme must be postgres://, postgresql://, mysql://, mariadb:// or sqlite:",
            )),
        }
    }
}

// ------------------------------------------------------------------ limits

/// The time limits of an adapter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Each public call, waiting for a pooled connection included.
    pub operation: Duration,
    /// The server's statement limit (PostgreSQL `statement_timeout`,
    /// MariaDB `max_statement_time`, MySQL `max_execution_time`).
    pub statement: Duration,
    /// The server's lock wait (PostgreSQL `lock_timeout`, InnoDB
    /// `innodb_lock_wait_timeout`).
    pub lock: Duration,
    /// SQLite's `busy_timeout`.
    pub busy: Duration,
    /// The whole of `migrate()` and `drop_namespace()`.
    pub migrate: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            operation: DEFAULT_OPERATION_TIMEOUT,
            statement: DEFAULT_STATEMENT_TIMEOUT,
            lock: DEFAULT_LOCK_TIMEOUT,
            busy: DEFAULT_BUSY_TIMEOUT,
            migrate: DEFAULT_MIGRATE_TIMEOUT,
        }
    }
}

impl Limits {
    /// The limits as the servers get them: the statement, lock and busy
    /// limits below the operation timeout (less a tenth of it and at least a
    /// second, never below half of it), so the server gives up first and
    /// says so, and a statement the adapter no longer waits for does not
    /// complete later. As `adapter-postgres`.
    fn capped(self) -> Self {
        let cap = server_cap(self.operation);
        Self {
            statement: self.statement.min(cap),
            lock: self.lock.min(cap),
            busy: self.busy.min(cap),
            ..self
        }
    }

    fn check(&self) -> Result<()> {
        for (field, limit) in [
            ("operation_timeout", self.operation),
            ("statement_timeout", self.statement),
            ("lock_timeout", self.lock),
            ("busy_timeout", self.busy),
            ("migrate_timeout", self.migrate),
        ] {
            if limit.is_zero() || limit.as_millis() > i32::MAX as u128 {
                return Err(AdapterError::invalid_input(
                    field,
                    "must be between 1 ms and 2147483647 ms (about 24 days)",
                ));
            }
        }
        Ok(())
    }
}

fn server_cap(operation: Duration) -> Duration {
    let margin = (operation / 10).max(Duration::from_secs(1));
    operation
        .saturating_sub(margin)
        .max(operation / 2)
        .max(Duration::from_millis(1))
}

// ----------------------------------------------------------------- options

/// Which database, which namespace in it, how many connections and how long
/// anything may wait.
///
/// ```
/// use std::time::Duration;
/// use adapter_diesel::{Backend, DieselOptions};
///
/// let options = DieselOptions::from_url("postgres://app:secret@db.internal/app")?
///     .namespace("auth")
///     .pool_size(16)
///     .operation_timeout(Duration::from_secs(5));
/// assert_eq!(options.backend(), Backend::Postgres);
/// // Debug never shows the URL (it may hold a password).
/// assert!(!format!("{options:?}").contains("secret"));
/// # Ok::<(), auth_core::AdapterError>(())
/// ```
#[derive(Clone)]
pub struct DieselOptions {
    backend: Backend,
    /// The URL as given; for SQLite the file path (or `None` in memory).
    url: String,
    sqlite_path: Option<PathBuf>,
    namespace: Option<String>,
    pool_size: usize,
    create_database: bool,
    limits: Limits,
}

impl DieselOptions {
    /// Options for the database at `url`; its scheme picks the backend:
    ///
    /// - `postgres://user:password@host:port/database` (or `postgresql://`):
    ///   namespace (schema) `public`;
    /// - `mysql://user:password@host:port/database` (or `mariadb://`): the
    ///   namespace is the database in the URL;
    /// - `sqlite://path/to/file.db`, `sqlite:file.db`, `sqlite::memory:`
    ///   or `sqlite://:memory:`: the namespace is the file.
    ///
    /// Up to 10 connections (SQLite: 8), the default time limits.
    ///
    /// Errors: `InvalidInput` (field `url`) for another scheme or a URL
    /// that cannot be parsed.
    pub fn from_url(url: &str) -> Result<Self> {
        let backend = Backend::from_url(url)?;
        let mut options = Self {
            backend,
            url: url.to_owned(),
            sqlite_path: None,
            namespace: None,
            pool_size: 10,
            create_database: false,
            limits: Limits::default(),
        };
        match backend {
            Backend::Postgres => options.namespace = Some("public".to_owned()),
            Backend::Mysql => {
                let parsed = parse_url(url)?;
                let database = parsed.path().trim_start_matches('/');
                if !database.is_empty() {
                    options.namespace = Some(percent_decode(database)?);
                }
            }
            Backend::Sqlite => {
                let rest = &url["sqlite:".len()..];
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.contains('?') {
                    return Err(AdapterError::invalid_input(
                        "url",
                        "a sqlite URL takes no ?query; use DieselOptions' builder methods",
                    ));
                }
                options.pool_size = 8;
                return Ok(if path.is_empty() || path == ":memory:" {
                    Self::sqlite_in_memory()
                } else {
                    Self::sqlite(path)
                });
            }
        }
        Ok(options)
    }

    /// Options for the SQLite database file at `path`, created if missing
    /// (`":memory:"` means [`sqlite_in_memory`](Self::sqlite_in_memory)).
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        if path.as_os_str() == ":memory:" {
            return Self::sqlite_in_memory();
        }
        Self {
            backend: Backend::Sqlite,
            url: String::new(),
            namespace: Some(path.to_string_lossy().into_owned()),
            sqlite_path: Some(path),
            pool_size: 8,
            create_database: false,
            limits: Limits::default(),
        }
    }

    /// Options for a private in-memory SQLite database, shared by the
    /// adapter's connections and gone when the adapter is dropped (as
    /// `adapter-sqlite` does it: SQLite's `memdb` VFS under a random name).
    pub fn sqlite_in_memory() -> Self {
        Self {
            backend: Backend::Sqlite,
            url: String::new(),
            namespace: Some(":memory:".to_owned()),
            sqlite_path: None,
            pool_size: 8,
            create_database: false,
            limits: Limits::default(),
        }
    }

    /// The backend the URL picked.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The namespace: the schema that holds the tables on PostgreSQL
    /// (default `public`; set as every connection's `search_path`, and
    /// created by [`DieselAdapter::migrate`]), the database on MySQL
    /// (instead of the URL's), the file on SQLite (instead of the URL's).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        let namespace = namespace.into();
        if self.backend == Backend::Sqlite {
            return Self {
                pool_size: self.pool_size,
                create_database: self.create_database,
                limits: self.limits,
                ..Self::sqlite(namespace)
            };
        }
        self.namespace = Some(namespace);
        self
    }

    /// The most connections the pool opens (default 10; SQLite 8; at least 1).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// MySQL: create the database (utf8mb4) before connecting if it does not
    /// exist yet. Off by default; needs the `CREATE` privilege. No effect on
    /// the other backends (PostgreSQL's schema is created by `migrate()`,
    /// SQLite's file when it is opened).
    pub fn create_database_if_missing(mut self, create: bool) -> Self {
        self.create_database = create;
        self
    }

    /// How long one call of the adapter may take in all, waiting for a
    /// pooled connection or opening one included (default 10 s). A call
    /// that runs out of time returns a `Backend` error for which
    /// [`is_timeout`](AdapterError::is_timeout) is true.
    pub fn operation_timeout(mut self, limit: Duration) -> Self {
        self.limits.operation = limit;
        self
    }

    /// The longest one statement runs on the server (default 9 s):
    /// PostgreSQL's `statement_timeout`, MariaDB's `max_statement_time`,
    /// MySQL's `max_execution_time` (read-only `SELECT`s only). Capped
    /// below the operation timeout, so the server gives up first.
    pub fn statement_timeout(mut self, limit: Duration) -> Self {
        self.limits.statement = limit;
        self
    }

    /// How long a statement waits for a row lock another transaction holds
    /// (default 5 s): PostgreSQL's `lock_timeout`, InnoDB's
    /// `innodb_lock_wait_timeout` (whole seconds, rounded up).
    pub fn lock_timeout(mut self, limit: Duration) -> Self {
        self.limits.lock = limit;
        self
    }

    /// How long SQLite waits for another connection's write lock (`PRAGMA
    /// busy_timeout`, default 5 s).
    pub fn busy_timeout(mut self, limit: Duration) -> Self {
        self.limits.busy = limit;
        self
    }

    /// How long [`DieselAdapter::migrate`] (and `drop_namespace`) may take in
    /// all, waiting for another process's migration included (default 60 s).
    pub fn migrate_timeout(mut self, limit: Duration) -> Self {
        self.limits.migrate = limit;
        self
    }
}

/// Shows the backend, namespace and limits, never the URL (it may hold a
/// password).
impl fmt::Debug for DieselOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DieselOptions")
            .field("backend", &self.backend)
            .field("namespace", &self.namespace)
            .field("pool_size", &self.pool_size)
            .field("create_database", &self.create_database)
            .field("limits", &self.limits)
            .finish()
    }
}

fn parse_url(url: &str) -> Result<url::Url> {
    // The parser's message never repeats the URL.
    url::Url::parse(url).map_err(|e| AdapterError::invalid_input("url", e.to_string()))
}

/// A URL path segment with its `%XX` escapes decoded (`+` stays `+`).
fn percent_decode(text: &str) -> Result<String> {
    let bad = || AdapterError::invalid_input("url", "cannot decode the database name");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

// ------------------------------------------------------------------- pools

/// The diesel-async connection pool (deadpool) an adapter runs on, one per
/// backend. Build one yourself to share it with the rest of your
/// application, and hand it to [`DieselAdapter::from_pool`].
#[derive(Clone)]
pub enum DieselPool {
    /// A pool of [`AsyncPgConnection`]s.
    Postgres(Pool<AsyncPgConnection>),
    /// A pool of [`AsyncMysqlConnection`]s.
    Mysql(Pool<AsyncMysqlConnection>),
    /// A pool of [`AsyncSqliteConnection`]s.
    Sqlite(Pool<AsyncSqliteConnection>),
}

impl DieselPool {
    /// The backend of the pool's connections.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Mysql(_) => Backend::Mysql,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    fn close(&self) {
        match self {
            Self::Postgres(p) => p.close(),
            Self::Mysql(p) => p.close(),
            Self::Sqlite(p) => p.close(),
        }
    }

    fn size(&self) -> usize {
        match self {
            Self::Postgres(p) => p.status().size,
            Self::Mysql(p) => p.status().size,
            Self::Sqlite(p) => p.status().size,
        }
    }
}

impl From<Pool<AsyncPgConnection>> for DieselPool {
    fn from(pool: Pool<AsyncPgConnection>) -> Self {
        Self::Postgres(pool)
    }
}

impl From<Pool<AsyncMysqlConnection>> for DieselPool {
    fn from(pool: Pool<AsyncMysqlConnection>) -> Self {
        Self::Mysql(pool)
    }
}

impl From<Pool<AsyncSqliteConnection>> for DieselPool {
    fn from(pool: Pool<AsyncSqliteConnection>) -> Self {
        Self::Sqlite(pool)
    }
}

/// A connection checked out of a [`DieselPool`]. Lives on the stack for one
/// call, so its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Held {
    Postgres(Object<AsyncPgConnection>),
    Mysql(Object<AsyncMysqlConnection>),
    Sqlite(Object<AsyncSqliteConnection>),
}

impl Held {
    fn connection(&mut self) -> AnyConnection<'_> {
        match self {
            Held::Postgres(c) => AnyConnection::Postgres(c),
            Held::Mysql(c) => AnyConnection::Mysql(c),
            Held::Sqlite(c) => AnyConnection::Sqlite(c),
        }
    }
}

/// A connection of one of the three backends, borrowed: what
/// [`DieselAdapter::on`] runs the adapter's calls on, inside a transaction
/// of yours. Made with `From` from `&mut` [`AsyncPgConnection`],
/// [`AsyncMysqlConnection`] or [`AsyncSqliteConnection`], or from `&mut`
/// a pooled one (deadpool's `Object` of one).
pub enum AnyConnection<'c> {
    /// A PostgreSQL connection.
    Postgres(&'c mut AsyncPgConnection),
    /// A MySQL / MariaDB connection.
    Mysql(&'c mut AsyncMysqlConnection),
    /// An SQLite connection.
    Sqlite(&'c mut AsyncSqliteConnection),
}

impl<'c> From<&'c mut AsyncPgConnection> for AnyConnection<'c> {
    fn from(conn: &'c mut AsyncPgConnection) -> Self {
        Self::Postgres(conn)
    }
}

impl<'c> From<&'c mut AsyncMysqlConnection> for AnyConnection<'c> {
    fn from(conn: &'c mut AsyncMysqlConnection) -> Self {
        Self::Mysql(conn)
    }
}

impl<'c> From<&'c mut AsyncSqliteConnection> for AnyConnection<'c> {
    fn from(conn: &'c mut AsyncSqliteConnection) -> Self {
        Self::Sqlite(conn)
    }
}

/// A pooled connection (deadpool's `Object`), which diesel-async's
/// `transaction` hands its closure when called on one.
macro_rules! from_pooled {
    ($conn:ty, $variant:ident) => {
        impl<'c> From<&'c mut Object<$conn>> for AnyConnection<'c> {
            fn from(conn: &'c mut Object<$conn>) -> Self {
                Self::$variant(conn)
            }
        }
    };
}

from_pooled!(AsyncPgConnection, Postgres);
from_pooled!(AsyncMysqlConnection, Mysql);
from_pooled!(AsyncSqliteConnection, Sqlite);

impl fmt::Debug for AnyConnection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyConnection")
            .field(&self.backend())
            .finish()
    }
}

/// A deadpool pool of `$conn`s opened by `$setup` (an
/// `async fn(String, Limits) -> ConnectionResult<$conn>` in a box), each
/// within the operation timeout, and recycled without a test query (a
/// broken connection fails its next call, and deadpool drops it).
macro_rules! pool_of {
    ($conn:ty, $url:expr, $limits:expr, $size:expr, $setup:expr) => {{
        let limits: Limits = $limits;
        let setup = Arc::new($setup);
        let mut config = ManagerConfig::<$conn>::default();
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |url: &str| {
            let setup = setup.clone();
            let url = url.to_owned();
            Box::pin(async move {
                match tokio::time::timeout(limits.operation, setup(url, limits)).await {
                    Ok(result) => result,
                    Err(_) => Err(diesel::ConnectionError::BadConnection(format!(
                        "no connection within {:?}",
                        limits.operation
                    ))),
                }
            })
        });
        Pool::builder(AsyncDieselConnectionManager::<$conn>::new_with_config(
            $url, config,
        ))
        .max_size($size)
        .build()
        .map_err(AdapterError::backend)
    }};
}

// ------------------------------------------------------------------ adapter

/// The Diesel adapter: the [`Adapter`] trait on a diesel-async pool of
/// PostgreSQL, MySQL / MariaDB or SQLite connections, in the Auth.js
/// tables. Cheap to clone (the pool is shared). See the [crate docs](crate).
#[derive(Clone)]
pub struct DieselAdapter {
    pool: DieselPool,
    /// The schema (PostgreSQL), database (MySQL) or file (SQLite) the
    /// adapter set up; `None` for a pool built elsewhere.
    namespace: Option<String>,
    /// SQLite: the database file, if the adapter opened one.
    sqlite_path: Option<PathBuf>,
    limits: Limits,
    /// SQLite in memory: a connection outside the pool that keeps the
    /// database alive while the pool's connections come and go.
    _keeper: Option<Arc<Mutex<SqliteConnection>>>,
}

impl fmt::Debug for DieselAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DieselAdapter")
            .field("backend", &self.backend())
            .field("namespace", &self.namespace)
            .field("connections", &self.pool.size())
            .field("operation_timeout", &self.limits.operation)
            .finish()
    }
}

impl DieselAdapter {
    /// Connects to `url` with the default [`DieselOptions`]; the scheme
    /// picks the backend (`postgres://`, `mysql://`, `sqlite://`). Opens one
    /// connection to check the database answers. Call
    /// [`migrate`](Self::migrate) before first use.
    ///
    /// Errors: `InvalidInput` for a URL that cannot be used; `Backend` when
    /// the server cannot be reached, refuses the login or does not answer
    /// within the operation timeout (then
    /// [`is_timeout`](AdapterError::is_timeout) is true).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(DieselOptions::from_url(url)?).await
    }

    /// Connects with explicit options. Every connection of the pool gets the
    /// namespace and the server's time limits when it opens:
    ///
    /// - PostgreSQL: `search_path` (the schema), `statement_timeout`,
    ///   `lock_timeout`;
    /// - MySQL / MariaDB: the database, strict SQL mode,
    ///   `innodb_lock_wait_timeout` and the statement limit;
    /// - SQLite: `busy_timeout`, WAL, `foreign_keys = ON`.
    ///
    /// Errors: as [`connect`](Self::connect); `InvalidInput` for a time
    /// limit of zero or above `i32::MAX` milliseconds, an unusable
    /// namespace, or a MySQL URL that names no database.
    pub async fn connect_with(options: DieselOptions) -> Result<Self> {
        options.limits.check()?;
        let limits = options.limits.capped();
        let DieselOptions {
            backend,
            url,
            sqlite_path,
            namespace,
            pool_size,
            create_database,
            ..
        } = options;
        let mut keeper = None;
        let pool = match backend {
            Backend::Postgres => {
                let schema = namespace.clone().unwrap_or_else(|| "public".to_owned());
                check_schema_name(&schema)?;
                DieselPool::Postgres(pool_of!(
                    AsyncPgConnection,
                    url,
                    limits,
                    pool_size,
                    move |url: String, limits: Limits| {
                        let schema = schema.clone();
                        async move { setup::postgres(&url, &schema, limits).await }
                    }
                )?)
            }
            Backend::Mysql => {
                let database = namespace.clone().ok_or_else(|| {
                    AdapterError::invalid_input(
                        "database",
                        "no database named: put it in the URL or use DieselOptions::namespace",
                    )
                })?;
                let url = setup::mysql_url(&url, &database)?;
                if create_database {
                    with_timeout(
                        limits.operation,
                        "connect",
                        setup::create_mysql_database(&url, &database),
                    )
                    .await?;
                }
                DieselPool::Mysql(pool_of!(
                    AsyncMysqlConnection,
                    url,
                    limits,
                    pool_size,
                    |url: String, limits: Limits| async move { setup::mysql(&url, limits).await }
                )?)
            }
            Backend::Sqlite => {
                let target = match &sqlite_path {
                    Some(path) => path.to_string_lossy().into_owned(),
                    None => {
                        // Every connection that opens this name (starting
                        // with `/`) shares one database of the `memdb` VFS,
                        // which lives as long as one of them is open.
                        let uri = format!(
                            "file:/auth-core-diesel-{}?vfs=memdb",
                            uuid::Uuid::new_v4().simple()
                        );
                        let conn = setup::sqlite_keeper(uri.clone(), limits).await?;
                        keeper = Some(Arc::new(Mutex::new(conn)));
                        uri
                    }
                };
                if target.is_empty() {
                    return Err(AdapterError::invalid_input("path", "an empty path"));
                }
                if sqlite_path.is_some() && setup::is_private_per_connection(&target) {
                    return Err(AdapterError::invalid_input(
                        "path",
                        "this path opens a database private to each connection; use \
                         DieselOptions::sqlite_in_memory() for an in-memory database",
                    ));
                }
                let in_memory = sqlite_path.is_none();
                DieselPool::Sqlite(pool_of!(
                    AsyncSqliteConnection,
                    target,
                    limits,
                    pool_size,
                    move |url: String, limits: Limits| async move {
                        setup::sqlite(&url, limits, in_memory).await
                    }
                )?)
            }
        };
        let adapter = Self {
            pool,
            namespace,
            sqlite_path,
            limits,
            _keeper: keeper,
        };
        // One connection, to check that the database answers.
        adapter
            .run("connect", async {
                adapter.checkout().await?;
                Ok(())
            })
            .await?;
        Ok(adapter)
    }

    /// An adapter on your application's existing diesel-async pool (a
    /// deadpool [`Pool`] of [`AsyncPgConnection`], [`AsyncMysqlConnection`]
    /// or [`AsyncSqliteConnection`], or a [`DieselPool`]), with the default
    /// time limits.
    ///
    /// The pool's connections are used as they are: the namespace is
    /// whatever they point at (PostgreSQL: their `search_path`; MySQL: the
    /// URL's database; SQLite: the file), and the server-side limits are
    /// theirs. SQLite connections must have `PRAGMA foreign_keys = ON`
    /// (Diesel's `SqliteConnection` turns it on) and should have a busy
    /// timeout; MySQL connections should run in strict SQL mode (the
    /// default of MySQL 8 and MariaDB 10.2+). Each call is still bounded by
    /// the operation timeout (10 s; see
    /// [`with_operation_timeout`](Self::with_operation_timeout)).
    pub fn from_pool(pool: impl Into<DieselPool>) -> Self {
        Self {
            pool: pool.into(),
            namespace: None,
            sqlite_path: None,
            limits: Limits::default(),
            _keeper: None,
        }
    }

    /// The same adapter with another limit on each call (see
    /// [`DieselOptions::operation_timeout`]); meant for an adapter
    /// [from a pool](Self::from_pool). A zero limit is raised to 1 ms.
    pub fn with_operation_timeout(mut self, limit: Duration) -> Self {
        self.limits.operation = limit.max(Duration::from_millis(1));
        self
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// The underlying pool, for queries of your own (with [`schema`]).
    pub fn pool(&self) -> &DieselPool {
        &self.pool
    }

    /// The namespace: the schema (PostgreSQL), database (MySQL) or file
    /// (SQLite; `":memory:"` in memory) the adapter was connected to, or
    /// `""` for an adapter [from a pool](Self::from_pool).
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }

    /// The adapter's calls on `conn`, a connection of yours: inside your
    /// own transaction, they commit or roll back with it. See
    /// [`OnConnection`] and the crate docs for an example.
    ///
    /// The calls keep every promise of the [`Adapter`] trait, within the
    /// adapter's operation timeout; where a call needs a transaction of its
    /// own (MySQL's lock-then-write calls) it nests one (a `SAVEPOINT`).
    /// `conn` must be of the adapter's backend and see the same tables.
    pub fn on<'c>(&self, conn: impl Into<AnyConnection<'c>>) -> OnConnection<'c> {
        OnConnection {
            conn: tokio::sync::Mutex::new(conn.into()),
            limits: self.limits,
        }
    }

    /// Removes the namespace and everything in it, then closes the pool:
    /// `DROP SCHEMA ... CASCADE` (PostgreSQL), `DROP DATABASE` (MySQL), the
    /// file and its `-wal`/`-shm` companions (SQLite; nothing for an
    /// in-memory database). Meant for tests and tear-downs (the conformance
    /// tests call it after each case). Clones of this adapter stop working.
    ///
    /// Errors: `Backend` when the server refuses, or for an adapter [from a
    /// pool](Self::from_pool) (whose namespace it does not know), within
    /// the migrate timeout.
    pub async fn drop_namespace(self) -> Result<()> {
        let limits = self.limits;
        let result = with_timeout(limits.migrate, "drop_namespace", async {
            match &self.namespace {
                None => Err(AdapterError::backend(
                    "drop_namespace: an adapter from a pool does not know its namespace",
                )),
                Some(namespace) => migrate::drop_namespace(self.checkout().await?, namespace).await,
            }
        })
        .await;
        self.pool.close();
        if let Some(path) = &self.sqlite_path {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let file = PathBuf::from(format!("{}{suffix}", path.display()));
                match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(AdapterError::backend(e));
                    }
                    _ => {}
                }
            }
        }
        result
    }

    /// A connection from the pool.
    async fn checkout(&self) -> Result<Held> {
        fn pool_error(e: PoolError) -> AdapterError {
            use diesel_async::pooled_connection::PoolError as Setup;
            use diesel_async::pooled_connection::deadpool::PoolError as Deadpool;
            let message = match e {
                Deadpool::Backend(Setup::ConnectionError(e)) => e.to_string(),
                Deadpool::Backend(Setup::QueryError(e)) => e.to_string(),
                other => other.to_string(),
            };
            AdapterError::backend(DbError {
                message: format!("cannot open a connection: {message}"),
                timeout: None,
            })
        }
        Ok(match &self.pool {
            DieselPool::Postgres(p) => Held::Postgres(p.get().await.map_err(pool_error)?),
            DieselPool::Mysql(p) => Held::Mysql(p.get().await.map_err(pool_error)?),
            DieselPool::Sqlite(p) => Held::Sqlite(p.get().await.map_err(pool_error)?),
        })
    }

    /// Runs one call within the operation timeout, reporting the server's
    /// timeouts as timeouts of `operation` too.
    async fn run<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        run_limited(&self.limits, operation, call).await
    }
}

async fn run_limited<T>(
    limits: &Limits,
    operation: &'static str,
    call: impl Future<Output = Result<T>>,
) -> Result<T> {
    with_timeout(limits.operation, operation, call)
        .await
        .map_err(|e| match timeout_in(&e) {
            Some(after) => AdapterError::timed_out(operation, after),
            None => e,
        })
}

use std::future::Future;

/// A PostgreSQL schema name the adapter can quote and set.
fn check_schema_name(schema: &str) -> Result<()> {
    if schema.is_empty() || schema.len() > 63 || schema.contains('\0') {
        return Err(AdapterError::invalid_input(
            "schema",
            "must be 1 to 63 bytes without NUL",
        ));
    }
    if schema.starts_with("pg_") {
        return Err(AdapterError::invalid_input(
            "schema",
            "the prefix pg_ is reserved for PostgreSQL's own schemas",
        ));
    }
    Ok(())
}

mod setup;

// ------------------------------------------------------- your transaction

/// The adapter's calls on one connection of yours, made by
/// [`DieselAdapter::on`]: an [`Adapter`] whose every call runs on that
/// connection, inside whatever transaction it is in.
///
/// ```no_run
/// use adapter_diesel::diesel_async::{AsyncConnection, AsyncPgConnection};
/// use adapter_diesel::{DieselAdapter, TransactionError};
/// use auth_core::{Adapter, NewUser};
///
/// # async fn run(adapter: DieselAdapter, conn: &mut AsyncPgConnection) -> Result<(), TransactionError> {
/// // A user and your own row for it, both or neither.
/// conn.transaction::<_, TransactionError, _>(async |conn| {
///     let user = adapter
///         .on(&mut *conn)
///         .create_user(NewUser {
///             email: Some("ada@example.com".into()),
///             ..NewUser::default()
///         })
///         .await?;
///     // ... your own Diesel statements on `conn`, e.g. a profile row
///     // for `user.id`; an error here rolls the user back too.
///     let _ = user;
///     Ok(())
/// })
/// .await
/// # }
/// ```
///
/// The calls take turns on the connection (a mutex), so sharing an
/// `OnConnection` between tasks is safe but serial. A call that runs out of
/// time is abandoned half-way: roll the transaction back.
pub struct OnConnection<'c> {
    conn: tokio::sync::Mutex<AnyConnection<'c>>,
    limits: Limits,
}

impl fmt::Debug for OnConnection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnConnection")
            .field("operation_timeout", &self.limits.operation)
            .finish_non_exhaustive()
    }
}

/// The error of a transaction that mixes adapter calls and Diesel
/// statements: diesel-async's `transaction` needs an error type that a
/// Diesel error converts into, and `?` on an adapter call needs one that an
/// [`AdapterError`] converts into. This is both.
#[derive(Debug)]
pub enum TransactionError {
    /// An adapter call failed.
    Adapter(AdapterError),
    /// A Diesel statement (or the transaction itself) failed.
    Diesel(diesel::result::Error),
}

impl fmt::Display for TransactionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Adapter(e) => e.fmt(f),
            Self::Diesel(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TransactionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Adapter(e) => Some(e),
            Self::Diesel(e) => Some(e),
        }
    }
}

impl From<AdapterError> for TransactionError {
    fn from(e: AdapterError) -> Self {
        Self::Adapter(e)
    }
}

impl From<diesel::result::Error> for TransactionError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Diesel(e)
    }
}

// --------------------------------------------------------------- the trait

/// A call on a pooled connection, run again (a bounded number of times)
/// when the server rolled it back to break a deadlock.
macro_rules! on_pool {
    ($self:ident, $op:literal, |$c:ident, $l:ident| $body:expr) => {{
        let this = $self;
        this.run($op, async {
            let mut attempt = 0;
            loop {
                let mut held = this.checkout().await?;
                let mut $c = held.connection();
                let $l = &this.limits;
                match $body.await {
                    Err(e) if attempt < DEADLOCK_RETRIES && is_retryable(&e) => attempt += 1,
                    other => break other,
                }
            }
        })
        .await
    }};
}

/// A call on the caller's connection (no retry: the server rolled back the
/// caller's whole transaction).
macro_rules! on_connection {
    ($self:ident, $op:literal, |$c:ident, $l:ident| $body:expr) => {{
        let this = $self;
        run_limited(&this.limits, $op, async {
            let mut $c = this.conn.lock().await;
            let $l = &this.limits;
            $body.await
        })
        .await
    }};
}

/// The [`Adapter`] impl of [`DieselAdapter`] and [`OnConnection`]: each
/// method is one call of `AnyConnection`'s (in `ops.rs`).
macro_rules! adapter_impl {
    ([$($generics:tt)*] $ty:ty, $call:ident) => {
        /// Every call runs within the operation timeout (see
        /// [`DieselOptions::operation_timeout`]).
        #[async_trait]
        impl $($generics)* Adapter for $ty {
            async fn create_user(&self, user: NewUser) -> Result<User> {
                $call!(self, "create_user", |c, l| c.create_user(l, user.clone()))
            }

            async fn get_user(&self, id: &str) -> Result<Option<User>> {
                $call!(self, "get_user", |c, l| c.get_user(l, id))
            }

            async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
                $call!(self, "get_user_by_email", |c, l| c.get_user_by_email(l, email))
            }

            async fn get_user_by_account(
                &self,
                provider: &str,
                provider_account_id: &str,
            ) -> Result<Option<User>> {
                $call!(self, "get_user_by_account", |c, l| c
                    .get_user_by_account(l, provider, provider_account_id))
            }

            async fn update_user(&self, update: UserUpdate) -> Result<User> {
                $call!(self, "update_user", |c, l| c.update_user(l, update.clone()))
            }

            async fn delete_user(&self, id: &str) -> Result<Option<User>> {
                $call!(self, "delete_user", |c, l| c.delete_user(l, id))
            }

            async fn link_account(&self, account: Account) -> Result<Account> {
                $call!(self, "link_account", |c, l| c.link_account(l, account.clone()))
            }

            async fn unlink_account(
                &self,
                provider: &str,
                provider_account_id: &str,
            ) -> Result<Option<Account>> {
                $call!(self, "unlink_account", |c, l| c
                    .unlink_account(l, provider, provider_account_id))
            }

            async fn get_account(
                &self,
                provider: &str,
                provider_account_id: &str,
            ) -> Result<Option<Account>> {
                $call!(self, "get_account", |c, l| c
                    .get_account(l, provider, provider_account_id))
            }

            async fn list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
                $call!(self, "list_accounts_by_user_id", |c, l| c
                    .list_accounts_by_user_id(l, user_id))
            }

            async fn create_session(&self, session: Session) -> Result<Session> {
                $call!(self, "create_session", |c, l| c.create_session(l, session.clone()))
            }

            async fn get_session_and_user(
                &self,
                session_token: &str,
            ) -> Result<Option<(Session, User)>> {
                $call!(self, "get_session_and_user", |c, l| c
                    .get_session_and_user(l, session_token))
            }

            async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
                $call!(self, "update_session", |c, l| c.update_session(l, update.clone()))
            }

            async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
                $call!(self, "delete_session", |c, l| c.delete_session(l, session_token))
            }

            async fn list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
                $call!(self, "list_sessions_by_user_id", |c, l| c
                    .list_sessions_by_user_id(l, user_id))
            }

            async fn create_verification_token(
                &self,
                token: VerificationToken,
            ) -> Result<VerificationToken> {
                $call!(self, "create_verification_token", |c, l| c
                    .create_verification_token(l, token.clone()))
            }

            async fn use_verification_token(
                &self,
                identifier: &str,
                token: &str,
            ) -> Result<Option<VerificationToken>> {
                $call!(self, "use_verification_token", |c, l| c
                    .use_verification_token(l, identifier, token))
            }

            async fn create_authenticator(
                &self,
                authenticator: Authenticator,
            ) -> Result<Authenticator> {
                $call!(self, "create_authenticator", |c, l| c
                    .create_authenticator(l, authenticator.clone()))
            }

            async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
                $call!(self, "get_authenticator", |c, l| c
                    .get_authenticator(l, credential_id))
            }

            async fn list_authenticators_by_user_id(
                &self,
                user_id: &str,
            ) -> Result<Vec<Authenticator>> {
                $call!(self, "list_authenticators_by_user_id", |c, l| c
                    .list_authenticators_by_user_id(l, user_id))
            }

            async fn update_authenticator_counter(
                &self,
                credential_id: &str,
                counter: u32,
            ) -> Result<Authenticator> {
                $call!(self, "update_authenticator_counter", |c, l| c
                    .update_authenticator_counter(l, credential_id, counter))
            }

            async fn purge_expired(&self) -> Result<u64> {
                $call!(self, "purge_expired", |c, l| c.purge_expired(l))
            }
        }
    };
}

adapter_impl!([] DieselAdapter, on_pool);
adapter_impl!([<'c>] OnConnection<'c>, on_connection);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_picks_the_backend_and_the_namespace() {
        let pg = DieselOptions::from_url("postgresql://app:pw@db/app").unwrap();
        assert_eq!(
            (pg.backend(), pg.namespace.as_deref()),
            (Backend::Postgres, Some("public"))
        );
        let my = DieselOptions::from_url("mariadb://root:pw@db:3306/auth%20db").unwrap();
        assert_eq!(
            (my.backend(), my.namespace.as_deref()),
            (Backend::Mysql, Some("auth db"))
        );
        assert_eq!(
            setup::mysql_url("mariadb://root:pw@db:3306/x", "auth db").unwrap(),
            "mysql://root:pw@db:3306/auth%20db"
        );
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let lite = DieselOptions::from_url(url).unwrap();
            assert_eq!(lite.sqlite_path, None, "{url}");
        }
        let file = DieselOptions::from_url("sqlite://data/auth.db").unwrap();
        assert_eq!(file.sqlite_path, Some(PathBuf::from("data/auth.db")));
        assert!(
            DieselOptions::from_url("redis://x")
                .unwrap_err()
                .is_invalid_input()
        );
        let secret = DieselOptions::from_url("mysql://root:hunter2@db/app").unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn server_limits_stay_below_the_operation_timeout() {
        let limits = Limits::default().capped();
        assert_eq!(limits.statement, Duration::from_secs(9));
        let tight = Limits {
            operation: Duration::from_secs(2),
            ..Limits::default()
        }
        .capped();
        assert_eq!(tight.statement, Duration::from_secs(1));
        assert!(
            Limits {
                lock: Duration::ZERO,
                ..Limits::default()
            }
            .check()
            .is_err()
        );
    }
}
