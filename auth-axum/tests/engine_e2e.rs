//! The engine end to end over real HTTP, on SQLite and on PostgreSQL: email
//! and OAuth sign-in, account linking, sessions sliding and expiring,
//! sign-out, CSRF and open-redirect rejections, the JWT strategy with secret
//! rotation and chunked cookies.

mod support;

use auth_engine::auth_core::User;
use auth_engine::auth_jwt::{Jwt, Version, cookies::session_cookie_name};
use auth_engine::mock_idp::{Identity, MockIdp};
use auth_engine::{Callbacks, JwtTrigger, OAuthProvider, Strategy};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use support::{App, Backend, Browser, SECRET, adapter, location, set_cookies, unique_email};
use time::{Duration, OffsetDateTime};

const SESSION: &str = "authjs.session-token";

fn oidc(idp: &MockIdp) -> OAuthProvider {
    OAuthProvider::oidc(
        "mock",
        "Mock OIDC",
        idp.issuer(),
        idp.client_id(),
        idp.client_secret(),
    )
}

/// Goes through an OAuth sign-in: POST /signin/mock, follow the provider's
/// redirect, come back to the callback. Returns the callback's response.
async fn oauth_sign_in(browser: &Browser, app: &App, callback_url: &str) -> reqwest::Response {
    let csrf = browser.csrf(app).await;
    let r = browser
        .post(
            &app.api("/signin/mock"),
            &[("csrfToken", &csrf), ("callbackUrl", callback_url)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND, "POST /signin/mock");
    let to_idp = location(&r);
    let cookies = browser.cookie_names();
    assert!(
        cookies.iter().any(|c| c == "authjs.state")
            && cookies.iter().any(|c| c == "authjs.pkce.code_verifier"),
        "state and PKCE cookies are set: {cookies:?}"
    );
    let r = browser.get(&to_idp).await;
    assert_eq!(r.status(), StatusCode::FOUND, "the provider's /authorize");
    let back = location(&r);
    assert!(
        back.starts_with(&app.api("/callback/mock?")),
        "back to the callback: {back}"
    );
    browser.get(&back).await
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    email_sign_in_creates_a_verified_user_and_a_session,
    email_link_works_once_and_only_for_its_address,
    csrf_is_required_on_state_changing_posts,
    redirects_stay_on_the_site,
    database_sessions_slide_and_expire,
    sign_out_deletes_the_session_and_clears_the_cookie,
    oauth_sign_in_creates_a_user_and_links_the_account,
    oauth_links_to_the_signed_in_user,
    oauth_account_not_linked_paths,
    dangerous_email_linking_is_per_provider,
    jwt_strategy_with_rotation_and_chunked_cookies,
    protected_pages_redirect_to_sign_in,
    the_sign_in_callback_decides_once_per_step,
);

async fn email_sign_in_creates_a_verified_user_and_a_session(backend: Backend) {
    let app = App::start(adapter(backend).await, |b| b).await;
    let browser = app.browser();
    assert_eq!(
        browser.session(&app).await,
        Value::Null,
        "signed out at first"
    );

    let email = unique_email("ada");
    let typed = format!("  {}  ", email.to_uppercase());
    let landed = browser.email_sign_in(&app, &typed, "/dashboard").await;
    assert_eq!(
        landed,
        format!("{}/dashboard", app.origin),
        "the link lands on callbackUrl"
    );

    let session = browser.session(&app).await;
    assert_eq!(
        session["user"]["email"],
        json!(email),
        "the address is normalised: {session}"
    );
    assert_eq!(session["user"]["name"], Value::Null);
    let expires = OffsetDateTime::parse(
        session["expires"].as_str().expect("expires"),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let in_30_days = OffsetDateTime::now_utc() + Duration::days(30);
    assert!(
        (expires - in_30_days).abs() < Duration::minutes(1),
        "expires in 30 days: {expires}"
    );

    let user = app
        .adapter
        .get_user_by_email(&email)
        .await
        .unwrap()
        .expect("the user exists");
    assert!(
        user.email_verified.is_some(),
        "email sign-in verifies the address"
    );
    let token = browser.cookie(SESSION).expect("a session cookie");
    let (stored, owner) = app
        .adapter
        .get_session_and_user(&token)
        .await
        .unwrap()
        .expect("the session row");
    assert_eq!(owner.id, user.id);
    assert_eq!(stored.session_token, token);

    // The app's own pages see the session through the layer.
    let home = browser
        .get(&format!("{}/", app.origin))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(home, format!("signed in as {email}"));
    let me = browser
        .get(&format!("{}/api/me", app.origin))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(me, email);

    // Signing in again re-uses the user.
    let second = app.browser();
    second.email_sign_in(&app, &email, "/").await;
    assert_eq!(second.session(&app).await["user"]["email"], json!(email));
    assert_eq!(
        app.adapter
            .get_user_by_email(&email)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(user.id)
    );
}

async fn email_link_works_once_and_only_for_its_address(backend: Backend) {
    let app = App::start(adapter(backend).await, |b| b).await;
    let browser = app.browser();
    let email = unique_email("once");
    browser.email_sign_in(&app, &email, "/").await;
    let link = app.outbox.last_for(&email).unwrap().url;

    let again = app.browser().get(&link).await;
    assert_eq!(again.status(), StatusCode::FOUND);
    assert_eq!(
        location(&again),
        app.api("/error?error=Verification"),
        "a used link"
    );

    // A fresh link with the address swapped is refused, and consumed.
    let csrf = browser.csrf(&app).await;
    browser
        .post(
            &app.api("/signin/email"),
            &[("email", &email), ("csrfToken", &csrf)],
        )
        .await;
    let link = app.outbox.last_for(&email).unwrap().url;
    let tampered = link.replace(&email.replace('@', "%40"), "mallory%40example.com");
    assert_ne!(tampered, link);
    let r = app.browser().get(&tampered).await;
    assert_eq!(
        location(&r),
        app.api("/error?error=Verification"),
        "a link for another address"
    );

    // An expired link.
    let csrf = browser.csrf(&app).await;
    browser
        .post(
            &app.api("/signin/email"),
            &[("email", &email), ("csrfToken", &csrf)],
        )
        .await;
    let link = app.outbox.last_for(&email).unwrap().url;
    app.advance(Duration::hours(25));
    let r = app.browser().get(&link).await;
    assert_eq!(
        location(&r),
        app.api("/error?error=Verification"),
        "an expired link"
    );

    // The error page answers with Auth.js's status.
    let page = app
        .browser()
        .get(&app.api("/error?error=Verification"))
        .await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);

    // No token in the link at all.
    let r = app
        .browser()
        .get(&app.api("/callback/email?email=a%40b.c"))
        .await;
    assert_eq!(location(&r), app.api("/error?error=Configuration"));
}

async fn csrf_is_required_on_state_changing_posts(backend: Backend) {
    let app = App::start(adapter(backend).await, |b| b).await;
    let browser = app.browser();
    let email = unique_email("csrf");

    // No token at all.
    let r = browser
        .post(&app.api("/signin/email"), &[("email", &email)])
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), app.api("/signin?error=MissingCSRF"));
    assert!(app.outbox.last_for(&email).is_none(), "no link was sent");

    // A token that does not match the cookie.
    browser.csrf(&app).await;
    let forged = "0".repeat(64);
    let r = browser
        .post(
            &app.api("/signin/email"),
            &[("email", &email), ("csrfToken", &forged)],
        )
        .await;
    assert_eq!(location(&r), app.api("/signin?error=MissingCSRF"));

    // next-auth/react asks for JSON.
    let r = browser
        .client
        .post(app.api("/signin/email"))
        .header("X-Auth-Return-Redirect", "1")
        .form(&[("email", email.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({ "url": app.api("/signin?error=MissingCSRF") }));

    // A cookie forged without the secret is not trusted: a new one is issued.
    let other = app.browser();
    other.set_cookie(
        "authjs.csrf-token",
        &format!("{forged}%7C{}", "1".repeat(64)),
    );
    let token = other.csrf(&app).await;
    assert_ne!(token, forged);

    // Signed in, sign-out and session update need the token too.
    browser.email_sign_in(&app, &email, "/").await;
    let r = browser.post(&app.api("/signout"), &[]).await;
    assert_eq!(location(&r), app.api("/signin?error=MissingCSRF"));
    assert_eq!(
        browser.session(&app).await["user"]["email"],
        json!(email),
        "still signed in"
    );
    let r = browser.post(&app.api("/session"), &[("data", "{}")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.text().await.unwrap(), "null");
    let csrf = browser.csrf(&app).await;
    let r = browser
        .post(&app.api("/session"), &[("csrfToken", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["user"]["email"],
        json!(email),
        "an update with the token answers the session"
    );

    // With the token, a POST sign-in works and answers {url} when asked.
    let r = browser
        .client
        .post(app.api("/signin/email"))
        .header("X-Auth-Return-Redirect", "1")
        .form(&[("email", email.as_str()), ("csrfToken", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "url": app.api("/verify-request?provider=email&type=email") })
    );
}

async fn redirects_stay_on_the_site(backend: Backend) {
    let app = App::start(adapter(backend).await, |b| b).await;
    for evil in [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example",
        "javascript:alert(1)",
        "http://127.0.0.1.evil.example/",
    ] {
        let browser = app.browser();
        let landed = browser
            .email_sign_in(&app, &unique_email("redir"), evil)
            .await;
        assert_eq!(
            landed, app.origin,
            "callbackUrl {evil:?} must not leave the site"
        );
        let csrf = browser.csrf(&app).await;
        let r = browser
            .post(
                &app.api("/signout"),
                &[("csrfToken", &csrf), ("callbackUrl", evil)],
            )
            .await;
        assert_eq!(location(&r), app.origin, "sign-out callbackUrl {evil:?}");
    }
    // Same-origin targets are kept.
    let browser = app.browser();
    let own = format!("{}/account?tab=1", app.origin);
    assert_eq!(
        browser
            .email_sign_in(&app, &unique_email("own"), &own)
            .await,
        own
    );
}

async fn database_sessions_slide_and_expire(backend: Backend) {
    let app = App::start(adapter(backend).await, |b| b).await;
    let browser = app.browser();
    browser
        .email_sign_in(&app, &unique_email("slide"), "/")
        .await;
    let token = browser.cookie(SESSION).unwrap();
    let stored = |app: &App, token: String| {
        let adapter = app.adapter.clone();
        async move {
            adapter
                .get_session_and_user(&token)
                .await
                .unwrap()
                .map(|(s, _)| s.expires)
        }
    };
    let created = stored(&app, token.clone()).await.expect("the session");

    // Within the update age: the cookie is refreshed, the row is not written.
    app.advance(Duration::hours(12));
    let r = browser.get(&app.api("/session")).await;
    let cookies = set_cookies(&r);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION}={token}"))
                && c.contains("HttpOnly")
                && c.contains("SameSite=Lax")),
        "the session cookie is re-set on each read: {cookies:?}"
    );
    assert_eq!(
        stored(&app, token.clone()).await,
        Some(created),
        "no write within the update age"
    );

    // Past the update age: one write, 30 days from the engine's now.
    app.advance(Duration::hours(13));
    browser.get(&app.api("/session")).await;
    let slid = stored(&app, token.clone()).await.expect("the session");
    let want = app.auth.now() + Duration::days(30);
    assert!(
        (slid - want).abs() < Duration::minutes(1),
        "slid to {slid}, want about {want}"
    );

    // Past the expiry: deleted, cookie cleared, null.
    app.advance(Duration::days(31));
    let r = browser.get(&app.api("/session")).await;
    let cookies = set_cookies(&r);
    assert_eq!(r.json::<Value>().await.unwrap(), Value::Null);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION}=;")) && c.contains("Max-Age=0")),
        "the cookie is cleared: {cookies:?}"
    );
    assert_eq!(
        stored(&app, token).await,
        None,
        "the expired session row is deleted"
    );
}

