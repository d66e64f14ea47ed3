#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::timestamp::{
    check_year_range, format_iso, from_unix_millis, parse_iso, to_unix_millis, truncate_to_millis,
};
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Result, Session,
    SessionUpdate, User, UserUpdate, VerificationToken, new_id, with_timeout,
};
use deadpool_sqlite::{Hook, HookError, Pool, PoolError, Runtime};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

/// The table layouts and names this adapter can use; see
/// [`SqliteOptions::layout`] and the crate docs' "Sharing a database with
/// Auth.js".
pub use auth_core::layout::{Layout, TableNames};

/// The pool crate this adapter is built on, to build a [`Pool`] of the
/// matching version for [`SqliteAdapter::from_pool`].
pub use deadpool_sqlite;
/// The SQLite driver this adapter is built on (bundled SQLite), for queries
/// of your own on the adapter's [`pool`](SqliteAdapter::pool).
pub use rusqlite;

/// The schema as plain SQL, for teams that run their own migration tool. It
/// is migration 1 of [`SqliteAdapter::migrate`].
pub const SCHEMA_SQL: &str = include_str!("../migrations/0001_init.sql");

/// The schema version [`SqliteAdapter::migrate`] brings a database to, kept
/// in SQLite's `user_version`.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Migration `i` brings `user_version` from `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[SCHEMA_SQL];

/// The tables of [`Layout::Drizzle`] as plain SQL: `@auth/drizzle-adapter`'s
/// default SQLite schema, as `drizzle-kit` creates it (plus two indexes on
/// `userId` that Drizzle does not create and does not mind).
/// [`SqliteAdapter::migrate`] runs it with the configured table names.
pub const DRIZZLE_SCHEMA_SQL: &str = include_str!("../layouts/drizzle.sql");

/// The longest table name the options accept (SQLite itself has no limit).
const MAX_TABLE_NAME: usize = 255;

/// How many expired rows [`Adapter::purge_expired`] deletes per statement, so
/// a large purge never holds the write lock for long.
const PURGE_BATCH: i64 = 1000;

/// The default [`SqliteOptions::operation_timeout`].
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The default [`SqliteOptions::busy_timeout`].
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

// ------------------------------------------------------------------ options

/// Where the database lives and how it is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    /// The database file; `None` for a private in-memory database. The path
    /// `:memory:` means the same as `None`.
    pub path: Option<PathBuf>,
    /// Connections in the pool (default 8 for a file, 1 for an in-memory
    /// database). All connections of an in-memory adapter share its one
    /// database.
    pub pool_size: usize,
    /// How long a statement waits for another connection's (or process's)
    /// lock before it fails with a timeout error (default 5 s, SQLite's
    /// `busy_timeout`). Keep it below `operation_timeout`.
    pub busy_timeout: Duration,
    /// The most any call waits in all: for a pooled connection, for a lock,
    /// for SQLite (default 10 s). A call that runs out of time returns an
    /// error for which [`AdapterError::is_timeout`] is true.
    pub operation_timeout: Duration,
    /// Which official Auth.js adapter's tables to use (default
    /// [`Layout::Prisma`]); set it with [`layout`](Self::layout).
    /// [`Layout::PgAdapter`] is PostgreSQL only: connecting refuses it.
    pub layout: Layout,
    /// The five table names (default: those of [`layout`](Self::layout)).
    pub table_names: TableNames,
}

impl SqliteOptions {
    /// Options for the database file at `path` (created if missing).
    /// `":memory:"` gives the same as [`in_memory`](Self::in_memory).
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        if path.as_os_str() == ":memory:" {
            return Self::in_memory();
        }
        Self {
            path: Some(path),
            pool_size: 8,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            layout: Layout::Prisma,
            table_names: TableNames::of(Layout::Prisma),
        }
    }

    /// Options for a private in-memory database, shared by the adapter's
    /// connections (and its clones) and gone when the last of them is dropped.
    pub fn in_memory() -> Self {
        Self {
            path: None,
            pool_size: 1,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            layout: Layout::Prisma,
            table_names: TableNames::of(Layout::Prisma),
        }
    }

    /// Parses `sqlite://path`, `sqlite:path`, `sqlite::memory:`,
    /// `sqlite://:memory:` or a bare path. A `?query` is not supported.
    ///
    /// Errors: `InvalidInput` (field `url`) for an empty path or a query string.
    pub fn from_url(url: &str) -> Result<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.contains('?') {
            return Err(AdapterError::invalid_input(
                "url",
                "query parameters are not supported; use SqliteOptions",
            ));
        }
        match path {
            "" => Err(AdapterError::invalid_input("url", "no database path")),
            ":memory:" => Ok(Self::in_memory()),
            path => Ok(Self::file(path)),
        }
    }

    /// Sets the database file: for SQLite the file *is* the namespace (the
    /// tests give each case its own). `":memory:"` names a private in-memory
    /// database. The pool size and time limits are kept.
    pub fn namespace(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        self.path = (path.as_os_str() != ":memory:").then_some(path);
        self
    }

    /// Sets the number of pooled connections (at least 1).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Sets how long a statement waits for a lock held elsewhere.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets the most any call waits in all.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// Uses the tables of `layout` ([`Layout::Prisma`], the default, or
    /// [`Layout::Drizzle`]) and resets the table names to that layout's own;
    /// call [`table_names`](Self::table_names) or
    /// [`table_prefix`](Self::table_prefix) after it. [`Layout::PgAdapter`]
    /// is PostgreSQL only: [`SqliteAdapter::connect_with`] refuses it with
    /// `InvalidInput` (field `layout`).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self.table_names = TableNames::of(layout);
        self
    }

    /// Uses these table names (for tables that were created with custom
    /// names); the columns stay those of the layout. Checked when
    /// connecting: `InvalidInput` (field `table_names`) for an empty,
    /// over-long (255 bytes) or repeated name, or one with a NUL.
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
}

// ------------------------------------------------------------------ connect

