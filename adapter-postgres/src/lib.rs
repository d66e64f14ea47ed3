#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, NewUser, Result, Session, SessionUpdate, User,
    UserUpdate, VerificationToken,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow, Postgres};
use sqlx::{Decode, Row, Type};
use time::OffsetDateTime;

/// The sqlx this crate is built on, to build a [`PgPool`] of the matching
/// version for [`PostgresAdapter::from_pool`].
pub use sqlx;

/// The schema SQL of version 1, as shipped in `migrations/0001_init.sql`, for
/// teams that run their own migration tool.
pub const SCHEMA_SQL: &str = include_str!("../migrations/0001_init.sql");

/// The table in which [`PostgresAdapter::migrate`] records the versions it
/// applied, in the adapter's schema. It is not sqlx's default
/// `_sqlx_migrations`, so that an application's own sqlx migrations in the
/// same schema keep their history apart.
pub const MIGRATIONS_TABLE: &str = "_auth_core_migrations";

/// Rows `purge_expired` deletes per statement.
const PURGE_BATCH: i64 = 1000;

/// Connections a pool opens at most unless told otherwise.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;

// ------------------------------------------------------------------ options

/// Where the server is, which schema the tables live in and how many
/// connections to keep.
///
/// ```no_run
/// # async fn run() -> auth_core::Result<()> {
/// use adapter_postgres::{PostgresAdapter, PostgresOptions};
///
/// let options = PostgresOptions::new("postgres://app@db.internal/app")?
///     .schema("auth")
///     .max_connections(16);
/// let adapter = PostgresAdapter::with_options(options).await?;
/// adapter.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresOptions {
    connect: PgConnectOptions,
    schema: String,
    max_connections: u32,
}

impl PostgresOptions {
    /// Options for the server at `url`
    /// (`postgres://user:password@host:port/database?...`, as `libpq` takes
    /// it), in schema `public`, with up to 10 connections.
    ///
    /// Errors: `InvalidInput` (field `url`) when the URL cannot be parsed.
    pub fn new(url: &str) -> Result<Self> {
        let connect = PgConnectOptions::from_str(url)
            .map_err(|e| AdapterError::invalid_input("url", e.to_string()))?;
        Ok(Self::from_connect_options(connect))
    }

    /// Options from sqlx connect options built by hand, in schema `public`,
    /// with up to 10 connections.
    pub fn from_connect_options(connect: PgConnectOptions) -> Self {
        Self {
            connect,
            schema: "public".to_owned(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }

    /// The schema that holds the tables (default `public`, where Auth.js
    /// looks for them). Every connection gets it as its only `search_path`
    /// (this overrides a `search_path` given in the URL), so the statements
    /// themselves name no schema. [`PostgresAdapter::migrate`] creates it if
    /// it is missing.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The most connections the pool opens (default 10).
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }
}

/// Shows where the options point, never the password.
impl fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("host", &self.connect.get_host())
            .field("port", &self.connect.get_port())
            .field("username", &self.connect.get_username())
            .field("database", &self.connect.get_database())
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

// ------------------------------------------------------------------ connect

/// The PostgreSQL adapter: the [`Adapter`] trait on a sqlx [`PgPool`], in the
/// Auth.js schema. Cheap to clone (the pool is shared). See the
/// [crate docs](crate).
#[derive(Clone)]
pub struct PostgresAdapter {
    pool: PgPool,
    /// The schema set as `search_path` on every connection, or `None` for a
    /// pool built elsewhere, whose own `search_path` is used.
    schema: Option<String>,
}

impl PostgresAdapter {
    /// Connects to `url` with the default [`PostgresOptions`] (schema
    /// `public`, up to 10 connections). Opens one connection to check the
    /// server answers.
    ///
    /// Errors: `InvalidInput` for a URL that cannot be parsed; `Backend` when
    /// the server cannot be reached or refuses the login.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::with_options(PostgresOptions::new(url)?).await
    }

