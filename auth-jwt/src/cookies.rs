//! Cookie names, the `Cookie` header as Auth.js parses it, and chunked
//! session cookies.
//!
//! A session token can outgrow a browser's 4,096-byte cookie limit. Auth.js
//! then splits it into `NAME.0`, `NAME.1`, … of at most [`V5_CHUNK_SIZE`]
//! characters (next-auth 4: [`V4_CHUNK_SIZE`]); a reader joins every cookie
//! whose name starts with `NAME`, ordered by the number after the last dot.

use crate::Version;

/// Largest session cookie value per cookie in Auth.js (4,096 - 160).
pub const V5_CHUNK_SIZE: usize = 3936;
/// Largest session cookie value per cookie in next-auth 4 (4,096 - 163).
pub const V4_CHUNK_SIZE: usize = 3933;

/// The chunk size of a token format.
pub const fn chunk_size(version: Version) -> usize {
    match version {
        Version::V5 => V5_CHUNK_SIZE,
        Version::V4 => V4_CHUNK_SIZE,
    }
}

/// The session cookie's name: `authjs.session-token` or
/// `next-auth.session-token`, with `__Secure-` when the site is https.
/// It is also the salt of the v5 session token.
pub const fn session_cookie_name(version: Version, secure: bool) -> &'static str {
    match (version, secure) {
        (Version::V5, false) => "authjs.session-token",
        (Version::V5, true) => "__Secure-authjs.session-token",
        (Version::V4, false) => "next-auth.session-token",
        (Version::V4, true) => "__Secure-next-auth.session-token",
    }
}

/// The names of every cookie Auth.js sets (`defaultCookies`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieNames {
    /// The session token (JWE, or the database session's id).
    pub session_token: String,
    /// The URL to return to after sign-in.
    pub callback_url: String,
    /// The CSRF cookie (`token|hash`); `__Host-` prefixed when secure.
    pub csrf_token: String,
    /// The OAuth PKCE code verifier (JWE, 15 minutes).
    pub pkce_code_verifier: String,
    /// The OAuth state (JWE, 15 minutes).
    pub state: String,
    /// The OpenID Connect nonce (JWE).
    pub nonce: String,
    /// The WebAuthn challenge (JWE, 15 minutes; Auth.js only).
    pub webauthn_challenge: String,
}

impl CookieNames {
    /// The names for `version`; `secure` (the site is https) adds the
    /// `__Secure-` prefix, and `__Host-` to the CSRF cookie.
    pub fn new(version: Version, secure: bool) -> Self {
        let base = match version {
            Version::V5 => "authjs",
            Version::V4 => "next-auth",
        };
        let p = if secure { "__Secure-" } else { "" };
        let host = if secure { "__Host-" } else { "" };
        CookieNames {
            session_token: format!("{p}{base}.session-token"),
            callback_url: format!("{p}{base}.callback-url"),
            csrf_token: format!("{host}{base}.csrf-token"),
            pkce_code_verifier: format!("{p}{base}.pkce.code_verifier"),
            state: format!("{p}{base}.state"),
            nonce: format!("{p}{base}.nonce"),
            webauthn_challenge: format!("{p}{base}.challenge"),
        }
    }
}

/// Parses a `Cookie` header as the `cookie` package Auth.js vendors does:
/// `name=value` pairs split on `;`, surrounding spaces and tabs trimmed,
/// values percent-decoded when they contain `%` (kept as sent when that
/// fails), the first of two cookies with the same name wins.
pub fn parse_cookie_header(header: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in header.split(';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let name = name.trim_matches([' ', '\t']);
        if out.iter().any(|(n, _)| n == name) {
            continue;
        }
        let value = value.trim_matches([' ', '\t']);
        let value = if value.contains('%') {
            percent_decode(value).unwrap_or_else(|| value.to_owned())
        } else {
            value.to_owned()
        };
        out.push((name.to_owned(), value));
    }
    out
}

/// Joins a chunked cookie: every non-empty cookie whose name starts with
/// `name`, ordered by the integer after the name's last `.` (the plain name
/// counts as 0). `None` when there is none.
pub fn join_chunks<'a, I>(name: &str, cookies: I) -> Option<String>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut chunks: Vec<(i64, &str)> = cookies
        .into_iter()
        .filter(|(n, v)| n.starts_with(name) && !v.is_empty())
        .map(|(n, v)| (chunk_index(n), v))
        .collect();
    if chunks.is_empty() {
        return None;
    }
    // Stable, as `Array.prototype.sort`.
    chunks.sort_by_key(|(i, _)| *i);
    Some(chunks.into_iter().map(|(_, v)| v).collect())
}

/// `parseInt(name.split(".").pop())`, with `NaN` (the plain name) as 0.
fn chunk_index(name: &str) -> i64 {
    let last = name.rsplit('.').next().unwrap_or("");
    let s = last.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg { -n } else { n }
}

/// One `Set-Cookie` to send for a chunked session cookie. The attributes are
/// the session cookie's (`HttpOnly; SameSite=Lax; Path=/`, `Secure` on https).
#[derive(Clone, PartialEq, Eq)]
pub struct CookieWrite {
    /// The cookie's name.
    pub name: String,
    /// The value (empty when `expire`).
    pub value: String,
    /// Expire the cookie (`Max-Age=0`): a chunk the browser holds that the
    /// new value does not use.
    pub expire: bool,
}

