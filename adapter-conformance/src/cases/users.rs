//! The cases on users: `create_user`, `get_user`, `get_user_by_email`, `update_user`, `delete_user` and its cascade.

use super::*;

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
        &[Key::Email],
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
    let winner = sole_winner("create_user with one email", &[Key::Email], tasks).await;
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
        assert_user_not_found(
            adapter.update_user(UserUpdate::new(*id)).await,
            &format!("update_user({id:?})"),
        );
        assert_user_not_found(
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
    assert_user_not_found(
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
    assert_conflict(result, &[Key::Email], "update_user to another user's email");
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
        &[Key::Email],
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
