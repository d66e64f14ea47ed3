#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod mock_oauth;
mod pages;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use auth_axum::engine;
use auth_engine::auth_core::Adapter;
use auth_engine::auth_jwt::Secret;
use auth_engine::{Auth, ConsoleMailer, EmailProvider, OAuthProvider, Outbox, Strategy};
use axum::Router;
use axum::routing::{get, post};

use crate::mock_oauth::MockOAuth;

/// Errors from configuring or starting the demo.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The default database: a SQLite file in the current directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://demo.db";
/// Where a generated `AUTH_SECRET` is kept (in the current directory).
pub const DEFAULT_SECRET_FILE: &str = ".demo-auth-secret";

/// How the demo runs. [`Config::from_env`] reads it from the environment;
/// tests build it directly.
#[derive(Clone)]
pub struct Config {
    /// The port to listen on (127.0.0.1).
    pub port: u16,
    /// The site's URL (`AUTH_URL`), no trailing slash: links, redirects and
    /// the mock provider's issuer use it.
    pub url: String,
    /// The database (`DATABASE_URL`): `sqlite://`, `postgres://`,
    /// `mysql://`, `mongodb://` or `redis://`.
    pub database_url: String,
    /// An adapter to use instead of connecting to `database_url` (tests).
    pub adapter: Option<Arc<dyn Adapter>>,
    /// The session strategy (`AUTH_STRATEGY=jwt`; default database).
    pub strategy: Strategy,
    /// The secrets (`AUTH_SECRET`, newest first).
    pub secrets: Vec<String>,
    /// Whether magic links are printed on stdout (they are always on
    /// `/dev/outbox`).
    pub print_links: bool,
    /// Where the secret came from, to tell the user (never the secret).
    pub secret_source: SecretSource,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("url", &self.url)
            .field("database", &redact_url(&self.database_url))
            .field("strategy", &self.strategy)
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.secrets.len()),
            )
            .field("secret_source", &self.secret_source)
            .finish_non_exhaustive()
    }
}

/// Where the `AUTH_SECRET` came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
    /// The `AUTH_SECRET` environment variable.
    Env,
    /// A file kept from an earlier run.
    File(PathBuf),
    /// Generated now and written to this file.
    Generated(PathBuf),
    /// Given in code.
    Given,
}

impl Config {
    /// A configuration for `url` on `database_url` with one secret,
    /// database sessions and links not printed.
    pub fn new(
        url: impl Into<String>,
        database_url: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        let url = url.into().trim_end_matches('/').to_owned();
        let port = url::Url::parse(&url)
            .ok()
            .and_then(|u| u.port_or_known_default())
            .unwrap_or(3000);
        Self {
            port,
            url,
            database_url: database_url.into(),
            adapter: None,
            strategy: Strategy::Database,
            secrets: vec![secret.into()],
            print_links: false,
            secret_source: SecretSource::Given,
        }
    }

    /// Reads `PORT` (default 3000), `AUTH_URL` (default
    /// `http://127.0.0.1:PORT`), `DATABASE_URL` (default
    /// [`DEFAULT_DATABASE_URL`]), `AUTH_STRATEGY` (`database` or `jwt`) and
    /// `AUTH_SECRET` (several separated by commas). Without `AUTH_SECRET`,
    /// the secret kept in `DEMO_SECRET_FILE` (default
    /// [`DEFAULT_SECRET_FILE`]) is used, generated on first run.
    pub fn from_env() -> Result<Self, Error> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let port = match var("PORT") {
            Some(p) => p
                .trim()
                .parse::<u16>()
                .map_err(|_| format!("PORT: not a port number: {p:?}"))?,
            None => 3000,
        };
        let url = var("AUTH_URL")
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        let strategy = match var("AUTH_STRATEGY").as_deref().map(str::trim) {
            None | Some("database") => Strategy::Database,
            Some("jwt") => Strategy::Jwt,
            Some(other) => {
                return Err(
                    format!("AUTH_STRATEGY: expected database or jwt, not {other:?}").into(),
                );
            }
        };
        let (secrets, secret_source) = match var("AUTH_SECRET") {
            Some(s) => (
                s.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect(),
                SecretSource::Env,
            ),
            None => {
                let path = PathBuf::from(
                    var("DEMO_SECRET_FILE").unwrap_or_else(|| DEFAULT_SECRET_FILE.into()),
                );
                let (secret, source) = load_or_generate_secret(&path)?;
                (vec![secret], source)
            }
        };
        Ok(Self {
            port,
            url,
            database_url,
            adapter: None,
            strategy,
            secrets,
            print_links: true,
            secret_source,
        })
    }
}

