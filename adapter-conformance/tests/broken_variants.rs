//! The suite tests itself: each deliberately broken variant of the reference
//! adapter is caught by the case that names the broken promise.

use std::future::Future;
use std::sync::Arc;

use adapter_conformance::cases;
use adapter_conformance::check_case;
use adapter_conformance::memory::{Fault, MemoryAdapter};
use auth_core::Adapter;

#[track_caller]
fn caught<C, F>(fault: Fault, case_name: &str, case: C)
where
    C: FnOnce(Arc<dyn Adapter>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let result = check_case(|| async move { MemoryAdapter::with_fault(fault) }, case);
    match result {
        Err(message) => eprintln!("{fault:?} caught by {case_name}: {message}"),
        Ok(()) => panic!("{case_name} passed on an adapter with {fault:?}"),
    }
}

#[test]
fn non_atomic_token_use_is_caught() {
    caught(
        Fault::NonAtomicTokenUse,
        "use_verification_token_is_atomic_under_concurrency",
        cases::use_verification_token_is_atomic_under_concurrency,
    );
}

#[test]
fn missing_cascade_is_caught() {
    caught(
        Fault::NoCascadeOnDelete,
        "delete_user_removes_accounts_sessions_and_authenticators",
        cases::delete_user_removes_accounts_sessions_and_authenticators,
    );
    caught(
        Fault::NoCascadeOnDelete,
        "delete_user_with_many_sessions_leaves_no_orphan",
        cases::delete_user_with_many_sessions_leaves_no_orphan,
    );
}

#[test]
fn serving_expired_sessions_is_caught() {
    caught(
        Fault::ServesExpiredSessions,
        "get_session_and_user_never_returns_an_expired_session",
        cases::get_session_and_user_never_returns_an_expired_session,
    );
}

#[test]
fn case_folded_email_lookup_is_caught() {
    caught(
        Fault::CaseFoldedEmailLookup,
        "get_user_by_email_is_exact",
        cases::get_user_by_email_is_exact,
    );
}

#[test]
fn non_atomic_email_claim_is_caught() {
    caught(
        Fault::NonAtomicEmailClaim,
        "concurrent_create_user_with_one_email_has_one_winner",
        cases::concurrent_create_user_with_one_email_has_one_winner,
    );
}

#[test]
fn ignoring_the_token_identifier_is_caught() {
    caught(
        Fault::IgnoresTokenIdentifier,
        "use_verification_token_needs_the_matching_identifier",
        cases::use_verification_token_needs_the_matching_identifier,
    );
}

#[test]
fn keeping_expired_tokens_is_caught() {
    caught(
        Fault::KeepsExpiredTokens,
        "use_verification_token_consumes_an_expired_token",
        cases::use_verification_token_consumes_an_expired_token,
    );
}

#[test]
fn missing_user_checks_are_caught() {
    caught(
        Fault::NoUserCheck,
        "create_session_for_missing_user_is_not_found",
        cases::create_session_for_missing_user_is_not_found,
    );
    caught(
        Fault::NoUserCheck,
        "link_account_for_missing_user_is_not_found",
        cases::link_account_for_missing_user_is_not_found,
    );
    caught(
        Fault::NoUserCheck,
        "create_authenticator_for_missing_user_is_not_found",
        cases::create_authenticator_for_missing_user_is_not_found,
    );
}

#[test]
fn second_precision_timestamps_are_caught() {
    caught(
        Fault::SecondPrecision,
        "timestamps_round_trip_to_the_millisecond_from_1970_to_9999",
        cases::timestamps_round_trip_to_the_millisecond_from_1970_to_9999,
    );
}

#[test]
fn updates_that_clear_unset_fields_are_caught() {
    caught(
        Fault::UpdateClearsUnsetFields,
        "update_user_changes_only_given_fields",
        cases::update_user_changes_only_given_fields,
    );
}

