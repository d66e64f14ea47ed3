#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::timestamp::{check_year_range, truncate_to_millis};
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Result, Session,
    SessionUpdate, User, UserUpdate, VerificationToken, new_id, with_timeout,
};
use deadpool_postgres::{
    ClientWrapper, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql, Type};

mod connect;
mod migrate;
mod tables;

use connect::TlsOptions;
use tables::Statements;

/// The layouts of the official Auth.js adapters this adapter can share
/// tables with, and the table names; chosen with
/// [`PostgresOptions::layout`], [`PostgresOptions::table_names`] and
/// [`PostgresOptions::table_prefix`]. See the crate docs, "Sharing a
/// database with Auth.js".
pub use auth_core::layout::{Layout, TableNames};

/// The tokio-postgres this crate is built on: its [`Config`](tokio_postgres::Config)
/// for [`PostgresOptions::from_connect_options`], and the client of
/// [`PostgresAdapter::pool`]'s connections.
pub use tokio_postgres;

/// The deadpool-postgres this crate is built on, to build a
/// [`Pool`] of the matching version for
/// [`PostgresAdapter::from_pool`].
pub use deadpool_postgres;

/// The schema SQL of version 1, as shipped in `migrations/0001_init.sql`, for
/// teams that run their own migration tool. Apply [`MIGRATIONS_SQL`] (all
/// versions, in order) to get the schema [`PostgresAdapter::migrate`] makes.
pub const SCHEMA_SQL: &str = include_str!("../migrations/0001_init.sql");

/// Every migration [`PostgresAdapter::migrate`] applies, in order, as
/// `(version, sql)`: `migrations/0001_init.sql` (the tables) and
/// `migrations/0002_authenticator_counter_bigint.sql` (the authenticator
/// `counter` as `bigint`, so it holds every `u32`).
pub const MIGRATIONS_SQL: &[(i64, &str)] = &[
    (1, SCHEMA_SQL),
    (
        2,
        include_str!("../migrations/0002_authenticator_counter_bigint.sql"),
    ),
];

/// The table in which [`PostgresAdapter::migrate`] records the versions it
/// applied, in the adapter's schema, in the format of sqlx's migrator
/// (`version`, `description`, `installed_on`, `success`, `checksum`: the
/// SHA-384 of the SQL, `execution_time`), which versions of this crate
/// built on sqlx used: a schema either migrated is one the other accepts.
/// It is not sqlx's default `_sqlx_migrations`, so that an application's
/// own sqlx migrations in the same schema keep their history apart.
pub const MIGRATIONS_TABLE: &str = "_auth_core_migrations";

/// The most bytes a key may hold: a value of a column with a B-tree index
/// (`email`, `sessionToken`, `userId`, `credentialID`, ...), and the columns
/// of a composite key together (`provider` + `providerAccountId`,
/// `identifier` + `token`, `userId` + `credentialID`). A B-tree index entry
/// holds at most about 2,700 bytes (a third of an 8 KiB page); longer keys
/// are rejected with `InvalidInput` naming the field before they reach the
/// server. Columns that are not keys hold any length up to PostgreSQL's
/// 1 GB.
pub const MAX_KEY_BYTES: usize = 2048;

/// Rows `purge_expired` deletes per statement.
const PURGE_BATCH: i64 = 1000;

/// Connections a pool opens at most unless told otherwise.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long one adapter call may take unless told otherwise.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the server runs one statement unless told otherwise (nine
/// tenths of [`DEFAULT_OPERATION_TIMEOUT`]: see
/// [`PostgresOptions::statement_timeout`]).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(9);
/// How long a statement waits for a row or table lock unless told otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);
/// How long [`PostgresAdapter::migrate`] may take unless told otherwise,
/// waiting for other processes' migrations included.
pub const DEFAULT_MIGRATE_TIMEOUT: Duration = Duration::from_secs(60);

// ------------------------------------------------------------------ options

/// Where the server is, which schema the tables live in, how many
/// connections to keep and how long anything may wait.
///
/// ```no_run
/// # async fn run() -> auth_core::Result<()> {
/// use std::time::Duration;
/// use adapter_postgres::{PostgresAdapter, PostgresOptions};
///
/// let options = PostgresOptions::from_url("postgres://app@db.internal/app")?
///     .namespace("auth")
///     .pool_size(16)
///     .operation_timeout(Duration::from_secs(5))
///     .lock_timeout(Duration::from_secs(2));
/// let adapter = PostgresAdapter::connect_with(options).await?;
/// adapter.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresOptions {
    connect: tokio_postgres::Config,
    tls: TlsOptions,
    schema: String,
    max_connections: u32,
    limits: Limits,
    layout: Layout,
    names: TableNames,
    prefix: String,
}

/// The time limits of an adapter.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// Each public call, waiting for a pooled connection included.
    operation: Duration,
    /// The server's `statement_timeout`.
    statement: Duration,
    /// The server's `lock_timeout`.
    lock: Duration,
    /// The whole of `migrate()`.
    migrate: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            operation: DEFAULT_OPERATION_TIMEOUT,
            statement: DEFAULT_STATEMENT_TIMEOUT,
            lock: DEFAULT_LOCK_TIMEOUT,
            migrate: DEFAULT_MIGRATE_TIMEOUT,
        }
    }
}

