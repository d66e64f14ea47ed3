//! Building the engine: [`Auth::builder`].

use std::fmt;
use std::sync::Arc;

use auth_core::Adapter;
use auth_jwt::cookies::CookieNames;
use auth_jwt::{Clock as JwtClock, Jwt, Secret, Version};
use time::{Duration, OffsetDateTime};
use url::Url;

use crate::callbacks::{Callbacks, DefaultCallbacks, Events, NoEvents};
use crate::email::EmailProvider;
use crate::error::ConfigError;
use crate::oauth::OAuthProvider;

/// Where sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// A row in the adapter's `Session` table; the cookie holds its random
    /// token. Auth.js's default when an adapter is configured.
    Database,
    /// An encrypted JWT in the cookie (Auth.js's `jwt` strategy); the
    /// database is used only to find and create users.
    Jwt,
}

/// A sign-in method.
#[derive(Debug, Clone)]
pub enum Provider {
    /// Sign in with a one-time link sent by email.
    Email(EmailProvider),
    /// Sign in with an OAuth 2 or OpenID Connect provider.
    OAuth(OAuthProvider),
}

impl Provider {
    /// The provider's id: the path segment in `/signin/ID`.
    pub fn id(&self) -> &str {
        match self {
            Self::Email(p) => &p.id,
            Self::OAuth(p) => p.id(),
        }
    }

    /// The display name.
    pub fn name(&self) -> &str {
        match self {
            Self::Email(p) => &p.name,
            Self::OAuth(p) => p.name(),
        }
    }

    /// Auth.js's provider type: `email`, `oauth` or `oidc`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Email(_) => "email",
            Self::OAuth(p) => p.kind().as_str(),
        }
    }
}

impl From<EmailProvider> for Provider {
    fn from(p: EmailProvider) -> Self {
        Self::Email(p)
    }
}

impl From<OAuthProvider> for Provider {
    fn from(p: OAuthProvider) -> Self {
        Self::OAuth(p)
    }
}

/// The engine's clock: "now" for session expiry, sliding and tokens.
/// Injectable so tests can move time.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// Configures an [`Auth`]; start with [`Auth::builder`].
pub struct AuthBuilder {
    adapter: Option<Arc<dyn Adapter>>,
    secrets: Vec<Secret>,
    strategy: Option<Strategy>,
    max_age: Duration,
    update_age: Duration,
    base_path: String,
    url: Option<String>,
    providers: Vec<Provider>,
    callbacks: Arc<dyn Callbacks>,
    events: Arc<dyn Events>,
    clock: Option<Clock>,
}

impl fmt::Debug for AuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthBuilder")
            .field("secrets", &self.secrets.len())
            .field("strategy", &self.strategy)
            .field("base_path", &self.base_path)
            .field("url", &self.url)
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

