//! The suite tests itself: each deliberately broken variant of the reference
//! adapter is caught by the case that names the broken promise, for the
//! right reason (the failure message says what broke; a hang or a timeout
//! does not count as a catch).

use std::future::Future;
use std::sync::Arc;

use adapter_conformance::cases;
use adapter_conformance::check_case;
use adapter_conformance::memory::{Fault, MemoryAdapter};
use auth_core::Adapter;

/// Failure messages that mean the case did not catch anything: it ran out
/// of time or never ran.
const NOT_A_CATCH: &[&str] = &[
    "did not finish within",
    "did not return an adapter within",
    "the case was cancelled",
    "cannot build a Tokio runtime",
];

/// Runs `case` on the reference adapter with `fault` and checks that it
/// fails with a message containing `why`.
#[track_caller]
fn expect_caught<C, F>(fault: Fault, case_name: &str, case: C, why: &str)
where
    C: FnOnce(Arc<dyn Adapter>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let result = check_case(|| async move { MemoryAdapter::with_fault(fault) }, case);
    let message = match result {
        Err(message) => message,
        Ok(()) => panic!("{case_name} passed on an adapter with {fault:?}"),
    };
    eprintln!("{fault:?} caught by {case_name}: {message}");
    for not_a_catch in NOT_A_CATCH {
        assert!(
            !message.contains(not_a_catch),
            "{case_name} did not catch {fault:?}, it failed to run: {message}"
        );
    }
    assert!(
        message.contains(why),
        "{case_name} failed on {fault:?}, but not because of it: expected a message \
         containing {why:?}, got: {message}"
    );
}

/// `caught!(test_name: Fault => case_fn because "part of the message", ...)`
/// makes a test that runs each named case function on the reference adapter
/// with `Fault` and checks that it fails, for the reason given.
macro_rules! caught {
    ($($test:ident: $fault:ident => $($case:ident because $why:literal),+ ;)+) => {
        $(
            #[test]
            fn $test() {
                $(
                    expect_caught(Fault::$fault, stringify!($case), cases::$case, $why);
                )+
            }
        )+
    };
}

