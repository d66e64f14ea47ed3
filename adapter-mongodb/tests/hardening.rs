//! Issue 11 on MongoDB: concurrent `migrate`, no orphans when inserts race
//! `delete_user` (with and without transactions), expired sessions stay
//! expired, full `u32` counters, 1 MiB values, and bounded waits against a
//! stalled server.

use std::time::{Duration, Instant};

use adapter_conformance::servers::{self, Server};
use adapter_mongodb::{ACCOUNTS, AUTHENTICATORS, MongoOptions, MongodbAdapter, SESSIONS};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, NewUser, Session, SessionUpdate,
    User, VerificationToken,
};
use bson::oid::ObjectId;
use bson::{DateTime, Document, doc};
use mongodb::{Client, Database};
use time::{Duration as Span, OffsetDateTime};

/// A new adapter (own client) on a fresh database, migrated.
async fn setup(transactions: bool) -> MongodbAdapter {
    let url = servers::url(Server::Mongodb).await;
    let client = Client::with_uri_str(&url).await.expect("a MongoDB client");
    let options = MongoOptions::new().transactions(transactions);
    let adapter =
        MongodbAdapter::from_client_with(client, &servers::unique_namespace("mghard"), &options);
    adapter.migrate().await.expect("migrate");
    adapter
}

async fn drop_db(adapter: MongodbAdapter) {
    adapter.drop_namespace().await.expect("drop the database");
}

fn later(days: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() + Span::days(days)
}

