//! A real server and a browser-like client for the engine's end-to-end
//! tests: axum on 127.0.0.1, reqwest with a cookie jar, redirects followed
//! by hand so each hop can be checked.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use adapter_conformance::servers::{Server, unique_namespace, url};
use auth_axum::engine::{self, RequireSession, Session};
use auth_engine::auth_core::Adapter;
use auth_engine::{Auth, AuthBuilder, ConsoleMailer, EmailProvider, Outbox};
use axum::Router;
use axum::routing::get;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

pub const SECRET: &str = "e2e-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/// Which database the app runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub async fn adapter(backend: Backend) -> Arc<dyn Adapter> {
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(unique_namespace("engine-e2e"));
            std::fs::create_dir_all(&dir).unwrap();
            let a = adapter_sqlite::SqliteAdapter::open(dir.join("auth.db"))
                .await
                .expect("open SQLite");
            a.migrate().await.expect("migrate SQLite");
            Arc::new(a)
        }
        Backend::Postgres => {
            let url = url(Server::Postgres).await;
            let options = adapter_postgres::PostgresOptions::new(&url)
                .expect("a PostgreSQL URL")
                .schema(unique_namespace("engine"))
                .max_connections(4);
            let a = adapter_postgres::PostgresAdapter::with_options(options)
                .await
                .expect("connect to PostgreSQL");
            a.migrate().await.expect("migrate PostgreSQL");
            Arc::new(a)
        }
    }
}

/// A running app: the engine under `/api/auth`, `/` showing the session,
/// `/protected` behind [`RequireSession`].
pub struct App {
    pub origin: String,
    pub auth: Auth,
    pub outbox: Outbox,
    pub adapter: Arc<dyn Adapter>,
    /// Seconds added to the real clock (the engine's injected clock).
    pub skew: Arc<AtomicI64>,
}

impl App {
    pub async fn start(
        adapter: Arc<dyn Adapter>,
        configure: impl FnOnce(AuthBuilder) -> AuthBuilder,
    ) -> App {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let mailer = ConsoleMailer::quiet();
        let outbox = mailer.outbox();
        let skew = Arc::new(AtomicI64::new(0));
        let clock_skew = skew.clone();
        let builder = Auth::builder()
            .adapter(adapter.clone())
            .secret(SECRET)
            .url(&origin)
            .provider(EmailProvider::new(mailer))
            .clock(move || {
                OffsetDateTime::now_utc() + Duration::seconds(clock_skew.load(Ordering::SeqCst))
            });
        let auth = configure(builder).build().expect("a valid configuration");
        let app = Router::new()
            .route(
                "/",
                get(|session: Option<Session>| async move {
                    match session {
                        Some(Session(s)) => {
                            format!("signed in as {}", s.user.email.unwrap_or_default())
                        }
                        None => "signed out".to_owned(),
                    }
                }),
            )
            .route(
                "/protected",
                get(|RequireSession(s): RequireSession| async move {
                    format!("secret for {}", s.user.id.unwrap_or_default())
                }),
            )
            .route(
                "/api/me",
                get(|Session(s): Session| async move { s.user.email.unwrap_or_default() }),
            )
            .nest(auth.base_path(), engine::router(auth.clone()))
            .layer(engine::layer(auth.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        App {
            origin,
            auth,
            outbox,
            adapter,
            skew,
        }
    }

    pub fn advance(&self, by: Duration) {
        self.skew.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/auth{path}", self.origin)
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.origin)
    }
}

/// A browser: a cookie jar, no automatic redirects.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub origin: Url,
}

impl Browser {
    pub fn new(origin: &str) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            jar,
            origin: Url::parse(origin).unwrap(),
        }
    }

    /// The cookie named `name` the jar would send to the site.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.origin)?;
        let header = header.to_str().ok()?.to_owned();
        header.split("; ").find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }

    /// The names of the cookies the jar holds for the site.
    pub fn cookie_names(&self) -> Vec<String> {
        self.jar
            .cookies(&self.origin)
            .and_then(|h| h.to_str().ok().map(str::to_owned))
            .map(|h| {
                h.split("; ")
                    .filter_map(|p| p.split_once('=').map(|(n, _)| n.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &self.origin);
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.unwrap()
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(url).form(form).send().await.unwrap()
    }

    pub async fn csrf(&self, app: &App) -> String {
        let body: Value = self.get(&app.api("/csrf")).await.json().await.unwrap();
        body["csrfToken"].as_str().expect("a csrfToken").to_owned()
    }

    pub async fn session(&self, app: &App) -> Value {
        let r = self.get(&app.api("/session")).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    /// Signs in with an email link: asks for it, opens it, returns where the
    /// link redirected to.
    pub async fn email_sign_in(&self, app: &App, email: &str, callback_url: &str) -> String {
        let csrf = self.csrf(app).await;
        let r = self
            .post(
                &app.api("/signin/email"),
                &[
                    ("email", email),
                    ("csrfToken", &csrf),
                    ("callbackUrl", callback_url),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FOUND, "POST /signin/email");
        assert_eq!(
            location(&r),
            app.api("/verify-request?provider=email&type=email"),
            "POST /signin/email redirects to verify-request"
        );
        let normalised = email.trim().to_lowercase();
        let link = app
            .outbox
            .last_for(&normalised)
            .expect("a sign-in link was sent")
            .url;
        let r = self.get(&link).await;
        assert_eq!(r.status(), StatusCode::FOUND, "opening the sign-in link");
        location(&r)
    }
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Every `Set-Cookie` header of a response.
pub fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

pub fn unique_email(tag: &str) -> String {
    format!("{}@example.com", unique_namespace(tag))
}
