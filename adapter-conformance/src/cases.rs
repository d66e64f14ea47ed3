//! The conformance cases: one `pub async fn` per promise of the adapter
//! contract, each taking a fresh adapter and panicking with a message that
//! names what broke.
//!
//! They cover every sentence of `CONTRACT.md` marked *(suite)* and every case
//! of the official Auth.js adapter test suite (`createUser`, `getUser`,
//! `getUserByEmail`, `createSession`, `getSessionAndUser`, `updateUser`,
//! `updateSession`, `linkAccount`, `getUserByAccount`, `deleteSession`,
//! `createVerificationToken`, `useVerificationToken`, `unlinkAccount`,
//! `deleteUser`, `getAccount`, `createAuthenticator`, `getAuthenticator`,
//! `listAuthenticatorsByUserId`, `updateAuthenticatorCounter`), in our words.
//!
//! Use [`conformance_tests!`](crate::conformance_tests) to run them all; the
//! functions are public so a harness of your own can call them one by one.

use std::collections::BTreeSet;
use std::sync::Arc;

use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, NewUser, Result, Session,
    SessionUpdate, User, UserUpdate, VerificationToken,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Calls `$callback!($($args)*; case, case, ...)` with the name of every case.
///
/// This is how [`conformance_tests!`](crate::conformance_tests) learns the
/// case list; it is public so other harness macros can use it too.
#[macro_export]
macro_rules! for_each_case {
    ($callback:path; $($args:tt)*) => {
        $callback! { $($args)*;
            // users
            create_user_returns_the_stored_user,
            create_user_assigns_distinct_ids,
            create_user_with_taken_email_conflicts,
            many_users_may_have_no_email,
            concurrent_create_user_with_one_email_has_one_winner,
            get_user_of_unknown_or_malformed_id_is_none,
            get_user_by_email_finds_the_user,
            get_user_by_email_is_exact,
            update_user_changes_only_given_fields,
            update_user_of_unknown_id_is_not_found,
            update_user_to_taken_email_conflicts_and_changes_nothing,
            update_user_email_releases_the_old_address,
            delete_user_returns_the_user_once,
            delete_user_removes_accounts_sessions_and_authenticators,
            delete_user_with_many_sessions_leaves_no_orphan,
            delete_user_racing_new_sessions_and_accounts_leaves_no_orphan,
            // accounts
            link_account_round_trips_every_field,
            link_account_with_only_required_fields,
            link_account_for_missing_user_is_not_found,
            link_account_twice_conflicts,
            concurrent_link_account_has_one_winner,
            get_user_by_account_finds_the_owner,
            get_account_needs_both_provider_and_id,
            unlink_account_returns_what_it_removed,
            list_accounts_by_user_id_returns_exactly_the_users_own,
            // sessions
            create_session_and_get_it_with_its_user,
            create_session_for_missing_user_is_not_found,
            create_session_with_taken_token_conflicts,
            get_session_and_user_of_unknown_token_is_none,
            get_session_and_user_never_returns_an_expired_session,
            update_session_extends_expiry,
            update_session_moves_it_to_another_user,
            update_session_to_missing_user_is_not_found,
            update_session_of_unknown_token_is_none,
            delete_session_returns_what_it_removed,
            list_sessions_by_user_id_returns_the_users_live_sessions,
            // verification tokens
            create_verification_token_and_use_it,
            create_verification_token_twice_conflicts,
            use_verification_token_is_single_use,
            use_verification_token_needs_the_matching_identifier,
            use_verification_token_consumes_an_expired_token,
            use_verification_token_is_atomic_under_concurrency,
            // authenticators
            create_authenticator_and_get_it,
            create_authenticator_for_missing_user_is_not_found,
            create_authenticator_with_taken_credential_id_conflicts,
            get_authenticator_of_unknown_id_is_none,
            list_authenticators_by_user_id_returns_exactly_the_users_own,
            update_authenticator_counter_persists,
            update_authenticator_counter_of_unknown_id_is_not_found,
            // everywhere
            timestamps_round_trip_to_the_millisecond_from_1970_to_9999,
            timestamps_drop_digits_finer_than_a_millisecond,
            strings_round_trip_byte_for_byte,
            lookups_do_not_match_patterns_or_fold_case,
            unstorable_values_are_invalid_input_and_change_nothing,
            purge_expired_removes_only_expired_records,
            concurrent_calls_on_one_adapter_do_not_interfere,
            // hardening: full value ranges, exact keys, keys that change owner
            update_session_of_an_expired_session_is_none_and_does_not_revive_it,
            update_session_returns_a_utc_millisecond_expiry,
            authenticator_counter_round_trips_every_u32,
            values_up_to_one_mib_are_stored_or_rejected_naming_the_field,
            keys_are_byte_exact_with_trailing_spaces,
            account_relinked_to_another_user_survives_deleting_the_first,
            session_moved_to_another_user_survives_deleting_the_first,
            authenticator_recreated_for_another_user_belongs_to_it,
            email_released_by_update_or_delete_belongs_to_the_new_user,
        }
    };
}

// ----------------------------------------------------------------- fixtures

fn unique(tag: &str) -> String {
    format!("{tag}-{}", uuid::Uuid::new_v4().simple())
}

fn now_ms() -> OffsetDateTime {
    truncate_to_millis(OffsetDateTime::now_utc())
}

fn new_user(tag: &str) -> NewUser {
    NewUser {
        name: Some(format!("User {tag}")),
        email: Some(format!("{}@example.com", unique(tag))),
        email_verified: Some(datetime!(2024-03-04 05:06:07.089 UTC)),
        image: Some(format!("https://example.com/{tag}.png")),
    }
}

async fn user(adapter: &dyn Adapter, tag: &str) -> User {
    adapter
        .create_user(new_user(tag))
        .await
        .unwrap_or_else(|e| panic!("create_user({tag}) failed: {e}"))
}

fn session_of(user_id: &str, expires: OffsetDateTime) -> Session {
    Session {
        session_token: unique("sess"),
        user_id: user_id.to_owned(),
        expires,
    }
}

async fn session(adapter: &dyn Adapter, user_id: &str) -> Session {
    let s = session_of(user_id, now_ms() + Duration::days(30));
    adapter
        .create_session(s.clone())
        .await
        .unwrap_or_else(|e| panic!("create_session failed: {e}"))
}

fn full_account(user_id: &str, provider: &str) -> Account {
    Account {
        access_token: Some(unique("gho")),
        refresh_token: Some(unique("ghr")),
        expires_at: Some(1_900_000_000),
        token_type: Some("bearer".into()),
        scope: Some("openid email profile".into()),
        id_token: Some(format!("eyJhbGciOi.{}.sig", unique("id"))),
        session_state: Some(unique("state")),
        ..Account::new(user_id, AccountType::Oidc, provider, unique("pid"))
    }
}

async fn account(adapter: &dyn Adapter, user_id: &str, provider: &str) -> Account {
    adapter
        .link_account(full_account(user_id, provider))
        .await
        .unwrap_or_else(|e| panic!("link_account failed: {e}"))
}

fn authenticator_of(user_id: &str) -> Authenticator {
    Authenticator {
        credential_id: unique("cred"),
        user_id: user_id.to_owned(),
        provider_account_id: unique("webauthn"),
        credential_public_key: "pQECAyYgASFYIBz-public-key".into(),
        counter: 1,
        credential_device_type: "singleDevice".into(),
        credential_backed_up: false,
        transports: Some("usb,nfc".into()),
    }
}

async fn authenticator(adapter: &dyn Adapter, user_id: &str) -> Authenticator {
    adapter
        .create_authenticator(authenticator_of(user_id))
        .await
        .unwrap_or_else(|e| panic!("create_authenticator failed: {e}"))
}

fn token_of(identifier: &str, expires: OffsetDateTime) -> VerificationToken {
    VerificationToken {
        identifier: identifier.to_owned(),
        token: unique("vt"),
        expires,
    }
}

/// The user's accounts from `list_accounts_by_user_id`, sorted by key so
/// lists compare whatever order the adapter returns.
async fn accounts_of(adapter: &dyn Adapter, user_id: &str) -> Vec<Account> {
    let mut listed = adapter
        .list_accounts_by_user_id(user_id)
        .await
        .unwrap_or_else(|e| panic!("list_accounts_by_user_id({user_id:?}) failed: {e}"));
    listed.sort_by(|x, y| {
        (&x.provider, &x.provider_account_id).cmp(&(&y.provider, &y.provider_account_id))
    });
    listed
}

/// The user's sessions from `list_sessions_by_user_id`, sorted by token.
async fn sessions_of(adapter: &dyn Adapter, user_id: &str) -> Vec<Session> {
    let mut listed = adapter
        .list_sessions_by_user_id(user_id)
        .await
        .unwrap_or_else(|e| panic!("list_sessions_by_user_id({user_id:?}) failed: {e}"));
    listed.sort_by(|x, y| x.session_token.cmp(&y.session_token));
    listed
}

/// `items` sorted by `key`, to compare with a sorted listing.
fn sorted_by<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    items.sort_by_key(|item| key(item));
    items
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(result: Result<T>, what: &str) {
    match result {
        Err(AdapterError::Conflict { .. }) => {}
        other => panic!("{what}: expected Err(Conflict), got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T>, what: &str) {
    match result {
        Err(AdapterError::NotFound { .. }) => {}
        other => panic!("{what}: expected Err(NotFound), got {other:?}"),
    }
}

/// Awaits racing calls that create one unique thing: exactly one may
/// succeed, every other must fail with `Conflict`. Returns the winner.
async fn sole_winner<T: std::fmt::Debug>(
    what: &str,
    tasks: Vec<tokio::task::JoinHandle<Result<T>>>,
) -> T {
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(created) => winners.push(created),
            Err(AdapterError::Conflict { .. }) => {}
            Err(e) => panic!("a racing {what} failed with {e:?} instead of Conflict"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "{} racing {what} calls succeeded",
        winners.len()
    );
    winners.pop().expect("one winner")
}

/// Ids no backend hands out: empty, numeric, out-of-range, ObjectId-shaped,
/// UUID-shaped, patterns and quotes.
const NEVER_ISSUED_IDS: &[&str] = &[
    "",
    "0",
    "-1",
    "99999999999999999999999999",
    "507f1f77bcf86cd799439011",
    "507f1f77bcf86cd79943901z",
    "00000000-0000-0000-0000-000000000000",
    "%",
    "_",
    "*",
    "' OR '1'='1",
    "not an id",
];

// -------------------------------------------------------------------- users

/// Auth.js `createUser`: the returned user carries the input and an id, and
/// reads back equal.
pub async fn create_user_returns_the_stored_user(adapter: Arc<dyn Adapter>) {
    let input = new_user("create");
    let created = adapter.create_user(input.clone()).await.unwrap();
    assert!(!created.id.is_empty(), "create_user returned an empty id");
    assert_eq!(
        created,
        input.clone().into_user(created.id.clone()),
        "expected `created` to equal `input.clone().into_user(created.id.clone())`"
    );
    let read = adapter.get_user(&created.id).await.unwrap();
    assert_eq!(read, Some(created.clone()), "get_user after create_user");

    let bare = adapter.create_user(NewUser::default()).await.unwrap();
    assert_eq!(
        bare,
        NewUser::default().into_user(bare.id.clone()),
        "expected `bare` to equal `NewUser::default().into_user(bare.id.clone())`"
    );
    assert_eq!(
        adapter.get_user(&bare.id).await.unwrap(),
        Some(bare),
        "expected `adapter.get_user(&bare.id).await.unwrap()` to equal `Some(bare)`"
    );
}

/// Every created user gets its own id.
pub async fn create_user_assigns_distinct_ids(adapter: Arc<dyn Adapter>) {
    let mut ids = BTreeSet::new();
    for i in 0..20 {
        let u = user(&*adapter, &format!("distinct{i}")).await;
        assert!(ids.insert(u.id.clone()), "id {:?} was issued twice", u.id);
    }
}

/// CONTRACT: a second user with the same non-null email is a `Conflict`.
pub async fn create_user_with_taken_email_conflicts(adapter: Arc<dyn Adapter>) {
    let first = user(&*adapter, "taken").await;
    let again = NewUser {
        name: Some("Someone else".into()),
        ..new_user("other")
    };
    let again = NewUser {
        email: first.email.clone(),
        ..again
    };
    assert_conflict(
        adapter.create_user(again).await,
        "create_user with a taken email",
    );
    let owner = adapter
        .get_user_by_email(first.email.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        owner,
        Some(first),
        "the first owner of the email must keep it"
    );
}

/// CONTRACT: any number of users may have no email.
pub async fn many_users_may_have_no_email(adapter: Arc<dyn Adapter>) {
    let mut ids = BTreeSet::new();
    for i in 0..5 {
        let u = adapter
            .create_user(NewUser {
                name: Some(format!("No email {i}")),
                ..NewUser::default()
            })
            .await
            .unwrap_or_else(|e| panic!("user #{i} without email was refused: {e}"));
        assert_eq!(u.email, None, "expected `u.email` to equal `None`");
        ids.insert(u.id);
    }
    assert_eq!(ids.len(), 5, "expected `ids.len()` to equal `5`");
}

/// CONTRACT: 16 tasks creating users with one email: exactly one wins, the
/// others get `Conflict`.
pub async fn concurrent_create_user_with_one_email_has_one_winner(adapter: Arc<dyn Adapter>) {
    let email = format!("{}@example.com", unique("race"));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (adapter, email) = (adapter.clone(), email.clone());
            tokio::spawn(async move {
                adapter
                    .create_user(NewUser {
                        name: Some(format!("racer {i}")),
                        email: Some(email),
                        ..NewUser::default()
                    })
                    .await
            })
        })
        .collect();
    let winner = sole_winner("create_user with one email", tasks).await;
    let stored = adapter.get_user_by_email(&email).await.unwrap();
    assert_eq!(
        stored,
        Some(winner),
        "expected `stored` to equal `Some(winner)`"
    );
}

