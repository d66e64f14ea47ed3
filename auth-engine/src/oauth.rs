//! OAuth 2 and OpenID Connect providers, as Auth.js's `oauth` and `oidc`
//! provider types.
//!
//! A sign-in has two halves:
//!
//! 1. [`OAuthProvider::authorization_request`] builds the URL to send the
//!    browser to, and the [`Checks`] (state, PKCE code verifier, nonce) the
//!    engine keeps in its short-lived encrypted cookies (`authjs.state`,
//!    `authjs.pkce.code_verifier`, `authjs.nonce`).
//! 2. [`OAuthProvider::complete`] takes the provider's redirect back
//!    ([`CallbackParams`]) and those [`Checks`], verifies the state, exchanges
//!    the code (with the PKCE verifier), validates the ID token (OIDC:
//!    signature, issuer, audience, expiry, nonce), fetches the profile and
//!    returns an [`OAuthOutcome`]: the [`Profile`] the user is made from and
//!    the [`TokenSet`] the account keeps.
//!
//! The token exchange runs on the `oauth2` crate, discovery and ID-token
//! validation on `openidconnect`. Every call to the provider has a timeout
//! (10 s by default) and never follows redirects. Errors never contain a
//! token, code, verifier or secret, and neither does any `Debug` output.
//!
//! ```no_run
//! # async fn demo() -> Result<(), auth_engine::oauth::OAuthError> {
//! use auth_engine::oauth::{CallbackParams, OAuthProvider};
//!
//! let github = OAuthProvider::github("client-id", "client-secret");
//! let redirect_uri = "https://app.example/api/auth/callback/github";
//! let request = github.authorization_request(redirect_uri).await?;
//! // … store request.checks in cookies, redirect the browser to request.url …
//! # let query = "";
//! let callback = CallbackParams::from_query(query);
//! let outcome = github.complete(redirect_uri, &callback, &request.checks).await?;
//! println!("signed in as {:?}", outcome.profile.email);
//! # Ok(()) }
//! ```

mod http;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::{Account, AccountType};
use base64::Engine as _;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse as _, TokenUrl,
};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKey, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{ClaimsVerificationError, IssuerUrl, Nonce, SignatureVerificationError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;
use tokio::sync::Mutex;

use self::http::{Http, HttpError};

const REDACTED: &str = "[redacted]";
/// Default timeout of each request to a provider.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long discovered metadata (and its JWKS) is reused.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// Longest provider-supplied text (error codes, descriptions) kept in errors.
const MAX_PROVIDER_TEXT: usize = 200;

// ---------------------------------------------------------------------------
// Public data types
// ---------------------------------------------------------------------------

/// Auth.js's provider `type` for OAuth providers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// A plain OAuth 2 provider (`"oauth"`): the profile comes from a
    /// userinfo endpoint.
    OAuth,
    /// An OpenID Connect provider (`"oidc"`): endpoints come from discovery
    /// and the profile from the validated ID token.
    Oidc,
}

impl ProviderKind {
    /// `"oauth"` or `"oidc"`, as in Auth.js's `/providers` answer and the
    /// account's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OAuth => "oauth",
            Self::Oidc => "oidc",
        }
    }

    /// The account type stored for accounts of this provider.
    pub fn account_type(self) -> AccountType {
        match self {
            Self::OAuth => AccountType::OAuth,
            Self::Oidc => AccountType::Oidc,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the checks that bind a callback to the browser that started the
/// sign-in (Auth.js's `checks` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Check {
    /// PKCE with S256 (`code_challenge` / `code_verifier`).
    Pkce,
    /// The `state` parameter, compared in constant time.
    State,
    /// The OIDC `nonce`, compared with the ID token's `nonce` claim (OIDC
    /// providers only; ignored for plain OAuth 2).
    Nonce,
}

/// The check values created for one sign-in attempt. The engine stores each
/// present value in its cookie (`authjs.state`, `authjs.pkce.code_verifier`,
/// `authjs.nonce`, bound to the provider id) and hands them back to
/// [`OAuthProvider::complete`]. `Debug` redacts the values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Checks {
    /// The `state` sent to the provider.
    pub state: Option<String>,
    /// The PKCE code verifier (secret).
    pub pkce_verifier: Option<String>,
    /// The OIDC nonce sent to the provider.
    pub nonce: Option<String>,
}

impl fmt::Debug for Checks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checks")
            .field("state", &redact(&self.state))
            .field("pkce_verifier", &redact(&self.pkce_verifier))
            .field("nonce", &redact(&self.nonce))
            .finish()
    }
}

/// Where to send the browser, and the checks to keep until the callback.
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    /// The provider's authorization URL with every parameter.
    pub url: String,
    /// The values to store in the check cookies.
    pub checks: Checks,
}

/// The parameters of the provider's redirect to the callback URL, from the
/// query string (`GET`) or the form body (`POST`, `response_mode=form_post`).
/// `Debug` redacts the code.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    /// The authorization code (secret).
    pub code: Option<String>,
    /// The returned `state`.
    pub state: Option<String>,
    /// The provider's error code, e.g. `access_denied`.
    pub error: Option<String>,
    /// The provider's error description.
    pub error_description: Option<String>,
    /// The issuer identifier (RFC 9207), when the provider sends one.
    pub iss: Option<String>,
}