    /// Connects with explicit options. Opens one connection to check the
    /// server answers.
    ///
    /// Errors: `InvalidInput` for an empty schema name, one longer than
    /// PostgreSQL's 63 bytes, one with a NUL byte or one starting with the
    /// reserved `pg_`; `Backend` when the
    /// server cannot be reached or refuses the login.
    pub async fn with_options(options: PostgresOptions) -> Result<Self> {
        let PostgresOptions {
            connect,
            schema,
            max_connections,
        } = options;
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
        let connect = connect.options([("search_path", quote_ident(&schema))]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(connect)
            .await
            .map_err(backend)?;
        Ok(Self {
            pool,
            schema: Some(schema),
        })
    }

    /// An adapter on a pool built elsewhere.
    ///
    /// The schema option cannot be applied to connections that already
    /// exist, so the pool's own `search_path` decides where the tables are
    /// (normally `public`; set it in the pool's connect options, e.g.
    /// `PgConnectOptions::options([("search_path", "auth")])`), and
    /// [`migrate`](Self::migrate) creates them in the first schema of that
    /// path, which must exist.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool, schema: None }
    }

    /// The underlying pool, for queries of your own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The schema the adapter set as `search_path`, or `None` when it was
    /// built [from a pool](Self::from_pool).
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    // ---------------------------------------------------------------- migrate

    /// Creates the schema (if the adapter set one and it is missing), then
    /// the tables and indexes, or upgrades them to the newest version. Safe to
    /// run at every start and from several processes at once: sqlx holds a
    /// PostgreSQL advisory lock while it migrates, and records applied
    /// versions in [`MIGRATIONS_TABLE`].
    ///
    /// Errors: `Backend` when a statement fails, or when the recorded
    /// version 1 differs from the one shipped (the migration file was edited).
    pub async fn migrate(&self) -> Result<()> {
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        if let Some(schema) = &self.schema {
            migrator.create_schema(quote_ident(schema));
        }
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => backend(e),
            other => AdapterError::backend(other),
        })
    }
}

/// Shows the schema and pool size, never connection secrets.
impl fmt::Debug for PostgresAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresAdapter")
            .field("schema", &self.schema)
            .field("connections", &self.pool.size())
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
    let instant = truncate_to_millis(instant);
    // `time` counts 1 BC as year 0, so 4713 BC is -4712.
    if (-4712..=294_275).contains(&instant.year()) {
        Ok(instant)
    } else {
        Err(AdapterError::invalid_input(
            field,
            format!(
                "year {} is outside the range of timestamptz",
                instant.year()
            ),
        ))
    }
}

fn optional_instant(
    field: &'static str,
    value: Option<OffsetDateTime>,
) -> Result<Option<OffsetDateTime>> {
    value.map(|t| instant(field, t)).transpose()
}

/// The counter as Prisma's `Int` column stores it.
fn counter(counter: u32) -> Result<i32> {
    i32::try_from(counter).map_err(|_| {
        AdapterError::invalid_input(
            "counter",
            "above 2147483647, the largest value of the integer column Auth.js uses",
        )
    })
}

fn check_new_user(user: &NewUser) -> Result<()> {
    storable("name", user.name.as_deref())?;
    storable("email", user.email.as_deref())?;
    storable("image", user.image.as_deref())
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
    storable("session_state", a.session_state.as_deref())
}

fn check_authenticator(a: &Authenticator) -> Result<()> {
    storable("credentialID", a.credential_id.as_str())?;
    storable("userId", a.user_id.as_str())?;
    storable("providerAccountId", a.provider_account_id.as_str())?;
    storable("credentialPublicKey", a.credential_public_key.as_str())?;
    storable("credentialDeviceType", a.credential_device_type.as_str())?;
    storable("transports", a.transports.as_deref())
}

// ------------------------------------------------------------------- rows