/// CONTRACT and Auth.js `getUser`: unknown ids, including ones this backend
/// could never issue, are `Ok(None)` for every lookup, not an error.
pub async fn get_user_of_unknown_or_malformed_id_is_none(adapter: Arc<dyn Adapter>) {
    let real = user(&*adapter, "real").await;
    for id in NEVER_ISSUED_IDS {
        let got = adapter.get_user(id).await;
        assert!(
            matches!(got, Ok(None)),
            "get_user({id:?}) = {got:?}, want Ok(None)"
        );
        let got = adapter.delete_user(id).await;
        assert!(
            matches!(got, Ok(None)),
            "delete_user({id:?}) = {got:?}, want Ok(None)"
        );
        let got = adapter.list_authenticators_by_user_id(id).await;
        assert!(
            matches!(&got, Ok(v) if v.is_empty()),
            "list_authenticators_by_user_id({id:?}) = {got:?}, want Ok([])"
        );
        assert_not_found(
            adapter.update_user(UserUpdate::new(*id)).await,
            &format!("update_user({id:?})"),
        );
        assert_not_found(
            adapter
                .create_session(session_of(id, now_ms() + Duration::days(1)))
                .await,
            &format!("create_session for user {id:?}"),
        );
    }
    assert_eq!(
        adapter.get_user(&real.id).await.unwrap(),
        Some(real),
        "expected `adapter.get_user(&real.id).await.unwrap()` to equal `Some(real)`"
    );
}

/// Auth.js `getUserByEmail`: finds the user; an unknown address is `Ok(None)`.
pub async fn get_user_by_email_finds_the_user(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "by-email").await;
    let found = adapter
        .get_user_by_email(u.email.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(found, Some(u), "expected `found` to equal `Some(u)`");
    let none = adapter
        .get_user_by_email("non-existent-email")
        .await
        .unwrap();
    assert_eq!(none, None, "expected `none` to equal `None`");
    assert_eq!(
        adapter.get_user_by_email("").await.unwrap(),
        None,
        "expected `adapter.get_user_by_email(\"\").await.unwrap()` to equal `None`"
    );
}

/// CONTRACT: email lookups are exact: no case folding, no trimming, no
/// accent folding, no patterns.
pub async fn get_user_by_email_is_exact(adapter: Arc<dyn Adapter>) {
    let u = adapter
        .create_user(NewUser {
            email: Some("Jo.Doe_1%x@Example.COM".into()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    for near in [
        "jo.doe_1%x@example.com",
        "JO.DOE_1%X@EXAMPLE.COM",
        " Jo.Doe_1%x@Example.COM",
        "Jo.Doe_1%x@Example.COM ",
        "Jo.Doe_1%%",
        "Jo.Doe_1%",
        "Jo.Doe_1%x@Example.CO_",
        "Jo.Doe_1%x@Éxample.COM",
    ] {
        let got = adapter.get_user_by_email(near).await.unwrap();
        assert_eq!(
            got, None,
            "get_user_by_email({near:?}) matched {:?}",
            u.email
        );
    }
    // A second user whose address differs only in case is a different user.
    let other = adapter
        .create_user(NewUser {
            email: Some("jo.doe_1%x@example.com".into()),
            ..NewUser::default()
        })
        .await
        .expect("an address differing only in case is a different address");
    assert_ne!(other.id, u.id);
    let got = adapter
        .get_user_by_email("Jo.Doe_1%x@Example.COM")
        .await
        .unwrap();
    assert_eq!(got, Some(u), "expected `got` to equal `Some(u)`");
}

/// CONTRACT and Auth.js `updateUser`: only the fields that are `Some` change;
/// `Some(None)` clears.
pub async fn update_user_changes_only_given_fields(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "update").await;
    let renamed = adapter
        .update_user(UserUpdate {
            name: Some(Some("New Name".into())),
            ..UserUpdate::new(&u.id)
        })
        .await
        .unwrap();
    let want = User {
        name: Some("New Name".into()),
        ..u.clone()
    };
    assert_eq!(renamed, want, "update_user changed more than the name");
    assert_eq!(
        adapter.get_user(&u.id).await.unwrap(),
        Some(want.clone()),
        "expected `adapter.get_user(&u.id).await.unwrap()` to equal `Some(want.clone())`"
    );

    let verified = datetime!(2031-07-08 09:10:11.012 UTC);
    let cleared = adapter
        .update_user(UserUpdate {
            image: Some(None),
            email_verified: Some(Some(verified)),
            ..UserUpdate::new(&u.id)
        })
        .await
        .unwrap();
    let want = User {
        image: None,
        email_verified: Some(verified),
        ..want
    };
    assert_eq!(cleared, want, "Some(None) must clear and None must keep");
    assert_eq!(
        adapter.get_user(&u.id).await.unwrap(),
        Some(want.clone()),
        "expected `adapter.get_user(&u.id).await.unwrap()` to equal `Some(want.clone())`"
    );

    let unchanged = adapter.update_user(UserUpdate::new(&u.id)).await.unwrap();
    assert_eq!(unchanged, want, "an empty update must change nothing");
}

/// CONTRACT: updating an unknown user is `NotFound`.
pub async fn update_user_of_unknown_id_is_not_found(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "gone").await;
    adapter.delete_user(&u.id).await.unwrap();
    assert_not_found(
        adapter
            .update_user(UserUpdate {
                name: Some(Some("ghost".into())),
                ..UserUpdate::new(&u.id)
            })
            .await,
        "update_user of a deleted user",
    );
    assert_eq!(
        adapter.get_user(&u.id).await.unwrap(),
        None,
        "update must not recreate"
    );
}

/// CONTRACT: taking another user's email is `Conflict`, and nothing of the
/// update is applied.
pub async fn update_user_to_taken_email_conflicts_and_changes_nothing(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "a").await;
    let b = user(&*adapter, "b").await;
    let result = adapter
        .update_user(UserUpdate {
            name: Some(Some("Thief".into())),
            email: Some(a.email.clone()),
            ..UserUpdate::new(&b.id)
        })
        .await;
    assert_conflict(result, "update_user to another user's email");
    assert_eq!(
        adapter.get_user(&b.id).await.unwrap(),
        Some(b.clone()),
        "b changed"
    );
    let owner = adapter
        .get_user_by_email(a.email.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(owner, Some(a), "expected `owner` to equal `Some(a)`");
    // Setting a user's own address again is not a conflict.
    let same = adapter
        .update_user(UserUpdate {
            email: Some(b.email.clone()),
            ..UserUpdate::new(&b.id)
        })
        .await
        .unwrap();
    assert_eq!(same, b, "expected `same` to equal `b`");
}

/// Changing or clearing an email frees the old address for lookups and for
/// other users.
pub async fn update_user_email_releases_the_old_address(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "mover").await;
    let old = u.email.clone().unwrap();
    let new = format!("{}@example.com", unique("moved"));
    let moved = adapter
        .update_user(UserUpdate {
            email: Some(Some(new.clone())),
            ..UserUpdate::new(&u.id)
        })
        .await
        .unwrap();
    assert_eq!(
        moved.email.as_deref(),
        Some(new.as_str()),
        "expected `moved.email.as_deref()` to equal `Some(new.as_str())`"
    );
    assert_eq!(
        adapter.get_user_by_email(&old).await.unwrap(),
        None,
        "expected `adapter.get_user_by_email(&old).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_user_by_email(&new).await.unwrap(),
        Some(moved),
        "expected `adapter.get_user_by_email(&new).await.unwrap()` to equal `Some(moved)`"
    );
    let taker = adapter
        .create_user(NewUser {
            email: Some(old.clone()),
            ..NewUser::default()
        })
        .await
        .expect("the old address must be free again");
    assert_eq!(
        adapter.get_user_by_email(&old).await.unwrap(),
        Some(taker),
        "expected `adapter.get_user_by_email(&old).await.unwrap()` to equal `Some(taker)`"
    );

    let cleared = adapter
        .update_user(UserUpdate {
            email: Some(None),
            ..UserUpdate::new(&u.id)
        })
        .await
        .unwrap();
    assert_eq!(
        cleared.email, None,
        "expected `cleared.email` to equal `None`"
    );
    assert_eq!(
        adapter.get_user_by_email(&new).await.unwrap(),
        None,
        "expected `adapter.get_user_by_email(&new).await.unwrap()` to equal `None`"
    );
}

/// CONTRACT and Auth.js `deleteUser`: returns the removed user, then
/// `Ok(None)`; the user is gone and its email is free.
pub async fn delete_user_returns_the_user_once(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "delete").await;
    assert_eq!(
        adapter.delete_user(&u.id).await.unwrap(),
        Some(u.clone()),
        "expected `adapter.delete_user(&u.id).await.unwrap()` to equal `Some(u.clone())`"
    );
    assert_eq!(
        adapter.delete_user(&u.id).await.unwrap(),
        None,
        "expected `adapter.delete_user(&u.id).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_user(&u.id).await.unwrap(),
        None,
        "expected `adapter.get_user(&u.id).await.unwrap()` to equal `None`"
    );
    let email = u.email.as_deref().unwrap();
    assert_eq!(
        adapter.get_user_by_email(email).await.unwrap(),
        None,
        "expected `adapter.get_user_by_email(email).await.unwrap()` to equal `None`"
    );
    adapter
        .create_user(NewUser {
            email: u.email.clone(),
            ..NewUser::default()
        })
        .await
        .expect("a deleted user's email must be free again");
}

/// CONTRACT: delete_user removes every account, session and authenticator
/// of the user, and nothing of other users.
pub async fn delete_user_removes_accounts_sessions_and_authenticators(adapter: Arc<dyn Adapter>) {
    let doomed = user(&*adapter, "doomed").await;
    let keeper = user(&*adapter, "keeper").await;
    let doomed_sessions = [
        session(&*adapter, &doomed.id).await,
        session(&*adapter, &doomed.id).await,
    ];
    let doomed_accounts = [
        account(&*adapter, &doomed.id, "github").await,
        account(&*adapter, &doomed.id, "google").await,
    ];
    let doomed_auth = authenticator(&*adapter, &doomed.id).await;
    let kept_session = session(&*adapter, &keeper.id).await;
    let kept_account = account(&*adapter, &keeper.id, "github").await;
    let kept_auth = authenticator(&*adapter, &keeper.id).await;

    assert_eq!(
        adapter.delete_user(&doomed.id).await.unwrap(),
        Some(doomed.clone()),
        "expected `adapter.delete_user(&doomed.id).await.unwrap()` to equal `Some(doomed.clone())`"
    );

    for s in &doomed_sessions {
        assert_eq!(
            adapter
                .get_session_and_user(&s.session_token)
                .await
                .unwrap(),
            None,
            "expected `adapter .get_session_and_user(&s.session_token) .await .unwrap()` to equal `None`"
        );
        // delete_session sees the raw row: None proves it is gone, not hidden.
        assert_eq!(
            adapter.delete_session(&s.session_token).await.unwrap(),
            None,
            "a session of the deleted user survived"
        );
    }
    for a in &doomed_accounts {
        assert_eq!(
            adapter
                .get_account(&a.provider, &a.provider_account_id)
                .await
                .unwrap(),
            None,
            "an account of the deleted user survived"
        );
        assert_eq!(
            adapter
                .get_user_by_account(&a.provider, &a.provider_account_id)
                .await
                .unwrap(),
            None,
            "expected `adapter .get_user_by_account(&a.provider, &a.provider_account_id) .await .unwrap()` to equal `None`"
        );
    }
    assert_eq!(
        adapter
            .get_authenticator(&doomed_auth.credential_id)
            .await
            .unwrap(),
        None,
        "an authenticator of the deleted user survived"
    );
    assert!(
        adapter
            .list_authenticators_by_user_id(&doomed.id)
            .await
            .unwrap()
            .is_empty()
    );

    let (s, u) = adapter
        .get_session_and_user(&kept_session.session_token)
        .await
        .unwrap()
        .expect("another user's session was removed");
    assert_eq!(
        (s, u),
        (kept_session, keeper.clone()),
        "expected `(s, u)` to equal `(kept_session, keeper.clone())`"
    );
    assert_eq!(
        adapter
            .get_account(&kept_account.provider, &kept_account.provider_account_id)
            .await
            .unwrap(),
        Some(kept_account),
        "expected `adapter .get_account(&kept_account.provider, &kept_account.provider_account_id) .await .unwrap()` to equal `Some(kept_account)`"
    );
    assert_eq!(
        adapter
            .get_authenticator(&kept_auth.credential_id)
            .await
            .unwrap(),
        Some(kept_auth),
        "expected `adapter .get_authenticator(&kept_auth.credential_id) .await .unwrap()` to equal `Some(kept_auth)`"
    );
}

/// CONTRACT: no orphan survives, whatever the number of sessions.
pub async fn delete_user_with_many_sessions_leaves_no_orphan(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "busy").await;
    let mut tokens = Vec::new();
    for _ in 0..300 {
        tokens.push(session(&*adapter, &u.id).await.session_token);
    }
    let mut creds = Vec::new();
    for _ in 0..10 {
        account(&*adapter, &u.id, &unique("provider")).await;
        creds.push(authenticator(&*adapter, &u.id).await.credential_id);
    }
    assert_eq!(
        adapter.delete_user(&u.id).await.unwrap().map(|u| u.id),
        Some(u.id.clone()),
        "expected `adapter.delete_user(&u.id).await.unwrap().map(|u| u.id)` to equal `Some(u.id.clone())`"
    );
    for token in &tokens {
        assert_eq!(
            adapter.delete_session(token).await.unwrap(),
            None,
            "orphan session left"
        );
    }
    for cred in &creds {
        assert_eq!(
            adapter.get_authenticator(cred).await.unwrap(),
            None,
            "orphan authenticator"
        );
    }
}

