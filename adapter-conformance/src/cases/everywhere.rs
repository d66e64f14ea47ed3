//! The cases on every method: value ranges, exact keys, invalid input, purging, concurrency, migration.

use super::*;

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
            .unwrap_or_else(|e| panic!("update_user with email_verified {at}: {e}"));
        let read = adapter
            .get_user(&u.id)
            .await
            .unwrap_or_else(|e| panic!("get_user after email_verified {at}: {e}"))
            .unwrap_or_else(|| panic!("get_user after email_verified {at}: the user is gone"));
        for (what, got) in [
            ("update_user", updated.email_verified),
            ("get_user", read.email_verified),
        ] {
            let got = got.unwrap_or_else(|| panic!("{what}: email_verified {at} was lost"));
            assert_eq!(got, want, "{what}: email_verified {at}");
            assert!(
                got.offset().is_utc(),
                "{what}: email_verified {at} came back as {got}, not in UTC"
            );
        }
        let created = adapter
            .create_user(NewUser {
                email_verified: Some(at),
                ..NewUser::default()
            })
            .await
            .unwrap_or_else(|e| panic!("create_user with email_verified {at}: {e}"));
        assert_eq!(
            created.email_verified,
            Some(want),
            "create_user: email_verified {at}"
        );
        let read = adapter
            .get_user(&created.id)
            .await
            .unwrap_or_else(|e| panic!("get_user after create_user with {at}: {e}"))
            .unwrap_or_else(|| panic!("get_user after create_user with {at}: no user"));
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
        adapter
            .create_session(s.clone())
            .await
            .unwrap_or_else(|e| panic!("create_session expiring {at}: {e}"));
        let (got, _) = adapter
            .get_session_and_user(&s.session_token)
            .await
            .unwrap_or_else(|e| panic!("get_session_and_user of a session expiring {at}: {e}"))
            .unwrap_or_else(|| panic!("the session expiring {at} was not found"));
        assert_eq!(got.expires, want, "session expiry {at}");
        assert!(
            got.expires.offset().is_utc(),
            "session expiry {at} came back as {}, not in UTC",
            got.expires
        );
        let t = token_of("times@example.com", at);
        adapter
            .create_verification_token(t.clone())
            .await
            .unwrap_or_else(|e| panic!("create_verification_token expiring {at}: {e}"));
        let used = adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap_or_else(|e| panic!("use_verification_token of a token expiring {at}: {e}"))
            .unwrap_or_else(|| panic!("the verification token expiring {at} was not found"));
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
            "create_user returned another name for {s:?}"
        );
        let read = adapter
            .get_user_by_email(&email)
            .await
            .unwrap_or_else(|e| panic!("get_user_by_email({email:?}): {e}"));
        assert_eq!(read, Some(u.clone()), "user with {s:?}");

        let mut a = full_account(&u.id, &format!("prov {key}"));
        a.provider_account_id = format!("{key}#{i}");
        a.access_token = Some(s.clone());
        a.id_token = Some(format!("{s}{long}"));
        a.scope = Some(s.clone());
        adapter
            .link_account(a.clone())
            .await
            .unwrap_or_else(|e| panic!("link_account with {s:?}: {e}"));
        let read = adapter
            .get_account(&a.provider, &a.provider_account_id)
            .await
            .unwrap_or_else(|e| panic!("get_account of the account with {s:?}: {e}"));
        assert_eq!(read, Some(a.clone()), "account with {s:?}");
        let owner = adapter
            .get_user_by_account(&a.provider, &a.provider_account_id)
            .await
            .unwrap_or_else(|e| panic!("get_user_by_account of the account with {s:?}: {e}"));
        assert_eq!(
            owner,
            Some(u.clone()),
            "get_user_by_account of provider {:?}, id {:?}",
            a.provider,
            a.provider_account_id
        );

        let sess = Session {
            session_token: format!("{key}{i}"),
            ..session_of(&u.id, now_ms() + Duration::days(1))
        };
        adapter
            .create_session(sess.clone())
            .await
            .unwrap_or_else(|e| panic!("create_session with token from {s:?}: {e}"));
        let got = adapter
            .get_session_and_user(&sess.session_token)
            .await
            .unwrap_or_else(|e| panic!("get_session_and_user with token from {s:?}: {e}"));
        assert_eq!(got, Some((sess, u.clone())), "session token {s:?}");

        let t = VerificationToken {
            identifier: email.clone(),
            token: format!("{key}{i}"),
            expires: now_ms() + Duration::hours(1),
        };
        adapter
            .create_verification_token(t.clone())
            .await
            .unwrap_or_else(|e| panic!("create_verification_token from {s:?}: {e}"));
        let used = adapter
            .use_verification_token(&t.identifier, &t.token)
            .await
            .unwrap_or_else(|e| panic!("use_verification_token from {s:?}: {e}"));
        assert_eq!(used, Some(t), "verification token {s:?}");

        let auth = Authenticator {
            credential_id: format!("{key}{i}"),
            credential_public_key: format!("{s}{long}"),
            transports: Some(s.clone()),
            ..authenticator_of(&u.id)
        };
        adapter
            .create_authenticator(auth.clone())
            .await
            .unwrap_or_else(|e| panic!("create_authenticator with {s:?}: {e}"));
        let read = adapter
            .get_authenticator(&auth.credential_id)
            .await
            .unwrap_or_else(|e| panic!("get_authenticator of the one with {s:?}: {e}"));
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
    let before = adapter
        .get_user(&u.id)
        .await
        .unwrap()
        .expect("the user before the update");
    let result = adapter
        .update_user(UserUpdate {
            email_verified: Some(Some(old)),
            ..UserUpdate::new(&u.id)
        })
        .await;
    let after = adapter
        .get_user(&u.id)
        .await
        .unwrap()
        .expect("the user after the update");
    match result {
        Ok(updated) => {
            assert_eq!(
                updated.email_verified,
                Some(old),
                "an instant before 1970 changed"
            );
            assert_eq!(
                after, updated,
                "update_user stored something else than it returned"
            );
        }
        Err(AdapterError::InvalidInput { .. }) => assert_eq!(
            after, before,
            "update_user with an instant before 1970 was rejected, but the user changed"
        ),
        Err(e) => panic!("an instant before 1970: expected Ok or InvalidInput, got {e:?}"),
    }
}