impl AuthBuilder {
    /// The adapter that stores users, accounts, sessions and verification
    /// tokens. With one, the default strategy is [`Strategy::Database`].
    pub fn adapter(mut self, adapter: Arc<dyn Adapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Adds a secret (`AUTH_SECRET`). With several (rotation), the first
    /// encrypts and signs; all are tried when decoding, as in Auth.js: list
    /// them in the same order as the Next.js app.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// Adds several secrets, newest first.
    pub fn secrets<I>(mut self, secrets: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Secret>,
    {
        self.secrets.extend(secrets.into_iter().map(Into::into));
        self
    }

    /// The session strategy (default: database with an adapter, else JWT).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// How long a session lives without activity (default 30 days).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How often at most a database session's expiry is written on use
    /// (default 24 hours).
    pub fn update_age(mut self, update_age: Duration) -> Self {
        self.update_age = update_age;
        self
    }

    /// Where the REST API is mounted (default `/api/auth`).
    pub fn base_path(mut self, base_path: impl Into<String>) -> Self {
        self.base_path = base_path.into();
        self
    }

    /// The site's public URL (`AUTH_URL`), e.g. `https://example.com`: links,
    /// redirects and the cookies' `Secure` flag and prefixes follow it.
    /// Required.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Adds a sign-in provider.
    pub fn provider(mut self, provider: impl Into<Provider>) -> Self {
        self.providers.push(provider.into());
        self
    }

    /// The app's callbacks (sign-in allow/deny, redirect, jwt, session).
    pub fn callbacks(mut self, callbacks: impl Callbacks + 'static) -> Self {
        self.callbacks = Arc::new(callbacks);
        self
    }

    /// The app's event handlers (sign-in, sign-out, user created, ...).
    pub fn events(mut self, events: impl Events + 'static) -> Self {
        self.events = Arc::new(events);
        self
    }

    /// Replaces the clock (tests).
    pub fn clock(mut self, clock: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the configuration and builds the engine.
    pub fn build(self) -> Result<Auth, ConfigError> {
        if self.secrets.is_empty() || self.secrets.iter().any(|s| s.expose().is_empty()) {
            return Err(ConfigError::MissingSecret);
        }
        let raw_url = self.url.clone().unwrap_or_default();
        let url = Url::parse(&raw_url).map_err(|_| ConfigError::InvalidUrl(raw_url.clone()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(ConfigError::InvalidUrl(raw_url));
        }
        let base_path = self.base_path;
        if !base_path.starts_with('/') || (base_path.len() > 1 && base_path.ends_with('/')) {
            return Err(ConfigError::InvalidBasePath(base_path));
        }
        if self.max_age <= Duration::ZERO
            || self.update_age < Duration::ZERO
            || self.update_age > self.max_age
        {
            return Err(ConfigError::InvalidSessionAge);
        }
        let strategy = self.strategy.unwrap_or(if self.adapter.is_some() {
            Strategy::Database
        } else {
            Strategy::Jwt
        });
        if strategy == Strategy::Database && self.adapter.is_none() {
            return Err(ConfigError::MissingAdapter("the database strategy"));
        }
        if self.adapter.is_none()
            && self
                .providers
                .iter()
                .any(|p| matches!(p, Provider::Email(_)))
        {
            return Err(ConfigError::MissingAdapter("the email provider"));
        }
        for (i, p) in self.providers.iter().enumerate() {
            if self.providers[..i].iter().any(|q| q.id() == p.id()) {
                return Err(ConfigError::DuplicateProvider(p.id().to_owned()));
            }
        }
        let clock: Clock = self
            .clock
            .unwrap_or_else(|| Arc::new(OffsetDateTime::now_utc));
        let secure = url.scheme() == "https";
        let jwt_clock = clock.clone();
        let max_age_std = std::time::Duration::from_secs(self.max_age.whole_seconds() as u64);
        let jwt = Jwt::new(self.secrets.clone())?
            .with_clock(JwtClock::from_fn(move || jwt_clock().unix_timestamp()))
            .with_max_age(max_age_std);
        let origin = url.origin().ascii_serialization();
        Ok(Auth {
            inner: Arc::new(Inner {
                adapter: self.adapter,
                secrets: self.secrets,
                strategy,
                max_age: self.max_age,
                update_age: self.update_age,
                base_path: if base_path == "/" {
                    String::new()
                } else {
                    base_path
                },
                origin,
                secure,
                providers: self.providers,
                callbacks: self.callbacks,
                events: self.events,
                clock,
                cookies: CookieNames::new(Version::V5, secure),
                jwt,
            }),
        })
    }
}

/// The engine: answers Auth.js's REST API and resolves sessions. Cheap to
/// clone (an `Arc`).
///
/// Build it with [`Auth::builder`], then hand requests to
/// [`Auth::handle`] (under the base path) and call [`Auth::session`] from
/// app code.
#[derive(Clone)]
pub struct Auth {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub adapter: Option<Arc<dyn Adapter>>,
    pub secrets: Vec<Secret>,
    pub strategy: Strategy,
    pub max_age: Duration,
    pub update_age: Duration,
    /// `/api/auth`, or empty for `/`.
    pub base_path: String,
    /// `scheme://host[:port]`, no trailing slash.
    pub origin: String,
    pub secure: bool,
    pub providers: Vec<Provider>,
    pub callbacks: Arc<dyn Callbacks>,
    pub events: Arc<dyn Events>,
    pub clock: Clock,
    pub cookies: CookieNames,
    pub jwt: Jwt,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Auth")
            .field("origin", &i.origin)
            .field("base_path", &i.base_path)
            .field("strategy", &i.strategy)
            .field("providers", &i.providers)
            .field("secrets", &format_args!("<{} redacted>", i.secrets.len()))
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// A builder with Auth.js's defaults: base path `/api/auth`, sessions of
    /// 30 days written at most once a day, no providers.
    pub fn builder() -> AuthBuilder {
        AuthBuilder {
            adapter: None,
            secrets: Vec::new(),
            strategy: None,
            max_age: Duration::days(30),
            update_age: Duration::hours(24),
            base_path: "/api/auth".to_owned(),
            url: None,
            providers: Vec::new(),
            callbacks: Arc::new(DefaultCallbacks),
            events: Arc::new(NoEvents),
            clock: None,
        }
    }

    /// The base path the REST API answers under (empty for `/`).
    pub fn base_path(&self) -> &str {
        &self.inner.base_path
    }

    /// The site's origin, e.g. `http://127.0.0.1:3000`.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The session strategy in use.
    pub fn strategy(&self) -> Strategy {
        self.inner.strategy
    }

    /// The configured providers.
    pub fn providers(&self) -> &[Provider] {
        &self.inner.providers
    }

    /// The adapter, if any.
    pub fn adapter(&self) -> Option<&Arc<dyn Adapter>> {
        self.inner.adapter.as_ref()
    }

    /// The cookie names in use (`__Secure-` prefixed on https).
    pub fn cookie_names(&self) -> &CookieNames {
        &self.inner.cookies
    }

    /// "Now", by the engine's clock.
    pub fn now(&self) -> OffsetDateTime {
        (self.inner.clock)()
    }
}