/// CONTRACT: delete_user is all or nothing even while sessions and accounts
/// are being added for the same user: afterwards no session or account of
/// the deleted user exists.
pub async fn delete_user_racing_new_sessions_and_accounts_leaves_no_orphan(
    adapter: Arc<dyn Adapter>,
) {
    for round in 0..10 {
        let u = user(&*adapter, &format!("race{round}")).await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (adapter, user_id) = (adapter.clone(), u.id.clone());
            tasks.push(tokio::spawn(async move {
                let s = session_of(&user_id, now_ms() + Duration::days(1));
                let a = Account::new(
                    &user_id,
                    AccountType::OAuth,
                    "race",
                    unique(&format!("r{i}")),
                );
                let s_result = adapter.create_session(s.clone()).await;
                let a_result = adapter.link_account(a.clone()).await;
                for (what, err) in [
                    ("create_session", s_result.err()),
                    ("link_account", a_result.err()),
                ] {
                    if let Some(e) = err {
                        assert!(
                            e.is_not_found(),
                            "{what} racing delete_user failed with {e:?}"
                        );
                    }
                }
                (s.session_token, a.provider_account_id)
            }));
        }
        let deleted = adapter.delete_user(&u.id).await.unwrap();
        assert_eq!(
            deleted.map(|d| d.id),
            Some(u.id.clone()),
            "expected `deleted.map(|d| d.id)` to equal `Some(u.id.clone())`"
        );
        for task in tasks {
            let (token, pid) = task.await.unwrap();
            assert_eq!(
                adapter.delete_session(&token).await.unwrap(),
                None,
                "round {round}: a session was created for a deleted user"
            );
            assert_eq!(
                adapter.get_account("race", &pid).await.unwrap(),
                None,
                "round {round}: an account was linked to a deleted user"
            );
        }
    }
}

// ----------------------------------------------------------------- accounts

/// Auth.js `linkAccount`/`getAccount`: every field comes back as given.
pub async fn link_account_round_trips_every_field(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "linker").await;
    let input = full_account(&u.id, "auth0");
    let linked = adapter.link_account(input.clone()).await.unwrap();
    assert_eq!(linked, input, "expected `linked` to equal `input`");
    let read = adapter
        .get_account("auth0", &input.provider_account_id)
        .await
        .unwrap();
    assert_eq!(read, Some(input), "expected `read` to equal `Some(input)`");
}

/// An account with only the required fields round-trips with every option
/// `None`, for each account type.
pub async fn link_account_with_only_required_fields(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "minimal").await;
    for kind in [
        AccountType::OAuth,
        AccountType::Oidc,
        AccountType::Email,
        AccountType::WebAuthn,
    ] {
        let input = Account::new(&u.id, kind, kind.as_str(), unique("min"));
        assert_eq!(
            adapter.link_account(input.clone()).await.unwrap(),
            input,
            "expected `adapter.link_account(input.clone()).await.unwrap()` to equal `input`"
        );
        let read = adapter
            .get_account(&input.provider, &input.provider_account_id)
            .await
            .unwrap();
        assert_eq!(read, Some(input), "expected `read` to equal `Some(input)`");
    }
}

/// CONTRACT: linking to a user that does not exist is `NotFound`.
pub async fn link_account_for_missing_user_is_not_found(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "ghost").await;
    adapter.delete_user(&u.id).await.unwrap();
    let input = full_account(&u.id, "github");
    assert_not_found(
        adapter.link_account(input.clone()).await,
        "link_account for a deleted user",
    );
    assert_eq!(
        adapter
            .get_account("github", &input.provider_account_id)
            .await
            .unwrap(),
        None,
        "expected `adapter .get_account(\"github\", &input.provider_account_id) .await .unwrap()` to equal `None`"
    );
    let input = full_account("no-such-user", "github");
    assert_not_found(
        adapter.link_account(input).await,
        "link_account for an unknown id",
    );
}

/// CONTRACT: a second link of one `(provider, provider_account_id)` is
/// `Conflict`, even to another user, and the first link stays.
pub async fn link_account_twice_conflicts(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "first").await;
    let b = user(&*adapter, "second").await;
    let first = account(&*adapter, &a.id, "github").await;
    let again = Account {
        user_id: b.id.clone(),
        ..first.clone()
    };
    assert_conflict(
        adapter.link_account(again).await,
        "linking a taken provider account",
    );
    let owner = adapter
        .get_user_by_account("github", &first.provider_account_id)
        .await
        .unwrap();
    assert_eq!(owner, Some(a), "expected `owner` to equal `Some(a)`");
    // The same provider account id at another provider is a different account.
    let other = Account {
        provider: "gitlab".into(),
        ..first.clone()
    };
    adapter
        .link_account(other)
        .await
        .expect("same id at another provider");
}

/// 16 tasks linking one provider account to 16 users: exactly one wins.
pub async fn concurrent_link_account_has_one_winner(adapter: Arc<dyn Adapter>) {
    let pid = unique("contested");
    let mut tasks = Vec::new();
    for i in 0..16 {
        let u = user(&*adapter, &format!("linker{i}")).await;
        let (adapter, pid) = (adapter.clone(), pid.clone());
        tasks.push(tokio::spawn(async move {
            adapter
                .link_account(Account::new(&u.id, AccountType::OAuth, "github", pid))
                .await
        }));
    }
    let winner = sole_winner("link_account of one provider account", tasks).await;
    let owner = adapter
        .get_user_by_account("github", &pid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        owner.id, winner.user_id,
        "expected `owner.id` to equal `winner.user_id`"
    );
}

/// Auth.js `getUserByAccount`: finds the owner; unknown pairs are `Ok(None)`.
pub async fn get_user_by_account_finds_the_owner(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "owner").await;
    let a = account(&*adapter, &u.id, "github").await;
    let found = adapter
        .get_user_by_account("github", &a.provider_account_id)
        .await
        .unwrap();
    assert_eq!(found, Some(u), "expected `found` to equal `Some(u)`");
    assert_eq!(
        adapter
            .get_user_by_account("github", "unknown")
            .await
            .unwrap(),
        None,
        "expected `adapter .get_user_by_account(\"github\", \"unknown\") .await .unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter
            .get_user_by_account("gitlab", &a.provider_account_id)
            .await
            .unwrap(),
        None,
        "expected `adapter .get_user_by_account(\"gitlab\", &a.provider_account_id) .await .unwrap()` to equal `None`"
    );
    for id in NEVER_ISSUED_IDS {
        assert_eq!(
            adapter.get_user_by_account(id, id).await.unwrap(),
            None,
            "expected `adapter.get_user_by_account(id, id).await.unwrap()` to equal `None`"
        );
    }
}

/// Auth.js `getAccount`: both the provider and the id must match.
pub async fn get_account_needs_both_provider_and_id(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "get-account").await;
    let a = account(&*adapter, &u.id, "auth0").await;
    let pid = a.provider_account_id.as_str();
    assert_eq!(
        adapter
            .get_account("invalid-provider", "invalid-id")
            .await
            .unwrap(),
        None,
        "expected `adapter .get_account(\"invalid-provider\", \"invalid-id\") .await .unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_account("invalid-provider", pid).await.unwrap(),
        None,
        "expected `adapter.get_account(\"invalid-provider\", pid).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_account("auth0", "invalid-id").await.unwrap(),
        None,
        "expected `adapter.get_account(\"auth0\", \"invalid-id\").await.unwrap()` to equal `None`"
    );
    // Arguments swapped: the pair is ordered.
    assert_eq!(
        adapter.get_account(pid, "auth0").await.unwrap(),
        None,
        "expected `adapter.get_account(pid, \"auth0\").await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_account("auth0", pid).await.unwrap(),
        Some(a),
        "expected `adapter.get_account(\"auth0\", pid).await.unwrap()` to equal `Some(a)`"
    );
}

/// Auth.js `unlinkAccount`: returns the removed account, then `Ok(None)`;
/// the user and its other accounts stay.
pub async fn unlink_account_returns_what_it_removed(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "unlink").await;
    let a = account(&*adapter, &u.id, "github").await;
    let b = account(&*adapter, &u.id, "google").await;
    let pid = a.provider_account_id.clone();
    assert_eq!(
        adapter.unlink_account("github", &pid).await.unwrap(),
        Some(a),
        "expected `adapter.unlink_account(\"github\", &pid).await.unwrap()` to equal `Some(a)`"
    );
    assert_eq!(
        adapter.unlink_account("github", &pid).await.unwrap(),
        None,
        "expected `adapter.unlink_account(\"github\", &pid).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_account("github", &pid).await.unwrap(),
        None,
        "expected `adapter.get_account(\"github\", &pid).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_user_by_account("github", &pid).await.unwrap(),
        None,
        "expected `adapter.get_user_by_account(\"github\", &pid).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_user(&u.id).await.unwrap(),
        Some(u.clone()),
        "expected `adapter.get_user(&u.id).await.unwrap()` to equal `Some(u.clone())`"
    );
    assert_eq!(
        adapter
            .get_user_by_account("google", &b.provider_account_id)
            .await
            .unwrap(),
        Some(u),
        "expected `adapter .get_user_by_account(\"google\", &b.provider_account_id) .await .unwrap()` to equal `Some(u)`"
    );
}

/// `list_accounts_by_user_id`: every account of the user and none of
/// another's; empty for a user without accounts and for unknown or
/// malformed ids; an unlinked account leaves the list, and one relinked to
/// another user is listed under its new owner only.
pub async fn list_accounts_by_user_id_returns_exactly_the_users_own(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "two-accounts").await;
    let b = user(&*adapter, "one-account").await;
    let c = user(&*adapter, "no-account").await;
    let github = account(&*adapter, &a.id, "github").await;
    let google = account(&*adapter, &a.id, "google").await;
    let b_github = account(&*adapter, &b.id, "github").await;
    let by_key = |x: &Account| (x.provider.clone(), x.provider_account_id.clone());

    assert_eq!(
        accounts_of(&*adapter, &a.id).await,
        sorted_by(vec![github.clone(), google.clone()], by_key),
        "expected user A's two accounts (github, google), every field as linked, and no other user's"
    );
    assert_eq!(
        accounts_of(&*adapter, &b.id).await,
        vec![b_github.clone()],
        "expected user B's one account only, not user A's accounts of the same provider"
    );
    assert_eq!(
        accounts_of(&*adapter, &c.id).await,
        vec![],
        "expected an empty list for a user without accounts"
    );
    let unknown = unique("no-such-user");
    for id in NEVER_ISSUED_IDS.iter().copied().chain([unknown.as_str()]) {
        assert_eq!(
            accounts_of(&*adapter, id).await,
            vec![],
            "expected an empty list (not an error, not others' accounts) for the unknown id {id:?}"
        );
    }

    // Unlinked: gone from the list, the other account stays.
    adapter
        .unlink_account("github", &github.provider_account_id)
        .await
        .unwrap()
        .expect("the github account is linked");
    assert_eq!(
        accounts_of(&*adapter, &a.id).await,
        vec![google.clone()],
        "expected only user A's google account after unlinking its github account"
    );

    // Relinked to B: listed under B only.
    let relinked = adapter
        .link_account(Account {
            user_id: b.id.clone(),
            ..github.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        accounts_of(&*adapter, &a.id).await,
        vec![google],
        "expected the account relinked to user B to be gone from user A's list"
    );
    assert_eq!(
        accounts_of(&*adapter, &b.id).await,
        sorted_by(vec![b_github, relinked], by_key),
        "expected user B's list to hold its own account and the one relinked to it"
    );
}

// ----------------------------------------------------------------- sessions

/// Auth.js `createSession`/`getSessionAndUser`: the session comes back with
/// its user.
pub async fn create_session_and_get_it_with_its_user(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "session").await;
    let input = session_of(&u.id, now_ms() + Duration::days(30));
    assert_eq!(
        adapter.create_session(input.clone()).await.unwrap(),
        input,
        "expected `adapter.create_session(input.clone()).await.unwrap()` to equal `input`"
    );
    let got = adapter
        .get_session_and_user(&input.session_token)
        .await
        .unwrap();
    assert_eq!(
        got,
        Some((input, u)),
        "expected `got` to equal `Some((input, u))`"
    );
}

/// CONTRACT: a session for a missing user is `NotFound`.
pub async fn create_session_for_missing_user_is_not_found(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "ghost").await;
    adapter.delete_user(&u.id).await.unwrap();
    let s = session_of(&u.id, now_ms() + Duration::days(1));
    assert_not_found(
        adapter.create_session(s.clone()).await,
        "create_session for a deleted user",
    );
    assert_eq!(
        adapter.delete_session(&s.session_token).await.unwrap(),
        None,
        "it was stored anyway"
    );
}

/// CONTRACT: a duplicate session token is `Conflict`; the first session stays.
pub async fn create_session_with_taken_token_conflicts(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "a").await;
    let b = user(&*adapter, "b").await;
    let first = session(&*adapter, &a.id).await;
    let again = Session {
        user_id: b.id.clone(),
        expires: first.expires + Duration::days(1),
        ..first.clone()
    };
    assert_conflict(
        adapter.create_session(again).await,
        "create_session with a taken token",
    );
    let got = adapter
        .get_session_and_user(&first.session_token)
        .await
        .unwrap();
    assert_eq!(got, Some((first, a)), "the first session was changed");
}

/// Auth.js `getSessionAndUser`: an unknown token is `Ok(None)`.
pub async fn get_session_and_user_of_unknown_token_is_none(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "s").await;
    let s = session(&*adapter, &u.id).await;
    for token in [
        "",
        "unknown",
        "%",
        "_",
        &s.session_token.to_uppercase(),
        &s.session_token[..10],
    ] {
        assert_eq!(
            adapter.get_session_and_user(token).await.unwrap(),
            None,
            "token {token:?}"
        );
    }
}

