//! Requests in, responses out: parsing the parts Auth.js reads and writing
//! `Set-Cookie` headers as Auth.js does.

use std::collections::HashMap;

use auth_jwt::cookies::{parse_cookie_header, percent_encode};
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, EXPIRES, LOCATION, PRAGMA, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

/// The parts of a request the engine reads.
pub(crate) struct Parsed {
    pub method: Method,
    /// The path after the base path, split on `/`: `["signin", "github"]`.
    pub action: String,
    pub provider_id: Option<String>,
    pub query: HashMap<String, String>,
    /// Form fields or top-level JSON strings.
    pub body: HashMap<String, String>,
    /// The JSON body's `data` (session update).
    pub data: Option<Value>,
    pub cookies: Vec<(String, String)>,
    /// `X-Auth-Return-Redirect` was sent: answer `{url}` instead of a 302.
    pub return_redirect: bool,
}

impl Parsed {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Cookies from the `Cookie` headers.
pub(crate) fn request_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for value in headers.get_all(COOKIE) {
        if let Ok(value) = value.to_str() {
            for (n, v) in parse_cookie_header(value) {
                if !out.iter().any(|(m, _): &(String, String)| *m == n) {
                    out.push((n, v));
                }
            }
        }
    }
    out
}

/// Splits `path` after `base_path`; `None` when it is not under it or has
/// more than two segments.
pub(crate) fn action_of(path: &str, base_path: &str) -> Option<(String, Option<String>)> {
    let rest = path.strip_prefix(base_path)?;
    let rest = rest.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let action = parts.next()?.to_owned();
    let provider = parts.next().map(str::to_owned);
    if parts.next().is_some() || action.is_empty() || provider.as_deref() == Some("") {
        return None;
    }
    let provider = provider.map(|p| {
        form_urlencoded::parse(format!("p={p}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or(p)
    });
    Some((action, provider))
}

pub(crate) fn parse_body(
    headers: &HeaderMap,
    body: &Bytes,
) -> (HashMap<String, String>, Option<Value>) {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if body.is_empty() {
        return (HashMap::new(), None);
    }
    if content_type.starts_with("application/json") {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            return (HashMap::new(), None);
        };
        let data = map.get("data").cloned();
        let fields = map
            .into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect();
        return (fields, data);
    }
    // Forms, and next-auth/react's posts.
    let fields: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let data = fields
        .get("data")
        .and_then(|d| serde_json::from_str::<Value>(d).ok());
    (fields, data)
}

/// How long a cookie lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Life {
    /// Until the browser closes.
    Session,
    /// Until this instant (`Expires=`).
    Until(OffsetDateTime),
    /// For this many seconds (`Max-Age=`); 0 deletes it.
    Seconds(i64),
}

/// One `Set-Cookie`.
pub(crate) struct SetCookie {
    pub name: String,
    pub value: String,
    pub life: Life,
}

/// HTTP date, as `Date.prototype.toUTCString()`.
pub(crate) fn http_date(t: OffsetDateTime) -> String {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 GMT".to_owned())
}

impl SetCookie {
    /// `name=value; [Max-Age=N; ]Path=/; [Expires=…; ]HttpOnly; [Secure; ]SameSite=Lax`.
    pub fn header(&self, secure: bool) -> String {
        let mut s = format!("{}={}", self.name, percent_encode(&self.value));
        match self.life {
            Life::Seconds(n) => {
                s.push_str(&format!("; Max-Age={n}; Path=/"));
                if n <= 0 {
                    s.push_str("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
                }
            }
            Life::Until(t) => s.push_str(&format!("; Path=/; Expires={}", http_date(t))),
            Life::Session => s.push_str("; Path=/"),
        }
        s.push_str("; HttpOnly");
        if secure {
            s.push_str("; Secure");
        }
        s.push_str("; SameSite=Lax");
        s
    }
}

/// What an action answers, before the `X-Auth-Return-Redirect` rewrite.
pub(crate) enum Outcome {
    Json(StatusCode, Value),
    Html(StatusCode, String),
    Redirect(String),
}

/// An action's answer plus the cookies it sets.
pub(crate) struct Reply {
    pub outcome: Outcome,
    pub cookies: Vec<SetCookie>,
    pub no_store: bool,
}

impl Reply {
    pub fn json(value: Value) -> Self {
        Self {
            outcome: Outcome::Json(StatusCode::OK, value),
            cookies: Vec::new(),
            no_store: false,
        }
    }
    pub fn redirect(url: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Redirect(url.into()),
            cookies: Vec::new(),
            no_store: false,
        }
    }
    pub fn html(status: StatusCode, html: String) -> Self {
        Self {
            outcome: Outcome::Html(status, html),
            cookies: Vec::new(),
            no_store: false,
        }
    }

