//! The Auth.js tables as Diesel sees them: one `table!` per table, shared by
//! the three backends, and the two column types whose storage differs
//! between them (instants and the authenticator counter).
//!
//! The names are those of the Auth.js Prisma and Kysely adapters (and of
//! `adapter-postgres`, `adapter-mysql` and `adapter-sqlite`): `"User"`,
//! `"Account"`, `"Session"`, `"VerificationToken"`, `"Authenticator"`, with
//! camel-case columns. The Rust names are snake case.
//!
//! Use these with Diesel's query builder to read the tables in queries of
//! your own (a join with your own tables, a report):
//!
//! ```
//! use adapter_diesel::schema::{sessions, users};
//! use diesel::prelude::*;
//!
//! // Users with at least one session, by email.
//! let query = users::table
//!     .inner_join(sessions::table)
//!     .select(users::email)
//!     .distinct();
//! let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&query).to_string();
//! assert!(sql.contains(r#"FROM (`User` INNER JOIN `Session`"#));
//! ```

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::mysql::{Mysql, MysqlValue};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Datetime, Integer, Timestamptz, Unsigned};
use diesel::sqlite::{Sqlite, SqliteType, SqliteValue};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

pub mod sql_types {
    //! The SQL types of the columns whose storage differs per backend.

    use diesel::query_builder::QueryId;
    use diesel::sql_types::SqlType;

    /// An instant: `timestamptz` on PostgreSQL, `DATETIME(3)` holding UTC
    /// on MySQL / MariaDB, ISO-8601 text (`2024-05-06T07:08:09.123Z`, as
    /// Auth.js's Kysely adapter writes it) on SQLite. Its Rust side is
    /// [`Instant`](super::Instant).
    #[derive(Debug, Clone, Copy, Default, SqlType, QueryId)]
    #[diesel(postgres_type(oid = 1184, array_oid = 1185))]
    #[diesel(mysql_type(name = "DateTime"))]
    #[diesel(sqlite_type(name = "Text"))]
    pub struct Instant;

    /// A WebAuthn signature counter (`u32`): `bigint` on PostgreSQL,
    /// `INT UNSIGNED` on MySQL / MariaDB, `INTEGER` on SQLite. Its Rust side
    /// is [`Counter`](super::Counter).
    #[derive(Debug, Clone, Copy, Default, SqlType, QueryId)]
    #[diesel(postgres_type(oid = 20, array_oid = 1016))]
    #[diesel(mysql_type(name = "UnsignedLong"))]
    #[diesel(sqlite_type(name = "Long"))]
    pub struct Counter;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Instant;