#[test]
fn stale_email_index_is_caught() {
    caught(
        Fault::StaleEmailIndex,
        "update_user_email_releases_the_old_address",
        cases::update_user_email_releases_the_old_address,
    );
}

#[test]
fn reviving_expired_sessions_is_caught() {
    caught(
        Fault::RevivesExpiredSessions,
        "update_session_of_an_expired_session_is_none_and_does_not_revive_it",
        cases::update_session_of_an_expired_session_is_none_and_does_not_revive_it,
    );
}

#[test]
fn raw_update_session_instants_are_caught() {
    caught(
        Fault::UpdateSessionKeepsRawInstant,
        "update_session_returns_a_utc_millisecond_expiry",
        cases::update_session_returns_a_utc_millisecond_expiry,
    );
}

#[test]
fn signed_counters_are_caught() {
    caught(
        Fault::SignedCounter,
        "authenticator_counter_round_trips_every_u32",
        cases::authenticator_counter_round_trips_every_u32,
    );
}

#[test]
fn oversized_values_failing_as_backend_errors_are_caught() {
    caught(
        Fault::OversizedValuesAreBackendErrors,
        "values_up_to_one_mib_are_stored_or_rejected_naming_the_field",
        cases::values_up_to_one_mib_are_stored_or_rejected_naming_the_field,
    );
}

#[test]
fn pad_space_keys_are_caught() {
    caught(
        Fault::PadSpaceKeys,
        "keys_are_byte_exact_with_trailing_spaces",
        cases::keys_are_byte_exact_with_trailing_spaces,
    );
}

#[test]
fn unlink_leaving_the_owner_index_is_caught() {
    caught(
        Fault::UnlinkKeepsOwnerIndex,
        "account_relinked_to_another_user_survives_deleting_the_first",
        cases::account_relinked_to_another_user_survives_deleting_the_first,
    );
}

#[test]
fn moved_session_left_in_the_owner_index_is_caught() {
    caught(
        Fault::MovedSessionKeepsOwnerIndex,
        "session_moved_to_another_user_survives_deleting_the_first",
        cases::session_moved_to_another_user_survives_deleting_the_first,
    );
}

#[test]
fn credential_ids_kept_after_delete_are_caught() {
    caught(
        Fault::DeleteKeepsCredentialIds,
        "authenticator_recreated_for_another_user_belongs_to_it",
        cases::authenticator_recreated_for_another_user_belongs_to_it,
    );
}

#[test]
fn delete_releasing_a_stale_email_is_caught() {
    caught(
        Fault::DeleteReleasesCreationEmail,
        "email_released_by_update_or_delete_belongs_to_the_new_user",
        cases::email_released_by_update_or_delete_belongs_to_the_new_user,
    );
}

#[test]
fn listing_other_users_accounts_is_caught() {
    caught(
        Fault::ListsOtherUsersAccounts,
        "list_accounts_by_user_id_returns_exactly_the_users_own",
        cases::list_accounts_by_user_id_returns_exactly_the_users_own,
    );
}

#[test]
fn listing_expired_sessions_is_caught() {
    caught(
        Fault::ListsExpiredSessions,
        "list_sessions_by_user_id_returns_the_users_live_sessions",
        cases::list_sessions_by_user_id_returns_the_users_live_sessions,
    );
}

#[test]
fn listing_through_a_stale_owner_index_is_caught() {
    caught(
        Fault::ListsThroughStaleOwnerIndex,
        "list_accounts_by_user_id_returns_exactly_the_users_own",
        cases::list_accounts_by_user_id_returns_exactly_the_users_own,
    );
    caught(
        Fault::ListsThroughStaleOwnerIndex,
        "list_sessions_by_user_id_returns_the_users_live_sessions",
        cases::list_sessions_by_user_id_returns_the_users_live_sessions,
    );
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
        Err(message) => eprintln!("RacyMigrate caught: {message}"),
        Ok(()) => {
            panic!("concurrent_migrate_on_a_fresh_namespace_succeeds passed with RacyMigrate")
        }
    }
}
