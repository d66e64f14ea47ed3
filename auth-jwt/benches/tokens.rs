//! `cargo bench -p auth-jwt`: session tokens decoded and encoded per second.
//!
//! A plain timing loop (no harness): each case runs for about two seconds
//! after a warm-up and prints operations per second and time per operation.
//! Compare with `node scripts/interop/bench.mjs` (`@auth/core`'s `decode`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use auth_jwt::{Clock, DefaultClaims, Jwt};

const SECRET: &str = "test-secret-do-not-use-in-production-0123456789";
const SALT: &str = "authjs.session-token";

fn measure(name: &str, mut op: impl FnMut()) {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(300) {
        op();
    }
    let mut n: u64 = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        for _ in 0..100 {
            op();
        }
        n += 100;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<44} {:>12.0} ops/s {:>9.2} µs/op",
        n as f64 / secs,
        secs * 1e6 / n as f64
    );
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less args; skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/authjs-tokens.json")).unwrap();
    let real = fixture["v5_real_encode"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let gcm = fixture["v5_a256gcm_no_kid"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let v4_token = fixture["v4"]["real_encode"].as_str().unwrap().to_owned();

    let jwt = Jwt::new([SECRET])
        .unwrap()
        .with_clock(Clock::fixed(1_796_143_467));
    let v4 = Jwt::v4(SECRET)
        .unwrap()
        .with_clock(Clock::fixed(1_796_143_467));
    let rotated = Jwt::new(["newest", "newer", SECRET])
        .unwrap()
        .with_clock(Clock::fixed(1_796_143_467));
    let claims = DefaultClaims {
        name: Some("Ada Lovelace".into()),
        email: Some("ada@example.com".into()),
        sub: Some("user-123".into()),
        ..Default::default()
    };

    println!(
        "auth-jwt, {} bytes token (the fixture's @auth/core encode())",
        real.len()
    );
    measure("decode v5 A256CBC-HS512 (DefaultClaims)", || {
        black_box(jwt.decode::<DefaultClaims>(SALT, black_box(&real)).unwrap());
    });
    measure("decode v5 A256CBC-HS512 (serde_json::Value)", || {
        black_box(
            jwt.decode::<serde_json::Value>(SALT, black_box(&real))
                .unwrap(),
        );
    });
    measure("decode v5, 3 secrets, kid matches the 3rd", || {
        black_box(
            rotated
                .decode::<DefaultClaims>(SALT, black_box(&real))
                .unwrap(),
        );
    });
    measure("decode v5 A256GCM", || {
        black_box(jwt.decode::<DefaultClaims>(SALT, black_box(&gcm)).unwrap());
    });
    measure("decode v4 A256GCM", || {
        black_box(
            v4.decode::<DefaultClaims>("", black_box(&v4_token))
                .unwrap(),
        );
    });
    measure("decode v5, cold key cache (HKDF every time)", || {
        let fresh = Jwt::new([SECRET])
            .unwrap()
            .with_clock(Clock::fixed(1_796_143_467));
        black_box(
            fresh
                .decode::<DefaultClaims>(SALT, black_box(&real))
                .unwrap(),
        );
    });
    measure("encode v5 A256CBC-HS512", || {
        black_box(jwt.encode(SALT, black_box(&claims)).unwrap());
    });
    measure("encode v4 A256GCM", || {
        black_box(v4.encode("", black_box(&claims)).unwrap());
    });
}
