//! `cargo run -p demo`: the demo app on <http://127.0.0.1:3000>. See the
//! crate docs (`demo/README.md`) for the environment variables.

use demo::{Config, SecretSource, redact_url};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("demo: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), demo::Error> {
    let config = Config::from_env()?;
    match &config.secret_source {
        SecretSource::Generated(path) => println!(
            "AUTH_SECRET is not set: generated one and kept it in {} (it is reused on the next run)",
            path.display()
        ),
        SecretSource::File(path) => {
            println!(
                "AUTH_SECRET is not set: using the one kept in {}",
                path.display()
            )
        }
        SecretSource::Env | SecretSource::Given => {}
    }
    let router = demo::app(&config).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", config.port))?;
    println!(
        "demo listening on {} (database: {}, sessions: {})",
        config.url,
        redact_url(&config.database_url),
        match config.strategy {
            auth_engine::Strategy::Database => "database",
            auth_engine::Strategy::Jwt => "jwt",
        }
    );
    println!(
        "sign in at {}/api/auth/signin; magic links are printed here and listed at {}/dev/outbox",
        config.url, config.url
    );
    demo::serve(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