impl Limits {
    /// Refuses a limit of zero (which PostgreSQL reads as "no limit") or one
    /// longer than PostgreSQL's settings hold (`i32::MAX` milliseconds).
    fn check(&self) -> Result<()> {
        for (field, limit) in [
            ("operation_timeout", self.operation),
            ("statement_timeout", self.statement),
            ("lock_timeout", self.lock),
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

    /// `err`, or a timeout error for `operation` when `err` says the server
    /// or the pool gave up waiting: the server's `statement_timeout`
    /// (SQLSTATE 57014), its `lock_timeout` (55P03), or no pooled connection
    /// in time.
    fn classify(&self, operation: &'static str, err: AdapterError) -> AdapterError {
        let AdapterError::Backend(source) = &err else {
            return err;
        };
        if let Some(server) = source.downcast_ref::<ServerError>() {
            match server.code.as_deref() {
                Some("57014") if server.message.contains("statement timeout") => {
                    return AdapterError::timed_out(operation, self.statement);
                }
                Some("55P03") => return AdapterError::timed_out(operation, self.lock),
                _ => {}
            }
        }
        if let Some(PoolError::Timeout(_)) = source.downcast_ref::<PoolError>() {
            return AdapterError::timed_out(operation, self.operation);
        }
        err
    }
}

/// The most the server's statement and lock timeouts may be for an operation
/// timeout of `operation`: the operation timeout less a margin of a tenth of
/// it and at least one second, but never less than half of it (at least
/// 1 ms). The margin is what lets the server's cancellation reach the
/// client before the client gives up, on a loaded machine too.
fn server_cap(operation: Duration) -> Duration {
    let margin = (operation / 10).max(Duration::from_secs(1));
    operation
        .saturating_sub(margin)
        .max(operation / 2)
        .max(Duration::from_millis(1))
}

/// `limit` as a PostgreSQL setting value in milliseconds, e.g. `"5000ms"`.
fn pg_millis(limit: Duration) -> String {
    format!("{}ms", limit.as_millis().max(1))
}

impl PostgresOptions {
    /// Options for the server at `url`
    /// (`postgres://user:password@host:port/database?...`, as `libpq` takes
    /// it), in schema `public`, with up to 10 connections and the default
    /// time limits.
    ///
    /// The query may hold what tokio-postgres reads (`host`, `port`,
    /// `user`, `password`, `dbname`, `application_name`, `options`,
    /// `connect_timeout`, `keepalives`, `target_session_attrs`,
    /// `channel_binding`, ...), and `sslmode` (`disable`, `allow`, `prefer`
    /// (the default), `require`, `verify-ca`, `verify-full`), `sslrootcert`,
    /// `sslcert`, `sslkey` and `options[name]=value`; other parameters
    /// (`?schema=...` of a Prisma URL, say) are ignored. As with libpq, the
    /// environment variables `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
    /// `PGDATABASE`, `PGAPPNAME`, `PGOPTIONS`, `PGSSLMODE`,
    /// `PGSSLROOTCERT`, `PGSSLCERT` and `PGSSLKEY` fill in what the URL
    /// leaves out (the host defaults to `localhost`).
    ///
    /// Errors: `InvalidInput` (field `url`) when the URL cannot be parsed;
    /// the error never quotes it.
    pub fn from_url(url: &str) -> Result<Self> {
        let (connect, tls) =
            connect::parse_url(url).map_err(|e| AdapterError::invalid_input("url", e))?;
        Ok(Self {
            tls,
            ..Self::from_connect_options(connect)
        })
    }

    /// The former name of [`from_url`](Self::from_url).
    #[doc(hidden)]
    pub fn new(url: &str) -> Result<Self> {
        Self::from_url(url)
    }

    /// Options from a tokio-postgres [`Config`](tokio_postgres::Config) built
    /// by hand, in schema `public`, with up to 10 connections and the
    /// default time limits. Its `ssl_mode` decides whether TLS is used
    /// (`Prefer`, the default, and `Require` check no certificate, as libpq's
    /// `prefer` and `require`; for `verify-ca` or `verify-full` use
    /// [`from_url`](Self::from_url)).
    pub fn from_connect_options(connect: tokio_postgres::Config) -> Self {
        Self {
            connect,
            tls: TlsOptions::default(),
            schema: "public".to_owned(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            limits: Limits::default(),
            layout: Layout::default(),
            names: TableNames::default(),
            prefix: String::new(),
        }
    }

    /// The tables of which official Auth.js adapter to use (default
    /// [`Layout::Prisma`], the tables of `@auth/prisma-adapter` and
    /// `@auth/kysely-adapter`): [`Layout::Drizzle`] for
    /// `@auth/drizzle-adapter`'s default PostgreSQL schema,
    /// [`Layout::PgAdapter`] for `@auth/pg-adapter`'s. Also resets the
    /// table names to the layout's own (a [prefix](Self::table_prefix)
    /// stays), so call it before [`table_names`](Self::table_names).
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self.names = TableNames::of(layout);
        self
    }

    /// Other names for the layout's five tables (default
    /// [`TableNames::of`] the layout), e.g. for a Drizzle schema declared
    /// with `pgTable("auth_user", ...)`. The columns stay the layout's.
    /// Checked when connecting: names must be 1 to 63 bytes (with the
    /// prefix), without NUL, and distinct (`InvalidInput` on field
    /// `table_names`).
    pub fn table_names(mut self, names: TableNames) -> Self {
        self.names = names;
        self
    }

    /// A prefix put before each table name (default none), e.g. `"auth_"`
    /// for `"auth_user"`, `"auth_account"`, ... . Replaces an earlier
    /// prefix; applies to the names of [`layout`](Self::layout) or
    /// [`table_names`](Self::table_names), whichever order they are called
    /// in. The schema is [`namespace`](Self::namespace).
    pub fn table_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }

    /// The namespace: the schema that holds the tables (default `public`,
    /// where Auth.js looks for them). Every connection gets it as its only
    /// `search_path` (this overrides a `search_path` given in the URL), so
    /// the statements themselves name no schema.
    /// [`PostgresAdapter::migrate`] creates it if it is missing.
    pub fn namespace(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The former name of [`namespace`](Self::namespace).
    #[doc(hidden)]
    pub fn schema(self, schema: impl Into<String>) -> Self {
        self.namespace(schema)
    }

    /// The most connections the pool opens (default 10; at least 1, checked
    /// when connecting).
    pub fn pool_size(mut self, size: u32) -> Self {
        self.max_connections = size;
        self
    }

    /// The former name of [`pool_size`](Self::pool_size).
    #[doc(hidden)]
    pub fn max_connections(self, max_connections: u32) -> Self {
        self.pool_size(max_connections)
    }

    /// How long one call of the adapter may take in all, waiting for a
    /// pooled connection (or opening one) included (default 10 s, as
    /// [`DEFAULT_OPERATION_TIMEOUT`]). A call that runs out of time returns
    /// a `Backend` error for which
    /// [`is_timeout`](AdapterError::is_timeout) is true. Also the pool's
    /// wait, create and recycle timeouts, and the limit on opening the first
    /// connection in [`PostgresAdapter::connect_with`].
    pub fn operation_timeout(mut self, limit: Duration) -> Self {
        self.limits.operation = limit;
        self
    }

    /// The server's `statement_timeout` on every connection: the longest one
    /// statement may run before the server cancels it (default 9 s, as
    /// [`DEFAULT_STATEMENT_TIMEOUT`]). A cancelled statement is reported as
    /// a timeout.
    ///
    /// It is capped below the operation timeout (by a tenth of it and at
    /// least a second, never below half of it), so that the server gives up
    /// first and says so, and a statement the adapter no
    /// longer waits for does not complete later. (When the client gives up
    /// first all the same, after a slow wait for a connection say, the
    /// outcome of the call is unknown, as with any lost reply.)
    pub fn statement_timeout(mut self, limit: Duration) -> Self {
        self.limits.statement = limit;
        self
    }

    /// The server's `lock_timeout` on every connection: the longest a
    /// statement waits for a row or table lock another transaction holds
    /// (default 5 s, as [`DEFAULT_LOCK_TIMEOUT`]; capped below the operation
    /// timeout like the statement timeout). Running out is
    /// reported as a timeout.
    pub fn lock_timeout(mut self, limit: Duration) -> Self {
        self.limits.lock = limit;
        self
    }

    /// How long [`PostgresAdapter::migrate`] may take in all, waiting for
    /// other processes that migrate the same schema included (default 60 s,
    /// as [`DEFAULT_MIGRATE_TIMEOUT`]). Its statements run under this limit
    /// instead of the statement and lock timeouts.
    pub fn migrate_timeout(mut self, limit: Duration) -> Self {
        self.limits.migrate = limit;
        self
    }
}

/// Shows where the options point, never the password.
impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("hosts", &self.connect.get_hosts())
            .field("ports", &self.connect.get_ports())
            .field("username", &self.connect.get_user())
            .field("database", &self.connect.get_dbname())
            .field("ssl_mode", &self.connect.get_ssl_mode())
            .field("schema", &self.schema)
            .field("layout", &self.layout)
            .field("table_names", &self.names.clone().with_prefix(&self.prefix))
            .field("max_connections", &self.max_connections)
            .field("operation_timeout", &self.limits.operation)
            .field("statement_timeout", &self.limits.statement)
            .field("lock_timeout", &self.limits.lock)
            .field("migrate_timeout", &self.limits.migrate)
            .finish()
    }
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

// ------------------------------------------------------------------ connect

/// The PostgreSQL adapter: the [`Adapter`] trait on a tokio-postgres
/// client pooled by deadpool-postgres, in the Auth.js schema. Cheap to
/// clone (the pool is shared). See the [crate docs](crate).
#[derive(Clone)]
pub struct PostgresAdapter {
    pool: Pool,
    /// The schema set as `search_path` on every connection, or `None` for a
    /// pool built elsewhere, whose own `search_path` is used.
    schema: Option<String>,
    limits: Limits,
    /// The statements of the layout and table names, built once.
    sql: &'static Statements,
}

impl PostgresAdapter {
    /// Connects to `url` with the default [`PostgresOptions`] (schema
    /// `public`, up to 10 connections, the default time limits). Opens one
    /// connection to check the server answers.
    ///
    /// Errors: `InvalidInput` for a URL that cannot be parsed; `Backend` when
    /// the server cannot be reached, refuses the login or does not answer
    /// within the operation timeout (then
    /// [`is_timeout`](AdapterError::is_timeout) is true).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(PostgresOptions::from_url(url)?).await
    }

    /// The former name of [`connect_with`](Self::connect_with).
    #[doc(hidden)]
    pub async fn with_options(options: PostgresOptions) -> Result<Self> {
        Self::connect_with(options).await
    }