/// A distinctive secret value: `tag`, then 32 random hex digits.
fn secret(tag: &str) -> String {
    format!("{}{tag}", uuid::Uuid::new_v4().simple())
}

/// Panics if `text` shows any of `secrets` (whole, or its first 12
/// characters, which are random).
#[track_caller]
fn assert_hides(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !text.contains(&secret[..12]),
            "{what} shows a secret value: {text}"
        );
    }
}

/// Panics if the `Display` or `Debug` of `error`, or of any error in its
/// `source()` chain, shows any of `secrets`.
#[track_caller]
fn assert_error_hides(what: &str, error: &AdapterError, secrets: &[&str]) {
    assert_hides(what, &format!("{error} {error:?}"), secrets);
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        assert_hides(what, &format!("{inner} {inner:?}"), secrets);
        source = inner.source();
    }
}

/// When `result` is an error, it must not show `secrets`; when it is a
/// value, its `Debug` must not either.
#[track_caller]
fn assert_result_hides<T: std::fmt::Debug>(what: &str, result: &Result<T>, secrets: &[&str]) {
    match result {
        Ok(value) => assert_hides(what, &format!("{value:?}"), secrets),
        Err(e) => assert_error_hides(what, e, secrets),
    }
}

/// CONTRACT: secrets never show in `Debug` or in errors: the `Debug` of
/// every model that holds a token (sessions, session updates, accounts,
/// verification tokens, as given and as returned) and the `Display` and
/// `Debug` of the errors of failing calls on them (conflicts, missing
/// users, unstorable values), with their whole `source()` chain, never
/// contain a session token, a verification token or an OAuth token.
pub async fn errors_and_debug_never_show_secrets(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "secrets").await;
    let gone = user(&*adapter, "secrets-gone").await;
    adapter.delete_user(&gone.id).await.unwrap();

    // Sessions.
    let session_token = secret("sess");
    let s = Session {
        session_token: session_token.clone(),
        ..session_of(&u.id, now_ms() + Duration::days(1))
    };
    let secrets = [session_token.as_str()];
    assert_hides("Debug of a Session", &format!("{s:?}"), &secrets);
    let created = adapter.create_session(s.clone()).await;
    assert_result_hides("create_session", &created, &secrets);
    created.unwrap_or_else(|e| panic!("create_session: {e}"));
    let read = adapter.get_session_and_user(&session_token).await;
    assert_result_hides("get_session_and_user", &read, &secrets);
    let update = SessionUpdate {
        session_token: session_token.clone(),
        expires: None,
        user_id: Some(gone.id.clone()),
    };
    assert_hides("Debug of a SessionUpdate", &format!("{update:?}"), &secrets);
    let moved = adapter.update_session(update).await;
    assert!(
        moved.is_err(),
        "update_session to a deleted user: {moved:?}"
    );
    assert_result_hides("update_session to a deleted user", &moved, &secrets);
    let again = adapter.create_session(s.clone()).await;
    assert!(
        again.is_err(),
        "create_session with a taken token succeeded"
    );
    assert_result_hides("create_session with a taken token", &again, &secrets);
    let orphan_token = secret("orphan");
    let orphan = adapter
        .create_session(Session {
            session_token: orphan_token.clone(),
            ..session_of(&gone.id, now_ms() + Duration::days(1))
        })
        .await;
    assert!(
        orphan.is_err(),
        "create_session for a deleted user succeeded"
    );
    assert_result_hides(
        "create_session for a deleted user",
        &orphan,
        &[orphan_token.as_str()],
    );
    let nul_token = format!("{}\0", secret("nul"));
    let nul = adapter
        .create_session(Session {
            session_token: nul_token.clone(),
            ..session_of(&u.id, now_ms() + Duration::days(1))
        })
        .await;
    assert_result_hides(
        "create_session with a NUL byte",
        &nul,
        &[nul_token.as_str()],
    );
    let deleted = adapter.delete_session(&session_token).await;
    assert_result_hides("delete_session", &deleted, &secrets);

    // Accounts.
    let tokens = [
        secret("access"),
        secret("refresh"),
        secret("id"),
        secret("state"),
    ];
    let account = Account {
        access_token: Some(tokens[0].clone()),
        refresh_token: Some(tokens[1].clone()),
        id_token: Some(tokens[2].clone()),
        session_state: Some(tokens[3].clone()),
        ..full_account(&u.id, "github")
    };
    let secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();
    assert_hides("Debug of an Account", &format!("{account:?}"), &secrets);
    let linked = adapter.link_account(account.clone()).await;
    assert_result_hides("link_account", &linked, &secrets);
    linked.unwrap_or_else(|e| panic!("link_account: {e}"));
    let read = adapter
        .get_account(&account.provider, &account.provider_account_id)
        .await;
    assert_result_hides("get_account", &read, &secrets);
    let twice = adapter.link_account(account.clone()).await;
    assert!(
        twice.is_err(),
        "link_account of a taken provider account succeeded"
    );
    assert_result_hides("link_account of a taken provider account", &twice, &secrets);
    let orphan = adapter
        .link_account(Account {
            user_id: gone.id.clone(),
            provider_account_id: unique("pid"),
            ..account.clone()
        })
        .await;
    assert!(orphan.is_err(), "link_account for a deleted user succeeded");
    assert_result_hides("link_account for a deleted user", &orphan, &secrets);
    let nul_access = format!("{}\0", secret("nul-access"));
    let nul = adapter
        .link_account(Account {
            provider_account_id: unique("pid"),
            access_token: Some(nul_access.clone()),
            ..account.clone()
        })
        .await;
    assert_result_hides(
        "link_account with a NUL byte",
        &nul,
        &[nul_access.as_str(), tokens[1].as_str()],
    );
    let unlinked = adapter
        .unlink_account(&account.provider, &account.provider_account_id)
        .await;
    assert_result_hides("unlink_account", &unlinked, &secrets);

    // Verification tokens.
    let token = VerificationToken {
        token: secret("vt"),
        ..token_of("secrets@example.com", now_ms() + Duration::hours(1))
    };
    let secrets = [token.token.as_str()];
    assert_hides(
        "Debug of a VerificationToken",
        &format!("{token:?}"),
        &secrets,
    );
    let created = adapter.create_verification_token(token.clone()).await;
    assert_result_hides("create_verification_token", &created, &secrets);
    created.unwrap_or_else(|e| panic!("create_verification_token: {e}"));
    let twice = adapter.create_verification_token(token.clone()).await;
    assert!(twice.is_err(), "a duplicate verification token was created");
    assert_result_hides("create_verification_token twice", &twice, &secrets);
    let nul_token = format!("{}\0", secret("nul-vt"));
    let nul = adapter
        .create_verification_token(VerificationToken {
            token: nul_token.clone(),
            ..token.clone()
        })
        .await;
    assert_result_hides(
        "create_verification_token with a NUL byte",
        &nul,
        &[nul_token.as_str()],
    );
    let used = adapter
        .use_verification_token(&token.identifier, &token.token)
        .await;
    assert_result_hides("use_verification_token", &used, &secrets);
}

