//! Secrets, the keys Auth.js derives from them, and the per-salt key cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use base64::Engine;
use hkdf::Hkdf;
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::{B64, Error, Version};

/// A secret as Auth.js takes it (`AUTH_SECRET`, `NEXTAUTH_SECRET`): the raw
/// bytes of the string, used as HKDF input keying material.
///
/// The bytes are zeroized on drop and never shown by `Debug`.
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps the bytes of a secret.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(Zeroizing::new(bytes.into()))
    }

    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s.as_bytes())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s.into_bytes())
    }
}

impl From<&String> for Secret {
    fn from(s: &String) -> Self {
        Secret::new(s.as_bytes())
    }
}

impl From<Vec<u8>> for Secret {
    fn from(b: Vec<u8>) -> Self {
        Secret::new(b)
    }
}

impl From<&[u8]> for Secret {
    fn from(b: &[u8]) -> Self {
        Secret::new(b)
    }
}

/// The secrets joined as JavaScript interpolates an array (`${secrets}`):
/// with `,`. Auth.js hashes CSRF and email tokens with this string.
pub(crate) fn joined(secrets: &[Secret]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::new());
    for (i, s) in secrets.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(s.expose());
    }
    out
}

/// The key one secret yields for one salt.
pub(crate) enum DerivedKey {
    /// Auth.js: 64 bytes for `A256CBC-HS512`; the first 32 are the `A256GCM`
    /// key (HKDF output of length 32 is a prefix of the 64-byte output).
    V5 {
        key: Zeroizing<[u8; 64]>,
        /// SHA-512 JWK thumbprint of the 64-byte key.
        kid_cbc: String,
        /// SHA-256 JWK thumbprint of the 32-byte key.
        kid_gcm: String,
        /// `{"alg":"dir","enc":"A256CBC-HS512","kid":…}`, base64url.
        header_cbc: String,
    },
    /// NextAuth v4: 32 bytes for `A256GCM`, no kid.
    V4 { key: Zeroizing<[u8; 32]> },
}

impl DerivedKey {
    pub(crate) fn derive(version: Version, secret: &Secret, salt: &str) -> Self {
        match version {
            Version::V5 => {
                let info = format!("Auth.js Generated Encryption Key ({salt})");
                let mut key = Zeroizing::new([0u8; 64]);
                hkdf_sha256(
                    secret.expose(),
                    salt.as_bytes(),
                    info.as_bytes(),
                    &mut key[..],
                );
                let kid_cbc = thumbprint::<Sha512>(&key[..]);
                let kid_gcm = thumbprint::<Sha256>(&key[..32]);
                let header = format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{kid_cbc}"}}"#);
                DerivedKey::V5 {
                    header_cbc: B64.encode(header),
                    key,
                    kid_cbc,
                    kid_gcm,
                }
            }
            Version::V4 => {
                let info = if salt.is_empty() {
                    "NextAuth.js Generated Encryption Key".to_owned()
                } else {
                    format!("NextAuth.js Generated Encryption Key ({salt})")
                };
                let mut key = Zeroizing::new([0u8; 32]);
                hkdf_sha256(
                    secret.expose(),
                    salt.as_bytes(),
                    info.as_bytes(),
                    &mut key[..],
                );
                DerivedKey::V4 { key }
            }
        }
    }
}

fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], okm: &mut [u8]) {
    // An empty salt is HKDF's "no salt" (a block of zeros), as in WebCrypto.
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    // 64 bytes is far below HKDF-SHA256's limit of 255 * 32.
    if hk.expand(info, okm).is_err() {
        okm.fill(0);
    }
}

/// RFC 7638 thumbprint of `{"k":…,"kty":"oct"}`, base64url.
fn thumbprint<D: Digest>(key: &[u8]) -> String {
    let jwk = Zeroizing::new(format!(r#"{{"k":"{}","kty":"oct"}}"#, B64.encode(key)));
    B64.encode(D::digest(jwk.as_bytes()))
}

/// The keys of every secret for one salt, in the secrets' order.
pub(crate) type SaltKeys = Arc<[DerivedKey]>;

/// Derived keys cached per salt (the secrets are fixed for the cache's life,
/// so this is a cache per (secret, salt)).
pub(crate) struct KeyCache {
    version: Version,
    secrets: Arc<[Secret]>,
    by_salt: RwLock<HashMap<String, SaltKeys>>,
}

/// Salts are cookie names chosen by the application; the bound only keeps a
/// program that passes arbitrary salts from growing the cache without end.
const MAX_CACHED_SALTS: usize = 64;

impl KeyCache {
    pub(crate) fn new(version: Version, secrets: Arc<[Secret]>) -> Self {
        KeyCache {
            version,
            secrets,
            by_salt: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    pub(crate) fn get(&self, salt: &str) -> SaltKeys {
        if let Some(keys) = self
            .by_salt
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(salt)
        {
            return keys.clone();
        }
        let keys: SaltKeys = self
            .secrets
            .iter()
            .map(|s| DerivedKey::derive(self.version, s, salt))
            .collect();
        let mut map = self.by_salt.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() < MAX_CACHED_SALTS {
            map.insert(salt.to_owned(), keys.clone());
        }
        keys
    }
}

/// Checks that secrets are usable, as Auth.js's `MissingSecret` does.
pub(crate) fn check_secrets(secrets: &[Secret]) -> Result<(), Error> {
    if secrets.is_empty() || secrets.iter().any(|s| s.expose().is_empty()) {
        return Err(Error::MissingSecret);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::from("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn joined_uses_commas() {
        let s = [Secret::from("s2"), Secret::from("s1")];
        assert_eq!(&joined(&s)[..], b"s2,s1");
    }
}
