//! No input makes the crate panic, and no altered token is accepted.

use std::sync::OnceLock;

use auth_jwt::cookies::{
    chunk_cookie, join_chunks, parse_cookie_header, percent_decode, percent_encode,
};
use auth_jwt::csrf::{verify_csrf_cookie, verify_csrf_submission, verify_email_token};
use auth_jwt::{Clock, DefaultClaims, Jwt, Secret, Version};
use proptest::prelude::*;
use serde_json::Value;

const SALT: &str = "authjs.session-token";

fn v5() -> &'static Jwt {
    static JWT: OnceLock<Jwt> = OnceLock::new();
    JWT.get_or_init(|| {
        Jwt::new(["secret-1", "secret-0"])
            .unwrap()
            .with_clock(Clock::fixed(1_000_000))
    })
}

fn v4() -> &'static Jwt {
    static JWT: OnceLock<Jwt> = OnceLock::new();
    JWT.get_or_init(|| {
        Jwt::v4("secret-1")
            .unwrap()
            .with_clock(Clock::fixed(1_000_000))
    })
}

fn valid_tokens() -> &'static [String; 3] {
    static TOKENS: OnceLock<[String; 3]> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let f: Value = serde_json::from_str(include_str!("fixtures/authjs-tokens.json")).unwrap();
        let claims = DefaultClaims {
            sub: Some("u".into()),
            ..Default::default()
        };
        [
            v5().encode(SALT, &claims).unwrap(),
            v4().encode("", &claims).unwrap(),
            f["v5_a256gcm_no_kid"]["token"].as_str().unwrap().to_owned(),
        ]
    })
}

fn b64_part() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{0,80}"
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, char),
    Insert(usize, char),
    Remove(usize),
    Truncate(usize),
    SwapParts(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop_oneof![proptest::char::range('!', '~'), Just('.'), Just('A')];
    prop_oneof![
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::Insert(i, c)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
        (0usize..5, 0usize..5).prop_map(|(a, b)| Mutation::SwapParts(a, b)),
    ]
}

fn apply(token: &str, m: &Mutation) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let n = chars.len().max(1);
    match *m {
        Mutation::Replace(i, c) => chars[i % n] = c,
        Mutation::Insert(i, c) => chars.insert(i % (n + 1), c),
        Mutation::Remove(i) => {
            chars.remove(i % n);
        }
        Mutation::Truncate(i) => chars.truncate(i % n),
        Mutation::SwapParts(a, b) => {
            let mut parts: Vec<String> = token.split('.').map(String::from).collect();
            if a < parts.len() && b < parts.len() {
                parts.swap(a, b);
            }
            return parts.join(".");
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,400}") {
        let _ = v5().decode::<Value>(SALT, &s);
        let _ = v4().decode::<Value>("", &s);
        let _ = parse_cookie_header(&s);
        let _ = percent_decode(&s);
        let secrets = [Secret::from("s")];
        let _ = verify_csrf_cookie(&s, &secrets);
        let _ = verify_csrf_submission(&s, &s, &secrets);
        let _ = verify_email_token(&s, &s, &secrets);
    }

    #[test]
    fn five_part_garbage_is_rejected(parts in proptest::collection::vec(b64_part(), 5)) {
        let token = parts.join(".");
        prop_assert!(v5().decode::<Value>(SALT, &token).is_err());
        prop_assert!(v4().decode::<Value>("", &token).is_err());
    }

    #[test]
    fn valid_header_with_garbage_is_rejected(
        which in 0usize..3,
        iv in b64_part(), ct in b64_part(), tag in b64_part(),
    ) {
        let valid = &valid_tokens()[which];
        let header = valid.split('.').next().unwrap();
        let token = format!("{header}..{iv}.{ct}.{tag}");
        prop_assert!(v5().decode::<Value>(SALT, &token).is_err());
        prop_assert!(v4().decode::<Value>("", &token).is_err());
    }

    #[test]
    fn mutated_tokens_are_rejected(which in 0usize..3, m in mutation()) {
        let valid = &valid_tokens()[which];
        let mutated = apply(valid, &m);
        let (jwt, salt) = if which == 1 { (v4(), "") } else { (v5(), SALT) };
        let jwt = if which == 2 {
            // The GCM fixture is made with the fixture's secret.
            Jwt::new(["test-secret-do-not-use-in-production-0123456789"]).unwrap().with_clock(Clock::fixed(1_700_000_000))
        } else {
            jwt.clone()
        };
        prop_assert!(jwt.decode::<Value>(salt, valid).is_ok());
        if &mutated != valid {
            prop_assert!(jwt.decode::<Value>(salt, &mutated).is_err(), "accepted {m:?}");
        }
    }

    #[test]
    fn any_claims_round_trip(
        name in proptest::option::of(".{0,40}"),
        email in proptest::option::of("[a-z]{1,10}@[a-z]{1,10}\\.com"),
        extra in proptest::collection::btree_map("[a-z]{1,8}", any::<i64>(), 0..6),
        v4_format in any::<bool>(),
    ) {
        let mut claims = DefaultClaims { name, email, sub: Some("id".into()), ..Default::default() };
        for (k, v) in extra {
            if !matches!(k.as_str(), "name" | "email" | "picture" | "sub" | "iat" | "exp" | "jti") {
                claims.extra.insert(k, Value::from(v));
            }
        }
        let (jwt, salt) = if v4_format { (v4(), "") } else { (v5(), SALT) };
        prop_assert_eq!(jwt.version(), if v4_format { Version::V4 } else { Version::V5 });
        let token = jwt.encode(salt, &claims).unwrap();
        let back: DefaultClaims = jwt.decode(salt, &token).unwrap();
        prop_assert_eq!(back.name, claims.name);
        prop_assert_eq!(back.email, claims.email);
        prop_assert_eq!(back.extra, claims.extra);
    }

    #[test]
    fn chunks_join_back(len in 0usize..12_000, size in 1usize..5000) {
        let value: String = (0..len).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let writes = chunk_cookie("n", &value, size, [("n.7", "stale"), ("n", "old")]);
        let live: Vec<(&str, &str)> = writes.iter().filter(|w| !w.expire).map(|w| (w.name.as_str(), w.value.as_str())).collect();
        prop_assert!(live.iter().all(|(_, v)| v.len() <= size));
        let joined = join_chunks("n", live).unwrap_or_default();
        prop_assert_eq!(joined, value);
    }

    #[test]
    fn percent_encoding_round_trips(s in ".{0,100}") {
        prop_assert_eq!(percent_decode(&percent_encode(&s)), Some(s));
    }
}