/// CONTRACT: `purge_expired` removes expired sessions and tokens, keeps live
/// ones, and returns how many it removed: every expired record still stored,
/// so 0 on backends that never keep an expired record (they expire records
/// by themselves). Which kind of backend it is, the case finds out first:
/// an expired verification token that can be created twice was not kept.
pub async fn purge_expired_removes_only_expired_records(adapter: Arc<dyn Adapter>) {
    let u = user(&*adapter, "purge").await;
    let past = now_ms() - Duration::minutes(5);
    let probe = token_of("purge-probe@example.com", past);
    adapter
        .create_verification_token(probe.clone())
        .await
        .unwrap_or_else(|e| panic!("create_verification_token of an expired token: {e}"));
    let keeps_expired = match adapter.create_verification_token(probe.clone()).await {
        Ok(_) => false,
        Err(e) => {
            if let Err(why) = check_conflict(&e, TOKEN_KEYS) {
                panic!("creating an expired verification token again: {why}");
            }
            true
        }
    };
    let mut expired_sessions = Vec::new();
    for _ in 0..3 {
        let s = session_of(&u.id, past);
        adapter.create_session(s.clone()).await.unwrap();
        expired_sessions.push(s);
    }
    let mut expired_tokens = vec![probe];
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
    let stored_expired = expired_sessions.len() + expired_tokens.len();
    if keeps_expired {
        assert_eq!(
            purged, stored_expired as u64,
            "purge_expired removed {purged} records; {stored_expired} expired ones were stored \
             (an expired token conflicted with its twin, so this backend keeps expired records \
             until they are purged)"
        );
    } else {
        assert_eq!(
            purged, 0,
            "purge_expired reported {purged} records; this backend keeps no expired record (an \
             expired token could be created twice), so there was nothing to remove"
        );
    }
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
    assert_user_not_found(
        adapter
            .link_account(full_account(&padded_id, "github"))
            .await,
        "link_account for a user id with a trailing space",
    );
    assert_user_not_found(
        adapter
            .create_session(session_of(&padded_id, now_ms() + Duration::days(1)))
            .await,
        "create_session for a user id with a trailing space",
    );
    assert_user_not_found(
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
