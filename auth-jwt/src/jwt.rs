//! Encoding and decoding of session tokens (JWE compact, `alg: "dir"`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes::Aes256;
use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use hmac::{Hmac, Mac};
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::Sha512;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{claims_error, unsupported};
use crate::keys::{DerivedKey, KeyCache, Secret, check_secrets};
use crate::{B64, Error, Malformed};

/// Auth.js's default session lifetime: 30 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The clock tolerance Auth.js and NextAuth pass to `jose`: 15 seconds.
pub const DEFAULT_CLOCK_TOLERANCE: Duration = Duration::from_secs(15);

const V4_HEADER: &str = r#"{"alg":"dir","enc":"A256GCM"}"#;

/// Which package's token format to read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// Auth.js / `@auth/core` / next-auth 5: `dir` + `A256CBC-HS512` with a
    /// `kid`, a key per salt, secret rotation; decodes `A256GCM` too.
    V5,
    /// next-auth 4: `dir` + `A256GCM`, no `kid`, one secret.
    V4,
}

/// Where "now" comes from when tokens are stamped and checked.
///
/// Production code uses [`Clock::system`]; tests pin time with
/// [`Clock::fixed`] so recorded tokens never expire.
#[derive(Clone)]
pub struct Clock(ClockSource);

#[derive(Clone)]
enum ClockSource {
    System,
    Fixed(i64),
    Custom(Arc<dyn Fn() -> i64 + Send + Sync>),
}

impl Clock {
    /// The system clock, in whole seconds since the Unix epoch (as
    /// `Date.now() / 1000 | 0`).
    pub fn system() -> Self {
        Clock(ClockSource::System)
    }

    /// A clock that always reads `unix_seconds`.
    pub fn fixed(unix_seconds: i64) -> Self {
        Clock(ClockSource::Fixed(unix_seconds))
    }

    /// A clock that asks `now` for the time, in seconds since the Unix epoch.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Clock(ClockSource::Custom(Arc::new(now)))
    }

    /// The current time in seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        match &self.0 {
            ClockSource::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            ClockSource::Fixed(t) => *t,
            ClockSource::Custom(f) => f(),
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ClockSource::System => f.write_str("Clock::system()"),
            ClockSource::Fixed(t) => write!(f, "Clock::fixed({t})"),
            ClockSource::Custom(_) => f.write_str("Clock::from_fn(..)"),
        }
    }
}

/// The claims Auth.js puts in a session token by default (`DefaultJWT`):
/// `name`, `email`, `picture`, `sub`, the registered `iat`, `exp`, `jti`, and
/// whatever the app's `jwt` callback added, in `extra`.
///
/// `name`, `email` and `picture` are written as `null` when absent, as
/// Auth.js writes a user's missing name or image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DefaultClaims {
    /// The user's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The user's email address.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's image URL.
    #[serde(default)]
    pub picture: Option<String>,
    /// The user's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Issued at, seconds since the Unix epoch (set by encode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expires at, seconds since the Unix epoch (set by encode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Token id, a random UUID (set by encode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Encodes and decodes session tokens for a list of secrets.
///
/// Cloning is cheap and clones share the cache of derived keys.
#[derive(Clone)]
pub struct Jwt {
    version: Version,
    keys: Arc<KeyCache>,
    clock: Clock,
    clock_tolerance: i64,
    max_age: Duration,
}

