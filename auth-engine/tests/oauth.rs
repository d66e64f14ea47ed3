//! OAuth 2 / OIDC provider tests over real HTTP against the in-process mock
//! provider (`auth_engine::mock_idp`).

use auth_engine::mock_idp::{ClientAuth, Identity, MockIdp};
use auth_engine::oauth::{
    CallbackParams, Check, Checks, ClientAuthMethod, OAuthError, OAuthProvider, ProviderKind,
};

const REDIRECT: &str = "http://app.test/api/auth/callback/mock";

fn browser() -> reqwest::Client {
    auth_engine::oauth::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Follows the authorization URL like a browser and returns the callback
/// parameters from the `Location` of the provider's 302.
async fn authorize(url: &str) -> CallbackParams {
    let response = browser().get(url).send().await.expect("authorize request");
    assert_eq!(response.status(), 302, "authorize answers a redirect");
    let location = response
        .headers()
        .get("location")
        .expect("Location")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        location.starts_with(REDIRECT),
        "redirects to the callback: {location}"
    );
    let url = url::Url::parse(&location).expect("location URL");
    CallbackParams::from_query(url.query().unwrap_or(""))
}

fn oidc(idp: &MockIdp) -> OAuthProvider {
    OAuthProvider::oidc(
        "mock",
        "Mock",
        idp.issuer(),
        idp.client_id(),
        idp.client_secret(),
    )
}

