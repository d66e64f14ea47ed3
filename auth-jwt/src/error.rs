//! The one error type of the crate.
//!
//! Messages name what went wrong and never carry a secret, a derived key, a
//! token or a claim value: they are safe to log.

use std::fmt;

/// Why a token could not be encoded or decoded.
///
/// Each variant is a kind of failure a caller can act on: a malformed or
/// tampered token is rejected, an expired one asks the user to sign in again,
/// `NoMatchingSecret` after a rotation means the token was made with a secret
/// that is no longer configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token is not a well-formed JWE compact serialization, or its
    /// plaintext is not a JSON object with numeric time claims.
    #[error("malformed token: {0}")]
    Malformed(Malformed),
    /// The token's `kid` matches none of the configured secrets (after a
    /// rotation: it was made with a secret that has been removed).
    #[error("no configured secret matches the token's key id")]
    NoMatchingSecret,
    /// The authentication tag did not verify: the token was made with another
    /// secret or salt (cookie name), or it was altered.
    #[error("decryption failed: wrong secret or salt, or the token was altered")]
    DecryptionFailed,
    /// `exp` is in the past, beyond the clock tolerance.
    #[error("token expired at {expired_at} (now {now})")]
    Expired {
        /// The token's `exp` claim, in seconds since the Unix epoch.
        expired_at: i64,
        /// The clock reading used for the check.
        now: i64,
    },
    /// `nbf` is in the future, beyond the clock tolerance.
    #[error("token not valid before {not_before} (now {now})")]
    NotYetValid {
        /// The token's `nbf` claim, in seconds since the Unix epoch.
        not_before: i64,
        /// The clock reading used for the check.
        now: i64,
    },
    /// The header names an algorithm or encryption this version of the format
    /// does not accept (Auth.js accepts `dir` with `A256CBC-HS512` or
    /// `A256GCM`; NextAuth v4 `dir` with `A256GCM`), or asks for compression
    /// or critical extensions.
    #[error("unsupported {field} {value:?}")]
    Unsupported {
        /// The header field: `alg`, `enc`, `zip` or `crit`.
        field: &'static str,
        /// The header's value, cut to 32 characters.
        value: String,
    },
    /// The decrypted claims do not deserialize into the requested type.
    #[error("claims do not match the expected type{}", .0.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Claims(Option<String>),
    /// The claims to encode do not serialize to a JSON object.
    #[error("claims must serialize to a JSON object")]
    ClaimsNotObject,
    /// No secret was given, or one of them is empty.
    #[error("a non-empty secret is required")]
    MissingSecret,
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// The ways a token can be malformed, for [`Error::Malformed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The token is empty.
    Empty,
    /// The token does not have the five dot-separated parts of a JWE.
    Parts,
    /// A part is not valid base64url.
    Base64(&'static str),
    /// The protected header is not a JSON object with string `alg` and `enc`.
    Header,
    /// A `dir` token carries a non-empty encrypted key.
    EncryptedKey,
    /// The initialization vector has the wrong length for the encryption.
    IvLength,
    /// The authentication tag has the wrong length for the encryption.
    TagLength,
    /// The plaintext is not a JSON object.
    Payload,
    /// A time claim (`exp`, `nbf`, `iat`) is present but not a number.
    Claim(&'static str),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Empty => f.write_str("empty token"),
            Malformed::Parts => f.write_str("expected five dot-separated parts"),
            Malformed::Base64(part) => write!(f, "{part} is not valid base64url"),
            Malformed::Header => f.write_str("protected header is not a valid JWE header"),
            Malformed::EncryptedKey => f.write_str("encrypted key must be empty for alg \"dir\""),
            Malformed::IvLength => f.write_str("initialization vector has the wrong length"),
            Malformed::TagLength => f.write_str("authentication tag has the wrong length"),
            Malformed::Payload => f.write_str("claims are not a JSON object"),
            Malformed::Claim(name) => write!(f, "\"{name}\" claim must be a number"),
        }
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Error::Malformed(m)
    }
}

/// Keep the part of a serde message that names a field, drop the part that
/// could quote a claim's value.
pub(crate) fn claims_error(e: &serde_json::Error) -> Error {
    let msg = e.to_string();
    let safe = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| msg.starts_with(p));
    Error::Claims(safe.then_some(msg))
}

pub(crate) fn unsupported(field: &'static str, value: &str) -> Error {
    Error::Unsupported {
        field,
        value: value.chars().take(32).collect(),
    }
}