impl fmt::Debug for Jwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwt")
            .field("version", &self.version)
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.keys.secrets().len()),
            )
            .field("clock", &self.clock)
            .field("clock_tolerance", &self.clock_tolerance)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl Jwt {
    /// An Auth.js (v5) codec. The first secret encodes; decoding picks the
    /// secret whose key matches the token's `kid` (or the first secret when
    /// the token has none), so list the new secret first when rotating.
    ///
    /// Fails with [`Error::MissingSecret`] when the list is empty or a secret
    /// is empty.
    pub fn new<I>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Secret>,
    {
        Self::with_version(Version::V5, secrets)
    }

    /// A next-auth 4 codec (`NEXTAUTH_SECRET`).
    pub fn v4(secret: impl Into<Secret>) -> Result<Self, Error> {
        Self::with_version(Version::V4, [secret])
    }

    /// A codec for `version`. Version 4 has no rotation: it uses the first
    /// secret only, as next-auth 4 does.
    pub fn with_version<I>(version: Version, secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<Secret>,
    {
        let mut secrets: Vec<Secret> = secrets.into_iter().map(Into::into).collect();
        check_secrets(&secrets)?;
        if version == Version::V4 {
            secrets.truncate(1);
        }
        Ok(Jwt {
            version,
            keys: Arc::new(KeyCache::new(version, secrets.into())),
            clock: Clock::system(),
            clock_tolerance: duration_secs(DEFAULT_CLOCK_TOLERANCE),
            max_age: DEFAULT_MAX_AGE,
        })
    }

    /// Replaces the clock (default [`Clock::system`]).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the tolerance for `exp` and `nbf` (default 15 s).
    pub fn with_clock_tolerance(mut self, tolerance: Duration) -> Self {
        self.clock_tolerance = duration_secs(tolerance);
        self
    }

    /// Replaces the lifetime [`Jwt::encode`] gives tokens (default 30 days).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The token format.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The configured secrets, the encoding one first.
    pub fn secrets(&self) -> &[Secret] {
        self.keys.secrets()
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Encodes `claims` as Auth.js's `encode()` does: the claims (which must
    /// serialize to a JSON object) plus `iat` = now, `exp` = now + max age and
    /// a random `jti`, which replace any the claims carry.
    ///
    /// `salt` is the cookie name the token is for (`authjs.session-token`,
    /// `__Secure-authjs.session-token`, …); next-auth 4 session tokens use
    /// `""`.
    pub fn encode<C: Serialize + ?Sized>(&self, salt: &str, claims: &C) -> Result<String, Error> {
        self.encode_with_max_age(salt, claims, self.max_age)
    }

    /// [`Jwt::encode`] with a lifetime for this token only.
    pub fn encode_with_max_age<C: Serialize + ?Sized>(
        &self,
        salt: &str,
        claims: &C,
        max_age: Duration,
    ) -> Result<String, Error> {
        let now = self.clock.now();
        let exp = now.saturating_add(duration_secs(max_age));
        let jti = random_uuid()?;
        let payload = payload_with_registered(claims, now, exp, &jti)?;
        match self.version {
            Version::V5 => {
                let mut iv = [0u8; 16];
                fill_random(&mut iv)?;
                self.encrypt(salt, &payload, &iv)
            }
            Version::V4 => {
                let mut iv = [0u8; 12];
                fill_random(&mut iv)?;
                self.encrypt(salt, &payload, &iv)
            }
        }
    }

    /// Encrypts a finished payload with a given IV (16 bytes for v5, 12 for v4).
    pub(crate) fn encrypt(&self, salt: &str, payload: &[u8], iv: &[u8]) -> Result<String, Error> {
        let keys = self.keys.get(salt);
        let Some(key) = keys.first() else {
            return Err(Error::MissingSecret);
        };
        match key {
            DerivedKey::V5 {
                key, header_cbc, ..
            } => {
                // PKCS#7 adds 1 to 16 bytes.
                let mut buf = vec![0u8; payload.len() + 16];
                buf[..payload.len()].copy_from_slice(payload);
                let (mac_key, enc_key) = key.split_at(32);
                let ct = cbc::Encryptor::<Aes256>::new_from_slices(enc_key, iv)
                    .map_err(|_| Error::Malformed(Malformed::IvLength))?
                    .encrypt_padded::<Pkcs7>(&mut buf, payload.len())
                    .map_err(|_| Error::ClaimsNotObject)?;
                let tag = cbc_hs512_tag(mac_key, header_cbc.as_bytes(), iv, ct);
                Ok(compact(header_cbc, iv, ct, &tag))
            }
            DerivedKey::V4 { key } => {
                let header = B64.encode(V4_HEADER);
                Ok(gcm_encrypt(&key[..], &header, payload, iv)?)
            }
        }
    }

    /// Decodes and checks a token as Auth.js's `decode()` (or next-auth 4's)
    /// does: decrypts it with the key for `salt`, checks `exp` and `nbf`
    /// against the clock with the tolerance, and deserializes the claims.
    pub fn decode<C: DeserializeOwned>(&self, salt: &str, token: &str) -> Result<C, Error> {
        let claims = self.decrypt_and_check(salt, token)?;
        C::deserialize(Value::Object(claims)).map_err(|e| claims_error(&e))
    }

    fn decrypt_and_check(&self, salt: &str, token: &str) -> Result<Map<String, Value>, Error> {
        let plaintext = self.decrypt(salt, token)?;
        let claims: Map<String, Value> =
            serde_json::from_slice(&plaintext).map_err(|_| Malformed::Payload)?;
        check_times(&claims, self.clock.now(), self.clock_tolerance)?;
        Ok(claims)
    }

    fn decrypt(&self, salt: &str, token: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        if token.is_empty() {
            return Err(Malformed::Empty.into());
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(ek), Some(iv), Some(ct), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(Malformed::Parts.into());
        };
        let header_json = decode_b64(header_b64, "header")?;
        let header: Header = serde_json::from_slice(&header_json).map_err(|_| Malformed::Header)?;
        if header.alg != "dir" {
            return Err(unsupported("alg", &header.alg));
        }
        if header.zip.is_some() {
            return Err(unsupported("zip", "present"));
        }
        if header.crit.is_some() {
            return Err(unsupported("crit", "present"));
        }
        let enc = match (self.version, header.enc.as_str()) {
            (Version::V5, "A256CBC-HS512") => Enc::CbcHs512,
            (_, "A256GCM") => Enc::Gcm,
            _ => return Err(unsupported("enc", &header.enc)),
        };
        if !ek.is_empty() {
            return Err(Malformed::EncryptedKey.into());
        }
        let iv = decode_b64(iv, "initialization vector")?;
        let ct = decode_b64(ct, "ciphertext")?;
        let tag = decode_b64(tag, "authentication tag")?;

        let keys = self.keys.get(salt);
        let key: &[u8] = match self.version {
            Version::V4 => match keys.first() {
                Some(DerivedKey::V4 { key }) => &key[..],
                _ => return Err(Error::MissingSecret),
            },
            Version::V5 => {
                let found = match &header.kid {
                    // Without a kid Auth.js tries the first secret only.
                    None => keys.first(),
                    Some(kid) => keys.iter().find(|k| match k {
                        DerivedKey::V5 {
                            kid_cbc, kid_gcm, ..
                        } => {
                            let expected = if enc == Enc::Gcm { kid_gcm } else { kid_cbc };
                            bool::from(expected.as_bytes().ct_eq(kid.as_bytes()))
                        }
                        DerivedKey::V4 { .. } => false,
                    }),
                };
                match found {
                    Some(DerivedKey::V5 { key, .. }) if enc == Enc::Gcm => &key[..32],
                    Some(DerivedKey::V5 { key, .. }) => &key[..],
                    _ => return Err(Error::NoMatchingSecret),
                }
            }
        };
        match enc {
            Enc::CbcHs512 => cbc_decrypt(key, header_b64.as_bytes(), &iv, &ct, &tag),
            Enc::Gcm => gcm_decrypt(key, header_b64.as_bytes(), &iv, ct, &tag),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Enc {
    CbcHs512,
    Gcm,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    enc: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    zip: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

fn duration_secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn decode_b64(part: &str, name: &'static str) -> Result<Vec<u8>, Error> {
    B64.decode(part).map_err(|_| Malformed::Base64(name).into())
}

fn compact(header_b64: &str, iv: &[u8], ct: &[u8], tag: &[u8]) -> String {
    let mut out =
        String::with_capacity(header_b64.len() + 4 + (iv.len() + ct.len() + tag.len()) * 4 / 3 + 8);
    out.push_str(header_b64);
    out.push_str("..");
    B64.encode_string(iv, &mut out);
    out.push('.');
    B64.encode_string(ct, &mut out);
    out.push('.');
    B64.encode_string(tag, &mut out);
    out
}

/// RFC 7518 §5.2.2.1: the first 32 bytes of HMAC-SHA-512 over
/// AAD ‖ IV ‖ ciphertext ‖ AAD length in bits (u64, big-endian).
fn cbc_hs512_tag(mac_key: &[u8], aad: &[u8], iv: &[u8], ct: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha512> as hmac::KeyInit>::new_from_slice(mac_key)
        .unwrap_or_else(|_| <Hmac<Sha512> as hmac::KeyInit>::new(&Default::default()));
    mac.update(aad);
    mac.update(iv);
    mac.update(ct);
    let aad_bits = u64::try_from(aad.len())
        .unwrap_or(u64::MAX)
        .saturating_mul(8);
    mac.update(&aad_bits.to_be_bytes());
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; 32];
    tag.copy_from_slice(&full[..32]);
    tag
}

fn cbc_decrypt(
    key: &[u8],
    aad: &[u8],
    iv: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if iv.len() != 16 {
        return Err(Malformed::IvLength.into());
    }
    if tag.len() != 32 {
        return Err(Malformed::TagLength.into());
    }
    let (mac_key, enc_key) = key.split_at(32);
    let expected = cbc_hs512_tag(mac_key, aad, iv, ct);
    if !bool::from(expected.ct_eq(tag)) {
        return Err(Error::DecryptionFailed);
    }
    let mut buf = Zeroizing::new(ct.to_vec());
    let len = cbc::Decryptor::<Aes256>::new_from_slices(enc_key, iv)
        .map_err(|_| Error::DecryptionFailed)?
        .decrypt_padded::<Pkcs7>(&mut buf)
        .map_err(|_| Error::DecryptionFailed)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

fn gcm_encrypt(key: &[u8], header_b64: &str, payload: &[u8], iv: &[u8]) -> Result<String, Error> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| Error::MissingSecret)?;
    let nonce = aes_gcm::Nonce::try_from(iv).map_err(|_| Malformed::IvLength)?;
    let mut buf = payload.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&nonce, header_b64.as_bytes(), buf.as_mut_slice().into())
        .map_err(|_| Error::DecryptionFailed)?;
    Ok(compact(header_b64, iv, &buf, &tag))
}

fn gcm_decrypt(
    key: &[u8],
    aad: &[u8],
    iv: &[u8],
    ct: Vec<u8>,
    tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let nonce = aes_gcm::Nonce::try_from(iv).map_err(|_| Malformed::IvLength)?;
    let tag = aes_gcm::Tag::try_from(tag).map_err(|_| Malformed::TagLength)?;
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| Error::DecryptionFailed)?;
    let mut buf = Zeroizing::new(ct);
    // The tag comparison inside `aes-gcm` is constant-time.
    cipher
        .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag)
        .map_err(|_| Error::DecryptionFailed)?;
    Ok(buf)
}

/// The checks `jose`'s `jwtDecrypt` makes with Auth.js's options: time claims
/// are numbers; `exp` must be after now - tolerance, `nbf` before now +
/// tolerance. A future `iat` is accepted, as in `jose` without `maxTokenAge`.
fn check_times(claims: &Map<String, Value>, now: i64, tolerance: i64) -> Result<(), Error> {
    let number = |name: &'static str| -> Result<Option<f64>, Error> {
        match claims.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(Malformed::Claim(name).into()),
        }
    };
    number("iat")?;
    let now_f = now as f64;
    let tol = tolerance as f64;
    if let Some(nbf) = number("nbf")?
        && nbf > now_f + tol
    {
        return Err(Error::NotYetValid {
            not_before: nbf as i64,
            now,
        });
    }
    if let Some(exp) = number("exp")?
        && exp <= now_f - tol
    {
        return Err(Error::Expired {
            expired_at: exp as i64,
            now,
        });
    }
    Ok(())
}

