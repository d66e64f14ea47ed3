//! Which database a run talks to, and how its adapter is built.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use adapter_mongodb::{MongoOptions, MongodbAdapter};
use adapter_mysql::{MysqlAdapter, MysqlOptions};
use adapter_postgres::{PostgresAdapter, PostgresOptions};
use adapter_redis::{RedisAdapter, RedisOptions};
use adapter_sqlite::{SqliteAdapter, SqliteOptions};
use auth_core::{Adapter, AdapterError};

/// A backend of the harness: one adapter crate on one kind of server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// `adapter-postgres` on PostgreSQL.
    Postgres,
    /// `adapter-mysql` on MariaDB / MySQL.
    Mysql,
    /// `adapter-redis` on one Redis server.
    Redis,
    /// `adapter-redis` on a Redis Cluster.
    RedisCluster,
    /// `adapter-mongodb` on a MongoDB-wire server.
    Mongodb,
    /// `adapter-sqlite` on a database file.
    Sqlite,
}

impl Backend {
    /// Every backend, in the order of the results table.
    pub const ALL: [Backend; 6] = [
        Backend::Postgres,
        Backend::Mysql,
        Backend::Redis,
        Backend::RedisCluster,
        Backend::Mongodb,
        Backend::Sqlite,
    ];

    /// The name used on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
            Backend::Redis => "redis",
            Backend::RedisCluster => "redis-cluster",
            Backend::Mongodb => "mongodb",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The environment variable `scripts/services.sh` writes the server's
    /// URL to (`None` for SQLite, whose URL is a file path).
    pub fn url_var(self) -> Option<&'static str> {
        match self {
            Backend::Postgres => Some("POSTGRES_URL"),
            Backend::Mysql => Some("MYSQL_URL"),
            Backend::Redis => Some("REDIS_URL"),
            Backend::RedisCluster => Some("REDIS_CLUSTER_URLS"),
            Backend::Mongodb => Some("MONGODB_URL"),
            Backend::Sqlite => None,
        }
    }

    /// The URL from the environment, or an error saying how to provide it.
    pub fn url_from_env(self) -> Result<String, String> {
        let Some(var) = self.url_var() else {
            return Err("the sqlite backend needs --url PATH (a database file)".into());
        };
        match std::env::var(var) {
            Ok(url) if !url.trim().is_empty() => Ok(url),
            _ => Err(format!(
                "{var} is not set: start the servers with `bash scripts/services.sh && \
                 source .services/env`, or pass --url"
            )),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to build the adapter of a run.
#[derive(Clone, Debug)]
pub struct Connect {
    /// The backend.
    pub backend: Backend,
    /// Its URL (a file path for SQLite).
    pub url: String,
    /// The namespace (schema, database, key prefix) the run works in;
    /// ignored for SQLite, whose file is the namespace.
    pub namespace: String,
    /// Connections in the adapter's pool.
    pub pool_size: u32,
    /// The adapter's operation timeout: the longest any call may take.
    pub timeout: Duration,
}

type DropFuture = Pin<Box<dyn Future<Output = Result<(), AdapterError>> + Send>>;

/// An adapter built by [`connect`], and how to drop what it stored.
pub struct Store {
    /// The adapter, as the load driver uses it.
    pub adapter: Arc<dyn Adapter>,
    drop_namespace: Box<dyn FnOnce() -> DropFuture + Send>,
}

impl Store {
    /// Drops the run's namespace (schema, database, keys); for SQLite the
    /// file is left for inspection.
    pub async fn drop_namespace(self) -> Result<(), AdapterError> {
        (self.drop_namespace)().await
    }
}

/// Builds the adapter of `connect` and runs its migrations.
pub async fn connect(connect: &Connect) -> Result<Store, AdapterError> {
    let Connect {
        backend,
        url,
        namespace,
        pool_size,
        timeout,
    } = connect.clone();
    let store = match backend {
        Backend::Postgres => {
            let options = PostgresOptions::from_url(&url)?
                .namespace(&namespace)
                .pool_size(pool_size)
                .operation_timeout(timeout);
            let adapter = PostgresAdapter::connect_with(options).await?;
            adapter.migrate().await?;
            let keep = adapter.clone();
            Store {
                adapter: Arc::new(adapter),
                drop_namespace: Box::new(move || Box::pin(keep.drop_namespace())),
            }
        }
        Backend::Mysql => {
            let options = MysqlOptions::from_url(&url)?
                .namespace(&namespace)
                .create_database_if_missing(true)
                .pool_size(pool_size)
                .operation_timeout(timeout);
            let adapter = MysqlAdapter::connect_with(options).await?;
            adapter.migrate().await?;
            let keep = adapter.clone();
            Store {
                adapter: Arc::new(adapter),
                drop_namespace: Box::new(move || Box::pin(keep.drop_namespace())),
            }
        }
        Backend::Redis | Backend::RedisCluster => {
            let options = RedisOptions::from_url(&url)?
                .cluster(backend == Backend::RedisCluster)
                .namespace(&namespace)
                .pool_size(pool_size)
                .operation_timeout(timeout);
            let adapter = RedisAdapter::connect_with(options).await?;
            adapter.migrate().await?;
            let keep = adapter.clone();
            Store {
                adapter: Arc::new(adapter),
                drop_namespace: Box::new(move || Box::pin(keep.drop_namespace())),
            }
        }
        Backend::Mongodb => {
            let options = MongoOptions::from_url(&url)?
                .namespace(&namespace)
                .pool_size(pool_size)
                .operation_timeout(timeout);
            let adapter = MongodbAdapter::connect_with(options).await?;
            adapter.migrate().await?;
            let keep = adapter.clone();
            Store {
                adapter: Arc::new(adapter),
                drop_namespace: Box::new(move || Box::pin(keep.drop_namespace())),
            }
        }
        Backend::Sqlite => {
            let options = SqliteOptions::from_url(&url)?
                .pool_size(pool_size as usize)
                .operation_timeout(timeout);
            let adapter = SqliteAdapter::connect_with(options).await?;
            adapter.migrate().await?;
            Store {
                adapter: Arc::new(adapter),
                drop_namespace: Box::new(|| Box::pin(async { Ok(()) })),
            }
        }
    };
    Ok(store)
}

/// Checks a SQLite database file with `PRAGMA integrity_check` and
/// `PRAGMA foreign_key_check`; the problems found, empty when it is sound.
pub fn sqlite_integrity(path: &str) -> Result<Vec<String>, String> {
    let path = path
        .strip_prefix("sqlite://")
        .or_else(|| path.strip_prefix("sqlite:"))
        .unwrap_or(path);
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|e| format!("open {path}: {e}"))?;
    let mut problems = Vec::new();
    let mut stmt = conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(|e| e.to_string())?;
    for row in rows {
        let row = row.map_err(|e| e.to_string())?;
        if row != "ok" {
            problems.push(format!("integrity_check: {row}"));
        }
    }
    let mut stmt = conn
        .prepare("PRAGMA foreign_key_check")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |row| {
            Ok(format!(
                "foreign_key_check: a row of {} points at a missing {}",
                row.get::<_, String>(0)?,
                row.get::<_, String>(2)?
            ))
        })
        .map_err(|e| e.to_string())?;
    for row in rows {
        problems.push(row.map_err(|e| e.to_string())?);
    }
    Ok(problems)
}
