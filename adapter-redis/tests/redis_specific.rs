//! What is special to Redis, read straight from the server: expiry by
//! `PEXPIREAT`, pruned per-user indexes, versioned records, errors without
//! key names, the prefix rules, script reloading.

use adapter_conformance::servers::{self, Server};
use adapter_redis::{RedisAdapter, RedisOptions};
use auth_core::timestamp::{to_unix_millis, truncate_to_millis};
use auth_core::{Adapter, NewUser, Session, SessionUpdate};
use redis::Value;
use redis::aio::MultiplexedConnection;
use time::{Duration, OffsetDateTime};

async fn setup() -> (RedisAdapter, MultiplexedConnection, String) {
    let url = servers::url(Server::Redis).await;
    let prefix = servers::unique_namespace("special");
    let options = RedisOptions::from_url(&url).unwrap().namespace(&prefix);
    let adapter = RedisAdapter::connect_with(options).await.expect("connect");
    adapter.migrate().await.expect("migrate");
    let raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    (adapter, raw, format!("{{{prefix}}}:"))
}

async fn raw_i64(raw: &mut MultiplexedConnection, cmd: &str, key: &str) -> i64 {
    redis::cmd(cmd).arg(key).query_async(raw).await.unwrap()
}

fn session_in(user_id: &str, from_now: Duration) -> Session {
    Session {
        session_token: uuid::Uuid::new_v4().to_string(),
        user_id: user_id.to_owned(),
        expires: truncate_to_millis(OffsetDateTime::now_utc() + from_now),
    }
}

#[tokio::test]
async fn session_keys_carry_pexpireat_at_their_expiry() {
    let (adapter, mut raw, base) = setup().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let session = adapter
        .create_session(session_in(&user.id, Duration::hours(1)))
        .await
        .unwrap();
    let key = format!("{base}session:{}", session.session_token);
    let index = format!("{base}user-sessions:{}", user.id);
    let at = to_unix_millis(session.expires);
    assert_eq!(raw_i64(&mut raw, "PEXPIRETIME", &key).await, at);
    assert_eq!(raw_i64(&mut raw, "PEXPIRETIME", &index).await, at);

    let later = session.expires + Duration::days(2) + Duration::milliseconds(7);
    adapter
        .update_session(SessionUpdate {
            session_token: session.session_token.clone(),
            expires: Some(later),
            user_id: None,
        })
        .await
        .unwrap()
        .unwrap();
    let at = to_unix_millis(later);
    assert_eq!(raw_i64(&mut raw, "PEXPIRETIME", &key).await, at);
    assert_eq!(
        raw_i64(&mut raw, "PEXPIRETIME", &index).await,
        at,
        "the index lives as long as its last session"
    );

    // A session or token created already expired is never written.
    let gone = adapter
        .create_session(session_in(&user.id, -Duration::seconds(1)))
        .await
        .unwrap();
    let key = format!("{base}session:{}", gone.session_token);
    assert_eq!(raw_i64(&mut raw, "EXISTS", &key).await, 0);
}

#[tokio::test]
async fn per_user_session_index_drops_expired_sessions() {
    let (adapter, mut raw, base) = setup().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let index = format!("{base}user-sessions:{}", user.id);
    for _ in 0..5 {
        adapter
            .create_session(session_in(&user.id, Duration::milliseconds(300)))
            .await
            .unwrap();
    }
    adapter
        .create_session(session_in(&user.id, Duration::days(1)))
        .await
        .unwrap();
    assert_eq!(raw_i64(&mut raw, "ZCARD", &index).await, 6);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let live = adapter
        .create_session(session_in(&user.id, Duration::days(1)))
        .await
        .unwrap();
    assert_eq!(
        raw_i64(&mut raw, "ZCARD", &index).await,
        2,
        "expired sessions stayed in the index"
    );
    adapter.delete_session(&live.session_token).await.unwrap();
    assert_eq!(raw_i64(&mut raw, "ZCARD", &index).await, 1);

    // An index whose sessions have all expired disappears by itself.
    let other = adapter.create_user(NewUser::default()).await.unwrap();
    adapter
        .create_session(session_in(&other.id, Duration::milliseconds(200)))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let other_index = format!("{base}user-sessions:{}", other.id);
    assert_eq!(raw_i64(&mut raw, "EXISTS", &other_index).await, 0);
}