/// The top-level members of a JSON object in their order, values kept raw.
struct OrderedObject<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for OrderedObject<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    out.push((k, map.next_value::<&'de RawValue>()?));
                }
                Ok(OrderedObject(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The claims as `jose`'s `EncryptJWT` writes them: the members in their
/// order, with `iat`, `exp` and `jti` replaced in place or appended.
pub(crate) fn payload_with_registered<C: Serialize + ?Sized>(
    claims: &C,
    iat: i64,
    exp: i64,
    jti: &str,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let serialized =
        Zeroizing::new(serde_json::to_vec(claims).map_err(|_| Error::ClaimsNotObject)?);
    let object: OrderedObject<'_> =
        serde_json::from_slice(&serialized).map_err(|_| Error::ClaimsNotObject)?;
    let jti_json = serde_json::to_string(jti).map_err(|_| Error::ClaimsNotObject)?;
    let registered = [
        ("iat", iat.to_string()),
        ("exp", exp.to_string()),
        ("jti", jti_json),
    ];
    let mut out = Zeroizing::new(Vec::with_capacity(serialized.len() + 96));
    out.push(b'{');
    let mut first = true;
    let mut push_member = |out: &mut Vec<u8>, key: &str, raw: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        // A string always serializes.
        let _ = serde_json::to_writer(&mut *out, key);
        out.push(b':');
        out.extend_from_slice(raw.as_bytes());
    };
    let mut seen = [false; 3];
    for (key, raw) in &object.0 {
        match registered.iter().position(|(name, _)| name == key) {
            Some(i) => {
                if !seen[i] {
                    seen[i] = true;
                    push_member(&mut out, key, &registered[i].1);
                }
            }
            None => push_member(&mut out, key, raw.get()),
        }
    }
    for (i, (name, value)) in registered.iter().enumerate() {
        if !seen[i] {
            push_member(&mut out, name, value);
        }
    }
    out.push(b'}');
    Ok(out)
}

pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|_| Error::Random)
}

