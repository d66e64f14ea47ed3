//! `auth_core::SessionPolicy::resolve` on a real adapter: the sliding expiry
//! Auth.js applies on each request.

use adapter_conformance::memory::MemoryAdapter;
use auth_core::{Adapter, NewUser, SessionPolicy};
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn resolve_slides_the_expiry_only_when_due() {
    let adapter = MemoryAdapter::new();
    let policy = SessionPolicy::default();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let start = OffsetDateTime::now_utc();
    let session = adapter
        .create_session(policy.new_session(&user.id, start).unwrap())
        .await
        .unwrap();

    // An hour later: not due, nothing written.
    let (same, owner) = policy
        .resolve(&adapter, &session.session_token, start + Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (same.expires, owner.id.as_str()),
        (session.expires, user.id.as_str())
    );

    // Two days later: due, the expiry moves to that moment + 30 days and is stored.
    let later = start + Duration::days(2);
    let (slid, _) = policy
        .resolve(&adapter, &session.session_token, later)
        .await
        .unwrap()
        .unwrap();
    let want = later + Duration::days(30);
    assert!(
        (slid.expires - want).abs() < Duration::milliseconds(1),
        "{} vs {want}",
        slid.expires
    );
    let (stored, _) = adapter
        .get_session_and_user(&session.session_token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.expires, slid.expires);

    // Unknown and deleted tokens resolve to nothing.
    adapter
        .delete_session(&session.session_token)
        .await
        .unwrap();
    assert!(
        policy
            .resolve(&adapter, &session.session_token, later)
            .await
            .unwrap()
            .is_none()
    );
}
