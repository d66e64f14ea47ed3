//! An in-process OAuth 2 / OpenID Connect provider on a local port, for tests
//! and demos (cargo feature `mock-idp`, off by default). **Not for
//! production**: it consents automatically for whichever [`Identity`] is
//! queued.
//!
//! Routes (all under [`MockIdp::base_url`], which is also the issuer):
//!
//! | route | |
//! | --- | --- |
//! | `GET /.well-known/openid-configuration` | discovery (HS256 ID tokens, S256 PKCE, RFC 9207 `iss`) |
//! | `GET /jwks` | an empty key set (ID tokens are HS256 with the client secret) |
//! | `GET /authorize` | validates `client_id`, `redirect_uri`, `response_type=code`, PKCE S256; auto-consents; 302 to `redirect_uri?code&state&iss` |
//! | `POST /token` | `client_secret_basic` or `client_secret_post`; verifies code (single use), `redirect_uri`, PKCE verifier; returns `access_token`, `refresh_token`, `expires_in`, `token_type: "Bearer"`, `scope`, and an `id_token` (with `nonce`) when `openid` was requested |
//! | `GET /userinfo` | OIDC claims (Bearer) |
//! | `GET /login/oauth/authorize`, `POST /login/oauth/access_token` | the same, GitHub-shaped (no `iss` in the redirect) |
//! | `GET /user`, `GET /user/emails` (also under `/api/v3`) | GitHub-shaped profile and email list (Bearer) |
//!
//! So `OAuthProvider::oidc("mock", "Mock", idp.issuer(), MockIdp::CLIENT_ID,
//! MockIdp::CLIENT_SECRET)` and `OAuthProvider::github_enterprise(idp.base_url(), …)`
//! both sign in against it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

/// Who signs in at the next authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The subject: OIDC `sub`; GitHub `id` (a number when it parses as one).
    pub sub: String,
    /// Display name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// OIDC `email_verified`.
    pub email_verified: bool,
    /// Avatar URL (OIDC `picture`, GitHub `avatar_url`).
    pub picture: Option<String>,
    /// GitHub `login`.
    pub login: Option<String>,
    /// GitHub: whether `/user` shows the email. When `false`, `/user` has
    /// `"email": null` and the address is only in `/user/emails` (as the
    /// primary one, after a non-primary decoy).
    pub email_public: bool,
}

impl Identity {
    /// An identity with a verified, public email and a name.
    pub fn new(sub: impl Into<String>, email: impl Into<String>) -> Self {
        let sub = sub.into();
        Self {
            name: Some(format!("User {sub}")),
            login: Some(format!("user{sub}")),
            picture: Some(format!("https://avatars.example/{sub}.png")),
            sub,
            email: Some(email.into()),
            email_verified: true,
            email_public: true,
        }
    }
}

impl Default for Identity {
    fn default() -> Self {
        Self::new("1001", "alice@example.com")
    }
}

/// How a token request authenticated the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic.
    Basic,
    /// `client_id` and `client_secret` in the form.
    Post,
    /// None (rejected).
    None,
}

/// A recorded token request.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    /// How the client authenticated.
    pub client_auth: ClientAuth,
    /// The form parameters (first value of each name; includes the code and
    /// the code verifier: this is a test double).
    pub params: BTreeMap<String, String>,
}

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    scope: String,
    identity: Identity,
}

struct MockState {
    identities: VecDeque<Identity>,
    default_identity: Identity,
    next_error: Option<(String, Option<String>)>,
    codes: HashMap<String, CodeGrant>,
    access_tokens: HashMap<String, Identity>,
    authorize_requests: Vec<BTreeMap<String, String>>,
    token_requests: Vec<TokenRequest>,
    userinfo_requests: usize,
    expires_in: u64,
    require_pkce: bool,
}

struct Shared {
    issuer: String,
    client_id: String,
    client_secret: String,
    state: Mutex<MockState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, MockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running mock provider; stops when dropped.
pub struct MockIdp {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for MockIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockIdp")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for MockIdp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl MockIdp {
    /// The client id the mock accepts.
    pub const CLIENT_ID: &'static str = "mock-client";
    /// The client secret the mock accepts (and signs ID tokens with).
    pub const CLIENT_SECRET: &'static str = "mock-client-secret-0123456789abcdef";

    /// Starts the mock on `127.0.0.1:0` in the current tokio runtime.
    ///
    /// # Panics
    /// When no local port can be bound; see [`try_start`](Self::try_start).
    pub async fn start() -> Self {
        match Self::try_start().await {
            Ok(idp) => idp,
            Err(e) => panic!("mock IdP could not bind 127.0.0.1:0: {e}"),
        }
    }