/// A random (version 4) UUID, as `crypto.randomUUID()`.
fn random_uuid() -> Result<String, Error> {
    let mut b = [0u8; 16];
    fill_random(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push_str(&format!("{byte:02x}"));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/authjs-tokens.json");

    fn fixture() -> Value {
        serde_json::from_str(FIXTURE).unwrap()
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn derived_keys_and_kids_match_authjs() {
        let f = fixture();
        let secret = Secret::from(f["secret"].as_str().unwrap());
        for (salt, rec) in f["keys"].as_object().unwrap() {
            if let Some(salt) = salt.strip_prefix("v4:") {
                let salt = if salt.starts_with("session") {
                    ""
                } else {
                    salt
                };
                let DerivedKey::V4 { key } = DerivedKey::derive(Version::V4, &secret, salt) else {
                    panic!("v4 key")
                };
                assert_eq!(&key[..], &hex(rec["a256gcm_key_hex"].as_str().unwrap())[..]);
                continue;
            }
            let DerivedKey::V5 {
                key,
                kid_cbc,
                kid_gcm,
                ..
            } = DerivedKey::derive(Version::V5, &secret, salt)
            else {
                panic!("v5 key")
            };
            assert_eq!(
                &key[..],
                &hex(rec["a256cbc_hs512_key_hex"].as_str().unwrap())[..],
                "{salt}"
            );
            assert_eq!(
                &key[..32],
                &hex(rec["a256gcm_key_hex"].as_str().unwrap())[..]
            );
            assert_eq!(kid_cbc, rec["kid_sha512"].as_str().unwrap());
            assert_eq!(kid_gcm, rec["kid_sha256_for_gcm"].as_str().unwrap());
        }
    }

    #[test]
    fn deterministic_v5_token_is_byte_identical() {
        let f = fixture();
        let d = &f["v5_deterministic"];
        let jwt = Jwt::new([f["secret"].as_str().unwrap()]).unwrap();
        let expected = &d["decoded_by_authjs"];
        let claims: DefaultClaims = serde_json::from_value(d["payload_in"].clone()).unwrap();
        let payload = payload_with_registered(
            &claims,
            d["iat"].as_i64().unwrap(),
            d["exp"].as_i64().unwrap(),
            expected["jti"].as_str().unwrap(),
        )
        .unwrap();
        let token = jwt
            .encrypt(
                d["salt"].as_str().unwrap(),
                &payload,
                &hex(d["iv_hex"].as_str().unwrap()),
            )
            .unwrap();
        assert_eq!(token, d["token"].as_str().unwrap());
    }

    #[test]
    fn deterministic_v4_token_is_byte_identical() {
        let f = fixture();
        let v4 = &f["v4"];
        let jwt = Jwt::v4(f["secret"].as_str().unwrap()).unwrap();
        let c = &v4["deterministic_decoded"];
        let payload = payload_with_registered(
            &DefaultClaims {
                name: c["name"].as_str().map(String::from),
                email: c["email"].as_str().map(String::from),
                sub: c["sub"].as_str().map(String::from),
                ..DefaultClaims::default()
            },
            c["iat"].as_i64().unwrap(),
            c["exp"].as_i64().unwrap(),
            c["jti"].as_str().unwrap(),
        )
        .unwrap();
        let token = jwt
            .encrypt("", &payload, &hex("000102030405060708090a0b"))
            .unwrap();
        assert_eq!(token, v4["deterministic"].as_str().unwrap());
    }

    #[test]
    fn registered_claims_replace_in_place() {
        #[derive(Serialize)]
        struct C {
            iat: i64,
            a: bool,
            jti: &'static str,
        }
        let claims = C {
            iat: 1,
            a: true,
            jti: "x",
        };
        let p = payload_with_registered(&claims, 10, 20, "j").unwrap();
        let s = std::str::from_utf8(&p).unwrap();
        assert_eq!(s, r#"{"iat":10,"a":true,"jti":"j","exp":20}"#);
        assert!(payload_with_registered(&"str", 1, 2, "j").is_err());
    }

    #[test]
    fn uuid_shape() {
        let u = random_uuid().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
