//! The demo driven in headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/services.sh`) through WebDriver
//! (`fantoccini`): email sign-in through the outbox link, OAuth sign-in
//! through the mock provider's consent page, linking a second account while
//! signed in, the `OAuthAccountNotLinked` error, sign-out, a forged sign-out
//! POST rejected, "sign out this one" and "sign out everywhere" ending a
//! second browser's session, cookie attributes, and the session surviving a
//! restart of the server. Runs on SQLite and on PostgreSQL (`POSTGRES_URL`,
//! a fresh schema). The SQLite run saves the screenshots in
//! `docs/screenshots/`.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_conformance::servers::{Server, unique_namespace, url};
use auth_engine::auth_core::Adapter;
use demo::Config;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

type Result<T = (), E = Box<dyn StdError + Send + Sync>> = std::result::Result<T, E>;

const SECRET: &str = "browser-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const CHROMIUM: &str = "/usr/bin/chromium";

// ------------------------------------------------------------------ chromedriver

/// A chromedriver process on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("chromedriver"))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

async fn start_driver() -> Driver {
    let missing = |what: &str| -> ! {
        panic!(
            "{what} is not installed: the browser test needs Debian's chromium and chromium-driver. \
             Run `bash scripts/services.sh` (as root) to install them."
        )
    };
    if !Path::new(CHROMIUM).is_file() {
        missing(CHROMIUM);
    }
    let Some(binary) = chromedriver_path() else {
        missing("chromedriver");
    };
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on 127.0.0.1:{port} within 10 s");
}

/// A browser with a fresh profile: a WebDriver session.
struct Browser {
    client: Client,
    _profile: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn browser(driver: &Driver) -> Result<Browser> {
    let profile = TempDir(std::env::temp_dir().join(unique_namespace("demo-chromium")));
    std::fs::create_dir_all(&profile.0)?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1000,900",
                format!("--user-data-dir={}", profile.0.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .map_err(|e| format!("cannot open a Chromium session through chromedriver: {e}"))?;
    Ok(Browser {
        client,
        _profile: profile,
    })
}

// ------------------------------------------------------------------ the server

/// The demo serving on a port until stopped.
struct Running {
    addr: SocketAddr,
    outbox: auth_engine::Outbox,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    async fn start(listener: tokio::net::TcpListener, config: &Config) -> Result<Running> {
        let addr = listener.local_addr()?;
        let (router, demo) = demo::build(config).await?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = demo::serve(listener, router, async move {
                let _ = rx.await;
            })
            .await;
        });
        Ok(Running {
            addr,
            outbox: demo.outbox,
            stop: Some(tx),
            task,
        })
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// How to (re)connect the same database for each start of the server.
struct Database {
    sqlite_url: String,
    postgres: Option<(String, String)>,
    _dir: TempDir,
}

impl Database {
    async fn new(backend: Backend) -> Database {
        let dir = TempDir(std::env::temp_dir().join(unique_namespace("demo-browser")));
        std::fs::create_dir_all(&dir.0).expect("a temporary directory");
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some((url(Server::Postgres).await, unique_namespace("demo"))),
        };
        Database {
            sqlite_url: format!("sqlite://{}", dir.0.join("demo.db").display()),
            postgres,
            _dir: dir,
        }
    }

    async fn config(&self, origin: &str) -> Result<Config> {
        let mut config = Config::new(origin, self.sqlite_url.clone(), SECRET);
        if let Some((url, schema)) = &self.postgres {
            let options = adapter_postgres::PostgresOptions::new(url)?
                .schema(schema.clone())
                .max_connections(4);
            let adapter = adapter_postgres::PostgresAdapter::with_options(options).await?;
            adapter.migrate().await?;
            let adapter: Arc<dyn Adapter> = Arc::new(adapter);
            config.adapter = Some(adapter);
            config.database_url = format!("postgres (schema {schema})");
        }
        Ok(config)
    }
}

// ------------------------------------------------------------------ helpers

struct Scenario {
    base: String,
    shots: Option<PathBuf>,
    started: Instant,
    backend: Backend,
}

impl Scenario {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn step(&self, what: &str) {
        eprintln!(
            "[browser {:?} {:>6.2}s] {what}",
            self.backend,
            self.started.elapsed().as_secs_f64()
        );
    }

    async fn shot(&self, c: &Client, name: &str) -> Result {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(format!("{name}.png")), c.screenshot().await?)?;
        }
        Ok(())
    }
}

