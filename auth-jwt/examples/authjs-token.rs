//! `authjs-token`: decode, encode and check Auth.js session cookies from a shell.
//!
//! ```text
//! authjs-token decode --secret S [--secret S2 …] --salt NAME [--v4] [--now UNIX] TOKEN
//! authjs-token encode --secret S [--secret S2 …] --salt NAME [--v4] [--max-age SECONDS] [--now UNIX] < claims.json
//! authjs-token csrf   --secret S [--secret S2 …] [--verify VALUE]
//! ```
//!
//! `decode` prints the claims as JSON; `encode` reads the claims JSON on
//! stdin and prints the token; `csrf` prints a new CSRF cookie value
//! (`token|hash`), or with `--verify` exits 0 when the value's hash verifies.
//! Any failure prints its reason on stderr and exits 1. The salt is the
//! session cookie's name (`authjs.session-token`,
//! `__Secure-authjs.session-token`); next-auth 4 (`--v4`) session tokens use
//! an empty salt, which is the default with `--v4`.
//!
//! Run it with `cargo run -q -p auth-jwt --example authjs-token -- …`.

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use auth_jwt::{Clock, Jwt, Secret, Version, csrf};
use serde_json::value::RawValue;

const USAGE: &str = "usage:
  authjs-token decode --secret S [--secret S2 ...] --salt NAME [--v4] [--now UNIX] TOKEN
  authjs-token encode --secret S [--secret S2 ...] --salt NAME [--v4] [--max-age SECONDS] < claims.json
  authjs-token csrf --secret S [--verify VALUE]";

#[derive(Default)]
struct Args {
    command: String,
    secrets: Vec<Secret>,
    salt: Option<String>,
    v4: bool,
    now: Option<i64>,
    max_age: Option<u64>,
    verify: Option<String>,
    token: Option<String>,
}

fn parse(argv: &[String]) -> Result<Args, String> {
    let mut it = argv.iter();
    let mut args = Args {
        command: it.next().ok_or("missing command")?.clone(),
        ..Args::default()
    };
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "--secret" => args.secrets.push(Secret::from(value("--secret")?)),
            "--salt" => args.salt = Some(value("--salt")?),
            "--v4" => args.v4 = true,
            "--now" => {
                let v = value("--now")?;
                args.now = Some(v.parse().map_err(|_| format!("--now: not a number: {v}"))?);
            }
            "--max-age" => {
                let v = value("--max-age")?;
                args.max_age = Some(
                    v.parse()
                        .map_err(|_| format!("--max-age: not a number of seconds: {v}"))?,
                );
            }
            "--verify" => args.verify = Some(value("--verify")?),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if args.token.is_none() => args.token = Some(arg.clone()),
            _ => return Err("more than one token given".into()),
        }
    }
    if args.secrets.is_empty() {
        return Err("at least one --secret is required".into());
    }
    Ok(args)
}

fn codec(args: &Args) -> Result<(Jwt, String), String> {
    let version = if args.v4 { Version::V4 } else { Version::V5 };
    let salt = match (&args.salt, version) {
        (Some(s), _) => s.clone(),
        (None, Version::V4) => String::new(),
        (None, Version::V5) => {
            return Err("--salt is required (the cookie name, e.g. authjs.session-token)".into());
        }
    };
    let mut jwt = Jwt::with_version(version, args.secrets.clone()).map_err(|e| e.to_string())?;
    if let Some(now) = args.now {
        jwt = jwt.with_clock(Clock::fixed(now));
    }
    Ok((jwt, salt))
}

/// Runs one command; `Ok` is what to print on stdout.
fn run(argv: &[String], stdin: &mut dyn Read) -> Result<String, String> {
    let args = parse(argv)?;
    match args.command.as_str() {
        "decode" => {
            let (jwt, salt) = codec(&args)?;
            let token = args.token.as_deref().ok_or("missing TOKEN")?;
            let claims: serde_json::Value =
                jwt.decode(&salt, token.trim()).map_err(|e| e.to_string())?;
            serde_json::to_string(&claims).map_err(|e| e.to_string())
        }
        "encode" => {
            if args.token.is_some() {
                return Err("encode reads the claims on stdin and takes no TOKEN".into());
            }
            let (jwt, salt) = codec(&args)?;
            let mut input = String::new();
            stdin
                .read_to_string(&mut input)
                .map_err(|e| format!("reading stdin: {e}"))?;
            // Kept raw so the claims stay in their order.
            let claims: Box<RawValue> = serde_json::from_str(input.trim())
                .map_err(|_| "stdin is not valid JSON".to_owned())?;
            let max_age = args
                .max_age
                .map_or(auth_jwt::DEFAULT_MAX_AGE, Duration::from_secs);
            jwt.encode_with_max_age(&salt, &claims, max_age)
                .map_err(|e| e.to_string())
        }
        "csrf" => match &args.verify {
            Some(value) => csrf::verify_csrf_cookie(value, &args.secrets)
                .map(|_| "verified".to_owned())
                .ok_or_else(|| "CSRF cookie hash does not verify".to_owned()),
            None => csrf::create_csrf_token(&args.secrets)
                .map(|t| t.cookie_value)
                .map_err(|e| e.to_string()),
        },
        other => Err(format!("unknown command {other:?}")),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv.iter().any(|a| a == "--help" || a == "-h") {
        eprintln!("{USAGE}");
        return if argv.is_empty() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    match run(&argv, &mut std::io::stdin()) {
        Ok(out) => {
            let verify =
                argv.first().is_some_and(|c| c == "csrf") && argv.iter().any(|a| a == "--verify");
            if !verify {
                let mut stdout = std::io::stdout();
                // A closed pipe is not worth a panic.
                let _ = writeln!(stdout, "{out}");
            }
            ExitCode::SUCCESS
        }
        Err(reason) => {
            eprintln!("authjs-token: {reason}");
            ExitCode::FAILURE
        }
    }
}