impl std::fmt::Debug for CookieWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieWrite")
            .field("name", &self.name)
            .field("value", &format_args!("<{} chars>", self.value.len()))
            .field("expire", &self.expire)
            .finish()
    }
}

/// The cookies to set for a new session value, as Auth.js's
/// `SessionStore.chunk()`: first every chunk of `name` the request carried is
/// expired, then the value is set as one cookie `name` (when it fits in
/// `chunk_size` characters) or as `name.0`, `name.1`, …; a new chunk that
/// reuses a request cookie's name replaces its expiry in place.
pub fn chunk_cookie<'a, I>(
    name: &str,
    value: &str,
    chunk_size: usize,
    request_cookies: I,
) -> Vec<CookieWrite>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out: Vec<CookieWrite> = request_cookies
        .into_iter()
        .filter(|(n, v)| n.starts_with(name) && !v.is_empty())
        .map(|(n, _)| CookieWrite {
            name: n.to_owned(),
            value: String::new(),
            expire: true,
        })
        .collect();
    out.dedup_by(|a, b| a.name == b.name);
    let mut put = |c: CookieWrite| match out.iter_mut().find(|o| o.name == c.name) {
        Some(slot) => *slot = c,
        None => out.push(c),
    };
    let pieces = split_utf16(value, chunk_size.max(1));
    if pieces.len() == 1 {
        put(CookieWrite {
            name: name.to_owned(),
            value: value.to_owned(),
            expire: false,
        });
    } else {
        for (i, piece) in pieces.into_iter().enumerate() {
            put(CookieWrite {
                name: format!("{name}.{i}"),
                value: piece.to_owned(),
                expire: false,
            });
        }
    }
    out
}

/// Splits `s` into pieces of at most `size` UTF-16 code units (JavaScript's
/// string length), never inside a character.
fn split_utf16(s: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut units = 0;
    for (i, c) in s.char_indices() {
        let w = c.len_utf16();
        if units + w > size {
            pieces.push(&s[start..i]);
            start = i;
            units = 0;
        }
        units += w;
    }
    if start < s.len() {
        pieces.push(&s[start..]);
    }
    pieces
}

/// Percent-encodes a cookie value as JavaScript's `encodeURIComponent`
/// (which the `cookie` package uses on write): `|` becomes `%7C`.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes as JavaScript's `decodeURIComponent`; `None` when an
/// escape is malformed or the bytes are not UTF-8 (where it would throw).
pub fn percent_decode(value: &str) -> Option<String> {
    if !value.contains('%') {
        return Some(value.to_owned());
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = char::from(hex[0]).to_digit(16)?;
            let lo = char::from(hex[1]).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = CookieNames::new(Version::V5, true);
        assert_eq!(n.session_token, "__Secure-authjs.session-token");
        assert_eq!(n.csrf_token, "__Host-authjs.csrf-token");
        assert_eq!(n.pkce_code_verifier, "__Secure-authjs.pkce.code_verifier");
        let n = CookieNames::new(Version::V4, false);
        assert_eq!(n.session_token, "next-auth.session-token");
        assert_eq!(n.callback_url, "next-auth.callback-url");
        assert_eq!(
            session_cookie_name(Version::V4, true),
            "__Secure-next-auth.session-token"
        );
    }

    #[test]
    fn parse_header() {
        let c = parse_cookie_header("a=1; b = x%7Cy ;a=2; bad%=%ZZ; c");
        assert_eq!(
            c,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x|y".into()),
                ("bad%".into(), "%ZZ".into())
            ]
        );
    }

    #[test]
    fn chunk_index_parses_like_parse_int() {
        assert_eq!(chunk_index("authjs.session-token"), 0);
        assert_eq!(chunk_index("authjs.session-token.12"), 12);
        assert_eq!(chunk_index("x.3abc"), 3);
    }

    #[test]
    fn join_orders_by_suffix() {
        let cookies = [
            ("n.10", "c"),
            ("n.2", "b"),
            ("other", "z"),
            ("n.0", "a"),
            ("n.5", ""),
        ];
        assert_eq!(join_chunks("n", cookies).as_deref(), Some("abc"));
        assert_eq!(join_chunks("m", cookies), None);
    }

    #[test]
    fn rechunking_expires_stale_chunks() {
        let old = [("s.0", "x"), ("s.1", "y"), ("s.2", "z")];
        let w = chunk_cookie("s", "short", 10, old);
        let summary: Vec<_> = w
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_str(), c.expire))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("s.0", "", true),
                ("s.1", "", true),
                ("s.2", "", true),
                ("s", "short", false)
            ]
        );
        let w = chunk_cookie("s", "0123456789ab", 10, old);
        let summary: Vec<_> = w
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_str(), c.expire))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("s.0", "0123456789", false),
                ("s.1", "ab", false),
                ("s.2", "", true)
            ]
        );
    }

    #[test]
    fn percent_round_trip() {
        assert_eq!(percent_encode("a|b c"), "a%7Cb%20c");
        assert_eq!(percent_decode("a%7Cb%20c").as_deref(), Some("a|b c"));
        assert_eq!(percent_decode("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}