async fn find(c: &Client, css: &str) -> Result<fantoccini::elements::Element> {
    match c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(e) => Ok(e),
        Err(e) => {
            let at = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            Err(format!("no element {css:?} on {at}: {e}").into())
        }
    }
}

async fn click(c: &Client, css: &str) -> Result {
    find(c, css).await?.click().await?;
    Ok(())
}

async fn exists(c: &Client, css: &str) -> Result<bool> {
    Ok(!c.find_all(Locator::Css(css)).await?.is_empty())
}

async fn path_and_query(c: &Client) -> Result<String> {
    let u = c.current_url().await?;
    Ok(match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_owned(),
    })
}

/// Waits (up to 10 s) until the browser is on a page whose path and query
/// start with `prefix`: clicks that submit forms may return before the
/// navigation is done.
async fn wait_path(c: &Client, prefix: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let at = path_and_query(c).await?;
        if at.starts_with(prefix) {
            return Ok(at);
        }
        if Instant::now() > deadline {
            return Err(format!("expected to reach {prefix}, still at {at}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The signed-in user's email on the home page, or `None` when signed out.
async fn who(s: &Scenario, c: &Client) -> Result<Option<String>> {
    c.goto(&s.url("/")).await?;
    if exists(c, "#signed-out").await? {
        return Ok(None);
    }
    Ok(Some(find(c, "#user-email").await?.text().await?))
}

async fn expect_user(s: &Scenario, c: &Client, email: Option<&str>) -> Result {
    let got = who(s, c).await?;
    if got.as_deref() != email {
        return Err(format!("expected to be signed in as {email:?}, found {got:?}").into());
    }
    Ok(())
}

/// Email sign-in through the sign-in page and the outbox link.
async fn email_sign_in(
    s: &Scenario,
    c: &Client,
    run: &Running,
    email: &str,
    shots: bool,
) -> Result {
    c.goto(&s.url("/api/auth/signin?callbackUrl=%2F")).await?;
    find(c, "#input-email-for-email")
        .await?
        .send_keys(email)
        .await?;
    let before = run.outbox.len();
    click(c, "form[action$='/signin/email'] button[type=submit]").await?;
    wait_path(c, "/api/auth/verify-request").await?;
    find(c, "main h1").await?;
    if run.outbox.len() != before + 1 {
        return Err("no sign-in link was sent".into());
    }
    if shots {
        s.shot(c, "verify-request").await?;
    }
    c.goto(&s.url("/dev/outbox")).await?;
    if shots {
        s.shot(c, "outbox").await?;
    }
    click(c, &format!("tr.link[data-email='{email}'] a")).await?;
    find(c, "#signed-in").await?;
    Ok(())
}

/// Starts the Mock GitHub sign-in from the sign-in page: lands on the
/// consent page.
async fn mock_sign_in(s: &Scenario, c: &Client) -> Result {
    c.goto(&s.url("/api/auth/signin?callbackUrl=%2F")).await?;
    let button = find(c, "#signin-mock").await?;
    let label = button.text().await?;
    if label != "Sign in with Mock GitHub" {
        return Err(format!("the OAuth button reads {label:?}").into());
    }
    button.click().await?;
    consent_page(c).await
}

async fn consent_page(c: &Client) -> Result {
    find(c, "#custom-identity").await?;
    let at = path_and_query(c).await?;
    if !at.starts_with("/mock-oauth/authorize") {
        return Err(format!("expected the consent page, at {at}").into());
    }
    Ok(())
}

async fn type_identity(c: &Client, sub: &str, name: &str, email: &str) -> Result {
    find(c, "#sub").await?.send_keys(sub).await?;
    find(c, "#name").await?.send_keys(name).await?;
    find(c, "#email").await?.send_keys(email).await?;
    click(c, "#continue-custom").await
}

async fn js(c: &Client, script: &str) -> Result<Value> {
    Ok(c.execute(script, vec![]).await?)
}

// ------------------------------------------------------------------ the scenario

async fn scenario(backend: Backend) -> Result {
    let started = Instant::now();
    let driver = start_driver().await;
    let database = Database::new(backend).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let mut run = Running::start(listener, &database.config(&base).await?).await?;
    let shots = (backend == Backend::Sqlite)
        .then(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"));
    let s = Scenario {
        base,
        shots,
        started,
        backend,
    };
    let a = browser(&driver).await?;
    let result = steps(&s, &driver, &a.client, &database, &mut run).await;
    if let Err(e) = &result {
        let url = a
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        let source = a.client.source().await.unwrap_or_default();
        let failure = std::env::temp_dir().join(format!("demo-browser-failure-{backend:?}.png"));
        if let Ok(png) = a.client.screenshot().await {
            let _ = std::fs::write(&failure, png);
        }
        eprintln!(
            "[browser {backend:?}] FAILED: {e}\n  at {url}\n  screenshot: {}\n  page: {}",
            failure.display(),
            source.chars().take(3000).collect::<String>()
        );
    }
    let _ = a.client.close().await;
    run.stop().await;
    drop(driver);
    s.step("done");
    result
}

async fn steps(
    s: &Scenario,
    driver: &Driver,
    c: &Client,
    database: &Database,
    run: &mut Running,
) -> Result {
    // Signed out; the sign-in page offers both ways.
    s.step("home, signed out");
    c.goto(&s.url("/")).await?;
    find(c, "#signed-out").await?;
    s.shot(c, "home-signed-out").await?;
    click(c, "#signin-link").await?;
    find(c, "#signin-mock").await?;
    find(c, "#input-email-for-email").await?;
    s.shot(c, "signin").await?;

    // 1. Email sign-in through the outbox link.
    s.step("email sign-in through /dev/outbox");
    email_sign_in(s, c, run, "ada@example.com", true).await?;
    find(c, "#signed-in").await?;
    if find(c, "#user-email").await?.text().await? != "ada@example.com" {
        return Err("the magic link did not sign ada@example.com in".into());
    }
    find(c, "#session-expires").await?;
    s.shot(c, "home-signed-in").await?;

    // 2. Cookies: HttpOnly, SameSite=Lax, nothing visible to page JavaScript.
    s.step("cookie attributes");
    let cookies = c.get_all_cookies().await?;
    let session_cookie = cookies
        .iter()
        .find(|k| k.name() == "authjs.session-token")
        .ok_or("no authjs.session-token cookie")?;
    for k in cookies.iter().filter(|k| k.name().starts_with("authjs.")) {
        if k.http_only() != Some(true) {
            return Err(format!("cookie {} is not HttpOnly", k.name()).into());
        }
        if format!("{:?}", k.same_site()) != "Some(Lax)" {
            return Err(format!("cookie {} has SameSite {:?}", k.name(), k.same_site()).into());
        }
    }
    let visible = js(c, "return document.cookie").await?;
    let visible = visible.as_str().unwrap_or_default();
    if visible.contains("authjs") || visible.contains(session_cookie.value()) {
        return Err(format!("page JavaScript sees an auth cookie: {visible:?}").into());
    }

    // 3. Forged POSTs without the CSRF token change nothing.
    s.step("forged sign-out and account POSTs");
    let forged = js(
        c,
        "return fetch('/api/auth/signout', {method: 'POST', \
         headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'callbackUrl=%2F'}) \
         .then(r => r.url)",
    )
    .await?;
    if !forged.as_str().unwrap_or_default().contains("MissingCSRF") {
        return Err(
            format!("a sign-out POST without a CSRF token was not refused: {forged}").into(),
        );
    }
    for (path, body) in [
        ("/account/sessions/revoke-all", ""),
        ("/account/sessions/revoke-all", "csrfToken=forged"),
    ] {
        let status = js(
            c,
            &format!(
                "return fetch('{path}', {{method: 'POST', \
                 headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: '{body}'}}) \
                 .then(r => r.status)"
            ),
        )
        .await?;
        if status != json!(403) {
            return Err(
                format!("POST {path} with body {body:?} answered {status}, not 403").into(),
            );
        }
    }
    expect_user(s, c, Some("ada@example.com")).await?;

    // 4. Link a Mock GitHub account while signed in (typed identity).
    s.step("link a second account while signed in");
    c.goto(&s.url("/account")).await?;
    find(c, "#no-accounts").await?;
    click(c, "#link-mock").await?;
    consent_page(c).await?;
    s.shot(c, "mock-consent").await?;
    type_identity(c, "ada-gh", "Ada on GitHub", "ada.gh@example.com").await?;
    find(c, "tr.account[data-provider='mock'][data-account='ada-gh']").await?;
    if path_and_query(c).await? != "/account" {
        return Err(format!("after linking: at {}", path_and_query(c).await?).into());
    }

    // 5. A second browser signs in as Ada too; "sign out this one" ends it.
    s.step("second browser: sign in, then ended from the first");
    let b = browser(driver).await?;
    let bc = &b.client;
    email_sign_in(s, bc, run, "ada@example.com", false).await?;
    expect_user(s, bc, Some("ada@example.com")).await?;
    c.goto(&s.url("/account")).await?;
    find(c, "tr.session.current").await?;
    find(c, "tr.session:not(.current)").await?;
    s.shot(c, "account").await?;
    click(c, "tr.session:not(.current) button").await?;
    find(c, "#notice").await?;
    expect_user(s, bc, None).await?;
    expect_user(s, c, Some("ada@example.com")).await?;

    // 6. The second browser signs in with the linked Mock GitHub account
    //    (picked on the consent page by typing it): it is Ada.
    s.step("second browser: sign in with the linked account");
    mock_sign_in(s, bc).await?;
    type_identity(bc, "ada-gh", "Ada on GitHub", "ada.gh@example.com").await?;
    find(bc, "#signed-in").await?;
    expect_user(s, bc, Some("ada@example.com")).await?;

    // 7. "Sign out everywhere" ends both.
    s.step("sign out everywhere");
    c.goto(&s.url("/account")).await?;
    if c.find_all(Locator::Css("tr.session")).await?.len() != 2 {
        return Err("the account page should list two sessions".into());
    }
    click(c, "#signout-everywhere").await?;
    find(c, "#signed-out").await?;
    expect_user(s, bc, None).await?;
    expect_user(s, c, None).await?;
    let _ = b.client.clone().close().await;
    drop(b);

    // 8. OAuth sign-in through the mock provider (a preset identity).
    s.step("OAuth sign-in as Grace");
    mock_sign_in(s, c).await?;
    click(c, "#identity-1002").await?;
    find(c, "#signed-in").await?;
    expect_user(s, c, Some("grace@example.com")).await?;

    // 9. Sign out through the engine's page.
    s.step("sign out");
    click(c, "#signout-link").await?;
    find(c, "#submitButton").await?;
    s.shot(c, "signout").await?;
    click(c, "#submitButton").await?;
    find(c, "#signed-out").await?;
    expect_user(s, c, None).await?;

    // 10. Same email, other provider account, signed out: refused.
    s.step("OAuthAccountNotLinked");
    mock_sign_in(s, c).await?;
    type_identity(c, "mallory-1", "Not Ada", "ada@example.com").await?;
    find(c, "[data-error='OAuthAccountNotLinked']").await?;
    let at = path_and_query(c).await?;
    if !at.contains("error=OAuthAccountNotLinked") {
        return Err(format!("expected the OAuthAccountNotLinked page, at {at}").into());
    }
    s.shot(c, "error-not-linked").await?;
    expect_user(s, c, None).await?;

    // 11. The session survives a restart of the server.
    s.step("session survives a restart");
    mock_sign_in(s, c).await?;
    click(c, "#identity-1002").await?;
    find(c, "#signed-in").await?;
    expect_user(s, c, Some("grace@example.com")).await?;
    let addr = run.addr;
    let old = std::mem::replace(
        run,
        Running {
            addr,
            outbox: auth_engine::ConsoleMailer::quiet().outbox(),
            stop: None,
            task: tokio::spawn(async {}),
        },
    );
    old.stop().await;
    let mut listener = None;
    for _ in 0..50 {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                listener = Some(l);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let listener = listener.ok_or_else(|| format!("cannot listen on {addr} again"))?;
    *run = Running::start(listener, &database.config(&s.base).await?).await?;
    c.refresh().await?;
    if find(c, "#user-email").await?.text().await? != "grace@example.com" {
        return Err("signed out by the restart".into());
    }

    // 12. Unlink (Grace has an email, so it is allowed).
    s.step("unlink");
    c.goto(&s.url("/account")).await?;
    click(c, "tr.account[data-provider='mock'] button").await?;
    find(c, "#notice").await?;
    find(c, "#no-accounts").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sqlite() {
    scenario(Backend::Sqlite)
        .await
        .expect("the browser scenario on SQLite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_postgres() {
    scenario(Backend::Postgres)
        .await
        .expect("the browser scenario on PostgreSQL");
}