fn oauth2(idp: &MockIdp) -> OAuthProvider {
    let base = idp.base_url();
    OAuthProvider::oauth2(
        "mock",
        "Mock",
        idp.client_id(),
        idp.client_secret(),
        format!("{base}/authorize"),
        format!("{base}/token"),
        format!("{base}/userinfo"),
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn oauth2_full_flow_with_pkce_and_state() {
    let idp = MockIdp::start().await;
    idp.set_expires_in(1234);
    let mut who = Identity::new("42", "Alice@Example.COM");
    who.name = Some("Alice".into());
    idp.set_next_identity(who);
    let provider = oauth2(&idp).scopes(["profile", "email"]);
    assert_eq!(provider.kind(), ProviderKind::OAuth);
    assert_eq!(provider.kind().as_str(), "oauth");

    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("authorization request");
    let checks = request.checks.clone();
    assert!(checks.state.is_some() && checks.pkce_verifier.is_some());
    assert!(checks.nonce.is_none(), "plain OAuth 2 sends no nonce");

    let callback = authorize(&request.url).await;
    assert_eq!(callback.state, checks.state, "state is echoed");
    let sent = &idp.authorize_requests()[0];
    assert_eq!(
        sent.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    assert!(sent.contains_key("code_challenge"));
    assert_eq!(sent.get("response_type").map(String::as_str), Some("code"));
    assert_eq!(sent.get("scope").map(String::as_str), Some("profile email"));
    assert_eq!(sent.get("redirect_uri").map(String::as_str), Some(REDIRECT));

    let outcome = provider
        .complete(REDIRECT, &callback, &checks)
        .await
        .expect("complete");
    assert_eq!(outcome.kind, ProviderKind::OAuth);
    assert_eq!(outcome.profile.id, "42");
    assert_eq!(outcome.profile.name.as_deref(), Some("Alice"));
    assert_eq!(
        outcome.profile.email.as_deref(),
        Some("alice@example.com"),
        "email lowercased"
    );
    assert_eq!(
        outcome.profile.image.as_deref(),
        Some("https://avatars.example/42.png")
    );
    let tokens = &outcome.tokens;
    assert_eq!(
        tokens.token_type.as_deref(),
        Some("bearer"),
        "token_type lowercased"
    );
    assert!(tokens.access_token.is_some() && tokens.refresh_token.is_some());
    assert!(tokens.id_token.is_none());
    assert_eq!(tokens.scope.as_deref(), Some("profile email"));
    let expires_at = tokens.expires_at.expect("expires_at");
    assert!(
        (expires_at - (now() + 1234)).abs() <= 5,
        "expires_at = now + expires_in"
    );

    // Default auth method is client_secret_basic; the verifier was sent.
    let token_req = &idp.token_requests()[0];
    assert_eq!(token_req.client_auth, ClientAuth::Basic);
    assert_eq!(
        token_req.params.get("code_verifier"),
        checks.pkce_verifier.as_ref()
    );

    let account = outcome
        .tokens
        .clone()
        .into_account("user-1", &provider, &outcome.profile.id);
    assert_eq!(account.user_id, "user-1");
    assert_eq!(account.provider, "mock");
    assert_eq!(account.provider_account_id, "42");
    assert_eq!(
        account.account_type,
        auth_engine::auth_core::AccountType::OAuth
    );
    assert_eq!(account.expires_at, Some(expires_at));
    assert_eq!(account.token_type.as_deref(), Some("bearer"));
}

#[tokio::test]
async fn oidc_discovery_id_token_and_nonce() {
    let idp = MockIdp::start().await;
    idp.set_next_identity(Identity::new("sub-7", "Bob@Example.com"));
    let provider = oidc(&idp).client_auth(ClientAuthMethod::ClientSecretPost);
    assert_eq!(provider.kind().as_str(), "oidc");

    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("authorization request");
    assert!(
        request
            .url
            .starts_with(&format!("{}/authorize?", idp.base_url()))
    );
    let checks = request.checks.clone();
    let nonce = checks.nonce.clone().expect("OIDC sends a nonce");
    let callback = authorize(&request.url).await;
    let sent = &idp.authorize_requests()[0];
    assert_eq!(sent.get("nonce"), Some(&nonce));
    assert_eq!(
        sent.get("scope").map(String::as_str),
        Some("openid profile email")
    );
    assert_eq!(callback.iss.as_deref(), Some(idp.issuer().as_str()));
    let outcome = provider
        .complete(REDIRECT, &callback, &checks)
        .await
        .expect("complete");
    assert_eq!(outcome.kind, ProviderKind::Oidc);
    assert_eq!(outcome.profile.id, "sub-7");
    assert_eq!(outcome.profile.email.as_deref(), Some("bob@example.com"));
    assert_eq!(outcome.raw_profile["nonce"].as_str(), Some(nonce.as_str()));
    assert!(outcome.tokens.id_token.is_some());
    assert_eq!(
        idp.userinfo_requests(),
        0,
        "OIDC profile comes from the ID token"
    );
    assert_eq!(idp.token_requests()[0].client_auth, ClientAuth::Post);
    let account = outcome.tokens.into_account("u", &provider, "sub-7");
    assert_eq!(
        account.account_type,
        auth_engine::auth_core::AccountType::Oidc
    );

    // The discovery document is cached and reused by clones.
    let again = provider
        .clone()
        .authorization_request(REDIRECT)
        .await
        .expect("second request");
    assert_ne!(again.checks.state, checks.state, "fresh checks each time");
}

#[tokio::test]
async fn oidc_userinfo_mode() {
    let idp = MockIdp::start().await;
    let provider = oidc(&idp).use_userinfo(true);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let outcome = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect("complete");
    assert_eq!(outcome.profile.id, "1001");
    assert_eq!(idp.userinfo_requests(), 1);
}

#[tokio::test]
async fn wrong_or_missing_state_is_invalid_check() {
    let idp = MockIdp::start().await;
    let provider = oidc(&idp);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;

    let mut wrong = request.checks.clone();
    wrong.state = Some("not-the-state".into());
    let err = provider
        .complete(REDIRECT, &callback, &wrong)
        .await
        .expect_err("state mismatch");
    assert!(matches!(err, OAuthError::InvalidState(_)), "{err:?}");
    assert_eq!(err.code(), "InvalidCheck");
    assert_eq!(err.page_code(), "Configuration");

    let mut missing = request.checks.clone();
    missing.state = None;
    let err = provider
        .complete(REDIRECT, &callback, &missing)
        .await
        .expect_err("state missing");
    assert_eq!(err.code(), "InvalidCheck");

    let mut no_param = callback.clone();
    no_param.state = None;
    let err = provider
        .complete(REDIRECT, &no_param, &request.checks)
        .await
        .expect_err("no param");
    assert_eq!(err.code(), "InvalidCheck");
    assert!(
        idp.token_requests().is_empty(),
        "no token request after a failed check"
    );
}

#[tokio::test]
async fn wrong_nonce_rejects_the_id_token() {
    let idp = MockIdp::start().await;
    let provider = oidc(&idp);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let mut checks = request.checks.clone();
    checks.nonce = Some("another-nonce".into());
    let err = provider
        .complete(REDIRECT, &callback, &checks)
        .await
        .expect_err("nonce mismatch");
    assert!(
        matches!(err, OAuthError::InvalidIdToken("nonce mismatch")),
        "{err:?}"
    );
    assert_eq!(err.code(), "InvalidCheck");

    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let mut checks = request.checks.clone();
    checks.nonce = None;
    let err = provider
        .complete(REDIRECT, &callback, &checks)
        .await
        .expect_err("nonce missing");
    assert!(matches!(err, OAuthError::MissingNonce), "{err:?}");
}

#[tokio::test]
async fn discovery_issuer_mismatch_is_configuration_error() {
    let idp = MockIdp::start().await;
    // The document's issuer has no trailing slash: it must match exactly.
    let provider = OAuthProvider::oidc(
        "mock",
        "Mock",
        format!("{}/", idp.issuer()),
        idp.client_id(),
        idp.client_secret(),
    );
    let err = provider
        .authorization_request(REDIRECT)
        .await
        .expect_err("issuer mismatch");
    assert_eq!(err.code(), "Configuration", "{err:?}");
}

#[tokio::test]
async fn provider_error_is_oauth_callback_error() {
    let idp = MockIdp::start().await;
    idp.fail_next_authorization("access_denied", Some("The user said no"));
    let provider = oidc(&idp);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    assert_eq!(callback.error.as_deref(), Some("access_denied"));
    let err = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect_err("denied");
    assert!(
        matches!(&err, OAuthError::Provider { error, .. } if error == "access_denied"),
        "{err:?}"
    );
    assert_eq!(err.code(), "OAuthCallbackError");
    assert_eq!(err.page_code(), "OAuthCallbackError");
    assert!(err.to_string().contains("The user said no"));
}

#[tokio::test]
async fn wrong_pkce_verifier_fails_the_token_exchange() {
    let idp = MockIdp::start().await;
    let provider = oauth2(&idp);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let mut checks = request.checks.clone();
    checks.pkce_verifier = Some("x".repeat(64));
    let err = provider
        .complete(REDIRECT, &callback, &checks)
        .await
        .expect_err("bad verifier");
    assert!(matches!(err, OAuthError::TokenRequest(_)), "{err:?}");
    assert_eq!(err.code(), "OAuthCallbackError");
    assert!(err.to_string().contains("invalid_grant"), "{err}");

    // Missing verifier cookie: refused before any token request.
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let mut checks = request.checks.clone();
    checks.pkce_verifier = None;
    let before = idp.token_requests().len();
    let err = provider
        .complete(REDIRECT, &callback, &checks)
        .await
        .expect_err("no verifier");
    assert!(matches!(err, OAuthError::MissingPkceVerifier));
    assert_eq!(idp.token_requests().len(), before);
}

#[tokio::test]
async fn code_is_single_use_and_bound_to_redirect_uri() {
    let idp = MockIdp::start().await;
    let provider = oauth2(&idp);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let err = provider
        .complete("http://app.test/elsewhere", &callback, &request.checks)
        .await
        .expect_err("redirect_uri mismatch");
    assert_eq!(err.code(), "OAuthCallbackError");
    // The mock consumed the code on the failed attempt.
    let err = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect_err("reused");
    assert!(matches!(err, OAuthError::TokenRequest(_)));
}

#[tokio::test]
async fn github_preset_fetches_primary_email_when_private() {
    let idp = MockIdp::start().await;
    let mut who = Identity::new("583231", "Octo@GitHub.example");
    who.name = None;
    who.login = Some("octocat".into());
    who.email_public = false;
    idp.set_next_identity(who);
    let provider =
        OAuthProvider::github_enterprise(&idp.base_url(), idp.client_id(), idp.client_secret());
    assert_eq!(provider.id(), "github");
    assert_eq!(provider.name(), "GitHub");

    let request = provider
        .authorization_request("http://app.test/api/auth/callback/mock")
        .await
        .expect("request");
    assert!(
        request
            .url
            .starts_with(&format!("{}/login/oauth/authorize?", idp.base_url()))
    );
    let callback = authorize(&request.url).await;
    let sent = &idp.authorize_requests()[0];
    assert_eq!(
        sent.get("scope").map(String::as_str),
        Some("read:user user:email")
    );

    let outcome = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect("complete");
    assert_eq!(outcome.profile.id, "583231", "numeric id as a string");
    assert_eq!(
        outcome.profile.name.as_deref(),
        Some("octocat"),
        "name falls back to login"
    );
    assert_eq!(
        outcome.profile.email.as_deref(),
        Some("octo@github.example"),
        "primary email, lowercased"
    );
    assert_eq!(
        outcome.profile.image.as_deref(),
        Some("https://avatars.example/583231.png")
    );
    assert_eq!(idp.userinfo_requests(), 2, "/user then /user/emails");
}

#[tokio::test]
async fn github_preset_uses_public_email() {
    let idp = MockIdp::start().await;
    idp.set_next_identity(Identity::new("7", "pub@example.com"));
    let provider =
        OAuthProvider::github_enterprise(&idp.base_url(), idp.client_id(), idp.client_secret());
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let outcome = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect("complete");
    assert_eq!(outcome.profile.email.as_deref(), Some("pub@example.com"));
    assert_eq!(idp.userinfo_requests(), 1, "no /user/emails call");
}

#[tokio::test]
async fn checks_can_be_configured() {
    let idp = MockIdp::start().await;
    idp.set_require_pkce(false);
    let provider = oauth2(&idp).checks([Check::State]);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    assert!(request.checks.pkce_verifier.is_none());
    assert!(!request.url.contains("code_challenge"));
    let callback = authorize(&request.url).await;
    provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect("complete");

    let provider = oauth2(&idp).checks([Check::Pkce]);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    assert!(request.checks.state.is_none());
    assert!(
        !request.url.contains("state="),
        "no state without the check: {}",
        request.url
    );
    let callback = authorize(&request.url).await;
    provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect("complete");
}

#[tokio::test]
async fn custom_profile_mapper_and_builder() {
    let idp = MockIdp::start().await;
    let provider = oidc(&idp)
        .with_id("corp")
        .with_name("Corp SSO")
        .with_dangerous_email_account_linking(true)
        .profile(|raw| {
            Some(auth_engine::oauth::Profile {
                id: format!("corp-{}", raw.get("sub")?.as_str()?),
                name: None,
                email: raw.get("email")?.as_str().map(str::to_owned),
                image: None,
            })
        });
    assert_eq!(provider.id(), "corp");
    assert_eq!(provider.name(), "Corp SSO");
    assert!(provider.allow_dangerous_email_account_linking());
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let outcome = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect("complete");
    assert_eq!(outcome.profile.id, "corp-1001");

    let rejecting = oidc(&idp).profile(|_| None);
    let request = rejecting
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let callback = authorize(&request.url).await;
    let err = rejecting
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect_err("rejected");
    assert_eq!(err.code(), "OAuthProfileParseError");
}

#[tokio::test]
async fn unreachable_discovery_is_configuration_error() {
    // A port nothing listens on (bind, read the port, drop).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider =
        OAuthProvider::oidc("x", "X", format!("http://127.0.0.1:{port}"), "id", "secret");
    let err = provider
        .authorization_request(REDIRECT)
        .await
        .expect_err("no server");
    assert_eq!(err.code(), "Configuration");
}

#[tokio::test]
async fn debug_and_errors_never_show_secrets() {
    let idp = MockIdp::start().await;
    let provider = oidc(&idp);
    let debug = format!("{provider:?}");
    assert!(!debug.contains(idp.client_secret()), "{debug}");
    assert!(debug.contains("[redacted]"));

    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let checks_debug = format!("{:?}", request.checks);
    for value in [
        &request.checks.state,
        &request.checks.pkce_verifier,
        &request.checks.nonce,
    ] {
        assert!(
            !checks_debug.contains(value.as_deref().expect("set")),
            "{checks_debug}"
        );
    }
    let callback = authorize(&request.url).await;
    let code = callback.code.clone().expect("code");
    assert!(!format!("{callback:?}").contains(&code));

    let outcome = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect("complete");
    let tokens_debug = format!("{:?} {:?}", outcome.tokens, outcome);
    for secret in [
        &outcome.tokens.access_token,
        &outcome.tokens.refresh_token,
        &outcome.tokens.id_token,
    ] {
        assert!(
            !tokens_debug.contains(secret.as_deref().expect("set")),
            "{tokens_debug}"
        );
    }

    // A failed exchange (code already used) mentions neither code nor verifier.
    let err = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect_err("reused");
    let text = format!("{err} {err:?}");
    assert!(!text.contains(&code));
    assert!(!text.contains(request.checks.pkce_verifier.as_deref().expect("verifier")));
    assert!(!text.contains(idp.client_secret()));
}

#[test]
fn callback_params_from_pairs_and_query() {
    let params = CallbackParams::from_pairs([
        ("code", "abc"),
        ("state", "s1"),
        ("state", "s2"),
        ("iss", "https://idp"),
        ("other", "x"),
    ]);
    assert_eq!(params.code.as_deref(), Some("abc"));
    assert_eq!(params.state.as_deref(), Some("s1"), "first value wins");
    assert_eq!(params.iss.as_deref(), Some("https://idp"));
    let params = CallbackParams::from_query("error=access_denied&error_description=no+way%21");
    assert_eq!(params.error.as_deref(), Some("access_denied"));
    assert_eq!(params.error_description.as_deref(), Some("no way!"));
    assert_eq!(
        Checks::default(),
        Checks {
            state: None,
            pkce_verifier: None,
            nonce: None
        }
    );
}

#[tokio::test]
async fn wrong_issuer_in_callback_is_rejected() {
    let idp = MockIdp::start().await;
    let provider = oidc(&idp);
    let request = provider
        .authorization_request(REDIRECT)
        .await
        .expect("request");
    let mut callback = authorize(&request.url).await;
    callback.iss = Some("https://evil.example".into());
    let err = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect_err("iss");
    assert!(matches!(err, OAuthError::IssuerMismatch(_)));
    callback.iss = None;
    let err = provider
        .complete(REDIRECT, &callback, &request.checks)
        .await
        .expect_err("no iss");
    assert!(
        matches!(err, OAuthError::IssuerMismatch(_)),
        "provider promises iss"
    );
}