async fn sign_out_deletes_the_session_and_clears_the_cookie(backend: Backend) {
    let app = App::start(adapter(backend).await, |b| b).await;
    let browser = app.browser();
    browser.email_sign_in(&app, &unique_email("bye"), "/").await;
    let token = browser.cookie(SESSION).unwrap();
    let page = browser.get(&app.api("/signout")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text().await.unwrap().contains("csrfToken"),
        "the sign-out page posts the CSRF token"
    );

    let csrf = browser.csrf(&app).await;
    let r = browser
        .post(
            &app.api("/signout"),
            &[("csrfToken", &csrf), ("callbackUrl", "/goodbye")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), format!("{}/goodbye", app.origin));
    assert!(
        set_cookies(&r)
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION}=;")))
    );
    assert_eq!(
        browser.cookie(SESSION),
        None,
        "the browser dropped the cookie"
    );
    assert!(
        app.adapter
            .get_session_and_user(&token)
            .await
            .unwrap()
            .is_none(),
        "the row is deleted"
    );
    assert_eq!(browser.session(&app).await, Value::Null);
}

async fn oauth_sign_in_creates_a_user_and_links_the_account(backend: Backend) {
    let idp = MockIdp::start().await;
    let app = App::start(adapter(backend).await, |b| b.provider(oidc(&idp))).await;

    let providers: Value = app
        .browser()
        .get(&app.api("/providers"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        providers["mock"],
        json!({
            "id": "mock", "name": "Mock OIDC", "type": "oidc",
            "signinUrl": app.api("/signin/mock"), "callbackUrl": app.api("/callback/mock"),
        })
    );
    assert_eq!(providers["email"]["type"], json!("email"));

    let email = unique_email("grace");
    let sub = format!("sub-{}", uuid_like());
    idp.set_next_identity(Identity::new(&sub, &email));
    let browser = app.browser();
    let r = oauth_sign_in(&browser, &app, "/after").await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), format!("{}/after", app.origin));
    let session = browser.session(&app).await;
    assert_eq!(session["user"]["email"], json!(email));

    let user = app
        .adapter
        .get_user_by_account("mock", &sub)
        .await
        .unwrap()
        .expect("the account is linked");
    assert_eq!(user.email.as_deref(), Some(email.as_str()));
    assert_eq!(
        user.email_verified, None,
        "OAuth sign-in does not verify the address"
    );
    let account = app
        .adapter
        .get_account("mock", &sub)
        .await
        .unwrap()
        .unwrap();
    assert!(account.access_token.is_some() && account.id_token.is_some());
    assert_eq!(account.token_type.as_deref(), Some("bearer"));
    assert!(account.expires_at.unwrap() > OffsetDateTime::now_utc().unix_timestamp());
    let names = browser.cookie_names();
    assert!(
        !names
            .iter()
            .any(|n| n == "authjs.state" || n == "authjs.pkce.code_verifier"),
        "check cookies are cleared: {names:?}"
    );

    // Signing in again finds the same user.
    idp.set_next_identity(Identity::new(&sub, &email));
    let again = app.browser();
    oauth_sign_in(&again, &app, "/").await;
    assert_eq!(again.session(&app).await["user"]["email"], json!(email));

    // A callback without the check cookies is refused.
    let stranger = app.browser();
    let r = stranger
        .get(&app.api("/callback/mock?code=x&state=y"))
        .await;
    assert_eq!(location(&r), app.api("/error?error=Configuration"));

    // The provider refusing is OAuthCallbackError on the sign-in page.
    idp.fail_next_authorization("access_denied", Some("the user said no"));
    let r = oauth_sign_in(&app.browser(), &app, "/").await;
    assert_eq!(location(&r), app.api("/signin?error=OAuthCallbackError"));
}

