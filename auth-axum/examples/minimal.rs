//! The smallest complete server: Auth.js's REST API under `/api/auth`, email
//! sign-in with the link printed on stdout, and a page showing who is signed
//! in.
//!
//! ```sh
//! AUTH_SECRET=$(openssl rand -base64 33) cargo run -p auth-axum --example minimal
//! ```
//!
//! Environment:
//! - `PORT` (default 3000; the server listens on 127.0.0.1)
//! - `AUTH_SECRET` (required; several, newest first, separated by commas)
//! - `AUTH_URL` (default `http://127.0.0.1:PORT`)
//! - `DATABASE_URL` (default `sqlite://auth-minimal.db`; or `postgres://`,
//!   `mysql://`, `mongodb://`, `redis://`)

use std::sync::Arc;

use auth_axum::engine::{self, Session};
use auth_engine::auth_core::Adapter;
use auth_engine::pages::{escape, layout};
use auth_engine::{Auth, ConsoleMailer, EmailProvider};
use axum::Router;
use axum::response::Html;
use axum::routing::get;

/// Connects the adapter `url` names and migrates it.
async fn connect(url: &str) -> Result<Arc<dyn Adapter>, Box<dyn std::error::Error>> {
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
        "mysql" | "mariadb" => {
            let a = adapter_mysql::MysqlAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        "mongodb" | "mongodb+srv" => {
            let a = adapter_mongodb::MongodbAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        "redis" | "rediss" => {
            let a = adapter_redis::RedisAdapter::connect(url).await?;
            a.migrate().await?;
            Arc::new(a)
        }
        other => return Err(format!("DATABASE_URL: unsupported scheme {other:?}").into()),
    };
    Ok(adapter)
}

async fn home(session: Option<Session>) -> Html<String> {
    let body = match session {
        Some(Session(s)) => format!(
            "<h1>Signed in</h1><p>as <strong>{}</strong> until {}</p>\
             <p><a class=\"button\" href=\"/api/auth/signout\">Sign out</a></p>",
            escape(s.user.email.as_deref().unwrap_or("?")),
            s.expires
        ),
        None => {
            "<h1>Signed out</h1><p><a class=\"button\" href=\"/api/auth/signin\">Sign in</a></p>"
                .to_owned()
        }
    };
    Html(layout("auth-engine minimal", &body))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let Ok(secrets) = std::env::var("AUTH_SECRET") else {
        eprintln!("AUTH_SECRET is not set: run with AUTH_SECRET=$(openssl rand -base64 33)");
        std::process::exit(2);
    };
    let url = std::env::var("AUTH_URL").unwrap_or_else(|_| format!("http://127.0.0.1:{port}"));
    let database =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://auth-minimal.db".into());

    let auth = Auth::builder()
        .adapter(connect(&database).await?)
        .secrets(secrets.split(',').map(str::trim))
        .url(&url)
        .provider(EmailProvider::new(ConsoleMailer::new()))
        .build()?;
    let app = Router::new()
        .route("/", get(home))
        .nest(auth.base_path(), engine::router(auth.clone()))
        .layer(engine::layer(auth));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "listening on {url} (database: {})",
        database.split('@').next_back().unwrap_or("")
    );
    axum::serve(listener, app).await?;
    Ok(())
}
