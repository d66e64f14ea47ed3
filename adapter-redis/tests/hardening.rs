//! Issue 11 on Redis, single node and Cluster: concurrent `migrate`, the
//! caller's clock decides expiry (an expired session is not revived even
//! while its key lives), keys that change owner move between the per-user
//! indexes, full `u32` counters and 1 MiB values, and bounded waits against a
//! stalled server.

use std::time::{Duration, Instant};

use adapter_conformance::servers::{self, Server};
use adapter_redis::{RedisAdapter, RedisOptions};
use auth_core::timestamp::{to_unix_millis, truncate_to_millis};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, NewUser, Session, SessionUpdate,
    UserUpdate, VerificationToken,
};
use redis::AsyncCommands;
use time::{Duration as Span, OffsetDateTime};

#[derive(Clone, Copy, Debug)]
enum Mode {
    Single,
    Cluster,
}

fn cluster_urls() -> Vec<String> {
    let urls: Vec<String> = std::env::var("REDIS_CLUSTER_URLS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect();
    assert!(
        !urls.is_empty(),
        "REDIS_CLUSTER_URLS is not set: run `bash scripts/services.sh && source .services/env`"
    );
    urls
}

/// One new connection under `prefix`, not migrated.
async fn connect(mode: Mode, prefix: &str) -> Result<RedisAdapter, AdapterError> {
    let url = match mode {
        Mode::Single => servers::url(Server::Redis).await,
        Mode::Cluster => cluster_urls().join(","),
    };
    let options = RedisOptions::from_url(&url)?.namespace(prefix);
    assert_eq!(options.is_cluster(), matches!(mode, Mode::Cluster));
    RedisAdapter::connect_with(options).await
}

async fn setup(mode: Mode) -> (RedisAdapter, Raw, String) {
    let prefix = servers::unique_namespace("hard");
    let adapter = connect(mode, &prefix).await.expect("connect");
    adapter.migrate().await.expect("migrate");
    let raw = match mode {
        Mode::Single => Raw::Single(
            redis::Client::open(servers::url(Server::Redis).await.as_str())
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap(),
        ),
        Mode::Cluster => Raw::Cluster(
            redis::cluster::ClusterClient::new(cluster_urls())
                .unwrap()
                .get_async_connection()
                .await
                .unwrap(),
        ),
    };
    (adapter, raw, format!("{{{prefix}}}:"))
}

/// A plain connection, to look at the keys.
enum Raw {
    Single(redis::aio::MultiplexedConnection),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl Raw {
    async fn exists(&mut self, key: &str) -> bool {
        match self {
            Self::Single(c) => c.exists(key).await.unwrap(),
            Self::Cluster(c) => c.exists(key).await.unwrap(),
        }
    }

    async fn set_members(&mut self, key: &str) -> Vec<String> {
        match self {
            Self::Single(c) => c.smembers(key).await.unwrap(),
            Self::Cluster(c) => c.smembers(key).await.unwrap(),
        }
    }

    async fn zset_members(&mut self, key: &str) -> Vec<String> {
        match self {
            Self::Single(c) => c.zrange(key, 0, -1).await.unwrap(),
            Self::Cluster(c) => c.zrange(key, 0, -1).await.unwrap(),
        }
    }

    async fn hset(&mut self, key: &str, field: &str, value: &str) {
        let () = match self {
            Self::Single(c) => c.hset(key, field, value).await.unwrap(),
            Self::Cluster(c) => c.hset(key, field, value).await.unwrap(),
        };
    }

    async fn sadd(&mut self, key: &str, member: &str) {
        let _: i64 = match self {
            Self::Single(c) => c.sadd(key, member).await.unwrap(),
            Self::Cluster(c) => c.sadd(key, member).await.unwrap(),
        };
    }

    async fn zadd(&mut self, key: &str, member: &str, score: i64) {
        let _: i64 = match self {
            Self::Single(c) => c.zadd(key, member, score).await.unwrap(),
            Self::Cluster(c) => c.zadd(key, member, score).await.unwrap(),
        };
    }

    async fn hget(&mut self, key: &str, field: &str) -> Option<String> {
        match self {
            Self::Single(c) => c.hget(key, field).await.unwrap(),
            Self::Cluster(c) => c.hget(key, field).await.unwrap(),
        }
    }
}

fn later(days: i64) -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc() + Span::days(days))
}