/// CONTRACT: an expired session is never returned, even if it was not
/// removed yet; one that expires later is.
pub async fn get_session_and_user_never_returns_an_expired_session(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "expired").await;
    for expires in [
        now_ms() - Duration::seconds(1),
        now_ms() - Duration::days(400),
        datetime!(1970-01-01 0:00 UTC),
    ] {
        let s = session_of(&u.id, expires);
        adapter.create_session(s.clone()).await.unwrap();
        assert_eq!(
            adapter
                .get_session_and_user(&s.session_token)
                .await
                .unwrap(),
            None,
            "a session that expired at {expires} was returned"
        );
    }
    // One that is valid now and expires two seconds later.
    let soon = session_of(&u.id, now_ms() + Duration::seconds(2));
    adapter.create_session(soon.clone()).await.unwrap();
    assert!(
        adapter
            .get_session_and_user(&soon.session_token)
            .await
            .unwrap()
            .is_some()
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(
        adapter
            .get_session_and_user(&soon.session_token)
            .await
            .unwrap(),
        None,
        "a session was returned after its expiry passed"
    );
}

/// Auth.js `updateSession`: the new expiry is returned and stored.
pub async fn update_session_extends_expiry(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "extend").await;
    let s = session(&*adapter, &u.id).await;
    let later = s.expires + Duration::days(7) + Duration::milliseconds(123);
    let updated = adapter
        .update_session(SessionUpdate {
            session_token: s.session_token.clone(),
            expires: Some(later),
            user_id: None,
        })
        .await
        .unwrap();
    let want = Session {
        expires: later,
        ..s.clone()
    };
    assert_eq!(
        updated,
        Some(want.clone()),
        "expected `updated` to equal `Some(want.clone())`"
    );
    let got = adapter
        .get_session_and_user(&s.session_token)
        .await
        .unwrap();
    assert_eq!(
        got,
        Some((want.clone(), u)),
        "expected `got` to equal `Some((want.clone(), u))`"
    );
    // An empty update changes nothing.
    let same = adapter
        .update_session(SessionUpdate {
            session_token: s.session_token.clone(),
            expires: None,
            user_id: None,
        })
        .await
        .unwrap();
    assert_eq!(same, Some(want), "expected `same` to equal `Some(want)`");
}

/// `update_session` with a `user_id` hands the session to another user.
pub async fn update_session_moves_it_to_another_user(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "from").await;
    let b = user(&*adapter, "to").await;
    let s = session(&*adapter, &a.id).await;
    let moved = adapter
        .update_session(SessionUpdate {
            session_token: s.session_token.clone(),
            expires: None,
            user_id: Some(b.id.clone()),
        })
        .await
        .unwrap()
        .expect("the session exists");
    assert_eq!(
        moved.user_id, b.id,
        "update_session with user_id must return the session with its new owner's id"
    );
    let (_, owner) = adapter
        .get_session_and_user(&s.session_token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        owner,
        b.clone(),
        "get_session_and_user after moving the session must return the new owner"
    );
    // It now goes with its new owner.
    adapter.delete_user(&b.id).await.unwrap();
    assert_eq!(
        adapter.delete_session(&s.session_token).await.unwrap(),
        None,
        "deleting the new owner must delete the moved session with it"
    );
    assert_eq!(
        adapter.get_user(&a.id).await.unwrap(),
        Some(a),
        "deleting the new owner must leave the old owner alone"
    );
}

/// `update_session` to a user that does not exist is `NotFound` and changes
/// nothing.
pub async fn update_session_to_missing_user_is_not_found(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "a").await;
    let s = session(&*adapter, &a.id).await;
    let result = adapter
        .update_session(SessionUpdate {
            session_token: s.session_token.clone(),
            expires: Some(s.expires + Duration::days(1)),
            user_id: Some("no-such-user".into()),
        })
        .await;
    assert_not_found(result, "update_session to a missing user");
    assert_eq!(
        adapter
            .get_session_and_user(&s.session_token)
            .await
            .unwrap(),
        Some((s, a)),
        "expected `adapter .get_session_and_user(&s.session_token) .await .unwrap()` to equal `Some((s, a))`"
    );
}

/// CONTRACT: `update_session` of an unknown token is `Ok(None)` and creates
/// nothing.
pub async fn update_session_of_unknown_token_is_none(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "u").await;
    let token = unique("never-created");
    let got = adapter
        .update_session(SessionUpdate {
            session_token: token.clone(),
            expires: Some(now_ms() + Duration::days(1)),
            user_id: Some(u.id.clone()),
        })
        .await
        .unwrap();
    assert_eq!(got, None, "expected `got` to equal `None`");
    assert_eq!(
        adapter.get_session_and_user(&token).await.unwrap(),
        None,
        "update created a session"
    );
}

/// Auth.js `deleteSession`: returns the removed session, then `Ok(None)`.
pub async fn delete_session_returns_what_it_removed(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "logout").await;
    let s = session(&*adapter, &u.id).await;
    let other = session(&*adapter, &u.id).await;
    assert_eq!(
        adapter.delete_session(&s.session_token).await.unwrap(),
        Some(s.clone()),
        "expected `adapter.delete_session(&s.session_token).await.unwrap()` to equal `Some(s.clone())`"
    );
    assert_eq!(
        adapter.delete_session(&s.session_token).await.unwrap(),
        None,
        "expected `adapter.delete_session(&s.session_token).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter
            .get_session_and_user(&s.session_token)
            .await
            .unwrap(),
        None,
        "expected `adapter .get_session_and_user(&s.session_token) .await .unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter
            .get_session_and_user(&other.session_token)
            .await
            .unwrap(),
        Some((other, u.clone())),
        "deleting one session removed another"
    );
    assert_eq!(
        adapter.get_user(&u.id).await.unwrap(),
        Some(u),
        "deleting a session removed its user"
    );
}

/// `list_sessions_by_user_id`: the user's sessions that have not expired,
/// none of another's; an expired session is never listed (even before it is
/// removed, and once its expiry passes); a deleted session leaves the list;
/// a session moved to another user is listed under its new owner only;
/// unknown ids list nothing.
pub async fn list_sessions_by_user_id_returns_the_users_live_sessions(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "sessions-a").await;
    let b = user(&*adapter, "sessions-b").await;
    let c = user(&*adapter, "no-sessions").await;
    let first = session(&*adapter, &a.id).await;
    let second = session(&*adapter, &a.id).await;
    for expires in [
        now_ms() - Duration::seconds(1),
        now_ms() - Duration::days(400),
        datetime!(1970-01-01 0:00 UTC),
    ] {
        adapter
            .create_session(session_of(&a.id, expires))
            .await
            .unwrap();
    }
    let b_session = session(&*adapter, &b.id).await;
    let by_token = |x: &Session| x.session_token.clone();

    assert_eq!(
        sessions_of(&*adapter, &a.id).await,
        sorted_by(vec![first.clone(), second.clone()], by_token),
        "expected user A's two live sessions only: none of its expired ones, none of user B's"
    );
    assert_eq!(
        sessions_of(&*adapter, &b.id).await,
        vec![b_session.clone()],
        "expected user B's one session only"
    );
    assert_eq!(
        sessions_of(&*adapter, &c.id).await,
        vec![],
        "expected an empty list for a user without sessions"
    );
    let unknown = unique("no-such-user");
    for id in NEVER_ISSUED_IDS.iter().copied().chain([unknown.as_str()]) {
        assert_eq!(
            sessions_of(&*adapter, id).await,
            vec![],
            "expected an empty list (not an error, not others' sessions) for the unknown id {id:?}"
        );
    }

    // Signed out of one: gone from the list.
    adapter
        .delete_session(&first.session_token)
        .await
        .unwrap()
        .expect("the first session exists");
    assert_eq!(
        sessions_of(&*adapter, &a.id).await,
        vec![second.clone()],
        "expected only user A's second session after deleting the first"
    );

    // Moved to B: listed under B only.
    let moved = adapter
        .update_session(SessionUpdate {
            session_token: second.session_token.clone(),
            expires: None,
            user_id: Some(b.id.clone()),
        })
        .await
        .unwrap()
        .expect("the second session is live");
    assert_eq!(
        sessions_of(&*adapter, &a.id).await,
        vec![],
        "expected the session moved to user B to be gone from user A's list"
    );
    assert_eq!(
        sessions_of(&*adapter, &b.id).await,
        sorted_by(vec![b_session.clone(), moved], by_token),
        "expected user B's list to hold its own session and the one moved to it"
    );

    // Live now, expired two seconds later: listed, then not.
    let soon = session_of(&c.id, now_ms() + Duration::seconds(2));
    adapter.create_session(soon.clone()).await.unwrap();
    assert_eq!(
        sessions_of(&*adapter, &c.id).await,
        vec![soon],
        "expected a session that expires in two seconds to be listed"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(
        sessions_of(&*adapter, &c.id).await,
        vec![],
        "expected a session to leave the list once its expiry passed"
    );
}

// ------------------------------------------------------- verification tokens

/// Auth.js `createVerificationToken`/`useVerificationToken`: the token is
/// stored as given and comes back as given.
pub async fn create_verification_token_and_use_it(adapter: Arc<dyn Adapter>) {
    let t = token_of("info@example.com", now_ms() + Duration::minutes(15));
    assert_eq!(
        adapter.create_verification_token(t.clone()).await.unwrap(),
        t,
        "expected `adapter.create_verification_token(t.clone()).await.unwrap()` to equal `t`"
    );
    let used = adapter
        .use_verification_token(&t.identifier, &t.token)
        .await
        .unwrap();
    assert_eq!(used, Some(t), "expected `used` to equal `Some(t)`");
}

/// A second identical `(identifier, token)` is `Conflict`; the first stays
/// usable.
pub async fn create_verification_token_twice_conflicts(adapter: Arc<dyn Adapter>) {
    let t = token_of("twice@example.com", now_ms() + Duration::minutes(15));
    adapter.create_verification_token(t.clone()).await.unwrap();
    let again = VerificationToken {
        expires: t.expires + Duration::hours(1),
        ..t.clone()
    };
    assert_conflict(
        adapter.create_verification_token(again).await,
        "a duplicate token",
    );
    let used = adapter
        .use_verification_token(&t.identifier, &t.token)
        .await
        .unwrap();
    assert_eq!(used, Some(t), "the first token must be kept unchanged");
}

/// CONTRACT and Auth.js `useVerificationToken`: a second use is `Ok(None)`.
pub async fn use_verification_token_is_single_use(adapter: Arc<dyn Adapter>) {
    let t = token_of("once@example.com", now_ms() + Duration::minutes(15));
    adapter.create_verification_token(t.clone()).await.unwrap();
    assert_eq!(
        adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap(),
        Some(t.clone()),
        "expected `adapter .use_verification_token(&t.identifier, &t.token) .await .unwrap()` to equal `Some(t.clone())`"
    );
    assert_eq!(
        adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap(),
        None,
        "expected `adapter .use_verification_token(&t.identifier, &t.token) .await .unwrap()` to equal `None`"
    );
    // Once used, the same token may be issued again.
    adapter.create_verification_token(t.clone()).await.unwrap();
    assert_eq!(
        adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap(),
        Some(t),
        "expected `adapter .use_verification_token(&t.identifier, &t.token) .await .unwrap()` to equal `Some(t)`"
    );
}

/// CONTRACT: the identifier must match as well as the token, and a
/// mismatched attempt does not consume the token.
pub async fn use_verification_token_needs_the_matching_identifier(adapter: Arc<dyn Adapter>) {
    let t = token_of("owner@example.com", now_ms() + Duration::minutes(15));
    adapter.create_verification_token(t.clone()).await.unwrap();
    for wrong in ["invalid@identifier.com", "OWNER@example.com", "", "%"] {
        assert_eq!(
            adapter
                .use_verification_token(wrong, &t.token)
                .await
                .unwrap(),
            None,
            "token used with identifier {wrong:?}"
        );
    }
    assert_eq!(
        adapter
            .use_verification_token(&t.identifier, "wrong-token")
            .await
            .unwrap(),
        None,
        "expected `adapter .use_verification_token(&t.identifier, \"wrong-token\") .await .unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap(),
        Some(t),
        "a mismatched attempt consumed the token"
    );
}

/// CONTRACT: an expired token is consumed and `Ok(None)` is returned.
pub async fn use_verification_token_consumes_an_expired_token(adapter: Arc<dyn Adapter>) {
    let expired = token_of("late@example.com", now_ms() - Duration::seconds(1));
    adapter
        .create_verification_token(expired.clone())
        .await
        .unwrap();
    assert_eq!(
        adapter
            .use_verification_token(&expired.identifier, &expired.token)
            .await
            .unwrap(),
        None,
        "an expired token was accepted"
    );
    // It was consumed: the same token can be issued again without conflict.
    let fresh = VerificationToken {
        expires: now_ms() + Duration::minutes(15),
        ..expired
    };
    adapter
        .create_verification_token(fresh.clone())
        .await
        .expect("the expired token must have been consumed");
    assert_eq!(
        adapter
            .use_verification_token(&fresh.identifier, &fresh.token)
            .await
            .unwrap(),
        Some(fresh),
        "expected `adapter .use_verification_token(&fresh.identifier, &fresh.token) .await .unwrap()` to equal `Some(fresh)`"
    );
}

/// CONTRACT: of 32 concurrent uses of one token exactly one succeeds.
pub async fn use_verification_token_is_atomic_under_concurrency(adapter: Arc<dyn Adapter>) {
    for round in 0..5 {
        let t = token_of("race@example.com", now_ms() + Duration::minutes(15));
        adapter.create_verification_token(t.clone()).await.unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(32));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (adapter, t, barrier) = (adapter.clone(), t.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    adapter
                        .use_verification_token(&t.identifier, &t.token)
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(Some(got)) => {
                    assert_eq!(got, t, "expected `got` to equal `t`");
                    wins += 1;
                }
                Ok(None) => {}
                Err(e) => panic!("a concurrent use failed with {e:?}"),
            }
        }
        assert_eq!(
            wins, 1,
            "round {round}: {wins} of 32 concurrent uses got the token"
        );
    }
}

