//! The versioned migrations of the default tables, recorded the way sqlx's
//! migrator recorded them when this crate was built on sqlx (up to 0.1's
//! sqlx 0.9), so that a schema either version migrated is one the other
//! accepts: the same table ([`MIGRATIONS_TABLE`]) and columns, the same
//! description of each version, the same checksum (SHA-384 of the file's
//! SQL), the same per-database advisory lock inside the adapter's own, one
//! transaction per version.
//!
//! And `migrate()` for the other layouts: their idempotent DDL, nothing
//! recorded.

use std::fmt;
use std::time::Instant;

use auth_core::{AdapterError, Result};
use sha2::{Digest, Sha384};
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use crate::tables::Statements;
use crate::{MIGRATIONS_TABLE, backend, quote_ident};

/// Every version as `(version, description, sql)`: the description is
/// what sqlx made of the file name (`0001_init.sql` is version 1, `init`;
/// underscores become spaces).
const MIGRATIONS: [(i64, &str, &str); 2] = [
    (1, "init", crate::MIGRATIONS_SQL[0].1),
    (
        2,
        "authenticator counter bigint",
        crate::MIGRATIONS_SQL[1].1,
    ),
];

/// A migration history this build cannot continue.
#[derive(Debug)]
pub(crate) struct HistoryError(String);

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HistoryError {}

fn history(message: String) -> AdapterError {
    AdapterError::backend(HistoryError(message))
}

/// The checksum sqlx records for a migration: SHA-384 of its SQL text.
fn checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

/// The key of sqlx's migration lock for `database`:
/// `0x3d32ad9e * CRC-32/ISO-HDLC(name)`, as `sqlx-postgres` computes it,
/// so that a process of the sqlx-based version waits for this one and the
/// other way round.
fn sqlx_lock_id(database: &str) -> i64 {
    0x3d32_ad9e * i64::from(crc32(database.as_bytes()))
}

/// CRC-32/ISO-HDLC (the CRC of zip and Ethernet), bit by bit: it runs once
/// per `migrate()`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Applies the versions missing from [`MIGRATIONS_TABLE`] on `client`,
/// whose session holds the adapter's migrate lock.
pub(crate) async fn run_versioned(client: &mut Client) -> Result<()> {
    let database: String = client
        .query_typed_one("SELECT current_database()::text", &[])
        .await
        .map_err(backend)?
        .try_get(0)
        .map_err(backend)?;
    let lock_id = sqlx_lock_id(&database);
    // sqlx's per-database lock, taken inside ours as sqlx's migrator did.
    client
        .execute_typed("SELECT pg_advisory_lock($1)", &[(&lock_id, Type::INT8)])
        .await
        .map_err(backend)?;
    apply_missing(client).await?;
    // Closing the connection would release it too; sqlx released it.
    client
        .execute_typed("SELECT pg_advisory_unlock($1)", &[(&lock_id, Type::INT8)])
        .await
        .map_err(backend)?;
    Ok(())
}