fn account(user_id: &str, provider_account_id: &str) -> Account {
    Account {
        user_id: user_id.to_owned(),
        account_type: AccountType::OAuth,
        provider: "github".into(),
        provider_account_id: provider_account_id.to_owned(),
        access_token: None,
        refresh_token: None,
        expires_at: None,
        token_type: None,
        scope: None,
        id_token: None,
        session_state: None,
    }
}

fn authenticator(user_id: &str, credential_id: &str) -> Authenticator {
    Authenticator {
        credential_id: credential_id.to_owned(),
        user_id: user_id.to_owned(),
        provider_account_id: "pa".into(),
        credential_public_key: "pk".into(),
        counter: 0,
        credential_device_type: "singleDevice".into(),
        credential_backed_up: false,
        transports: None,
    }
}

async fn migrate_from_eight_instances_at_once(mode: Mode) {
    let prefix = servers::unique_namespace("mig");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let prefix = prefix.clone();
            tokio::spawn(async move {
                let adapter = connect(mode, &prefix).await?;
                adapter.migrate().await.map(|()| adapter)
            })
        })
        .collect();
    let mut adapters = Vec::new();
    for task in tasks {
        adapters.push(
            task.await
                .unwrap()
                .unwrap_or_else(|e| panic!("{mode:?}: a concurrent migrate failed: {e}")),
        );
    }
    let user = adapters[0].create_user(NewUser::default()).await.unwrap();
    assert_eq!(adapters[7].get_user(&user.id).await.unwrap(), Some(user));
    adapters[3].clear_namespace().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_from_eight_instances_at_once_single() {
    migrate_from_eight_instances_at_once(Mode::Single).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_from_eight_instances_at_once_cluster() {
    migrate_from_eight_instances_at_once(Mode::Cluster).await;
}

/// The key of a session lives until its `PEXPIREAT` by the server's clock;
/// here its stored `expires` is moved into the past (as if the server's
/// clock were behind the caller's): the caller's clock decides, so the
/// session is neither read nor updated, and stays as it was.
async fn expired_sessions_are_not_revived(mode: Mode) {
    let (adapter, mut raw, base) = setup(mode).await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let other = adapter.create_user(NewUser::default()).await.unwrap();
    adapter
        .create_session(Session {
            session_token: "s".into(),
            user_id: user.id.clone(),
            expires: later(1),
        })
        .await
        .unwrap();
    let key = format!("{base}session:s");
    let past = (to_unix_millis(OffsetDateTime::now_utc()) - 1_000).to_string();
    raw.hset(&key, "expires", &past).await;
    for (expires, user_id) in [
        (Some(later(30)), None),
        (None, Some(other.id.clone())),
        (None, None),
    ] {
        let updated = adapter
            .update_session(SessionUpdate {
                session_token: "s".into(),
                expires,
                user_id,
            })
            .await
            .unwrap();
        assert_eq!(updated, None, "{mode:?}: an expired session was updated");
    }
    assert_eq!(raw.hget(&key, "expires").await, Some(past));
    assert_eq!(raw.hget(&key, "userId").await, Some(user.id.clone()));
    assert!(adapter.get_session_and_user("s").await.unwrap().is_none());
    assert!(
        raw.zset_members(&format!("{base}user-sessions:{}", other.id))
            .await
            .is_empty()
    );
    adapter.clear_namespace().await.unwrap();
}

#[tokio::test]
async fn expired_sessions_are_not_revived_single() {
    expired_sessions_are_not_revived(Mode::Single).await;
}

#[tokio::test]
async fn expired_sessions_are_not_revived_cluster() {
    expired_sessions_are_not_revived(Mode::Cluster).await;
}

/// Every key that changes owner leaves the old owner's index and is not
/// touched when the old owner is deleted.
async fn keys_that_change_owner_move_between_indexes(mode: Mode) {
    let (adapter, mut raw, base) = setup(mode).await;
    let email = |n: &str| Some(format!("{n}@example.com"));
    let a = adapter
        .create_user(NewUser {
            email: email("a"),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let b = adapter.create_user(NewUser::default()).await.unwrap();

    // An account linked to A, unlinked, linked to B.
    adapter.link_account(account(&a.id, "p1")).await.unwrap();
    adapter.unlink_account("github", "p1").await.unwrap();
    assert!(
        raw.set_members(&format!("{base}user-accounts:{}", a.id))
            .await
            .is_empty(),
        "{mode:?}: unlink left the account in A's index"
    );
    adapter.link_account(account(&b.id, "p1")).await.unwrap();

    // A session moved from A to B.
    adapter
        .create_session(Session {
            session_token: "moved".into(),
            user_id: a.id.clone(),
            expires: later(1),
        })
        .await
        .unwrap();
    adapter
        .update_session(SessionUpdate {
            session_token: "moved".into(),
            user_id: Some(b.id.clone()),
            expires: None,
        })
        .await
        .unwrap();
    assert!(
        raw.zset_members(&format!("{base}user-sessions:{}", a.id))
            .await
            .is_empty(),
        "{mode:?}: the moved session is still in A's index"
    );
    assert_eq!(
        raw.zset_members(&format!("{base}user-sessions:{}", b.id))
            .await,
        vec!["moved".to_owned()]
    );

    // A's email released by an update, taken by B; then A deleted.
    adapter
        .update_user(UserUpdate {
            id: a.id.clone(),
            email: Some(email("a2")),
            ..UserUpdate::default()
        })
        .await
        .unwrap();
    assert!(!raw.exists(&format!("{base}email:a@example.com")).await);
    adapter
        .update_user(UserUpdate {
            id: b.id.clone(),
            email: Some(email("a")),
            ..UserUpdate::default()
        })
        .await
        .unwrap();
    adapter.delete_user(&a.id).await.unwrap().unwrap();
    assert!(
        !raw.exists(&format!("{base}email:a2@example.com")).await,
        "{mode:?}: the deleted user's email index is left"
    );
    for key in ["user-accounts", "user-sessions", "user-authenticators"] {
        assert!(!raw.exists(&format!("{base}{key}:{}", a.id)).await);
    }

    // B keeps everything.
    assert_eq!(
        adapter.get_user_by_account("github", "p1").await.unwrap(),
        Some(adapter.get_user(&b.id).await.unwrap().unwrap())
    );
    let (session, owner) = adapter
        .get_session_and_user("moved")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (session.user_id.as_str(), owner.id.as_str()),
        (b.id.as_str(), b.id.as_str())
    );
    assert_eq!(
        adapter
            .get_user_by_email("a@example.com")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(b.id.clone())
    );

    // A credential id of a deleted user, recreated for B.
    let c = adapter.create_user(NewUser::default()).await.unwrap();
    adapter
        .create_authenticator(authenticator(&c.id, "cred"))
        .await
        .unwrap();
    adapter.delete_user(&c.id).await.unwrap();
    adapter
        .create_authenticator(authenticator(&b.id, "cred"))
        .await
        .unwrap();
    let listed = adapter.list_authenticators_by_user_id(&b.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        adapter
            .list_authenticators_by_user_id(&c.id)
            .await
            .unwrap()
            .is_empty()
    );
    adapter.clear_namespace().await.unwrap();
}

#[tokio::test]
async fn keys_that_change_owner_move_between_indexes_single() {
    keys_that_change_owner_move_between_indexes(Mode::Single).await;
}

#[tokio::test]
async fn keys_that_change_owner_move_between_indexes_cluster() {
    keys_that_change_owner_move_between_indexes(Mode::Cluster).await;
}

/// The list calls read a per-user index and each record in one script, and
/// list only records that still name the user: members of the index that
/// point to another user's account or session, or to nothing, are skipped.
async fn lists_skip_stale_index_members(mode: Mode) {
    let (adapter, mut raw, base) = setup(mode).await;
    let a = adapter.create_user(NewUser::default()).await.unwrap();
    let b = adapter.create_user(NewUser::default()).await.unwrap();
    let b_account = adapter.link_account(account(&b.id, "p-b")).await.unwrap();
    let b_session = adapter
        .create_session(Session {
            session_token: "b-session".into(),
            user_id: b.id.clone(),
            expires: later(30),
        })
        .await
        .unwrap();

    // Stale members in A's indexes: B's records, and records that are gone.
    let (accounts, sessions) = (
        format!("{base}user-accounts:{}", a.id),
        format!("{base}user-sessions:{}", a.id),
    );
    raw.sadd(&accounts, "6:github:p-b").await;
    raw.sadd(&accounts, "6:github:gone").await;
    let score = to_unix_millis(later(30));
    raw.zadd(&sessions, "b-session", score).await;
    raw.zadd(&sessions, "gone", score).await;

    assert_eq!(
        adapter.list_accounts_by_user_id(&a.id).await.unwrap(),
        vec![],
        "{mode:?}: A's list showed accounts through stale index members"
    );
    assert_eq!(
        adapter.list_sessions_by_user_id(&a.id).await.unwrap(),
        vec![],
        "{mode:?}: A's list showed sessions through stale index members"
    );
    assert_eq!(
        adapter.list_accounts_by_user_id(&b.id).await.unwrap(),
        vec![b_account],
        "{mode:?}: B's account must be listed under B"
    );
    assert_eq!(
        adapter.list_sessions_by_user_id(&b.id).await.unwrap(),
        vec![b_session],
        "{mode:?}: B's session must be listed under B"
    );
    adapter.clear_namespace().await.unwrap();
}

#[tokio::test]
async fn lists_skip_stale_index_members_single() {
    lists_skip_stale_index_members(Mode::Single).await;
}

#[tokio::test]
async fn lists_skip_stale_index_members_cluster() {
    lists_skip_stale_index_members(Mode::Cluster).await;
}

/// Counters are decimal text: every `u32` round-trips. Strings are binary
/// safe and up to 512 MB per value: 1 MiB in every field round-trips, keys
/// included.
async fn full_range_values_round_trip(mode: Mode) {
    let (adapter, _raw, _base) = setup(mode).await;
    let big = |tag: &str| {
        let mut s = format!("{tag}\u{e9}\0:");
        s.push_str(&"x".repeat((1 << 20) - s.len()));
        s
    };
    let user = adapter
        .create_user(NewUser {
            name: Some(big("name")),
            email: Some(big("email")),
            image: Some(big("image")),
            email_verified: None,
        })
        .await
        .unwrap();
    assert_eq!(
        adapter.get_user_by_email(&big("email")).await.unwrap(),
        Some(user.clone())
    );
    let linked = Account {
        provider: big("provider"),
        provider_account_id: big("pa"),
        access_token: Some(big("at")),
        id_token: Some(big("id")),
        ..account(&user.id, "")
    };
    adapter.link_account(linked.clone()).await.unwrap();
    assert_eq!(
        adapter
            .get_account(&big("provider"), &big("pa"))
            .await
            .unwrap(),
        Some(linked)
    );
    let session = adapter
        .create_session(Session {
            session_token: big("token"),
            user_id: user.id.clone(),
            expires: later(1),
        })
        .await
        .unwrap();
    assert_eq!(
        adapter.get_session_and_user(&big("token")).await.unwrap(),
        Some((session, user.clone()))
    );
    let token = adapter
        .create_verification_token(VerificationToken {
            identifier: big("identifier"),
            token: big("vt"),
            expires: later(1),
        })
        .await
        .unwrap();
    assert_eq!(
        adapter
            .use_verification_token(&big("identifier"), &big("vt"))
            .await
            .unwrap(),
        Some(token)
    );
    let created = Authenticator {
        credential_public_key: big("key"),
        transports: Some(big("transports")),
        counter: u32::MAX,
        ..authenticator(&user.id, &big("cred"))
    };
    adapter.create_authenticator(created.clone()).await.unwrap();
    assert_eq!(
        adapter.get_authenticator(&big("cred")).await.unwrap(),
        Some(created)
    );
    for value in [0, 1, i32::MAX as u32, 1 << 31, u32::MAX] {
        let updated = adapter
            .update_authenticator_counter(&big("cred"), value)
            .await
            .unwrap();
        assert_eq!(updated.counter, value);
    }
    adapter.clear_namespace().await.unwrap();
}

#[tokio::test]
async fn full_range_values_round_trip_single() {
    full_range_values_round_trip(Mode::Single).await;
}

#[tokio::test]
async fn full_range_values_round_trip_cluster() {
    full_range_values_round_trip(Mode::Cluster).await;
}

/// A server that accepts connections and never answers.
fn stalled_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(stream) => held.push(stream),
                Err(_) => return,
            }
        }
    });
    address
}