impl CallbackParams {
    /// Collects the known parameters from `(name, value)` pairs; unknown
    /// names are ignored, and for a repeated name the first value wins.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut params = Self::default();
        for (key, value) in pairs {
            let slot = match key.as_ref() {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                "iss" => &mut params.iss,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into());
            }
        }
        params
    }

    /// Parses an `application/x-www-form-urlencoded` string: a URL query
    /// (without `?`) or a `form_post` body.
    pub fn from_query(query: &str) -> Self {
        Self::from_pairs(url::form_urlencoded::parse(query.as_bytes()).into_owned())
    }
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &redact(&self.code))
            .field("state", &redact(&self.state))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("iss", &self.iss)
            .finish()
    }
}

/// The user as the provider describes them (Auth.js's `profile()` result).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The user's id at the provider: the account's `providerAccountId`.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Email address, lowercased.
    pub email: Option<String>,
    /// Avatar URL.
    pub image: Option<String>,
}

/// The token fields Auth.js keeps on the account. `Debug` redacts the
/// tokens.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token (secret).
    pub access_token: Option<String>,
    /// The refresh token (secret).
    pub refresh_token: Option<String>,
    /// The raw ID token (secret).
    pub id_token: Option<String>,
    /// The token type, lowercased (`"bearer"`).
    pub token_type: Option<String>,
    /// The granted scopes, as the provider sent them.
    pub scope: Option<String>,
    /// The provider's `session_state` (secret).
    pub session_state: Option<String>,
    /// When the access token expires: now + `expires_in`, in unix seconds.
    pub expires_at: Option<i64>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &redact(&self.access_token))
            .field("refresh_token", &redact(&self.refresh_token))
            .field("id_token", &redact(&self.id_token))
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("session_state", &redact(&self.session_state))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl TokenSet {
    /// The account row Auth.js links: these tokens, the provider's id and
    /// type, and `provider_account_id` (normally [`Profile::id`]).
    pub fn into_account(
        self,
        user_id: &str,
        provider: &OAuthProvider,
        provider_account_id: &str,
    ) -> Account {
        let mut account = Account::new(
            user_id,
            provider.kind().account_type(),
            provider.id(),
            provider_account_id,
        );
        account.access_token = self.access_token;
        account.refresh_token = self.refresh_token;
        account.id_token = self.id_token;
        account.token_type = self.token_type;
        account.scope = self.scope;
        account.session_state = self.session_state;
        account.expires_at = self.expires_at;
        account
    }
}

/// The result of a completed callback.
#[derive(Clone, Debug)]
pub struct OAuthOutcome {
    /// The mapped profile (email lowercased).
    pub profile: Profile,
    /// The tokens to keep on the account.
    pub tokens: TokenSet,
    /// The provider's type.
    pub kind: ProviderKind,
    /// The raw profile the mapping was made from: the userinfo JSON
    /// (OAuth 2) or the validated ID-token claims (OIDC), as Auth.js passes
    /// `profile` to the `signIn` and `jwt` callbacks. May hold personal data;
    /// holds no token.
    pub raw_profile: Value,
}

/// Why a sign-in through an OAuth provider failed. Messages never contain a
/// token, code, verifier or secret; provider-supplied text is truncated and
/// stripped of control characters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The `state` check failed: missing cookie, missing parameter or
    /// mismatch (Auth.js `InvalidCheck`).
    #[error("state check failed: {0}")]
    InvalidState(&'static str),
    /// The PKCE code verifier cookie is missing (Auth.js `InvalidCheck`).
    #[error("PKCE code verifier is missing")]
    MissingPkceVerifier,
    /// The nonce cookie is missing (Auth.js `InvalidCheck`).
    #[error("nonce is missing")]
    MissingNonce,
    /// The callback's `iss` is not the provider's issuer (RFC 9207), or it
    /// is missing though the provider promises it (Auth.js `InvalidCheck`).
    #[error("authorization response issuer check failed: {0}")]
    IssuerMismatch(&'static str),
    /// The ID token is missing or invalid: signature, issuer, audience,
    /// expiry or nonce (Auth.js `InvalidCheck`).
    #[error("ID token rejected: {0}")]
    InvalidIdToken(&'static str),
    /// The provider answered the authorization request with an error, e.g.
    /// `access_denied` (Auth.js `OAuthCallbackError`).
    #[error("provider returned an error: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider {
        /// The OAuth error code (sanitised).
        error: String,
        /// The error description (sanitised), if any.
        description: Option<String>,
    },
    /// The callback has neither a code nor an error (Auth.js
    /// `OAuthCallbackError`).
    #[error("callback has no authorization code")]
    MissingCode,
    /// The token request failed (Auth.js `OAuthCallbackError`).
    #[error("token request failed: {0}")]
    TokenRequest(String),
    /// The userinfo request failed (Auth.js `OAuthCallbackError`).
    #[error("userinfo request failed: {0}")]
    Userinfo(String),
    /// The profile could not be mapped (no id, or the mapper refused it)
    /// (Auth.js `OAuthProfileParseError`).
    #[error("profile could not be parsed: {0}")]
    ProfileParse(String),
    /// The provider is misconfigured or its discovery document is missing
    /// or invalid (Auth.js `Configuration`).
    #[error("provider configuration error: {0}")]
    Configuration(String),
}

impl OAuthError {
    /// The Auth.js error type: `InvalidCheck`, `OAuthCallbackError`,
    /// `OAuthProfileParseError` or `Configuration`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidState(_)
            | Self::MissingPkceVerifier
            | Self::MissingNonce
            | Self::IssuerMismatch(_)
            | Self::InvalidIdToken(_) => "InvalidCheck",
            Self::Provider { .. }
            | Self::MissingCode
            | Self::TokenRequest(_)
            | Self::Userinfo(_) => "OAuthCallbackError",
            Self::ProfileParse(_) => "OAuthProfileParseError",
            Self::Configuration(_) => "Configuration",
        }
    }

    /// The code Auth.js puts in the error page's `?error=` for this error:
    /// its client-safe types go through unchanged (here only
    /// `OAuthCallbackError`), every other type becomes `Configuration`.
    pub fn page_code(&self) -> &'static str {
        match self.code() {
            "OAuthCallbackError" => "OAuthCallbackError",
            _ => "Configuration",
        }
    }
}

