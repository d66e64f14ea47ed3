//! What is special to MongoDB, read straight from the server: the indexes,
//! the Auth.js document layout in both directions, BSON number types, id
//! parsing and the database named by the connection string.

use adapter_conformance::servers::{self, Server};
use adapter_mongodb::{
    ACCOUNTS, AUTHENTICATORS, DEFAULT_DATABASE, MongoOptions, MongodbAdapter, SESSIONS, USERS,
    VERIFICATION_TOKENS,
};
use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, AccountType, Adapter, Authenticator, NewUser, Session, User, VerificationToken,
};
use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use futures::TryStreamExt;
use mongodb::{Client, Database};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

async fn setup() -> (MongodbAdapter, Database) {
    let url = servers::url(Server::Mongodb).await;
    let client = Client::with_uri_str(&url).await.expect("a MongoDB client");
    let adapter = MongodbAdapter::from_client(client, &servers::unique_namespace("mgspecial"));
    adapter.migrate().await.expect("migrate");
    let db = adapter.database().clone();
    (adapter, db)
}

async fn raw_one(db: &Database, collection: &str, filter: Document) -> Document {
    db.collection::<Document>(collection)
        .find_one(filter)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no document in {collection}"))
}

fn later(days: i64) -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc() + Duration::days(days))
}

#[tokio::test]
async fn migrate_is_idempotent_and_creates_every_index() {
    let (adapter, db) = setup().await;
    adapter.migrate().await.expect("a second migrate");
    let mut found = Vec::new();
    for collection in [
        USERS,
        ACCOUNTS,
        SESSIONS,
        VERIFICATION_TOKENS,
        AUTHENTICATORS,
    ] {
        let indexes: Vec<_> = db
            .collection::<Document>(collection)
            .list_indexes()
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        for index in indexes {
            let options = index.options.unwrap_or_default();
            let keys: Vec<&str> = index.keys.keys().map(String::as_str).collect();
            found.push((
                collection,
                keys.join(","),
                options.unique.unwrap_or(false),
                options.expire_after.map(|d| d.as_secs()),
                options.partial_filter_expression,
            ));
        }
    }
    let has = |collection: &str, keys: &str, unique: bool, ttl: Option<u64>| {
        found
            .iter()
            .any(|f| f.0 == collection && f.1 == keys && f.2 == unique && f.3 == ttl)
    };
    for (collection, keys, unique, ttl) in [
        (USERS, "email", true, None),
        (ACCOUNTS, "provider,providerAccountId", true, None),
        (ACCOUNTS, "userId", false, None),
        (SESSIONS, "sessionToken", true, None),
        (SESSIONS, "userId", false, None),
        (SESSIONS, "expires", false, Some(0)),
        (VERIFICATION_TOKENS, "identifier,token", true, None),
        (VERIFICATION_TOKENS, "expires", false, Some(0)),
        (AUTHENTICATORS, "credentialID", true, None),
        (AUTHENTICATORS, "userId", false, None),
    ] {
        assert!(
            has(collection, keys, unique, ttl),
            "missing index {collection} {{{keys}}} unique={unique} ttl={ttl:?} in {found:?}"
        );
    }
    let email = found
        .iter()
        .find(|f| f.0 == USERS && f.1 == "email")
        .unwrap();
    assert_eq!(
        email.4,
        Some(doc! { "email": { "$type": "string" } }),
        "the email index must be partial"
    );
}