// ----------------------------------------------------------- authenticators

/// Auth.js `createAuthenticator`/`getAuthenticator`.
pub async fn create_authenticator_and_get_it(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "passkey").await;
    let input = authenticator_of(&u.id);
    assert_eq!(
        adapter.create_authenticator(input.clone()).await.unwrap(),
        input,
        "expected `adapter.create_authenticator(input.clone()).await.unwrap()` to equal `input`"
    );
    assert_eq!(
        adapter
            .get_authenticator(&input.credential_id)
            .await
            .unwrap(),
        Some(input),
        "expected `adapter .get_authenticator(&input.credential_id) .await .unwrap()` to equal `Some(input)`"
    );
    let bare = Authenticator {
        transports: None,
        credential_backed_up: true,
        credential_device_type: "multiDevice".into(),
        counter: 0,
        ..authenticator_of(&u.id)
    };
    assert_eq!(
        adapter.create_authenticator(bare.clone()).await.unwrap(),
        bare,
        "expected `adapter.create_authenticator(bare.clone()).await.unwrap()` to equal `bare`"
    );
    assert_eq!(
        adapter
            .get_authenticator(&bare.credential_id)
            .await
            .unwrap(),
        Some(bare),
        "expected `adapter .get_authenticator(&bare.credential_id) .await .unwrap()` to equal `Some(bare)`"
    );
}

/// CONTRACT: an authenticator for a missing user is `NotFound`.
pub async fn create_authenticator_for_missing_user_is_not_found(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "ghost").await;
    adapter.delete_user(&u.id).await.unwrap();
    let a = authenticator_of(&u.id);
    assert_not_found(
        adapter.create_authenticator(a.clone()).await,
        "create_authenticator for a deleted user",
    );
    assert_eq!(
        adapter.get_authenticator(&a.credential_id).await.unwrap(),
        None,
        "expected `adapter.get_authenticator(&a.credential_id).await.unwrap()` to equal `None`"
    );
}

/// CONTRACT: a taken credential id is `Conflict`; the first stays.
pub async fn create_authenticator_with_taken_credential_id_conflicts(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "a").await;
    let b = user(&*adapter, "b").await;
    let first = authenticator(&*adapter, &a.id).await;
    let again = Authenticator {
        user_id: b.id.clone(),
        counter: 99,
        ..first.clone()
    };
    assert_conflict(
        adapter.create_authenticator(again).await,
        "a taken credential id",
    );
    assert_eq!(
        adapter
            .get_authenticator(&first.credential_id)
            .await
            .unwrap(),
        Some(first),
        "expected `adapter .get_authenticator(&first.credential_id) .await .unwrap()` to equal `Some(first)`"
    );
    assert!(
        adapter
            .list_authenticators_by_user_id(&b.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Auth.js `getAuthenticator`: an unknown credential id is `Ok(None)`.
pub async fn get_authenticator_of_unknown_id_is_none(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "u").await;
    let a = authenticator(&*adapter, &u.id).await;
    for id in NEVER_ISSUED_IDS
        .iter()
        .copied()
        .chain([a.credential_id.to_uppercase().as_str()])
    {
        assert_eq!(
            adapter.get_authenticator(id).await.unwrap(),
            None,
            "credential {id:?}"
        );
    }
}

/// Auth.js `listAuthenticatorsByUserId`: all of the user's, none of others'.
pub async fn list_authenticators_by_user_id_returns_exactly_the_users_own(
    adapter: Arc<dyn Adapter>,
) {
    let a = user(&*adapter, "two").await;
    let b = user(&*adapter, "one").await;
    let c = user(&*adapter, "none").await;
    let mut a_auths = vec![
        authenticator(&*adapter, &a.id).await,
        authenticator(&*adapter, &a.id).await,
    ];
    let b_auth = authenticator(&*adapter, &b.id).await;
    let sorted = |mut v: Vec<Authenticator>| {
        v.sort_by(|x, y| x.credential_id.cmp(&y.credential_id));
        v
    };
    a_auths = sorted(a_auths);
    assert_eq!(
        sorted(adapter.list_authenticators_by_user_id(&a.id).await.unwrap()),
        a_auths,
        "expected `sorted(adapter.list_authenticators_by_user_id(&a.id).await.unwrap())` to equal `a_auths`"
    );
    assert_eq!(
        adapter.list_authenticators_by_user_id(&b.id).await.unwrap(),
        vec![b_auth],
        "expected `adapter.list_authenticators_by_user_id(&b.id).await.unwrap()` to equal `vec![b_auth]`"
    );
    assert_eq!(
        adapter.list_authenticators_by_user_id(&c.id).await.unwrap(),
        vec![],
        "expected `adapter.list_authenticators_by_user_id(&c.id).await.unwrap()` to equal `vec![]`"
    );
}

/// Auth.js `updateAuthenticatorCounter`: returns and stores the new counter,
/// up to `u32::MAX` where the backend can store it.
pub async fn update_authenticator_counter_persists(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "counter").await;
    let a = authenticator(&*adapter, &u.id).await;
    for counter in [2, 65_536, i32::MAX as u32] {
        let updated = adapter
            .update_authenticator_counter(&a.credential_id, counter)
            .await
            .unwrap();
        let want = Authenticator {
            counter,
            ..a.clone()
        };
        assert_eq!(updated, want, "expected `updated` to equal `want`");
        assert_eq!(
            adapter.get_authenticator(&a.credential_id).await.unwrap(),
            Some(want),
            "expected `adapter.get_authenticator(&a.credential_id).await.unwrap()` to equal `Some(want)`"
        );
    }
}

/// CONTRACT: updating the counter of an unknown credential is `NotFound`.
pub async fn update_authenticator_counter_of_unknown_id_is_not_found(adapter: Arc<dyn Adapter>) {
    assert_not_found(
        adapter
            .update_authenticator_counter("no-such-credential", 5)
            .await,
        "update_authenticator_counter of an unknown credential",
    );
    assert_eq!(
        adapter
            .get_authenticator("no-such-credential")
            .await
            .unwrap(),
        None,
        "expected `adapter .get_authenticator(\"no-such-credential\") .await .unwrap()` to equal `None`"
    );
}

// --------------------------------------------------------------- everywhere

/// CONTRACT: timestamps round-trip to the millisecond, in UTC, from 1970 to
/// 9999, through users, sessions and verification tokens; instants given in
/// another offset come back as the same instant in UTC.
pub async fn timestamps_round_trip_to_the_millisecond_from_1970_to_9999(adapter: Arc<dyn Adapter>) {
    let instants = [
        datetime!(1970-01-01 0:00 UTC),
        datetime!(1970-01-01 0:00:00.001 UTC),
        datetime!(2000-02-29 12:34:56.789 UTC),
        datetime!(2038-01-19 03:14:08.500 UTC),
        datetime!(2099-06-15 23:59:59.999 +05:30),
        datetime!(9999-12-31 23:59:59.999 UTC),
    ];
    let u = user(&*adapter, "times").await;
    for at in instants {
        let want = at.to_offset(time::UtcOffset::UTC);
        let updated = adapter
            .update_user(UserUpdate {
                email_verified: Some(Some(at)),
                ..UserUpdate::new(&u.id)
            })
            .await
            .unwrap();
        let read = adapter.get_user(&u.id).await.unwrap().unwrap();
        for (what, got) in [
            ("update_user", updated.email_verified),
            ("get_user", read.email_verified),
        ] {
            let got = got.unwrap_or_else(|| panic!("{what}: email_verified {at} was lost"));
            assert_eq!(got, want, "{what}: email_verified {at}");
            assert!(got.offset().is_utc(), "{what}: {got} is not in UTC");
        }
        let created = adapter
            .create_user(NewUser {
                email_verified: Some(at),
                ..NewUser::default()
            })
            .await
            .unwrap();
        assert_eq!(
            created.email_verified,
            Some(want),
            "expected `created.email_verified` to equal `Some(want)`"
        );
        let read = adapter.get_user(&created.id).await.unwrap().unwrap();
        assert_eq!(
            read.email_verified,
            Some(want),
            "create_user then get_user: {at}"
        );
    }
    let future = instants
        .iter()
        .filter(|t| **t > OffsetDateTime::now_utc() + Duration::days(1));
    for &at in future {
        let want = at.to_offset(time::UtcOffset::UTC);
        let s = session_of(&u.id, at);
        adapter.create_session(s.clone()).await.unwrap();
        let (got, _) = adapter
            .get_session_and_user(&s.session_token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.expires, want, "session expiry {at}");
        assert!(got.expires.offset().is_utc());
        let t = token_of("times@example.com", at);
        adapter.create_verification_token(t.clone()).await.unwrap();
        let used = adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(used.expires, want, "verification token expiry {at}");
    }
}