/// Installs rustls's `ring` crypto provider as the process-wide default,
/// unless one is installed already. The engine never needs it (its HTTP
/// client names its provider); it is for code that builds a rustls config
/// from the process default while both `ring` and `aws-lc-rs` are compiled
/// in, where rustls cannot pick one by itself.
pub fn install_crypto_provider() {
    http::install_crypto_provider();
}

// ---------------------------------------------------------------------------
// Provider
// ---------------------------------------------------------------------------

/// Maps the raw profile JSON (userinfo answer or ID-token claims) to a
/// [`Profile`]; `None` rejects it.
pub type ProfileMapper = Arc<dyn Fn(&Value) -> Option<Profile> + Send + Sync>;

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClientAuthMethod {
    /// HTTP Basic (`client_secret_basic`), Auth.js's default.
    #[default]
    ClientSecretBasic,
    /// In the form body (`client_secret_post`).
    ClientSecretPost,
}

#[derive(Clone, Debug)]
enum Endpoints {
    /// Fixed endpoints (plain OAuth 2).
    Static {
        authorization: String,
        token: String,
        userinfo: Option<String>,
    },
    /// OpenID Connect discovery from the issuer, fetched on first use.
    Discovery {
        issuer: String,
        cache: DiscoveryCache,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UserinfoStyle {
    /// `GET userinfo` with the bearer token; the JSON is the profile.
    Standard,
    /// GitHub: `GET /user`, and when its email is null, the primary address
    /// of `GET /user/emails`.
    GitHub,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct CheckSet {
    pkce: bool,
    state: bool,
    nonce: bool,
}

/// Metadata from discovery.
#[derive(Debug)]
struct Discovered {
    issuer: IssuerUrl,
    authorization: String,
    token: Option<String>,
    userinfo: Option<String>,
    jwks: CoreJsonWebKeySet,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
    pkce_s256: bool,
    iss_parameter_supported: bool,
}

/// A configured OAuth 2 or OpenID Connect provider. Cheap to clone (one
/// pointer; clones share the discovery cache). `Debug` redacts the client
/// secret.
#[derive(Clone)]
pub struct OAuthProvider(Arc<ProviderConfig>);

type DiscoveryCache = Arc<Mutex<Option<(Instant, Arc<Discovered>)>>>;

#[derive(Clone)]
struct ProviderConfig {
    id: String,
    name: String,
    kind: ProviderKind,
    client_id: String,
    client_secret: String,
    endpoints: Endpoints,
    issuer: Option<String>,
    userinfo_style: UserinfoStyle,
    github_emails_url: Option<String>,
    scopes: Vec<String>,
    authorization_params: Vec<(String, String)>,
    checks: CheckSet,
    allow_dangerous_email_account_linking: bool,
    client_auth: ClientAuthMethod,
    use_userinfo: bool,
    timeout: Duration,
    profile: ProfileMapper,
}

impl fmt::Debug for OAuthProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("id", &self.0.id)
            .field("name", &self.0.name)
            .field("kind", &self.0.kind)
            .field("client_id", &self.0.client_id)
            .field("client_secret", &REDACTED)
            .field("endpoints", &self.endpoints_summary())
            .field("issuer", &self.0.issuer)
            .field("scopes", &self.0.scopes)
            .field("checks", &self.0.checks)
            .field(
                "allow_dangerous_email_account_linking",
                &self.0.allow_dangerous_email_account_linking,
            )
            .field("client_auth", &self.0.client_auth)
            .field("timeout", &self.0.timeout)
            .finish_non_exhaustive()
    }
}

impl OAuthProvider {
    fn base(
        id: impl Into<String>,
        name: impl Into<String>,
        kind: ProviderKind,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        endpoints: Endpoints,
    ) -> Self {
        Self(Arc::new(ProviderConfig {
            id: id.into(),
            name: name.into(),
            kind,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            endpoints,
            issuer: None,
            userinfo_style: UserinfoStyle::Standard,
            github_emails_url: None,
            scopes: Vec::new(),
            authorization_params: Vec::new(),
            checks: CheckSet {
                pkce: true,
                state: true,
                nonce: kind == ProviderKind::Oidc,
            },
            allow_dangerous_email_account_linking: false,
            client_auth: ClientAuthMethod::default(),
            use_userinfo: false,
            timeout: DEFAULT_TIMEOUT,
            profile: Arc::new(default_profile),
        }))
    }

    fn m(&mut self) -> &mut ProviderConfig {
        Arc::make_mut(&mut self.0)
    }

