//! Every token, key and hash recorded from `@auth/core` 0.41.3 and next-auth
//! 4.24.15 in `fixtures/authjs-tokens.json`.

use auth_jwt::cookies::{V5_CHUNK_SIZE, chunk_cookie, join_chunks};
use auth_jwt::csrf::{csrf_token_from, email_token_hash, verify_csrf_cookie, verify_email_token};
use auth_jwt::{Clock, DefaultClaims, Error, Jwt, Secret, Version};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/authjs-tokens.json")).unwrap()
}

fn secret(f: &Value) -> &str {
    f["secret"].as_str().unwrap()
}

/// Pins the clock at the token's `iat` so recorded tokens never expire.
fn at_iat(jwt: Jwt, claims: &Value) -> Jwt {
    jwt.with_clock(Clock::fixed(claims["iat"].as_i64().unwrap()))
}

fn decode_value(jwt: &Jwt, salt: &str, token: &str) -> Result<Value, Error> {
    jwt.decode(salt, token)
}

#[test]
fn v5_deterministic_token_decodes_to_recorded_claims() {
    let f = fixture();
    let d = &f["v5_deterministic"];
    let expected = &d["decoded_by_authjs"];
    let jwt = at_iat(Jwt::new([secret(&f)]).unwrap(), expected);
    let salt = d["salt"].as_str().unwrap();
    let token = d["token"].as_str().unwrap();
    assert_eq!(&decode_value(&jwt, salt, token).unwrap(), expected);

    let claims: DefaultClaims = jwt.decode(salt, token).unwrap();
    assert_eq!(claims.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(claims.email.as_deref(), Some("ada@example.com"));
    assert_eq!(claims.picture, None);
    assert_eq!(claims.sub.as_deref(), Some("user-123"));
    assert_eq!(claims.iat, Some(1_700_000_000));
    assert_eq!(claims.exp, Some(4_102_444_800));
    assert_eq!(
        claims.jti.as_deref(),
        Some("00000000-0000-4000-8000-000000000000")
    );
    assert!(claims.extra.is_empty());
}

#[test]
fn v5_real_encode_decodes_to_recorded_claims() {
    let f = fixture();
    let r = &f["v5_real_encode"];
    let jwt = at_iat(Jwt::new([secret(&f)]).unwrap(), &r["decoded"]);
    let got = decode_value(
        &jwt,
        r["salt"].as_str().unwrap(),
        r["token"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(got, r["decoded"]);
}

#[test]
fn the_secure_cookie_name_is_another_salt() {
    let f = fixture();
    let r = &f["v5_real_encode"];
    let jwt = at_iat(Jwt::new([secret(&f)]).unwrap(), &r["decoded"]);
    let err = decode_value(
        &jwt,
        "__Secure-authjs.session-token",
        r["token"].as_str().unwrap(),
    );
    assert_eq!(err, Err(Error::NoMatchingSecret));
}

#[test]
fn rotation_selects_the_secret_by_kid() {
    let f = fixture();
    let r = &f["v5_rotation"];
    let token = r["token"].as_str().unwrap();
    let salt = "authjs.session-token";
    let secrets: Vec<&str> = r["secrets_at_encode"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let (new, old) = (secrets[0], secrets[1]);
    let now = Clock::fixed(1_800_000_000);

    for list in [vec![new, old], vec![old, new], vec![new]] {
        let jwt = Jwt::new(list.clone()).unwrap().with_clock(now.clone());
        let claims: DefaultClaims = jwt
            .decode(salt, token)
            .unwrap_or_else(|e| panic!("{list:?}: {e}"));
        assert_eq!(claims.sub.as_deref(), Some("user-123"));
    }
    assert!(r["decodes_with_new_only"].as_bool().unwrap());
    assert!(!r["decodes_with_old_only"].as_bool().unwrap());
    let jwt = Jwt::new([old]).unwrap().with_clock(now);
    assert_eq!(
        decode_value(&jwt, salt, token),
        Err(Error::NoMatchingSecret)
    );
}

#[test]
fn v5_a256gcm_without_kid_uses_the_first_secret_only() {
    let f = fixture();
    let g = &f["v5_a256gcm_no_kid"];
    let token = g["token"].as_str().unwrap();
    let expected = &g["decoded_by_authjs"];
    let salt = "authjs.session-token";
    let jwt = at_iat(Jwt::new([secret(&f)]).unwrap(), expected);
    assert_eq!(&decode_value(&jwt, salt, token).unwrap(), expected);

    let jwt = at_iat(Jwt::new(["another-secret", secret(&f)]).unwrap(), expected);
    assert_eq!(
        decode_value(&jwt, salt, token),
        Err(Error::DecryptionFailed)
    );
}

#[test]
fn v4_tokens_decode_to_recorded_claims() {
    let f = fixture();
    let v4 = &f["v4"];
    for (token, expected) in [
        (&v4["real_encode"], &v4["real_decoded"]),
        (&v4["deterministic"], &v4["deterministic_decoded"]),
    ] {
        let jwt = at_iat(Jwt::v4(secret(&f)).unwrap(), expected);
        assert_eq!(
            &decode_value(&jwt, "", token.as_str().unwrap()).unwrap(),
            expected
        );

        // Auth.js (v5) cannot read a v4 token.
        let v5 = at_iat(Jwt::new([secret(&f)]).unwrap(), expected);
        assert_eq!(
            decode_value(&v5, "next-auth.session-token", token.as_str().unwrap()),
            Err(Error::DecryptionFailed)
        );
    }
}

#[test]
fn recorded_tokens_expire_and_respect_the_tolerance() {
    let f = fixture();
    let d = &f["v5_deterministic"];
    let (salt, token) = (d["salt"].as_str().unwrap(), d["token"].as_str().unwrap());
    let exp = d["exp"].as_i64().unwrap();
    let jwt = Jwt::new([secret(&f)]).unwrap();

    let at = |now: i64| decode_value(&jwt.clone().with_clock(Clock::fixed(now)), salt, token);
    assert!(at(exp + 14).is_ok(), "inside the 15 s tolerance");
    assert_eq!(
        at(exp + 15),
        Err(Error::Expired {
            expired_at: exp,
            now: exp + 15
        })
    );
    let strict = jwt
        .clone()
        .with_clock(Clock::fixed(exp))
        .with_clock_tolerance(std::time::Duration::ZERO);
    assert!(matches!(
        decode_value(&strict, salt, token),
        Err(Error::Expired { .. })
    ));
    // The real system clock: this token is valid until 2100.
    assert!(decode_value(&jwt, salt, token).is_ok());
}

#[test]
fn chunking_matches_the_recorded_split() {
    let f = fixture();
    let c = &f["chunking"];
    assert_eq!(c["chunk_size"].as_u64().unwrap() as usize, V5_CHUNK_SIZE);
    let value: String = "x".repeat(c["token_length"].as_u64().unwrap() as usize);
    let writes = chunk_cookie("authjs.session-token", &value, V5_CHUNK_SIZE, []);
    let got: Vec<(String, u64)> = writes
        .iter()
        .map(|w| (w.name.clone(), w.value.len() as u64))
        .collect();
    let expected: Vec<(String, u64)> = c["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ch| {
            (
                ch["name"].as_str().unwrap().to_owned(),
                ch["len"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let joined = join_chunks(
        "authjs.session-token",
        writes
            .iter()
            .rev()
            .map(|w| (w.name.as_str(), w.value.as_str())),
    );
    assert_eq!(joined.as_deref(), Some(value.as_str()));
    assert!(c["reassembled_equal"].as_bool().unwrap());
}

#[test]
fn a_large_token_survives_chunking() {
    let jwt = Jwt::new(["s"]).unwrap();
    let mut claims = DefaultClaims {
        sub: Some("u".into()),
        ..Default::default()
    };
    claims
        .extra
        .insert("roles".into(), Value::String("admin,".repeat(1200)));
    let token = jwt.encode("authjs.session-token", &claims).unwrap();
    assert!(token.len() > 2 * V5_CHUNK_SIZE);
    let writes = chunk_cookie(
        "authjs.session-token",
        &token,
        V5_CHUNK_SIZE,
        [("authjs.session-token", "old")],
    );
    assert_eq!(writes[0].name, "authjs.session-token");
    assert!(
        writes[0].expire,
        "the old unchunked cookie is expired first"
    );
    let cookies: Vec<(&str, &str)> = writes
        .iter()
        .filter(|w| !w.expire)
        .map(|w| (w.name.as_str(), w.value.as_str()))
        .collect();
    assert_eq!(cookies.len(), 3);
    let joined = join_chunks("authjs.session-token", cookies).unwrap();
    let back: DefaultClaims = jwt.decode("authjs.session-token", &joined).unwrap();
    assert_eq!(back.extra["roles"], claims.extra["roles"]);
}

#[test]
fn csrf_cookie_matches_authjs() {
    let f = fixture();
    let c = &f["csrf"];
    let secrets: Vec<Secret> = c["secret_array"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Secret::from(s.as_str().unwrap()))
        .collect();
    let token = c["token"].as_str().unwrap();
    let made = csrf_token_from(token.to_owned(), &secrets);
    assert_eq!(made.cookie_value, c["cookie_value"].as_str().unwrap());
    assert_eq!(
        verify_csrf_cookie(c["cookie_value"].as_str().unwrap(), &secrets).as_deref(),
        Some(token)
    );

    // Several secrets are joined with "," as JavaScript interpolates an array.
    assert_eq!(c["two_secrets_join"], "s2,s1");
    let two = [Secret::from("s2"), Secret::from("s1")];
    let joined = [Secret::from("s2,s1")];
    assert_eq!(
        csrf_token_from(token.to_owned(), &two).cookie_value,
        csrf_token_from(token.to_owned(), &joined).cookie_value
    );
    assert!(verify_csrf_cookie(c["cookie_value"].as_str().unwrap(), &two).is_none());
}

#[test]
fn email_token_hash_matches_authjs() {
    let f = fixture();
    let e = &f["email"];
    let secrets = [Secret::from(secret(&f))];
    let token = e["token"].as_str().unwrap();
    let stored = e["stored_hash"].as_str().unwrap();
    assert_eq!(email_token_hash(token, &secrets), stored);
    assert!(verify_email_token(token, stored, &secrets));
    assert!(!verify_email_token(
        token,
        &stored.replace('e', "f"),
        &secrets
    ));
    assert!(!verify_email_token("b", stored, &secrets));
}

#[test]
fn encode_round_trips_in_both_versions() {
    for version in [Version::V5, Version::V4] {
        let jwt = Jwt::with_version(version, ["secret-a", "secret-b"])
            .unwrap()
            .with_clock(Clock::fixed(1_000));
        let claims = DefaultClaims {
            name: Some("Grace".into()),
            sub: Some("42".into()),
            iat: Some(1),
            ..Default::default()
        };
        let token = jwt
            .encode_with_max_age("salt", &claims, std::time::Duration::from_secs(60))
            .unwrap();
        let back: DefaultClaims = jwt.decode("salt", &token).unwrap();
        assert_eq!(back.name.as_deref(), Some("Grace"));
        assert_eq!(back.iat, Some(1_000), "encode sets iat");
        assert_eq!(back.exp, Some(1_060));
        assert_eq!(back.jti.as_ref().map(String::len), Some(36));
        let later = jwt.clone().with_clock(Clock::fixed(1_075));
        assert!(matches!(
            later.decode::<Value>("salt", &token),
            Err(Error::Expired { .. })
        ));
    }
}

#[test]
fn nothing_secret_in_debug_or_errors() {
    let f = fixture();
    let s = secret(&f);
    let d = &f["v5_deterministic"];
    let token = d["token"].as_str().unwrap();
    let jwt = Jwt::new([s]).unwrap();
    let debug = format!("{jwt:?}");
    assert!(!debug.contains(s), "{debug}");
    assert!(!debug.contains("test-secret"));

    let mut tampered = token.to_owned();
    tampered.insert(token.len() - 3, 'A');
    let salts = ["authjs.session-token", "other"];
    let wrong = Jwt::new(["wrong-secret"]).unwrap();
    for (jwt, salt) in [(&jwt, salts[0]), (&jwt, salts[1]), (&wrong, salts[0])] {
        for t in [token, tampered.as_str(), "a.b.c.d.e", ""] {
            if let Err(e) = decode_value(jwt, salt, t) {
                for shown in [e.to_string(), format!("{e:?}")] {
                    assert!(!shown.contains(s), "{shown}");
                    assert!(t.len() < 20 || !shown.contains(&t[40..60]), "{shown}");
                }
            }
        }
    }
    // Claim values are not quoted when the type does not match.
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        email: u32,
    }
    let e = jwt
        .decode::<Wrong>("authjs.session-token", token)
        .unwrap_err();
    assert!(!e.to_string().contains("ada@example.com"), "{e}");
}

#[test]
fn unsupported_and_malformed_headers_are_typed() {
    use auth_jwt::Malformed;
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let v5 = Jwt::new(["s"]).unwrap();
    let v4 = Jwt::v4("s").unwrap();
    let rest = "..AAECAwQFBgcICQoLDA0ODw.AAAA.AAAA";
    let token = |header: &str| format!("{}{rest}", b64(header));
    let unsupported = |e: Result<Value, Error>| match e {
        Err(Error::Unsupported { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        unsupported(v5.decode("x", &token(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#))),
        "alg"
    );
    assert_eq!(
        unsupported(v5.decode("x", &token(r#"{"alg":"dir","enc":"A128GCM"}"#))),
        "enc"
    );
    assert_eq!(
        unsupported(v4.decode("", &token(r#"{"alg":"dir","enc":"A256CBC-HS512"}"#))),
        "enc"
    );
    assert_eq!(
        unsupported(v5.decode("x", &token(r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#))),
        "zip"
    );
    assert_eq!(
        v5.decode::<Value>("x", &token(r#"{"alg":"dir"}"#)),
        Err(Error::Malformed(Malformed::Header))
    );
    let with_key = format!(
        "{}.AAAA.AAECAwQFBgcICQoLDA0ODw.AAAA.AAAA",
        b64(r#"{"alg":"dir","enc":"A256GCM"}"#)
    );
    assert_eq!(
        v5.decode::<Value>("x", &with_key),
        Err(Error::Malformed(Malformed::EncryptedKey))
    );
    assert_eq!(
        v5.decode::<Value>("x", "a.b.c"),
        Err(Error::Malformed(Malformed::Parts))
    );
    assert_eq!(
        v5.decode::<Value>("x", ""),
        Err(Error::Malformed(Malformed::Empty))
    );
    assert_eq!(
        Jwt::new(Vec::<String>::new()).unwrap_err(),
        Error::MissingSecret
    );
    assert_eq!(Jwt::new([""]).unwrap_err(), Error::MissingSecret);
    assert_eq!(v5.encode("x", &[1, 2]).unwrap_err(), Error::ClaimsNotObject);
}
