#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, NewUser, Result, Session,
    SessionUpdate, User, UserUpdate, VerificationToken,
};
use sqlx::mysql::{
    MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions, MySqlQueryResult,
    MySqlRow,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, MySql, Row};
use time::{OffsetDateTime, PrimitiveDateTime};

pub use sqlx;

/// The schema as plain SQL, for teams that run their own migration tool. It
/// is migration 1 of [`MysqlAdapter::migrate`].
pub const SCHEMA_SQL: &str = include_str!("../migrations/0001_init.sql");

/// The table in which [`MysqlAdapter::migrate`] records applied migrations.
/// It is not sqlx's default `_sqlx_migrations`, so an application that keeps
/// its own sqlx migrations in the same database does not collide with ours.
pub const MIGRATIONS_TABLE: &str = "_auth_core_migrations";

/// How many expired rows [`Adapter::purge_expired`] deletes per statement, so
/// a large purge never holds many row locks at once.
const PURGE_BATCH: u64 = 1000;

/// Run on every new connection: an over-long value or an impossible date is
/// an error, never silently truncated (the server default usually has
/// `STRICT_TRANS_TABLES` already; this makes it certain).
const STRICT_SQL_MODE: &str = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')";

// ------------------------------------------------------------------ options

/// Which server and database to use, and how many connections to keep.
///
/// The database is the namespace: every table lives in it, as Auth.js
/// expects (the database named in its URL).
#[derive(Clone)]
pub struct MysqlOptions {
    connect: MySqlConnectOptions,
    max_connections: u32,
    create_database: bool,
}

impl MysqlOptions {
    /// Parses `mysql://user:password@host:port/database?options` (sqlx's
    /// URL syntax; MariaDB servers take the same URL).
    ///
    /// Errors: `InvalidInput` (field `url`) when it is not such a URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let connect = MySqlConnectOptions::from_str(url).map_err(|e| {
            // sqlx's message never repeats the URL, so no password leaks here.
            AdapterError::invalid_input("url", format!("not a MySQL URL: {e}"))
        })?;
        Ok(Self::new(connect))
    }

    /// Options from sqlx connect options built by hand.
    pub fn new(connect: MySqlConnectOptions) -> Self {
        Self {
            // Instants are bound and read as UTC DATETIMEs and "now" is
            // UTC_TIMESTAMP(3), so nothing depends on this; it keeps NOW() in
            // ad-hoc queries on our connections in UTC as well.
            connect: connect.timezone(Some("+00:00".to_owned())),
            max_connections: 10,
            create_database: false,
        }
    }

    /// Uses the database `name` instead of the one in the URL.
    pub fn database(mut self, name: &str) -> Self {
        self.connect = self.connect.database(name);
        self
    }

    /// Sets the most connections the pool opens (default 10, at least 1).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Creates the database (utf8mb4, binary collation) before connecting
    /// if it does not exist yet. Off by default; needs the `CREATE`
    /// privilege.
    pub fn create_database_if_missing(mut self, create: bool) -> Self {
        self.create_database = create;
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
            .finish()
    }
}

// ------------------------------------------------------------------ connect

/// The MySQL / MariaDB adapter: an sqlx connection pool and the Auth.js
/// tables in one database. Cheap to clone (the pool is shared).
///
/// See the [crate docs](crate) for the schema and what each call costs.
#[derive(Clone)]
pub struct MysqlAdapter {
    pool: MySqlPool,
}

impl fmt::Debug for MysqlAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = self.pool.connect_options();
        f.debug_struct("MysqlAdapter")
            .field("host", &options.get_host())
            .field("database", &options.get_database())
            .field("connections", &self.pool.size())
            .finish()
    }
}