/// Reads the secret kept in `path`, or generates one (32 random bytes, hex)
/// and writes it there (mode 0600 on Unix).
pub fn load_or_generate_secret(path: &Path) -> Result<(String, SecretSource), Error> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => {
            return Ok((text.trim().to_owned(), SecretSource::File(path.into())));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("reading {}: {e}", path.display()).into()),
    }
    let secret = auth_engine::auth_jwt::csrf::random_token()
        .map_err(|e| format!("generating a secret: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, format!("{secret}\n").as_bytes())
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok((secret, SecretSource::Generated(path.into())))
}

/// `scheme://host/…` without the user and password, for printing.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://…@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Connects the adapter `url` names and migrates it.
pub async fn connect(url: &str) -> Result<Arc<dyn Adapter>, Error> {
    let scheme = url.split(':').next().unwrap_or_default();
    let adapter: Arc<dyn Adapter> = match scheme {
        "sqlite" => {
            let a = adapter_sqlite::SqliteAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        "postgres" | "postgresql" => {
            let a = adapter_postgres::PostgresAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => {
            let a = adapter_mysql::MysqlAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        #[cfg(feature = "mongodb")]
        "mongodb" | "mongodb+srv" => {
            let a = adapter_mongodb::MongodbAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        #[cfg(feature = "redis")]
        "redis" | "rediss" => {
            let a = adapter_redis::RedisAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        other => {
            return Err(format!(
                "DATABASE_URL: unsupported scheme {other:?} (sqlite, postgres, mysql, mongodb or redis)"
            )
            .into());
        }
    };
    Ok(adapter)
}

/// The running app's parts, for tests: the engine and the outbox.
#[derive(Clone, Debug)]
pub struct Demo {
    /// The engine.
    pub auth: Auth,
    /// Every magic link sent (shown on `/dev/outbox`).
    pub outbox: Outbox,
}

/// Shared state of the demo's own routes.
#[derive(Clone)]
pub(crate) struct AppState {
    pub auth: Auth,
    pub adapter: Arc<dyn Adapter>,
    pub outbox: Outbox,
    pub secrets: Arc<Vec<Secret>>,
    pub database: String,
}

/// Builds the app: connects the database (or uses [`Config::adapter`]),
/// configures the engine with the email provider (id `email`) and the mock
/// OAuth provider (id `mock`, "Mock GitHub"), and returns the router and
/// its parts.
pub async fn build(config: &Config) -> Result<(Router, Demo), Error> {
    let adapter = match &config.adapter {
        Some(a) => a.clone(),
        None => connect(&config.database_url).await?,
    };
    let mailer = if config.print_links {
        ConsoleMailer::new()
    } else {
        ConsoleMailer::quiet()
    };
    let outbox = mailer.outbox();
    let mock = MockOAuth::new(&config.url, "/api/auth");
    let auth = Auth::builder()
        .adapter(adapter.clone())
        .secrets(config.secrets.iter().map(String::as_str))
        .url(&config.url)
        .strategy(config.strategy)
        .provider(EmailProvider::new(mailer))
        .provider(OAuthProvider::oidc(
            mock_oauth::PROVIDER_ID,
            mock_oauth::PROVIDER_NAME,
            mock.issuer(),
            mock_oauth::CLIENT_ID,
            mock_oauth::CLIENT_SECRET,
        ))
        .build()?;
    let state = AppState {
        auth: auth.clone(),
        adapter,
        outbox: outbox.clone(),
        secrets: Arc::new(
            config
                .secrets
                .iter()
                .map(|s| Secret::from(s.as_str()))
                .collect(),
        ),
        database: if config.adapter.is_some() {
            "(given)".into()
        } else {
            redact_url(&config.database_url)
        },
    };
    let router = Router::new()
        .route("/", get(pages::home))
        .route("/account", get(pages::account))
        .route("/account/unlink", post(pages::unlink))
        .route("/account/sessions/revoke", post(pages::revoke_session))
        .route("/account/sessions/revoke-all", post(pages::revoke_all))
        .route("/dev/outbox", get(pages::outbox))
        .with_state(state)
        .nest(mock_oauth::PREFIX, mock.router())
        .nest(auth.base_path(), engine::router(auth.clone()))
        .fallback(pages::not_found)
        .layer(engine::layer(auth.clone()));
    Ok((router, Demo { auth, outbox }))
}

/// The app's router (see [`build`]).
pub async fn app(config: &Config) -> Result<Router, Error> {
    Ok(build(config).await?.0)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
