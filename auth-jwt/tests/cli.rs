//! The `authjs-token` example, run as a process.
//!
//! The binary is built with the same cargo, profile and target directory as
//! this test (a no-op when `cargo test` has already built the examples).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

fn binary() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/cli-HASH
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let target_dir = profile_dir.parent().unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
        let mut build = Command::new(cargo);
        build
            .args([
                "build",
                "--quiet",
                "--example",
                "authjs-token",
                "--manifest-path",
            ])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().unwrap();
        assert!(status.success(), "building the example failed");
        profile_dir
            .join("examples")
            .join(format!("authjs-token{}", std::env::consts::EXE_SUFFIX))
    })
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/authjs-tokens.json")).unwrap()
}

#[test]
fn decode_prints_the_recorded_claims() {
    let f = fixture();
    let s = f["secret"].as_str().unwrap();
    let d = &f["v5_deterministic"];
    let o = run(
        &[
            "decode",
            "--secret",
            s,
            "--salt",
            "authjs.session-token",
            d["token"].as_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let claims: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(claims, d["decoded_by_authjs"]);

    // Rotation: the second secret matches by kid.
    let r = &f["v5_rotation"];
    let o = run(
        &[
            "decode",
            "--secret",
            "unrelated",
            "--secret",
            "new-secret-1",
            "--salt",
            "authjs.session-token",
            r["token"].as_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));

    let v4 = &f["v4"];
    let o = run(
        &[
            "decode",
            "--secret",
            s,
            "--salt",
            "",
            "--v4",
            v4["real_encode"].as_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&o)).unwrap(),
        v4["real_decoded"]
    );
}

#[test]
fn decode_failures_exit_1_with_a_reason() {
    let f = fixture();
    let s = f["secret"].as_str().unwrap();
    let token = f["v5_deterministic"]["token"].as_str().unwrap();
    let exp = f["v5_deterministic"]["exp"].as_i64().unwrap();
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec![
                "decode",
                "--secret",
                "wrong",
                "--salt",
                "authjs.session-token",
                token,
            ],
            "no configured secret",
        ),
        (
            vec![
                "decode",
                "--secret",
                s,
                "--salt",
                "__Secure-authjs.session-token",
                token,
            ],
            "no configured secret",
        ),
        (
            vec![
                "decode",
                "--secret",
                s,
                "--salt",
                "authjs.session-token",
                "not-a-token",
            ],
            "malformed",
        ),
        (
            vec![
                "decode",
                "--secret",
                s,
                "--salt",
                "authjs.session-token",
                "--now",
                "5000000000",
                token,
            ],
            "expired",
        ),
        (
            vec!["decode", "--salt", "authjs.session-token", token],
            "--secret",
        ),
    ];
    for (args, reason) in cases {
        let o = run(&args, "");
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stdout(&o).is_empty());
        let err = stderr(&o);
        assert!(err.contains(reason), "{args:?}: {err}");
        assert!(!err.contains(s) && !err.contains(&token[60..90]), "{err}");
    }
    let o = run(
        &[
            "decode",
            "--secret",
            s,
            "--salt",
            "authjs.session-token",
            "--now",
            &(exp + 10).to_string(),
            token,
        ],
        "",
    );
    assert!(o.status.success(), "within the clock tolerance");
}

#[test]
fn encode_then_decode() {
    for v4 in [false, true] {
        let mut enc = vec![
            "encode",
            "--secret",
            "s1",
            "--secret",
            "s0",
            "--salt",
            "authjs.session-token",
            "--max-age",
            "60",
        ];
        if v4 {
            enc.push("--v4");
        }
        let o = run(&enc, r#"{"sub":"42","name":"Grace","roles":["admin"]}"#);
        assert!(o.status.success(), "{}", stderr(&o));
        let token = stdout(&o).trim().to_owned();
        assert_eq!(token.split('.').count(), 5);

        let mut dec = vec!["decode", "--secret", "s1", "--salt", "authjs.session-token"];
        if v4 {
            dec.push("--v4");
        }
        dec.push(&token);
        let o = run(&dec, "");
        assert!(o.status.success(), "{}", stderr(&o));
        let claims: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(claims["sub"], "42");
        assert_eq!(claims["roles"][0], "admin");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            60
        );
    }
    let o = run(&["encode", "--secret", "s", "--salt", "x"], "[1,2]");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("JSON object"), "{}", stderr(&o));
    let o = run(&["encode", "--secret", "s", "--salt", "x"], "{oops");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn csrf_create_and_verify() {
    let o = run(&["csrf", "--secret", "s"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    let value = stdout(&o).trim().to_owned();
    let (token, hash) = value.split_once('|').unwrap();
    assert_eq!((token.len(), hash.len()), (64, 64));

    assert!(
        run(&["csrf", "--secret", "s", "--verify", &value], "")
            .status
            .success()
    );
    let o = run(&["csrf", "--secret", "other", "--verify", &value], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).is_empty());

    let f = fixture();
    let c = &f["csrf"];
    let secret = c["secret_array"][0].as_str().unwrap();
    let recorded = c["cookie_value"].as_str().unwrap();
    assert!(
        run(&["csrf", "--secret", secret, "--verify", recorded], "")
            .status
            .success()
    );
    let encoded = recorded.replace('|', "%7C");
    assert!(
        run(&["csrf", "--secret", secret, "--verify", &encoded], "")
            .status
            .success()
    );
}

#[test]
fn usage_errors_exit_1() {
    for args in [
        vec!["frobnicate", "--secret", "s"],
        vec!["decode", "--secret"],
        vec!["decode", "--bogus"],
    ] {
        let o = run(&args, "");
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(!stderr(&o).is_empty());
    }
}