impl MysqlAdapter {
    /// Connects to the database named in `url`, e.g.
    /// `mysql://app:secret@127.0.0.1:3306/auth`, with a pool of up to 10
    /// connections. Call [`migrate`](Self::migrate) before first use.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(MysqlOptions::from_url(url)?).await
    }

    /// Connects with explicit options (another database, the pool size,
    /// creating the database) and checks that a first connection opens.
    ///
    /// Errors: `InvalidInput` (field `database`) if no database is named or
    /// its name is unusable; `Backend` if the server cannot be reached.
    pub async fn connect_with(options: MysqlOptions) -> Result<Self> {
        let database = options.database_name().ok_or_else(|| {
            AdapterError::invalid_input(
                "database",
                "no database named: put it in the URL or use MysqlOptions::database",
            )
        })?;
        if options.create_database {
            create_database(&options.connect, database).await?;
        }
        let pool = Self::pool_options()
            .max_connections(options.max_connections)
            .connect_with(options.connect)
            .await
            .map_err(AdapterError::backend)?;
        Ok(Self::from_pool(pool))
    }

    /// Pool options with the per-connection setup this adapter relies on
    /// (strict SQL mode), for building a pool of your own to pass to
    /// [`from_pool`](Self::from_pool).
    pub fn pool_options() -> MySqlPoolOptions {
        MySqlPoolOptions::new().after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(STRICT_SQL_MODE).await?;
                Ok(())
            })
        })
    }

    /// Wraps an existing pool; its connections' default database is the one
    /// used. Its connections should run in strict SQL mode (MySQL 8 and
    /// MariaDB 10.2+ do by default; [`pool_options`](Self::pool_options)
    /// makes sure), or over-long values are truncated instead of refused.
    pub fn from_pool(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// The underlying connection pool.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    // ------------------------------------------------------------ migrate

    /// Creates the tables and indexes, or upgrades them to the latest
    /// version; safe to run at every start and from several processes at
    /// once (sqlx takes a named lock). Applied versions are recorded in
    /// [`MIGRATIONS_TABLE`]. Tables that Auth.js created first are kept
    /// (`CREATE TABLE IF NOT EXISTS`).
    pub async fn migrate(&self) -> Result<()> {
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        migrator
            .run(&self.pool)
            .await
            .map_err(AdapterError::backend)
    }

    // ------------------------------------------------------------ helpers

    async fn find_session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT `userId`, `expires` FROM `Session` \
             WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY)",
        )
        .bind(token)
        .bind(token)
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
        let row = sqlx::query(
            "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
             WHERE `id` = ? AND `id` = CAST(? AS BINARY) FOR UPDATE",
        )
        .bind(id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_some() {
            sqlx::query("DELETE FROM `User` WHERE `id` = ? AND `id` = CAST(? AS BINARY)")
                .bind(id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(row)
    }

    async fn find_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        let row = sqlx::query(
            "SELECT `credentialID`, `userId`, `providerAccountId`, `credentialPublicKey`, \
             `counter`, `credentialDeviceType`, `credentialBackedUp`, `transports` \
             FROM `Authenticator` \
             WHERE `credentialID` = ? AND `credentialID` = CAST(? AS BINARY)",
        )
        .bind(credential_id)
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(AdapterError::backend)?;
        row.as_ref().map(authenticator_row).transpose()
    }
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
    let utc = truncate_to_millis(instant);
    if !(1000..=9999).contains(&utc.year()) {
        return Err(AdapterError::invalid_input(
            field,
            format!(
                "year {} is outside 1000-9999, the range of a MySQL DATETIME",
                utc.year()
            ),
        ));
    }
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
            .map_err(|e| AdapterError::backend(format!("stored account type: {e}")))?,
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
        counter: get(row, 4)?,
        credential_device_type: get(row, 5)?,
        credential_backed_up: get(row, 6)?,
        transports: get(row, 7)?,
    })
}

// ------------------------------------------------------------- the adapter

// Every lookup by a key pairs the indexed equality (`col = ?`, which uses the
// index but ignores trailing spaces under `utf8mb4_bin`'s PAD SPACE rule) with
// a byte comparison (`col = CAST(? AS BINARY)`), so 'a@x.com ' never finds
// 'a@x.com'. It works the same on MySQL 8 and MariaDB, whatever collation the
// tables have (also case-insensitive ones that Auth.js tools may have made).