    /// Connects with explicit options. Opens one connection to check the
    /// server answers, within the operation timeout.
    ///
    /// Every connection of the pool gets the schema as `search_path` and the
    /// statement and lock timeouts as `statement_timeout` and `lock_timeout`,
    /// as startup options, set once when it opens (these override the same
    /// settings given in the URL), and `TimeZone` `UTC` and `DateStyle`
    /// `ISO, MDY` unless the URL's `options` say otherwise. Connections are
    /// handed out without a test query (deadpool's
    /// [`RecyclingMethod::Fast`]): one the server closed is dropped when it
    /// comes back to the pool or is next taken out, and replaced.
    ///
    /// Errors: `InvalidInput` for an empty schema name, one longer than
    /// PostgreSQL's 63 bytes, one with a NUL byte or one starting with the
    /// reserved `pg_`, a pool size of 0, a time limit of zero or above
    /// `i32::MAX` milliseconds, or (with the `tls` feature) an `sslrootcert`,
    /// `sslcert` or `sslkey` file that cannot be read; `Backend` when the
    /// server cannot be reached, refuses the login or does not answer in
    /// time (then [`is_timeout`](AdapterError::is_timeout) is true).
    pub async fn connect_with(options: PostgresOptions) -> Result<Self> {
        let PostgresOptions {
            mut connect,
            tls,
            schema,
            max_connections,
            limits,
            layout,
            names,
            prefix,
        } = options;
        let names = names.with_prefix(&prefix);
        names.check(63)?;
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
        if max_connections == 0 {
            return Err(AdapterError::invalid_input(
                "pool_size",
                "must be at least 1",
            ));
        }
        limits.check()?;
        // The server gives up on a statement before the caller does, so that
        // it reports the timeout itself and a statement the caller no longer
        // waits for does not complete later.
        let server_cap = server_cap(limits.operation);
        let limits = Limits {
            statement: limits.statement.min(server_cap),
            lock: limits.lock.min(server_cap),
            ..limits
        };
        // Session settings, once per connection as startup options: no
        // statement per call sets anything.
        connect::with_settings(
            &mut connect,
            &[("TimeZone", "UTC"), ("DateStyle", "ISO, MDY")],
            &[
                ("search_path", &quote_ident(&schema)),
                ("statement_timeout", &pg_millis(limits.statement)),
                ("lock_timeout", &pg_millis(limits.lock)),
            ],
        );
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match connect.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => {
                Manager::from_config(connect, tokio_postgres::NoTls, manager_config)
            }
            #[cfg(feature = "tls")]
            _ => Manager::from_config(connect, connect::tls::connector(&tls)?, manager_config),
            #[cfg(not(feature = "tls"))]
            _ => {
                let _ = &tls;
                Manager::from_config(connect, tokio_postgres::NoTls, manager_config)
            }
        };
        let pool = Pool::builder(manager)
            .max_size(usize::try_from(max_connections).unwrap_or(usize::MAX))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(limits.operation))
            .create_timeout(Some(limits.operation))
            .recycle_timeout(Some(limits.operation))
            .build()
            .map_err(AdapterError::backend)?;
        // One connection now, so that a wrong URL or password fails here;
        // it goes back to the pool for the first call.
        with_timeout(limits.operation, "connect", async {
            pool.get().await.map(drop).map_err(pool_error)
        })
        .await
        .map_err(|e| limits.classify("connect", e))?;
        Ok(Self {
            pool,
            schema: Some(schema),
            limits,
            sql: Statements::of(layout, &names),
        })
    }

    /// An adapter on a deadpool-postgres pool built elsewhere (with the
    /// [`deadpool_postgres`] this crate re-exports).
    ///
    /// The schema option cannot be applied to a pool built elsewhere, so
    /// the pool's own `search_path` decides where the tables are (normally
    /// `public`; set it in the pool's [`Config`](tokio_postgres::Config),
    /// e.g. `config.options("-c search_path=auth")`), and
    /// [`migrate`](Self::migrate) creates them in the first schema of that
    /// path, which must exist. The same goes for the server's
    /// `statement_timeout` and `lock_timeout` (set them in the options too)
    /// and the pool's timeouts. Each call is still bounded by the default
    /// operation timeout (10 s; change it with
    /// [`with_operation_timeout`](Self::with_operation_timeout)), and
    /// `migrate` by the default migrate timeout (60 s). The adapter's
    /// statements go through the pool's per-connection statement cache
    /// (`prepare_typed_cached`), like those of an adapter from
    /// [`connect`](Self::connect).
    ///
    /// The adapter uses the default layout's tables; choose others with
    /// [`with_tables`](Self::with_tables).
    ///
    /// ```no_run
    /// # async fn run() -> auth_core::Result<()> {
    /// use adapter_postgres::deadpool_postgres::{
    ///     Manager, ManagerConfig, Pool, RecyclingMethod, Runtime,
    /// };
    /// use adapter_postgres::{PostgresAdapter, tokio_postgres};
    /// use auth_core::AdapterError;
    ///
    /// let mut config: tokio_postgres::Config = "postgres://app:secret@127.0.0.1/app"
    ///     .parse()
    ///     .map_err(AdapterError::backend)?;
    /// config.options("-c search_path=auth");
    /// let manager = Manager::from_config(
    ///     config,
    ///     tokio_postgres::NoTls,
    ///     ManagerConfig { recycling_method: RecyclingMethod::Fast },
    /// );
    /// let pool = Pool::builder(manager)
    ///     .max_size(16)
    ///     .runtime(Runtime::Tokio1)
    ///     .wait_timeout(Some(std::time::Duration::from_secs(5)))
    ///     .build()
    ///     .map_err(AdapterError::backend)?;
    /// let adapter = PostgresAdapter::from_pool(pool);
    /// adapter.migrate().await?; // in schema `auth`, which must exist
    /// # Ok(()) }
    /// ```
    pub fn from_pool(pool: Pool) -> Self {
        Self {
            pool,
            schema: None,
            limits: Limits::default(),
            sql: Statements::of(Layout::default(), &TableNames::default()),
        }
    }

    /// The same adapter on the tables of `layout` named `names` (see
    /// [`PostgresOptions::layout`] and [`PostgresOptions::table_names`]);
    /// meant for an adapter [from a pool](Self::from_pool).
    ///
    /// Errors: `InvalidInput` on field `table_names` for an empty name, one
    /// longer than 63 bytes or with a NUL, or two alike.
    pub fn with_tables(mut self, layout: Layout, names: TableNames) -> Result<Self> {
        names.check(63)?;
        self.sql = Statements::of(layout, &names);
        Ok(self)
    }

    /// The layout of the tables this adapter uses.
    pub fn layout(&self) -> Layout {
        self.sql.layout
    }

    /// The names of the tables this adapter uses (prefix included).
    pub fn table_names(&self) -> &TableNames {
        &self.sql.names
    }

    /// The same adapter with another limit on each call (see
    /// [`PostgresOptions::operation_timeout`]); meant for an adapter
    /// [from a pool](Self::from_pool), whose pool has its own timeouts.
    /// A zero limit is raised to 1 ms.
    pub fn with_operation_timeout(mut self, limit: Duration) -> Self {
        self.limits.operation = limit.max(Duration::from_millis(1));
        self
    }

    /// The underlying deadpool-postgres pool, for queries of your own:
    /// `adapter.pool().get().await` is a
    /// [`tokio_postgres::Client`] (through `Deref`) with a statement cache
    /// (`prepare_cached`).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The namespace: the schema the adapter set as `search_path`, or `""`
    /// when it was built [from a pool](Self::from_pool) (whose own
    /// `search_path` decides).
    pub fn namespace(&self) -> &str {
        self.schema.as_deref().unwrap_or_default()
    }

    /// The schema the adapter set as `search_path`, or `None` when it was
    /// built [from a pool](Self::from_pool).
    #[doc(hidden)]
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Removes the namespace and everything in it: `DROP SCHEMA ... CASCADE`
    /// on the adapter's schema (for an adapter [from a
    /// pool](Self::from_pool), the first schema of its `search_path`,
    /// `current_schema()`), then closes the pool. Every table in the schema
    /// goes, not only this adapter's: meant for tests and tear-downs (the
    /// conformance tests call it after each case). Clones of this adapter
    /// stop working.
    ///
    /// Errors: `Backend` when the server refuses (or, for a pool, its
    /// `search_path` names no existing schema), within the migrate timeout.
    pub async fn drop_namespace(self) -> Result<()> {
        let limits = self.limits;
        let drop = async {
            let client = self.pool.get().await.map_err(pool_error)?;
            let schema = match &self.schema {
                Some(schema) => schema.clone(),
                None => client
                    .query_typed_one("SELECT current_schema()::text", &[])
                    .await
                    .map_err(backend)?
                    .try_get::<_, Option<String>>(0)
                    .map_err(backend)?
                    .ok_or_else(|| {
                        AdapterError::backend("the pool's search_path names no existing schema")
                    })?,
            };
            let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(&schema));
            client.batch_execute(&sql).await.map_err(backend)
        };
        // DDL waits for the locks of everyone still using the schema: the
        // migrate timeout, not the operation timeout, bounds it.
        let result = with_timeout(limits.migrate, "drop_namespace", drop)
            .await
            .map_err(|e| limits.classify("drop_namespace", e));
        self.pool.close();
        result
    }

    /// Runs one call within the operation timeout, reporting the server's
    /// and the pool's timeouts as timeouts of `operation` too.
    async fn run<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        with_timeout(self.limits.operation, operation, call)
            .await
            .map_err(|e| self.limits.classify(operation, e))
    }

    /// A pooled connection (no round trip: no test query on checkout).
    async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(pool_error)
    }

    // ---------------------------------------------------------------- migrate

    /// Creates the schema (if the adapter set one and it is missing), then
    /// the tables and indexes, or upgrades them to the newest version
    /// ([`MIGRATIONS_SQL`]). Safe to run at every start and from any number
    /// of processes at once, on a fresh schema too.
    ///
    /// For a [layout](PostgresOptions::layout) or
    /// [table names](PostgresOptions::table_names) other than the default,
    /// it runs that layout's official DDL instead, as `CREATE TABLE IF NOT
    /// EXISTS` (tables the official adapter made are kept), adds the indexes
    /// the adapter needs, widens the few columns the adapter contract needs
    /// wider, and checks that every column it uses exists; nothing is
    /// recorded (see the crate docs, "Sharing a database with Auth.js").
    ///
    /// It works on one connection of its own, taken out of the pool and
    /// closed at the end, and holds a PostgreSQL advisory lock keyed on the
    /// schema name for the whole run, so that concurrent calls on one schema
    /// run one after the other: the first creates the schema and applies the
    /// migrations, the others find them applied. (The per-database lock of
    /// sqlx's migrator, which the versions of this crate built on sqlx took,
    /// is taken inside it as well.) Applied versions are recorded in
    /// [`MIGRATIONS_TABLE`] in the same schema, in sqlx's format, so that
    /// schemas migrated by either version are accepted by the other. The
    /// whole run is bounded by the migrate timeout (default 60 s,
    /// [`PostgresOptions::migrate_timeout`]), which also serves as its
    /// statement and lock timeout.
    ///
    /// Errors: `Backend` when a statement fails, when it runs out of time
    /// ([`is_timeout`](AdapterError::is_timeout) true), or when the recorded
    /// history cannot be continued: a version recorded as failed, one whose
    /// checksum differs from the one shipped (a migration file was edited),
    /// or one this build does not ship.
    pub async fn migrate(&self) -> Result<()> {
        let limits = self.limits;
        with_timeout(limits.migrate, "migrate", self.migrate_call())
            .await
            .map_err(|e| {
                Limits {
                    statement: server_cap(limits.migrate),
                    lock: server_cap(limits.migrate),
                    ..limits
                }
                .classify("migrate", e)
            })
    }

    async fn migrate_call(&self) -> Result<()> {
        // A connection of its own, out of the pool: if this call is
        // cancelled or fails, dropping it closes it and the server releases
        // the advisory locks with it, instead of a pooled connection keeping
        // them.
        let mut conn: ClientWrapper = Object::take(self.client().await?);
        let limit = pg_millis(server_cap(self.limits.migrate));
        conn.execute_typed(
            "SELECT set_config('statement_timeout', $1, false), \
                    set_config('lock_timeout', $1, false)",
            &[(&limit, Type::TEXT)],
        )
        .await
        .map_err(backend)?;
        // Keyed on the schema, so migrations of other schemas do not wait.
        // For a pool from elsewhere, the first schema of its search_path.
        conn.execute_typed(
            "SELECT pg_advisory_lock(hashtextextended('adapter-postgres migrate ' \
                 || COALESCE($1, current_schema(), current_setting('search_path')), 0))",
            &[(&self.schema.as_deref(), Type::TEXT)],
        )
        .await
        .map_err(backend)?;
        if let Some(schema) = &self.schema {
            create_schema(&conn, schema).await?;
        }
        if self.sql.versioned {
            migrate::run_versioned(&mut conn).await?;
        } else {
            migrate::run_layout(&mut conn, self.sql).await?;
        }
        // Dropping the connection closes it, which ends the session and
        // releases the advisory lock.
        drop(conn);
        Ok(())
    }
}

