//! A mock OAuth 2 / OpenID Connect provider ("Mock GitHub") served by the
//! demo itself under `/mock-oauth`, so the whole OAuth flow runs in the
//! browser with no network and no accounts anywhere. **Not for production**:
//! anyone can sign in as anyone.
//!
//! | route | |
//! | --- | --- |
//! | `GET /mock-oauth/.well-known/openid-configuration` | OIDC discovery (HS256 ID tokens, S256 PKCE, RFC 9207 `iss`) |
//! | `GET /mock-oauth/jwks` | an empty key set (ID tokens are HS256 with the client secret) |
//! | `GET /mock-oauth/authorize` | checks the request, then shows the consent page: pick a test identity or type one |
//! | `POST /mock-oauth/authorize` | the consent: 302 back to the client with `code`, `state` and `iss` (or `error=access_denied`) |
//! | `POST /mock-oauth/token` | client secret (Basic or form), single-use code, `redirect_uri`, PKCE S256 verifier; an ID token with the `nonce` |
//! | `GET /mock-oauth/userinfo` | the identity's claims (Bearer) |
//!
//! The consent form carries only an unguessable, single-use ticket naming
//! the pending authorization request (kept server-side), so a forged POST
//! can neither complete someone else's request nor change its
//! `redirect_uri`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use auth_engine::pages::{escape, layout};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

/// The path the provider is mounted under.
pub const PREFIX: &str = "/mock-oauth";
/// The client id the demo registers with the engine.
pub const CLIENT_ID: &str = "demo-app";
/// The client secret (a fixed, public value: this provider is a mock).
pub const CLIENT_SECRET: &str = "demo-app-mock-client-secret";
/// The provider id in the engine (`/api/auth/signin/mock`).
pub const PROVIDER_ID: &str = "mock";
/// The provider's display name ("Sign in with Mock GitHub").
pub const PROVIDER_NAME: &str = "Mock GitHub";

/// How long a consent ticket, a code or an access token stays valid.
const LIFETIME: Duration = Duration::minutes(10);
/// At most this many pending requests, codes and tokens are kept each.
const MAX_PENDING: usize = 1000;

/// A test identity the consent page offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The subject (`sub`): the provider account id.
    pub sub: String,
    /// Display name.
    pub name: String,
    /// Email address (verified).
    pub email: String,
}

/// The identities offered with one click.
pub fn presets() -> Vec<Identity> {
    [
        ("1001", "Ada Lovelace", "ada@example.com"),
        ("1002", "Grace Hopper", "grace@example.com"),
        ("1003", "Alan Turing", "alan@example.com"),
    ]
    .into_iter()
    .map(|(sub, name, email)| Identity {
        sub: sub.into(),
        name: name.into(),
        email: email.into(),
    })
    .collect()
}

/// A checked authorization request waiting for consent.
#[derive(Clone, Debug)]
struct Pending {
    redirect_uri: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    scope: String,
    at: OffsetDateTime,
}

#[derive(Clone, Debug)]
struct Grant {
    pending: Pending,
    identity: Identity,
}

#[derive(Default)]
struct Store {
    pending: HashMap<String, Pending>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, (Identity, OffsetDateTime)>,
}

/// The provider's state: its issuer URL and what is in flight.
#[derive(Clone)]
pub struct MockOAuth {
    issuer: String,
    redirect_uri: String,
    store: Arc<Mutex<Store>>,
}

impl std::fmt::Debug for MockOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOAuth")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl MockOAuth {
    /// A provider for the site at `origin` (e.g. `http://127.0.0.1:3000`)
    /// whose engine is under `base_path`: the issuer is
    /// `ORIGIN/mock-oauth` and the only redirect URI accepted is
    /// `ORIGIN/BASE/callback/mock`.
    pub fn new(origin: &str, base_path: &str) -> Self {
        Self {
            issuer: format!("{origin}{PREFIX}"),
            redirect_uri: format!("{origin}{base_path}/callback/{PROVIDER_ID}"),
            store: Arc::default(),
        }
    }

    /// The issuer URL, to register with `OAuthProvider::oidc`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The routes, to nest at [`PREFIX`].
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(|| async { Json(json!({ "keys": [] })) }))
            .route("/authorize", get(authorize).post(consent))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(self.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let cutoff = OffsetDateTime::now_utc() - LIFETIME;
        store.pending.retain(|_, p| p.at > cutoff);
        store.codes.retain(|_, g| g.pending.at > cutoff);
        store.tokens.retain(|_, (_, at)| *at > cutoff);
        store
    }
}