async fn oauth_links_to_the_signed_in_user(backend: Backend) {
    let idp = MockIdp::start().await;
    let app = App::start(adapter(backend).await, |b| b.provider(oidc(&idp))).await;
    let browser = app.browser();
    let email = unique_email("linker");
    browser.email_sign_in(&app, &email, "/").await;
    let me = app
        .adapter
        .get_user_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    let token_before = browser.cookie(SESSION).unwrap();

    // The provider knows the user under another address: still linked to me.
    let sub = format!("sub-{}", uuid_like());
    idp.set_next_identity(Identity::new(&sub, unique_email("elsewhere")));
    let r = oauth_sign_in(&browser, &app, "/account").await;
    assert_eq!(location(&r), format!("{}/account", app.origin));
    let owner = app
        .adapter
        .get_user_by_account("mock", &sub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.id, me.id, "linked to the signed-in user");
    assert_eq!(
        browser.cookie(SESSION),
        Some(token_before),
        "linking keeps the session"
    );

    // Signing in with it later signs in as me.
    idp.set_next_identity(Identity::new(&sub, "whatever@example.com"));
    let other = app.browser();
    oauth_sign_in(&other, &app, "/").await;
    assert_eq!(other.session(&app).await["user"]["email"], json!(email));
}

async fn oauth_account_not_linked_paths(backend: Backend) {
    let idp = MockIdp::start().await;
    let app = App::start(adapter(backend).await, |b| b.provider(oidc(&idp))).await;

    // A user with the profile's email exists: not linked automatically.
    let email = unique_email("taken");
    app.browser().email_sign_in(&app, &email, "/").await;
    idp.set_next_identity(Identity::new(format!("sub-{}", uuid_like()), &email));
    let browser = app.browser();
    let r = oauth_sign_in(&browser, &app, "/").await;
    assert_eq!(location(&r), app.api("/signin?error=OAuthAccountNotLinked"));
    assert_eq!(browser.session(&app).await, Value::Null);
    let page = browser.get(&location(&r)).await.text().await.unwrap();
    assert!(
        page.contains("same account you used originally"),
        "the sign-in page explains"
    );

    // The account belongs to someone else than the signed-in user.
    let sub = format!("sub-{}", uuid_like());
    idp.set_next_identity(Identity::new(&sub, unique_email("owner")));
    oauth_sign_in(&app.browser(), &app, "/").await;
    let intruder = app.browser();
    intruder
        .email_sign_in(&app, &unique_email("intruder"), "/")
        .await;
    idp.set_next_identity(Identity::new(&sub, "x@example.com"));
    let r = oauth_sign_in(&intruder, &app, "/").await;
    assert_eq!(location(&r), app.api("/signin?error=OAuthAccountNotLinked"));
    let owner = app
        .adapter
        .get_user_by_account("mock", &sub)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        owner.email,
        intruder_email(&app, &intruder).await,
        "the account did not move"
    );
}