#[tokio::test]
async fn documents_have_the_authjs_layout() {
    let (adapter, db) = setup().await;
    let verified = datetime!(2024-05-06 07:08:09.123 UTC);
    let user = adapter
        .create_user(NewUser {
            email: Some("layout@example.com".into()),
            email_verified: Some(verified),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let oid = ObjectId::parse_str(&user.id).expect("User.id is the hex of an ObjectId");
    let stored = raw_one(&db, USERS, doc! { "_id": oid }).await;
    assert_eq!(stored.get_str("email").unwrap(), "layout@example.com");
    assert_eq!(
        stored.get_datetime("emailVerified").unwrap(),
        &DateTime::from_millis(verified.unix_timestamp() * 1000 + 123)
    );
    assert_eq!(stored.get("name"), Some(&Bson::Null));
    assert!(
        !stored.keys().any(|k| k.starts_with("__")),
        "claim marker left behind: {stored:?}"
    );

    let account = Account {
        access_token: Some("gho_layout".into()),
        expires_at: Some(1_900_000_000),
        ..Account::new(&user.id, AccountType::OAuth, "github", "gh-layout")
    };
    adapter.link_account(account).await.unwrap();
    let stored = raw_one(&db, ACCOUNTS, doc! { "providerAccountId": "gh-layout" }).await;
    assert_eq!(stored.get_object_id("userId").unwrap(), oid);
    assert_eq!(stored.get_str("type").unwrap(), "oauth");
    assert_eq!(stored.get_str("access_token").unwrap(), "gho_layout");
    assert_eq!(stored.get_i64("expires_at").unwrap(), 1_900_000_000);
    assert!(
        !stored.contains_key("refresh_token"),
        "absent tokens are left out"
    );

    let session = Session {
        session_token: "layout-token".into(),
        user_id: user.id.clone(),
        expires: later(1),
    };
    adapter.create_session(session.clone()).await.unwrap();
    let stored = raw_one(&db, SESSIONS, doc! { "sessionToken": "layout-token" }).await;
    assert_eq!(stored.get_object_id("userId").unwrap(), oid);
    assert!(matches!(stored.get("expires"), Some(Bson::DateTime(_))));

    let token = VerificationToken {
        identifier: "layout@example.com".into(),
        token: "vt-layout".into(),
        expires: later(1),
    };
    adapter.create_verification_token(token).await.unwrap();
    let stored = raw_one(&db, VERIFICATION_TOKENS, doc! { "token": "vt-layout" }).await;
    assert_eq!(stored.get_str("identifier").unwrap(), "layout@example.com");
    assert!(matches!(stored.get("expires"), Some(Bson::DateTime(_))));

    let authenticator = Authenticator {
        credential_id: "cred-layout".into(),
        user_id: user.id.clone(),
        provider_account_id: "webauthn-layout".into(),
        credential_public_key: "key".into(),
        counter: 3,
        credential_device_type: "singleDevice".into(),
        credential_backed_up: true,
        transports: None,
    };
    adapter.create_authenticator(authenticator).await.unwrap();
    let stored = raw_one(&db, AUTHENTICATORS, doc! { "credentialID": "cred-layout" }).await;
    assert_eq!(stored.get_object_id("userId").unwrap(), oid);
    assert_eq!(stored.get("counter"), Some(&Bson::Int32(3)));
    assert_eq!(stored.get("credentialBackedUp"), Some(&Bson::Boolean(true)));
    assert_eq!(stored.get("transports"), Some(&Bson::Null));

    let user_doc = raw_one(&db, USERS, doc! { "_id": oid }).await;
    assert!(
        !user_doc.keys().any(|k| k.starts_with("__")),
        "claims must leave the user document unchanged: {user_doc:?}"
    );
}

/// Documents as `@auth/mongodb-adapter` writes them from Node.js: optional
/// fields missing or `null`, numbers as int32 or double, extra fields.
#[tokio::test]
async fn reads_documents_written_by_authjs() {
    let (adapter, db) = setup().await;
    let oid = ObjectId::new();
    let verified = DateTime::from_millis(1_714_979_289_123);
    db.collection::<Document>(USERS)
        .insert_one(doc! {
            "_id": oid,
            "email": "node@example.com",
            "emailVerified": verified,
            "image": Bson::Null,
            "role": "admin",
        })
        .await
        .unwrap();
    let want = User {
        id: oid.to_hex(),
        name: None,
        email: Some("node@example.com".into()),
        email_verified: Some(datetime!(2024-05-06 07:08:09.123 UTC)),
        image: None,
    };
    assert_eq!(
        adapter.get_user(&oid.to_hex()).await.unwrap(),
        Some(want.clone())
    );

    let accounts = db.collection::<Document>(ACCOUNTS);
    accounts
        .insert_one(doc! {
            "_id": ObjectId::new(),
            "userId": oid,
            "type": "oidc",
            "provider": "google",
            "providerAccountId": "g-1",
            "access_token": "ya29.token",
            "expires_at": 1_700_000_000_i32,
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": Bson::Null,
        })
        .await
        .unwrap();
    accounts
        .insert_one(doc! {
            "_id": ObjectId::new(),
            "userId": oid,
            "type": "oauth",
            "provider": "github",
            "providerAccountId": "gh-1",
            "expires_at": 3_000_000_000_f64,
        })
        .await
        .unwrap();
    let google = adapter.get_account("google", "g-1").await.unwrap().unwrap();
    assert_eq!(google.user_id, oid.to_hex());
    assert_eq!(google.account_type, AccountType::Oidc);
    assert_eq!(google.expires_at, Some(1_700_000_000));
    assert_eq!(google.token_type.as_deref(), Some("Bearer"));
    assert_eq!(google.scope, None);
    let github = adapter
        .get_account("github", "gh-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(github.expires_at, Some(3_000_000_000));
    assert_eq!(
        adapter.get_user_by_account("github", "gh-1").await.unwrap(),
        Some(want.clone())
    );

    let expires = later(30);
    db.collection::<Document>(SESSIONS)
        .insert_one(doc! {
            "_id": ObjectId::new(),
            "sessionToken": "node-session",
            "userId": oid,
            "expires": DateTime::from_millis(expires.unix_timestamp() * 1000 + i64::from(expires.millisecond())),
        })
        .await
        .unwrap();
    let (session, user) = adapter
        .get_session_and_user("node-session")
        .await
        .unwrap()
        .expect("a session written by Auth.js");
    assert_eq!(user, want);
    assert_eq!(session.expires, expires);

    // Auth.js's deleteUser leaves what it does not know of; ours removes it all.
    assert_eq!(
        adapter.delete_user(&oid.to_hex()).await.unwrap(),
        Some(want)
    );
    assert_eq!(adapter.get_account("google", "g-1").await.unwrap(), None);
    assert_eq!(adapter.delete_session("node-session").await.unwrap(), None);
}

#[tokio::test]
async fn counters_are_int32_up_to_i32_max_and_int64_above() {
    let (adapter, db) = setup().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let authenticator = Authenticator {
        credential_id: "cred-counter".into(),
        user_id: user.id.clone(),
        provider_account_id: "webauthn".into(),
        credential_public_key: "key".into(),
        counter: 0,
        credential_device_type: "multiDevice".into(),
        credential_backed_up: false,
        transports: Some("internal".into()),
    };
    adapter.create_authenticator(authenticator).await.unwrap();
    for (counter, stored) in [
        (u32::MAX, Bson::Int64(i64::from(u32::MAX))),
        (i32::MAX as u32, Bson::Int32(i32::MAX)),
    ] {
        let updated = adapter
            .update_authenticator_counter("cred-counter", counter)
            .await
            .unwrap();
        assert_eq!(updated.counter, counter);
        let raw = raw_one(&db, AUTHENTICATORS, doc! { "credentialID": "cred-counter" }).await;
        assert_eq!(raw.get("counter"), Some(&stored));
    }
}

#[tokio::test]
async fn ids_are_exactly_24_lowercase_hex_digits() {
    let (adapter, _db) = setup().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    assert_eq!(user.id.len(), 24);
    for near in [
        user.id.to_uppercase(),
        format!(" {}", user.id),
        format!("{}0", user.id),
        user.id[..23].to_owned(),
    ] {
        assert_eq!(adapter.get_user(&near).await.unwrap(), None, "{near:?}");
        let session = Session {
            session_token: format!("t-{near}"),
            user_id: near.clone(),
            expires: later(1),
        };
        assert!(
            adapter
                .create_session(session)
                .await
                .unwrap_err()
                .is_not_found()
        );
    }
    assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn the_database_comes_from_the_connection_string() {
    let url = servers::url(Server::Mongodb).await;
    let ns = servers::unique_namespace("mgurl");
    let named = match url.split_once("/?") {
        Some((base, query)) => {
            // No database in the string: the documented default.
            let adapter = MongodbAdapter::connect(&url).await.unwrap();
            assert_eq!(adapter.database().name(), DEFAULT_DATABASE);
            format!("{base}/{ns}?{query}")
        }
        None => format!("{}/{ns}", url.trim_end_matches('/')),
    };
    let adapter = MongodbAdapter::connect(&named).await.unwrap();
    assert_eq!(adapter.database().name(), ns);
    assert_eq!(adapter.namespace(), ns);
    adapter.migrate().await.unwrap();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(user));
    adapter.drop_namespace().await.unwrap();

    // `namespace` overrides the string's database.
    let other = servers::unique_namespace("mgns");
    let options = MongoOptions::from_url(&named).unwrap().namespace(&other);
    assert_eq!(options.namespace_value(), other);
    let adapter = MongodbAdapter::connect_with(options).await.unwrap();
    assert_eq!(adapter.namespace(), other);
    adapter.migrate().await.unwrap();
    adapter.create_user(NewUser::default()).await.unwrap();
    let names = adapter.client().list_database_names().await.unwrap();
    assert!(names.contains(&other), "{names:?}");
    adapter.drop_namespace().await.unwrap();

    let err = MongodbAdapter::connect("postgres://nope")
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    let err = MongoOptions::from_url("postgres://nope").unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    // Options without a connection string are for `from_client_with`.
    let err = MongodbAdapter::connect_with(MongoOptions::new())
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
}

/// A document another tool wrote with a value of the wrong type is a
/// `Backend` error whose source is a `StoredDataError` naming the field.
#[tokio::test]
async fn stored_values_of_the_wrong_type_name_the_field() {
    let (adapter, db) = setup().await;
    let oid = ObjectId::new();
    db.collection::<Document>(USERS)
        .insert_one(doc! { "_id": oid, "email": 42 })
        .await
        .unwrap();
    let err = adapter.get_user(&oid.to_hex()).await.unwrap_err();
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<auth_core::StoredDataError>())
        .unwrap_or_else(|| panic!("not a stored-data error: {err:?}"));
    assert_eq!(source.field, "email");
    adapter.drop_namespace().await.unwrap();
}

#[test]
fn options_debug_leaves_out_the_connection_string() {
    let options = MongoOptions::from_url("mongodb://ada:hunter2@db.example.com:27017/app").unwrap();
    let shown = format!("{options:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("\"app\""), "{shown}");
    assert_eq!(options.namespace_value(), "app");
    assert_eq!(MongoOptions::new().namespace_value(), DEFAULT_DATABASE);
}