fn random() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn bad_request(message: &str) -> Response {
    let body = format!(
        "<h1>Mock GitHub</h1><div class=\"error\" role=\"alert\">{}</div>",
        escape(message)
    );
    (
        StatusCode::BAD_REQUEST,
        Html(layout("Mock GitHub: bad request", &body)),
    )
        .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn discovery(State(p): State<MockOAuth>) -> Json<Value> {
    let base = &p.issuer;
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["HS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
        "authorization_response_iss_parameter_supported": true,
        "claims_supported": ["sub", "name", "email", "email_verified"],
    }))
}

fn first_values(pairs: Vec<(String, String)>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

/// `GET /authorize`: checks the request and shows the consent page.
async fn authorize(
    State(p): State<MockOAuth>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let q = first_values(pairs);
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return bad_request("Unknown client_id.");
    }
    if q.get("redirect_uri") != Some(&p.redirect_uri) {
        return bad_request("This redirect_uri is not registered for the client.");
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        return bad_request("Only response_type=code is supported.");
    }
    let (Some(challenge), Some("S256")) = (
        q.get("code_challenge"),
        q.get("code_challenge_method").map(String::as_str),
    ) else {
        return bad_request("PKCE with code_challenge_method=S256 is required.");
    };
    let ticket = random();
    {
        let mut store = p.lock();
        if store.pending.len() >= MAX_PENDING {
            return bad_request("Too many pending sign-ins; try again in a few minutes.");
        }
        store.pending.insert(
            ticket.clone(),
            Pending {
                redirect_uri: p.redirect_uri.clone(),
                state: q.get("state").cloned(),
                nonce: q.get("nonce").cloned(),
                code_challenge: challenge.clone(),
                scope: q.get("scope").cloned().unwrap_or_default(),
                at: OffsetDateTime::now_utc(),
            },
        );
    }
    Html(consent_page(&ticket)).into_response()
}

const CONSENT_STYLE: &str = "<style>.identity{margin:0 0 .5rem}.identity button{text-align:left}\
.identity small{display:block;opacity:.75;font-size:.8rem}\
input[type=text]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #c9ccd1;border-radius:6px;margin-bottom:.6rem}\
.badge{display:inline-block;background:#fff4d6;color:#7a5300;border-radius:4px;padding:.1rem .4rem;font-size:.75rem}\
.secondary{background:#fff;color:#1f2328;border:1px solid #c9ccd1}</style>";

fn consent_page(ticket: &str) -> String {
    let ticket = escape(ticket);
    let mut body = format!(
        "{CONSENT_STYLE}<h1>Mock GitHub</h1>\
<p><span class=\"badge\">test provider</span> <strong>Demo app</strong> wants to sign you in. \
Pick a test identity or type one: nothing leaves this machine.</p>"
    );
    for identity in presets() {
        body.push_str(&format!(
            "<form class=\"identity\" method=\"post\" action=\"{PREFIX}/authorize\">\
<input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
<input type=\"hidden\" name=\"sub\" value=\"{sub}\">\
<input type=\"hidden\" name=\"name\" value=\"{name}\">\
<input type=\"hidden\" name=\"email\" value=\"{email}\">\
<button type=\"submit\" id=\"identity-{sub}\">Continue as {name}<small>{email} · sub {sub}</small></button></form>",
            sub = escape(&identity.sub),
            name = escape(&identity.name),
            email = escape(&identity.email),
        ));
    }
    body.push_str(&format!(
        "<hr><form id=\"custom-identity\" method=\"post\" action=\"{PREFIX}/authorize\">\
<input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
<label for=\"sub\">Subject (provider account id)</label><input type=\"text\" id=\"sub\" name=\"sub\" required maxlength=\"64\" placeholder=\"e.g. 4242\">\
<label for=\"name\">Name</label><input type=\"text\" id=\"name\" name=\"name\" maxlength=\"100\" placeholder=\"e.g. Katherine Johnson\">\
<label for=\"email\">Email</label><input type=\"text\" id=\"email\" name=\"email\" maxlength=\"200\" placeholder=\"e.g. katherine@example.com\">\
<button type=\"submit\" id=\"continue-custom\">Continue with this identity</button></form>\
<form method=\"post\" action=\"{PREFIX}/authorize\">\
<input type=\"hidden\" name=\"ticket\" value=\"{ticket}\"><input type=\"hidden\" name=\"deny\" value=\"1\">\
<button type=\"submit\" class=\"secondary\" id=\"deny\">Cancel</button></form>"
    ));
    layout("Mock GitHub: authorize Demo app", &body)
}

