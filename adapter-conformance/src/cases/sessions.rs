//! The cases on sessions: `create_session`, `get_session_and_user`, `update_session`, `delete_session`, `list_sessions_by_user_id`.

use super::*;

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
    assert_user_not_found(
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
        &[Key::SessionToken],
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
    assert_user_not_found(result, "update_session to a missing user");
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

/// CONTRACT: `update_session` of an unknown token that names a new owner is
/// `Ok(None)` and creates nothing: an existing owner gets no session, and
/// the unknown token stays unknown. When the new owner does not exist
/// either, the call may report that (`NotFound` naming the user) or return
/// `Ok(None)`; it creates nothing either way.
pub async fn update_session_of_unknown_token_with_a_new_owner_is_none(adapter: Arc<dyn Adapter>) {
    let owner = user(&*adapter, "new-owner").await;
    let token = unique("never-created");
    let got = adapter
        .update_session(SessionUpdate {
            session_token: token.clone(),
            expires: None,
            user_id: Some(owner.id.clone()),
        })
        .await
        .unwrap_or_else(|e| {
            panic!("update_session of an unknown token with an existing new owner: {e}")
        });
    assert_eq!(
        got, None,
        "update_session of an unknown token with an existing new owner"
    );
    assert_eq!(
        sessions_of(&*adapter, &owner.id).await,
        Vec::new(),
        "update_session of an unknown token gave the new owner a session"
    );

    let gone = user(&*adapter, "gone-owner").await;
    adapter.delete_user(&gone.id).await.unwrap();
    match adapter
        .update_session(SessionUpdate {
            session_token: token.clone(),
            expires: Some(now_ms() + Duration::days(1)),
            user_id: Some(gone.id.clone()),
        })
        .await
    {
        Ok(None)
        | Err(AdapterError::NotFound {
            entity: Entity::User,
            ..
        }) => {}
        other => panic!(
            "update_session of an unknown token with a missing new owner: expected Ok(None) \
             or Err(NotFound) naming the user, got {other:?}"
        ),
    }
    assert_eq!(
        adapter.get_session_and_user(&token).await.unwrap(),
        None,
        "update_session of an unknown token created a session"
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