/// Digits finer than a millisecond are dropped, the same way on every
/// backend (truncated, not rounded), so that two services sharing one
/// database see the same instant.
pub async fn timestamps_drop_digits_finer_than_a_millisecond(adapter: Arc<dyn Adapter>) {
    let fine = datetime!(2030-05-06 07:08:09.123999 UTC);
    let want = datetime!(2030-05-06 07:08:09.123 UTC);
    let u = adapter
        .create_user(NewUser {
            email_verified: Some(fine),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let read = adapter.get_user(&u.id).await.unwrap().unwrap();
    assert_eq!(read.email_verified, Some(want), "get_user");
    let s = session_of(&u.id, fine);
    adapter.create_session(s.clone()).await.unwrap();
    let (got, _) = adapter
        .get_session_and_user(&s.session_token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.expires, want, "session expiry");
}

/// CONTRACT: strings round-trip byte for byte: Unicode, quotes, `%`, `_`,
/// backslashes, whitespace, empty strings and tokens of several KiB.
pub async fn strings_round_trip_byte_for_byte(adapter: Arc<dyn Adapter>) {
    let long: String = "eyJhbGciOiJSUzI1NiJ9."
        .chars()
        .cycle()
        .take(8 * 1024)
        .collect();
    let awkward = [
        "Zoë Ünïcödé 名前 🦀 ﷽",
        "O'Brien \"the quote\" `tick`",
        "100% _under_ \\back\\slash\\",
        "  padded  ",
        "",
        "line\nbreak\ttab\r\n",
        "'; DROP TABLE \"User\"; --",
        "{\"json\": [1, 2]}",
        "ends with backslash \\",
        long.as_str(),
    ];
    for (i, s) in awkward.iter().enumerate() {
        let s = s.to_string();
        // Looked-up keys stay short enough for any unique index; long values
        // go into the fields that are never keys.
        let key: String = s.chars().take(40).collect();
        let email = format!("{i}-{key}@ex'ample.com");
        let u = adapter
            .create_user(NewUser {
                name: Some(s.clone()),
                email: Some(email.clone()),
                email_verified: None,
                image: Some(s.clone()),
            })
            .await
            .unwrap_or_else(|e| panic!("create_user with {s:?}: {e}"));
        assert_eq!(
            u.name.as_deref(),
            Some(s.as_str()),
            "expected `u.name.as_deref()` to equal `Some(s.as_str())`"
        );
        let read = adapter.get_user_by_email(&email).await.unwrap();
        assert_eq!(read, Some(u.clone()), "user with {s:?}");

        let mut a = full_account(&u.id, &format!("prov {key}"));
        a.provider_account_id = format!("{key}#{i}");
        a.access_token = Some(s.clone());
        a.id_token = Some(format!("{s}{long}"));
        a.scope = Some(s.clone());
        adapter.link_account(a.clone()).await.unwrap();
        let read = adapter
            .get_account(&a.provider, &a.provider_account_id)
            .await
            .unwrap();
        assert_eq!(read, Some(a.clone()), "account with {s:?}");
        let owner = adapter
            .get_user_by_account(&a.provider, &a.provider_account_id)
            .await
            .unwrap();
        assert_eq!(
            owner,
            Some(u.clone()),
            "expected `owner` to equal `Some(u.clone())`"
        );

        let sess = Session {
            session_token: format!("{key}{i}"),
            ..session_of(&u.id, now_ms() + Duration::days(1))
        };
        adapter.create_session(sess.clone()).await.unwrap();
        let got = adapter
            .get_session_and_user(&sess.session_token)
            .await
            .unwrap();
        assert_eq!(got, Some((sess, u.clone())), "session token {s:?}");

        let t = VerificationToken {
            identifier: email.clone(),
            token: format!("{key}{i}"),
            expires: now_ms() + Duration::hours(1),
        };
        adapter.create_verification_token(t.clone()).await.unwrap();
        let used = adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap();
        assert_eq!(used, Some(t), "verification token {s:?}");

        let auth = Authenticator {
            credential_id: format!("{key}{i}"),
            credential_public_key: format!("{s}{long}"),
            transports: Some(s.clone()),
            ..authenticator_of(&u.id)
        };
        adapter.create_authenticator(auth.clone()).await.unwrap();
        let read = adapter
            .get_authenticator(&auth.credential_id)
            .await
            .unwrap();
        assert_eq!(read, Some(auth), "authenticator with {s:?}");
    }
}

/// CONTRACT: lookups are exact: `%`, `_` and `*` are not wildcards, case is
/// not folded and surrounding spaces are not trimmed, for every key.
pub async fn lookups_do_not_match_patterns_or_fold_case(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "exact").await;
    let a = Account::new(&u.id, AccountType::OAuth, "GitHub", "Acct_42%");
    adapter.link_account(a.clone()).await.unwrap();
    let s = Session {
        session_token: "Token_%_Value".into(),
        ..session_of(&u.id, now_ms() + Duration::days(1))
    };
    adapter.create_session(s.clone()).await.unwrap();
    let auth = Authenticator {
        credential_id: "Cred_%".into(),
        ..authenticator_of(&u.id)
    };
    adapter.create_authenticator(auth.clone()).await.unwrap();

    for (provider, pid) in [
        ("github", "Acct_42%"),
        ("GitHub", "acct_42%"),
        ("GitHub", "Acct_42"),
        ("GitHub", "Acct%"),
        ("GitHub", "Acct_4_%"),
        ("GitHu_", "Acct_42%"),
        ("GitHub ", "Acct_42%"),
        ("%", "%"),
        ("*", "*"),
    ] {
        assert_eq!(
            adapter.get_account(provider, pid).await.unwrap(),
            None,
            "get_account({provider:?}, {pid:?})"
        );
        assert_eq!(
            adapter.get_user_by_account(provider, pid).await.unwrap(),
            None,
            "expected `adapter.get_user_by_account(provider, pid).await.unwrap()` to equal `None`"
        );
    }
    for token in [
        "token_%_value",
        "Token_%",
        "Token%",
        "Token_x_Value",
        " Token_%_Value",
        "*",
    ] {
        assert_eq!(
            adapter.get_session_and_user(token).await.unwrap(),
            None,
            "session {token:?}"
        );
    }
    for cred in ["cred_%", "Cred_", "Cred%", "%", "Cred_% "] {
        assert_eq!(
            adapter.get_authenticator(cred).await.unwrap(),
            None,
            "credential {cred:?}"
        );
    }
    assert_eq!(
        adapter.get_account("GitHub", "Acct_42%").await.unwrap(),
        Some(a),
        "expected `adapter.get_account(\"GitHub\", \"Acct_42%\").await.unwrap()` to equal `Some(a)`"
    );
    assert!(
        adapter
            .get_session_and_user("Token_%_Value")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        adapter.get_authenticator("Cred_%").await.unwrap(),
        Some(auth),
        "expected `adapter.get_authenticator(\"Cred_%\").await.unwrap()` to equal `Some(auth)`"
    );
}

/// CONTRACT: a value the backend cannot store is `InvalidInput` (never a
/// panic, a `Backend` error or a silently changed value), and a rejected
/// write changes nothing. Values tried: a NUL byte, `u32::MAX` counters,
/// extreme `expires_at`, instants before 1970.
pub async fn unstorable_values_are_invalid_input_and_change_nothing(adapter: Arc<dyn Adapter>) {
    #[track_caller]
    fn stored_or_rejected<T: std::fmt::Debug + PartialEq>(
        what: &str,
        result: Result<T>,
        want: &T,
    ) -> bool {
        match result {
            Ok(got) => {
                assert_eq!(&got, want, "{what}: stored, but changed");
                true
            }
            Err(AdapterError::InvalidInput { .. }) => false,
            Err(e) => panic!("{what}: expected Ok or InvalidInput, got {e:?}"),
        }
    }

    let u = user(&*adapter, "nul").await;
    let nul = "before\0after".to_string();

    let input = NewUser {
        name: Some(nul.clone()),
        ..NewUser::default()
    };
    let created = adapter.create_user(input.clone()).await;
    if let Ok(created) = &created {
        assert_eq!(created.name, input.name, "create_user changed a NUL name");
        let read = adapter.get_user(&created.id).await.unwrap();
        assert_eq!(
            read.as_ref(),
            Some(created),
            "a NUL name was stored changed"
        );
    } else {
        assert!(
            matches!(created, Err(AdapterError::InvalidInput { .. })),
            "create_user NUL: {created:?}"
        );
    }

    let update = adapter
        .update_user(UserUpdate {
            name: Some(Some(nul.clone())),
            image: Some(None),
            ..UserUpdate::new(&u.id)
        })
        .await;
    let want = User {
        name: Some(nul.clone()),
        image: None,
        ..u.clone()
    };
    if !stored_or_rejected("update_user with a NUL name", update, &want) {
        assert_eq!(
            adapter.get_user(&u.id).await.unwrap(),
            Some(u.clone()),
            "a rejected update changed the user"
        );
    }

    let s = Session {
        session_token: format!("tok\0{}", unique("en")),
        ..session_of(&u.id, now_ms() + Duration::days(1))
    };
    if stored_or_rejected(
        "create_session with a NUL token",
        adapter.create_session(s.clone()).await,
        &s,
    ) {
        let got = adapter
            .get_session_and_user(&s.session_token)
            .await
            .unwrap();
        assert_eq!(
            got.map(|(s, _)| s),
            Some(s.clone()),
            "expected `got.map(|(s, _)| s)` to equal `Some(s.clone())`"
        );
    }
    // Lookups with values the backend cannot store find nothing, without error.
    assert_eq!(
        adapter.get_user_by_email("a\0b").await.unwrap(),
        None,
        "expected `adapter.get_user_by_email(\"a\\0b\").await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_session_and_user("a\0b").await.unwrap(),
        None,
        "expected `adapter.get_session_and_user(\"a\\0b\").await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_user("a\0b").await.unwrap(),
        None,
        "expected `adapter.get_user(\"a\\0b\").await.unwrap()` to equal `None`"
    );

    let mut a = full_account(&u.id, "extreme");
    a.expires_at = Some(i64::MAX);
    if stored_or_rejected(
        "link_account with expires_at = i64::MAX",
        adapter.link_account(a.clone()).await,
        &a,
    ) {
        assert_eq!(
            adapter
                .get_account("extreme", &a.provider_account_id)
                .await
                .unwrap(),
            Some(a.clone()),
            "expected `adapter .get_account(\"extreme\", &a.provider_account_id) .await .unwrap()` to equal `Some(a.clone())`"
        );
    } else {
        assert_eq!(
            adapter
                .get_account("extreme", &a.provider_account_id)
                .await
                .unwrap(),
            None,
            "expected `adapter .get_account(\"extreme\", &a.provider_account_id) .await .unwrap()` to equal `None`"
        );
    }
    a.provider_account_id = unique("neg");
    a.expires_at = Some(-1);
    stored_or_rejected(
        "link_account with expires_at = -1",
        adapter.link_account(a.clone()).await,
        &a,
    );

    let auth = authenticator(&*adapter, &u.id).await;
    let max = Authenticator {
        counter: u32::MAX,
        ..auth.clone()
    };
    let result = adapter
        .update_authenticator_counter(&auth.credential_id, u32::MAX)
        .await;
    let kept = if stored_or_rejected("counter = u32::MAX", result, &max) {
        max
    } else {
        auth.clone()
    };
    assert_eq!(
        adapter
            .get_authenticator(&auth.credential_id)
            .await
            .unwrap(),
        Some(kept),
        "expected `adapter .get_authenticator(&auth.credential_id) .await .unwrap()` to equal `Some(kept)`"
    );

    let old = datetime!(1900-01-01 0:00 UTC);
    let result = adapter
        .update_user(UserUpdate {
            email_verified: Some(Some(old)),
            ..UserUpdate::new(&u.id)
        })
        .await;
    let before = adapter.get_user(&u.id).await.unwrap().unwrap();
    match result {
        Ok(updated) => assert_eq!(
            updated.email_verified,
            Some(old),
            "an instant before 1970 changed"
        ),
        Err(AdapterError::InvalidInput { .. }) => assert_ne!(before.email_verified, Some(old)),
        Err(e) => panic!("an instant before 1970: expected Ok or InvalidInput, got {e:?}"),
    }
}

/// CONTRACT: `purge_expired` removes expired sessions and tokens, keeps live
/// ones, and returns how many it removed (0 for backends that expire by TTL).
pub async fn purge_expired_removes_only_expired_records(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "purge").await;
    let past = now_ms() - Duration::minutes(5);
    let mut expired_sessions = Vec::new();
    for _ in 0..3 {
        let s = session_of(&u.id, past);
        adapter.create_session(s.clone()).await.unwrap();
        expired_sessions.push(s);
    }
    let mut expired_tokens = Vec::new();
    for _ in 0..2 {
        let t = token_of("purge@example.com", past);
        adapter.create_verification_token(t.clone()).await.unwrap();
        expired_tokens.push(t);
    }
    let live = session(&*adapter, &u.id).await;
    let live_token = token_of("purge@example.com", now_ms() + Duration::hours(1));
    adapter
        .create_verification_token(live_token.clone())
        .await
        .unwrap();

    let purged = adapter.purge_expired().await.unwrap();
    assert!(
        purged == 5 || purged == 0,
        "purge_expired removed {purged} records, 5 were expired"
    );
    assert_eq!(
        adapter.purge_expired().await.unwrap(),
        0,
        "a second purge found more"
    );
    for s in expired_sessions {
        assert_eq!(
            adapter.delete_session(&s.session_token).await.unwrap(),
            None,
            "an expired session survived"
        );
    }
    for t in expired_tokens {
        // Recreating succeeds only if the expired one is gone.
        let fresh = VerificationToken {
            expires: now_ms() + Duration::hours(1),
            ..t
        };
        adapter
            .create_verification_token(fresh)
            .await
            .expect("an expired token survived the purge");
    }
    assert_eq!(
        adapter
            .get_session_and_user(&live.session_token)
            .await
            .unwrap(),
        Some((live, u)),
        "expected `adapter .get_session_and_user(&live.session_token) .await .unwrap()` to equal `Some((live, u))`"
    );
    assert_eq!(
        adapter
            .use_verification_token(&live_token.identifier, &live_token.token)
            .await
            .unwrap(),
        Some(live_token),
        "expected `adapter .use_verification_token(&live_token.identifier, &live_token.token) .await .unwrap()` to equal `Some(live_token)`"
    );
}

/// CONTRACT: all operations are safe to call concurrently from many tasks on
/// one adapter: 32 tasks each run a whole sign-in and see only their own data.
pub async fn concurrent_calls_on_one_adapter_do_not_interfere(adapter: Arc<dyn Adapter>) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let adapter = adapter.clone();
            tokio::spawn(async move {
                let u = user(&*adapter, &format!("par{i}")).await;
                let a = account(&*adapter, &u.id, "github").await;
                let s = session(&*adapter, &u.id).await;
                let auth = authenticator(&*adapter, &u.id).await;
                for _ in 0..5 {
                    let got = adapter
                        .get_session_and_user(&s.session_token)
                        .await
                        .unwrap();
                    assert_eq!(got, Some((s.clone(), u.clone())), "expected `got` to equal `Some((s.clone(), u.clone()))`");
                    let owner = adapter
                        .get_user_by_account("github", &a.provider_account_id)
                        .await
                        .unwrap();
                    assert_eq!(owner.as_ref(), Some(&u), "expected `owner.as_ref()` to equal `Some(&u)`");
                }
                assert_eq!(
                    adapter.list_authenticators_by_user_id(&u.id).await.unwrap(),
                    vec![auth], "expected `adapter.list_authenticators_by_user_id(&u.id).await.unwrap()` to equal `vec![auth]`");
                if i % 2 == 0 {
                    assert!(adapter.delete_user(&u.id).await.unwrap().is_some());
                }
                (i, u, s)
            })
        })
        .collect();
    for task in tasks {
        let (i, u, s) = task.await.unwrap();
        let got = adapter
            .get_session_and_user(&s.session_token)
            .await
            .unwrap();
        if i % 2 == 0 {
            assert_eq!(got, None, "expected `got` to equal `None`");
        } else {
            assert_eq!(got, Some((s, u)), "expected `got` to equal `Some((s, u))`");
        }
    }
}

// --------------------------------------------------------------- hardening

/// CONTRACT: an expired session cannot be updated: `update_session` returns
/// `Ok(None)` for it, whatever it was asked to change, and the session stays
/// unreadable (it is not revived by a new expiry or a new owner).
pub async fn update_session_of_an_expired_session_is_none_and_does_not_revive_it(
    adapter: Arc<dyn Adapter>,
) {
    let a = user(&*adapter, "expired-owner").await;
    let b = user(&*adapter, "would-be-owner").await;
    let long_gone = session_of(&a.id, now_ms() - Duration::minutes(10));
    adapter.create_session(long_gone.clone()).await.unwrap();
    // Expires while the case runs, so an adapter that only checks at
    // creation time is caught too.
    let just_gone = session_of(&a.id, now_ms() + Duration::milliseconds(1500));
    adapter.create_session(just_gone.clone()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;

    for s in [&long_gone, &just_gone] {
        let updates = [
            ("a new expiry", Some(now_ms() + Duration::days(30)), None),
            ("a new owner", None, Some(b.id.clone())),
            (
                "both",
                Some(now_ms() + Duration::days(30)),
                Some(b.id.clone()),
            ),
        ];
        for (what, expires, user_id) in updates {
            let got = adapter
                .update_session(SessionUpdate {
                    session_token: s.session_token.clone(),
                    expires,
                    user_id,
                })
                .await;
            assert!(
                matches!(got, Ok(None)),
                "update_session with {what} on a session that expired at {} returned {got:?}; \
                 expected Ok(None): an expired session cannot be updated",
                s.expires
            );
            let read = adapter
                .get_session_and_user(&s.session_token)
                .await
                .unwrap();
            assert_eq!(
                read, None,
                "after update_session with {what}, the expired session was readable again (revived)"
            );
        }
    }
    // A live session is still updated.
    let live = session(&*adapter, &a.id).await;
    let later = now_ms() + Duration::days(60);
    let updated = adapter
        .update_session(SessionUpdate {
            session_token: live.session_token.clone(),
            expires: Some(later),
            user_id: None,
        })
        .await
        .unwrap();
    assert_eq!(
        updated.map(|s| s.expires),
        Some(later),
        "update_session of a live session must extend it"
    );
}

/// CONTRACT: the expiry `update_session` returns and stores is in UTC and to
/// the millisecond, as from `create_session`, whatever offset and precision
/// it was given.
pub async fn update_session_returns_a_utc_millisecond_expiry(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "u").await;
    let s = session(&*adapter, &u.id).await;
    let given = (OffsetDateTime::now_utc() + Duration::days(7))
        .replace_nanosecond(123_456_789)
        .unwrap()
        .to_offset(time::macros::offset!(+05:30));
    let want = truncate_to_millis(given);
    let updated = adapter
        .update_session(SessionUpdate {
            session_token: s.session_token.clone(),
            expires: Some(given),
            user_id: None,
        })
        .await
        .unwrap()
        .expect("a live session is updated");
    assert!(
        updated.expires == want && updated.expires.offset().is_utc(),
        "update_session returned expires {}; expected {want} (UTC, to the millisecond) for input {given}",
        updated.expires
    );
    let (read, _) = adapter
        .get_session_and_user(&s.session_token)
        .await
        .unwrap()
        .expect("the session is live");
    assert!(
        read.expires == want && read.expires.offset().is_utc(),
        "get_session_and_user after update_session read expires {}; expected {want} in UTC",
        read.expires
    );
}

