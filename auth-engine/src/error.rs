//! The errors of the engine: Auth.js's error codes for the browser, and
//! configuration errors for the developer.

use std::fmt;

/// An Auth.js error code, as it appears in `?error=CODE` on the sign-in and
/// error pages and in the JSON `{url}` answers.
///
/// Only the codes Auth.js sends to clients are sent as they are (the
/// "client-safe" ones); every other failure is reported to the browser as
/// [`ErrorCode::Configuration`] and logged on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The OAuth account is linked to another user, or a user with the
    /// profile's email exists and the provider does not allow linking by
    /// email. Shown on the sign-in page.
    OAuthAccountNotLinked,
    /// The OAuth provider answered with an error, or the token exchange or
    /// profile request failed. Shown on the sign-in page.
    OAuthCallbackError,
    /// The sign-in callback (or the email sign-in check) refused the user.
    AccessDenied,
    /// The email sign-in link is unknown, used, expired, or for another
    /// address.
    Verification,
    /// A state-changing POST came without a valid CSRF token. Shown on the
    /// sign-in page.
    MissingCSRF,
    /// The OAuth `state`, PKCE verifier or OIDC `nonce` did not check out
    /// (reported to the browser as `Configuration`, as Auth.js does).
    InvalidCheck,
    /// A server-side failure: the database, the mailer, the configuration.
    Configuration,
    /// The email provider could not send the sign-in link (reported to the
    /// browser as `Configuration`).
    EmailSignInError,
    /// The request named a provider that is not configured, or an action
    /// that does not exist.
    UnknownAction,
}

impl ErrorCode {
    /// The code as Auth.js spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OAuthAccountNotLinked => "OAuthAccountNotLinked",
            Self::OAuthCallbackError => "OAuthCallbackError",
            Self::AccessDenied => "AccessDenied",
            Self::Verification => "Verification",
            Self::MissingCSRF => "MissingCSRF",
            Self::InvalidCheck => "InvalidCheck",
            Self::Configuration => "Configuration",
            Self::EmailSignInError => "EmailSignInError",
            Self::UnknownAction => "UnknownAction",
        }
    }

    /// Whether Auth.js sends this code to the browser as it is (its
    /// `clientErrors`); the others are sent as `Configuration`.
    pub fn is_client_safe(self) -> bool {
        matches!(
            self,
            Self::OAuthAccountNotLinked
                | Self::OAuthCallbackError
                | Self::AccessDenied
                | Self::Verification
                | Self::MissingCSRF
        )
    }

    /// The page Auth.js sends the browser to for this code: `signin` for the
    /// sign-in errors, `error` for the others.
    pub fn page(self) -> &'static str {
        match self {
            Self::OAuthAccountNotLinked
            | Self::OAuthCallbackError
            | Self::MissingCSRF
            | Self::EmailSignInError => "signin",
            _ => "error",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure while answering a request: the code the browser sees and what
/// the server logs (never a token or a secret).
#[derive(Debug)]
pub struct AuthError {
    /// The Auth.js error code.
    pub code: ErrorCode,
    /// What happened, for the server log.
    pub detail: String,
}

impl AuthError {
    /// An error with `code`, explained by `detail` (no secrets).
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for AuthError {}

impl From<auth_core::AdapterError> for AuthError {
    fn from(e: auth_core::AdapterError) -> Self {
        // Adapter errors never carry secrets (auth-core's rule).
        Self::new(ErrorCode::Configuration, format!("adapter: {e}"))
    }
}

/// A mistake in the engine's configuration, found by
/// [`AuthBuilder::build`](crate::AuthBuilder::build).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret was given (Auth.js: `MissingSecret`).
    #[error("no secret: set at least one (AUTH_SECRET), e.g. `openssl rand -base64 33`")]
    MissingSecret,
    /// The site URL is not an absolute http(s) URL.
    #[error("the site URL {0:?} is not an absolute http or https URL")]
    InvalidUrl(String),
    /// The base path does not start with `/` or ends with one.
    #[error("the base path {0:?} must start with '/' and not end with one")]
    InvalidBasePath(String),
    /// The database strategy, or an email provider, needs an adapter.
    #[error("{0} needs an adapter (Auth.js: MissingAdapter)")]
    MissingAdapter(&'static str),
    /// Two providers have the same id.
    #[error("two providers have the id {0:?}")]
    DuplicateProvider(String),
    /// `update_age` is longer than `max_age`, or either is not positive.
    #[error("session ages: max_age must be positive and update_age between 0 and max_age")]
    InvalidSessionAge,
    /// The token codec rejected the secrets.
    #[error("the session token codec: {0}")]
    Jwt(#[from] auth_jwt::Error),
}
