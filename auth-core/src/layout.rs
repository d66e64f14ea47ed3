//! Which official Auth.js adapter's tables a SQL adapter reads and writes.
//!
//! A team whose Next.js app already stores its users with an official
//! Auth.js adapter points a Rust service at the same database by choosing
//! that adapter's [`Layout`]; [`TableNames`] renames the tables (and adds a
//! prefix) for databases that were set up with custom names. The SQL
//! adapters of this workspace take both in their options
//! (`layout(..)`, `table_names(..)`, `table_prefix(..)`); the default is
//! [`Layout::Prisma`], the layout they have always used.
//!
//! | official adapter | layout | tables |
//! |---|---|---|
//! | `@auth/prisma-adapter`, `@auth/kysely-adapter` | [`Layout::Prisma`] | `User`, `Account`, `Session`, `VerificationToken`, `Authenticator` |
//! | `@auth/drizzle-adapter` (default schema) | [`Layout::Drizzle`] | `user`, `account`, `session`, `verificationToken`, `authenticator` |
//! | `@auth/pg-adapter` (PostgreSQL) | [`Layout::PgAdapter`] | `users`, `accounts`, `sessions`, `verification_token` (+ `authenticators`) |
//!
//! ```
//! use auth_core::layout::{Layout, TableNames};
//!
//! let names = TableNames::of(Layout::Drizzle).with_prefix("auth_");
//! assert_eq!(names.user, "auth_user");
//! assert_eq!(names.verification_token, "auth_verificationToken");
//! assert_eq!(TableNames::of(Layout::PgAdapter).session, "sessions");
//! ```

use std::fmt;

/// The table layout of an official Auth.js adapter: its table and column
/// names, key columns and column types. Chosen when an adapter is built;
/// the default is [`Layout::Prisma`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layout {
    /// `@auth/prisma-adapter`'s schema, which `@auth/kysely-adapter` shares:
    /// `"User"`, `"Account"`, `"Session"`, `"VerificationToken"`,
    /// `"Authenticator"`, text ids.
    #[default]
    Prisma,
    /// `@auth/drizzle-adapter`'s default schemas for PostgreSQL, MySQL and
    /// SQLite: `user`, `account`, `session`, `verificationToken`,
    /// `authenticator`; the session token is the session's primary key, an
    /// account is keyed by `(provider, providerAccountId)`, and dates use
    /// each dialect's Drizzle type (integers on SQLite).
    Drizzle,
    /// `@auth/pg-adapter`'s schema (PostgreSQL only): `users`, `accounts`,
    /// `sessions`, `verification_token`, `SERIAL` integer ids exposed as
    /// decimal strings. It has no passkey table; the adapter adds
    /// `authenticators` beside it.
    PgAdapter,
}

impl Layout {
    /// The layout's name as the official adapter's package names it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Prisma => "prisma",
            Layout::Drizzle => "drizzle",
            Layout::PgAdapter => "pg-adapter",
        }
    }

    /// Parses [`name`](Self::name) (`kysely` is accepted for `prisma`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "prisma" | "kysely" => Some(Layout::Prisma),
            "drizzle" => Some(Layout::Drizzle),
            "pg-adapter" | "pg" => Some(Layout::PgAdapter),
            _ => None,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The five table names an adapter uses. [`TableNames::of`] gives a
/// layout's own; each field can be changed, and
/// [`with_prefix`](Self::with_prefix) puts a prefix before all of them.
/// Names are used exactly as given (quoted in SQL), so case matters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableNames {
    /// Users.
    pub user: String,
    /// Linked OAuth accounts.
    pub account: String,
    /// Database sessions.
    pub session: String,
    /// Email sign-in tokens.
    pub verification_token: String,
    /// Passkey credentials.
    pub authenticator: String,
}

impl TableNames {
    /// The table names of `layout`.
    pub fn of(layout: Layout) -> Self {
        let [user, account, session, verification_token, authenticator] = match layout {
            Layout::Prisma => [
                "User",
                "Account",
                "Session",
                "VerificationToken",
                "Authenticator",
            ],
            Layout::Drizzle => [
                "user",
                "account",
                "session",
                "verificationToken",
                "authenticator",
            ],
            Layout::PgAdapter => [
                "users",
                "accounts",
                "sessions",
                "verification_token",
                "authenticators",
            ],
        };
        Self {
            user: user.into(),
            account: account.into(),
            session: session.into(),
            verification_token: verification_token.into(),
            authenticator: authenticator.into(),
        }
    }

    /// The same names with `prefix` before each.
    pub fn with_prefix(self, prefix: &str) -> Self {
        Self {
            user: format!("{prefix}{}", self.user),
            account: format!("{prefix}{}", self.account),
            session: format!("{prefix}{}", self.session),
            verification_token: format!("{prefix}{}", self.verification_token),
            authenticator: format!("{prefix}{}", self.authenticator),
        }
    }

    /// The names in a fixed order: user, account, session,
    /// verification token, authenticator.
    pub fn all(&self) -> [&str; 5] {
        [
            &self.user,
            &self.account,
            &self.session,
            &self.verification_token,
            &self.authenticator,
        ]
    }

    /// Checks that every name is usable: non-empty, at most `max_len`
    /// bytes (63 on PostgreSQL, 64 on MySQL), no NUL, and all five
    /// distinct. Returns the problem as the text of an `InvalidInput` on
    /// field `table_names`.
    pub fn check(&self, max_len: usize) -> Result<(), crate::AdapterError> {
        let all = self.all();
        for (i, name) in all.iter().enumerate() {
            let problem = if name.is_empty() {
                Some(format!("table name {} is empty", i + 1))
            } else if name.len() > max_len {
                Some(format!(
                    "table name {name:?} is longer than {max_len} bytes"
                ))
            } else if name.contains('\0') {
                Some("a table name contains NUL".to_string())
            } else if all[..i].contains(name) {
                Some(format!("table name {name:?} is used twice"))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(crate::AdapterError::invalid_input("table_names", problem));
            }
        }
        Ok(())
    }
}

impl Default for TableNames {
    fn default() -> Self {
        Self::of(Layout::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(TableNames::default().check(63).is_ok());
        let mut names = TableNames::of(Layout::Drizzle);
        names.session = "user".into();
        assert!(names.check(63).unwrap_err().is_invalid_input());
        let long = TableNames::default().with_prefix(&"x".repeat(60));
        assert!(long.check(63).is_err());
        assert!(long.check(200).is_ok());
        let mut empty = TableNames::default();
        empty.account.clear();
        assert!(empty.check(63).is_err());
    }

    #[test]
    fn layouts_parse_by_name() {
        for layout in [Layout::Prisma, Layout::Drizzle, Layout::PgAdapter] {
            assert_eq!(Layout::from_name(layout.name()), Some(layout));
        }
        assert_eq!(Layout::from_name("kysely"), Some(Layout::Prisma));
        assert_eq!(Layout::from_name("typeorm"), None);
    }
}