/// `CREATE SCHEMA IF NOT EXISTS`, which is not atomic in PostgreSQL: two
/// sessions creating one schema at once can both pass the existence check,
/// and one fails with a unique violation on `pg_namespace`. Our callers hold
/// the migrate lock, but another tool may not: retry once, when the schema
/// then exists.
async fn create_schema(conn: &tokio_postgres::Client, schema: &str) -> Result<()> {
    let sql = format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(schema));
    for attempt in 0..2 {
        match conn.batch_execute(&sql).await {
            Ok(()) => return Ok(()),
            Err(e)
                if attempt == 0
                    && e.code().is_some_and(|c| {
                        *c == SqlState::UNIQUE_VIOLATION || *c == SqlState::DUPLICATE_SCHEMA
                    }) => {}
            Err(e) => return Err(backend(e)),
        }
    }
    Ok(())
}

/// Shows the schema and pool size, never connection secrets.
impl fmt::Debug for PostgresAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresAdapter")
            .field("schema", &self.schema)
            .field("layout", &self.sql.layout)
            .field("connections", &self.pool.status().size)
            .field("operation_timeout", &self.limits.operation)
            .finish()
    }
}

// ------------------------------------------------------------ input checks

/// PostgreSQL `text` cannot hold a NUL byte: refuse it rather than let the
/// server fail on it.
fn storable<'a>(field: &'static str, value: impl Into<Option<&'a str>>) -> Result<()> {
    match value.into() {
        Some(v) if v.contains('\0') => Err(AdapterError::invalid_input(
            field,
            "contains a NUL byte, which PostgreSQL text cannot store",
        )),
        _ => Ok(()),
    }
}

/// A key that was never stored: it holds a NUL byte, which no stored value
/// can. Lookups by it find nothing without asking the server.
fn unstorable_key(key: &str) -> bool {
    key.contains('\0')
}

/// `instant` as it is stored: truncated to the millisecond, and within
/// `timestamptz`'s range (4713 BC to 294276 AD).
fn instant(field: &'static str, instant: OffsetDateTime) -> Result<OffsetDateTime> {
    // `time` counts 1 BC as year 0, so 4713 BC is -4712.
    check_year_range(field, truncate_to_millis(instant), -4712..=294_275)
}

fn optional_instant(
    field: &'static str,
    value: Option<OffsetDateTime>,
) -> Result<Option<OffsetDateTime>> {
    value.map(|t| instant(field, t)).transpose()
}

/// Whether `id` is a `SERIAL` id as pg-adapter's tables store it: an
/// `int4` in canonical decimal form, so that each user has one id string.
fn serial_id(id: &str) -> bool {
    id.parse::<i32>().is_ok_and(|n| n.to_string() == id)
}

/// The counter as the `bigint` column stores it: every `u32` fits.
fn counter(counter: u32) -> i64 {
    i64::from(counter)
}

/// A key column's value fits a B-tree index entry: at most
/// [`MAX_KEY_BYTES`].
fn key<'a>(field: &'static str, value: impl Into<Option<&'a str>>) -> Result<()> {
    match value.into() {
        Some(v) if v.len() > MAX_KEY_BYTES => Err(AdapterError::invalid_input(
            field,
            format!(
                "{} bytes; a key holds at most {MAX_KEY_BYTES} bytes (a PostgreSQL B-tree \
                 index entry holds about 2,700)",
                v.len()
            ),
        )),
        _ => Ok(()),
    }
}

/// The columns of a composite key fit one index entry together; the longer
/// one is named when they do not.
fn composite_key(first: (&'static str, &str), second: (&'static str, &str)) -> Result<()> {
    key(first.0, first.1)?;
    key(second.0, second.1)?;
    let total = first.1.len() + second.1.len();
    if total > MAX_KEY_BYTES {
        let field = if first.1.len() > second.1.len() {
            first.0
        } else {
            second.0
        };
        return Err(AdapterError::invalid_input(
            field,
            format!(
                "{} and {} together are {total} bytes; a key holds at most {MAX_KEY_BYTES} bytes",
                first.0, second.0
            ),
        ));
    }
    Ok(())
}

fn check_new_user(user: &NewUser) -> Result<()> {
    storable("name", user.name.as_deref())?;
    storable("email", user.email.as_deref())?;
    storable("image", user.image.as_deref())?;
    key("email", user.email.as_deref())
}