/// A `Backend` error that says it timed out (ours, or the driver's).
fn assert_timed_out(error: &AdapterError) {
    let source = std::error::Error::source(error).map(ToString::to_string);
    assert!(
        matches!(error, AdapterError::Backend(_))
            && (error.is_timeout()
                || source.is_some_and(|s| s.to_lowercase().contains("timed out"))),
        "not a timeout: {error:?}"
    );
}

#[tokio::test]
async fn a_stalled_server_gives_a_timeout_within_the_configured_bound() {
    let address = stalled_server();
    let limit = Duration::from_millis(800);
    let options = RedisOptions::from_url(&format!("redis://{address}"))
        .unwrap()
        .connection_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300))
        .operation_timeout(limit);
    let started = Instant::now();
    match RedisAdapter::connect_with(options).await {
        Err(error) => assert_timed_out(&error),
        Ok(adapter) => {
            // Connected without a handshake: the first calls time out.
            let error = adapter.migrate().await.unwrap_err();
            assert_timed_out(&error);
            let error = adapter.get_user("u").await.unwrap_err();
            assert_timed_out(&error);
        }
    }
    // Generous: the point is that it returns, not how fast.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_stalled_cluster_node_gives_a_timeout_within_the_configured_bound() {
    let address = stalled_server();
    let options = RedisOptions::from_url(&format!("redis://{address}"))
        .unwrap()
        .cluster(true)
        .connection_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300))
        .operation_timeout(Duration::from_millis(800));
    let started = Instant::now();
    let error = RedisAdapter::connect_with(options)
        .await
        .expect_err("a stalled node cannot describe the cluster");
    assert!(matches!(error, AdapterError::Backend(_)), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "waited {:?}",
        started.elapsed()
    );
}