/// CONTRACT: an authenticator's counter is WebAuthn's unsigned 32-bit
/// signCount: every `u32`, including those above `i32::MAX`, round-trips
/// through `create_authenticator` and `update_authenticator_counter`.
pub async fn authenticator_counter_round_trips_every_u32(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "passkey").await;
    let top = Authenticator {
        counter: u32::MAX,
        ..authenticator_of(&u.id)
    };
    let created = adapter.create_authenticator(top.clone()).await;
    assert!(
        matches!(&created, Ok(a) if a.counter == u32::MAX),
        "create_authenticator with counter u32::MAX returned {created:?}; expected it stored"
    );
    let read = adapter.get_authenticator(&top.credential_id).await.unwrap();
    assert_eq!(
        read.map(|a| a.counter),
        Some(u32::MAX),
        "counter u32::MAX read back"
    );
    let counters = [
        0,
        1,
        i32::MAX as u32,
        1 << 31,
        (1 << 31) + 1,
        u32::MAX - 1,
        u32::MAX,
    ];
    for counter in counters {
        let updated = adapter
            .update_authenticator_counter(&top.credential_id, counter)
            .await;
        assert!(
            matches!(&updated, Ok(a) if a.counter == counter),
            "update_authenticator_counter({counter}) returned {updated:?}; expected the counter stored"
        );
        let read = adapter
            .get_authenticator(&top.credential_id)
            .await
            .unwrap()
            .map(|a| a.counter);
        assert_eq!(read, Some(counter), "counter {counter} read back");
    }
}

/// One string field of one record, filled with `value`: what
/// `values_up_to_one_mib_are_stored_or_rejected_naming_the_field` stores.
struct Oversized {
    /// The record and field, e.g. `"user.email"`.
    label: &'static str,
    /// The names an `InvalidInput` may give the field: the Rust name and the
    /// Auth.js column name.
    names: &'static [&'static str],
}

const OVERSIZED_FIELDS: &[Oversized] = &[
    Oversized {
        label: "user.name",
        names: &["name"],
    },
    Oversized {
        label: "user.email",
        names: &["email"],
    },
    Oversized {
        label: "user.image",
        names: &["image"],
    },
    Oversized {
        label: "account.provider",
        names: &["provider"],
    },
    Oversized {
        label: "account.provider_account_id",
        names: &["provider_account_id", "providerAccountId"],
    },
    Oversized {
        label: "account.access_token",
        names: &["access_token"],
    },
    Oversized {
        label: "account.refresh_token",
        names: &["refresh_token"],
    },
    Oversized {
        label: "account.id_token",
        names: &["id_token"],
    },
    Oversized {
        label: "account.scope",
        names: &["scope"],
    },
    Oversized {
        label: "account.token_type",
        names: &["token_type"],
    },
    Oversized {
        label: "account.session_state",
        names: &["session_state"],
    },
    Oversized {
        label: "session.session_token",
        names: &["session_token", "sessionToken"],
    },
    Oversized {
        label: "verification_token.identifier",
        names: &["identifier"],
    },
    Oversized {
        label: "verification_token.token",
        names: &["token"],
    },
    Oversized {
        label: "authenticator.credential_id",
        names: &["credential_id", "credentialID"],
    },
    Oversized {
        label: "authenticator.provider_account_id",
        names: &["provider_account_id", "providerAccountId"],
    },
    Oversized {
        label: "authenticator.credential_public_key",
        names: &["credential_public_key", "credentialPublicKey"],
    },
    Oversized {
        label: "authenticator.credential_device_type",
        names: &["credential_device_type", "credentialDeviceType"],
    },
    Oversized {
        label: "authenticator.transports",
        names: &["transports"],
    },
];

/// A string of exactly `len` bytes that starts with something unique, so
/// runs and fields never collide on a unique key.
fn big_value(len: usize) -> String {
    let mut value = unique("big");
    let filler = "0123456789abcdefghijklmnopqrstuvwxyz-_";
    while value.len() < len {
        let take = (len - value.len()).min(filler.len());
        value.push_str(&filler[..take]);
    }
    value
}