/// The SQLite adapter: a pool of rusqlite connections used from Tokio's
/// blocking threads, so no call blocks the async runtime.
///
/// File connections run in WAL mode; every connection has foreign keys on
/// and a busy timeout. See the [crate docs](crate) for the schema.
#[derive(Clone)]
pub struct SqliteAdapter {
    pool: Pool,
    /// The one connection that writes, when the adapter opened the
    /// database itself (`None` from [`SqliteAdapter::from_pool`]: writes
    /// then take a connection of `pool`).
    writer: Option<Pool>,
    path: Option<PathBuf>,
    /// What [`SqliteAdapter::namespace`] returns.
    namespace: String,
    operation_timeout: Duration,
    busy_timeout: Duration,
    /// The table layout, and every statement with its table names, built
    /// once when the adapter is.
    sql: Arc<Statements>,
    /// For an in-memory database: a connection outside the pool that keeps
    /// the database alive whatever the pool does with its connections.
    _keeper: Option<Arc<Mutex<Connection>>>,
    /// Writers of this adapter (and its clones) take turns here, in the
    /// order they arrived: SQLite has one writer at a time, and writers that
    /// meet in SQLite instead wait in its busy handler, which sleeps up to
    /// 100 ms between tries. Holds the writer connection once taken.
    writes: Arc<tokio::sync::Mutex<Option<deadpool_sqlite::Object>>>,
}

impl std::fmt::Debug for SqliteAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteAdapter")
            .field("namespace", &self.namespace)
            .field("in_memory", &self._keeper.is_some())
            .field("pool", &self.pool.status())
            .field("operation_timeout", &self.operation_timeout)
            .field("busy_timeout", &self.busy_timeout)
            .field("layout", &self.sql.layout)
            .field("table_names", &self.sql.names)
            .finish()
    }
}

/// `true` for a path SQLite would open as a database private to each
/// connection, which a pool cannot share.
fn is_private_per_connection(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.is_empty()
        || (text.starts_with("file:")
            && (text.contains("mode=memory") || text.starts_with("file::memory:")))
}

