//! The Rust half of the layout interop check (`scripts/interop-layouts.sh`):
//! reads and writes users, accounts, sessions, verification tokens and
//! passkeys through the adapter with a chosen layout, printing JSON in the
//! shape of Auth.js's adapter objects, so that the official
//! `@auth/drizzle-adapter` on the same database can be compared with it.
//!
//! ```text
//! cargo run -p adapter-mysql --example mysql_layout_interop -- \
//!     mysql://root:secret@127.0.0.1:3306/interop drizzle - write t1
//! ```
//!
//! Arguments: the database URL (the database is created if missing), the
//! layout (`prisma`, `drizzle`), a table prefix or `-`, then a command:
//! `migrate`, `write <tag>`, `read <userId> <email> <provider>
//! <providerAccountId> <sessionToken> <identifier|-> <token|-> <credentialID>`
//! or `delete-user <userId>`.

use adapter_mysql::{Layout, MysqlAdapter, MysqlOptions};
use auth_core::timestamp::{format_iso, truncate_to_millis};
use auth_core::{
    Account, AccountType, Adapter, Authenticator, NewUser, OffsetDateTime, Session, User,
    VerificationToken,
};
use serde_json::{Value, json};

/// The adapter on the database of `url` with `layout` and `prefix`.
async fn open(
    url: &str,
    layout: Layout,
    prefix: Option<&str>,
) -> Result<MysqlAdapter, auth_core::AdapterError> {
    let options = MysqlOptions::from_url(url)?
        .create_database_if_missing(true)
        .pool_size(2)
        .layout(layout);
    let options = match prefix {
        Some(prefix) => options.table_prefix(prefix),
        None => options,
    };
    MysqlAdapter::connect_with(options).await
}

/// One line of JSON on stdout: what the adapter returned, in the shape of
/// Auth.js's adapter objects (instants as ISO-8601 strings in UTC).
fn print(value: Value) {
    println!("{value}");
}

fn iso(t: OffsetDateTime) -> Value {
    json!(format_iso("instant", t).expect("an instant in 0000-9999"))
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "name": u.name, "email": u.email,
        "emailVerified": u.email_verified.map(iso), "image": u.image,
    })
}

fn account_json(a: &Account) -> Value {
    json!({
        "userId": a.user_id, "type": a.account_type.as_str(), "provider": a.provider,
        "providerAccountId": a.provider_account_id, "refresh_token": a.refresh_token,
        "access_token": a.access_token, "expires_at": a.expires_at,
        "token_type": a.token_type, "scope": a.scope, "id_token": a.id_token,
        "session_state": a.session_state,
    })
}

fn session_json(s: &Session) -> Value {
    json!({ "sessionToken": s.session_token, "userId": s.user_id, "expires": iso(s.expires) })
}

fn token_json(t: &VerificationToken) -> Value {
    json!({ "identifier": t.identifier, "token": t.token, "expires": iso(t.expires) })
}

fn authenticator_json(a: &Authenticator) -> Value {
    json!({
        "credentialID": a.credential_id, "userId": a.user_id,
        "providerAccountId": a.provider_account_id,
        "credentialPublicKey": a.credential_public_key, "counter": a.counter,
        "credentialDeviceType": a.credential_device_type,
        "credentialBackedUp": a.credential_backed_up, "transports": a.transports,
    })
}