#[async_trait]
impl Adapter for MysqlAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        let verified = user
            .email_verified
            .map(|t| db_time("email_verified", t))
            .transpose()?;
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query(
            "INSERT INTO `User` (`id`, `name`, `email`, `emailVerified`, `image`) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&user.name)
        .bind(&user.email)
        .bind(verified)
        .bind(&user.image)
        .execute(&self.pool)
        .await
        .map_err(|e| write_error(e, "user", "email", &id))?;
        Ok(User {
            email_verified: verified.map(PrimitiveDateTime::assume_utc),
            ..user.into_user(id)
        })
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
             WHERE `id` = ? AND `id` = CAST(? AS BINARY)",
        )
        .bind(id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(AdapterError::backend)?;
        row.as_ref().map(user_row).transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
             WHERE `email` = ? AND `email` = CAST(? AS BINARY)",
        )
        .bind(email)
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(AdapterError::backend)?;
        row.as_ref().map(user_row).transpose()
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.`id`, u.`name`, u.`email`, u.`emailVerified`, u.`image` \
             FROM `Account` a JOIN `User` u ON u.`id` = a.`userId` \
             WHERE a.`provider` = ? AND a.`providerAccountId` = ? \
               AND a.`provider` = CAST(? AS BINARY) \
               AND a.`providerAccountId` = CAST(? AS BINARY)",
        )
        .bind(provider)
        .bind(provider_account_id)
        .bind(provider)
        .bind(provider_account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(AdapterError::backend)?;
        row.as_ref().map(user_row).transpose()
    }

    async fn update_user(&self, update: UserUpdate) -> Result<User> {
        let verified = match update.email_verified {
            Some(Some(t)) => Some(Some(db_time("email_verified", t)?)),
            Some(None) => Some(None),
            None => None,
        };
        let not_found = || AdapterError::not_found("user", format!("id {:?}", update.id));
        // Without RETURNING: lock the row, write, and return the locked row
        // with the update applied, which is exactly what was stored.
        let mut tx = self.pool.begin().await.map_err(AdapterError::backend)?;
        let row = sqlx::query(
            "SELECT `id`, `name`, `email`, `emailVerified`, `image` FROM `User` \
             WHERE `id` = ? AND `id` = CAST(? AS BINARY) FOR UPDATE",
        )
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
            sqlx::query(
                "UPDATE `User` SET `name` = ?, `email` = ?, `emailVerified` = ?, `image` = ? \
                 WHERE `id` = ? AND `id` = CAST(? AS BINARY)",
            )
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
            .map_err(|e| write_error(e, "user", "email", &update.id))?;
        }
        tx.commit().await.map_err(AdapterError::backend)?;
        Ok(next)
    }

    async fn delete_user(&self, id: &str) -> Result<Option<User>> {
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
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        sqlx::query(
            "INSERT INTO `Account` (`userId`, `type`, `provider`, `providerAccountId`, \
             `refresh_token`, `access_token`, `expires_at`, `token_type`, `scope`, \
             `id_token`, `session_state`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                "account",
                "(provider, provider_account_id)",
                &account.user_id,
            )
        })?;
        Ok(account)
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let mut tx = self.pool.begin().await.map_err(AdapterError::backend)?;
        let row = sqlx::query(
            "SELECT `userId`, `type`, `provider`, `providerAccountId`, `refresh_token`, \
             `access_token`, `expires_at`, `token_type`, `scope`, `id_token`, `session_state` \
             FROM `Account` \
             WHERE `provider` = ? AND `providerAccountId` = ? \
               AND `provider` = CAST(? AS BINARY) AND `providerAccountId` = CAST(? AS BINARY) \
             FOR UPDATE",
        )
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
        sqlx::query(
            "DELETE FROM `Account` \
             WHERE `provider` = ? AND `providerAccountId` = ? \
               AND `provider` = CAST(? AS BINARY) AND `providerAccountId` = CAST(? AS BINARY)",
        )
        .bind(provider)
        .bind(provider_account_id)
        .bind(provider)
        .bind(provider_account_id)
        .execute(&mut *tx)
        .await
        .map_err(AdapterError::backend)?;
        tx.commit().await.map_err(AdapterError::backend)?;
        Ok(Some(account))
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let row = sqlx::query(
            "SELECT `userId`, `type`, `provider`, `providerAccountId`, `refresh_token`, \
             `access_token`, `expires_at`, `token_type`, `scope`, `id_token`, `session_state` \
             FROM `Account` \
             WHERE `provider` = ? AND `providerAccountId` = ? \
               AND `provider` = CAST(? AS BINARY) AND `providerAccountId` = CAST(? AS BINARY)",
        )
        .bind(provider)
        .bind(provider_account_id)
        .bind(provider)
        .bind(provider_account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(AdapterError::backend)?;
        row.as_ref().map(account_row).transpose()
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        let expires = db_time("expires", session.expires)?;
        sqlx::query("INSERT INTO `Session` (`sessionToken`, `userId`, `expires`) VALUES (?, ?, ?)")
            .bind(&session.session_token)
            .bind(&session.user_id)
            .bind(expires)
            .execute(&self.pool)
            .await
            .map_err(|e| write_error(e, "session", "session_token", &session.user_id))?;
        Ok(Session {
            expires: expires.assume_utc(),
            ..session
        })
    }

    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>> {
        // One round trip: the join, with expiry judged by the server's clock.
        let row = sqlx::query(
            "SELECT s.`expires`, u.`id`, u.`name`, u.`email`, u.`emailVerified`, u.`image` \
             FROM `Session` s JOIN `User` u ON u.`id` = s.`userId` \
             WHERE s.`sessionToken` = ? AND s.`sessionToken` = CAST(? AS BINARY) \
               AND s.`expires` > UTC_TIMESTAMP(3)",
        )
        .bind(session_token)
        .bind(session_token)
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
    }

    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        let expires = update.expires.map(|t| db_time("expires", t)).transpose()?;
        // Without RETURNING: read the row, then write every column on the
        // condition that the row is still the one read. The returned session
        // is then exactly what was stored; if another call changed the row in
        // between, read again.
        loop {
            let Some(current) = self.find_session(&update.session_token).await? else {
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
            let done = sqlx::query(
                "UPDATE `Session` SET `userId` = ?, `expires` = ? \
                 WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY) \
                   AND `userId` = CAST(? AS BINARY) AND `expires` = ?",
            )
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
                Err(e) => return Err(write_error(e, "session", "session_token", &next.user_id)),
            }
        }
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        // Read, then delete only if the row is still the one read, so the
        // session returned is exactly the one removed.
        loop {
            let Some(current) = self.find_session(session_token).await? else {
                return Ok(None);
            };
            let done = sqlx::query(
                "DELETE FROM `Session` \
                 WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY) \
                   AND `userId` = CAST(? AS BINARY) AND `expires` = ?",
            )
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
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        let expires = db_time("expires", token.expires)?;
        sqlx::query(
            "INSERT INTO `VerificationToken` (`identifier`, `token`, `expires`) VALUES (?, ?, ?)",
        )
        .bind(&token.identifier)
        .bind(&token.token)
        .bind(expires)
        .execute(&self.pool)
        .await
        .map_err(|e| write_error(e, "verification token", "token", ""))?;
        Ok(VerificationToken {
            expires: expires.assume_utc(),
            ..token
        })
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        // Atomic without RETURNING or a transaction: of the callers that read
        // the row, only the one whose DELETE removes it (affected rows = 1)
        // returns it. Matching `expires` as well guarantees that what is
        // returned is the row that was deleted, even if the token was used and
        // issued again in between.
        loop {
            let row = sqlx::query(
                "SELECT `expires`, `expires` > UTC_TIMESTAMP(3) FROM `VerificationToken` \
                 WHERE `identifier` = ? AND `token` = ? \
                   AND `identifier` = CAST(? AS BINARY) AND `token` = CAST(? AS BINARY)",
            )
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
            let done = sqlx::query(
                "DELETE FROM `VerificationToken` \
                 WHERE `identifier` = ? AND `token` = ? \
                   AND `identifier` = CAST(? AS BINARY) AND `token` = CAST(? AS BINARY) \
                   AND `expires` = ?",
            )
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
                // An expired token is consumed all the same, but not returned.
                return Ok(live.then(|| VerificationToken {
                    identifier: identifier.to_owned(),
                    token: token.to_owned(),
                    expires: expires.assume_utc(),
                }));
            }
        }
    }

    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        sqlx::query(
            "INSERT INTO `Authenticator` (`credentialID`, `userId`, `providerAccountId`, \
             `credentialPublicKey`, `counter`, `credentialDeviceType`, `credentialBackedUp`, \
             `transports`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
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
        .map_err(|e| write_error(e, "authenticator", "credential_id", &authenticator.user_id))?;
        Ok(authenticator)
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        self.find_authenticator(credential_id).await
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        let rows = sqlx::query(
            "SELECT `credentialID`, `userId`, `providerAccountId`, `credentialPublicKey`, \
             `counter`, `credentialDeviceType`, `credentialBackedUp`, `transports` \
             FROM `Authenticator` WHERE `userId` = ? AND `userId` = CAST(? AS BINARY)",
        )
        .bind(user_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(AdapterError::backend)?;
        rows.iter().map(authenticator_row).collect()
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator> {
        let not_found =
            || AdapterError::not_found("authenticator", format!("credential id {credential_id:?}"));
        // Only the counter of an authenticator ever changes, so the row read
        // first plus the new counter is what the UPDATE leaves stored.
        let current = self
            .find_authenticator(credential_id)
            .await?
            .ok_or_else(not_found)?;
        let done = sqlx::query(
            "UPDATE `Authenticator` SET `counter` = ? \
             WHERE `credentialID` = ? AND `credentialID` = CAST(? AS BINARY)",
        )
        .bind(counter)
        .bind(credential_id)
        .bind(credential_id)
        .execute(&self.pool)
        .await
        .map_err(|e| write_error(e, "authenticator", "credential_id", &current.user_id))?;
        if !matched(&done) {
            return Err(not_found());
        }
        Ok(Authenticator { counter, ..current })
    }

    async fn purge_expired(&self) -> Result<u64> {
        let mut purged = 0;
        for sql in [
            "DELETE FROM `Session` WHERE `expires` <= UTC_TIMESTAMP(3) ORDER BY `expires` LIMIT 1000",
            "DELETE FROM `VerificationToken` WHERE `expires` <= UTC_TIMESTAMP(3) \
             ORDER BY `expires` LIMIT 1000",
        ] {
            loop {
                let done = sqlx::query(sql)
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
    }
}

/// Whether an UPDATE or DELETE found its row. sqlx connects with
/// `CLIENT_FOUND_ROWS`, so an UPDATE that matches a row counts it even when
/// it changes no value.
fn matched(done: &MySqlQueryResult) -> bool {
    done.rows_affected() > 0
}

// ------------------------------------------------------------ error mapping

/// ER_LOCK_DEADLOCK: InnoDB rolled the statement's transaction back to break a
/// lock cycle. The read-then-write loops simply read again.
fn is_deadlock(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.try_downcast_ref::<MySqlDatabaseError>())
        .is_some_and(|e| e.number() == 1213)
}

/// Maps a failed write: a duplicate key is a `Conflict` on `entity`'s `key`,
/// a missing parent row is the user `user_id` being `NotFound`, and a value
/// the column cannot hold (strict mode refuses it) is `InvalidInput`.
/// Anything else is `Backend`.
///
/// The server's message is never copied into a `Conflict`: MySQL quotes the
/// duplicate value in it, which may be a session token.
fn write_error(
    err: sqlx::Error,
    entity: &'static str,
    key: &'static str,
    user_id: &str,
) -> AdapterError {
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
        1022 | 1062 | 1169 | 1586 | 1859 => AdapterError::conflict(entity, key),
        // ER_NO_REFERENCED_ROW, ER_NO_REFERENCED_ROW_2
        1216 | 1452 => AdapterError::not_found("user", format!("id {user_id:?}")),
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
    fn debug_of_options_hides_the_password() {
        let options = MysqlOptions::from_url("mysql://app:hunter2@db.example:3307/auth").unwrap();
        let printed = format!("{options:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("auth") && printed.contains("3307"));
    }
}
