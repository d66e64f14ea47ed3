//! The CSRF cookie (`token|hash`) and the email sign-in token hash.
//!
//! Both hash a random token together with the secret:
//! `hex(sha256(token ‖ secret))`. With several secrets Auth.js interpolates
//! the array into the string, which joins them with `,`; these functions do
//! the same, so the list must be in the same order as in the Next.js app.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::keys::{Secret, check_secrets, joined};
use crate::{Error, jwt::fill_random};

/// A fresh CSRF token and the cookie value that carries it.
///
/// `Debug` does not show the token.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken {
    /// The token: 32 random bytes as 64 lowercase hex digits. `GET /csrf`
    /// returns it and forms post it back as `csrfToken`.
    pub token: String,
    /// The cookie value `token|hash` (percent-encode it when writing the
    /// cookie: `|` travels as `%7C`).
    pub cookie_value: String,
}

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(<redacted>)")
    }
}

/// `hex(sha256(token ‖ secrets joined with ","))`.
fn token_hash(token: &str, secrets: &[Secret]) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    h.update(&joined(secrets)[..]);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// 32 random bytes as lowercase hex, as Auth.js's `randomString(32)`.
pub fn random_token() -> Result<String, Error> {
    let mut b = Zeroizing::new([0u8; 32]);
    fill_random(&mut b[..])?;
    Ok(hex(&b[..]))
}

/// Creates a new CSRF token and its cookie value.
pub fn create_csrf_token(secrets: &[Secret]) -> Result<CsrfToken, Error> {
    check_secrets(secrets)?;
    let token = random_token()?;
    Ok(csrf_token_from(token, secrets))
}

/// The cookie value for a given token (tests, and re-issuing a known token).
pub fn csrf_token_from(token: String, secrets: &[Secret]) -> CsrfToken {
    let cookie_value = format!("{token}|{}", token_hash(&token, secrets));
    CsrfToken {
        token,
        cookie_value,
    }
}

/// The token a CSRF cookie carries when its hash verifies with `secrets`
/// (compared in constant time); `None` when it does not, in which case
/// Auth.js issues a new cookie. Accepts the value percent-decoded (`|`) or
/// as sent (`%7C`).
pub fn verify_csrf_cookie(cookie_value: &str, secrets: &[Secret]) -> Option<String> {
    if secrets.is_empty() {
        return None;
    }
    let decoded;
    let value = if cookie_value.contains('|') {
        cookie_value
    } else {
        decoded = crate::cookies::percent_decode(cookie_value)?;
        &decoded
    };
    // `cookieValue.split("|")` keeps the first two parts.
    let mut parts = value.split('|');
    let token = parts.next()?;
    let hash = parts.next()?;
    let expected = token_hash(token, secrets);
    bool::from(expected.as_bytes().ct_eq(hash.as_bytes())).then(|| token.to_owned())
}

/// Whether a POST is CSRF-verified: the cookie verifies and the submitted
/// `csrfToken` form field equals its token (constant-time).
pub fn verify_csrf_submission(cookie_value: &str, submitted: &str, secrets: &[Secret]) -> bool {
    verify_csrf_cookie(cookie_value, secrets)
        .is_some_and(|token| bool::from(token.as_bytes().ct_eq(submitted.as_bytes())))
}

/// The hash an email sign-in stores for its token
/// (`hex(sha256(token ‖ secret))`; the raw token goes in the link).
pub fn email_token_hash(token: &str, secrets: &[Secret]) -> String {
    token_hash(token, secrets)
}

/// Whether `token` from a sign-in link hashes to `stored_hash`
/// (constant-time).
pub fn verify_email_token(token: &str, stored_hash: &str, secrets: &[Secret]) -> bool {
    !secrets.is_empty()
        && bool::from(
            email_token_hash(token, secrets)
                .as_bytes()
                .ct_eq(stored_hash.as_bytes()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_redaction() {
        let secrets = [Secret::from("s")];
        let t = create_csrf_token(&secrets).unwrap();
        assert_eq!(t.token.len(), 64);
        assert_eq!(
            verify_csrf_cookie(&t.cookie_value, &secrets),
            Some(t.token.clone())
        );
        assert!(verify_csrf_submission(&t.cookie_value, &t.token, &secrets));
        assert!(!verify_csrf_submission(&t.cookie_value, "x", &secrets));
        assert!(verify_csrf_cookie(&t.cookie_value, &[Secret::from("other")]).is_none());
        let encoded = t.cookie_value.replace('|', "%7C");
        assert!(verify_csrf_cookie(&encoded, &secrets).is_some());
        assert!(!format!("{t:?}").contains(&t.token));
        assert!(create_csrf_token(&[]).is_err());
    }
}