    /// A plain OAuth 2 provider (`type: "oauth"`) with fixed endpoints. The
    /// profile is the userinfo JSON mapped as Auth.js's default
    /// (`id: sub ?? id`, `name: name ?? nickname ?? preferred_username`,
    /// `email`, `image: picture`). No scope is requested unless set with
    /// [`scopes`](Self::scopes). Checks: PKCE and state.
    pub fn oauth2(
        id: impl Into<String>,
        name: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        authorization_url: impl Into<String>,
        token_url: impl Into<String>,
        userinfo_url: impl Into<String>,
    ) -> Self {
        Self::base(
            id,
            name,
            ProviderKind::OAuth,
            client_id,
            client_secret,
            Endpoints::Static {
                authorization: authorization_url.into(),
                token: token_url.into(),
                userinfo: Some(userinfo_url.into()),
            },
        )
    }

    /// An OpenID Connect provider (`type: "oidc"`): endpoints and keys come
    /// from `ISSUER/.well-known/openid-configuration`, fetched on first use
    /// and cached for an hour (shared by clones). Scope
    /// `openid profile email`; checks PKCE, state and nonce; the profile is
    /// the validated ID token's claims.
    pub fn oidc(
        id: impl Into<String>,
        name: impl Into<String>,
        issuer_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let issuer = issuer_url.into();
        let mut provider = Self::base(
            id,
            name,
            ProviderKind::Oidc,
            client_id,
            client_secret,
            Endpoints::Discovery {
                issuer: issuer.clone(),
                cache: Arc::new(Mutex::new(None)),
            },
        );
        provider.m().issuer = Some(issuer);
        provider.m().scopes = vec!["openid".into(), "profile".into(), "email".into()];
        provider
    }

    /// GitHub, as Auth.js's preset: id `github`, scope
    /// `read:user user:email`, profile `{id, name ?? login, email,
    /// avatar_url}`, and when `/user` has no public email, the primary
    /// address from `/user/emails`.
    pub fn github(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::github_with_urls(
            client_id,
            client_secret,
            "https://github.com",
            "https://api.github.com",
        )
    }

    /// GitHub Enterprise Server at `base_url` (API at `BASE/api/v3`), as
    /// Auth.js's `enterprise.baseUrl` option. Also what tests point at a
    /// GitHub-shaped mock.
    pub fn github_enterprise(
        base_url: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        let base = base_url.trim_end_matches('/');
        Self::github_with_urls(client_id, client_secret, base, &format!("{base}/api/v3"))
    }

    fn github_with_urls(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        base: &str,
        api: &str,
    ) -> Self {
        let mut provider = Self::oauth2(
            "github",
            "GitHub",
            client_id,
            client_secret,
            format!("{base}/login/oauth/authorize"),
            format!("{base}/login/oauth/access_token"),
            format!("{api}/user"),
        );
        provider.m().issuer = Some(format!("{base}/login/oauth"));
        provider.m().userinfo_style = UserinfoStyle::GitHub;
        provider.m().github_emails_url = Some(format!("{api}/user/emails"));
        provider.m().scopes = vec!["read:user".into(), "user:email".into()];
        provider.m().profile = Arc::new(github_profile);
        provider
    }

    /// Google, as Auth.js's preset: OIDC with issuer
    /// `https://accounts.google.com`, id `google`.
    pub fn google(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self::oidc(
            "google",
            "Google",
            "https://accounts.google.com",
            client_id,
            client_secret,
        )
    }

    // -- builder ------------------------------------------------------------

    /// Replaces the provider id (the `PROVIDER` in `/signin/PROVIDER` and
    /// `/callback/PROVIDER`, and the account's `provider`). The accessor is
    /// [`id`](Self::id).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.m().id = id.into();
        self
    }