impl SqliteAdapter {
    /// Opens the database named by `url` (see [`SqliteOptions::from_url`]),
    /// e.g. `sqlite://auth.db` or `sqlite::memory:`. Call
    /// [`migrate`](Self::migrate) before first use.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(SqliteOptions::from_url(url)?).await
    }

    /// Opens the database file at `path`, creating it if missing (`":memory:"`
    /// opens a private in-memory database, as [`in_memory`](Self::in_memory)).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::connect_with(SqliteOptions::file(path.as_ref())).await
    }

    /// A private in-memory database.
    pub async fn in_memory() -> Result<Self> {
        Self::connect_with(SqliteOptions::in_memory()).await
    }

    /// The former name of [`connect_with`](Self::connect_with).
    #[doc(hidden)]
    pub async fn with_options(options: SqliteOptions) -> Result<Self> {
        Self::connect_with(options).await
    }

    /// Opens a database with explicit options, and checks that a first
    /// connection opens.
    ///
    /// Errors: `InvalidInput` (field `path`) for an empty path or a `file:`
    /// URI naming an in-memory database (each connection would see its own;
    /// use [`SqliteOptions::in_memory`]); `InvalidInput` (field `layout`)
    /// for [`Layout::PgAdapter`]; `InvalidInput` (field `table_names`) for
    /// unusable table names.
    pub async fn connect_with(options: SqliteOptions) -> Result<Self> {
        let sql = Arc::new(Statements::new(options.layout, &options.table_names)?);
        let in_memory = match &options.path {
            None => true,
            Some(path) if path.as_os_str() == ":memory:" => true,
            Some(path) if is_private_per_connection(path) => {
                return Err(AdapterError::invalid_input(
                    "path",
                    "this path opens a database private to each connection; \
                     use SqliteOptions::in_memory() for an in-memory database",
                ));
            }
            Some(_) => false,
        };
        let busy_ms = options.busy_timeout.as_millis().min(i32::MAX as u128) as i32;
        let (path, keeper) = if in_memory {
            // An in-memory database of the `memdb` VFS: every connection that
            // opens this name (starting with `/`) shares it, with SQLite's
            // usual locking, and it lives as long as one of them is open.
            let uri = format!(
                "file:/auth-core-{}?vfs=memdb",
                uuid::Uuid::new_v4().simple()
            );
            let keeper = Connection::open(&uri).map_err(AdapterError::backend)?;
            configure(&keeper, busy_ms, true).map_err(AdapterError::backend)?;
            (PathBuf::from(uri), Some(Arc::new(Mutex::new(keeper))))
        } else {
            (options.path.clone().expect("a file path"), None)
        };
        let limit = Some(options.operation_timeout);
        let pool_of = |size: usize| {
            deadpool_sqlite::Config::new(&path)
                .builder(Runtime::Tokio1)
                .map_err(AdapterError::backend)?
                .max_size(size)
                .wait_timeout(limit)
                .create_timeout(limit)
                .post_create(Hook::async_fn(move |conn, _| {
                    Box::pin(async move {
                        conn.interact(move |conn| configure(conn, busy_ms, in_memory))
                            .await
                            .map_err(|e| HookError::message(e.to_string()))?
                            .map_err(HookError::Backend)
                    })
                }))
                .build()
                .map_err(AdapterError::backend)
        };
        let pool = pool_of(options.pool_size.max(1))?;
        // Writes go through one connection of their own, which keeps its
        // page cache warm for them (and leaves the pool to readers).
        let writer = pool_of(1)?;
        let path = if in_memory { None } else { options.path };
        let adapter = Self {
            pool,
            writer: Some(writer),
            namespace: path
                .as_deref()
                .map_or(":memory:".to_owned(), |p| p.to_string_lossy().into_owned()),
            path,
            operation_timeout: options.operation_timeout,
            busy_timeout: options.busy_timeout,
            sql,
            _keeper: keeper,
            writes: Arc::default(),
        };
        adapter.run("connect", |_| Ok(())).await?;
        Ok(adapter)
    }

    /// Wraps an existing pool, with the default operation timeout
    /// ([`DEFAULT_OPERATION_TIMEOUT`]) and the default layout
    /// ([`Layout::Prisma`]; see [`from_pool_with`](Self::from_pool_with)).
    /// Its connections must have `PRAGMA foreign_keys = ON` (the cascades
    /// depend on it) and should have a busy timeout; [`connect_with`] sets
    /// that up for you. The adapter cannot tell which file the pool opens:
    /// [`namespace`](Self::namespace) is `""`, and
    /// [`drop_namespace`](Self::drop_namespace) asks SQLite.
    ///
    /// [`connect_with`]: Self::connect_with
    pub fn from_pool(pool: Pool) -> Self {
        Self {
            pool,
            writer: None,
            path: None,
            namespace: String::new(),
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            sql: Arc::new(
                Statements::new(Layout::Prisma, &TableNames::of(Layout::Prisma))
                    .expect("the default layout and names are valid"),
            ),
            _keeper: None,
            writes: Arc::default(),
        }
    }

    /// Wraps an existing pool as [`from_pool`](Self::from_pool) does, with
    /// the time limits, layout and table names of `options` (its path and
    /// pool size are not used).
    ///
    /// Errors: `InvalidInput` (fields `layout`, `table_names`) as for
    /// [`connect_with`](Self::connect_with).
    pub fn from_pool_with(pool: Pool, options: &SqliteOptions) -> Result<Self> {
        Ok(Self {
            operation_timeout: options.operation_timeout,
            busy_timeout: options.busy_timeout,
            sql: Arc::new(Statements::new(options.layout, &options.table_names)?),
            ..Self::from_pool(pool)
        })
    }

    /// The table layout in use.
    pub fn layout(&self) -> Layout {
        self.sql.layout
    }

    /// The table names in use.
    pub fn table_names(&self) -> &TableNames {
        &self.sql.names
    }

    /// The database file, when the adapter opened one itself (`None` for an
    /// in-memory database or a pool passed to [`from_pool`](Self::from_pool)).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The namespace: for SQLite, the database file as given (`":memory:"`
    /// for an in-memory database, `""` for a pool passed to
    /// [`from_pool`](Self::from_pool)).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The underlying connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Removes the namespace and everything in it: closes the pool, then
    /// deletes the database file and its `-wal` and `-shm` files (an
    /// in-memory database is gone once the adapter is dropped). For an
    /// adapter [from a pool](Self::from_pool), the file is the one SQLite
    /// reports as the pool's `main` database. Clones of this adapter stop
    /// working.
    ///
    /// Errors: `Backend` when a file cannot be removed (a missing file is
    /// fine).
    pub async fn drop_namespace(self) -> Result<()> {
        let path = match &self.path {
            Some(path) => Some(path.clone()),
            None if self.namespace.is_empty() => {
                let file: String = self
                    .run("drop_namespace", |conn| {
                        Ok(conn.query_row(
                            "SELECT file FROM pragma_database_list WHERE name = 'main'",
                            [],
                            |row| row.get(0),
                        )?)
                    })
                    .await?;
                (!file.is_empty()).then(|| PathBuf::from(file))
            }
            None => None,
        };
        self.pool.close();
        drop(self);
        let Some(path) = path else {
            return Ok(());
        };
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(AdapterError::backend(e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ migrate

    /// Creates the tables and indexes, or upgrades them to
    /// [`SCHEMA_VERSION`]; safe to run at every start, and from any number
    /// of adapters and processes at once on one file: the version check and
    /// the migrations run in one `BEGIN IMMEDIATE` transaction, so one
    /// migrates while the others wait (up to the busy timeout) and then find
    /// nothing to do. Tables that Auth.js already created are kept
    /// (`CREATE ... IF NOT EXISTS`).
    ///
    /// With another [`Layout`] or other table names, it runs that layout's
    /// DDL (`CREATE ... IF NOT EXISTS`, in the same kind of transaction)
    /// with the configured names and leaves `user_version`, which belongs
    /// to the default tables, alone.
    ///
    /// Errors: `Backend` if the database has a newer schema version than this
    /// adapter knows.
    pub async fn migrate(&self) -> Result<()> {
        let sql = self.sql.clone();
        self.run_write("migrate", move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(schema) = &sql.schema {
                // Another layout or other names: idempotent DDL, and
                // `user_version` (the default tables' version) left alone.
                tx.execute_batch(schema)?;
                tx.commit()?;
                return Ok(());
            }
            let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let version = usize::try_from(version).unwrap_or(usize::MAX);
            if version > SCHEMA_VERSION {
                return Err(AdapterError::backend(format!(
                    "the database has schema version {version}; this adapter knows up to \
                     {SCHEMA_VERSION}"
                ))
                .into());
            }
            if version < SCHEMA_VERSION {
                for sql in &MIGRATIONS[version..] {
                    tx.execute_batch(sql)?;
                }
                tx.pragma_update(None, "user_version", SCHEMA_VERSION as i64)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Runs `f` with a pooled connection on a blocking thread, within the
    /// operation timeout; `op` names the call in a timeout error.
    ///
    /// On timeout the blocking work is not interrupted: it finishes on its
    /// thread (a lock wait ends after the busy timeout) and then returns the
    /// connection to the pool.
    async fn run<T, F>(&self, op: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let limit = self.operation_timeout;
        with_timeout(limit, op, async move {
            let conn = self.pool.get().await.map_err(checkout_error(op, limit))?;
            self.interact(&conn, op, f).await
        })
        .await
    }

    /// Runs `f` on `conn`'s blocking thread; `op` names the call in errors.
    async fn interact<T, F>(
        &self,
        conn: &deadpool_sqlite::Object,
        op: &'static str,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let busy = self.busy_timeout;
        conn.interact(f)
            .await
            .map_err(|e| AdapterError::backend(e.to_string()))?
            .map_err(|failure| failure.into_error(op, busy))
    }

    /// [`run`](Self::run) for a call that writes: it first waits its turn
    /// among this adapter's writers (the wait counts against the operation
    /// timeout), in the order they arrived. An adapter that opened the
    /// database itself then writes on its one writer connection, kept from
    /// call to call (no pool checkout, and deadpool-sqlite's checkout runs a
    /// test query); one [built on a pool](Self::from_pool) takes a
    /// connection of that pool.
    ///
    /// A call that times out while its blocking work runs leaves the writer
    /// connection busy until that work is done: the next writer waits for
    /// it (the connection's own lock), so writes stay one at a time.
    async fn run_write<T, F>(&self, op: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let limit = self.operation_timeout;
        with_timeout(limit, op, async move {
            let mut turn = self.writes.lock().await;
            let checkout = checkout_error(op, limit);
            let pooled;
            let conn = match (&mut *turn, &self.writer) {
                (Some(conn), _) => &*conn,
                (slot @ None, Some(writer)) => &*slot.insert(writer.get().await.map_err(checkout)?),
                (None, None) => {
                    pooled = self.pool.get().await.map_err(checkout)?;
                    &pooled
                }
            };
            self.interact(conn, op, f).await
        })
        .await
    }
}

/// A pool checkout's error: running out of `limit` is a timeout of `op`.
fn checkout_error(op: &'static str, limit: Duration) -> impl Fn(PoolError) -> AdapterError {
    move |e| match e {
        PoolError::Timeout(_) => AdapterError::timed_out(op, limit),
        e => AdapterError::backend(e),
    }
}

fn configure(conn: &Connection, busy_ms: i32, in_memory: bool) -> rusqlite::Result<()> {
    // First, so that the pragmas below wait for other processes' locks too.
    conn.pragma_update(None, "busy_timeout", busy_ms)?;
    if in_memory {
        // Never a journal file beside a database that has no file.
        conn.pragma_update(None, "journal_mode", "MEMORY")?;
    } else {
        // WAL lets readers proceed while one connection writes. While other
        // connections open a new file at the same moment, SQLite may answer
        // the switch with "database is locked" at once, without calling the
        // busy handler: try again until the busy timeout.
        let deadline =
            std::time::Instant::now() + Duration::from_millis(u64::try_from(busy_ms).unwrap_or(0));
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                done => break done?,
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

// ------------------------------------------------------------- row mapping

/// The columns [`user_at`] reads, as a literal for `concat!`.
macro_rules! user_columns {
    () => {
        r#""id", "name", "email", "emailVerified", "image""#
    };
}

/// The caller's clock, which decides expiry (never SQLite's `'now'`), in
/// Unix milliseconds as [`unix_ms!`] compares it.
fn now_ms() -> i64 {
    to_unix_millis(OffsetDateTime::now_utc())
}

/// An SQL expression turning the instant in column `$col`, in any form
/// [`instant_at`] reads, into Unix milliseconds (an INTEGER), so filters
/// compare instants and not text:
///
/// - an integer is milliseconds (Prisma), a real is truncated to them;
/// - text of digits (with an optional `-`) is milliseconds too (what a TEXT
///   column makes of Prisma's integer);
/// - other text is ISO-8601 with any offset and any number of fraction
///   digits: digits past the third are cut (as [`instant_at`] drops
///   sub-milliseconds) before SQLite's `unixepoch(.., 'subsec')` reads it,
///   exact to the millisecond.
///
/// Text SQLite cannot read gives NULL, which no filter matches.
macro_rules! unix_ms {
    ($col:literal) => {
        concat!(
            "(CASE WHEN typeof(",
            $col,
            ") = 'integer' THEN ",
            $col,
            " WHEN typeof(",
            $col,
            ") = 'real' THEN CAST(",
            $col,
            " AS INTEGER)",
            " WHEN typeof(",
            $col,
            ") <> 'text' THEN NULL",
            " WHEN (",
            $col,
            " <> '' AND ",
            $col,
            " NOT GLOB '*[^0-9]*')",
            " OR (",
            $col,
            " GLOB '-[0-9]*' AND substr(",
            $col,
            ", 2) NOT GLOB '*[^0-9]*')",
            " THEN CAST(",
            $col,
            " AS INTEGER)",
            " WHEN instr(",
            $col,
            ", '.') = 0",
            " THEN CAST(round(unixepoch(",
            $col,
            ", 'subsec') * 1000) AS INTEGER)",
            " ELSE CAST(round(unixepoch(",
            "substr(",
            $col,
            ", 1, instr(",
            $col,
            ", '.') + min(3, ",
            "length(substr(",
            $col,
            ", instr(",
            $col,
            ", '.') + 1)) - ",
            "length(ltrim(substr(",
            $col,
            ", instr(",
            $col,
            ", '.') + 1), '0123456789'))))",
            " || ltrim(substr(",
            $col,
            ", instr(",
            $col,
            ", '.') + 1), '0123456789')",
            ", 'subsec') * 1000) AS INTEGER) END)"
        )
    };
}

/// Reads an instant stored as ISO text (Kysely, us; any offset, any number of
/// fraction digits) or as unix milliseconds (Prisma's SQLite encoding),
/// whichever type the column handed back; in UTC, to the millisecond.
fn instant_at(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    let bad = |e: AdapterError| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
    };
    match row.get_ref(idx)? {
        ValueRef::Null => Ok(None),
        ValueRef::Integer(ms) => from_unix_millis("timestamp", ms).map(Some).map_err(bad),
        // Truncated toward zero, as `CAST(.. AS INTEGER)` in `unix_ms!`.
        ValueRef::Real(ms) => from_unix_millis("timestamp", ms as i64)
            .map(Some)
            .map_err(bad),
        ValueRef::Text(text) => {
            let text = std::str::from_utf8(text).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    idx,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?;
            // A TEXT column turns Prisma's integer milliseconds into digits.
            match text.parse::<i64>() {
                Ok(ms) => from_unix_millis("timestamp", ms).map(Some).map_err(bad),
                Err(_) => parse_iso(text)
                    .map(|t| Some(truncate_to_millis(t)))
                    .map_err(bad),
            }
        }
        other => Err(rusqlite::Error::InvalidColumnType(
            idx,
            "timestamp".into(),
            other.data_type(),
        )),
    }
}

fn required_instant(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    instant_at(row, idx)?.ok_or(rusqlite::Error::InvalidColumnType(
        idx,
        "timestamp".into(),
        rusqlite::types::Type::Null,
    ))
}

fn user_at(row: &Row<'_>, first: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(first)?,
        name: row.get(first + 1)?,
        email: row.get(first + 2)?,
        email_verified: instant_at(row, first + 3)?,
        image: row.get(first + 4)?,
    })
}

fn user_row(row: &Row<'_>) -> rusqlite::Result<User> {
    user_at(row, 0)
}

/// The columns [`account_row`] reads, as a literal for `concat!`.
macro_rules! account_columns {
    () => {
        r#""userId", "type", "provider", "providerAccountId", "access_token", "refresh_token",
           "expires_at", "token_type", "scope", "id_token", "session_state""#
    };
}

fn account_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    let kind: String = row.get(1)?;
    Ok(Account {
        user_id: row.get(0)?,
        account_type: kind.parse().map_err(|e: AdapterError| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?,
        provider: row.get(2)?,
        provider_account_id: row.get(3)?,
        access_token: row.get(4)?,
        refresh_token: row.get(5)?,
        expires_at: row.get(6)?,
        token_type: row.get(7)?,
        scope: row.get(8)?,
        id_token: row.get(9)?,
        session_state: row.get(10)?,
    })
}

fn session_row(row: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        session_token: row.get(0)?,
        user_id: row.get(1)?,
        expires: required_instant(row, 2)?,
    })
}

fn token_row(row: &Row<'_>) -> rusqlite::Result<VerificationToken> {
    Ok(VerificationToken {
        identifier: row.get(0)?,
        token: row.get(1)?,
        expires: required_instant(row, 2)?,
    })
}

/// The columns [`authenticator_row`] reads, as a literal for `concat!`.
macro_rules! authenticator_columns {
    () => {
        r#""credentialID", "userId", "providerAccountId", "credentialPublicKey", "counter",
           "credentialDeviceType", "credentialBackedUp", "transports""#
    };
}

fn authenticator_row(row: &Row<'_>) -> rusqlite::Result<Authenticator> {
    let counter: i64 = row.get(4)?;
    Ok(Authenticator {
        credential_id: row.get(0)?,
        user_id: row.get(1)?,
        provider_account_id: row.get(2)?,
        credential_public_key: row.get(3)?,
        counter: u32::try_from(counter).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })?,
        credential_device_type: row.get(5)?,
        credential_backed_up: row.get(6)?,
        transports: row.get(7)?,
    })
}