async fn apply_missing(client: &mut Client) -> Result<()> {
    let table = MIGRATIONS_TABLE;
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);"
        ))
        .await
        .map_err(backend)?;
    let dirty = client
        .query_typed(
            &format!("SELECT version FROM {table} WHERE success = false ORDER BY version LIMIT 1"),
            &[],
        )
        .await
        .map_err(backend)?;
    if let Some(row) = dirty.first() {
        let version: i64 = row.try_get(0).map_err(backend)?;
        return Err(history(format!(
            "migration {version} is partially applied (recorded with success = false in \
             {table}); fix the schema and remove that row"
        )));
    }
    let applied: Vec<(i64, Vec<u8>)> = client
        .query_typed(
            &format!("SELECT version, checksum FROM {table} ORDER BY version"),
            &[],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<std::result::Result<_, tokio_postgres::Error>>()
        .map_err(backend)?;
    for (version, recorded) in &applied {
        match MIGRATIONS.iter().find(|(v, _, _)| v == version) {
            None => {
                return Err(history(format!(
                    "migration {version} was previously applied but is missing in the \
                     migrations of this build (a newer version of the crate applied it)"
                )));
            }
            Some((_, _, sql)) if checksum(sql) != *recorded => {
                return Err(history(format!(
                    "migration {version} was previously applied but has been modified \
                     (its checksum differs from the one recorded in {table})"
                )));
            }
            Some(_) => {}
        }
    }
    for (version, description, sql) in MIGRATIONS {
        if applied.iter().any(|(v, _)| *v == version) {
            continue;
        }
        let started = Instant::now();
        // The SQL and its record in one transaction, so that a version is
        // never applied twice; the time taken is recorded after, as sqlx
        // did (-1 until then).
        let tx = client.transaction().await.map_err(backend)?;
        tx.batch_execute(sql).await.map_err(backend)?;
        tx.execute_typed(
            &format!(
                "INSERT INTO {table} ( version, description, success, checksum, execution_time ) \
                 VALUES ( $1, $2, TRUE, $3, -1 )"
            ),
            &[
                (&version, Type::INT8),
                (&description, Type::TEXT),
                (&checksum(sql), Type::BYTEA),
            ],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        client
            .execute_typed(
                &format!("UPDATE {table} SET execution_time = $1 WHERE version = $2"),
                &[(&nanos, Type::INT8), (&version, Type::INT8)],
            )
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// `migrate()` for a layout or table names other than the default: the
/// layout's idempotent DDL in one transaction (tables that exist are kept;
/// the indexes missing are added, the others not touched, so that a start
/// finding everything in place locks no table), the columns the contract
/// needs wider widened (a 32-bit authenticator counter to `bigint`,
/// pg-adapter's `varchar(255)` user name to `text`), then a check that the
/// tables have every column the adapter uses. Nothing is recorded: the DDL
/// runs again at each start, and finds everything in place.
pub(crate) async fn run_layout(client: &mut Client, sql: &Statements) -> Result<()> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.batch_execute(sql.ddl).await.map_err(backend)?;
    let index_names: Vec<&str> = sql.indexes.iter().map(|(n, _)| n.as_str()).collect();
    let missing: Vec<String> = tx
        .query_typed(
            "SELECT n FROM unnest($1::text[]) AS n WHERE NOT EXISTS ( \
                 SELECT 1 FROM pg_class c \
                 WHERE c.relname = n AND c.relnamespace = current_schema()::regnamespace)",
            &[(&index_names, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<std::result::Result<_, _>>()
        .map_err(backend)?;
    for (name, index) in &sql.indexes {
        if missing.contains(name) {
            tx.batch_execute(index).await.map_err(backend)?;
        }
    }
    for (table, column, narrower, wider) in &sql.widen {
        let current: Option<String> = tx
            .query_typed(
                "SELECT data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                   AND column_name = $2",
                &[(table, Type::TEXT), (column, Type::TEXT)],
            )
            .await
            .map_err(backend)?
            .first()
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(backend)?;
        if current.is_some_and(|c| narrower.contains(&c.as_str())) {
            let alter = format!(
                "ALTER TABLE {} ALTER COLUMN {} TYPE {wider}",
                quote_ident(table),
                quote_ident(column)
            );
            tx.batch_execute(&alter).await.map_err(backend)?;
        }
    }
    let tables: Vec<String> = sql.names.all().map(str::to_owned).to_vec();
    let present: Vec<(String, String)> = tx
        .query_typed(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = ANY($1)",
            &[(&tables, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(backend)?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<std::result::Result<_, tokio_postgres::Error>>()
        .map_err(backend)?;
    let missing: Vec<String> = sql
        .columns
        .iter()
        .filter(|(t, c)| !present.iter().any(|(pt, pc)| pt == t && pc == c))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    if !missing.is_empty() {
        return Err(AdapterError::backend(format!(
            "the existing tables of layout {} lack the columns {}: are the layout and \
             table names those of the official adapter that made them?",
            sql.layout,
            missing.join(", ")
        )));
    }
    tx.commit().await.map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_records_are_sqlx_s() {
        // The CRC-32 check value, and sqlx's lock key for `postgres`.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(
            sqlx_lock_id("postgres"),
            0x3d32_ad9e * i64::from(crc32(b"postgres"))
        );
        // SHA-384 of the empty string.
        assert_eq!(checksum("")[..6], [0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac]);
        assert_eq!(MIGRATIONS.len(), crate::MIGRATIONS_SQL.len());
        for ((v, _, sql), (version, shipped)) in MIGRATIONS.iter().zip(crate::MIGRATIONS_SQL) {
            assert_eq!((v, sql), (version, shipped));
        }
    }
}