/// Stores a record with `field` set to `value` and reads it back through
/// the lookup that field serves. `Ok(true)` when stored and read back
/// exactly, `Ok(false)` when rejected with `InvalidInput` naming the field.
async fn store_oversized(adapter: &dyn Adapter, field: &Oversized, value: &str) -> bool {
    let u = user(adapter, "oversized").await;
    let v = || value.to_owned();
    let outcome: Result<()> = match field.label {
        "user.name" | "user.email" | "user.image" => {
            let mut input = new_user("big");
            match field.label {
                "user.name" => input.name = Some(v()),
                "user.email" => input.email = Some(v()),
                _ => input.image = Some(v()),
            }
            match adapter.create_user(input.clone()).await {
                Ok(created) => {
                    assert_eq!(
                        created,
                        input.clone().into_user(created.id.clone()),
                        "create_user with a {}-byte {} returned something else",
                        value.len(),
                        field.label
                    );
                    let read = adapter.get_user(&created.id).await.unwrap();
                    assert_eq!(
                        read.as_ref(),
                        Some(&created),
                        "the user with a {}-byte {} read back differently",
                        value.len(),
                        field.label
                    );
                    if let Some(email) = &input.email {
                        let by_email = adapter.get_user_by_email(email).await.unwrap();
                        assert_eq!(
                            by_email,
                            Some(created),
                            "get_user_by_email of a {}-byte {}",
                            value.len(),
                            field.label
                        );
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        label if label.starts_with("account.") => {
            let mut a = full_account(&u.id, "big-provider");
            match label {
                "account.provider" => a.provider = v(),
                "account.provider_account_id" => a.provider_account_id = v(),
                "account.access_token" => a.access_token = Some(v()),
                "account.refresh_token" => a.refresh_token = Some(v()),
                "account.id_token" => a.id_token = Some(v()),
                "account.scope" => a.scope = Some(v()),
                "account.token_type" => a.token_type = Some(v()),
                _ => a.session_state = Some(v()),
            }
            match adapter.link_account(a.clone()).await {
                Ok(linked) => {
                    assert_eq!(linked, a, "link_account with a big {label}");
                    let read = adapter
                        .get_account(&a.provider, &a.provider_account_id)
                        .await
                        .unwrap();
                    assert_eq!(
                        read,
                        Some(a.clone()),
                        "the account with a {}-byte {label} read back differently",
                        value.len()
                    );
                    let owner = adapter
                        .get_user_by_account(&a.provider, &a.provider_account_id)
                        .await
                        .unwrap();
                    assert_eq!(
                        owner,
                        Some(u.clone()),
                        "owner of an account with a big {label}"
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        "session.session_token" => {
            let s = Session {
                session_token: v(),
                ..session_of(&u.id, now_ms() + Duration::days(1))
            };
            match adapter.create_session(s.clone()).await {
                Ok(created) => {
                    assert_eq!(created, s, "create_session with a big token");
                    let read = adapter
                        .get_session_and_user(&s.session_token)
                        .await
                        .unwrap();
                    assert_eq!(
                        read,
                        Some((s, u.clone())),
                        "the session with a {}-byte token read back differently",
                        value.len()
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        label if label.starts_with("verification_token.") => {
            let mut t = token_of(&unique("id"), now_ms() + Duration::hours(1));
            if label == "verification_token.identifier" {
                t.identifier = v();
            } else {
                t.token = v();
            }
            match adapter.create_verification_token(t.clone()).await {
                Ok(created) => {
                    assert_eq!(created, t, "create_verification_token with a big {label}");
                    let used = adapter
                        .use_verification_token(&t.identifier, &t.token)
                        .await
                        .unwrap();
                    assert_eq!(
                        used,
                        Some(t),
                        "the verification token with a {}-byte {label} read back differently",
                        value.len()
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        label => {
            let mut a = authenticator_of(&u.id);
            match label {
                "authenticator.credential_id" => a.credential_id = v(),
                "authenticator.provider_account_id" => a.provider_account_id = v(),
                "authenticator.credential_public_key" => a.credential_public_key = v(),
                "authenticator.credential_device_type" => a.credential_device_type = v(),
                _ => a.transports = Some(v()),
            }
            match adapter.create_authenticator(a.clone()).await {
                Ok(created) => {
                    assert_eq!(created, a, "create_authenticator with a big {label}");
                    let read = adapter.get_authenticator(&a.credential_id).await.unwrap();
                    assert_eq!(
                        read,
                        Some(a.clone()),
                        "the authenticator with a {}-byte {label} read back differently",
                        value.len()
                    );
                    let listed = adapter.list_authenticators_by_user_id(&u.id).await.unwrap();
                    assert_eq!(
                        listed,
                        vec![a],
                        "list_authenticators_by_user_id with a big {label}"
                    );
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
    };
    match outcome {
        Ok(()) => true,
        Err(AdapterError::InvalidInput { field: named, .. }) if field.names.contains(&named) => {
            false
        }
        Err(e) => panic!(
            "storing a {}-byte {} failed with {e:?}; expected it stored and read back byte for \
             byte, or Err(InvalidInput) naming the field as one of {:?}",
            value.len(),
            field.label,
            field.names
        ),
    }
}

/// CONTRACT: a value up to 1 MiB in any string field is either stored and
/// read back byte for byte, or rejected with `InvalidInput` naming the field;
/// never `Backend`, never a panic. Lookups by an oversized key find nothing
/// (`Ok(None)`), and the adapter keeps working.
pub async fn values_up_to_one_mib_are_stored_or_rejected_naming_the_field(
    adapter: Arc<dyn Adapter>,
) {
    for len in [6 * 1024, 1024 * 1024] {
        for field in OVERSIZED_FIELDS {
            let value = big_value(len);
            store_oversized(&*adapter, field, &value).await;
        }
        // Lookups by keys that may be too long for an index are plain misses.
        let key = big_value(len);
        let lookups = [
            (
                "get_user",
                adapter.get_user(&key).await.map(|r| r.is_none()),
            ),
            (
                "get_user_by_email",
                adapter.get_user_by_email(&key).await.map(|r| r.is_none()),
            ),
            (
                "get_user_by_account",
                adapter
                    .get_user_by_account(&key, &key)
                    .await
                    .map(|r| r.is_none()),
            ),
            (
                "get_account",
                adapter
                    .get_account("github", &key)
                    .await
                    .map(|r| r.is_none()),
            ),
            (
                "get_session_and_user",
                adapter
                    .get_session_and_user(&key)
                    .await
                    .map(|r| r.is_none()),
            ),
            (
                "use_verification_token",
                adapter
                    .use_verification_token(&key, &key)
                    .await
                    .map(|r| r.is_none()),
            ),
            (
                "get_authenticator",
                adapter.get_authenticator(&key).await.map(|r| r.is_none()),
            ),
            (
                "delete_session",
                adapter.delete_session(&key).await.map(|r| r.is_none()),
            ),
        ];
        for (call, result) in lookups {
            assert!(
                matches!(result, Ok(true)),
                "{call} with a {len}-byte key returned {result:?}; expected Ok(None)"
            );
        }
    }
    // Still healthy.
    let u = user(&*adapter, "after-oversized").await;
    let s = session(&*adapter, &u.id).await;
    assert_eq!(
        adapter
            .get_session_and_user(&s.session_token)
            .await
            .unwrap(),
        Some((s, u)),
        "the adapter works after oversized values"
    );
}

/// CONTRACT: keys are byte-exact: a trailing space makes another key, for
/// unique keys (emails, tokens, provider account ids, credential ids) and for
/// references to a user (a user id with a trailing space is no user).
pub async fn keys_are_byte_exact_with_trailing_spaces(adapter: Arc<dyn Adapter>) {
    let email = format!("{}@example.com", unique("pad"));
    let padded_email = format!("{email} ");
    let a = adapter
        .create_user(NewUser {
            email: Some(email.clone()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let b = adapter
        .create_user(NewUser {
            email: Some(padded_email.clone()),
            ..NewUser::default()
        })
        .await
        .unwrap_or_else(|e| {
            panic!("create_user with {padded_email:?} after {email:?} failed with {e:?}; expected a second user: the emails differ by a trailing space")
        });
    assert_eq!(
        adapter.get_user_by_email(&email).await.unwrap(),
        Some(a.clone()),
        "get_user_by_email({email:?}) must find the user without the trailing space"
    );
    assert_eq!(
        adapter.get_user_by_email(&padded_email).await.unwrap(),
        Some(b.clone()),
        "get_user_by_email({padded_email:?}) must find the user with the trailing space"
    );

    let padded_id = format!("{} ", a.id);
    assert_eq!(
        adapter.get_user(&padded_id).await.unwrap(),
        None,
        "get_user({padded_id:?}) found a user"
    );
    assert_not_found(
        adapter
            .link_account(full_account(&padded_id, "github"))
            .await,
        "link_account for a user id with a trailing space",
    );
    assert_not_found(
        adapter
            .create_session(session_of(&padded_id, now_ms() + Duration::days(1)))
            .await,
        "create_session for a user id with a trailing space",
    );
    assert_not_found(
        adapter
            .create_authenticator(authenticator_of(&padded_id))
            .await,
        "create_authenticator for a user id with a trailing space",
    );

    // Each pair of keys differing by a trailing space names two records.
    let pid = unique("pid");
    let mut acc_a = full_account(&a.id, "github");
    acc_a.provider_account_id = pid.clone();
    let mut acc_b = full_account(&b.id, "github");
    acc_b.provider_account_id = format!("{pid} ");
    adapter.link_account(acc_a.clone()).await.unwrap();
    adapter.link_account(acc_b.clone()).await.unwrap_or_else(|e| {
        panic!("link_account with provider_account_id {:?} failed with {e:?}; expected a second account", acc_b.provider_account_id)
    });
    let mut acc_c = full_account(&b.id, "github ");
    acc_c.provider_account_id = pid.clone();
    adapter
        .link_account(acc_c.clone())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "link_account with provider \"github \" failed with {e:?}; expected a third account"
            )
        });
    for (acc, owner) in [(&acc_a, &a), (&acc_b, &b), (&acc_c, &b)] {
        assert_eq!(
            adapter
                .get_user_by_account(&acc.provider, &acc.provider_account_id)
                .await
                .unwrap()
                .as_ref(),
            Some(owner),
            "owner of ({:?}, {:?})",
            acc.provider,
            acc.provider_account_id
        );
    }

    let token = unique("sess");
    let s_a = Session {
        session_token: token.clone(),
        ..session_of(&a.id, now_ms() + Duration::days(1))
    };
    let s_b = Session {
        session_token: format!("{token} "),
        ..session_of(&b.id, now_ms() + Duration::days(1))
    };
    adapter.create_session(s_a.clone()).await.unwrap();
    adapter
        .create_session(s_b.clone())
        .await
        .unwrap_or_else(|e| {
            panic!("create_session with a token that differs by a trailing space failed with {e:?}")
        });
    assert_eq!(
        adapter
            .get_session_and_user(&s_a.session_token)
            .await
            .unwrap(),
        Some((s_a, a.clone())),
        "the session without the trailing space"
    );
    assert_eq!(
        adapter
            .get_session_and_user(&s_b.session_token)
            .await
            .unwrap(),
        Some((s_b, b.clone())),
        "the session with the trailing space"
    );

    let t_a = token_of(&email, now_ms() + Duration::hours(1));
    let t_b = VerificationToken {
        token: format!("{} ", t_a.token),
        ..t_a.clone()
    };
    adapter
        .create_verification_token(t_a.clone())
        .await
        .unwrap();
    adapter
        .create_verification_token(t_b.clone())
        .await
        .unwrap_or_else(|e| {
            panic!("create_verification_token with a token that differs by a trailing space failed with {e:?}")
        });
    assert_eq!(
        adapter
            .use_verification_token(&t_b.identifier, &t_b.token)
            .await
            .unwrap(),
        Some(t_b),
        "use_verification_token with the trailing space"
    );
    assert_eq!(
        adapter
            .use_verification_token(&t_a.identifier, &t_a.token)
            .await
            .unwrap(),
        Some(t_a),
        "use_verification_token without the trailing space"
    );

    let cred_a = authenticator_of(&a.id);
    let cred_b = Authenticator {
        credential_id: format!("{} ", cred_a.credential_id),
        ..authenticator_of(&b.id)
    };
    adapter.create_authenticator(cred_a.clone()).await.unwrap();
    adapter
        .create_authenticator(cred_b.clone())
        .await
        .unwrap_or_else(|e| {
            panic!("create_authenticator with a credential id that differs by a trailing space failed with {e:?}")
        });
    assert_eq!(
        adapter
            .get_authenticator(&cred_b.credential_id)
            .await
            .unwrap(),
        Some(cred_b),
        "the credential id with the trailing space"
    );
    assert_eq!(
        adapter
            .list_authenticators_by_user_id(&padded_id)
            .await
            .unwrap(),
        vec![],
        "list_authenticators_by_user_id({padded_id:?})"
    );
    assert_eq!(
        adapter.list_authenticators_by_user_id(&a.id).await.unwrap(),
        vec![cred_a],
        "user a's authenticators"
    );
}

/// CONTRACT: an account unlinked from one user and linked to another belongs
/// to the new owner only: deleting the first user leaves it alone.
pub async fn account_relinked_to_another_user_survives_deleting_the_first(
    adapter: Arc<dyn Adapter>,
) {
    let a = user(&*adapter, "first-owner").await;
    let b = user(&*adapter, "second-owner").await;
    let first = account(&*adapter, &a.id, "github").await;
    let unlinked = adapter
        .unlink_account(&first.provider, &first.provider_account_id)
        .await
        .unwrap();
    assert_eq!(unlinked, Some(first.clone()), "unlink_account");
    let relinked = Account {
        user_id: b.id.clone(),
        ..full_account(&b.id, "github")
    };
    let relinked = Account {
        provider_account_id: first.provider_account_id.clone(),
        ..relinked
    };
    adapter.link_account(relinked.clone()).await.unwrap();

    assert!(
        adapter.delete_user(&a.id).await.unwrap().is_some(),
        "delete_user of the first owner"
    );
    assert_eq!(
        adapter
            .get_account(&first.provider, &first.provider_account_id)
            .await
            .unwrap(),
        Some(relinked),
        "the account now linked to the second user was removed (or changed) by deleting the first"
    );
    assert_eq!(
        adapter
            .get_user_by_account(&first.provider, &first.provider_account_id)
            .await
            .unwrap(),
        Some(b),
        "get_user_by_account must find the second owner after the first was deleted"
    );
}

/// CONTRACT: a session moved to another user with `update_session`, and a
/// session token deleted and then reused by another user, belong to the new
/// owner only: deleting the first user leaves them alone.
pub async fn session_moved_to_another_user_survives_deleting_the_first(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "first-owner").await;
    let b = user(&*adapter, "second-owner").await;
    let moved = session(&*adapter, &a.id).await;
    let moved = adapter
        .update_session(SessionUpdate {
            session_token: moved.session_token.clone(),
            expires: None,
            user_id: Some(b.id.clone()),
        })
        .await
        .unwrap()
        .expect("a live session is updated");
    assert_eq!(
        moved.user_id, b.id,
        "update_session must move the session to the second user"
    );

    let reused = session(&*adapter, &a.id).await;
    adapter.delete_session(&reused.session_token).await.unwrap();
    let reused = Session {
        user_id: b.id.clone(),
        ..reused
    };
    adapter.create_session(reused.clone()).await.unwrap();

    assert!(adapter.delete_user(&a.id).await.unwrap().is_some());
    assert_eq!(
        adapter
            .get_session_and_user(&moved.session_token)
            .await
            .unwrap(),
        Some((moved, b.clone())),
        "the session moved to the second user was removed by deleting the first"
    );
    assert_eq!(
        adapter
            .get_session_and_user(&reused.session_token)
            .await
            .unwrap(),
        Some((reused, b)),
        "the session token reused by the second user was removed by deleting the first"
    );
}

/// CONTRACT: a credential id freed by deleting its user can be registered by
/// another user, and then belongs to that user only.
pub async fn authenticator_recreated_for_another_user_belongs_to_it(adapter: Arc<dyn Adapter>) {
    let a = user(&*adapter, "first-owner").await;
    let first = authenticator(&*adapter, &a.id).await;
    assert!(adapter.delete_user(&a.id).await.unwrap().is_some());
    assert_eq!(
        adapter
            .get_authenticator(&first.credential_id)
            .await
            .unwrap(),
        None,
        "the deleted user's authenticator is still there"
    );

    let b = user(&*adapter, "second-owner").await;
    let again = Authenticator {
        user_id: b.id.clone(),
        counter: 0,
        ..first.clone()
    };
    let created = adapter.create_authenticator(again.clone()).await;
    assert!(
        matches!(&created, Ok(c) if *c == again),
        "create_authenticator reusing the credential id of a deleted user's passkey returned \
         {created:?}; expected it stored for the new user"
    );
    assert_eq!(
        adapter
            .get_authenticator(&first.credential_id)
            .await
            .unwrap(),
        Some(again.clone()),
        "get_authenticator must return the new owner's authenticator"
    );
    assert_eq!(
        adapter.list_authenticators_by_user_id(&a.id).await.unwrap(),
        vec![],
        "the deleted user still lists an authenticator"
    );
    assert_eq!(
        adapter.list_authenticators_by_user_id(&b.id).await.unwrap(),
        vec![again],
        "the new owner's authenticators"
    );
    assert_eq!(
        adapter.delete_user(&a.id).await.unwrap(),
        None,
        "expected `adapter.delete_user(&a.id).await.unwrap()` to equal `None`"
    );
}

/// CONTRACT: an email released by `update_user` or by `delete_user` can be
/// taken by another user, and then belongs to that user only: deleting or
/// updating the previous owner leaves it alone.
pub async fn email_released_by_update_or_delete_belongs_to_the_new_user(adapter: Arc<dyn Adapter>) {
    let first = format!("{}@example.com", unique("first"));
    let second = format!("{}@example.com", unique("second"));
    let with_email = |email: &str| NewUser {
        email: Some(email.to_owned()),
        ..NewUser::default()
    };

    // Released by update.
    let a = adapter.create_user(with_email(&first)).await.unwrap();
    let a = adapter
        .update_user(UserUpdate {
            email: Some(Some(second.clone())),
            ..UserUpdate::new(&a.id)
        })
        .await
        .unwrap();
    let b = adapter
        .create_user(with_email(&first))
        .await
        .unwrap_or_else(|e| {
            panic!("create_user with an email released by update_user failed with {e:?}")
        });
    assert!(adapter.delete_user(&a.id).await.unwrap().is_some());
    assert_eq!(
        adapter.get_user_by_email(&first).await.unwrap(),
        Some(b.clone()),
        "deleting the user who gave up {first:?} must not release it from its new owner"
    );
    assert_eq!(
        adapter.get_user_by_email(&second).await.unwrap(),
        None,
        "the deleted user's current email is still found"
    );
    assert_conflict(
        adapter.create_user(with_email(&first)).await,
        "create_user with an email its new owner holds",
    );

    // Released by delete.
    let third = format!("{}@example.com", unique("third"));
    let c = adapter.create_user(with_email(&third)).await.unwrap();
    assert!(adapter.delete_user(&c.id).await.unwrap().is_some());
    let d = adapter
        .create_user(with_email(&third))
        .await
        .unwrap_or_else(|e| {
            panic!("create_user with an email released by delete_user failed with {e:?}")
        });
    assert_eq!(
        adapter.delete_user(&c.id).await.unwrap(),
        None,
        "expected `adapter.delete_user(&c.id).await.unwrap()` to equal `None`"
    );
    assert_eq!(
        adapter.get_user_by_email(&third).await.unwrap(),
        Some(d.clone()),
        "the email's new owner"
    );
    // And the new owner can release it again.
    let d = adapter
        .update_user(UserUpdate {
            email: Some(None),
            ..UserUpdate::new(&d.id)
        })
        .await
        .unwrap();
    assert_eq!(d.email, None, "expected `d.email` to equal `None`");
    assert_eq!(
        adapter.get_user_by_email(&third).await.unwrap(),
        None,
        "expected `adapter.get_user_by_email(&third).await.unwrap()` to equal `None`"
    );
    let e = adapter.create_user(with_email(&third)).await.unwrap();
    assert_eq!(
        adapter.get_user_by_email(&third).await.unwrap(),
        Some(e),
        "the email's third owner"
    );
    assert_eq!(
        adapter.get_user(&b.id).await.unwrap(),
        Some(b),
        "expected `adapter.get_user(&b.id).await.unwrap()` to equal `Some(b)`"
    );
}

/// How many adapter instances [`migrated_instances_share_one_namespace`]
/// gets, each migrated at the same moment on one fresh namespace.
pub const CONCURRENT_MIGRATIONS: usize = 8;

/// CONTRACT: `migrate()` is safe from many processes at once: after
/// [`CONCURRENT_MIGRATIONS`] fresh instances migrated one fresh namespace at
/// the same time (each must have succeeded), they all work on the same data.
///
/// Run by `conformance_tests!(.., migrate = ..)` as
/// `concurrent_migrate_on_a_fresh_namespace_succeeds`.
pub async fn migrated_instances_share_one_namespace(adapters: Vec<Arc<dyn Adapter>>) {
    assert!(!adapters.is_empty(), "no adapter instances");
    let first = &adapters[0];
    let u = user(&**first, "shared").await;
    let s = session(&**first, &u.id).await;
    for (i, other) in adapters.iter().enumerate() {
        assert_eq!(
            other.get_user(&u.id).await.unwrap(),
            Some(u.clone()),
            "instance {i} does not see the user created through instance 0"
        );
        assert_eq!(
            other.get_session_and_user(&s.session_token).await.unwrap(),
            Some((s.clone(), u.clone())),
            "instance {i} does not see the session created through instance 0"
        );
    }
    let last = adapters.last().expect("at least one");
    let a = account(&**last, &u.id, "github").await;
    assert_eq!(
        first
            .get_user_by_account(&a.provider, &a.provider_account_id)
            .await
            .unwrap(),
        Some(u.clone()),
        "instance 0 does not see the account linked through the last instance"
    );
    assert!(last.delete_user(&u.id).await.unwrap().is_some());
    assert_eq!(
        first.get_session_and_user(&s.session_token).await.unwrap(),
        None,
        "expected `first.get_session_and_user(&s.session_token).await.unwrap()` to equal `None`"
    );
}
