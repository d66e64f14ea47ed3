//! The Rust half of `scripts/interop/layouts-pg.mjs`: reads and writes
//! Auth.js records through [`PostgresAdapter`] in a given layout and schema,
//! printing JSON (instants as milliseconds since 1970) for the Node script
//! to compare with what the official adapter wrote or reads.
//!
//! ```text
//! pg_layout_interop <url> <layout> <schema> migrate
//! pg_layout_interop <url> <layout> <schema> write <tag>
//! pg_layout_interop <url> <layout> <schema> read <user id> <provider> <provider account id> \
//!     <session token> <identifier> <token>
//! pg_layout_interop <url> <layout> <schema> delete-user <user id>
//! ```
//!
//! `layout` is `prisma`, `drizzle` or `pg-adapter`. `write` creates a user,
//! links an account, creates a session and a verification token, and prints
//! them; `read` prints what the adapter finds for those keys (the
//! verification token is used, so it is consumed); `delete-user` deletes the
//! user and prints what remains of the records the ids name.

use adapter_postgres::{Layout, PostgresAdapter, PostgresOptions};
use auth_core::{
    Account, AccountType, Adapter, NewUser, Session, User, VerificationToken, timestamp,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "email": u.email,
        "emailVerified": u.email_verified.map(ms),
        "image": u.image,
    })
}

fn account_json(a: &Account) -> Value {
    json!({
        "userId": a.user_id,
        "type": a.account_type.as_str(),
        "provider": a.provider,
        "providerAccountId": a.provider_account_id,
        "access_token": a.access_token,
        "refresh_token": a.refresh_token,
        "expires_at": a.expires_at,
        "token_type": a.token_type,
        "scope": a.scope,
        "id_token": a.id_token,
        "session_state": a.session_state,
    })
}

fn session_json(s: &Session) -> Value {
    json!({
        "sessionToken": s.session_token,
        "userId": s.user_id,
        "expires": ms(s.expires),
    })
}

fn token_json(t: &VerificationToken) -> Value {
    json!({
        "identifier": t.identifier,
        "token": t.token,
        "expires": ms(t.expires),
    })
}

fn usage() -> ! {
    eprintln!(
        "usage: pg_layout_interop <url> <prisma|drizzle|pg-adapter> <schema> \
         (migrate | write <tag> | read <user id> <provider> <provider account id> \
         <session token> <identifier> <token> | delete-user <user id>)"
    );
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> auth_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        usage();
    }
    let layout = Layout::from_name(&args[1]).unwrap_or_else(|| usage());
    let options = PostgresOptions::from_url(&args[0])?
        .namespace(args[2].as_str())
        .layout(layout)
        .pool_size(2);
    let adapter = PostgresAdapter::connect_with(options).await?;
    let rest = &args[4..];
    let out = match (args[3].as_str(), rest) {
        ("migrate", []) => {
            adapter.migrate().await?;
            json!({ "migrated": true })
        }
        ("write", [tag]) => {
            let now = timestamp::truncate_to_millis(OffsetDateTime::now_utc());
            let user = adapter
                .create_user(NewUser {
                    name: Some(format!("Rust {tag} Zoë")),
                    email: Some(format!("rust-{tag}@example.com")),
                    email_verified: Some(now - Duration::hours(1)),
                    image: Some(format!("https://example.com/{tag}.png")),
                })
                .await?;
            let account = adapter
                .link_account(Account {
                    access_token: Some(format!("access-{tag}")),
                    refresh_token: Some(format!("refresh-{tag}")),
                    expires_at: Some(now.unix_timestamp() + 3600),
                    token_type: Some("bearer".into()),
                    scope: Some("openid email".into()),
                    id_token: Some(format!("id-{tag}")),
                    session_state: Some(format!("state-{tag}")),
                    ..Account::new(
                        &user.id,
                        AccountType::OAuth,
                        "github",
                        format!("rust-gh-{tag}"),
                    )
                })
                .await?;
            let session = adapter
                .create_session(Session {
                    session_token: format!("rust-session-{tag}"),
                    user_id: user.id.clone(),
                    expires: now + Duration::days(30),
                })
                .await?;
            let token = adapter
                .create_verification_token(VerificationToken {
                    identifier: format!("rust-{tag}@example.com"),
                    token: format!("rust-token-{tag}"),
                    expires: now + Duration::hours(1),
                })
                .await?;
            json!({
                "user": user_json(&user),
                "account": account_json(&account),
                "session": session_json(&session),
                "verificationToken": token_json(&token),
            })
        }
        (
            "read",
            [
                user_id,
                provider,
                provider_account_id,
                session_token,
                identifier,
                token,
            ],
        ) => {
            let user = adapter.get_user(user_id).await?;
            let by_email = match user.as_ref().and_then(|u| u.email.as_deref()) {
                Some(email) => adapter.get_user_by_email(email).await?,
                None => None,
            };
            let by_account = adapter
                .get_user_by_account(provider, provider_account_id)
                .await?;
            let account = adapter.get_account(provider, provider_account_id).await?;
            let accounts = adapter.list_accounts_by_user_id(user_id).await?;
            let session = adapter.get_session_and_user(session_token).await?;
            let sessions = adapter.list_sessions_by_user_id(user_id).await?;
            let used = adapter.use_verification_token(identifier, token).await?;
            json!({
                "user": user.as_ref().map(user_json),
                "userByEmail": by_email.as_ref().map(user_json),
                "userByAccount": by_account.as_ref().map(user_json),
                "account": account.as_ref().map(account_json),
                "accounts": accounts.iter().map(account_json).collect::<Vec<_>>(),
                "sessionAndUser": session.as_ref().map(|(s, u)| json!({
                    "session": session_json(s),
                    "user": user_json(u),
                })),
                "sessions": sessions.iter().map(session_json).collect::<Vec<_>>(),
                "verificationToken": used.as_ref().map(token_json),
            })
        }
        ("delete-user", [user_id]) => {
            let deleted = adapter.delete_user(user_id).await?;
            json!({
                "deleted": deleted.as_ref().map(user_json),
                "user": adapter.get_user(user_id).await?.as_ref().map(user_json),
                "accounts": adapter.list_accounts_by_user_id(user_id).await?.len(),
                "sessions": adapter.list_sessions_by_user_id(user_id).await?.len(),
            })
        }
        _ => usage(),
    };
    println!("{out}");
    Ok(())
}
