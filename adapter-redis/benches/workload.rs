//! The BENCH.md workload on Redis:
//! `cargo bench -p adapter-redis [-- --users N --ops N --concurrency C --url redis://host:port]`.
//! Without `--url` it uses `REDIS_URL`. Everything runs under a fresh key
//! prefix, whose keys are removed afterwards (`RedisAdapter::clear_namespace`).
//!
//! The adapter and the raw lookup each use one multiplexed connection (a
//! `ConnectionManager`): Redis pipelines concurrent requests on it, so there
//! is no pool to size.

use std::sync::Arc;
use std::time::Duration;

use adapter_conformance::bench::{self, BenchConfig, RawLookup};
use adapter_conformance::servers::{self, Server};
use adapter_redis::{RedisAdapter, RedisOptions};
use redis::Value;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("REDIS_URL");
    let url = match &config.url {
        Some(url) => url.clone(),
        None => servers::url(Server::Redis).await,
    };
    let prefix = servers::unique_namespace("bench");
    let options = RedisOptions::new().prefix(&prefix);
    let adapter = RedisAdapter::connect_with(&url, &options)
        .await
        .expect("connect to Redis");
    adapter.migrate().await.expect("migrate");

    let client = redis::Client::open(url.as_str()).expect("a Redis URL");
    let timeouts = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(5)));
    let raw = ConnectionManager::new_with_config(client, timeouts)
        .await
        .expect("a raw connection");

    // The ceiling: one HGETALL of the session hash, as documented in the
    // crate README's key layout.
    let session_key = format!("{{{prefix}}}:session:");
    let raw_lookup: RawLookup = {
        let raw = raw.clone();
        Arc::new(move |token: String| {
            let (mut raw, key) = (raw.clone(), format!("{session_key}{token}"));
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
    let adapter = Arc::new(adapter);
    bench::run("redis", adapter.clone(), &config, raw_lookup).await;

    let removed = adapter
        .clear_namespace()
        .await
        .expect("clear the namespace");
    eprintln!("redis: removed the {removed} keys of prefix {prefix}");
}