    /// Starts the mock on `127.0.0.1:0`, or says why it could not bind.
    pub async fn try_start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            issuer: format!("http://{addr}"),
            client_id: Self::CLIENT_ID.to_owned(),
            client_secret: Self::CLIENT_SECRET.to_owned(),
            state: Mutex::new(MockState {
                identities: VecDeque::new(),
                default_identity: Identity::default(),
                next_error: None,
                codes: HashMap::new(),
                access_tokens: HashMap::new(),
                authorize_requests: Vec::new(),
                token_requests: Vec::new(),
                userinfo_requests: 0,
                expires_in: 3600,
                require_pkce: true,
            }),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize_oidc))
            .route("/login/oauth/authorize", get(authorize_github))
            .route("/token", post(token))
            .route("/login/oauth/access_token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/user", get(github_user))
            .route("/user/emails", get(github_emails))
            .route("/api/v3/user", get(github_user))
            .route("/api/v3/user/emails", get(github_emails))
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The issuer identifier (same as [`base_url`](Self::base_url)).
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The client id the mock accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.client_id
    }

    /// The client secret the mock accepts.
    pub fn client_secret(&self) -> &str {
        &self.shared.client_secret
    }

    /// Queues who signs in at the next authorization request (a FIFO queue;
    /// when empty, the default identity signs in).
    pub fn set_next_identity(&self, identity: Identity) {
        self.shared.lock().identities.push_back(identity);
    }

    /// Replaces the identity used when the queue is empty.
    pub fn set_default_identity(&self, identity: Identity) {
        self.shared.lock().default_identity = identity;
    }

    /// Makes the next authorization request answer with
    /// `error=ERROR&error_description=…` (e.g. `access_denied`).
    pub fn fail_next_authorization(&self, error: &str, description: Option<&str>) {
        self.shared.lock().next_error = Some((error.to_owned(), description.map(str::to_owned)));
    }

    /// The `expires_in` of issued tokens (default 3600).
    pub fn set_expires_in(&self, seconds: u64) {
        self.shared.lock().expires_in = seconds;
    }

    /// Whether `/authorize` demands a PKCE challenge (default true).
    pub fn set_require_pkce(&self, require: bool) {
        self.shared.lock().require_pkce = require;
    }

    /// Query parameters of every authorization request so far.
    pub fn authorize_requests(&self) -> Vec<BTreeMap<String, String>> {
        self.shared.lock().authorize_requests.clone()
    }

    /// Every token request so far.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.shared.lock().token_requests.clone()
    }

    /// How many userinfo-style requests (`/userinfo`, `/user`,
    /// `/user/emails`) were made.
    pub fn userinfo_requests(&self) -> usize {
        self.shared.lock().userinfo_requests
    }
}

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

type AppState = State<Arc<Shared>>;

fn first_values(pairs: Vec<(String, String)>) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k).or_insert(v);
    }
    map
}

fn random() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn discovery(State(s): AppState) -> Json<Value> {
    let base = &s.issuer;
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
        "claims_supported": ["sub", "name", "email", "email_verified", "picture"],
    }))
}

async fn jwks() -> Json<Value> {
    Json(json!({ "keys": [] }))
}

async fn authorize_oidc(state: AppState, query: Query<Vec<(String, String)>>) -> Response {
    authorize(state, query, true)
}

async fn authorize_github(state: AppState, query: Query<Vec<(String, String)>>) -> Response {
    authorize(state, query, false)
}

fn authorize(
    State(s): AppState,
    Query(pairs): Query<Vec<(String, String)>>,
    send_iss: bool,
) -> Response {
    let params = first_values(pairs);
    let mut st = s.lock();
    st.authorize_requests.push(params.clone());
    if params.get("client_id") != Some(&s.client_id) {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return (StatusCode::BAD_REQUEST, "missing redirect_uri").into_response();
    };
    let Ok(mut location) = url::Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "invalid redirect_uri").into_response();
    };
    let state_param = params.get("state").cloned();
    let mut reply = |pairs: &[(&str, &str)]| {
        {
            let mut q = location.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
            if let Some(state) = &state_param {
                q.append_pair("state", state);
            }
            if send_iss {
                q.append_pair("iss", &s.issuer);
            }
        }
        (
            StatusCode::FOUND,
            [(header::LOCATION, location.to_string())],
        )
            .into_response()
    };
    if let Some((error, description)) = st.next_error.take() {
        let mut pairs = vec![("error", error.as_str())];
        if let Some(d) = &description {
            pairs.push(("error_description", d.as_str()));
        }
        return reply(&pairs);
    }
    if params.get("response_type").map(String::as_str) != Some("code") {
        return reply(&[("error", "unsupported_response_type")]);
    }
    let challenge = params.get("code_challenge").cloned();
    match (
        &challenge,
        params.get("code_challenge_method").map(String::as_str),
    ) {
        (Some(_), Some("S256")) => {}
        (Some(_), _) => {
            return reply(&[
                ("error", "invalid_request"),
                ("error_description", "only S256 PKCE"),
            ]);
        }
        (None, _) if st.require_pkce => {
            return reply(&[
                ("error", "invalid_request"),
                ("error_description", "PKCE required"),
            ]);
        }
        (None, _) => {}
    }
    let identity = st
        .identities
        .pop_front()
        .unwrap_or_else(|| st.default_identity.clone());
    let code = random();
    st.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: s.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            code_challenge: challenge,
            nonce: params.get("nonce").cloned(),
            scope: params.get("scope").cloned().unwrap_or_default(),
            identity,
        },
    );
    drop(st);
    reply(&[("code", code.as_str())])
}

