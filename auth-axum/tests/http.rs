//! The extractor over real HTTP: a server on 127.0.0.1 and a reqwest client.

use std::time::Duration;

use auth_axum::{Session, SessionVerifier};
use auth_jwt::cookies::{V5_CHUNK_SIZE, chunk_cookie};
use auth_jwt::{Clock, DefaultClaims, Jwt};
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

const SECRET: &str = "test-secret-do-not-use-in-production-0123456789";

#[derive(Clone)]
struct AppState {
    verifier: SessionVerifier,
}

impl FromRef<AppState> for SessionVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

#[derive(Deserialize)]
struct WithRole {
    sub: String,
    role: String,
}

async fn me(Session(claims): Session) -> String {
    claims.sub.unwrap_or_default()
}

async fn maybe(session: Option<Session>) -> String {
    session.map_or_else(
        || "anonymous".to_owned(),
        |Session(c)| c.sub.unwrap_or_default(),
    )
}

async fn role(Session(c): Session<WithRole>) -> String {
    format!("{}:{}", c.sub, c.role)
}

async fn serve(verifier: SessionVerifier) -> String {
    let app = Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/role", get(role))
        .with_state(AppState { verifier });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn claims(sub: &str) -> DefaultClaims {
    DefaultClaims {
        sub: Some(sub.into()),
        ..Default::default()
    }
}

fn fixture() -> Value {
    serde_json::from_str(include_str!(
        "../../auth-jwt/tests/fixtures/authjs-tokens.json"
    ))
    .unwrap()
}

async fn get_with(url: &str, headers: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
    let mut req = reqwest::Client::new().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let www = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        resp.headers().get("set-cookie").is_none(),
        "the extractor never writes cookies"
    );
    (status, resp.text().await.unwrap(), www)
}

#[tokio::test]
async fn cookie_under_either_name() {
    let verifier = SessionVerifier::authjs([SECRET]).unwrap();
    let base = serve(verifier.clone()).await;
    for name in ["authjs.session-token", "__Secure-authjs.session-token"] {
        let token = verifier.jwt().encode(name, &claims("u1")).unwrap();
        let cookie = format!("theme=dark; {name}={token}");
        let (status, body, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "u1"), "{name}");
    }
    // A token made for one cookie name does not verify under the other.
    let token = verifier
        .jwt()
        .encode("authjs.session-token", &claims("u1"))
        .unwrap();
    let cookie = format!("__Secure-authjs.session-token={token}");
    let (status, _, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn recorded_authjs_cookie_is_accepted() {
    let f = fixture();
    let d = &f["v5_real_encode"];
    let base = serve(SessionVerifier::authjs([SECRET]).unwrap()).await;
    let cookie = format!("authjs.session-token={}", d["token"].as_str().unwrap());
    let (status, body, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "user-123"));
}

#[tokio::test]
async fn chunked_cookies_are_joined() {
    let verifier = SessionVerifier::authjs([SECRET]).unwrap();
    let base = serve(verifier.clone()).await;
    let mut big = claims("chunky");
    big.extra
        .insert("blob".into(), Value::String("x".repeat(6000)));
    let token = verifier.jwt().encode("authjs.session-token", &big).unwrap();
    let writes = chunk_cookie("authjs.session-token", &token, V5_CHUNK_SIZE, []);
    assert!(writes.len() >= 2);
    // Out of order, as a browser may send them.
    let cookie = writes
        .iter()
        .rev()
        .map(|w| format!("{}={}", w.name, w.value))
        .collect::<Vec<_>>()
        .join("; ");
    let (status, body, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "chunky"));
}

#[tokio::test]
async fn bearer_token() {
    let verifier = SessionVerifier::authjs(["new", SECRET]).unwrap();
    let base = serve(verifier.clone()).await;
    let token = verifier
        .jwt()
        .encode("authjs.session-token", &claims("b1"))
        .unwrap();
    let auth = format!("Bearer {token}");
    let (status, body, _) = get_with(&format!("{base}/me"), &[("authorization", &auth)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "b1"));

    // The old secret (second in the list) still verifies by kid.
    let old = Jwt::new([SECRET])
        .unwrap()
        .encode("__Secure-authjs.session-token", &claims("b2"))
        .unwrap();
    let auth = format!("Bearer {old}");
    let (status, body, _) = get_with(&format!("{base}/me"), &[("authorization", &auth)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "b2"));

    for bad in ["Bearer", "Basic abc", "Bearer %zz", "Bearer nope.nope"] {
        let (status, _, _) = get_with(&format!("{base}/me"), &[("authorization", bad)]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
    }
}

#[tokio::test]
async fn rejection_and_optional_form() {
    let verifier = SessionVerifier::authjs([SECRET]).unwrap();
    let base = serve(verifier.clone()).await;
    let (status, body, www) = get_with(&format!("{base}/me"), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, "unauthorized");
    assert_eq!(www.as_deref(), Some("Bearer"));

    let (status, body, _) = get_with(&format!("{base}/maybe"), &[]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));

    let other = Jwt::new(["another-secret"]).unwrap();
    let token = other.encode("authjs.session-token", &claims("x")).unwrap();
    let cookie = format!("authjs.session-token={token}");
    let (status, body, _) = get_with(&format!("{base}/maybe"), &[("cookie", &cookie)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anonymous"));
    let (status, body, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.contains(&token[..40]));

    let token = verifier
        .jwt()
        .encode("authjs.session-token", &claims("y"))
        .unwrap();
    let cookie = format!("authjs.session-token={token}");
    let (_, body, _) = get_with(&format!("{base}/maybe"), &[("cookie", &cookie)]).await;
    assert_eq!(body, "y");
}

#[tokio::test]
async fn expired_tokens_are_rejected() {
    let past = Jwt::new([SECRET])
        .unwrap()
        .with_clock(Clock::fixed(1_000_000));
    let token = past
        .encode_with_max_age(
            "authjs.session-token",
            &claims("old"),
            Duration::from_secs(60),
        )
        .unwrap();
    let base = serve(SessionVerifier::authjs([SECRET]).unwrap()).await;
    let cookie = format!("authjs.session-token={token}");
    let (status, _, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // With a clock in the token's lifetime it verifies.
    let base = serve(SessionVerifier::from_jwt(past)).await;
    let (status, _, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn custom_claims_and_v4() {
    let f = fixture();
    let base = serve(SessionVerifier::next_auth_v4(SECRET).unwrap()).await;
    let cookie = format!(
        "next-auth.session-token={}",
        f["v4"]["real_encode"].as_str().unwrap()
    );
    let (status, body, _) = get_with(&format!("{base}/me"), &[("cookie", &cookie)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "user-123"));

    let verifier = SessionVerifier::authjs([SECRET]).unwrap();
    let base = serve(verifier.clone()).await;
    let token = verifier
        .jwt()
        .encode(
            "authjs.session-token",
            &serde_json::json!({"sub": "r1", "role": "admin"}),
        )
        .unwrap();
    let cookie = format!("authjs.session-token={token}");
    let (status, body, _) = get_with(&format!("{base}/role"), &[("cookie", &cookie)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "r1:admin"));
    // Claims without the custom field do not fit the type: 401.
    let token = verifier
        .jwt()
        .encode("authjs.session-token", &claims("r2"))
        .unwrap();
    let cookie = format!("authjs.session-token={token}");
    let (status, _, _) = get_with(&format!("{base}/role"), &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn debug_hides_the_secret() {
    let v = SessionVerifier::authjs([SECRET]).unwrap();
    assert!(!format!("{v:?}").contains("test-secret"));
}
