//! `cargo run -p auth-axum --example minimal` as a user runs it: the built
//! example as a process, on SQLite, signed in through the link it prints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn example_binary() -> std::path::PathBuf {
    // target/debug/deps/minimal_example-HASH → target/debug/examples/minimal
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let bin = dir
        .join("examples")
        .join(format!("minimal{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: `cargo test` builds the examples; run it through cargo",
        bin.display()
    );
    bin
}

#[tokio::test]
async fn the_minimal_example_signs_in_by_email() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("auth-minimal-{port}"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("auth.db");

    // Without a secret it refuses to start, and says how to make one.
    let refused = Command::new(example_binary())
        .env_remove("AUTH_SECRET")
        .env("PORT", port.to_string())
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("AUTH_SECRET is not set"));

    let mut child = Command::new(example_binary())
        .env("PORT", port.to_string())
        .env("AUTH_SECRET", "example-test-secret-0123456789abcdef")
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env_remove("AUTH_URL")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Killed(child);
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let next_line = |what: &str| {
        lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the example printed no {what} within 60 s"))
    };
    let origin = format!("http://127.0.0.1:{port}");
    assert!(next_line("start-up line").starts_with(&format!("listening on {origin}")));

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let home = client
        .get(&origin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("Signed out"));
    let csrf: serde_json::Value = client
        .get(format!("{origin}/api/auth/csrf"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = csrf["csrfToken"].as_str().unwrap().to_owned();
    let r = client
        .post(format!("{origin}/api/auth/signin/email"))
        .form(&[("email", "ada@example.com"), ("csrfToken", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FOUND);
    let line = next_line("sign-in link");
    let link = line
        .strip_prefix("sign-in link for ada@example.com: ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    let r = client.get(link).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FOUND);
    let home = client
        .get(&origin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Signed in") && home.contains("ada@example.com"),
        "{home}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
