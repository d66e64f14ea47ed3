//! The conformance cases: one `pub async fn` per promise of the adapter
//! contract (the doc comments of [`auth_core::Adapter`]), each taking
//! a fresh adapter and panicking with a message that names what broke.
//!
//! They cover every promise the trait documents as checked by the suite and
//! every case of the official Auth.js adapter test suite (`createUser`,
//! `getUser`, `getUserByEmail`, `createSession`, `getSessionAndUser`,
//! `updateUser`, `updateSession`, `linkAccount`, `getUserByAccount`,
//! `deleteSession`, `createVerificationToken`, `useVerificationToken`,
//! `unlinkAccount`, `deleteUser`, `getAccount`, `createAuthenticator`,
//! `getAuthenticator`, `listAuthenticatorsByUserId`,
//! `updateAuthenticatorCounter`), in our words.
//!
//! The cases live in one file per entity (`users.rs`, `accounts.rs`,
//! `sessions.rs`, `verification_tokens.rs`, `authenticators.rs`) plus
//! `everywhere.rs` for the promises every method keeps; all are re-exported
//! here. [`for_each_case!`](crate::for_each_case) is the one list of cases:
//! [`conformance_tests!`](crate::conformance_tests) makes its tests from it,
//! [`ALL`] is built from it, and a unit test checks that every
//! `pub async fn` in these files is on it.
//!
//! Use [`conformance_tests!`](crate::conformance_tests) to run them all; the
//! functions are public so a harness of your own can call them one by one.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Result,
    Session, SessionUpdate, User, UserUpdate, VerificationToken,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

mod accounts;
mod authenticators;
mod everywhere;
mod sessions;
mod users;
mod verification_tokens;

pub use accounts::*;
pub use authenticators::*;
pub use everywhere::*;
pub use sessions::*;
pub use users::*;
pub use verification_tokens::*;

/// Calls `$callback!($($args)*; case, case, ...)` with the name of every case.
///
/// This is the single list of cases: [`conformance_tests!`](crate::conformance_tests)
/// makes one test per name, and [`cases::ALL`](crate::cases::ALL) is built
/// from it. It is public so other harness macros can use it too.
#[macro_export]
macro_rules! for_each_case {
    ($callback:path; $($args:tt)*) => {
        $callback! { $($args)*;
            // users (users.rs)
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
            email_released_by_update_or_delete_belongs_to_the_new_user,
            // accounts (accounts.rs)
            link_account_round_trips_every_field,
            link_account_with_only_required_fields,
            link_account_for_missing_user_is_not_found,
            link_account_twice_conflicts,
            concurrent_link_account_has_one_winner,
            get_user_by_account_finds_the_owner,
            get_account_needs_both_provider_and_id,
            unlink_account_returns_what_it_removed,
            list_accounts_by_user_id_returns_exactly_the_users_own,
            account_relinked_to_another_user_survives_deleting_the_first,
            // sessions (sessions.rs)
            create_session_and_get_it_with_its_user,
            create_session_for_missing_user_is_not_found,
            create_session_with_taken_token_conflicts,
            get_session_and_user_of_unknown_token_is_none,
            get_session_and_user_never_returns_an_expired_session,
            update_session_extends_expiry,
            update_session_moves_it_to_another_user,
            update_session_to_missing_user_is_not_found,
            update_session_of_unknown_token_is_none,
            update_session_of_unknown_token_with_a_new_owner_is_none,
            delete_session_returns_what_it_removed,
            list_sessions_by_user_id_returns_the_users_live_sessions,
            update_session_of_an_expired_session_is_none_and_does_not_revive_it,
            update_session_returns_a_utc_millisecond_expiry,
            session_moved_to_another_user_survives_deleting_the_first,
            // verification tokens (verification_tokens.rs)
            create_verification_token_and_use_it,
            create_verification_token_twice_conflicts,
            use_verification_token_is_single_use,
            use_verification_token_needs_the_matching_identifier,
            use_verification_token_consumes_an_expired_token,
            an_expired_verification_token_conflicts_at_most_until_used_or_purged,
            use_verification_token_is_atomic_under_concurrency,
            // authenticators (authenticators.rs)
            create_authenticator_and_get_it,
            create_authenticator_for_missing_user_is_not_found,
            create_authenticator_with_taken_credential_id_conflicts,
            get_authenticator_of_unknown_id_is_none,
            list_authenticators_by_user_id_returns_exactly_the_users_own,
            update_authenticator_counter_persists,
            update_authenticator_counter_of_unknown_id_is_not_found,
            authenticator_counter_round_trips_every_u32,
            authenticator_recreated_for_another_user_belongs_to_it,
            // everywhere (everywhere.rs)
            timestamps_round_trip_to_the_millisecond_from_1970_to_9999,
            timestamps_drop_digits_finer_than_a_millisecond,
            strings_round_trip_byte_for_byte,
            lookups_do_not_match_patterns_or_fold_case,
            unstorable_values_are_invalid_input_and_change_nothing,
            purge_expired_removes_only_expired_records,
            errors_and_debug_never_show_secrets,
            concurrent_calls_on_one_adapter_do_not_interfere,
            values_up_to_one_mib_are_stored_or_rejected_naming_the_field,
            keys_are_byte_exact_with_trailing_spaces,
        }
    };
}