async fn count(db: &Database, collection: &str, filter: Document) -> u64 {
    db.collection::<Document>(collection)
        .count_documents(filter)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrate_from_eight_new_clients_at_once_on_a_fresh_database() {
    let url = servers::url(Server::Mongodb).await;
    let database = servers::unique_namespace("mgmig");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (url, database) = (url.clone(), database.clone());
        tasks.push(tokio::spawn(async move {
            let client = Client::with_uri_str(&url).await.expect("a client");
            let adapter = MongodbAdapter::from_client(client, &database);
            adapter.migrate().await.map(|()| adapter)
        }));
    }
    let mut adapters = Vec::new();
    for task in tasks {
        match task.await.expect("the task") {
            Ok(adapter) => adapters.push(adapter),
            Err(e) => panic!("a concurrent migrate failed: {e}"),
        }
    }
    // The indexes are there: a duplicate email is refused.
    let email = Some("same@example.com".to_owned());
    adapters[0]
        .create_user(NewUser {
            email: email.clone(),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let again = adapters[7]
        .create_user(NewUser {
            email,
            ..NewUser::default()
        })
        .await;
    assert!(matches!(again, Err(ref e) if e.is_conflict()), "{again:?}");
    drop_db(adapters.swap_remove(0)).await;
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
        provider_account_id: credential_id.to_owned(),
        credential_public_key: "pk".into(),
        counter: 0,
        credential_device_type: "singleDevice".into(),
        credential_backed_up: false,
        transports: None,
    }
}

/// 50 rounds of `delete_user` racing `link_account`, `create_session`,
/// `create_authenticator` and `update_session` (moving a session to the
/// user being deleted). Afterwards nothing may point at the deleted user,
/// and the provider account and credential can be used again.
async fn no_orphan_survives_inserts_racing_delete_user(transactions: bool) {
    let adapter = setup(transactions).await;
    assert_eq!(
        adapter.uses_transactions().await.unwrap(),
        transactions,
        "SecantusDB reports a replica set, so transactions are used unless disabled"
    );
    let db = adapter.database().clone();
    let keeper = adapter.create_user(NewUser::default()).await.unwrap();
    for round in 0..50 {
        let user = adapter.create_user(NewUser::default()).await.unwrap();
        let moved = format!("moved-{round}");
        adapter
            .create_session(Session {
                session_token: moved.clone(),
                user_id: keeper.id.clone(),
                expires: later(1),
            })
            .await
            .unwrap();
        let pa_id = format!("pa-{round}");
        let cred = format!("cred-{round}");
        let a = adapter.clone();
        let (uid, p, c, m) = (user.id.clone(), pa_id.clone(), cred.clone(), moved.clone());
        let racers = tokio::spawn(async move {
            let (l, s, au, u) = tokio::join!(
                a.link_account(account(&uid, &p)),
                a.create_session(Session {
                    session_token: format!("s-{p}"),
                    user_id: uid.clone(),
                    expires: later(1),
                }),
                a.create_authenticator(authenticator(&uid, &c)),
                a.update_session(SessionUpdate {
                    session_token: m,
                    user_id: Some(uid.clone()),
                    expires: None,
                }),
            );
            // Each either happened before the deletion (then the deletion
            // removed it) or found the user gone.
            for outcome in [l.map(drop), s.map(drop), au.map(drop), u.map(drop)] {
                if let Err(e) = outcome {
                    assert!(e.is_not_found(), "round {round}: {e:?}");
                }
            }
        });
        let deleter = adapter.clone();
        let id = user.id.clone();
        let deleted = tokio::spawn(async move { deleter.delete_user(&id).await });
        racers.await.expect("racers");
        deleted.await.expect("deleter").expect("delete_user");

        let oid = ObjectId::parse_str(&user.id).unwrap();
        for collection in [SESSIONS, ACCOUNTS, AUTHENTICATORS] {
            let left = count(&db, collection, doc! { "userId": oid }).await;
            assert_eq!(
                left, 0,
                "round {round}: {left} orphan(s) of the deleted user in {collection}"
            );
        }
        assert!(adapter.get_user(&user.id).await.unwrap().is_none());
        // The keys are free again.
        let next = adapter.create_user(NewUser::default()).await.unwrap();
        adapter
            .link_account(account(&next.id, &pa_id))
            .await
            .unwrap_or_else(|e| panic!("round {round}: re-link after delete_user: {e:?}"));
        adapter
            .create_authenticator(authenticator(&next.id, &cred))
            .await
            .unwrap_or_else(|e| panic!("round {round}: credential reuse: {e:?}"));
        let owner = adapter.get_user_by_account("github", &pa_id).await.unwrap();
        assert_eq!(owner.map(|u| u.id), Some(next.id));
    }
    drop_db(adapter).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_orphan_survives_inserts_racing_delete_user_without_transactions() {
    no_orphan_survives_inserts_racing_delete_user(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_orphan_survives_inserts_racing_delete_user_with_transactions() {
    no_orphan_survives_inserts_racing_delete_user(true).await;
}

/// A session whose `expires` has passed (by the caller's clock) but that the
/// TTL monitor has not removed yet is not updated, whatever is asked.
async fn expired_sessions_are_not_revived(transactions: bool) {
    let adapter = setup(transactions).await;
    let db = adapter.database().clone();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let other = adapter.create_user(NewUser::default()).await.unwrap();
    let past = DateTime::from_millis(DateTime::now().timestamp_millis() - 1_000);
    let oid = ObjectId::parse_str(&user.id).unwrap();
    db.collection::<Document>(SESSIONS)
        .insert_one(doc! { "sessionToken": "old", "userId": oid, "expires": past })
        .await
        .unwrap();
    for (expires, user_id) in [
        (Some(later(30)), None),
        (None, Some(other.id.clone())),
        (Some(later(30)), Some(other.id.clone())),
        (None, None),
    ] {
        let updated = adapter
            .update_session(SessionUpdate {
                session_token: "old".into(),
                expires,
                user_id,
            })
            .await
            .unwrap();
        assert_eq!(updated, None, "an expired session was updated");
    }
    let stored = db
        .collection::<Document>(SESSIONS)
        .find_one(doc! { "sessionToken": "old" })
        .await
        .unwrap()
        .expect("still stored, untouched");
    assert_eq!(stored.get_datetime("expires").unwrap(), &past);
    assert_eq!(stored.get_object_id("userId").unwrap(), oid);
    assert!(adapter.get_session_and_user("old").await.unwrap().is_none());
    drop_db(adapter).await;
}

#[tokio::test]
async fn expired_sessions_are_not_revived_without_transactions() {
    expired_sessions_are_not_revived(false).await;
}

#[tokio::test]
async fn expired_sessions_are_not_revived_with_transactions() {
    expired_sessions_are_not_revived(true).await;
}

#[tokio::test]
async fn every_u32_counter_round_trips() {
    let adapter = setup(true).await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    adapter
        .create_authenticator(Authenticator {
            counter: u32::MAX,
            ..authenticator(&user.id, "c")
        })
        .await
        .unwrap();
    assert_eq!(
        adapter
            .get_authenticator("c")
            .await
            .unwrap()
            .unwrap()
            .counter,
        u32::MAX
    );
    for value in [0, 1, i32::MAX as u32, 1 << 31, u32::MAX] {
        let updated = adapter
            .update_authenticator_counter("c", value)
            .await
            .unwrap();
        assert_eq!(updated.counter, value);
        let read = adapter.get_authenticator("c").await.unwrap().unwrap();
        assert_eq!(read.counter, value);
    }
    drop_db(adapter).await;
}

/// Every string field, 1 MiB long (with a multi-byte character and a NUL),
/// is stored and read back byte for byte: neither SecantusDB nor MongoDB
/// 4.2+ limits the size of an index key, and a document may hold 16 MiB.
#[tokio::test]
async fn one_mib_values_round_trip_in_every_field() {
    let adapter = setup(false).await;
    let big = |tag: &str| {
        let mut s = format!("{tag}\u{e9}\0");
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
        refresh_token: Some(big("rt")),
        token_type: Some(big("tt")),
        scope: Some(big("scope")),
        id_token: Some(big("id")),
        session_state: Some(big("state")),
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
    let (read, owner) = adapter
        .get_session_and_user(&big("token"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((read, owner), (session, user.clone()));
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
        credential_device_type: big("device"),
        provider_account_id: big("apa"),
        transports: Some(big("transports")),
        ..authenticator(&user.id, &big("cred"))
    };
    adapter.create_authenticator(created.clone()).await.unwrap();
    assert_eq!(
        adapter.get_authenticator(&big("cred")).await.unwrap(),
        Some(created)
    );
    drop_db(adapter).await;
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

fn assert_timed_out<T: std::fmt::Debug>(
    outcome: Result<T, AdapterError>,
    limit: Duration,
    started: Instant,
) {
    let waited = started.elapsed();
    let error = outcome.expect_err("a stalled server cannot answer");
    assert!(error.is_timeout(), "not a timeout: {error:?}");
    assert!(
        error.to_string().contains("timed out") || {
            let source = std::error::Error::source(&error).map(ToString::to_string);
            source.is_some_and(|s| s.contains("timed out"))
        }
    );
    // Generous: the point is that the call returns, not how fast.
    assert!(
        waited < limit + Duration::from_secs(10),
        "waited {waited:?} with a limit of {limit:?}"
    );
}

#[tokio::test]
async fn calls_to_a_stalled_server_time_out_within_the_configured_limit() {
    let address = stalled_server();
    let limit = Duration::from_millis(500);
    let url = format!("mongodb://{address}/stalled?directConnection=true");
    let options = MongoOptions::from_url(&url)
        .unwrap()
        .operation_timeout(limit);
    let adapter = MongodbAdapter::connect_with(options)
        .await
        .expect("the driver connects lazily");

    let started = Instant::now();
    assert_timed_out(adapter.migrate().await, limit, started);
    let started = Instant::now();
    assert_timed_out(
        adapter.get_user("0123456789abcdef01234567").await,
        limit,
        started,
    );
    let started = Instant::now();
    let created = adapter
        .create_session(Session {
            session_token: "t".into(),
            user_id: "0123456789abcdef01234567".into(),
            expires: later(1),
        })
        .await;
    assert_timed_out(created, limit, started);
    let started = Instant::now();
    assert_timed_out(
        adapter.get_session_and_user("t").await.map(|_| ()),
        limit,
        started,
    );
}

#[tokio::test]
async fn without_an_operation_limit_the_driver_timeouts_still_apply() {
    // The driver's server selection gives up by itself, before the (long)
    // operation limit, with a `Backend` error that is not ours.
    let address = stalled_server();
    let url = format!("mongodb://{address}/stalled?directConnection=true");
    let options = MongoOptions::from_url(&url)
        .unwrap()
        .operation_timeout(Duration::from_secs(60))
        .server_selection_timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300));
    let adapter = MongodbAdapter::connect_with(options).await.unwrap();
    let started = Instant::now();
    let outcome: Result<Option<User>, _> = adapter.get_user("0123456789abcdef01234567").await;
    let error = outcome.expect_err("nothing answers");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn options_have_documented_defaults() {
    let options = MongoOptions::default();
    assert_eq!(options.operation_timeout_value(), Duration::from_secs(10));
    assert_eq!(
        adapter_mongodb::DEFAULT_CONNECT_TIMEOUT,
        Duration::from_secs(5)
    );
}