#[test]
fn options_have_documented_defaults() {
    assert_eq!(
        adapter_redis::DEFAULT_OPERATION_TIMEOUT,
        Duration::from_secs(10)
    );
    assert_eq!(
        adapter_redis::DEFAULT_CONNECTION_TIMEOUT,
        Duration::from_secs(5)
    );
    assert_eq!(
        adapter_redis::DEFAULT_RESPONSE_TIMEOUT,
        Duration::from_secs(5)
    );
    assert_eq!(RedisOptions::new(), RedisOptions::default());
}

#[test]
fn options_from_url_take_one_server_or_a_cluster() {
    let single = RedisOptions::from_url("redis://127.0.0.1:6379/2").unwrap();
    assert!(!single.is_cluster());
    assert_eq!(single.namespace_value(), adapter_redis::DEFAULT_PREFIX);
    let cluster =
        RedisOptions::from_url(" redis://127.0.0.1:7001 , redis://127.0.0.1:7002,").unwrap();
    assert!(cluster.is_cluster());
    for bad in ["", " , ", "not a url", "redis://a:1,http://b"] {
        let err = RedisOptions::from_url(bad).unwrap_err();
        assert!(err.is_invalid_input(), "{bad:?}: {err:?}");
    }
    // The password stays out of `Debug`.
    let options = RedisOptions::from_url("redis://:hunter2@127.0.0.1:6379").unwrap();
    assert!(!format!("{options:?}").contains("hunter2"));
}

/// `rediss://` parses with the `tls` feature (`cargo test -p adapter-redis
/// --features tls`) and is `InvalidInput` without it.
#[test]
fn rediss_urls_need_the_tls_feature() {
    let parsed = RedisOptions::from_url("rediss://127.0.0.1:6380");
    if cfg!(feature = "tls") {
        parsed.expect("rediss:// with the tls feature");
    } else {
        assert!(parsed.unwrap_err().is_invalid_input());
    }
}

#[tokio::test]
async fn options_without_a_url_cannot_connect() {
    let err = RedisAdapter::connect_with(RedisOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
}