#[tokio::test]
async fn records_are_versioned_and_unknown_versions_are_refused_without_naming_keys() {
    let (adapter, mut raw, base) = setup().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let session = adapter
        .create_session(session_in(&user.id, Duration::hours(1)))
        .await
        .unwrap();
    let user_key = format!("{base}user:{}", user.id);
    let session_key = format!("{base}session:{}", session.session_token);
    for key in [&user_key, &session_key] {
        let v: Option<String> = redis::cmd("HGET")
            .arg(key)
            .arg("v")
            .query_async(&mut raw)
            .await
            .unwrap();
        assert_eq!(v.as_deref(), Some("1"), "record version");
    }

    let _: Value = redis::cmd("HSET")
        .arg(&user_key)
        .arg("v")
        .arg("2")
        .query_async(&mut raw)
        .await
        .unwrap();
    let err = adapter.get_user(&user.id).await.unwrap_err();
    assert!(
        matches!(err, auth_core::AdapterError::Backend(_)),
        "{err:?}"
    );
    let err = adapter
        .get_session_and_user(&session.session_token)
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("version"), "{shown}");
    assert!(!shown.contains(&session.session_token), "{shown}");
    assert!(!shown.contains(&user.id), "{shown}");

    // A key of the wrong type: the server's error names no key either.
    let _: Value = redis::cmd("SET")
        .arg(&session_key)
        .arg("not a hash")
        .query_async(&mut raw)
        .await
        .unwrap();
    let err = adapter
        .get_session_and_user(&session.session_token)
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
    assert!(
        matches!(err, auth_core::AdapterError::Backend(_)),
        "{shown}"
    );
    assert!(!shown.contains(&session.session_token), "{shown}");
    assert!(!shown.contains(&base), "{shown}");
}

#[tokio::test]
async fn prefixes_that_break_the_hash_tag_are_invalid_input() {
    let url = servers::url(Server::Redis).await;
    for prefix in ["", "a{b", "a}b", "{x}"] {
        let options = RedisOptions::from_url(&url).unwrap().namespace(prefix);
        let err = RedisAdapter::connect_with(options).await.unwrap_err();
        assert!(err.is_invalid_input(), "prefix {prefix:?}: {err:?}");
    }
    let err = RedisAdapter::connect("not a url").await.unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    // A handle made elsewhere takes the same prefix rules.
    let client = redis::Client::open(url.as_str()).unwrap();
    let manager = redis::aio::ConnectionManager::new(client).await.unwrap();
    let err = RedisAdapter::from_connection_manager_with(
        manager.clone(),
        &RedisOptions::new().namespace("a{b"),
    )
    .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    let adapter = RedisAdapter::from_connection_manager(manager);
    assert_eq!(adapter.namespace(), adapter_redis::DEFAULT_PREFIX);
}

#[tokio::test]
async fn scripts_reload_after_a_flush_and_migrate_is_idempotent() {
    let (adapter, mut raw, _) = setup().await;
    adapter.migrate().await.unwrap();
    let _: Value = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut raw)
        .await
        .unwrap();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(user));
    adapter.migrate().await.unwrap();
}

#[tokio::test]
async fn clear_namespace_removes_a_large_namespace_in_several_scripts_and_nothing_else() {
    let (adapter, mut raw, base) = setup().await;
    let (_, mut raw_other, other_base) = setup().await;
    // More keys than one script scans (100 pages of 1,000), so the client
    // has to go on from the cursor a script hands back.
    let keys = 150_000;
    for chunk in (0..keys).collect::<Vec<_>>().chunks(10_000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.set(format!("{base}filler:{i}"), 1).ignore();
        }
        pipe.query_async::<()>(&mut raw).await.unwrap();
    }
    let survivor = format!("{other_base}filler:0");
    let _: () = redis::cmd("SET")
        .arg(&survivor)
        .arg(1)
        .query_async(&mut raw_other)
        .await
        .unwrap();

    assert_eq!(adapter.clear_namespace().await.unwrap(), keys);
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{base}*"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "{} keys of the namespace are left",
        left.len()
    );
    assert_eq!(raw_i64(&mut raw, "EXISTS", &survivor).await, 1);
    let _: () = redis::cmd("DEL")
        .arg(&survivor)
        .query_async(&mut raw_other)
        .await
        .unwrap();
}

/// With a pool of several connections every call still sees one server:
/// what one connection wrote the next one reads.
#[tokio::test]
async fn a_pool_of_connections_serves_calls_in_turn() {
    let url = servers::url(Server::Redis).await;
    let options = RedisOptions::from_url(&url)
        .unwrap()
        .namespace(servers::unique_namespace("pool"))
        .pool_size(3);
    let adapter = RedisAdapter::connect_with(options).await.expect("connect");
    assert!(
        format!("{adapter:?}").contains("connections: 3"),
        "{adapter:?}"
    );
    adapter.migrate().await.unwrap();
    for _ in 0..6 {
        let user = adapter.create_user(NewUser::default()).await.unwrap();
        assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(user));
    }
    adapter.drop_namespace().await.unwrap();
}