    /// `"User"`.
    #[sql_name = "User"]
    users (id) {
        /// `"id"`: chosen by the adapter (a UUID v4), or by Auth.js.
        id -> Text,
        /// `"name"`.
        name -> Nullable<Text>,
        /// `"email"`: unique among users that have one.
        email -> Nullable<Text>,
        /// `"emailVerified"`.
        #[sql_name = "emailVerified"]
        email_verified -> Nullable<Instant>,
        /// `"image"`.
        image -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    /// `"Account"`: an OAuth / OIDC / email account linked to a user.
    #[sql_name = "Account"]
    accounts (id) {
        /// `"id"`: a default of the database (Auth.js's Kysely adapter never
        /// writes it); the adapter never reads it.
        id -> Text,
        /// `"userId"`.
        #[sql_name = "userId"]
        user_id -> Text,
        /// `"type"`.
        #[sql_name = "type"]
        account_type -> Text,
        /// `"provider"`.
        provider -> Text,
        /// `"providerAccountId"`.
        #[sql_name = "providerAccountId"]
        provider_account_id -> Text,
        /// `"refresh_token"`.
        refresh_token -> Nullable<Text>,
        /// `"access_token"`.
        access_token -> Nullable<Text>,
        /// `"expires_at"` (seconds since the epoch).
        expires_at -> Nullable<BigInt>,
        /// `"token_type"`.
        token_type -> Nullable<Text>,
        /// `"scope"`.
        scope -> Nullable<Text>,
        /// `"id_token"`.
        id_token -> Nullable<Text>,
        /// `"session_state"`.
        session_state -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Instant;

    /// `"Session"`: a database session.
    #[sql_name = "Session"]
    sessions (id) {
        /// `"id"`: a default of the database; the adapter never reads it.
        id -> Text,
        /// `"sessionToken"`: unique.
        #[sql_name = "sessionToken"]
        session_token -> Text,
        /// `"userId"`.
        #[sql_name = "userId"]
        user_id -> Text,
        /// `"expires"`.
        expires -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Instant;

    /// `"VerificationToken"`: an email sign-in token.
    #[sql_name = "VerificationToken"]
    verification_tokens (identifier, token) {
        /// `"identifier"` (the email address).
        identifier -> Text,
        /// `"token"` (hashed by the caller); unique on its own too.
        token -> Text,
        /// `"expires"`.
        expires -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Counter;

    /// `"Authenticator"`: a passkey (WebAuthn) credential.
    #[sql_name = "Authenticator"]
    authenticators (user_id, credential_id) {
        /// `"credentialID"`: unique.
        #[sql_name = "credentialID"]
        credential_id -> Text,
        /// `"userId"`.
        #[sql_name = "userId"]
        user_id -> Text,
        /// `"providerAccountId"`.
        #[sql_name = "providerAccountId"]
        provider_account_id -> Text,
        /// `"credentialPublicKey"`.
        #[sql_name = "credentialPublicKey"]
        credential_public_key -> Text,
        /// `"counter"`.
        counter -> Counter,
        /// `"credentialDeviceType"`.
        #[sql_name = "credentialDeviceType"]
        credential_device_type -> Text,
        /// `"credentialBackedUp"`.
        #[sql_name = "credentialBackedUp"]
        credential_backed_up -> Bool,
        /// `"transports"`.
        transports -> Nullable<Text>,
    }
}

diesel::joinable!(accounts -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(authenticators -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    accounts,
    sessions,
    verification_tokens,
    authenticators
);

// ------------------------------------------------------------------ instants

/// The Rust side of [`sql_types::Instant`]: a UTC instant. Written to the
/// millisecond (callers truncate first); read back in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql_types::Instant)]
pub struct Instant(pub OffsetDateTime);

fn utc_wall_clock(instant: OffsetDateTime) -> PrimitiveDateTime {
    let utc = instant.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

impl ToSql<sql_types::Instant, Pg> for Instant {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <OffsetDateTime as ToSql<Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<sql_types::Instant, Pg> for Instant {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <OffsetDateTime as FromSql<Timestamptz, Pg>>::from_sql(value).map(Instant)
    }
}

impl ToSql<sql_types::Instant, Mysql> for Instant {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
        let wall = utc_wall_clock(self.0);
        <PrimitiveDateTime as ToSql<Datetime, Mysql>>::to_sql(&wall, &mut out.reborrow())
    }
}

impl FromSql<sql_types::Instant, Mysql> for Instant {
    fn from_sql(value: MysqlValue<'_>) -> deserialize::Result<Self> {
        <PrimitiveDateTime as FromSql<Datetime, Mysql>>::from_sql(value)
            .map(|wall| Instant(wall.assume_utc()))
    }
}

impl ToSql<sql_types::Instant, Sqlite> for Instant {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        let text = auth_core::timestamp::format_iso("timestamp", self.0)?;
        out.set_value(text);
        Ok(IsNull::No)
    }
}

/// Reads ISO-8601 text with any offset and any number of fraction digits
/// (Kysely's form and ours), or Unix milliseconds (Prisma's SQLite form).
impl FromSql<sql_types::Instant, Sqlite> for Instant {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let instant = match value.value_type() {
            Some(SqliteType::Long) | Some(SqliteType::Integer) => {
                auth_core::timestamp::from_unix_millis("timestamp", value.read_long())?
            }
            _ => {
                let text = value.read_text();
                match text.parse::<i64>() {
                    Ok(millis) => auth_core::timestamp::from_unix_millis("timestamp", millis)?,
                    Err(_) => auth_core::timestamp::parse_iso(text)?,
                }
            }
        };
        Ok(Instant(auth_core::timestamp::truncate_to_millis(instant)))
    }
}

// ------------------------------------------------------------------ counter

/// The Rust side of [`sql_types::Counter`]: every `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql_types::Counter)]
pub struct Counter(pub u32);

fn counter_from_i64(value: i64) -> deserialize::Result<Counter> {
    u32::try_from(value)
        .map(Counter)
        .map_err(|_| format!("stored counter {value} is outside the u32 range").into())
}

impl ToSql<sql_types::Counter, Pg> for Counter {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        use std::io::Write;
        out.write_all(&i64::from(self.0).to_be_bytes())?;
        Ok(IsNull::No)
    }
}

/// Reads `bigint` (what `migrate()` makes) and the 32-bit `integer` of a
/// table Prisma created.
impl FromSql<sql_types::Counter, Pg> for Counter {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        match value.as_bytes().len() {
            4 => <i32 as FromSql<Integer, Pg>>::from_sql(value)
                .and_then(|v| counter_from_i64(v.into())),
            _ => <i64 as FromSql<BigInt, Pg>>::from_sql(value).and_then(counter_from_i64),
        }
    }
}

impl ToSql<sql_types::Counter, Mysql> for Counter {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Mysql>) -> serialize::Result {
        <u32 as ToSql<Unsigned<Integer>, Mysql>>::to_sql(&self.0, out)
    }
}

impl FromSql<sql_types::Counter, Mysql> for Counter {
    fn from_sql(value: MysqlValue<'_>) -> deserialize::Result<Self> {
        <u32 as FromSql<Unsigned<Integer>, Mysql>>::from_sql(value).map(Counter)
    }
}

impl ToSql<sql_types::Counter, Sqlite> for Counter {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(i64::from(self.0));
        Ok(IsNull::No)
    }
}

impl FromSql<sql_types::Counter, Sqlite> for Counter {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <i64 as FromSql<BigInt, Sqlite>>::from_sql(value).and_then(counter_from_i64)
    }
}