async fn intruder_email(app: &App, browser: &Browser) -> Option<String> {
    browser.session(app).await["user"]["email"]
        .as_str()
        .map(str::to_owned)
}

async fn dangerous_email_linking_is_per_provider(backend: Backend) {
    let idp = MockIdp::start().await;
    let app = App::start(adapter(backend).await, |b| {
        b.provider(oidc(&idp).with_dangerous_email_account_linking(true))
    })
    .await;
    let email = unique_email("trusting");
    app.browser().email_sign_in(&app, &email, "/").await;
    let existing = app
        .adapter
        .get_user_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    let sub = format!("sub-{}", uuid_like());
    idp.set_next_identity(Identity::new(&sub, &email));
    let browser = app.browser();
    let r = oauth_sign_in(&browser, &app, "/").await;
    assert_eq!(location(&r), format!("{}/", app.origin));
    let owner = app
        .adapter
        .get_user_by_account("mock", &sub)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.id, existing.id, "linked to the user with that email");
}

struct BigClaims;

#[auth_engine::async_trait::async_trait]
impl Callbacks for BigClaims {
    async fn jwt(
        &self,
        mut token: Map<String, Value>,
        user: Option<&User>,
        trigger: JwtTrigger,
        data: Option<&Value>,
    ) -> Option<Map<String, Value>> {
        if user.is_some() {
            // 9,000 characters of claims: the cookie needs three chunks.
            token.insert("blob".into(), json!("x".repeat(9000)));
        }
        if trigger == JwtTrigger::Update && data.is_some_and(|d| d["shrink"] == json!(true)) {
            token.remove("blob");
        }
        Some(token)
    }
}

