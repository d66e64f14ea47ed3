//! The SQL of each [`Layout`] and set of [`TableNames`]: every statement the
//! adapter runs, and the DDL `migrate()` runs for a layout other than the
//! default one. Built once per (layout, names) and kept for the life of the
//! process, so calls borrow `&'static str` exactly like the default
//! layout's statements always did.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use auth_core::layout::{Layout, TableNames};

use crate::quote_ident;

/// The statements of one (layout, table names). See the call of the same
/// name in `lib.rs` for the parameters of each.
#[derive(Debug)]
pub(crate) struct Statements {
    pub layout: Layout,
    pub names: TableNames,
    /// Whether these are the default layout's default names, whose schema
    /// the versioned migrations in `migrations/` make.
    pub versioned: bool,
    pub create_user: &'static str,
    pub get_user: &'static str,
    pub get_user_by_email: &'static str,
    pub get_user_by_account: &'static str,
    pub update_user: &'static str,
    pub delete_user: &'static str,
    /// pg-adapter only (no foreign keys): the user's rows in the other
    /// tables, deleted after the user in the same transaction.
    pub delete_user_rows: &'static str,
    pub link_account: &'static str,
    pub unlink_account: &'static str,
    pub get_account: &'static str,
    pub list_accounts: &'static str,
    pub create_session: &'static str,
    pub get_session_and_user: &'static str,
    pub update_session: &'static str,
    /// pg-adapter only: whether a live session has the token (to tell an
    /// unknown session from a missing new owner).
    pub session_is_live: &'static str,
    pub delete_session: &'static str,
    pub list_sessions: &'static str,
    pub create_verification_token: &'static str,
    pub use_verification_token: &'static str,
    pub create_authenticator: &'static str,
    pub get_authenticator: &'static str,
    pub list_authenticators: &'static str,
    pub update_counter: &'static str,
    pub purge: [&'static str; 2],
    /// The idempotent table DDL of `migrate()` for a layout or names other
    /// than the default (empty for the default: it has versioned
    /// migrations).
    pub ddl: &'static str,
    /// The indexes `migrate()` adds after the tables, by name (unquoted):
    /// it runs the statements of those missing only, so that a start on a
    /// schema that has them all takes no lock on the tables.
    pub indexes: Vec<(String, &'static str)>,
    /// Every (table, column) the adapter reads or writes, checked by
    /// `migrate()` on tables that existed before.
    pub columns: Vec<(String, &'static str)>,
    /// The columns `migrate()` widens, after the DDL, when they have one of
    /// the narrower types: (table, column, narrower types as
    /// information_schema names them, new type).
    pub widen: Vec<(String, &'static str, &'static [&'static str], &'static str)>,
}

impl Statements {
    /// The statements of `layout` on `names`, built on first use.
    pub fn of(layout: Layout, names: &TableNames) -> &'static Statements {
        static BUILT: OnceLock<Mutex<HashMap<(Layout, TableNames), &'static Statements>>> =
            OnceLock::new();
        let mut built = BUILT
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        built
            .entry((layout, names.clone()))
            .or_insert_with(|| Box::leak(Box::new(Statements::build(layout, names.clone()))))
    }

    /// Whether user ids are `SERIAL` integers (pg-adapter): the adapter
    /// checks that an id is a decimal `int4` before using it.
    pub fn serial_ids(&self) -> bool {
        self.layout == Layout::PgAdapter
    }

    /// The most characters a `varchar(255)` column of pg-adapter holds, by
    /// field; `None` for a `text` column.
    pub fn max_chars(&self, field: &str) -> Option<usize> {
        match (self.layout, field) {
            (
                Layout::PgAdapter,
                "email" | "type" | "provider" | "providerAccountId" | "sessionToken",
            ) => Some(255),
            _ => None,
        }
    }

    /// Whether `expires_at` is a 32-bit `integer` (Drizzle).
    pub fn expires_at_is_int4(&self) -> bool {
        self.layout == Layout::Drizzle
    }

    fn build(layout: Layout, names: TableNames) -> Self {
        let versioned = layout == Layout::Prisma && names == TableNames::of(Layout::Prisma);
        let s = Shape { layout };
        let u = quote_ident(&names.user);
        let a = quote_ident(&names.account);
        let se = quote_ident(&names.session);
        let vt = quote_ident(&names.verification_token);
        let au = quote_ident(&names.authenticator);
        let leak = |sql: String| -> &'static str { Box::leak(sql.into_boxed_str()) };

        let user_cols = s.user_cols("");
        let user_cols_u = s.user_cols("u.");
        let account_cols = format!(
            r#"{}, "type", "provider", "providerAccountId", "refresh_token",
                   "access_token", {}, "token_type", "scope", "id_token",
                   "session_state""#,
            s.uid_out(r#""userId""#, "userId"),
            s.int8_out(r#""expires_at""#, "expires_at"),
        );
        let session_cols = format!(
            r#""sessionToken", {}, {}"#,
            s.uid_out(r#""userId""#, "userId"),
            s.ts_out(r#""expires""#, "expires"),
        );
        let authenticator_cols = format!(
            r#""credentialID", {}, "providerAccountId", "credentialPublicKey",
                   "counter"::bigint AS "counter", "credentialDeviceType", "credentialBackedUp",
                   "transports""#,
            s.uid_out(r#""userId""#, "userId"),
        );
        let serial = layout == Layout::PgAdapter;

        let create_user = if serial {
            // The SERIAL column numbers the user; $1 is unused but bound, so
            // that every layout binds the same parameters.
            format!(
                r#"INSERT INTO {u} ("name", "email", "emailVerified", "image")
               VALUES ($2, $3, $4, $5) RETURNING "id"::text AS "id""#
            )
        } else {
            format!(
                r#"INSERT INTO {u} ("id", "name", "email", "emailVerified", "image")
               VALUES ($1, $2, $3, {}, $5)"#,
                s.ts_in("$4")
            )
        };
        let get_user = format!(
            r#"SELECT {user_cols} FROM {u} WHERE "id" = {}"#,
            s.uid("$1")
        );
        let get_user_by_email = format!(r#"SELECT {user_cols} FROM {u} WHERE "email" = $1"#);
        let get_user_by_account = format!(
            r#"SELECT {user_cols_u}
               FROM {a} a JOIN {u} u ON u."id" = a."userId"
               WHERE a."provider" = $1 AND a."providerAccountId" = $2"#
        );
        let update_user = format!(
            r#"UPDATE {u} SET
                   "name" = CASE WHEN $2 THEN $3 ELSE "name" END,
                   "email" = CASE WHEN $4 THEN $5 ELSE "email" END,
                   "emailVerified" = CASE WHEN $6 THEN {} ELSE "emailVerified" END,
                   "image" = CASE WHEN $8 THEN $9 ELSE "image" END
               WHERE "id" = {}
               RETURNING {user_cols}"#,
            s.ts_in("$7"),
            s.uid("$1"),
        );
        let delete_user = format!(
            r#"DELETE FROM {u} WHERE "id" = {}
               RETURNING {user_cols}"#,
            s.uid("$1")
        );
        let delete_user_rows = if serial {
            format!(
                r#"WITH accounts AS (DELETE FROM {a} WHERE "userId" = $1::int4),
                    sessions AS (DELETE FROM {se} WHERE "userId" = $1::int4)
               DELETE FROM {au} WHERE "userId" = $1::int4"#
            )
        } else {
            String::new()
        };
        let account_values = r#""userId", "type", "provider", "providerAccountId",
                   "refresh_token", "access_token", "expires_at", "token_type", "scope",
                   "id_token", "session_state""#;
        let link_account = if serial {
            // No foreign key: the user must exist, and stays until the
            // insert commits (a concurrent delete_user waits for it, then
            // deletes the account with the user).
            format!(
                r#"INSERT INTO {a} ({account_values})
               SELECT u."id", $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
               FROM {u} u WHERE u."id" = $1::int4 FOR KEY SHARE OF u"#
            )
        } else {
            format!(
                r#"INSERT INTO {a} ({account_values})
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#
            )
        };
        let unlink_account = format!(
            r#"DELETE FROM {a} WHERE "provider" = $1 AND "providerAccountId" = $2
               RETURNING {account_cols}"#
        );
        let get_account = format!(
            r#"SELECT {account_cols}
               FROM {a} WHERE "provider" = $1 AND "providerAccountId" = $2"#
        );
        let list_accounts = format!(
            r#"SELECT {account_cols}
               FROM {a} WHERE "userId" = {}"#,
            s.uid("$1")
        );
        let create_session = if serial {
            format!(
                r#"INSERT INTO {se} ("sessionToken", "userId", "expires")
               SELECT $1, u."id", $3 FROM {u} u WHERE u."id" = $2::int4 FOR KEY SHARE OF u"#
            )
        } else {
            format!(
                r#"INSERT INTO {se} ("sessionToken", "userId", "expires") VALUES ($1, $2, {})"#,
                s.ts_in("$3")
            )
        };
        let get_session_and_user = format!(
            r#"SELECT {}, {user_cols_u}
               FROM {se} s JOIN {u} u ON u."id" = s."userId"
               WHERE s."sessionToken" = $1 AND s."expires" > {}"#,
            s.ts_out(r#"s."expires""#, "expires"),
            s.ts_in("$2"),
        );
        let update_session = if serial {
            format!(
                r#"UPDATE {se}
               SET "expires" = COALESCE($2, "expires"), "userId" = COALESCE($3::int4, "userId")
               WHERE "sessionToken" = $1 AND "expires" > $4
                 AND ($3::text IS NULL
                      OR EXISTS (SELECT 1 FROM {u} WHERE "id" = $3::int4 FOR KEY SHARE))
               RETURNING {session_cols}"#
            )
        } else {
            format!(
                r#"UPDATE {se}
               SET "expires" = COALESCE({}, "expires"), "userId" = COALESCE($3, "userId")
               WHERE "sessionToken" = $1 AND "expires" > {}
               RETURNING {session_cols}"#,
                s.ts_in("$2"),
                s.ts_in("$4"),
            )
        };
        let session_is_live = format!(
            r#"SELECT EXISTS (SELECT 1 FROM {se} WHERE "sessionToken" = $1 AND "expires" > {})"#,
            s.ts_in("$2")
        );
        let delete_session = format!(
            r#"DELETE FROM {se} WHERE "sessionToken" = $1
               RETURNING {session_cols}"#
        );
        let list_sessions = format!(
            r#"SELECT {session_cols} FROM {se}
               WHERE "userId" = {} AND "expires" > {}"#,
            s.uid("$1"),
            s.ts_in("$2"),
        );
        let create_verification_token = format!(
            r#"INSERT INTO {vt} ("identifier", "token", "expires")
               VALUES ($1, $2, {})"#,
            s.ts_in("$3")
        );
        let use_verification_token = format!(
            r#"DELETE FROM {vt} WHERE "identifier" = $1 AND "token" = $2
               RETURNING "identifier", "token", {}, "expires" > {} AS "valid""#,
            s.ts_out(r#""expires""#, "expires"),
            s.ts_in("$3"),
        );
        let create_authenticator = format!(
            r#"INSERT INTO {au} ("credentialID", "userId", "providerAccountId",
                   "credentialPublicKey", "counter", "credentialDeviceType",
                   "credentialBackedUp", "transports")
               VALUES ($1, {}, $3, $4, $5, $6, $7, $8)"#,
            s.uid("$2")
        );
        let get_authenticator = format!(
            r#"SELECT {authenticator_cols}
               FROM {au} WHERE "credentialID" = $1"#
        );
        let list_authenticators = format!(
            r#"SELECT {authenticator_cols}
               FROM {au} WHERE "userId" = {}"#,
            s.uid("$1")
        );
        let update_counter = format!(
            r#"UPDATE {au} SET "counter" = $2 WHERE "credentialID" = $1
               RETURNING {authenticator_cols}"#
        );
        let now = s.ts_in("$2");
        let purge = [
            format!(
                r#"DELETE FROM {se}
               WHERE "sessionToken" IN (
                   SELECT "sessionToken" FROM {se} WHERE "expires" <= {now} LIMIT $1)
                 AND "expires" <= {now}"#
            ),
            format!(
                r#"DELETE FROM {vt}
               WHERE ("identifier", "token") IN (
                   SELECT "identifier", "token" FROM {vt}
                   WHERE "expires" <= {now} LIMIT $1)
                 AND "expires" <= {now}"#
            ),
        ];
        let (ddl, indexes) = if versioned {
            (String::new(), Vec::new())
        } else {
            split_indexes(&ddl(layout, &names))
        };
        let columns = columns(layout, &names);
        // The authenticator counter holds every u32 (Prisma's `Int` and
        // Drizzle's `integer` stop at 2^31 - 1); pg-adapter's users.name
        // holds any name (its varchar(255) refuses longer ones).
        let mut widen = vec![(
            names.authenticator.clone(),
            "counter",
            &["integer", "smallint"][..],
            "bigint",
        )];
        if layout == Layout::PgAdapter {
            widen.push((
                names.user.clone(),
                "name",
                &["character varying"][..],
                "text",
            ));
        }
        Statements {
            layout,
            versioned,
            create_user: leak(create_user),
            get_user: leak(get_user),
            get_user_by_email: leak(get_user_by_email),
            get_user_by_account: leak(get_user_by_account),
            update_user: leak(update_user),
            delete_user: leak(delete_user),
            delete_user_rows: leak(delete_user_rows),
            link_account: leak(link_account),
            unlink_account: leak(unlink_account),
            get_account: leak(get_account),
            list_accounts: leak(list_accounts),
            create_session: leak(create_session),
            get_session_and_user: leak(get_session_and_user),
            update_session: leak(update_session),
            session_is_live: leak(session_is_live),
            delete_session: leak(delete_session),
            list_sessions: leak(list_sessions),
            create_verification_token: leak(create_verification_token),
            use_verification_token: leak(use_verification_token),
            create_authenticator: leak(create_authenticator),
            get_authenticator: leak(get_authenticator),
            list_authenticators: leak(list_authenticators),
            update_counter: leak(update_counter),
            purge: purge.map(leak),
            ddl: leak(ddl),
            indexes: indexes
                .into_iter()
                .map(|(name, sql)| (name, leak(sql)))
                .collect(),
            columns,
            widen,
            names,
        }
    }
}

/// How a layout stores ids and instants, as SQL expressions.
#[derive(Clone, Copy)]
struct Shape {
    layout: Layout,
}

impl Shape {
    /// A parameter holding an instant (bound as `timestamptz`), as the
    /// column stores it: Drizzle's `timestamp` without time zone holds UTC
    /// wall-clock time (what drizzle-orm writes and reads).
    fn ts_in(self, param: &str) -> String {
        match self.layout {
            Layout::Drizzle => format!("({param} AT TIME ZONE 'UTC')"),
            _ => param.to_owned(),
        }
    }

    /// A stored instant column as a `timestamptz` named `name`.
    fn ts_out(self, column: &str, name: &str) -> String {
        match self.layout {
            Layout::Drizzle => format!(r#"({column} AT TIME ZONE 'UTC') AS "{name}""#),
            _ => column.to_owned(),
        }
    }

    /// A parameter holding a user id (bound as text) as the column's type:
    /// pg-adapter's `integer` (the adapter has checked it is one).
    fn uid(self, param: &str) -> String {
        match self.layout {
            Layout::PgAdapter => format!("{param}::int4"),
            _ => param.to_owned(),
        }
    }

    /// A user id column as text named `name`.
    fn uid_out(self, column: &str, name: &str) -> String {
        match self.layout {
            Layout::PgAdapter => format!(r#"{column}::text AS "{name}""#),
            _ => column.to_owned(),
        }
    }

    /// An integer column as `bigint` named `name` (Drizzle's `integer`
    /// `expires_at`).
    fn int8_out(self, column: &str, name: &str) -> String {
        match self.layout {
            Layout::Drizzle => format!(r#"{column}::bigint AS "{name}""#),
            _ => column.to_owned(),
        }
    }

    fn user_cols(self, alias: &str) -> String {
        format!(
            r#"{}, {alias}"name", {alias}"email", {}, {alias}"image""#,
            self.uid_out(&format!(r#"{alias}"id""#), "id"),
            self.ts_out(&format!(r#"{alias}"emailVerified""#), "emailVerified"),
        )
    }
}

/// The name of an index or constraint on `table`: `{table}_{suffix}`, or,
/// when that is longer than PostgreSQL's 63 bytes, its first 54 bytes and
/// a hash of the whole, so that two long names never truncate alike.
pub(crate) fn object_name(table: &str, suffix: &str) -> String {
    let name = format!("{table}_{suffix}");
    if name.len() <= 63 {
        return name;
    }
    // FNV-1a, stable across Rust versions.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut cut = 54;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{:08x}", &name[..cut], hash as u32)
}

/// The idempotent DDL `migrate()` runs for `layout` on `names`: the
/// official adapter's tables (`CREATE TABLE IF NOT EXISTS`, so tables the
/// official adapter or its migrations made are kept), then the indexes the
/// adapter's contract and queries need (`IF NOT EXISTS`).
fn ddl(layout: Layout, names: &TableNames) -> String {
    let u = quote_ident(&names.user);
    let a = quote_ident(&names.account);
    let se = quote_ident(&names.session);
    let vt = quote_ident(&names.verification_token);
    let au = quote_ident(&names.authenticator);
    let n = |table: &str, suffix: &str| quote_ident(&object_name(table, suffix));
    let (user_t, acc_t, ses_t, vt_t, auth_t) = (
        names.user.as_str(),
        names.account.as_str(),
        names.session.as_str(),
        names.verification_token.as_str(),
        names.authenticator.as_str(),
    );
    match layout {
        Layout::Drizzle => format!(
            // What drizzle-kit generates for @auth/drizzle-adapter's
            // `defineTables()` (packages/adapter-drizzle/src/lib/pg.ts);
            // `migrate()` then widens "counter" to bigint, so that it holds
            // every u32 (drizzle-orm's integer() reads a bigint as a
            // number).
            r#"
CREATE TABLE IF NOT EXISTS {u} (
    "id" text PRIMARY KEY NOT NULL,
    "name" text,
    "email" text,
    "emailVerified" timestamp,
    "image" text,
    CONSTRAINT {user_email} UNIQUE("email")
);
CREATE TABLE IF NOT EXISTS {a} (
    "userId" text NOT NULL,
    "type" text NOT NULL,
    "provider" text NOT NULL,
    "providerAccountId" text NOT NULL,
    "refresh_token" text,
    "access_token" text,
    "expires_at" integer,
    "token_type" text,
    "scope" text,
    "id_token" text,
    "session_state" text,
    CONSTRAINT {acc_pk} PRIMARY KEY("provider","providerAccountId"),
    CONSTRAINT {acc_fk} FOREIGN KEY ("userId") REFERENCES {u}("id") ON DELETE cascade ON UPDATE no action
);
CREATE TABLE IF NOT EXISTS {se} (
    "sessionToken" text PRIMARY KEY NOT NULL,
    "userId" text NOT NULL,
    "expires" timestamp NOT NULL,
    CONSTRAINT {ses_fk} FOREIGN KEY ("userId") REFERENCES {u}("id") ON DELETE cascade ON UPDATE no action
);
CREATE TABLE IF NOT EXISTS {vt} (
    "identifier" text NOT NULL,
    "token" text NOT NULL,
    "expires" timestamp NOT NULL,
    CONSTRAINT {vt_pk} PRIMARY KEY("identifier","token")
);
CREATE TABLE IF NOT EXISTS {au} (
    "credentialID" text NOT NULL,
    "userId" text NOT NULL,
    "providerAccountId" text NOT NULL,
    "credentialPublicKey" text NOT NULL,
    "counter" integer NOT NULL,
    "credentialDeviceType" text NOT NULL,
    "credentialBackedUp" boolean NOT NULL,
    "transports" text,
    CONSTRAINT {auth_pk} PRIMARY KEY("userId","credentialID"),
    CONSTRAINT {auth_cred} UNIQUE("credentialID"),
    CONSTRAINT {auth_fk} FOREIGN KEY ("userId") REFERENCES {u}("id") ON DELETE cascade ON UPDATE no action
);
CREATE INDEX IF NOT EXISTS {acc_user} ON {a} ("userId");
CREATE INDEX IF NOT EXISTS {ses_user} ON {se} ("userId");
CREATE INDEX IF NOT EXISTS {ses_expires} ON {se} ("expires");
CREATE INDEX IF NOT EXISTS {vt_expires} ON {vt} ("expires");
"#,
            user_email = n(user_t, "email_unique"),
            acc_pk = n(acc_t, "provider_providerAccountId_pk"),
            acc_fk = n(acc_t, &format!("userId_{user_t}_id_fk")),
            ses_fk = n(ses_t, &format!("userId_{user_t}_id_fk")),
            vt_pk = n(vt_t, "identifier_token_pk"),
            auth_pk = n(auth_t, "userId_credentialID_pk"),
            auth_cred = n(auth_t, "credentialID_unique"),
            auth_fk = n(auth_t, &format!("userId_{user_t}_id_fk")),
            acc_user = n(acc_t, "userId_idx"),
            ses_user = n(ses_t, "userId_idx"),
            ses_expires = n(ses_t, "expires_idx"),
            vt_expires = n(vt_t, "expires_idx"),
        ),
        Layout::PgAdapter => format!(
            // packages/adapter-pg/schema.sql, then what the adapter adds:
            // unique indexes for the keys the adapter contract makes unique
            // (Auth.js never writes duplicates of them), indexes for the
            // lookups by user and expiry, and the passkey table pg-adapter
            // lacks, styled like the rest. `migrate()` then widens
            // users.name to text.
            r#"
CREATE TABLE IF NOT EXISTS {vt}
(
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,

  PRIMARY KEY (identifier, token)
);
CREATE TABLE IF NOT EXISTS {a}
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,

  PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS {se}
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) NOT NULL,

  PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS {u}
(
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255),
  "emailVerified" TIMESTAMPTZ,
  image TEXT,

  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS {user_email} ON {u} (email);
CREATE UNIQUE INDEX IF NOT EXISTS {acc_key} ON {a} (provider, "providerAccountId");
CREATE INDEX IF NOT EXISTS {acc_user} ON {a} ("userId");
CREATE UNIQUE INDEX IF NOT EXISTS {ses_token} ON {se} ("sessionToken");
CREATE INDEX IF NOT EXISTS {ses_user} ON {se} ("userId");
CREATE INDEX IF NOT EXISTS {ses_expires} ON {se} (expires);
CREATE INDEX IF NOT EXISTS {vt_expires} ON {vt} (expires);
CREATE TABLE IF NOT EXISTS {au}
(
  "credentialID" TEXT NOT NULL,
  "userId" INTEGER NOT NULL REFERENCES {u} (id) ON DELETE CASCADE,
  "providerAccountId" TEXT NOT NULL,
  "credentialPublicKey" TEXT NOT NULL,
  counter BIGINT NOT NULL DEFAULT 0,
  "credentialDeviceType" TEXT NOT NULL,
  "credentialBackedUp" BOOLEAN NOT NULL DEFAULT false,
  transports TEXT,

  PRIMARY KEY ("userId", "credentialID")
);
CREATE UNIQUE INDEX IF NOT EXISTS {auth_cred} ON {au} ("credentialID");
"#,
            user_email = n(user_t, "email_key"),
            acc_key = n(acc_t, "provider_providerAccountId_key"),
            acc_user = n(acc_t, "userId_idx"),
            ses_token = n(ses_t, "sessionToken_key"),
            ses_user = n(ses_t, "userId_idx"),
            ses_expires = n(ses_t, "expires_idx"),
            vt_expires = n(vt_t, "expires_idx"),
            auth_cred = n(auth_t, "credentialID_key"),
        ),
        // Layout::Prisma (the default), and any layout added later.
        _ => {
            let id_default = "md5(random()::text || clock_timestamp()::text)::uuid::text";
            format!(
                r#"
CREATE TABLE IF NOT EXISTS {u} (
    "id"            text PRIMARY KEY DEFAULT {id_default},
    "name"          text,
    "email"         text,
    "emailVerified" timestamptz,
    "image"         text
);
CREATE UNIQUE INDEX IF NOT EXISTS {user_email} ON {u} ("email");
CREATE TABLE IF NOT EXISTS {a} (
    "id"                text PRIMARY KEY DEFAULT {id_default},
    "userId"            text NOT NULL REFERENCES {u} ("id") ON DELETE CASCADE,
    "type"              text NOT NULL,
    "provider"          text NOT NULL,
    "providerAccountId" text NOT NULL,
    "refresh_token"     text,
    "access_token"      text,
    "expires_at"        bigint,
    "token_type"        text,
    "scope"             text,
    "id_token"          text,
    "session_state"     text
);
CREATE UNIQUE INDEX IF NOT EXISTS {acc_key} ON {a} ("provider", "providerAccountId");
CREATE INDEX IF NOT EXISTS {acc_user} ON {a} ("userId");
CREATE TABLE IF NOT EXISTS {se} (
    "id"           text PRIMARY KEY DEFAULT {id_default},
    "sessionToken" text NOT NULL,
    "userId"       text NOT NULL REFERENCES {u} ("id") ON DELETE CASCADE,
    "expires"      timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS {ses_token} ON {se} ("sessionToken");
CREATE INDEX IF NOT EXISTS {ses_user} ON {se} ("userId");
CREATE INDEX IF NOT EXISTS {ses_expires} ON {se} ("expires");
CREATE TABLE IF NOT EXISTS {vt} (
    "identifier" text NOT NULL,
    "token"      text NOT NULL,
    "expires"    timestamptz NOT NULL,
    PRIMARY KEY ("identifier", "token")
);
CREATE UNIQUE INDEX IF NOT EXISTS {vt_token} ON {vt} ("token");
CREATE INDEX IF NOT EXISTS {vt_expires} ON {vt} ("expires");
CREATE TABLE IF NOT EXISTS {au} (
    "credentialID"         text NOT NULL,
    "userId"               text NOT NULL REFERENCES {u} ("id") ON DELETE CASCADE,
    "providerAccountId"    text NOT NULL,
    "credentialPublicKey"  text NOT NULL,
    "counter"              bigint NOT NULL DEFAULT 0,
    "credentialDeviceType" text NOT NULL,
    "credentialBackedUp"   boolean NOT NULL DEFAULT false,
    "transports"           text,
    PRIMARY KEY ("userId", "credentialID")
);
CREATE UNIQUE INDEX IF NOT EXISTS {auth_cred} ON {au} ("credentialID");
"#,
                user_email = n(user_t, "email_key"),
                acc_key = n(acc_t, "provider_providerAccountId_key"),
                acc_user = n(acc_t, "userId_idx"),
                ses_token = n(ses_t, "sessionToken_key"),
                ses_user = n(ses_t, "userId_idx"),
                ses_expires = n(ses_t, "expires_idx"),
                vt_token = n(vt_t, "token_key"),
                vt_expires = n(vt_t, "expires_idx"),
                auth_cred = n(auth_t, "credentialID_key"),
            )
        }
    }
}

/// Splits DDL into its other statements and its `CREATE [UNIQUE] INDEX IF
/// NOT EXISTS` lines, each with the index name it creates (unquoted).
fn split_indexes(ddl: &str) -> (String, Vec<(String, String)>) {
    let mut tables = String::new();
    let mut indexes = Vec::new();
    for line in ddl.lines() {
        let rest = line
            .strip_prefix("CREATE UNIQUE INDEX IF NOT EXISTS ")
            .or_else(|| line.strip_prefix("CREATE INDEX IF NOT EXISTS "));
        match rest.and_then(unquote_ident) {
            Some(name) => indexes.push((name, line.to_owned())),
            None => {
                tables.push_str(line);
                tables.push('\n');
            }
        }
    }
    (tables, indexes)
}

/// The quoted identifier `sql` starts with, unquoted.
fn unquote_ident(sql: &str) -> Option<String> {
    let mut chars = sql.strip_prefix('"')?.chars().peekable();
    let mut name = String::new();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
            } else {
                return Some(name);
            }
        }
        name.push(c);
    }
    None
}

/// The columns the adapter uses, by table (the same in every layout).
fn columns(_layout: Layout, names: &TableNames) -> Vec<(String, &'static str)> {
    let mut all = Vec::new();
    let mut add = |table: &str, columns: &[&'static str]| {
        all.extend(columns.iter().map(|c| (table.to_owned(), *c)));
    };
    add(
        &names.user,
        &["id", "name", "email", "emailVerified", "image"],
    );
    add(
        &names.account,
        &[
            "userId",
            "type",
            "provider",
            "providerAccountId",
            "refresh_token",
            "access_token",
            "expires_at",
            "token_type",
            "scope",
            "id_token",
            "session_state",
        ],
    );
    add(&names.session, &["sessionToken", "userId", "expires"]);
    add(
        &names.verification_token,
        &["identifier", "token", "expires"],
    );
    add(
        &names.authenticator,
        &[
            "credentialID",
            "userId",
            "providerAccountId",
            "credentialPublicKey",
            "counter",
            "credentialDeviceType",
            "credentialBackedUp",
            "transports",
        ],
    );
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_statements_are_split_off_with_their_names() {
        let names = TableNames::of(Layout::PgAdapter).with_prefix("a\"b ");
        let s = Statements::of(Layout::PgAdapter, &names);
        assert!(!s.ddl.contains("INDEX"));
        assert_eq!(s.indexes.len(), 8);
        assert_eq!(s.indexes[0].0, "a\"b users_email_key");
        assert!(s.indexes[0].1.contains(r#""a""b users_email_key""#));
        assert_eq!(unquote_ident(r#""x""y" ON"#).as_deref(), Some("x\"y"));
        assert_eq!(unquote_ident(r#""open"#), None);
    }

    #[test]
    fn long_object_names_stay_distinct_and_short() {
        assert_eq!(object_name("User", "email_key"), "User_email_key");
        let a = object_name(&"t".repeat(60), "email_key");
        let b = object_name(&"t".repeat(60), "email_unique");
        assert!(a.len() <= 63 && b.len() <= 63);
        assert_ne!(a, b);
    }

    #[test]
    fn the_default_layout_keeps_its_statements() {
        let s = Statements::of(Layout::Prisma, &TableNames::default());
        assert!(s.versioned && s.ddl.is_empty());
        assert_eq!(
            s.get_user,
            r#"SELECT "id", "name", "email", "emailVerified", "image" FROM "User" WHERE "id" = $1"#
        );
        assert!(std::ptr::eq(
            s,
            Statements::of(Layout::Prisma, &TableNames::default())
        ));
        let d = Statements::of(Layout::Drizzle, &TableNames::of(Layout::Drizzle));
        assert!(
            d.get_user
                .contains(r#"("emailVerified" AT TIME ZONE 'UTC')"#)
        );
        let p = Statements::of(Layout::PgAdapter, &TableNames::of(Layout::PgAdapter));
        assert!(
            p.get_user
                .ends_with(r#"FROM "users" WHERE "id" = $1::int4"#)
        );
    }
}
