//! The whole conformance suite, on a single Redis node and on a Redis
//! Cluster, each case under a prefix of its own.

/// The suite against `REDIS_URL` (or a container when a Docker engine
/// answers).
mod single {
    use adapter_conformance::servers::{self, Server};
    use adapter_redis::{RedisAdapter, RedisOptions};

    async fn adapter() -> RedisAdapter {
        let url = servers::url(Server::Redis).await;
        let options = RedisOptions::from_url(&url)
            .unwrap_or_else(|e| panic!("REDIS_URL is not a Redis URL: {e}"))
            .namespace(servers::unique_namespace("conformance"));
        let adapter = RedisAdapter::connect_with(options)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to Redis at REDIS_URL: {e}"));
        adapter.migrate().await.expect("migrate");
        adapter
    }

    /// One new connection to the namespace (key prefix) `namespace`,
    /// migrated: the suite runs 8 of these at once.
    async fn migrated(namespace: String) -> Result<RedisAdapter, auth_core::AdapterError> {
        let url = servers::url(Server::Redis).await;
        let adapter =
            RedisAdapter::connect_with(RedisOptions::from_url(&url)?.namespace(namespace)).await?;
        adapter.migrate().await?;
        Ok(adapter)
    }

    adapter_conformance::conformance_tests!(
        adapter,
        teardown = super::drop_namespace,
        migrate = migrated
    );
}

/// The suite against the local Redis Cluster named by `REDIS_CLUSTER_URLS`.
mod cluster {
    use adapter_conformance::servers;
    use adapter_redis::{RedisAdapter, RedisOptions};

    /// The comma-separated node URLs: `RedisOptions::from_url` takes them
    /// as a cluster.
    fn options() -> RedisOptions {
        let urls = std::env::var("REDIS_CLUSTER_URLS").unwrap_or_default();
        assert!(
            !urls.trim().is_empty(),
            "REDIS_CLUSTER_URLS is not set: the cluster tests need a running Redis Cluster. \
             Run `bash scripts/services.sh && source .services/env` in the workspace root \
             (it starts a three-node cluster on ports 7001-7003 and exports \
             REDIS_CLUSTER_URLS=redis://127.0.0.1:7001,redis://127.0.0.1:7002,redis://127.0.0.1:7003)."
        );
        RedisOptions::from_url(&urls)
            .unwrap_or_else(|e| panic!("REDIS_CLUSTER_URLS: {e}"))
            .cluster(true)
    }

    async fn adapter() -> RedisAdapter {
        let options = options().namespace(servers::unique_namespace("conformance"));
        let adapter = RedisAdapter::connect_with(options)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the Redis Cluster: {e}"));
        adapter.migrate().await.expect("migrate");
        adapter
    }

    /// One new cluster connection to the namespace (key prefix)
    /// `namespace`, migrated: the suite runs 8 of these at once.
    async fn migrated(namespace: String) -> Result<RedisAdapter, auth_core::AdapterError> {
        let adapter = RedisAdapter::connect_with(options().namespace(namespace)).await?;
        adapter.migrate().await?;
        Ok(adapter)
    }

    adapter_conformance::conformance_tests!(
        adapter,
        teardown = super::drop_namespace,
        migrate = migrated
    );
}

/// Removes the case's keys, so runs leave nothing behind.
async fn drop_namespace(adapter: adapter_redis::RedisAdapter) {
    adapter.drop_namespace().await.expect("clear the namespace");
}