    /// Replaces the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.m().name = name.into();
        self
    }

    /// Replaces the requested scopes.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.m().scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a parameter to the authorization URL (e.g. `prompt=consent`,
    /// `access_type=offline`). Parameters this module sets itself
    /// (`response_type`, `client_id`, `redirect_uri`, `scope`, `state`,
    /// `code_challenge*`, `nonce`) are not overridden.
    pub fn authorization_param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.m()
            .authorization_params
            .push((name.into(), value.into()));
        self
    }

    /// Lets a sign-in with this provider link to an existing user with the
    /// same email (Auth.js's `allowDangerousEmailAccountLinking`). Only for
    /// providers that verify email addresses.
    pub fn with_dangerous_email_account_linking(mut self, allow: bool) -> Self {
        self.m().allow_dangerous_email_account_linking = allow;
        self
    }

    /// Replaces the checks (default: PKCE and state, plus nonce for OIDC).
    /// [`Check::Nonce`] is ignored for plain OAuth 2 providers.
    pub fn checks<I>(mut self, checks: I) -> Self
    where
        I: IntoIterator<Item = Check>,
    {
        let mut set = CheckSet {
            pkce: false,
            state: false,
            nonce: false,
        };
        for check in checks {
            match check {
                Check::Pkce => set.pkce = true,
                Check::State => set.state = true,
                Check::Nonce => set.nonce = self.0.kind == ProviderKind::Oidc,
            }
        }
        self.m().checks = set;
        self
    }

    /// Replaces the profile mapping (Auth.js's `profile()` option). The
    /// function gets the userinfo JSON (OAuth 2) or the ID-token claims
    /// (OIDC); the returned email is lowercased afterwards.
    pub fn profile<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&Value) -> Option<Profile> + Send + Sync + 'static,
    {
        self.m().profile = Arc::new(mapper);
        self
    }

    /// The token endpoint client authentication (default
    /// `client_secret_basic`, as Auth.js).
    pub fn client_auth(mut self, method: ClientAuthMethod) -> Self {
        self.m().client_auth = method;
        self
    }

    /// The issuer the callback's `iss` parameter must equal when present
    /// (RFC 9207). OIDC providers use the discovered issuer; for OAuth 2
    /// providers it is unset (not checked) except for the GitHub preset.
    pub fn issuer(mut self, issuer: Option<String>) -> Self {
        if self.0.kind == ProviderKind::OAuth {
            self.m().issuer = issuer;
        }
        self
    }

    /// OIDC: take the profile from the userinfo endpoint (its `sub` must
    /// equal the ID token's) instead of the ID-token claims (Auth.js's
    /// `idToken: false`).
    pub fn use_userinfo(mut self, yes: bool) -> Self {
        self.m().use_userinfo = yes;
        self
    }

    /// Timeout of each request to the provider (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.m().timeout = timeout;
        self
    }

    // -- accessors ------------------------------------------------------------

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// `oauth` or `oidc`.
    pub fn kind(&self) -> ProviderKind {
        self.0.kind
    }

    /// The OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// Whether Auth.js's `allowDangerousEmailAccountLinking` is on.
    pub fn allow_dangerous_email_account_linking(&self) -> bool {
        self.0.allow_dangerous_email_account_linking
    }

    fn endpoints_summary(&self) -> String {
        match &self.0.endpoints {
            Endpoints::Static { authorization, .. } => format!("static ({authorization})"),
            Endpoints::Discovery { issuer, .. } => format!("discovery ({issuer})"),
        }
    }

    fn http(&self) -> Result<Http, OAuthError> {
        Http::new(self.0.timeout).map_err(|e| OAuthError::Configuration(e.to_string()))
    }

    // -- discovery --------------------------------------------------------------

    async fn discovered(
        &self,
        http: &Http,
        refresh: bool,
    ) -> Result<Option<Arc<Discovered>>, OAuthError> {
        let Endpoints::Discovery { issuer, cache } = &self.0.endpoints else {
            return Ok(None);
        };
        let mut guard = cache.lock().await;
        if !refresh
            && let Some((at, found)) = guard.as_ref()
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(Some(found.clone()));
        }
        let found = Arc::new(discover(http, issuer).await?);
        *guard = Some((Instant::now(), found.clone()));
        Ok(Some(found))
    }

    /// The checks in force for a flow, given the discovered metadata: as
    /// Auth.js, an OIDC provider that does not advertise S256 PKCE gets a
    /// nonce instead.
    fn effective_checks(&self, discovered: Option<&Discovered>) -> CheckSet {
        let mut checks = self.0.checks;
        if checks.pkce
            && let Some(d) = discovered
            && !d.pkce_s256
        {
            checks.pkce = false;
            checks.nonce = true;
        }
        checks
    }

    // -- the flow ---------------------------------------------------------------

    /// Builds the authorization URL for a sign-in whose callback is
    /// `redirect_uri`, with fresh state, PKCE S256 challenge and nonce (as
    /// configured). For OIDC this may fetch the discovery document.
    pub async fn authorization_request(
        &self,
        redirect_uri: &str,
    ) -> Result<AuthorizationRequest, OAuthError> {
        let http = self.http()?;
        let discovered = self.discovered(&http, false).await?;
        let checks_in_force = self.effective_checks(discovered.as_deref());
        let authorization = match (&self.0.endpoints, &discovered) {
            (Endpoints::Static { authorization, .. }, _) => authorization.clone(),
            (_, Some(d)) => d.authorization.clone(),
            (Endpoints::Discovery { .. }, None) => {
                return Err(OAuthError::Configuration(
                    "no authorization endpoint".into(),
                ));
            }
        };
        let auth_url = AuthUrl::new(authorization)
            .map_err(|_| OAuthError::Configuration("invalid authorization URL".into()))?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| OAuthError::Configuration("invalid redirect URI".into()))?;
        let client = oauth2::basic::BasicClient::new(ClientId::new(self.0.client_id.clone()))
            .set_auth_uri(auth_url)
            .set_redirect_uri(redirect);

        let state = random_token();
        let mut checks = Checks::default();
        let mut request = client
            .authorize_url(|| CsrfToken::new(state.clone()))
            .add_scopes(self.0.scopes.iter().map(|s| Scope::new(s.clone())));
        if checks_in_force.state {
            checks.state = Some(state.clone());
        }
        if checks_in_force.pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            checks.pkce_verifier = Some(verifier.into_secret());
        }
        if checks_in_force.nonce {
            let nonce = random_token();
            request = request.add_extra_param("nonce", nonce.clone());
            checks.nonce = Some(nonce);
        }
        const RESERVED: [&str; 9] = [
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "nonce",
            "",
        ];
        for (name, value) in &self.0.authorization_params {
            if !RESERVED.contains(&name.as_str()) {
                request = request.add_extra_param(name.clone(), value.clone());
            }
        }
        let (mut url, _) = request.url();
        if !checks_in_force.state {
            // `oauth2` always adds a state; Auth.js sends none without the check.
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| k != "state")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        Ok(AuthorizationRequest {
            url: url.into(),
            checks,
        })
    }

    /// Completes a sign-in: checks the callback against `checks` (the values
    /// from [`authorization_request`](Self::authorization_request), as read
    /// back from the cookies), exchanges the code, validates the ID token
    /// (OIDC) and fetches and maps the profile. `redirect_uri` must be the
    /// one the authorization request used.
    pub async fn complete(
        &self,
        redirect_uri: &str,
        callback: &CallbackParams,
        checks: &Checks,
    ) -> Result<OAuthOutcome, OAuthError> {
        let http = self.http()?;
        let discovered = self.discovered(&http, false).await?;
        let checks_in_force = self.effective_checks(discovered.as_deref());

        // 1. The authorization response (same order as oauth4webapi:
        //    issuer, state, error, code).
        let expected_issuer = discovered
            .as_deref()
            .map(|d| d.issuer.as_str().to_owned())
            .or_else(|| self.0.issuer.clone());
        match (&callback.iss, &expected_issuer) {
            (Some(iss), Some(expected)) if iss != expected => {
                return Err(OAuthError::IssuerMismatch("unexpected issuer"));
            }
            (None, Some(_))
                if discovered
                    .as_deref()
                    .is_some_and(|d| d.iss_parameter_supported) =>
            {
                return Err(OAuthError::IssuerMismatch("missing issuer"));
            }
            _ => {}
        }
        if checks_in_force.state {
            let expected = checks
                .state
                .as_deref()
                .ok_or(OAuthError::InvalidState("state cookie missing"))?;
            let received = callback
                .state
                .as_deref()
                .ok_or(OAuthError::InvalidState("state parameter missing"))?;
            if !bool::from(expected.as_bytes().ct_eq(received.as_bytes())) {
                return Err(OAuthError::InvalidState("state mismatch"));
            }
        }
        if let Some(error) = &callback.error {
            return Err(OAuthError::Provider {
                error: sanitize(error),
                description: callback.error_description.as_deref().map(sanitize),
            });
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(OAuthError::MissingCode)?;
        let verifier = if checks_in_force.pkce {
            Some(
                checks
                    .pkce_verifier
                    .clone()
                    .ok_or(OAuthError::MissingPkceVerifier)?,
            )
        } else {
            None
        };
        let nonce = if self.0.kind == ProviderKind::Oidc && checks_in_force.nonce {
            Some(checks.nonce.clone().ok_or(OAuthError::MissingNonce)?)
        } else {
            None
        };

        // 2. The token request.
        let token_url = match (&self.0.endpoints, &discovered) {
            (Endpoints::Static { token, .. }, _) => token.clone(),
            (_, Some(d)) => d
                .token
                .clone()
                .ok_or_else(|| OAuthError::Configuration("no token endpoint".into()))?,
            (Endpoints::Discovery { .. }, None) => {
                return Err(OAuthError::Configuration("no token endpoint".into()));
            }
        };
        let response = self
            .exchange_code(&http, &token_url, redirect_uri, code, verifier)
            .await?;
        let mut tokens = token_set(&response);

        // 3. The profile.
        let raw_profile = match self.0.kind {
            ProviderKind::Oidc => {
                let Some(discovered) = discovered else {
                    return Err(OAuthError::Configuration("discovery missing".into()));
                };
                let id_token = tokens
                    .id_token
                    .as_deref()
                    .ok_or(OAuthError::InvalidIdToken(
                        "no id_token in the token response",
                    ))?;
                let claims =
                    match self.validate_id_token(&discovered, id_token, nonce.as_deref()) {
                        // Keys may have rotated: re-discover once.
                        Err(IdTokenFailure::NoMatchingKey) => {
                            let fresh = self.discovered(&http, true).await?.ok_or_else(|| {
                                OAuthError::Configuration("discovery missing".into())
                            })?;
                            self.validate_id_token(&fresh, id_token, nonce.as_deref())
                        }
                        other => other,
                    }
                    .map_err(IdTokenFailure::into_error)?;
                if self.0.use_userinfo {
                    let url = discovered
                        .userinfo
                        .clone()
                        .ok_or_else(|| OAuthError::Configuration("no userinfo endpoint".into()))?;
                    let info = self
                        .fetch_json(&http, &url, response.access_token().secret())
                        .await?;
                    if info.get("sub") != claims.get("sub") {
                        return Err(OAuthError::Userinfo("userinfo subject mismatch".into()));
                    }
                    info
                } else {
                    claims
                }
            }
            ProviderKind::OAuth => {
                let Endpoints::Static { userinfo, .. } = &self.0.endpoints else {
                    return Err(OAuthError::Configuration("no userinfo endpoint".into()));
                };
                let url = userinfo
                    .as_deref()
                    .ok_or_else(|| OAuthError::Configuration("no userinfo endpoint".into()))?;
                let access_token = response.access_token().secret();
                let mut info = self.fetch_json(&http, url, access_token).await?;
                if self.0.userinfo_style == UserinfoStyle::GitHub {
                    self.github_email(&http, &mut info, access_token).await;
                }
                info
            }
        };
        if let Some(expires_in) = response.expires_in() {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            tokens.expires_at =
                Some(now.saturating_add(i64::try_from(expires_in.as_secs()).unwrap_or(i64::MAX)));
        }

        let mut profile = (self.0.profile)(&raw_profile).ok_or_else(|| {
            OAuthError::ProfileParse("the profile mapper rejected the profile".into())
        })?;
        if profile.id.is_empty() {
            return Err(OAuthError::ProfileParse("the profile has no id".into()));
        }
        profile.email = profile.email.map(|e| e.to_lowercase());
        Ok(OAuthOutcome {
            profile,
            tokens,
            kind: self.0.kind,
            raw_profile,
        })
    }

    async fn exchange_code(
        &self,
        http: &Http,
        token_url: &str,
        redirect_uri: &str,
        code: &str,
        verifier: Option<String>,
    ) -> Result<RawTokenResponse, OAuthError> {
        let token_url = TokenUrl::new(token_url.to_owned())
            .map_err(|_| OAuthError::Configuration("invalid token URL".into()))?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| OAuthError::Configuration("invalid redirect URI".into()))?;
        let client = TokenClient::new(ClientId::new(self.0.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.0.client_secret.clone()))
            .set_auth_type(match self.0.client_auth {
                ClientAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
                ClientAuthMethod::ClientSecretPost => AuthType::RequestBody,
            })
            .set_token_uri(token_url);
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_redirect_uri(Cow::Owned(redirect));
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier));
        }
        request.request_async(http).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(body) => OAuthError::TokenRequest(format!(
                "the provider answered {}",
                sanitize(body.error().as_ref())
            )),
            RequestTokenError::Request(e) => OAuthError::TokenRequest(e.to_string()),
            RequestTokenError::Parse(..) => {
                OAuthError::TokenRequest("the provider's answer is not a token response".into())
            }
            RequestTokenError::Other(_) => {
                OAuthError::TokenRequest("unexpected answer from the token endpoint".into())
            }
        })
    }

    fn validate_id_token(
        &self,
        discovered: &Discovered,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<Value, IdTokenFailure> {
        let parsed: CoreIdToken = id_token
            .parse()
            .map_err(|_| IdTokenFailure::Invalid("malformed"))?;
        let verifier = CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(self.0.client_id.clone()),
            ClientSecret::new(self.0.client_secret.clone()),
            discovered.issuer.clone(),
            discovered.jwks.clone(),
        )
        .set_allowed_algs(discovered.signing_algs.iter().cloned());
        let result = match nonce {
            Some(nonce) => parsed
                .claims(&verifier, &Nonce::new(nonce.to_owned()))
                .map(|_| ()),
            None => parsed
                .claims(&verifier, |_: Option<&Nonce>| Ok::<(), String>(()))
                .map(|_| ()),
        };
        result.map_err(|e| match e {
            ClaimsVerificationError::Expired(_) => IdTokenFailure::Invalid("expired"),
            ClaimsVerificationError::InvalidAudience(_) => {
                IdTokenFailure::Invalid("wrong audience")
            }
            ClaimsVerificationError::InvalidIssuer(_) => IdTokenFailure::Invalid("wrong issuer"),
            ClaimsVerificationError::InvalidNonce(_) => IdTokenFailure::Invalid("nonce mismatch"),
            ClaimsVerificationError::InvalidSubject(_) => {
                IdTokenFailure::Invalid("invalid subject")
            }
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => IdTokenFailure::NoMatchingKey,
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::DisallowedAlg(_)
                | SignatureVerificationError::UnsupportedAlg(_),
            ) => IdTokenFailure::Invalid("signature algorithm not allowed"),
            ClaimsVerificationError::SignatureVerification(_) => {
                IdTokenFailure::Invalid("invalid signature")
            }
            _ => IdTokenFailure::Invalid("invalid claims"),
        })?;
        // Validated: the claims JSON is the profile.
        let payload = id_token
            .split('.')
            .nth(1)
            .ok_or(IdTokenFailure::Invalid("malformed"))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| IdTokenFailure::Invalid("malformed"))?;
        let claims: Value =
            serde_json::from_slice(&bytes).map_err(|_| IdTokenFailure::Invalid("malformed"))?;
        if !claims.is_object() {
            return Err(IdTokenFailure::Invalid("malformed"));
        }
        Ok(claims)
    }

    async fn fetch_json(
        &self,
        http: &Http,
        url: &str,
        access_token: &str,
    ) -> Result<Value, OAuthError> {
        let (status, body) = http
            .get_bearer_json(url, access_token)
            .await
            .map_err(|e: HttpError| OAuthError::Userinfo(e.to_string()))?;
        if !status.is_success() {
            return Err(OAuthError::Userinfo(format!(
                "the provider answered HTTP {}",
                status.as_u16()
            )));
        }
        let value: Value = serde_json::from_slice(&body)
            .map_err(|_| OAuthError::Userinfo("the answer is not JSON".into()))?;
        if !value.is_object() {
            return Err(OAuthError::Userinfo(
                "the answer is not a JSON object".into(),
            ));
        }
        Ok(value)
    }

    /// GitHub: fills `email` from `/user/emails` (primary, else first) when
    /// `/user` has none. Failures leave the email empty, as Auth.js.
    async fn github_email(&self, http: &Http, info: &mut Value, access_token: &str) {
        let has_email = info
            .get("email")
            .and_then(Value::as_str)
            .is_some_and(|e| !e.is_empty());
        let Some(url) = self.0.github_emails_url.as_deref() else {
            return;
        };
        if has_email {
            return;
        }
        let Ok((status, body)) = http.get_bearer_json(url, access_token).await else {
            return;
        };
        if !status.is_success() {
            return;
        }
        let Ok(Value::Array(emails)) = serde_json::from_slice::<Value>(&body) else {
            return;
        };
        let chosen = emails
            .iter()
            .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
            .or_else(|| emails.first())
            .and_then(|e| e.get("email"))
            .and_then(Value::as_str);
        if let (Some(email), Some(obj)) = (chosen, info.as_object_mut()) {
            obj.insert("email".into(), Value::String(email.to_owned()));
        }
    }
}

