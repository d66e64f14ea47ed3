//! What each database can store, checked before a value is sent: the
//! contract wants `InvalidInput` naming the field, never a `Backend` error.

use auth_core::timestamp::{check_year_range, truncate_to_millis};
use auth_core::{AdapterError, Result};
use time::OffsetDateTime;

use crate::Backend;
use crate::schema::Instant;

/// The most bytes a PostgreSQL key may hold (one value of a B-tree indexed
/// column, or the columns of a composite key together): a B-tree entry
/// holds about 2,700 bytes. As `adapter-postgres`.
pub const POSTGRES_MAX_KEY_BYTES: usize = 2048;
/// The most characters a MySQL / MariaDB `VARCHAR(255)` column holds.
pub const MYSQL_VARCHAR_CHARS: usize = 255;
/// The most bytes a MySQL / MariaDB `TEXT` column holds.
pub const MYSQL_TEXT_BYTES: usize = 65_535;

/// How a column is declared, as far as its size goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    /// Looked up through an index: `text` with a B-tree index (PostgreSQL),
    /// `VARCHAR(255)` (MySQL).
    Key,
    /// Not indexed, but `VARCHAR(255)` on MySQL (`token_type`,
    /// `credentialDeviceType`, the authenticator's `providerAccountId`).
    Short,
    /// `text` / `TEXT`.
    Text,
}

impl Backend {
    /// `InvalidInput` for `field` unless `value` can be stored unchanged in
    /// a column of kind `column`.
    pub(crate) fn check<'a>(
        self,
        field: &'static str,
        value: impl Into<Option<&'a str>>,
        column: Column,
    ) -> Result<()> {
        let Some(value) = value.into() else {
            return Ok(());
        };
        if value.contains('\0') {
            // PostgreSQL text cannot hold NUL; the other two could, but one
            // rule for all three keeps a shared database consistent.
            return Err(AdapterError::invalid_input(
                field,
                "contains a NUL byte, which this adapter never stores",
            ));
        }
        match (self, column) {
            (Backend::Postgres, Column::Key) if value.len() > POSTGRES_MAX_KEY_BYTES => {
                Err(AdapterError::invalid_input(
                    field,
                    format!(
                        "{} bytes; a key holds at most {POSTGRES_MAX_KEY_BYTES} bytes (a \
                         PostgreSQL B-tree index entry holds about 2,700)",
                        value.len()
                    ),
                ))
            }
            (Backend::Mysql, Column::Key | Column::Short)
                if value.chars().nth(MYSQL_VARCHAR_CHARS).is_some() =>
            {
                Err(AdapterError::invalid_input(
                    field,
                    format!(
                        "longer than {MYSQL_VARCHAR_CHARS} characters, the size of its \
                         VARCHAR(255) column"
                    ),
                ))
            }
            (Backend::Mysql, Column::Text) if value.len() > MYSQL_TEXT_BYTES => {
                Err(AdapterError::invalid_input(
                    field,
                    format!(
                        "{} bytes, more than the {MYSQL_TEXT_BYTES} bytes of its TEXT column",
                        value.len()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// The columns of a composite key fit one index entry together
    /// (PostgreSQL); the longer one is named when they do not.
    pub(crate) fn check_pair(
        self,
        first: (&'static str, &str),
        second: (&'static str, &str),
    ) -> Result<()> {
        self.check(first.0, first.1, Column::Key)?;
        self.check(second.0, second.1, Column::Key)?;
        let total = first.1.len() + second.1.len();
        if self == Backend::Postgres && total > POSTGRES_MAX_KEY_BYTES {
            let field = if first.1.len() > second.1.len() {
                first.0
            } else {
                second.0
            };
            return Err(AdapterError::invalid_input(
                field,
                format!(
                    "{} and {} together are {total} bytes; a key holds at most \
                     {POSTGRES_MAX_KEY_BYTES} bytes",
                    first.0, second.0
                ),
            ));
        }
        Ok(())
    }

    /// `instant` as it is stored: truncated to the millisecond, within the
    /// column's range (PostgreSQL `timestamptz`: 4713 BC to 294276 AD;
    /// MySQL `DATETIME`: 1000 to 9999; SQLite ISO text: 0000 to 9999).
    pub(crate) fn instant(self, field: &'static str, instant: OffsetDateTime) -> Result<Instant> {
        let years = match self {
            // `time` counts 1 BC as year 0, so 4713 BC is -4712.
            Backend::Postgres => -4712..=294_275,
            Backend::Mysql => 1000..=9999,
            Backend::Sqlite => 0..=9999,
        };
        check_year_range(field, truncate_to_millis(instant), years).map(Instant)
    }

    pub(crate) fn optional_instant(
        self,
        field: &'static str,
        instant: Option<OffsetDateTime>,
    ) -> Result<Option<Instant>> {
        instant.map(|t| self.instant(field, t)).transpose()
    }
}

/// A key no stored row can have (it holds a NUL byte, which is never
/// stored): lookups by it find nothing without asking the server.
pub(crate) fn unstorable(key: &str) -> bool {
    key.contains('\0')
}

/// The caller's clock, which decides expiry (never the server's `now()`).
pub(crate) fn now() -> Instant {
    Instant(truncate_to_millis(OffsetDateTime::now_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn limits_follow_each_backend() {
        let long_key = "x".repeat(POSTGRES_MAX_KEY_BYTES + 1);
        assert!(
            Backend::Postgres
                .check("email", long_key.as_str(), Column::Key)
                .is_err()
        );
        assert!(
            Backend::Sqlite
                .check("email", long_key.as_str(), Column::Key)
                .is_ok()
        );
        assert!(
            Backend::Mysql
                .check("email", "é".repeat(255).as_str(), Column::Key)
                .is_ok()
        );
        assert!(matches!(
            Backend::Mysql.check("token_type", "x".repeat(256).as_str(), Column::Short),
            Err(AdapterError::InvalidInput {
                field: "token_type",
                ..
            })
        ));
        assert!(
            Backend::Mysql
                .check("scope", "x".repeat(70_000).as_str(), Column::Text)
                .is_err()
        );
        assert!(Backend::Sqlite.check("name", "a\0b", Column::Text).is_err());
        assert!(matches!(
            Backend::Postgres.check_pair(
                ("provider", "p"),
                ("provider_account_id", &"x".repeat(2048))
            ),
            Err(AdapterError::InvalidInput {
                field: "provider_account_id",
                ..
            })
        ));
        assert!(
            Backend::Mysql
                .instant("expires", datetime!(0999-12-31 0:00 UTC))
                .is_err()
        );
        assert_eq!(
            Backend::Postgres
                .instant("expires", datetime!(2030-01-01 0:00:00.123999 +01:00))
                .unwrap()
                .0,
            datetime!(2029-12-31 23:00:00.123 UTC)
        );
    }
}
