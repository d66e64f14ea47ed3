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

use adapter_bench::{self as bench, BenchConfig, BulkSeed, Call, Ceiling, SeedUser};
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

    // The ceiling: each operation's reads and writes as bare commands on
    // the keys of the crate README's layout, without the adapter's scripts:
    // two HGETALLs for a session and its user, one pipeline for a write,
    // one GETDEL for a verification token.
    let ceiling = {
        let (raw, base) = (raw.clone(), base.clone());
        Ceiling::new(Arc::new(move |call| {
            let (mut raw, base) = (raw.clone(), base.clone());
            Box::pin(async move { bare(&mut raw, &base, call).await })
        }))
    };
    let seed: BulkSeed = Arc::new(move |batch| Box::pin(seed(raw.clone(), base.clone(), batch)));
    let adapter = Arc::new(adapter);
    bench::run_bulk_seeded(backend, adapter.clone(), config, ceiling, seed).await;

    // A million users are some five million keys: give the cleanup the
    // time it needs rather than the calls' 10 s.
    let removed = RedisAdapter::clone(&adapter)
        .with_operation_timeout(Duration::from_secs(600))
        .clear_namespace()
        .await
        .expect("clear the namespace");
    eprintln!("{backend}: removed the {removed} keys of the benchmark's prefix");
}

/// A hash's fields, or `None` for a missing key.
async fn hgetall<C: ConnectionLike>(raw: &mut C, key: String) -> Option<Vec<Value>> {
    match redis::cmd("HGETALL")
        .arg(key)
        .query_async(raw)
        .await
        .expect("HGETALL")
    {
        Value::Array(fields) if !fields.is_empty() => Some(fields),
        Value::Map(fields) if !fields.is_empty() => {
            Some(fields.into_iter().flat_map(|(k, v)| [k, v]).collect())
        }
        _ => None,
    }
}

/// The value of `field` in HGETALL's flat field/value list.
fn field(fields: &[Value], name: &str) -> Option<String> {
    fields.chunks(2).find_map(|pair| match pair {
        [Value::BulkString(k), Value::BulkString(v)] if k == name.as_bytes() => {
            String::from_utf8(v.clone()).ok()
        }
        _ => None,
    })
}

/// One workload call as bare commands.
async fn bare<C: ConnectionLike>(raw: &mut C, base: &str, call: Call) -> bool {
    match call {
        Call::GetSessionAndUser { session_token } => {
            let Some(session) = hgetall(raw, format!("{base}session:{session_token}")).await else {
                return false;
            };
            let user_id = field(&session, "userId").expect("a session's userId");
            hgetall(raw, format!("{base}user:{user_id}"))
                .await
                .is_some()
        }
        Call::GetUserByAccount {
            provider,
            provider_account_id,
        } => {
            let key = format!(
                "{base}account:{}:{provider}:{provider_account_id}",
                provider.len()
            );
            let Some(account) = hgetall(raw, key).await else {
                return false;
            };
            let user_id = field(&account, "userId").expect("an account's userId");
            hgetall(raw, format!("{base}user:{user_id}"))
                .await
                .is_some()
        }
        Call::UpdateSession {
            session_token,
            expires,
        } => {
            let key = format!("{base}session:{session_token}");
            let expires = to_unix_millis(expires);
            let (updated,): (i64,) = redis::pipe()
                .cmd("HSET")
                .arg(&key)
                .arg("expires")
                .arg(expires)
                .ignore()
                .cmd("PEXPIREAT")
                .arg(&key)
                .arg(expires)
                .query_async(raw)
                .await
                .expect("the session update");
            updated == 1
        }
        Call::CreateSession(session) => {
            let key = format!("{base}session:{}", session.session_token);
            let index = format!("{base}user-sessions:{}", session.user_id);
            let expires = to_unix_millis(session.expires);
            redis::pipe()
                .hset_multiple(
                    &key,
                    &[
                        ("v", "1"),
                        ("userId", session.user_id.as_str()),
                        ("expires", &expires.to_string()),
                    ],
                )
                .ignore()
                .cmd("PEXPIREAT")
                .arg(&key)
                .arg(expires)
                .ignore()
                .zadd(&index, &session.session_token, expires)
                .ignore()
                .query_async::<()>(raw)
                .await
                .expect("the session insert");
            true
        }
        Call::UseVerificationToken { identifier, token } => {
            let key = format!(
                "{base}verification-token:{}:{identifier}:{token}",
                identifier.len()
            );
            let value: Value = redis::cmd("GETDEL")
                .arg(key)
                .query_async(raw)
                .await
                .expect("GETDEL");
            matches!(value, Value::BulkString(_))
        }
    }
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