enum IdTokenFailure {
    NoMatchingKey,
    Invalid(&'static str),
}

impl IdTokenFailure {
    fn into_error(self) -> OAuthError {
        match self {
            Self::NoMatchingKey => OAuthError::InvalidIdToken("no key matches the signature"),
            Self::Invalid(reason) => OAuthError::InvalidIdToken(reason),
        }
    }
}

// ---------------------------------------------------------------------------
// Token response
// ---------------------------------------------------------------------------

/// The extra token-response fields Auth.js keeps.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct ExtraTokenFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_state: Option<String>,
}

impl oauth2::ExtraTokenFields for ExtraTokenFields {}

type RawTokenResponse = StandardTokenResponse<ExtraTokenFields, BasicTokenType>;

type TokenClient<HasTokenUrl = EndpointNotSet> = oauth2::Client<
    BasicErrorResponse,
    RawTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

#[allow(dead_code)]
type TokenClientReady = TokenClient<EndpointSet>;

fn token_set(response: &RawTokenResponse) -> TokenSet {
    let token_type = match response.token_type() {
        BasicTokenType::Bearer => "bearer".to_owned(),
        BasicTokenType::Mac => "mac".to_owned(),
        BasicTokenType::Extension(other) => other.to_lowercase(),
    };
    let extra = response.extra_fields();
    TokenSet {
        access_token: Some(response.access_token().secret().clone()),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
        id_token: extra.id_token.clone(),
        token_type: Some(token_type),
        scope: response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        session_state: extra.session_state.clone(),
        expires_at: None,
    }
}