fn check_account(a: &Account) -> Result<()> {
    storable("userId", a.user_id.as_str())?;
    storable("provider", a.provider.as_str())?;
    storable("providerAccountId", a.provider_account_id.as_str())?;
    storable("access_token", a.access_token.as_deref())?;
    storable("refresh_token", a.refresh_token.as_deref())?;
    storable("token_type", a.token_type.as_deref())?;
    storable("scope", a.scope.as_deref())?;
    storable("id_token", a.id_token.as_deref())?;
    storable("session_state", a.session_state.as_deref())?;
    key("userId", a.user_id.as_str())?;
    composite_key(
        ("provider", &a.provider),
        ("providerAccountId", &a.provider_account_id),
    )
}

fn check_authenticator(a: &Authenticator) -> Result<()> {
    storable("credentialID", a.credential_id.as_str())?;
    storable("userId", a.user_id.as_str())?;
    storable("providerAccountId", a.provider_account_id.as_str())?;
    storable("credentialPublicKey", a.credential_public_key.as_str())?;
    storable("credentialDeviceType", a.credential_device_type.as_str())?;
    storable("transports", a.transports.as_deref())?;
    composite_key(("userId", &a.user_id), ("credentialID", &a.credential_id))
}

// ------------------------------------------------------------------- rows

/// The parameter types of each statement, sent with it when it is prepared
/// (as sqlx sent them): every layout's statement of one call binds the same
/// parameters, and the SQL casts where a layout's column differs (`$1::int4`
/// for pg-adapter's ids, `AT TIME ZONE 'UTC'` for Drizzle's timestamps).
mod params {
    use tokio_postgres::types::Type;

    const TEXT: Type = Type::TEXT;
    const BOOL: Type = Type::BOOL;
    const INT8: Type = Type::INT8;
    const TS: Type = Type::TIMESTAMPTZ;

    /// A key: `get_user`, `get_user_by_email`, `delete_user`,
    /// `list_accounts`, `delete_session`, `get_authenticator`,
    /// `list_authenticators`.
    pub const KEY: &[Type] = &[TEXT];
    /// A composite key (`provider`, `providerAccountId`).
    pub const KEY2: &[Type] = &[TEXT, TEXT];
    /// A key and the caller's now.
    pub const KEY_NOW: &[Type] = &[TEXT, TS];
    /// id, name, email, emailVerified, image.
    pub const CREATE_USER: &[Type] = &[TEXT, TEXT, TEXT, TS, TEXT];
    /// id, then a flag and a value for name, email, emailVerified, image.
    pub const UPDATE_USER: &[Type] = &[TEXT, BOOL, TEXT, BOOL, TEXT, BOOL, TS, BOOL, TEXT];
    /// userId, type, provider, providerAccountId, refresh_token,
    /// access_token, expires_at, token_type, scope, id_token, session_state.
    pub const LINK_ACCOUNT: &[Type] = &[
        TEXT, TEXT, TEXT, TEXT, TEXT, TEXT, INT8, TEXT, TEXT, TEXT, TEXT,
    ];
    /// sessionToken, userId, expires; identifier, token, expires; and
    /// identifier, token, now.
    pub const KEY2_TIME: &[Type] = &[TEXT, TEXT, TS];
    /// sessionToken, expires, userId, now.
    pub const UPDATE_SESSION: &[Type] = &[TEXT, TS, TEXT, TS];
    /// credentialID, userId, providerAccountId, credentialPublicKey,
    /// counter, credentialDeviceType, credentialBackedUp, transports.
    pub const CREATE_AUTHENTICATOR: &[Type] = &[TEXT, TEXT, TEXT, TEXT, INT8, TEXT, BOOL, TEXT];
    /// credentialID, counter.
    pub const UPDATE_COUNTER: &[Type] = &[TEXT, INT8];
    /// The batch size, now.
    pub const PURGE: &[Type] = &[INT8, TS];
}

/// Prepared statements run with tokio-postgres's extended protocol: one
/// round trip per call. Each statement is prepared once per connection
/// (with its parameter types) and then taken from that connection's
/// statement cache (deadpool-postgres's `prepare_typed_cached`).
async fn rows(
    client: &ClientWrapper,
    sql: &str,
    types: &[Type],
    params: &[&(dyn ToSql + Sync)],
) -> std::result::Result<Vec<Row>, tokio_postgres::Error> {
    let statement = client.prepare_typed_cached(sql, types).await?;
    client.query(&statement, params).await
}

/// The first row of [`rows`], if any.
async fn first_row(
    client: &ClientWrapper,
    sql: &str,
    types: &[Type],
    params: &[&(dyn ToSql + Sync)],
) -> std::result::Result<Option<Row>, tokio_postgres::Error> {
    Ok(rows(client, sql, types, params).await?.into_iter().next())
}

/// The rows [`rows`]' statement changed.
async fn execute(
    client: &ClientWrapper,
    sql: &str,
    types: &[Type],
    params: &[&(dyn ToSql + Sync)],
) -> std::result::Result<u64, tokio_postgres::Error> {
    let statement = client.prepare_typed_cached(sql, types).await?;
    client.execute(&statement, params).await
}

fn column<'r, T: FromSql<'r>>(row: &'r Row, name: &str) -> Result<T> {
    row.try_get(name).map_err(backend)
}

/// A user from the columns `id`, `name`, `email`, `emailVerified`, `image`.
fn user_from_row(row: &Row) -> Result<User> {
    Ok(User {
        id: column(row, "id")?,
        name: column(row, "name")?,
        email: column(row, "email")?,
        email_verified: column::<Option<OffsetDateTime>>(row, "emailVerified")?
            .map(truncate_to_millis),
        image: column(row, "image")?,
    })
}

fn account_from_row(row: &Row) -> Result<Account> {
    let kind: String = column(row, "type")?;
    Ok(Account {
        user_id: column(row, "userId")?,
        // An unknown stored type is corrupt data, not caller input.
        account_type: kind
            .parse()
            .map_err(|e: AdapterError| AdapterError::stored_data("type", e.to_string()))?,
        provider: column(row, "provider")?,
        provider_account_id: column(row, "providerAccountId")?,
        access_token: column(row, "access_token")?,
        refresh_token: column(row, "refresh_token")?,
        expires_at: column(row, "expires_at")?,
        token_type: column(row, "token_type")?,
        scope: column(row, "scope")?,
        id_token: column(row, "id_token")?,
        session_state: column(row, "session_state")?,
    })
}

fn session_from_row(row: &Row) -> Result<Session> {
    Ok(Session {
        session_token: column(row, "sessionToken")?,
        user_id: column(row, "userId")?,
        expires: truncate_to_millis(column(row, "expires")?),
    })
}

fn authenticator_from_row(row: &Row) -> Result<Authenticator> {
    // Selected as bigint, so a 32-bit `integer` column of a table another
    // tool created reads the same way.
    let counter: i64 = column(row, "counter")?;
    Ok(Authenticator {
        credential_id: column(row, "credentialID")?,
        user_id: column(row, "userId")?,
        provider_account_id: column(row, "providerAccountId")?,
        credential_public_key: column(row, "credentialPublicKey")?,
        counter: u32::try_from(counter).map_err(|_| {
            AdapterError::stored_data("counter", format!("{counter} is outside the u32 range"))
        })?,
        credential_device_type: column(row, "credentialDeviceType")?,
        credential_backed_up: column(row, "credentialBackedUp")?,
        transports: column(row, "transports")?,
    })
}

/// The value a patch field sets, if it sets one.
fn patch_value(field: &Option<Option<String>>) -> Option<&str> {
    field.as_ref().and_then(|v| v.as_deref())
}

// -------------------------------------------------------------- the trait

/// The calls themselves, each bounded by [`PostgresAdapter::run`] in the
/// [`Adapter`] impl below. Their SQL is the layout's, built once
/// ([`tables::Statements`]); every layout binds the same parameters
/// ([`params`]). Each takes one pooled connection and runs one statement
/// (pg-adapter's `delete_user` and `update_session` excepted, see there).
impl PostgresAdapter {
    /// Whether `id` can name a user of this layout: no NUL, and for
    /// pg-adapter's `SERIAL` ids a decimal `int4` in canonical form
    /// (`"7"`, not `"07"`, `"+7"` or `"7 "`). An id that cannot is no user.
    fn user_ref(&self, id: &str) -> bool {
        !unstorable_key(id) && (!self.sql.serial_ids() || serial_id(id))
    }

