//! The first program to run: an Auth.js-style sign-in on an SQLite file.
//!
//! ```text
//! cargo run -p adapter-sqlite --example quickstart [-- path/to/auth.db]
//! ```
//!
//! It creates (or reopens) the database, creates a user, links a GitHub
//! account, opens a 30-day session, resolves the session cookie the way
//! Auth.js does on each request, and signs out. Run it twice: the second run
//! finds the user and account the first one stored.

use adapter_sqlite::SqliteAdapter;
use auth_core::{Account, AccountType, Adapter, NewUser, OffsetDateTime, SessionPolicy};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "auth-quickstart.db".into());
    let adapter = SqliteAdapter::connect(&format!("sqlite://{path}")).await?;
    adapter.migrate().await?;
    println!(
        "database      {path} (schema version {})",
        adapter_sqlite::SCHEMA_VERSION
    );

    // What an OAuth callback does: find the user by provider account, or
    // create the user and link the account.
    let user = match adapter.get_user_by_account("github", "583231").await? {
        Some(user) => {
            println!("user          found {} by its GitHub account", user.id);
            user
        }
        None => {
            let user = adapter
                .create_user(NewUser {
                    name: Some("Ada Lovelace".into()),
                    email: Some("ada@example.com".into()),
                    email_verified: Some(OffsetDateTime::now_utc()),
                    image: None,
                })
                .await?;
            println!(
                "user          created {} <{}>",
                user.id,
                user.email.as_deref().unwrap_or("")
            );
            let account = Account {
                access_token: Some("gho_16C7e42F292c6912E7710c838347Ae178B4a".into()),
                token_type: Some("bearer".into()),
                scope: Some("read:user,user:email".into()),
                ..Account::new(&user.id, AccountType::OAuth, "github", "583231")
            };
            let account = adapter.link_account(account).await?;
            // Debug output never shows the token.
            println!("account       linked {account:?}");
            user
        }
    };

    // Open a database session; the token goes into the session cookie.
    let policy = SessionPolicy::default();
    let session = adapter
        .create_session(policy.new_session(&user.id, OffsetDateTime::now_utc())?)
        .await?;
    println!("session       opened, expires {}", session.expires);

    // On the next request: resolve the cookie (one query, a join).
    let (current, owner) = policy
        .resolve(&adapter, &session.session_token, OffsetDateTime::now_utc())
        .await?
        .ok_or("the session should resolve")?;
    println!(
        "request       session of {} ({}), valid until {}",
        owner.name.as_deref().unwrap_or("?"),
        owner.id,
        current.expires
    );

    // Sign out.
    adapter.delete_session(&session.session_token).await?;
    let gone = adapter.get_session_and_user(&session.session_token).await?;
    println!(
        "sign-out      session deleted; resolves now: {}",
        gone.is_some()
    );
    let purged = adapter.purge_expired().await?;
    println!("maintenance   purged {purged} expired sessions and tokens");
    Ok(())
}
