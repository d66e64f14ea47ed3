//! The full engine on axum: Auth.js's REST API as a router, a layer that
//! resolves the session once per request, and extractors for handlers.
//!
//! ```no_run
//! use auth_axum::engine::{self, Session};
//! use auth_engine::{Auth, ConsoleMailer, EmailProvider};
//! # async fn run(adapter: std::sync::Arc<dyn auth_engine::auth_core::Adapter>) -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Auth::builder()
//!     .adapter(adapter)
//!     .secret("a long random secret")
//!     .url("http://127.0.0.1:3000")
//!     .provider(EmailProvider::new(ConsoleMailer::new()))
//!     .build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/me", axum::routing::get(|Session(s): Session| async move { s.user.email.unwrap_or_default() }))
//!     .nest(auth.base_path(), engine::router(auth.clone()))
//!     .layer(engine::layer(auth));
//! # let _ = app; Ok(()) }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use auth_engine::{Auth, AuthSession};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri, Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

/// The largest request body the REST API reads (forms are tiny).
const BODY_LIMIT: usize = 64 * 1024;

/// Auth.js's REST API, to nest at the engine's base path:
/// `app.nest(auth.base_path(), engine::router(auth.clone()))`.
pub fn router<S>(auth: Auth) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/{*action}", any(handle))
        .with_state(auth)
}

async fn handle(
    State(auth): State<Auth>,
    OriginalUri(uri): OriginalUri,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    // Nested routers see a stripped path; the engine wants the whole one.
    parts.uri = uri;
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let response = auth
        .handle(axum::http::Request::from_parts(parts, bytes))
        .await;
    response.map(Body::from)
}

/// The session of the current request, resolved by [`layer`]; `None` when
/// signed out.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The session, if any.
    pub session: Option<AuthSession>,
    /// The sign-in page, for redirects: `ORIGIN/BASE/signin`.
    pub signin_url: String,
}

/// A layer that resolves the session once per request (outside the REST
/// API) as `GET /session` does: database sessions slide and expired ones are
/// cleared, JWTs are re-issued; the refreshed cookies are added to the
/// response. Handlers read it with [`Session`], `Option<Session>` or
/// [`RequireSession`].
pub fn layer(auth: Auth) -> SessionLayer {
    middleware::from_fn_with_state(auth, resolve_boxed as ResolveFn)
}

/// The middleware function behind [`SessionLayer`].
pub type ResolveFn = fn(State<Auth>, Request, Next) -> BoxFuture;

/// The future [`ResolveFn`] returns.
pub type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// The layer [`layer`] returns.
pub type SessionLayer = middleware::FromFnLayer<ResolveFn, Auth, (State<Auth>, Request)>;

fn resolve_boxed(State(auth): State<Auth>, request: Request, next: Next) -> BoxFuture {
    Box::pin(resolve(auth, request, next))
}

async fn resolve(auth: Auth, mut request: Request, next: Next) -> Response {
    let base = auth.base_path();
    let path = request.uri().path();
    let under_api = !base.is_empty() && (path == base || path.starts_with(&format!("{base}/")));
    if under_api {
        return next.run(request).await;
    }
    let resolution = auth.resolve(request.headers()).await;
    request.extensions_mut().insert(Resolved {
        session: resolution.session.clone(),
        signin_url: format!("{}{}/signin", auth.origin(), base),
    });
    let mut response = next.run(request).await;
    for cookie in resolution.set_cookie_headers(auth.is_secure()) {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// The signed-in user's session. Rejects with `401 Unauthorized` when
/// signed out; take `Option<Session>` to serve everyone. Needs [`layer`].
#[derive(Debug, Clone)]
pub struct Session(pub AuthSession);

/// Why there is no [`Session`]: `401 Unauthorized` (or `500` when the
/// [`layer`] is missing).
#[derive(Debug)]
pub enum SessionRequired {
    /// Signed out.
    Unauthorized,
    /// The router has no [`layer`].
    MissingLayer,
}

impl IntoResponse for SessionRequired {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized").into_response(),
            Self::MissingLayer => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "auth_axum::engine::layer is not installed on this router",
            )
                .into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionRequired;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let resolved = parts
            .extensions
            .get::<Resolved>()
            .ok_or(SessionRequired::MissingLayer)?;
        resolved
            .session
            .clone()
            .map(Session)
            .ok_or(SessionRequired::Unauthorized)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Resolved>()
            .and_then(|r| r.session.clone())
            .map(Session))
    }
}

/// Like [`Session`], but a signed-out browser is redirected (302) to the
/// sign-in page with `callbackUrl` set to the page it asked for.
#[derive(Debug, Clone)]
pub struct RequireSession(pub AuthSession);

/// The redirect to the sign-in page.
#[derive(Debug)]
pub struct SignInRedirect(String);

impl IntoResponse for SignInRedirect {
    fn into_response(self) -> Response {
        match HeaderValue::from_str(&self.0) {
            Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
            Err(_) => StatusCode::UNAUTHORIZED.into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequireSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(resolved) = parts.extensions.get::<Resolved>() else {
            return Err(SessionRequired::MissingLayer.into_response());
        };
        if let Some(session) = &resolved.session {
            return Ok(RequireSession(session.clone()));
        }
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let url = format!(
            "{}?{}",
            resolved.signin_url,
            form_urlencoded::Serializer::new(String::new())
                .append_pair("callbackUrl", back)
                .finish()
        );
        Err(SignInRedirect(url).into_response())
    }
}