    /// A `varchar(255)` column of pg-adapter holds at most 255 characters:
    /// refuse longer values naming the field, rather than let the server
    /// fail without naming it.
    fn fits<'a>(&self, field: &'static str, value: impl Into<Option<&'a str>>) -> Result<()> {
        match (self.sql.max_chars(field), value.into()) {
            (Some(max), Some(v)) if v.chars().count() > max => Err(AdapterError::invalid_input(
                field,
                format!(
                    "longer than {max} characters, the most this layout's varchar({max}) \
                     column holds"
                ),
            )),
            _ => Ok(()),
        }
    }

    async fn create_user_call(&self, user: NewUser) -> Result<User> {
        check_new_user(&user)?;
        self.fits("name", user.name.as_deref())?;
        self.fits("email", user.email.as_deref())?;
        let email_verified = optional_instant("emailVerified", user.email_verified)?;
        let user = NewUser {
            email_verified,
            ..user
        }
        .into_user(new_id());
        let client = self.client().await?;
        let params: [&(dyn ToSql + Sync); 5] = [
            &user.id,
            &user.name,
            &user.email,
            &user.email_verified,
            &user.image,
        ];
        if self.sql.serial_ids() {
            // The SERIAL column numbered the user.
            let row = first_row(&client, self.sql.create_user, params::CREATE_USER, &params)
                .await
                .map_err(|e| write_error(e, Key::Email, None))?
                .ok_or_else(|| AdapterError::backend("INSERT ... RETURNING returned no row"))?;
            return Ok(User {
                id: column(&row, "id")?,
                ..user
            });
        }
        execute(&client, self.sql.create_user, params::CREATE_USER, &params)
            .await
            .map_err(|e| write_error(e, Key::Email, None))?;
        Ok(user)
    }

    async fn get_user_call(&self, id: &str) -> Result<Option<User>> {
        if !self.user_ref(id) {
            return Ok(None);
        }
        let client = self.client().await?;
        first_row(&client, self.sql.get_user, params::KEY, &[&id])
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn get_user_by_email_call(&self, email: &str) -> Result<Option<User>> {
        if unstorable_key(email) {
            return Ok(None);
        }
        let client = self.client().await?;
        first_row(&client, self.sql.get_user_by_email, params::KEY, &[&email])
            .await
            .map_err(backend)?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn get_user_by_account_call(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        if unstorable_key(provider) || unstorable_key(provider_account_id) {
            return Ok(None);
        }
        let client = self.client().await?;
        first_row(
            &client,
            self.sql.get_user_by_account,
            params::KEY2,
            &[&provider, &provider_account_id],
        )
        .await
        .map_err(backend)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn update_user_call(&self, update: UserUpdate) -> Result<User> {
        storable("name", patch_value(&update.name))?;
        storable("email", patch_value(&update.email))?;
        storable("image", patch_value(&update.image))?;
        key("email", patch_value(&update.email))?;
        self.fits("name", patch_value(&update.name))?;
        self.fits("email", patch_value(&update.email))?;
        let email_verified = optional_instant("emailVerified", update.email_verified.flatten())?;
        if !self.user_ref(&update.id) {
            return Err(AdapterError::user_not_found(&update.id));
        }
        // One statement: each column is set only when its flag says so.
        let client = self.client().await?;
        let row = first_row(
            &client,
            self.sql.update_user,
            params::UPDATE_USER,
            &[
                &update.id,
                &update.name.is_some(),
                &patch_value(&update.name),
                &update.email.is_some(),
                &patch_value(&update.email),
                &update.email_verified.is_some(),
                &email_verified,
                &update.image.is_some(),
                &patch_value(&update.image),
            ],
        )
        .await
        .map_err(|e| write_error(e, Key::Email, None))?;
        match row {
            Some(row) => user_from_row(&row),
            None => Err(AdapterError::user_not_found(&update.id)),
        }
    }

    async fn delete_user_call(&self, id: &str) -> Result<Option<User>> {
        if !self.user_ref(id) {
            return Ok(None);
        }
        let mut client = self.client().await?;
        if !self.sql.serial_ids() {
            // The foreign keys cascade to accounts, sessions and
            // authenticators inside this one statement: all or nothing.
            return first_row(&client, self.sql.delete_user, params::KEY, &[&id])
                .await
                .map_err(backend)?
                .as_ref()
                .map(user_from_row)
                .transpose();
        }
        // pg-adapter's tables have no foreign keys: one transaction deletes
        // the user, then its rows. Deleting the user row first waits for
        // the inserts that hold it (FOR KEY SHARE) and keeps new ones out;
        // the second statement's snapshot, taken after that, sees every
        // row they committed.
        let tx = client.transaction().await.map_err(backend)?;
        let statement = tx
            .prepare_typed_cached(self.sql.delete_user, params::KEY)
            .await
            .map_err(backend)?;
        let row = tx
            .query(&statement, &[&id])
            .await
            .map_err(backend)?
            .into_iter()
            .next();
        let Some(row) = row else {
            // Dropping the transaction rolls it back.
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let statement = tx
            .prepare_typed_cached(self.sql.delete_user_rows, params::KEY)
            .await
            .map_err(backend)?;
        tx.execute(&statement, &[&id]).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(Some(user))
    }

    async fn link_account_call(&self, account: Account) -> Result<Account> {
        check_account(&account)?;
        self.fits("type", account.account_type.as_str())?;
        self.fits("provider", account.provider.as_str())?;
        self.fits("providerAccountId", account.provider_account_id.as_str())?;
        if self.sql.expires_at_is_int4()
            && let Some(at) = account.expires_at
            && i32::try_from(at).is_err()
        {
            return Err(AdapterError::invalid_input(
                "expires_at",
                "outside -2147483648..=2147483647, the range of this layout's 32-bit \
                 integer column",
            ));
        }
        if !self.user_ref(&account.user_id) {
            return Err(AdapterError::user_not_found(&account.user_id));
        }
        let client = self.client().await?;
        let done = execute(
            &client,
            self.sql.link_account,
            params::LINK_ACCOUNT,
            &[
                &account.user_id,
                &account.account_type.as_str(),
                &account.provider,
                &account.provider_account_id,
                &account.refresh_token,
                &account.access_token,
                &account.expires_at,
                &account.token_type,
                &account.scope,
                &account.id_token,
                &account.session_state,
            ],
        )
        .await
        .map_err(|e| write_error(e, Key::ProviderAccountId, Some(&account.user_id)))?;
        // Without a foreign key (pg-adapter) the insert selects the user:
        // no row means no user.
        if done == 0 {
            return Err(AdapterError::user_not_found(&account.user_id));
        }
        Ok(account)
    }

    async fn unlink_account_call(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        if unstorable_key(provider) || unstorable_key(provider_account_id) {
            return Ok(None);
        }
        let client = self.client().await?;
        first_row(
            &client,
            self.sql.unlink_account,
            params::KEY2,
            &[&provider, &provider_account_id],
        )
        .await
        .map_err(backend)?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    async fn get_account_call(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        if unstorable_key(provider) || unstorable_key(provider_account_id) {
            return Ok(None);
        }
        let client = self.client().await?;
        first_row(
            &client,
            self.sql.get_account,
            params::KEY2,
            &[&provider, &provider_account_id],
        )
        .await
        .map_err(backend)?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    async fn list_accounts_by_user_id_call(&self, user_id: &str) -> Result<Vec<Account>> {
        if !self.user_ref(user_id) {
            return Ok(Vec::new());
        }
        // On the account table's "userId" index.
        let client = self.client().await?;
        rows(&client, self.sql.list_accounts, params::KEY, &[&user_id])
            .await
            .map_err(backend)?
            .iter()
            .map(account_from_row)
            .collect()
    }

    async fn create_session_call(&self, session: Session) -> Result<Session> {
        storable("sessionToken", session.session_token.as_str())?;
        storable("userId", session.user_id.as_str())?;
        key("sessionToken", session.session_token.as_str())?;
        key("userId", session.user_id.as_str())?;
        self.fits("sessionToken", session.session_token.as_str())?;
        let session = Session {
            expires: instant("expires", session.expires)?,
            ..session
        };
        if !self.user_ref(&session.user_id) {
            return Err(AdapterError::user_not_found(&session.user_id));
        }
        let client = self.client().await?;
        let done = execute(
            &client,
            self.sql.create_session,
            params::KEY2_TIME,
            &[&session.session_token, &session.user_id, &session.expires],
        )
        .await
        .map_err(|e| write_error(e, Key::SessionToken, Some(&session.user_id)))?;
        if done == 0 {
            return Err(AdapterError::user_not_found(&session.user_id));
        }
        Ok(session)
    }

    async fn get_session_and_user_call(
        &self,
        session_token: &str,
    ) -> Result<Option<(Session, User)>> {
        if unstorable_key(session_token) {
            return Ok(None);
        }
        // Expiry by the caller's clock, not the server's.
        let now = OffsetDateTime::now_utc();
        let client = self.client().await?;
        let Some(row) = first_row(
            &client,
            self.sql.get_session_and_user,
            params::KEY_NOW,
            &[&session_token, &now],
        )
        .await
        .map_err(backend)?
        else {
            return Ok(None);
        };
        drop(client);
        let user = user_from_row(&row)?;
        let session = Session {
            session_token: session_token.to_owned(),
            user_id: user.id.clone(),
            expires: truncate_to_millis(column(&row, "expires")?),
        };
        Ok(Some((session, user)))
    }

    async fn update_session_call(&self, update: SessionUpdate) -> Result<Option<Session>> {
        storable("userId", update.user_id.as_deref())?;
        key("userId", update.user_id.as_deref())?;
        let expires = optional_instant("expires", update.expires)?;
        if unstorable_key(&update.session_token) {
            return Ok(None);
        }
        // An expired session (by the caller's clock) is not updated: it
        // cannot be revived, exactly as it cannot be read.
        let now = OffsetDateTime::now_utc();
        let owner_ok = update.user_id.as_deref().is_none_or(|id| self.user_ref(id));
        let client = self.client().await?;
        if owner_ok {
            let row = first_row(
                &client,
                self.sql.update_session,
                params::UPDATE_SESSION,
                &[&update.session_token, &expires, &update.user_id, &now],
            )
            .await
            .map_err(|e| write_error(e, Key::SessionToken, update.user_id.as_deref()))?;
            if let Some(row) = row {
                return session_from_row(&row).map(Some);
            }
            if !self.sql.serial_ids() || update.user_id.is_none() {
                return Ok(None);
            }
        }
        // No row: without a foreign key (pg-adapter) that may be a missing
        // new owner. As with a foreign key, that is `NotFound` for a live
        // session, and none for an unknown one.
        let live: bool = first_row(
            &client,
            self.sql.session_is_live,
            params::KEY_NOW,
            &[&update.session_token, &now],
        )
        .await
        .map_err(backend)?
        .map(|row| row.try_get::<_, bool>(0))
        .transpose()
        .map_err(backend)?
        .unwrap_or(false);
        if live {
            return Err(AdapterError::user_not_found(
                update.user_id.as_deref().unwrap_or_default(),
            ));
        }
        Ok(None)
    }

    async fn delete_session_call(&self, session_token: &str) -> Result<Option<Session>> {
        if unstorable_key(session_token) {
            return Ok(None);
        }
        let client = self.client().await?;
        first_row(
            &client,
            self.sql.delete_session,
            params::KEY,
            &[&session_token],
        )
        .await
        .map_err(backend)?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    async fn list_sessions_by_user_id_call(&self, user_id: &str) -> Result<Vec<Session>> {
        if !self.user_ref(user_id) {
            return Ok(Vec::new());
        }
        // On the session table's "userId" index; expiry by the caller's
        // clock.
        let now = OffsetDateTime::now_utc();
        let client = self.client().await?;
        rows(
            &client,
            self.sql.list_sessions,
            params::KEY_NOW,
            &[&user_id, &now],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(session_from_row)
        .collect()
    }

    async fn create_verification_token_call(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        storable("identifier", token.identifier.as_str())?;
        storable("token", token.token.as_str())?;
        composite_key(("identifier", &token.identifier), ("token", &token.token))?;
        let token = VerificationToken {
            expires: instant("expires", token.expires)?,
            ..token
        };
        let client = self.client().await?;
        execute(
            &client,
            self.sql.create_verification_token,
            params::KEY2_TIME,
            &[&token.identifier, &token.token, &token.expires],
        )
        .await
        .map_err(|e| write_error(e, Key::Token, None))?;
        Ok(token)
    }

    async fn use_verification_token_call(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        if unstorable_key(identifier) || unstorable_key(token) {
            return Ok(None);
        }
        // Deleting is the claim: of concurrent calls only one gets the row.
        // An expired token is deleted too, and reported as none.
        let now = OffsetDateTime::now_utc();
        let client = self.client().await?;
        let Some(row) = first_row(
            &client,
            self.sql.use_verification_token,
            params::KEY2_TIME,
            &[&identifier, &token, &now],
        )
        .await
        .map_err(backend)?
        else {
            return Ok(None);
        };
        if !column::<bool>(&row, "valid")? {
            return Ok(None);
        }
        Ok(Some(VerificationToken {
            identifier: column(&row, "identifier")?,
            token: column(&row, "token")?,
            expires: truncate_to_millis(column(&row, "expires")?),
        }))
    }

    async fn create_authenticator_call(
        &self,
        authenticator: Authenticator,
    ) -> Result<Authenticator> {
        check_authenticator(&authenticator)?;
        let stored_counter = counter(authenticator.counter);
        if !self.user_ref(&authenticator.user_id) {
            return Err(AdapterError::user_not_found(&authenticator.user_id));
        }
        let client = self.client().await?;
        execute(
            &client,
            self.sql.create_authenticator,
            params::CREATE_AUTHENTICATOR,
            &[
                &authenticator.credential_id,
                &authenticator.user_id,
                &authenticator.provider_account_id,
                &authenticator.credential_public_key,
                &stored_counter,
                &authenticator.credential_device_type,
                &authenticator.credential_backed_up,
                &authenticator.transports,
            ],
        )
        .await
        .map_err(|e| authenticator_write_error(e, Some(&authenticator.user_id)))?;
        Ok(authenticator)
    }

    async fn get_authenticator_call(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        if unstorable_key(credential_id) {
            return Ok(None);
        }
        let client = self.client().await?;
        first_row(
            &client,
            self.sql.get_authenticator,
            params::KEY,
            &[&credential_id],
        )
        .await
        .map_err(backend)?
        .as_ref()
        .map(authenticator_from_row)
        .transpose()
    }

    async fn list_authenticators_by_user_id_call(
        &self,
        user_id: &str,
    ) -> Result<Vec<Authenticator>> {
        if !self.user_ref(user_id) {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        rows(
            &client,
            self.sql.list_authenticators,
            params::KEY,
            &[&user_id],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(authenticator_from_row)
        .collect()
    }

    async fn update_authenticator_counter_call(
        &self,
        credential_id: &str,
        new_counter: u32,
    ) -> Result<Authenticator> {
        let stored_counter = counter(new_counter);
        let not_found = || AdapterError::not_found(Entity::Authenticator, "no such credential id");
        if unstorable_key(credential_id) {
            return Err(not_found());
        }
        let client = self.client().await?;
        let row = first_row(
            &client,
            self.sql.update_counter,
            params::UPDATE_COUNTER,
            &[&credential_id, &stored_counter],
        )
        .await
        .map_err(|e| authenticator_write_error(e, None))?;
        match row {
            Some(row) => authenticator_from_row(&row),
            None => Err(not_found()),
        }
    }

    async fn purge_expired_call(&self) -> Result<u64> {
        // Bounded batches keep each statement's locks and WAL small. The outer
        // `expires` test is checked again on rows a concurrent update_session
        // changed meanwhile, so a session extended at that moment survives.
        // "Now" is the caller's clock, read once, sent as a parameter.
        let now = OffsetDateTime::now_utc();
        let client = self.client().await?;
        let mut purged = 0;
        for statement in self.sql.purge {
            loop {
                let deleted = execute(&client, statement, params::PURGE, &[&PURGE_BATCH, &now])
                    .await
                    .map_err(backend)?;
                purged += deleted;
                if deleted < PURGE_BATCH as u64 {
                    break;
                }
            }
        }
        Ok(purged)
    }
}

/// Every call runs within the operation timeout (see [`PostgresOptions`]).
#[async_trait]
impl Adapter for PostgresAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        self.run("create_user", self.create_user_call(user)).await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        self.run("get_user", self.get_user_call(id)).await
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.run("get_user_by_email", self.get_user_by_email_call(email))
            .await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        self.run(
            "get_user_by_account",
            self.get_user_by_account_call(provider, provider_account_id),
        )
        .await
    }

    async fn update_user(&self, update: UserUpdate) -> Result<User> {
        self.run("update_user", self.update_user_call(update)).await
    }

    async fn delete_user(&self, id: &str) -> Result<Option<User>> {
        self.run("delete_user", self.delete_user_call(id)).await
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        self.run("link_account", self.link_account_call(account))
            .await
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        self.run(
            "unlink_account",
            self.unlink_account_call(provider, provider_account_id),
        )
        .await
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        self.run(
            "get_account",
            self.get_account_call(provider, provider_account_id),
        )
        .await
    }

    async fn list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
        self.run(
            "list_accounts_by_user_id",
            self.list_accounts_by_user_id_call(user_id),
        )
        .await
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        self.run("create_session", self.create_session_call(session))
            .await
    }

    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>> {
        self.run(
            "get_session_and_user",
            self.get_session_and_user_call(session_token),
        )
        .await
    }

    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        self.run("update_session", self.update_session_call(update))
            .await
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        self.run("delete_session", self.delete_session_call(session_token))
            .await
    }

    async fn list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        self.run(
            "list_sessions_by_user_id",
            self.list_sessions_by_user_id_call(user_id),
        )
        .await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        self.run(
            "create_verification_token",
            self.create_verification_token_call(token),
        )
        .await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        self.run(
            "use_verification_token",
            self.use_verification_token_call(identifier, token),
        )
        .await
    }

    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        self.run(
            "create_authenticator",
            self.create_authenticator_call(authenticator),
        )
        .await
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        self.run(
            "get_authenticator",
            self.get_authenticator_call(credential_id),
        )
        .await
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        self.run(
            "list_authenticators_by_user_id",
            self.list_authenticators_by_user_id_call(user_id),
        )
        .await
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        new_counter: u32,
    ) -> Result<Authenticator> {
        self.run(
            "update_authenticator_counter",
            self.update_authenticator_counter_call(credential_id, new_counter),
        )
        .await
    }

    async fn purge_expired(&self) -> Result<u64> {
        self.run("purge_expired", self.purge_expired_call()).await
    }
}

// ----------------------------------------------------------- error mapping

/// The error of a write: a unique violation is a `Conflict` on `key`, a
/// foreign-key violation means the user `user_id` is missing, anything else
/// is classified by [`backend`].
fn write_error(err: tokio_postgres::Error, key: Key, user_id: Option<&str>) -> AdapterError {
    if let Some(code) = err.code() {
        if *code == SqlState::UNIQUE_VIOLATION {
            return AdapterError::conflict(key);
        }
        if *code == SqlState::FOREIGN_KEY_VIOLATION {
            return AdapterError::user_not_found(user_id.unwrap_or_default());
        }
    }
    backend(err)
}

/// The error of an authenticator write: an integer out of range (SQLSTATE
/// 22003) can only be the counter, on a table another tool created with a
/// 32-bit `integer` column (Prisma's `Int`) that [`PostgresAdapter::migrate`]
/// has not widened; the rest as [`write_error`].
fn authenticator_write_error(err: tokio_postgres::Error, user_id: Option<&str>) -> AdapterError {
    if err.code() == Some(&SqlState::NUMERIC_VALUE_OUT_OF_RANGE) {
        return AdapterError::invalid_input(
            "counter",
            "above 2147483647, the largest value of this table's 32-bit integer column; \
             run migrate() to widen it to bigint",
        );
    }
    write_error(err, Key::CredentialId, user_id)
}

/// The error of taking a connection from the pool: the connection's own
/// error when opening one failed (classified by [`backend`]); a timeout or a
/// closed pool as deadpool reports it (a timeout is then reported as a
/// timeout of the call, see `Limits::classify`).
fn pool_error(err: PoolError) -> AdapterError {
    match err {
        PoolError::Backend(err) => backend(err),
        other => AdapterError::backend(other),
    }
}

/// Any other error: a data exception (SQLSTATE class 22: a value the server
/// cannot store) is `InvalidInput`; the rest is `Backend`. Server errors keep
/// their code, message and constraint but lose their `DETAIL` (and `HINT`),
/// which quote the offending row, tokens included.
fn backend(err: tokio_postgres::Error) -> AdapterError {
    let Some(db) = err.as_db_error() else {
        // Connection, protocol and type errors: their text quotes no value.
        return AdapterError::backend(err);
    };
    let error = ServerError {
        code: Some(db.code().code().to_owned()),
        message: db.message().to_owned(),
        constraint: db.constraint().map(str::to_owned),
    };
    if error.code.as_deref().is_some_and(|c| c.starts_with("22")) {
        AdapterError::invalid_input("value", error.to_string())
    } else if error.code.as_deref() == Some("54000") && error.message.contains("index row") {
        // A key too long for its index entry: normally refused before
        // sending (MAX_KEY_BYTES), this catches indexes of our own
        // tables' other keys and of tables created elsewhere.
        AdapterError::invalid_input(indexed_field(&error.message), error.to_string())
    } else {
        AdapterError::backend(error)
    }
}

/// The field whose value made the index entry named in an "index row size"
/// message too large, by the index names this crate and Auth.js's Prisma
/// schema use (and, by their endings, those of the other layouts and of
/// prefixed tables); `value` for another index.
fn indexed_field(message: &str) -> &'static str {
    let index = message
        .split_once("index \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("", |(name, _)| name);
    match index {
        "User_email_key" => "email",
        "User_pkey" => "id",
        "Account_provider_providerAccountId_key" => "providerAccountId",
        "Account_userId_idx" | "Session_userId_idx" => "userId",
        "Session_sessionToken_key" => "sessionToken",
        "VerificationToken_pkey"
        | "VerificationToken_token_key"
        | "VerificationToken_identifier_token_key" => "token",
        "Authenticator_pkey" | "Authenticator_credentialID_key" => "credentialID",
        other => {
            const ENDINGS: [(&str, &str); 9] = [
                ("_email_key", "email"),
                ("_email_unique", "email"),
                ("_provider_providerAccountId_key", "providerAccountId"),
                ("_provider_providerAccountId_pk", "providerAccountId"),
                ("_userId_idx", "userId"),
                ("_sessionToken_key", "sessionToken"),
                ("_identifier_token_pk", "token"),
                ("_credentialID_key", "credentialID"),
                ("_credentialID_unique", "credentialID"),
            ];
            ENDINGS
                .iter()
                .find(|(ending, _)| other.ends_with(ending))
                .map_or("value", |(_, field)| field)
        }
    }
}

/// An error reported by the PostgreSQL server, without the parts that may
/// quote stored values.
#[derive(Debug)]
struct ServerError {
    code: Option<String>,
    message: String,
    constraint: Option<String>,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.code {
            write!(f, " (SQLSTATE {code})")?;
        }
        if let Some(constraint) = &self.constraint {
            write!(f, " on constraint {constraint:?}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("auth"), r#""auth""#);
        assert_eq!(quote_ident(r#"a"b c"#), r#""a""b c""#);
    }

    #[test]
    fn unstorable_values_are_refused_before_sending() {
        assert!(storable("name", "a\0b").unwrap_err().is_invalid_input());
        assert!(storable("name", None).is_ok());
        assert_eq!(counter(u32::MAX), 4_294_967_295);
        assert!(key("email", "x".repeat(MAX_KEY_BYTES).as_str()).is_ok());
        assert!(matches!(
            key("email", "x".repeat(MAX_KEY_BYTES + 1).as_str()),
            Err(AdapterError::InvalidInput { field: "email", .. })
        ));
        assert!(matches!(
            composite_key(
                ("provider", "p"),
                ("providerAccountId", &"x".repeat(MAX_KEY_BYTES))
            ),
            Err(AdapterError::InvalidInput {
                field: "providerAccountId",
                ..
            })
        ));
        assert_eq!(
            indexed_field(
                r#"index row size 6128 exceeds btree version 4 maximum 2704 for index "User_email_key""#
            ),
            "email"
        );
        assert_eq!(
            indexed_field(
                r#"index row size 6128 exceeds maximum 2712 for index "auth_user_email_unique""#
            ),
            "email"
        );
        let ancient = datetime!(-5000-01-01 0:00 UTC);
        assert!(instant("expires", ancient).unwrap_err().is_invalid_input());
        assert_eq!(
            instant("expires", datetime!(2030-01-01 0:00:00.123999 +01:00)).unwrap(),
            datetime!(2029-12-31 23:00:00.123 UTC)
        );
    }

    #[test]
    fn debug_of_options_hides_the_password() {
        let options = PostgresOptions::from_url("postgres://app:hunter2@db:5433/app")
            .unwrap()
            .namespace("auth");
        let printed = format!("{options:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("auth") && printed.contains("5433"));
    }
}