fn usage() -> ! {
    eprintln!(
        "usage: mysql_layout_interop <database> <layout> <prefix|-> <command> [args]\n\
         commands: migrate | write <tag> | read <userId> <email> <provider> \
         <providerAccountId> <sessionToken> <identifier|-> <token|-> <credentialID> \
         | delete-user <userId>"
    );
    std::process::exit(2);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        usage();
    }
    let layout = Layout::from_name(&args[1]).unwrap_or_else(|| usage());
    let prefix = (args[2] != "-").then(|| args[2].clone());
    let adapter = open(&args[0], layout, prefix.as_deref()).await?;
    let rest = &args[4..];
    match (args[3].as_str(), rest.len()) {
        ("migrate", 0) => {
            adapter.migrate().await?;
            print(json!({ "migrated": true }));
        }
        ("write", 1) => {
            let tag = &rest[0];
            let at = |s: &str| {
                OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .expect("a valid instant")
            };
            let now = truncate_to_millis(OffsetDateTime::now_utc());
            let user = adapter
                .create_user(NewUser {
                    name: Some(format!("Rust Ünïcödé {tag} 🦀")),
                    email: Some(format!("{tag}@rust.example")),
                    email_verified: Some(at("2024-05-06T07:08:09.123Z")),
                    image: Some(format!("https://img.example/{tag}.png")),
                })
                .await?;
            let account = adapter
                .link_account(Account {
                    refresh_token: Some(format!("refresh-{tag}")),
                    access_token: Some(format!("access-{tag}")),
                    expires_at: Some(1_900_000_000),
                    token_type: Some("bearer".into()),
                    scope: Some("read:user user:email".into()),
                    id_token: Some(format!("eyJ.{tag}.sig")),
                    session_state: Some(format!("state-{tag}")),
                    ..Account::new(&user.id, AccountType::OAuth, "github", format!("gh-{tag}"))
                })
                .await?;
            let session = adapter
                .create_session(Session {
                    session_token: format!("rust-session-{tag}"),
                    user_id: user.id.clone(),
                    expires: now + time::Duration::days(30) + time::Duration::milliseconds(7),
                })
                .await?;
            let token = adapter
                .create_verification_token(VerificationToken {
                    identifier: format!("{tag}@rust.example"),
                    token: format!("rust-token-{tag}"),
                    expires: now + time::Duration::hours(1),
                })
                .await?;
            let authenticator = adapter
                .create_authenticator(Authenticator {
                    credential_id: format!("rust-cred-{tag}"),
                    user_id: user.id.clone(),
                    provider_account_id: format!("gh-{tag}"),
                    credential_public_key: "pQECAyYgASFYIE".into(),
                    counter: 7,
                    credential_device_type: "multiDevice".into(),
                    credential_backed_up: true,
                    transports: Some("internal,hybrid".into()),
                })
                .await?;
            print(json!({
                "user": user_json(&user),
                "account": account_json(&account),
                "session": session_json(&session),
                "verificationToken": token_json(&token),
                "authenticator": authenticator_json(&authenticator),
            }));
        }
        ("read", 8) => {
            let [
                id,
                email,
                provider,
                pid,
                session,
                identifier,
                token,
                credential,
            ] = <&[String; 8]>::try_from(rest).expect("eight arguments");
            let used = if identifier == "-" {
                None
            } else {
                adapter.use_verification_token(identifier, token).await?
            };
            print(json!({
                "getUser": adapter.get_user(id).await?.as_ref().map(user_json),
                "getUserByEmail": adapter.get_user_by_email(email).await?.as_ref().map(user_json),
                "getUserByAccount":
                    adapter.get_user_by_account(provider, pid).await?.as_ref().map(user_json),
                "getAccount": adapter.get_account(provider, pid).await?.as_ref().map(account_json),
                "listAccounts": adapter.list_accounts_by_user_id(id).await?
                    .iter().map(account_json).collect::<Vec<_>>(),
                "getSessionAndUser": adapter.get_session_and_user(session).await?
                    .map(|(s, u)| json!({ "session": session_json(&s), "user": user_json(&u) })),
                "getAuthenticator":
                    adapter.get_authenticator(credential).await?.as_ref().map(authenticator_json),
                "useVerificationToken": used.as_ref().map(token_json),
            }));
        }
        ("delete-user", 1) => {
            let deleted = adapter.delete_user(&rest[0]).await?;
            print(json!({ "deleted": deleted.as_ref().map(user_json) }));
        }
        _ => usage(),
    }
    Ok(())
}