// ------------------------------------------------------------- statements

/// Every statement of the adapter, written once for the Prisma names and
/// renamed for the configured ones when the adapter is built (never per
/// call). The columns are the same in both layouts; only the tables and the
/// stored form of instants differ.
#[derive(Debug)]
struct Statements {
    layout: Layout,
    names: TableNames,
    /// `true` when instants are stored as Unix milliseconds (Drizzle's
    /// `integer({ mode: "timestamp_ms" })`), `false` for ISO-8601 text.
    millis: bool,
    /// The DDL `migrate()` runs; `None` for the default layout and names,
    /// which keep the versioned migrations and `user_version`.
    schema: Option<String>,
    create_user: String,
    get_user: String,
    get_user_by_email: String,
    get_user_by_account: String,
    update_user: String,
    delete_user: String,
    link_account: String,
    unlink_account: String,
    get_account: String,
    list_accounts: String,
    create_session: String,
    get_session_and_user: String,
    update_session_expires: String,
    update_session: String,
    delete_session: String,
    list_sessions: String,
    create_token: String,
    use_token: String,
    create_authenticator: String,
    get_authenticator: String,
    list_authenticators: String,
    update_counter: String,
    purge_sessions: String,
    purge_tokens: String,
}

impl Statements {
    fn new(layout: Layout, names: &TableNames) -> Result<Self> {
        if layout == Layout::PgAdapter {
            return Err(AdapterError::invalid_input(
                "layout",
                "the pg-adapter layout is PostgreSQL only; use Layout::Prisma or Layout::Drizzle",
            ));
        }
        names.check(MAX_TABLE_NAME)?;
        let prisma = TableNames::of(Layout::Prisma);
        let schema = match layout {
            Layout::Drizzle => Some(rename(
                DRIZZLE_SCHEMA_SQL,
                &TableNames::of(Layout::Drizzle),
                names,
            )),
            _ if *names != prisma => Some(rename(SCHEMA_SQL, &prisma, names)),
            _ => None,
        };
        let r = |template: &str| rename(template, &prisma, names);
        Ok(Self {
            layout,
            names: names.clone(),
            millis: layout == Layout::Drizzle,
            schema,
            create_user: r(
                r#"INSERT INTO "User" ("id", "name", "email", "emailVerified", "image")
                   VALUES (?1, ?2, ?3, ?4, ?5)"#,
            ),
            get_user: r(concat!(
                r#"SELECT "#,
                user_columns!(),
                r#" FROM "User" WHERE "id" = ?1"#
            )),
            get_user_by_email: r(concat!(
                r#"SELECT "#,
                user_columns!(),
                r#" FROM "User" WHERE "email" = ?1"#
            )),
            get_user_by_account: r(
                r#"SELECT u."id", u."name", u."email", u."emailVerified", u."image"
                       FROM "Account" a JOIN "User" u ON u."id" = a."userId"
                       WHERE a."provider" = ?1 AND a."providerAccountId" = ?2"#,
            ),
            // One statement: each field is replaced only when its flag is set.
            update_user: r(concat!(
                r#"UPDATE "User" SET
                     "name" = CASE WHEN ?2 THEN ?3 ELSE "name" END,
                     "email" = CASE WHEN ?4 THEN ?5 ELSE "email" END,
                     "emailVerified" = CASE WHEN ?6 THEN ?7 ELSE "emailVerified" END,
                     "image" = CASE WHEN ?8 THEN ?9 ELSE "image" END
                   WHERE "id" = ?1
                   RETURNING "#,
                user_columns!()
            )),
            // One statement: the foreign keys cascade to accounts, sessions
            // and authenticators inside it, so it is all or nothing.
            delete_user: r(concat!(
                r#"DELETE FROM "User" WHERE "id" = ?1 RETURNING "#,
                user_columns!()
            )),
            link_account: r(
                r#"INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId",
                     "access_token", "refresh_token", "expires_at", "token_type", "scope",
                     "id_token", "session_state")
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"#,
            ),
            unlink_account: r(concat!(
                r#"DELETE FROM "Account" WHERE "provider" = ?1 AND "providerAccountId" = ?2
                   RETURNING "#,
                account_columns!()
            )),
            get_account: r(concat!(
                r#"SELECT "#,
                account_columns!(),
                r#" FROM "Account"
                   WHERE "provider" = ?1 AND "providerAccountId" = ?2"#
            )),
            // On "Account_userId_idx" (Drizzle: "account_userId_idx").
            list_accounts: r(concat!(
                r#"SELECT "#,
                account_columns!(),
                r#" FROM "Account" WHERE "userId" = ?1"#
            )),
            create_session: r(
                r#"INSERT INTO "Session" ("sessionToken", "userId", "expires") VALUES (?1, ?2, ?3)"#,
            ),
            get_session_and_user: r(concat!(
                r#"SELECT s."sessionToken", s."userId", s."expires",
                          u."id", u."name", u."email", u."emailVerified", u."image"
                   FROM "Session" s JOIN "User" u ON u."id" = s."userId"
                   WHERE s."sessionToken" = ?1 AND "#,
                unix_ms!(r#"s."expires""#),
                " > ?2"
            )),
            // The common case, a new expiry only: `"userId"` is not assigned,
            // so SQLite neither checks its foreign key nor rewrites its index
            // entry.
            update_session_expires: r(concat!(
                r#"UPDATE "Session" SET "expires" = coalesce(?2, "expires")
                   WHERE "sessionToken" = ?1 AND "#,
                unix_ms!(r#""expires""#),
                r#" > ?4 AND ?3 IS NULL
                   RETURNING "sessionToken", "userId", "expires""#
            )),
            // Only a live session changes: an expired one is not revived.
            update_session: r(concat!(
                r#"UPDATE "Session" SET
                     "expires" = coalesce(?2, "expires"),
                     "userId" = coalesce(?3, "userId")
                   WHERE "sessionToken" = ?1 AND "#,
                unix_ms!(r#""expires""#),
                r#" > ?4
                   RETURNING "sessionToken", "userId", "expires""#
            )),
            delete_session: r(r#"DELETE FROM "Session" WHERE "sessionToken" = ?1
                       RETURNING "sessionToken", "userId", "expires""#),
            // On "Session_userId_idx"; expiry compared as instants, on the
            // caller's clock.
            list_sessions: r(concat!(
                r#"SELECT "sessionToken", "userId", "expires" FROM "Session"
                   WHERE "userId" = ?1 AND "#,
                unix_ms!(r#""expires""#),
                " > ?2"
            )),
            create_token: r(
                r#"INSERT INTO "VerificationToken" ("identifier", "token", "expires")
                   VALUES (?1, ?2, ?3)"#,
            ),
            // One statement deletes and returns: of concurrent uses only one
            // sees the row. An expired token is deleted all the same, and not
            // returned.
            use_token: r(concat!(
                r#"DELETE FROM "VerificationToken" WHERE "identifier" = ?1 AND "token" = ?2
                   RETURNING "identifier", "token", "expires", coalesce("#,
                unix_ms!(r#""expires""#),
                " > ?3, 0)"
            )),
            create_authenticator: r(
                r#"INSERT INTO "Authenticator" ("credentialID", "userId", "providerAccountId",
                     "credentialPublicKey", "counter", "credentialDeviceType",
                     "credentialBackedUp", "transports")
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"#,
            ),
            get_authenticator: r(concat!(
                r#"SELECT "#,
                authenticator_columns!(),
                r#" FROM "Authenticator" WHERE "credentialID" = ?1"#
            )),
            list_authenticators: r(concat!(
                r#"SELECT "#,
                authenticator_columns!(),
                r#" FROM "Authenticator" WHERE "userId" = ?1"#
            )),
            update_counter: r(concat!(
                r#"UPDATE "Authenticator" SET "counter" = ?2 WHERE "credentialID" = ?1
                   RETURNING "#,
                authenticator_columns!()
            )),
            purge_sessions: r(concat!(
                r#"DELETE FROM "Session" WHERE rowid IN
                         (SELECT rowid FROM "Session" WHERE "#,
                unix_ms!(r#""expires""#),
                " <= ?1 LIMIT ?2)"
            )),
            purge_tokens: r(concat!(
                r#"DELETE FROM "VerificationToken" WHERE rowid IN
                         (SELECT rowid FROM "VerificationToken" WHERE "#,
                unix_ms!(r#""expires""#),
                " <= ?1 LIMIT ?2)"
            )),
        })
    }

    /// An instant as this layout stores it: ISO-8601 text in UTC to the
    /// millisecond (Prisma/Kysely), or Unix milliseconds (Drizzle). Either
    /// way years 0000–9999, so both layouts accept the same instants.
    fn instant(&self, field: &'static str, instant: OffsetDateTime) -> Result<Value> {
        if self.millis {
            let utc = check_year_range(field, truncate_to_millis(instant), 0..=9999)?;
            Ok(Value::Integer(to_unix_millis(utc)))
        } else {
            Ok(Value::Text(format_iso(field, instant)?))
        }
    }

    fn optional_instant(
        &self,
        field: &'static str,
        instant: Option<OffsetDateTime>,
    ) -> Result<Value> {
        instant.map_or(Ok(Value::Null), |t| self.instant(field, t))
    }
}

/// Whether an identifier ending in `tail` is an index name of our DDL
/// (`User_email_key`, `account_userId_idx`, `user_email_unique`), not a
/// column such as `session_state`.
fn is_index_name(tail: &str) -> bool {
    ["_key", "_idx", "_unique"]
        .iter()
        .any(|suffix| tail.ends_with(suffix))
}

/// `template` with every double-quoted identifier that is one of `from`'s
/// table names replaced by the matching name of `to` (quoted, `"` doubled),
/// and every index name that starts with such a name and `_` (index names
/// are global in SQLite) given the new name as its start. One
/// pass, so a name of `to` that is also one of `from` is never renamed twice.
fn rename(template: &str, from: &TableNames, to: &TableNames) -> String {
    if from == to {
        return template.to_owned();
    }
    let pairs: Vec<(&str, &str)> = from.all().into_iter().zip(to.all()).collect();
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('"') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let ident = &after[..close];
        let renamed = pairs.iter().find_map(|(old, new)| {
            if ident == *old {
                Some((*new).to_owned())
            } else {
                ident
                    .strip_prefix(old)
                    .filter(|tail| tail.starts_with('_') && is_index_name(tail))
                    .map(|tail| format!("{new}{tail}"))
            }
        });
        match renamed {
            Some(name) => {
                out.push('"');
                out.push_str(&name.replace('"', "\"\""));
                out.push('"');
            }
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------- adapter

#[async_trait]
impl Adapter for SqliteAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        let user = NewUser {
            email_verified: user.email_verified.map(truncate_to_millis),
            ..user
        }
        .into_user(new_id());
        let sql = self.sql.clone();
        let verified = sql.optional_instant("email_verified", user.email_verified)?;
        self.run_write("create_user", move |conn| {
            conn.prepare_cached(&sql.create_user)?
                .execute(params![
                    user.id, user.name, user.email, verified, user.image
                ])
                .map_err(|e| classify(e, Key::Email, None))?;
            Ok(user)
        })
        .await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        let id = id.to_owned();
        let sql = self.sql.clone();
        self.run("get_user", move |conn| {
            Ok(conn
                .prepare_cached(&sql.get_user)?
                .query_row([id], user_row)
                .optional()?)
        })
        .await
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.to_owned();
        let sql = self.sql.clone();
        self.run("get_user_by_email", move |conn| {
            Ok(conn
                .prepare_cached(&sql.get_user_by_email)?
                .query_row([email], user_row)
                .optional()?)
        })
        .await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        let (provider, pid) = (provider.to_owned(), provider_account_id.to_owned());
        let sql = self.sql.clone();
        self.run("get_user_by_account", move |conn| {
            Ok(conn
                .prepare_cached(&sql.get_user_by_account)?
                .query_row([provider, pid], user_row)
                .optional()?)
        })
        .await
    }

    async fn update_user(&self, update: UserUpdate) -> Result<User> {
        let sql = self.sql.clone();
        let verified = sql.optional_instant("email_verified", update.email_verified.flatten())?;
        self.run_write("update_user", move |conn| {
            conn.prepare_cached(&sql.update_user)?
                .query_row(
                    params![
                        update.id,
                        update.name.is_some(),
                        update.name.flatten(),
                        update.email.is_some(),
                        update.email.flatten(),
                        update.email_verified.is_some(),
                        verified,
                        update.image.is_some(),
                        update.image.flatten(),
                    ],
                    user_row,
                )
                .optional()
                .map_err(|e| classify(e, Key::Email, None))?
                .ok_or_else(|| AdapterError::user_not_found(&update.id).into())
        })
        .await
    }

    async fn delete_user(&self, id: &str) -> Result<Option<User>> {
        let id = id.to_owned();
        let sql = self.sql.clone();
        self.run_write("delete_user", move |conn| {
            Ok(conn
                .prepare_cached(&sql.delete_user)?
                .query_row([id], user_row)
                .optional()?)
        })
        .await
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        let sql = self.sql.clone();
        self.run_write("link_account", move |conn| {
            let a = &account;
            conn.prepare_cached(&sql.link_account)?
                .execute(params![
                    a.user_id,
                    a.account_type.as_str(),
                    a.provider,
                    a.provider_account_id,
                    a.access_token,
                    a.refresh_token,
                    a.expires_at,
                    a.token_type,
                    a.scope,
                    a.id_token,
                    a.session_state,
                ])
                .map_err(|e| classify(e, Key::ProviderAccountId, Some(&a.user_id)))?;
            Ok(account)
        })
        .await
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let (provider, pid) = (provider.to_owned(), provider_account_id.to_owned());
        let sql = self.sql.clone();
        self.run_write("unlink_account", move |conn| {
            Ok(conn
                .prepare_cached(&sql.unlink_account)?
                .query_row([provider, pid], account_row)
                .optional()?)
        })
        .await
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let (provider, pid) = (provider.to_owned(), provider_account_id.to_owned());
        let sql = self.sql.clone();
        self.run("get_account", move |conn| {
            Ok(conn
                .prepare_cached(&sql.get_account)?
                .query_row([provider, pid], account_row)
                .optional()?)
        })
        .await
    }

    async fn list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
        let id = user_id.to_owned();
        let sql = self.sql.clone();
        self.run("list_accounts_by_user_id", move |conn| {
            let mut stmt = conn.prepare_cached(&sql.list_accounts)?;
            let rows = stmt.query_map([id], account_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        let session = Session {
            expires: truncate_to_millis(session.expires),
            ..session
        };
        let sql = self.sql.clone();
        let expires = sql.instant("expires", session.expires)?;
        self.run_write("create_session", move |conn| {
            conn.prepare_cached(&sql.create_session)?
                .execute(params![session.session_token, session.user_id, expires])
                .map_err(|e| classify(e, Key::SessionToken, Some(&session.user_id)))?;
            Ok(session)
        })
        .await
    }

    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>> {
        let token = session_token.to_owned();
        let now = now_ms();
        let sql = self.sql.clone();
        self.run("get_session_and_user", move |conn| {
            Ok(conn
                .prepare_cached(&sql.get_session_and_user)?
                .query_row(params![token, now], |row| {
                    Ok((session_row(row)?, user_at(row, 3)?))
                })
                .optional()?)
        })
        .await
    }

    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        let sql = self.sql.clone();
        let expires = sql.optional_instant("expires", update.expires)?;
        let now = now_ms();
        self.run_write("update_session", move |conn| {
            let statement = match update.user_id {
                None => &sql.update_session_expires,
                Some(_) => &sql.update_session,
            };
            conn.prepare_cached(statement)?
                .query_row(
                    params![update.session_token, expires, update.user_id, now],
                    session_row,
                )
                .optional()
                .map_err(|e| classify(e, Key::SessionToken, update.user_id.as_deref()))
        })
        .await
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        let token = session_token.to_owned();
        let sql = self.sql.clone();
        self.run_write("delete_session", move |conn| {
            Ok(conn
                .prepare_cached(&sql.delete_session)?
                .query_row([token], session_row)
                .optional()?)
        })
        .await
    }

    async fn list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        let id = user_id.to_owned();
        let now = now_ms();
        let sql = self.sql.clone();
        self.run("list_sessions_by_user_id", move |conn| {
            let mut stmt = conn.prepare_cached(&sql.list_sessions)?;
            let rows = stmt.query_map(params![id, now], session_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        let token = VerificationToken {
            expires: truncate_to_millis(token.expires),
            ..token
        };
        let sql = self.sql.clone();
        let expires = sql.instant("expires", token.expires)?;
        self.run_write("create_verification_token", move |conn| {
            conn.prepare_cached(&sql.create_token)?
                .execute(params![token.identifier, token.token, expires])
                .map_err(|e| classify(e, Key::Token, None))?;
            Ok(token)
        })
        .await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        let (identifier, token) = (identifier.to_owned(), token.to_owned());
        let now = now_ms();
        let sql = self.sql.clone();
        self.run_write("use_verification_token", move |conn| {
            let used = conn
                .prepare_cached(&sql.use_token)?
                .query_row(params![identifier, token, now], |row| {
                    Ok((token_row(row)?, row.get::<_, bool>(3)?))
                })
                .optional()?;
            Ok(used.and_then(|(token, live)| live.then_some(token)))
        })
        .await
    }

    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        let sql = self.sql.clone();
        self.run_write("create_authenticator", move |conn| {
            let a = &authenticator;
            conn.prepare_cached(&sql.create_authenticator)?
                .execute(params![
                    a.credential_id,
                    a.user_id,
                    a.provider_account_id,
                    a.credential_public_key,
                    a.counter,
                    a.credential_device_type,
                    a.credential_backed_up,
                    a.transports,
                ])
                .map_err(|e| classify(e, Key::CredentialId, Some(&a.user_id)))?;
            Ok(authenticator)
        })
        .await
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        let id = credential_id.to_owned();
        let sql = self.sql.clone();
        self.run("get_authenticator", move |conn| {
            Ok(conn
                .prepare_cached(&sql.get_authenticator)?
                .query_row([id], authenticator_row)
                .optional()?)
        })
        .await
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        let id = user_id.to_owned();
        let sql = self.sql.clone();
        self.run("list_authenticators_by_user_id", move |conn| {
            let mut stmt = conn.prepare_cached(&sql.list_authenticators)?;
            let rows = stmt.query_map([id], authenticator_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator> {
        let id = credential_id.to_owned();
        let sql = self.sql.clone();
        self.run_write("update_authenticator_counter", move |conn| {
            conn.prepare_cached(&sql.update_counter)?
                .query_row(params![id, counter], authenticator_row)
                .optional()?
                .ok_or_else(|| {
                    AdapterError::not_found(Entity::Authenticator, "unknown credential id").into()
                })
        })
        .await
    }

    async fn purge_expired(&self) -> Result<u64> {
        let now = now_ms();
        let sql = self.sql.clone();
        self.run_write("purge_expired", move |conn| {
            let mut removed = 0u64;
            for statement in [&sql.purge_sessions, &sql.purge_tokens] {
                loop {
                    let n = conn
                        .prepare_cached(statement)?
                        .execute(params![now, PURGE_BATCH])?;
                    removed += n as u64;
                    if (n as i64) < PURGE_BATCH {
                        break;
                    }
                }
            }
            Ok(removed)
        })
        .await
    }
}

// ----------------------------------------------------------- error mapping

/// Maps constraint failures of a write to the contract's errors: a unique
/// key → `Conflict` on `key`, a foreign key → `NotFound` for the user
/// `user_id` (the one user a write of ours references).
fn classify(err: rusqlite::Error, key: Key, user_id: Option<&str>) -> Failure {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(e, _) = &err {
        match e.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                return AdapterError::conflict(key).into();
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                return match user_id {
                    Some(id) => AdapterError::user_not_found(id),
                    None => {
                        AdapterError::not_found(Entity::User, "the referenced user does not exist")
                    }
                }
                .into();
            }
            _ => {}
        }
    }
    Failure::Driver(err)
}

/// What a closure run on a pooled connection can fail with; `?` converts
/// both driver errors and contract errors into it.
enum Failure {
    Contract(AdapterError),
    Driver(rusqlite::Error),
}

impl From<AdapterError> for Failure {
    fn from(e: AdapterError) -> Self {
        Self::Contract(e)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Self::Driver(e)
    }
}

impl Failure {
    /// The contract's error for a failure of `op`: a lock still held after
    /// the busy timeout is a timeout ([`AdapterError::is_timeout`]).
    fn into_error(self, op: &'static str, busy_timeout: Duration) -> AdapterError {
        match self {
            Failure::Contract(e) => e,
            Failure::Driver(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                AdapterError::timed_out(op, busy_timeout)
            }
            Failure::Driver(e) => AdapterError::backend(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `unix_ms!` in SQL and `instant_at` in Rust agree on every stored form,
    /// to the millisecond (sub-millisecond digits dropped, not rounded).
    #[test]
    fn sql_and_rust_read_every_form_as_the_same_instant() {
        let conn = Connection::open_in_memory().unwrap();
        let forms: &[(Value, i64)] = &[
            (Value::Integer(1_700_000_000_123), 1_700_000_000_123),
            (Value::Integer(-1), -1),
            (Value::Real(1_700_000_000_123.9), 1_700_000_000_123),
            (Value::Text("1700000000123".into()), 1_700_000_000_123),
            (Value::Text("-5".into()), -5),
            (
                Value::Text("2023-11-14T22:13:20.123Z".into()),
                1_700_000_000_123,
            ),
            (
                Value::Text("2023-11-14T22:13:20Z".into()),
                1_700_000_000_000,
            ),
            (
                Value::Text("2023-11-14T22:13:20.1Z".into()),
                1_700_000_000_100,
            ),
            (
                Value::Text("2023-11-14T22:13:20.123999Z".into()),
                1_700_000_000_123,
            ),
            (
                Value::Text("2023-11-14T22:13:20.999999999Z".into()),
                1_700_000_000_999,
            ),
            (
                Value::Text("2023-11-15T00:13:20.123+02:00".into()),
                1_700_000_000_123,
            ),
            (
                Value::Text("2023-11-14T16:43:20.1239-05:30".into()),
                1_700_000_000_123,
            ),
            (Value::Text("1969-12-31T23:59:59.999Z".into()), -1),
        ];
        for (stored, ms) in forms {
            let (sql_ms, rust): (Option<i64>, Option<OffsetDateTime>) = conn
                .query_row(
                    concat!(
                        "WITH t(x) AS (SELECT ?1) SELECT ",
                        unix_ms!("x"),
                        ", x FROM t"
                    ),
                    [stored],
                    |row| Ok((row.get(0)?, instant_at(row, 1)?)),
                )
                .unwrap();
            assert_eq!(sql_ms, Some(*ms), "SQL reading {stored:?}");
            assert_eq!(
                rust.map(to_unix_millis),
                Some(*ms),
                "Rust reading {stored:?}"
            );
        }
        let unreadable: Option<i64> = conn
            .query_row(
                concat!("WITH t(x) AS (SELECT ?1) SELECT ", unix_ms!("x"), " FROM t"),
                ["soon"],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(unreadable, None);
    }
}