fn column<'r, T>(row: &'r PgRow, name: &str) -> Result<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get(name).map_err(backend)
}

/// A user from the columns `id`, `name`, `email`, `emailVerified`, `image`.
fn user_from_row(row: &PgRow) -> Result<User> {
    Ok(User {
        id: column(row, "id")?,
        name: column(row, "name")?,
        email: column(row, "email")?,
        email_verified: column::<Option<OffsetDateTime>>(row, "emailVerified")?
            .map(truncate_to_millis),
        image: column(row, "image")?,
    })
}

fn account_from_row(row: &PgRow) -> Result<Account> {
    let kind: String = column(row, "type")?;
    Ok(Account {
        user_id: column(row, "userId")?,
        // An unknown stored type is corrupt data, not caller input.
        account_type: kind.parse().map_err(|e: AdapterError| {
            AdapterError::backend(format!("stored account type: {e}"))
        })?,
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

fn session_from_row(row: &PgRow) -> Result<Session> {
    Ok(Session {
        session_token: column(row, "sessionToken")?,
        user_id: column(row, "userId")?,
        expires: truncate_to_millis(column(row, "expires")?),
    })
}

fn authenticator_from_row(row: &PgRow) -> Result<Authenticator> {
    let counter: i32 = column(row, "counter")?;
    Ok(Authenticator {
        credential_id: column(row, "credentialID")?,
        user_id: column(row, "userId")?,
        provider_account_id: column(row, "providerAccountId")?,
        credential_public_key: column(row, "credentialPublicKey")?,
        counter: u32::try_from(counter).map_err(|_| {
            AdapterError::backend(format!(
                "stored authenticator counter {counter} is negative"
            ))
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

fn not_found_user(id: &str) -> AdapterError {
    AdapterError::not_found("user", format!("id {id:?}"))
}

// -------------------------------------------------------------- the trait

#[async_trait]
impl Adapter for PostgresAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        check_new_user(&user)?;
        let email_verified = optional_instant("emailVerified", user.email_verified)?;
        let user = NewUser {
            email_verified,
            ..user
        }
        .into_user(uuid::Uuid::new_v4().to_string());
        sqlx::query(
            r#"INSERT INTO "User" ("id", "name", "email", "emailVerified", "image")
               VALUES ($1, $2, $3, $4, $5)"#,
        )
        .bind(&user.id)
        .bind(&user.name)
        .bind(&user.email)
        .bind(user.email_verified)
        .bind(&user.image)
        .execute(&self.pool)
        .await
        .map_err(|e| write_error(e, ("user", "email"), None))?;
        Ok(user)
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        if unstorable_key(id) {
            return Ok(None);
        }
        sqlx::query(
            r#"SELECT "id", "name", "email", "emailVerified", "image" FROM "User" WHERE "id" = $1"#,
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        if unstorable_key(email) {
            return Ok(None);
        }
        sqlx::query(
            r#"SELECT "id", "name", "email", "emailVerified", "image" FROM "User" WHERE "email" = $1"#,
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        if unstorable_key(provider) || unstorable_key(provider_account_id) {
            return Ok(None);
        }
        sqlx::query(
            r#"SELECT u."id", u."name", u."email", u."emailVerified", u."image"
               FROM "Account" a JOIN "User" u ON u."id" = a."userId"
               WHERE a."provider" = $1 AND a."providerAccountId" = $2"#,
        )
        .bind(provider)
        .bind(provider_account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn update_user(&self, update: UserUpdate) -> Result<User> {
        storable("name", patch_value(&update.name))?;
        storable("email", patch_value(&update.email))?;
        storable("image", patch_value(&update.image))?;
        let email_verified = optional_instant("emailVerified", update.email_verified.flatten())?;
        if unstorable_key(&update.id) {
            return Err(not_found_user(&update.id));
        }
        // One statement: each column is set only when its flag says so.
        let row = sqlx::query(
            r#"UPDATE "User" SET
                   "name" = CASE WHEN $2 THEN $3 ELSE "name" END,
                   "email" = CASE WHEN $4 THEN $5 ELSE "email" END,
                   "emailVerified" = CASE WHEN $6 THEN $7 ELSE "emailVerified" END,
                   "image" = CASE WHEN $8 THEN $9 ELSE "image" END
               WHERE "id" = $1
               RETURNING "id", "name", "email", "emailVerified", "image""#,
        )
        .bind(&update.id)
        .bind(update.name.is_some())
        .bind(patch_value(&update.name))
        .bind(update.email.is_some())
        .bind(patch_value(&update.email))
        .bind(update.email_verified.is_some())
        .bind(email_verified)
        .bind(update.image.is_some())
        .bind(patch_value(&update.image))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| write_error(e, ("user", "email"), None))?;
        match row {
            Some(row) => user_from_row(&row),
            None => Err(not_found_user(&update.id)),
        }
    }

    async fn delete_user(&self, id: &str) -> Result<Option<User>> {
        if unstorable_key(id) {
            return Ok(None);
        }
        // The foreign keys cascade to accounts, sessions and authenticators
        // inside this one statement: all or nothing.
        sqlx::query(
            r#"DELETE FROM "User" WHERE "id" = $1
               RETURNING "id", "name", "email", "emailVerified", "image""#,
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        check_account(&account)?;
        sqlx::query(
            r#"INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId",
                   "refresh_token", "access_token", "expires_at", "token_type", "scope",
                   "id_token", "session_state")
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        )
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
        .map_err(|e| {
            write_error(
                e,
                ("account", "provider_account_id"),
                Some(&account.user_id),
            )
        })?;
        Ok(account)
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        if unstorable_key(provider) || unstorable_key(provider_account_id) {
            return Ok(None);
        }
        sqlx::query(
            r#"DELETE FROM "Account" WHERE "provider" = $1 AND "providerAccountId" = $2
               RETURNING "userId", "type", "provider", "providerAccountId", "refresh_token",
                   "access_token", "expires_at", "token_type", "scope", "id_token",
                   "session_state""#,
        )
        .bind(provider)
        .bind(provider_account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        if unstorable_key(provider) || unstorable_key(provider_account_id) {
            return Ok(None);
        }
        sqlx::query(
            r#"SELECT "userId", "type", "provider", "providerAccountId", "refresh_token",
                   "access_token", "expires_at", "token_type", "scope", "id_token",
                   "session_state"
               FROM "Account" WHERE "provider" = $1 AND "providerAccountId" = $2"#,
        )
        .bind(provider)
        .bind(provider_account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(account_from_row)
        .transpose()
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        storable("sessionToken", session.session_token.as_str())?;
        storable("userId", session.user_id.as_str())?;
        let session = Session {
            expires: instant("expires", session.expires)?,
            ..session
        };
        sqlx::query(
            r#"INSERT INTO "Session" ("sessionToken", "userId", "expires") VALUES ($1, $2, $3)"#,
        )
        .bind(&session.session_token)
        .bind(&session.user_id)
        .bind(session.expires)
        .execute(&self.pool)
        .await
        .map_err(|e| write_error(e, ("session", "token"), Some(&session.user_id)))?;
        Ok(session)
    }

    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>> {
        if unstorable_key(session_token) {
            return Ok(None);
        }
        let Some(row) = sqlx::query(
            r#"SELECT s."expires", u."id", u."name", u."email", u."emailVerified", u."image"
               FROM "Session" s JOIN "User" u ON u."id" = s."userId"
               WHERE s."sessionToken" = $1 AND s."expires" > now()"#,
        )
        .bind(session_token)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let session = Session {
            session_token: session_token.to_owned(),
            user_id: user.id.clone(),
            expires: truncate_to_millis(column(&row, "expires")?),
        };
        Ok(Some((session, user)))
    }

    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        storable("userId", update.user_id.as_deref())?;
        let expires = optional_instant("expires", update.expires)?;
        if unstorable_key(&update.session_token) {
            return Ok(None);
        }
        sqlx::query(
            r#"UPDATE "Session"
               SET "expires" = COALESCE($2, "expires"), "userId" = COALESCE($3, "userId")
               WHERE "sessionToken" = $1
               RETURNING "sessionToken", "userId", "expires""#,
        )
        .bind(&update.session_token)
        .bind(expires)
        .bind(&update.user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| write_error(e, ("session", "token"), update.user_id.as_deref()))?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        if unstorable_key(session_token) {
            return Ok(None);
        }
        sqlx::query(
            r#"DELETE FROM "Session" WHERE "sessionToken" = $1
               RETURNING "sessionToken", "userId", "expires""#,
        )
        .bind(session_token)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        storable("identifier", token.identifier.as_str())?;
        storable("token", token.token.as_str())?;
        let token = VerificationToken {
            expires: instant("expires", token.expires)?,
            ..token
        };
        sqlx::query(
            r#"INSERT INTO "VerificationToken" ("identifier", "token", "expires")
               VALUES ($1, $2, $3)"#,
        )
        .bind(&token.identifier)
        .bind(&token.token)
        .bind(token.expires)
        .execute(&self.pool)
        .await
        .map_err(|e| write_error(e, ("verification token", "token"), None))?;
        Ok(token)
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        if unstorable_key(identifier) || unstorable_key(token) {
            return Ok(None);
        }
        // Deleting is the claim: of concurrent calls only one gets the row.
        // An expired token is deleted too, and reported as none.
        let Some(row) = sqlx::query(
            r#"DELETE FROM "VerificationToken" WHERE "identifier" = $1 AND "token" = $2
               RETURNING "identifier", "token", "expires", "expires" > now() AS "valid""#,
        )
        .bind(identifier)
        .bind(token)
        .fetch_optional(&self.pool)
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

    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        check_authenticator(&authenticator)?;
        let stored_counter = counter(authenticator.counter)?;
        sqlx::query(
            r#"INSERT INTO "Authenticator" ("credentialID", "userId", "providerAccountId",
                   "credentialPublicKey", "counter", "credentialDeviceType",
                   "credentialBackedUp", "transports")
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"#,
        )
        .bind(&authenticator.credential_id)
        .bind(&authenticator.user_id)
        .bind(&authenticator.provider_account_id)
        .bind(&authenticator.credential_public_key)
        .bind(stored_counter)
        .bind(&authenticator.credential_device_type)
        .bind(authenticator.credential_backed_up)
        .bind(&authenticator.transports)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            write_error(
                e,
                ("authenticator", "credential_id"),
                Some(&authenticator.user_id),
            )
        })?;
        Ok(authenticator)
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        if unstorable_key(credential_id) {
            return Ok(None);
        }
        sqlx::query(
            r#"SELECT "credentialID", "userId", "providerAccountId", "credentialPublicKey",
                   "counter", "credentialDeviceType", "credentialBackedUp", "transports"
               FROM "Authenticator" WHERE "credentialID" = $1"#,
        )
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?
        .as_ref()
        .map(authenticator_from_row)
        .transpose()
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        if unstorable_key(user_id) {
            return Ok(Vec::new());
        }
        sqlx::query(
            r#"SELECT "credentialID", "userId", "providerAccountId", "credentialPublicKey",
                   "counter", "credentialDeviceType", "credentialBackedUp", "transports"
               FROM "Authenticator" WHERE "userId" = $1"#,
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?
        .iter()
        .map(authenticator_from_row)
        .collect()
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        new_counter: u32,
    ) -> Result<Authenticator> {
        let stored_counter = counter(new_counter)?;
        let not_found = || AdapterError::not_found("authenticator", "no such credential id");
        if unstorable_key(credential_id) {
            return Err(not_found());
        }
        let row = sqlx::query(
            r#"UPDATE "Authenticator" SET "counter" = $2 WHERE "credentialID" = $1
               RETURNING "credentialID", "userId", "providerAccountId", "credentialPublicKey",
                   "counter", "credentialDeviceType", "credentialBackedUp", "transports""#,
        )
        .bind(credential_id)
        .bind(stored_counter)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        match row {
            Some(row) => authenticator_from_row(&row),
            None => Err(not_found()),
        }
    }

    async fn purge_expired(&self) -> Result<u64> {
        // Bounded batches keep each statement's locks and WAL small. The outer
        // `expires` test is checked again on rows a concurrent update_session
        // changed meanwhile, so a session extended at that moment survives.
        const PURGES: [&str; 2] = [
            r#"DELETE FROM "Session"
               WHERE "sessionToken" IN (
                   SELECT "sessionToken" FROM "Session" WHERE "expires" <= now() LIMIT $1)
                 AND "expires" <= now()"#,
            r#"DELETE FROM "VerificationToken"
               WHERE ("identifier", "token") IN (
                   SELECT "identifier", "token" FROM "VerificationToken"
                   WHERE "expires" <= now() LIMIT $1)
                 AND "expires" <= now()"#,
        ];
        let mut purged = 0;
        for statement in PURGES {
            loop {
                let deleted = sqlx::query(statement)
                    .bind(PURGE_BATCH)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?
                    .rows_affected();
                purged += deleted;
                if deleted < PURGE_BATCH as u64 {
                    break;
                }
            }
        }
        Ok(purged)
    }
}

// ----------------------------------------------------------- error mapping

/// The error of a write: a unique violation is a `Conflict` on `conflict`
/// (entity, key), a foreign-key violation means the user `user_id` is
/// missing, anything else is classified by [`backend`].
fn write_error(
    err: sqlx::Error,
    conflict: (&'static str, &'static str),
    user_id: Option<&str>,
) -> AdapterError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_unique_violation() {
            return AdapterError::conflict(conflict.0, conflict.1);
        }
        if db.is_foreign_key_violation() {
            return not_found_user(user_id.unwrap_or_default());
        }
    }
    backend(err)
}

/// Any other error: a data exception (SQLSTATE class 22: a value the server
/// cannot store) is `InvalidInput`; the rest is `Backend`. Server errors keep
/// their code, message and constraint but lose their `DETAIL`, which quotes
/// the offending row, tokens included.
fn backend(err: sqlx::Error) -> AdapterError {
    match err {
        sqlx::Error::Database(db) => {
            let error = ServerError {
                code: db.code().map(|c| c.into_owned()),
                message: db.message().to_owned(),
                constraint: db.constraint().map(str::to_owned),
            };
            if error.code.as_deref().is_some_and(|c| c.starts_with("22")) {
                AdapterError::invalid_input("value", error.to_string())
            } else {
                AdapterError::backend(error)
            }
        }
        other => AdapterError::backend(other),
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
        assert!(counter(u32::MAX).unwrap_err().is_invalid_input());
        assert_eq!(counter(i32::MAX as u32).unwrap(), i32::MAX);
        let ancient = datetime!(-5000-01-01 0:00 UTC);
        assert!(instant("expires", ancient).unwrap_err().is_invalid_input());
        assert_eq!(
            instant("expires", datetime!(2030-01-01 0:00:00.123999 +01:00)).unwrap(),
            datetime!(2029-12-31 23:00:00.123 UTC)
        );
    }

    #[test]
    fn debug_of_options_hides_the_password() {
        let options = PostgresOptions::new("postgres://app:hunter2@db:5433/app")
            .unwrap()
            .schema("auth");
        let printed = format!("{options:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("auth") && printed.contains("5433"));
    }
}