// ---------------------------------------------------------------------------
// Discovery
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct ExtraProviderMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_response_iss_parameter_supported: Option<bool>,
}

impl openidconnect::AdditionalProviderMetadata for ExtraProviderMetadata {}

type ProviderMetadata = openidconnect::ProviderMetadata<
    ExtraProviderMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

async fn discover(http: &Http, issuer: &str) -> Result<Discovered, OAuthError> {
    let issuer_url = IssuerUrl::new(issuer.to_owned())
        .map_err(|_| OAuthError::Configuration("invalid issuer URL".into()))?;
    let metadata = ProviderMetadata::discover_async(issuer_url, http)
        .await
        .map_err(|e| {
            OAuthError::Configuration(match e {
                openidconnect::DiscoveryError::Request(e) => {
                    format!("discovery request failed: {e}")
                }
                openidconnect::DiscoveryError::Response(status, _, _) => {
                    format!("discovery answered HTTP {}", status.as_u16())
                }
                openidconnect::DiscoveryError::Parse(_) => "invalid discovery document".into(),
                openidconnect::DiscoveryError::Validation(_) => {
                    "discovery document does not match the issuer".into()
                }
                _ => "discovery failed".into(),
            })
        })?;
    let extra = metadata.additional_metadata();
    Ok(Discovered {
        issuer: metadata.issuer().clone(),
        authorization: metadata.authorization_endpoint().as_str().to_owned(),
        token: metadata.token_endpoint().map(|u| u.as_str().to_owned()),
        userinfo: metadata.userinfo_endpoint().map(|u| u.as_str().to_owned()),
        jwks: metadata.jwks().clone(),
        signing_algs: metadata.id_token_signing_alg_values_supported().clone(),
        pkce_s256: extra
            .code_challenge_methods_supported
            .as_ref()
            .is_some_and(|m| m.iter().any(|m| m == "S256")),
        iss_parameter_supported: extra
            .authorization_response_iss_parameter_supported
            .unwrap_or(false),
    })
}

