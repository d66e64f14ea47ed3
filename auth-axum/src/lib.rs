#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::convert::Infallible;
use std::fmt;

use auth_jwt::cookies::{join_chunks, parse_cookie_header, percent_decode, session_cookie_name};
use auth_jwt::{DefaultClaims, Jwt, Secret, Version};
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

pub use auth_jwt;

#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub use auth_engine;

/// Reads the session token of the Next.js app's users from a request.
///
/// It looks for the session cookie under both names (`__Secure-` first),
/// joining chunks, and only when there is none for an
/// `Authorization: Bearer <token>` header (percent-decoded), as Auth.js's
/// `getToken` does. The token's salt is the cookie's name; a Bearer token is
/// tried with each name's salt. It never writes a cookie: refreshing the
/// session is the Next.js app's job.
///
/// Put it in the router's state (or make it reachable with [`FromRef`]).
#[derive(Clone)]
pub struct SessionVerifier {
    jwt: Jwt,
    /// (cookie name, salt), in the order they are tried.
    cookies: Vec<(String, String)>,
}

impl fmt::Debug for SessionVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionVerifier")
            .field("jwt", &self.jwt)
            .field(
                "cookies",
                &self.cookies.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SessionVerifier {
    /// A verifier for an Auth.js (next-auth 5) app, with its `AUTH_SECRET`
    /// (a list when rotating: the newest first, as in the app).
    pub fn authjs<I>(secrets: I) -> Result<Self, auth_jwt::Error>
    where
        I: IntoIterator,
        I::Item: Into<Secret>,
    {
        Ok(Self::from_jwt(Jwt::new(secrets)?))
    }

    /// A verifier for a next-auth 4 app, with its `NEXTAUTH_SECRET`.
    pub fn next_auth_v4(secret: impl Into<Secret>) -> Result<Self, auth_jwt::Error> {
        Ok(Self::from_jwt(Jwt::v4(secret)?))
    }

    /// A verifier around a configured codec (clock, tolerance), reading the
    /// default cookie names of its version.
    pub fn from_jwt(jwt: Jwt) -> Self {
        let version = jwt.version();
        let cookies = [true, false]
            .into_iter()
            .map(|secure| {
                let name = session_cookie_name(version, secure).to_owned();
                // next-auth 4 session tokens are made with an empty salt.
                let salt = match version {
                    Version::V5 => name.clone(),
                    Version::V4 => String::new(),
                };
                (name, salt)
            })
            .collect();
        SessionVerifier { jwt, cookies }
    }

    /// Reads a custom session cookie name (Auth.js `cookies.sessionToken.name`)
    /// instead of the defaults; for v5 the name is also the salt.
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        let salt = match self.jwt.version() {
            Version::V5 => name.clone(),
            Version::V4 => String::new(),
        };
        self.cookies = vec![(name, salt)];
        self
    }

    /// The codec.
    pub fn jwt(&self) -> &Jwt {
        &self.jwt
    }

    /// The claims of the request's session token.
    pub fn verify<C: DeserializeOwned>(&self, headers: &HeaderMap) -> Result<C, SessionRejection> {
        let cookie_header = headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join("; ");
        let cookies = parse_cookie_header(&cookie_header);
        let pairs = || cookies.iter().map(|(n, v)| (n.as_str(), v.as_str()));

        let mut first_error = None;
        for (name, salt) in &self.cookies {
            let Some(token) = join_chunks(name, pairs()) else {
                continue;
            };
            match self.jwt.decode(salt, &token) {
                Ok(claims) => return Ok(claims),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(SessionRejection::Invalid(e));
        }

        let token = bearer_token(headers)?;
        for (_, salt) in &self.cookies {
            match self.jwt.decode(salt, &token) {
                Ok(claims) => return Ok(claims),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.map_or(SessionRejection::Missing, SessionRejection::Invalid))
    }
}

/// `Authorization: Bearer <percent-encoded token>`, as `getToken` reads it.
fn bearer_token(headers: &HeaderMap) -> Result<String, SessionRejection> {
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(SessionRejection::Missing)?;
    let mut words = value.split(' ');
    if words.next() != Some("Bearer") {
        return Err(SessionRejection::Missing);
    }
    let encoded = words
        .next()
        .filter(|t| !t.is_empty())
        .ok_or(SessionRejection::Missing)?;
    percent_decode(encoded).ok_or(SessionRejection::Invalid(auth_jwt::Error::Malformed(
        auth_jwt::Malformed::Base64("bearer token"),
    )))
}

/// The claims of the signed-in user's session token: the extractor.
///
/// Rejects with `401 Unauthorized` when there is no valid token; take
/// `Option<Session<C>>` to serve signed-out users too (`None` for a missing,
/// invalid or expired token). `C` defaults to [`DefaultClaims`].
pub struct Session<C = DefaultClaims>(pub C);

impl<C: fmt::Debug> fmt::Debug for Session<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Session").field(&self.0).finish()
    }
}

impl<C: Clone> Clone for Session<C> {
    fn clone(&self) -> Self {
        Session(self.0.clone())
    }
}

impl<S, C> FromRequestParts<S> for Session<C>
where
    SessionVerifier: FromRef<S>,
    S: Send + Sync,
    C: DeserializeOwned + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        SessionVerifier::from_ref(state)
            .verify(&parts.headers)
            .map(Session)
    }
}

impl<S, C> OptionalFromRequestParts<S> for Session<C>
where
    SessionVerifier: FromRef<S>,
    S: Send + Sync,
    C: DeserializeOwned + Send,
{
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(SessionVerifier::from_ref(state)
            .verify(&parts.headers)
            .ok()
            .map(Session))
    }
}

/// Why a request has no session: answered with `401 Unauthorized` and
/// `WWW-Authenticate: Bearer`, without details in the body.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionRejection {
    /// Neither a session cookie nor a Bearer token was sent.
    Missing,
    /// A token was sent but did not verify (malformed, wrong secret,
    /// expired, …).
    Invalid(auth_jwt::Error),
}

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionRejection::Missing => f.write_str("no session token"),
            SessionRejection::Invalid(e) => write!(f, "invalid session token: {e}"),
        }
    }
}

impl std::error::Error for SessionRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SessionRejection::Missing => None,
            SessionRejection::Invalid(e) => Some(e),
        }
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
            "unauthorized",
        )
            .into_response()
    }
}