fn client_auth(
    headers: &HeaderMap,
    params: &BTreeMap<String, String>,
) -> (ClientAuth, Option<(String, String)>) {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(encoded) = value.strip_prefix("Basic ")
    {
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                let (id, secret) = s.split_once(':')?;
                let unescape = |v: &str| -> String {
                    url::form_urlencoded::parse(format!("v={v}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                Some((unescape(id), unescape(secret)))
            });
        return (ClientAuth::Basic, decoded);
    }
    match (params.get("client_id"), params.get("client_secret")) {
        (Some(id), Some(secret)) => (ClientAuth::Post, Some((id.clone(), secret.clone()))),
        _ => (ClientAuth::None, None),
    }
}

async fn token(
    State(s): AppState,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let params = first_values(pairs);
    let (auth, credentials) = client_auth(&headers, &params);
    let mut st = s.lock();
    st.token_requests.push(TokenRequest {
        client_auth: auth,
        params: params.clone(),
    });
    match credentials {
        Some((id, secret)) if id == s.client_id && secret == s.client_secret => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            );
        }
    }
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    let Some(grant) = params.get("code").and_then(|c| st.codes.remove(c)) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown or used code",
        );
    };
    if grant.client_id != s.client_id || params.get("redirect_uri") != Some(&grant.redirect_uri) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri mismatch",
        );
    }
    if let Some(challenge) = &grant.code_challenge {
        let ok = params
            .get("code_verifier")
            .is_some_and(|v| URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *challenge);
        if !ok {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "PKCE verification failed",
            );
        }
    }
    let access_token = random();
    let expires_in = st.expires_in;
    st.access_tokens
        .insert(access_token.clone(), grant.identity.clone());
    drop(st);
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "refresh_token": random(),
        "scope": grant.scope,
    });
    if grant.scope.split(' ').any(|s| s == "openid") {
        body["id_token"] = Value::String(id_token(&s, &grant));
    }
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

fn oidc_claims(identity: &Identity) -> Value {
    json!({
        "sub": identity.sub,
        "name": identity.name,
        "email": identity.email,
        "email_verified": identity.email_verified,
        "picture": identity.picture,
    })
}

fn id_token(s: &Shared, grant: &CodeGrant) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = oidc_claims(&grant.identity);
    claims["iss"] = json!(s.issuer);
    claims["aud"] = json!(s.client_id);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 3600);
    if let Some(nonce) = &grant.nonce {
        claims["nonce"] = json!(nonce);
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(s.client_secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as hmac::KeyInit>::new(&Default::default()));
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn bearer_identity(s: &Shared, headers: &HeaderMap) -> Option<Identity> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let mut st = s.lock();
    st.userinfo_requests += 1;
    st.access_tokens.get(token).cloned()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        Json(json!({ "message": "Bad credentials" })),
    )
        .into_response()
}

async fn userinfo(State(s): AppState, headers: HeaderMap) -> Response {
    match bearer_identity(&s, &headers) {
        Some(identity) => Json(oidc_claims(&identity)).into_response(),
        None => unauthorized(),
    }
}

async fn github_user(State(s): AppState, headers: HeaderMap) -> Response {
    let Some(identity) = bearer_identity(&s, &headers) else {
        return unauthorized();
    };
    let id = identity
        .sub
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(identity.sub.clone()));
    let email = if identity.email_public {
        identity.email.clone()
    } else {
        None
    };
    Json(json!({
        "login": identity.login,
        "id": id,
        "avatar_url": identity.picture,
        "name": identity.name,
        "email": email,
        "type": "User",
    }))
    .into_response()
}

async fn github_emails(State(s): AppState, headers: HeaderMap) -> Response {
    let Some(identity) = bearer_identity(&s, &headers) else {
        return unauthorized();
    };
    let mut emails = vec![json!({
        "email": format!("secondary-{}@users.noreply.example", identity.sub),
        "primary": false,
        "verified": true,
        "visibility": null,
    })];
    if let Some(email) = &identity.email {
        emails.push(json!({
            "email": email,
            "primary": true,
            "verified": identity.email_verified,
            "visibility": "private",
        }));
    }
    Json(Value::Array(emails)).into_response()
}