// ---------------------------------------------------------------------------
// Profiles and helpers
// ---------------------------------------------------------------------------

fn json_string(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Auth.js's default profile: `{id: sub ?? id, name: name ?? nickname ??
/// preferred_username, email, image: picture}`. A profile without an id is
/// rejected (Auth.js would invent a random one).
pub fn default_profile(raw: &Value) -> Option<Profile> {
    Some(Profile {
        id: json_string(raw, "sub").or_else(|| json_string(raw, "id"))?,
        name: json_string(raw, "name")
            .or_else(|| json_string(raw, "nickname"))
            .or_else(|| json_string(raw, "preferred_username")),
        email: json_string(raw, "email"),
        image: json_string(raw, "picture"),
    })
}

/// Auth.js's GitHub profile: `{id: String(id), name: name ?? login, email,
/// image: avatar_url}`.
pub fn github_profile(raw: &Value) -> Option<Profile> {
    Some(Profile {
        id: json_string(raw, "id")?,
        name: json_string(raw, "name").or_else(|| json_string(raw, "login")),
        email: json_string(raw, "email"),
        image: json_string(raw, "avatar_url"),
    })
}

/// 32 random bytes, base64url (the `oauth2` crate's CSPRNG).
fn random_token() -> String {
    CsrfToken::new_random().into_secret()
}

/// Provider-supplied text fit for an error message: no control characters,
/// at most [`MAX_PROVIDER_TEXT`] characters.
fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_PROVIDER_TEXT)
        .collect()
}

fn redact(value: &Option<String>) -> Option<&'static str> {
    value.as_ref().map(|_| REDACTED)
}