    /// The HTTP response; with `return_redirect`, a redirect becomes
    /// `200 {"url": …}` with the same cookies.
    pub fn into_response(self, secure: bool, return_redirect: bool) -> Response<Bytes> {
        let mut builder = Response::builder();
        let headers = builder.headers_mut().expect("a fresh builder");
        for c in &self.cookies {
            if let Ok(v) = HeaderValue::from_str(&c.header(secure)) {
                headers.append(SET_COOKIE, v);
            }
        }
        if self.no_store {
            headers.insert(
                CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache, no-store"),
            );
            headers.insert(EXPIRES, HeaderValue::from_static("0"));
            headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
        }
        let (status, content_type, body) = match self.outcome {
            Outcome::Redirect(url) if return_redirect => (
                StatusCode::OK,
                "application/json",
                Bytes::from(serde_json::json!({ "url": url }).to_string()),
            ),
            Outcome::Redirect(url) => {
                match HeaderValue::from_str(&url) {
                    Ok(v) => {
                        headers.insert(LOCATION, v);
                    }
                    Err(_) => {
                        return plain(StatusCode::BAD_REQUEST, "Bad request.");
                    }
                }
                (StatusCode::FOUND, "text/plain; charset=utf-8", Bytes::new())
            }
            Outcome::Json(status, value) => {
                (status, "application/json", Bytes::from(value.to_string()))
            }
            Outcome::Html(status, html) => (status, "text/html; charset=utf-8", Bytes::from(html)),
        };
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        builder
            .status(status)
            .body(body)
            .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR, "error"))
    }
}

pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(serde_json::json!(text).to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_and_providers() {
        assert_eq!(
            action_of("/api/auth/session", "/api/auth"),
            Some(("session".into(), None))
        );
        assert_eq!(
            action_of("/api/auth/signin/github", "/api/auth"),
            Some(("signin".into(), Some("github".into())))
        );
        assert_eq!(action_of("/api/auth", "/api/auth"), None);
        assert_eq!(action_of("/api/authx/session", "/api/auth"), None);
        assert_eq!(action_of("/api/auth/a/b/c", "/api/auth"), None);
        assert_eq!(action_of("/other", "/api/auth"), None);
        assert_eq!(action_of("/csrf", ""), Some(("csrf".into(), None)));
    }

    #[test]
    fn set_cookie_matches_authjs_attributes() {
        let c = SetCookie {
            name: "authjs.csrf-token".into(),
            value: "a|b".into(),
            life: Life::Session,
        };
        assert_eq!(
            c.header(false),
            "authjs.csrf-token=a%7Cb; Path=/; HttpOnly; SameSite=Lax"
        );
        let gone = SetCookie {
            name: "__Secure-authjs.session-token".into(),
            value: String::new(),
            life: Life::Seconds(0),
        };
        assert_eq!(
            gone.header(true),
            "__Secure-authjs.session-token=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax"
        );
        let t = time::macros::datetime!(2026-12-31 23:59:58 UTC);
        assert_eq!(http_date(t), "Thu, 31 Dec 2026 23:59:58 GMT");
    }
}
