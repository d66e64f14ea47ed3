//! The cases on verification tokens: `create_verification_token`, `use_verification_token`.

use super::*;

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
        TOKEN_KEYS,
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

/// CONTRACT: an expired verification token may still conflict with a new
/// one of the same `(identifier, token)` until it is used or purged, and
/// never after: once `use_verification_token` has consumed it (returning
/// `Ok(None)`) or `purge_expired` has run, the same token can be created
/// again and used. Backends that never keep an expired record accept the
/// new one at once; either way the new one is what `use_verification_token`
/// returns.
pub async fn an_expired_verification_token_conflicts_at_most_until_used_or_purged(
    adapter: Arc<dyn Adapter>,
) {
    let past = now_ms() - Duration::minutes(1);
    let later = now_ms() + Duration::minutes(15);
    for (how, expired) in [
        ("used", token_of("expired-twin@example.com", past)),
        ("purged", token_of("expired-twin@example.com", past)),
    ] {
        adapter
            .create_verification_token(expired.clone())
            .await
            .unwrap_or_else(|e| panic!("create_verification_token of an expired token: {e}"));
        let fresh = VerificationToken {
            expires: later,
            ..expired.clone()
        };
        let accepted_at_once = match adapter.create_verification_token(fresh.clone()).await {
            Ok(_) => true,
            Err(e) => {
                if let Err(why) = check_conflict(&e, TOKEN_KEYS) {
                    panic!("a live twin of an expired verification token: {why}");
                }
                false
            }
        };
        if !accepted_at_once {
            if how == "used" {
                assert_eq!(
                    adapter
                        .use_verification_token(&expired.identifier, &expired.token)
                        .await
                        .unwrap(),
                    None,
                    "use_verification_token returned an expired token"
                );
            } else {
                adapter.purge_expired().await.unwrap();
            }
            adapter
                .create_verification_token(fresh.clone())
                .await
                .unwrap_or_else(|e| {
                    panic!("the expired token was {how}, but its live twin still fails: {e:?}")
                });
        }
        assert_eq!(
            adapter
                .use_verification_token(&fresh.identifier, &fresh.token)
                .await
                .unwrap(),
            Some(fresh),
            "the live twin of an expired token ({how} case) is what use_verification_token \
             must return"
        );
    }
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
