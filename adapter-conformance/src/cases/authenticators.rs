//! The cases on authenticators: `create_authenticator`, `get_authenticator`, `list_authenticators_by_user_id`, `update_authenticator_counter`.

use super::*;

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
    assert_user_not_found(
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
        &[Key::CredentialId],
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
        Entity::Authenticator,
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
