//! The benchmark workload (`docs/workload.md`) on Redis:
//! `cargo bench -p adapter-redis [-- --users N --ops N --concurrency C --url redis://host:port]`.
//! Without `--url` it uses `REDIS_URL`. A comma-separated list of node URLs
//! (`--url redis://127.0.0.1:7001,redis://127.0.0.1:7002`, as in
//! `REDIS_CLUSTER_URLS`) runs it on a Redis Cluster, reported as
//! `redis-cluster`. Everything runs under a fresh key prefix, whose keys are
//! removed afterwards (`RedisAdapter::clear_namespace`).
//!
//! The adapter and the raw lookup each use one multiplexed connection (a
//! `ConnectionManager`, or a cluster connection): Redis pipelines concurrent
//! requests on it, so there is no pool to size.

use std::sync::Arc;
use std::time::Duration;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, RawLookup, SeedUser};
use adapter_conformance::servers::{self, Server};
use adapter_redis::{RedisAdapter, RedisOptions};
use auth_core::AdapterError;
use auth_core::timestamp::to_unix_millis;
use redis::Value;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("REDIS_URL");
    let url = match &config.url {
        Some(url) => url.clone(),
        None => servers::url(Server::Redis).await,
    };
    let prefix = servers::unique_namespace("bench");
    let options = RedisOptions::from_url(&url)
        .expect("a Redis URL, or a comma-separated list of cluster node URLs")
        .namespace(&prefix);
    let nodes: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if options.is_cluster() {
        let adapter = RedisAdapter::connect_with(options)
            .await
            .expect("connect to the Redis Cluster");
        let raw = ClusterClient::new(nodes)
            .expect("Redis Cluster node URLs")
            .get_async_connection()
            .await
            .expect("a raw cluster connection");
        workload("redis-cluster", adapter, raw, &config).await;
    } else {
        let adapter = RedisAdapter::connect_with(options)
            .await
            .expect("connect to Redis");
        let client = redis::Client::open(url.as_str()).expect("a Redis URL");
        let timeouts = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(30)));
        let raw = ConnectionManager::new_with_config(client, timeouts)
            .await
            .expect("a raw connection");
        workload("redis", adapter, raw, &config).await;
    }
}

async fn workload<C>(backend: &str, adapter: RedisAdapter, raw: C, config: &BenchConfig)
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    adapter.migrate().await.expect("migrate");
    // Every key of the namespace shares the hash tag `{prefix}`, so on a
    // cluster they all live in one slot and one pipeline may touch them all.
    let base = format!("{{{}}}:", adapter.prefix());

    // The ceiling: one HGETALL of the session hash, as documented in the
    // crate README's key layout.
    let raw_lookup: RawLookup = {
        let (raw, base) = (raw.clone(), base.clone());
        Arc::new(move |token: String| {
            let (mut raw, key) = (raw.clone(), format!("{base}session:{token}"));
            Box::pin(async move {
                let value: Value = redis::cmd("HGETALL")
                    .arg(key)
                    .query_async(&mut raw)
                    .await
                    .expect("HGETALL");
                matches!(value, Value::Array(fields) if !fields.is_empty())
            })
        })
    };
    let seed: BulkSeed = Arc::new(move |batch| Box::pin(seed(raw.clone(), base.clone(), batch)));
    let adapter = Arc::new(adapter);
    bench::run_bulk_seeded(backend, adapter.clone(), config, raw_lookup, seed).await;

    let removed = adapter
        .clear_namespace()
        .await
        .expect("clear the namespace");
    eprintln!("{backend}: removed the {removed} keys of the benchmark's prefix");
}

/// The bulk path: one pipeline per batch that writes the keys of the crate
/// README's layout directly, instead of three scripts per user.
async fn seed<C: ConnectionLike>(
    mut connection: C,
    base: String,
    batch: Vec<SeedUser>,
) -> Result<Vec<String>, AdapterError> {
    let mut pipe = redis::pipe();
    let mut ids = Vec::with_capacity(batch.len());
    for r in &batch {
        let id = auth_core::new_id();
        let email = r.user.email.as_deref().unwrap_or_default();
        let name = r.user.name.as_deref().unwrap_or_default();
        pipe.hset_multiple(
            format!("{base}user:{id}"),
            &[("v", "1"), ("id", &id), ("name", name), ("email", email)],
        )
        .ignore()
        .set(format!("{base}email:{email}"), &id)
        .ignore();

        let a = &r.account;
        let member = format!(
            "{}:{}:{}",
            a.provider.len(),
            a.provider,
            a.provider_account_id
        );
        pipe.hset_multiple(
            format!("{base}account:{member}"),
            &[
                ("v", "1"),
                ("userId", id.as_str()),
                ("type", a.account_type.as_str()),
                ("provider", &a.provider),
                ("providerAccountId", &a.provider_account_id),
                (
                    "access_token",
                    a.access_token.as_deref().unwrap_or_default(),
                ),
                ("token_type", a.token_type.as_deref().unwrap_or_default()),
                ("scope", a.scope.as_deref().unwrap_or_default()),
            ],
        )
        .ignore()
        .sadd(format!("{base}user-accounts:{id}"), member)
        .ignore();

        let token = &r.session.session_token;
        let expires = to_unix_millis(r.session.expires);
        let session = format!("{base}session:{token}");
        let index = format!("{base}user-sessions:{id}");
        pipe.hset_multiple(
            &session,
            &[
                ("v", "1"),
                ("userId", id.as_str()),
                ("expires", &expires.to_string()),
            ],
        )
        .ignore()
        .cmd("PEXPIREAT")
        .arg(&session)
        .arg(expires)
        .ignore()
        .zadd(&index, token, expires)
        .ignore()
        .cmd("PEXPIREAT")
        .arg(&index)
        .arg(expires)
        .ignore();
        ids.push(id);
    }
    pipe.query_async::<()>(&mut connection)
        .await
        .map_err(AdapterError::backend)?;
    Ok(ids)
}
