//! `DieselAdapter::on`: the adapter's calls inside the application's own
//! transaction commit and roll back with it, on all three backends.

use adapter_conformance::servers::{self, Server};
use adapter_diesel::diesel;
use adapter_diesel::diesel::prelude::*;
use adapter_diesel::diesel_async::{AsyncConnection, RunQueryDsl};
use adapter_diesel::schema::users;
use adapter_diesel::{DieselAdapter, DieselOptions, DieselPool, TransactionError};
use auth_core::{Adapter, NewUser};

fn new_user(tag: &str) -> NewUser {
    NewUser {
        name: Some(tag.to_owned()),
        email: Some(format!("{}@example.com", servers::unique_namespace(tag))),
        ..NewUser::default()
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of the adapter's
/// backend (each backend's connection type is its own).
macro_rules! with_pooled {
    ($adapter:expr, |$conn:ident| $body:expr) => {
        match $adapter.pool() {
            DieselPool::Postgres(pool) => {
                let mut held = pool.get().await.expect("a connection");
                let $conn = &mut *held;
                $body
            }
            DieselPool::Mysql(pool) => {
                let mut held = pool.get().await.expect("a connection");
                let $conn = &mut *held;
                $body
            }
            DieselPool::Sqlite(pool) => {
                let mut held = pool.get().await.expect("a connection");
                let $conn = &mut *held;
                $body
            }
        }
    };
}

async fn commits_and_rolls_back_with_the_callers_transaction(adapter: DieselAdapter) {
    // Rolled back: the user created inside is gone.
    let doomed = new_user("rollback");
    let result = with_pooled!(adapter, |conn| {
        conn.transaction::<(), TransactionError, _>(async |conn| {
            let created = adapter.on(&mut *conn).create_user(doomed.clone()).await?;
            // The application's own typed query sees the uncommitted row.
            let seen: i64 = users::table
                .filter(users::id.eq(&created.id))
                .count()
                .get_result(conn)
                .await?;
            assert_eq!(seen, 1, "the transaction sees its own user");
            Err(diesel::result::Error::RollbackTransaction.into())
        })
        .await
    });
    assert!(matches!(
        result,
        Err(TransactionError::Diesel(
            diesel::result::Error::RollbackTransaction
        ))
    ));
    let email = doomed.email.as_deref().unwrap();
    assert_eq!(adapter.get_user_by_email(email).await.unwrap(), None);

    // Committed: the user, a session and an account are there.
    let kept = new_user("commit");
    let user = with_pooled!(adapter, |conn| {
        conn.transaction::<_, TransactionError, _>(async |conn| {
            let on = adapter.on(&mut *conn);
            let user = on.create_user(kept.clone()).await?;
            on.create_session(auth_core::Session {
                session_token: servers::unique_namespace("tok"),
                user_id: user.id.clone(),
                expires: auth_core::OffsetDateTime::now_utc() + time::Duration::days(1),
            })
            .await?;
            Ok(user)
        })
        .await
    })
    .expect("the transaction commits");
    assert_eq!(
        adapter.get_user(&user.id).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        adapter
            .list_sessions_by_user_id(&user.id)
            .await
            .unwrap()
            .len(),
        1
    );

    // A call that needs a transaction of its own (MySQL's lock-then-delete)
    // nests one, and still rolls back with the caller's.
    let result = with_pooled!(adapter, |conn| {
        conn.transaction::<(), TransactionError, _>(async |conn| {
            let deleted = adapter.on(&mut *conn).delete_user(&user.id).await?;
            assert_eq!(deleted.as_ref(), Some(&user));
            Err(diesel::result::Error::RollbackTransaction.into())
        })
        .await
    });
    assert!(result.is_err());
    assert_eq!(
        adapter.get_user(&user.id).await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(
        adapter
            .list_sessions_by_user_id(&user.id)
            .await
            .unwrap()
            .len(),
        1
    );

    // A contract error inside is the adapter's, typed.
    let conflict = with_pooled!(adapter, |conn| {
        conn.transaction::<_, TransactionError, _>(async |conn| {
            Ok(adapter.on(&mut *conn).create_user(kept.clone()).await?)
        })
        .await
    });
    assert!(
        matches!(&conflict, Err(TransactionError::Adapter(e)) if e.is_conflict()),
        "{conflict:?}"
    );
    adapter.drop_namespace().await.expect("drop the namespace");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres() {
    let url = servers::url(Server::Postgres).await;
    let options = DieselOptions::from_url(&url)
        .unwrap()
        .namespace(servers::unique_namespace("dieseltx"));
    let adapter = DieselAdapter::connect_with(options).await.unwrap();
    adapter.migrate().await.unwrap();
    commits_and_rolls_back_with_the_callers_transaction(adapter).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql() {
    let url = servers::url(Server::Mysql).await;
    let options = DieselOptions::from_url(&url)
        .unwrap()
        .namespace(servers::unique_namespace("dieseltx"))
        .create_database_if_missing(true);
    let adapter = DieselAdapter::connect_with(options).await.unwrap();
    adapter.migrate().await.unwrap();
    commits_and_rolls_back_with_the_callers_transaction(adapter).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite() {
    let file = adapter_conformance::temp::TempFile::new("dieseltx");
    let adapter = DieselAdapter::connect_with(DieselOptions::sqlite(file.path()))
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    commits_and_rolls_back_with_the_callers_transaction(adapter).await;
}