/// `POST /authorize`: the user picked an identity (or cancelled).
async fn consent(State(p): State<MockOAuth>, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let form = first_values(pairs);
    let Some(pending) = form.get("ticket").and_then(|t| p.lock().pending.remove(t)) else {
        return bad_request(
            "This sign-in request expired or was already answered. Start again from the app.",
        );
    };
    let Ok(mut location) = url::Url::parse(&pending.redirect_uri) else {
        return bad_request("Invalid redirect_uri.");
    };
    let field = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let mut reply: Vec<(&str, String)> = Vec::new();
    if form.contains_key("deny") {
        reply.push(("error", "access_denied".into()));
        reply.push(("error_description", "The user cancelled.".into()));
    } else {
        let sub = field("sub");
        if sub.is_empty() || sub.len() > 64 {
            return bad_request("The subject must be 1 to 64 characters.");
        }
        let identity = Identity {
            name: Some(field("name"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("User {sub}")),
            email: field("email"),
            sub,
        };
        if identity.name.len() > 100 || identity.email.len() > 200 {
            return bad_request("The name or email is too long.");
        }
        let code = random();
        let mut store = p.lock();
        if store.codes.len() >= MAX_PENDING {
            return bad_request("Too many pending sign-ins; try again in a few minutes.");
        }
        store.codes.insert(
            code.clone(),
            Grant {
                pending: Pending {
                    at: OffsetDateTime::now_utc(),
                    ..pending.clone()
                },
                identity,
            },
        );
        reply.push(("code", code));
    }
    {
        let mut q = location.query_pairs_mut();
        for (k, v) in &reply {
            q.append_pair(k, v);
        }
        if let Some(state) = &pending.state {
            q.append_pair("state", state);
        }
        q.append_pair("iss", &p.issuer);
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// The client's credentials: HTTP Basic or the form.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |v: &str| -> String {
            url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some((unescape(id), unescape(secret)));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

/// `POST /token`: exchanges a code for tokens.
async fn token(
    State(p): State<MockOAuth>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form = first_values(pairs);
    match client_credentials(&headers, &form) {
        Some((id, secret)) if id == CLIENT_ID && secret == CLIENT_SECRET => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            );
        }
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    let mut store = p.lock();
    let Some(grant) = form.get("code").and_then(|c| store.codes.remove(c)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown or used code",
        );
    };
    if form.get("redirect_uri") != Some(&grant.pending.redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri mismatch",
        );
    }
    let verified = form.get("code_verifier").is_some_and(|v| {
        URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == grant.pending.code_challenge
    });
    if !verified {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed",
        );
    }
    let access_token = random();
    store.tokens.insert(
        access_token.clone(),
        (grant.identity.clone(), OffsetDateTime::now_utc()),
    );
    drop(store);
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": LIFETIME.whole_seconds(),
        "scope": grant.pending.scope,
    });
    if grant.pending.scope.split(' ').any(|s| s == "openid") {
        body["id_token"] = Value::String(id_token(&p.issuer, &grant));
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

fn claims(identity: &Identity) -> Value {
    let email = Some(identity.email.as_str()).filter(|e| !e.is_empty());
    json!({
        "sub": identity.sub,
        "name": identity.name,
        "email": email,
        "email_verified": email.is_some(),
    })
}

/// An HS256 ID token signed with the client secret (as OIDC allows for
/// confidential clients).
fn id_token(issuer: &str, grant: &Grant) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut c = claims(&grant.identity);
    c["iss"] = json!(issuer);
    c["aud"] = json!(CLIENT_ID);
    c["iat"] = json!(now);
    c["exp"] = json!(now + LIFETIME.whole_seconds());
    if let Some(nonce) = &grant.pending.nonce {
        c["nonce"] = json!(nonce);
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(c.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(CLIENT_SECRET.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// `GET /userinfo`: the claims of the Bearer token's identity.
async fn userinfo(State(p): State<MockOAuth>, headers: HeaderMap) -> Response {
    let identity = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| p.lock().tokens.get(t).map(|(i, _)| i.clone()));
    match identity {
        Some(identity) => Json(claims(&identity)).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response(),
    }
}
