//! The cases on accounts: `link_account`, `get_user_by_account`, `get_account`, `unlink_account`, `list_accounts_by_user_id`.

use super::*;

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
    assert_user_not_found(
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
    assert_user_not_found(
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
        &[Key::ProviderAccountId],
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
    let winner = sole_winner(
        "link_account of one provider account",
        &[Key::ProviderAccountId],
        tasks,
    )
    .await;
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