async fn jwt_strategy_with_rotation_and_chunked_cookies(backend: Backend) {
    let old_secret = "the-old-secret-0123456789-abcdefghijklmnop";
    let app = App::start(adapter(backend).await, |b| {
        b.strategy(Strategy::Jwt)
            .secret(old_secret)
            .callbacks(BigClaims)
    })
    .await;
    let browser = app.browser();
    let email = unique_email("jwt");
    browser.email_sign_in(&app, &email, "/").await;
    let names = browser.cookie_names();
    let chunks: Vec<_> = names
        .iter()
        .filter(|n| n.starts_with(SESSION))
        .cloned()
        .collect();
    assert!(
        chunks.len() >= 3 && chunks.iter().all(|n| n.starts_with(&format!("{SESSION}."))),
        "chunked: {chunks:?}"
    );
    let session = browser.session(&app).await;
    assert_eq!(session["user"]["email"], json!(email));
    let user = app
        .adapter
        .get_user_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert!(
        app.adapter
            .get_session_and_user("")
            .await
            .unwrap()
            .is_none()
    );

    // The joined cookie is an Auth.js token under the first secret.
    let joined: String = (0..chunks.len())
        .map(|i| browser.cookie(&format!("{SESSION}.{i}")).unwrap())
        .collect();
    let claims: Map<String, Value> = Jwt::new([SECRET])
        .unwrap()
        .decode(SESSION, &joined)
        .expect("decodes with the first secret");
    assert_eq!(claims["sub"], json!(user.id));

    // A smaller token: stale chunks are expired.
    let csrf = browser.csrf(&app).await;
    let r = browser
        .client
        .post(app.api("/session"))
        .json(&json!({ "csrfToken": csrf, "data": { "shrink": true } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let names = browser.cookie_names();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with(SESSION))
            .cloned()
            .collect::<Vec<_>>(),
        vec![SESSION.to_owned()],
        "one cookie again"
    );

    // Rotation: a token made with the old secret (as a Next.js app that
    // has not rotated yet would) is accepted and re-issued under the new one.
    let rotated = app.browser();
    let old_token = Jwt::new([old_secret])
        .unwrap()
        .encode(
            SESSION,
            &json!({ "sub": user.id, "email": email, "name": null, "picture": null }),
        )
        .unwrap();
    rotated.set_cookie(SESSION, &old_token);
    let session = rotated.session(&app).await;
    assert_eq!(
        session["user"]["email"],
        json!(email),
        "the old secret still decodes"
    );
    let reissued = rotated.cookie(SESSION).unwrap();
    assert!(
        Jwt::new([SECRET])
            .unwrap()
            .decode::<Map<String, Value>>(SESSION, &reissued)
            .is_ok(),
        "re-issued under the new secret"
    );
    assert!(
        Jwt::with_version(Version::V5, [old_secret])
            .unwrap()
            .decode::<Map<String, Value>>(SESSION, &reissued)
            .is_err()
    );

    // A token under an unknown secret is a signed-out browser, cookie cleared.
    let forged = Jwt::new(["some-other-secret-entirely-0123456789"])
        .unwrap()
        .encode(SESSION, &json!({ "sub": user.id }))
        .unwrap();
    let stranger = app.browser();
    stranger.set_cookie(SESSION, &forged);
    assert_eq!(stranger.session(&app).await, Value::Null);
    assert_eq!(stranger.cookie(SESSION), None);
    assert_eq!(session_cookie_name(Version::V5, false), SESSION);
}

async fn protected_pages_redirect_to_sign_in(backend: Backend) {
    let app = App::start(adapter(backend).await, |b| b).await;
    let browser = app.browser();
    let r = browser.get(&format!("{}/protected?x=1", app.origin)).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        location(&r),
        format!("{}?callbackUrl=%2Fprotected%3Fx%3D1", app.api("/signin"))
    );
    let r = browser.get(&format!("{}/api/me", app.origin)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let page = browser
        .get(&location(
            &browser.get(&format!("{}/protected", app.origin)).await,
        ))
        .await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains("name=\"csrfToken\"") && html.contains("/api/auth/signin/email"),
        "the sign-in page"
    );

    let email = unique_email("inside");
    browser.email_sign_in(&app, &email, "/protected").await;
    let r = browser.get(&format!("{}/protected", app.origin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let user = app
        .adapter
        .get_user_by_email(&email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.text().await.unwrap(), format!("secret for {}", user.id));
}

fn uuid_like() -> String {
    adapter_conformance::servers::unique_namespace("u")
}

/// Allows `allowed@…`, sends `elsewhere@…` to `/closed`, denies the rest,
/// and counts its calls.
struct Gate(std::sync::Arc<std::sync::atomic::AtomicUsize>);

#[auth_engine::async_trait::async_trait]
impl Callbacks for Gate {
    async fn sign_in(
        &self,
        attempt: auth_engine::SignInAttempt<'_>,
    ) -> auth_engine::SignInDecision {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let email = attempt.user.email.as_deref().unwrap_or("");
        if email.starts_with("allowed") {
            auth_engine::SignInDecision::Allow
        } else if email.starts_with("elsewhere") {
            auth_engine::SignInDecision::Redirect("/closed".into())
        } else {
            auth_engine::SignInDecision::Deny
        }
    }
}

async fn the_sign_in_callback_decides_once_per_step(backend: Backend) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let gate = Gate(calls.clone());
    let app = App::start(adapter(backend).await, |b| b.callbacks(gate)).await;
    let count = || calls.load(std::sync::atomic::Ordering::SeqCst);

    // Allowed: asked once when the link is requested, once when it is used.
    let browser = app.browser();
    browser
        .email_sign_in(&app, &unique_email("allowed"), "/")
        .await;
    assert_eq!(count(), 2, "one sign-in callback per step");
    assert!(browser.session(&app).await["user"]["email"].is_string());

    // Denied: AccessDenied on the error page, no link sent.
    let denied = unique_email("denied");
    let csrf = browser.csrf(&app).await;
    let r = browser
        .post(
            &app.api("/signin/email"),
            &[("email", &denied), ("csrfToken", &csrf)],
        )
        .await;
    assert_eq!(location(&r), app.api("/error?error=AccessDenied"));
    assert!(app.outbox.last_for(&denied).is_none());
    assert_eq!(count(), 3);

    // A redirect answer is followed, through the redirect callback.
    let r = browser
        .post(
            &app.api("/signin/email"),
            &[("email", &unique_email("elsewhere")), ("csrfToken", &csrf)],
        )
        .await;
    assert_eq!(location(&r), format!("{}/closed", app.origin));
    assert_eq!(count(), 4);
}