caught! {
    non_atomic_token_use_is_caught: NonAtomicTokenUse =>
        use_verification_token_is_atomic_under_concurrency
            because "concurrent uses got the token";
    missing_cascade_is_caught: NoCascadeOnDelete =>
        delete_user_removes_accounts_sessions_and_authenticators
            because "a session of the deleted user survived",
        delete_user_with_many_sessions_leaves_no_orphan because "orphan session left";
    serving_expired_sessions_is_caught: ServesExpiredSessions =>
        get_session_and_user_never_returns_an_expired_session
            because "a session that expired at";
    case_folded_email_lookup_is_caught: CaseFoldedEmailLookup =>
        get_user_by_email_is_exact because "matched Some(";
    non_atomic_email_claim_is_caught: NonAtomicEmailClaim =>
        concurrent_create_user_with_one_email_has_one_winner
            because "racing create_user with one email calls succeeded";
    ignoring_the_token_identifier_is_caught: IgnoresTokenIdentifier =>
        use_verification_token_needs_the_matching_identifier
            because "token used with identifier";
    keeping_expired_tokens_is_caught: KeepsExpiredTokens =>
        use_verification_token_consumes_an_expired_token
            because "the expired token must have been consumed";
    missing_user_checks_are_caught: NoUserCheck =>
        create_session_for_missing_user_is_not_found
            because "expected Err(NotFound) naming User, got Ok(",
        link_account_for_missing_user_is_not_found
            because "expected Err(NotFound) naming User, got Ok(",
        create_authenticator_for_missing_user_is_not_found
            because "expected Err(NotFound) naming User, got Ok(";
    second_precision_timestamps_are_caught: SecondPrecision =>
        timestamps_round_trip_to_the_millisecond_from_1970_to_9999
            because "1970-01-01 0:00:00.001";
    updates_that_clear_unset_fields_are_caught: UpdateClearsUnsetFields =>
        update_user_changes_only_given_fields because "update_user changed more than the name";
    stale_email_index_is_caught: StaleEmailIndex =>
        update_user_email_releases_the_old_address because "the old address must be free again";
    reviving_expired_sessions_is_caught: RevivesExpiredSessions =>
        update_session_of_an_expired_session_is_none_and_does_not_revive_it
            because "expected Ok(None): an expired session cannot be updated";
    raw_update_session_instants_are_caught: UpdateSessionKeepsRawInstant =>
        update_session_returns_a_utc_millisecond_expiry because "(UTC, to the millisecond)";
    signed_counters_are_caught: SignedCounter =>
        authenticator_counter_round_trips_every_u32
            because "create_authenticator with counter u32::MAX";
    oversized_values_failing_as_backend_errors_are_caught: OversizedValuesAreBackendErrors =>
        values_up_to_one_mib_are_stored_or_rejected_naming_the_field
            because "expected it stored and read back byte for byte, or Err(InvalidInput)";
    pad_space_keys_are_caught: PadSpaceKeys =>
        keys_are_byte_exact_with_trailing_spaces because "differ by a trailing space";
    unlink_leaving_the_owner_index_is_caught: UnlinkKeepsOwnerIndex =>
        account_relinked_to_another_user_survives_deleting_the_first
            because "the account now linked to the second user was removed";
    moved_session_left_in_the_owner_index_is_caught: MovedSessionKeepsOwnerIndex =>
        session_moved_to_another_user_survives_deleting_the_first
            because "the session moved to the second user was removed by deleting the first";
    credential_ids_kept_after_delete_are_caught: DeleteKeepsCredentialIds =>
        authenticator_recreated_for_another_user_belongs_to_it
            because "the deleted user's authenticator is still there";
    delete_releasing_a_stale_email_is_caught: DeleteReleasesCreationEmail =>
        email_released_by_update_or_delete_belongs_to_the_new_user
            because "must not release it from its new owner";
    listing_other_users_accounts_is_caught: ListsOtherUsersAccounts =>
        list_accounts_by_user_id_returns_exactly_the_users_own
            because "expected user A's two accounts";
    listing_expired_sessions_is_caught: ListsExpiredSessions =>
        list_sessions_by_user_id_returns_the_users_live_sessions
            because "expected user A's two live sessions only";
    listing_through_a_stale_owner_index_is_caught: ListsThroughStaleOwnerIndex =>
        list_accounts_by_user_id_returns_exactly_the_users_own
            because "relinked to user B to be gone",
        list_sessions_by_user_id_returns_the_users_live_sessions
            because "moved to user B to be gone";
    errors_quoting_the_row_are_caught: ConflictQuotesTheRow =>
        errors_and_debug_never_show_secrets
            because "create_session with a taken token shows a secret value";
    conflicts_naming_the_wrong_key_are_caught: ConflictNamesTheWrongKey =>
        link_account_twice_conflicts because "expected the key to be one of [ProviderAccountId]";
    purges_that_report_nothing_are_caught: PurgeReportsNothing =>
        purge_expired_removes_only_expired_records
            because "purge_expired removed 0 records; 6 expired ones were stored";
}

#[test]
fn racy_migrate_is_caught() {
    let result = adapter_conformance::check_concurrent_migrate(
        |namespace: String| async move {
            let adapter = MemoryAdapter::open_with(&namespace, Some(Fault::RacyMigrate));
            adapter.migrate().await.map(|()| adapter)
        },
        |adapter: MemoryAdapter| async move { adapter.drop_namespace() },
    );
    match result {
        Err(message) => {
            eprintln!("RacyMigrate caught: {message}");
            assert!(
                message.contains("must be safe from many processes at once"),
                "concurrent_migrate_on_a_fresh_namespace_succeeds failed on RacyMigrate, \
                 but not because of it: {message}"
            );
        }
        Ok(()) => {
            panic!("concurrent_migrate_on_a_fresh_namespace_succeeds passed with RacyMigrate")
        }
    }
}