/// A case as a plain function pointer: what [`ALL`] lists.
pub type Case = fn(Arc<dyn Adapter>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

#[doc(hidden)]
#[macro_export]
macro_rules! __case_table {
    (; $($case:ident),* $(,)?) => {
        /// Every case, by name, in the order of
        /// [`for_each_case!`](crate::for_each_case).
        pub const ALL: &[(&str, Case)] = &[
            $((stringify!($case), |adapter| Box::pin($case(adapter))),)*
        ];
    };
}

for_each_case!(crate::__case_table;);

/// The `pub async fn`s in this module that are not cases of their own:
/// [`migrated_instances_share_one_namespace`] runs inside
/// `concurrent_migrate_on_a_fresh_namespace_succeeds`.
pub const NOT_CASES: &[&str] = &["migrated_instances_share_one_namespace"];

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

/// Whether `error` is the `Conflict` on one of `keys`, naming the key's
/// entity. `Err` says what is wrong with it.
fn check_conflict(error: &AdapterError, keys: &[Key]) -> std::result::Result<(), String> {
    match error {
        AdapterError::Conflict { entity, key } if keys.contains(key) => {
            if *entity == key.entity() {
                Ok(())
            } else {
                Err(format!(
                    "Conflict on {key:?} names entity {entity:?}, expected {:?}",
                    key.entity()
                ))
            }
        }
        AdapterError::Conflict { entity, key } => Err(format!(
            "Conflict names {entity:?}/{key:?}, expected the key to be one of {keys:?}"
        )),
        other => Err(format!(
            "expected Err(Conflict on one of {keys:?}), got Err({other:?})"
        )),
    }
}

/// `result` must be the `Conflict` on one of `keys` (more than one only where
/// the contract allows either, as `Key::Token` or `Key::IdentifierAndToken`
/// for verification tokens).
#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(result: Result<T>, keys: &[Key], what: &str) {
    match result {
        Err(e) => {
            if let Err(why) = check_conflict(&e, keys) {
                panic!("{what}: {why}");
            }
        }
        Ok(value) => panic!("{what}: expected Err(Conflict on one of {keys:?}), got Ok({value:?})"),
    }
}

/// The keys a verification token conflict may name: the contract allows a
/// schema that makes `token` unique alone (as the Auth.js SQL schemas do).
const TOKEN_KEYS: &[Key] = &[Key::IdentifierAndToken, Key::Token];

/// `result` must be `NotFound` naming `entity`.
#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T>, entity: Entity, what: &str) {
    match result {
        Err(AdapterError::NotFound { entity: named, .. }) if named == entity => {}
        Err(AdapterError::NotFound {
            entity: named,
            detail,
        }) => panic!(
            "{what}: expected Err(NotFound) naming {entity:?}, got one naming {named:?} ({detail})"
        ),
        other => panic!("{what}: expected Err(NotFound) naming {entity:?}, got {other:?}"),
    }
}

/// `result` must be the `NotFound` of a missing user
/// ([`AdapterError::user_not_found`]).
#[track_caller]
fn assert_user_not_found<T: std::fmt::Debug>(result: Result<T>, what: &str) {
    assert_not_found(result, Entity::User, what)
}

/// Awaits racing calls that create one unique thing: exactly one may
/// succeed, every other must fail with `Conflict` on one of `keys`. Returns
/// the winner.
async fn sole_winner<T: std::fmt::Debug>(
    what: &str,
    keys: &[Key],
    tasks: Vec<tokio::task::JoinHandle<Result<T>>>,
) -> T {
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(created) => winners.push(created),
            Err(e) => {
                if let Err(why) = check_conflict(&e, keys) {
                    panic!("a racing {what} failed: {why}");
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The source of every case file, to find its `pub async fn`s.
    const SOURCES: &[(&str, &str)] = &[
        ("mod.rs", include_str!("mod.rs")),
        ("users.rs", include_str!("users.rs")),
        ("accounts.rs", include_str!("accounts.rs")),
        ("sessions.rs", include_str!("sessions.rs")),
        (
            "verification_tokens.rs",
            include_str!("verification_tokens.rs"),
        ),
        ("authenticators.rs", include_str!("authenticators.rs")),
        ("everywhere.rs", include_str!("everywhere.rs")),
    ];

    #[test]
    fn every_pub_async_fn_is_a_listed_case() {
        let mut defined = BTreeSet::new();
        for (file, source) in SOURCES {
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub async fn ") {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    assert!(
                        defined.insert(name.clone()),
                        "{name} is defined twice ({file})"
                    );
                }
            }
        }
        for name in NOT_CASES {
            assert!(
                defined.remove(*name),
                "NOT_CASES names {name}, which is not defined"
            );
        }
        let listed: BTreeSet<String> = ALL.iter().map(|(name, _)| (*name).to_owned()).collect();
        assert_eq!(
            listed.len(),
            ALL.len(),
            "a case is listed twice in for_each_case!"
        );
        let unlisted: Vec<_> = defined.difference(&listed).collect();
        assert!(
            unlisted.is_empty(),
            "cases missing from for_each_case! (adapters would never run them): {unlisted:?}"
        );
        assert_eq!(defined, listed);
    }
}
