//! The records of the Auth.js storage model.
//!
//! JSON field names follow Auth.js (`emailVerified`, `providerAccountId`,
//! `sessionToken`, `credentialID`, ...) so a record serialized here reads the
//! same as one written by a Next.js app. Instants serialize as RFC 3339.
//!
//! `Debug` never prints a secret: session tokens, verification tokens and
//! OAuth tokens show as `"<redacted>"`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::AdapterError;

const REDACTED: &str = "<redacted>";

/// A person who can sign in. Auth.js: `AdapterUser`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Opaque id chosen by the adapter when the user was created.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Email address; unique among users that have one, compared exactly.
    pub email: Option<String>,
    /// When the email address was verified.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub email_verified: Option<OffsetDateTime>,
    /// Avatar URL.
    pub image: Option<String>,
}

/// A user to create: every field of [`User`] but the id, which the adapter
/// assigns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    /// Display name.
    pub name: Option<String>,
    /// Email address; a second user with the same address is a conflict.
    pub email: Option<String>,
    /// When the email address was verified.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub email_verified: Option<OffsetDateTime>,
    /// Avatar URL.
    pub image: Option<String>,
}

impl NewUser {
    /// The [`User`] this becomes once stored under `id`.
    pub fn into_user(self, id: String) -> User {
        User {
            id,
            name: self.name,
            email: self.email,
            email_verified: self.email_verified,
            image: self.image,
        }
    }
}

/// A partial update of a [`User`]: `None` keeps a field, `Some(None)` clears
/// it, `Some(Some(v))` sets it.
///
/// In JSON a missing field keeps the value and `null` clears it, as in
/// Auth.js's `Partial<AdapterUser>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserUpdate {
    /// The user to update.
    pub id: String,
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "patch")]
    pub name: Option<Option<String>>,
    /// New email address.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "patch")]
    pub email: Option<Option<String>>,
    /// New verification instant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "patch_timestamp"
    )]
    pub email_verified: Option<Option<OffsetDateTime>>,
    /// New avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "patch")]
    pub image: Option<Option<String>>,
}

impl UserUpdate {
    /// An update of user `id` that changes nothing yet.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// Applies the update to `user` in place (the id is left alone).
    pub fn apply_to(&self, user: &mut User) {
        if let Some(name) = &self.name {
            user.name.clone_from(name);
        }
        if let Some(email) = &self.email {
            user.email.clone_from(email);
        }
        if let Some(email_verified) = self.email_verified {
            user.email_verified = email_verified;
        }
        if let Some(image) = &self.image {
            user.image.clone_from(image);
        }
    }
}

/// How an account signs in. Stored as `oauth`, `oidc`, `email`, `webauthn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountType {
    /// An OAuth 2 provider.
    OAuth,
    /// An OpenID Connect provider.
    Oidc,
    /// Email (magic link) sign-in.
    Email,
    /// A passkey (WebAuthn) credential.
    WebAuthn,
}

impl AccountType {
    /// The stored name: `oauth`, `oidc`, `email` or `webauthn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OAuth => "oauth",
            Self::Oidc => "oidc",
            Self::Email => "email",
            Self::WebAuthn => "webauthn",
        }
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountType {
    type Err = AdapterError;

    /// Parses a stored name exactly; anything else is
    /// [`AdapterError::InvalidInput`] on field `type`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "oauth" => Ok(Self::OAuth),
            "oidc" => Ok(Self::Oidc),
            "email" => Ok(Self::Email),
            "webauthn" => Ok(Self::WebAuthn),
            other => Err(AdapterError::invalid_input(
                "type",
                format!("unknown account type {other:?}"),
            )),
        }
    }
}

/// A provider account linked to a user. Auth.js: `AdapterAccount`.
///
/// The OAuth token fields keep their snake_case names in JSON and storage,
/// as in Auth.js.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The user this account belongs to.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// How the account signs in.
    #[serde(rename = "type")]
    pub account_type: AccountType,
    /// Provider id, e.g. `"github"`.
    pub provider: String,
    /// The user's id at the provider; unique together with `provider`.
    #[serde(rename = "providerAccountId")]
    pub provider_account_id: String,
    /// OAuth access token (secret).
    #[serde(default)]
    pub access_token: Option<String>,
    /// OAuth refresh token (secret).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When the access token expires, in unix seconds.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Token type, e.g. `"bearer"`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Granted scopes.
    #[serde(default)]
    pub scope: Option<String>,
    /// OpenID Connect id token (secret).
    #[serde(default)]
    pub id_token: Option<String>,
    /// Provider session state (secret).
    #[serde(default)]
    pub session_state: Option<String>,
}

impl Account {
    /// An account of `account_type` at `provider` for `user_id`, with no
    /// tokens yet.
    pub fn new(
        user_id: impl Into<String>,
        account_type: AccountType,
        provider: impl Into<String>,
        provider_account_id: impl Into<String>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            account_type,
            provider: provider.into(),
            provider_account_id: provider_account_id.into(),
            access_token: None,
            refresh_token: None,
            expires_at: None,
            token_type: None,
            scope: None,
            id_token: None,
            session_state: None,
        }
    }
}

fn redact(value: &Option<String>) -> Option<&'static str> {
    value.as_ref().map(|_| REDACTED)
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user_id", &self.user_id)
            .field("account_type", &self.account_type)
            .field("provider", &self.provider)
            .field("provider_account_id", &self.provider_account_id)
            .field("access_token", &redact(&self.access_token))
            .field("refresh_token", &redact(&self.refresh_token))
            .field("expires_at", &self.expires_at)
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("id_token", &redact(&self.id_token))
            .field("session_state", &redact(&self.session_state))
            .finish()
    }
}

/// A database session. Auth.js: `AdapterSession`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The secret the browser holds in its session cookie; unique.
    pub session_token: String,
    /// The signed-in user.
    pub user_id: String,
    /// When the session stops being valid.
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("session_token", &REDACTED)
            .field("user_id", &self.user_id)
            .field("expires", &self.expires)
            .finish()
    }
}

/// A change to a stored [`Session`], found by its token: `None` keeps a field.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionUpdate {
    /// The session to change.
    pub session_token: String,
    /// New expiry.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires: Option<OffsetDateTime>,
    /// New owner.
    #[serde(default)]
    pub user_id: Option<String>,
}

impl SessionUpdate {
    /// Applies the update to `session` in place (the token is left alone).
    pub fn apply_to(&self, session: &mut Session) {
        if let Some(expires) = self.expires {
            session.expires = expires;
        }
        if let Some(user_id) = &self.user_id {
            session.user_id.clone_from(user_id);
        }
    }
}

impl fmt::Debug for SessionUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionUpdate")
            .field("session_token", &REDACTED)
            .field("expires", &self.expires)
            .field("user_id", &self.user_id)
            .finish()
    }
}

/// A single-use token for email sign-in. Auth.js: `VerificationToken`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationToken {
    /// Who the token is for, usually an email address.
    pub identifier: String,
    /// The token itself (Auth.js stores a hash of what it mails).
    pub token: String,
    /// When the token stops being valid.
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

impl fmt::Debug for VerificationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationToken")
            .field("identifier", &self.identifier)
            .field("token", &REDACTED)
            .field("expires", &self.expires)
            .finish()
    }
}

/// A WebAuthn (passkey) credential of a user. Auth.js: `AdapterAuthenticator`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticator {
    /// Base64url credential id; unique.
    #[serde(rename = "credentialID")]
    pub credential_id: String,
    /// The owner.
    #[serde(rename = "userId")]
    pub user_id: String,
    /// The `provider_account_id` of the user's `webauthn` account.
    #[serde(rename = "providerAccountId")]
    pub provider_account_id: String,
    /// Base64 public key.
    #[serde(rename = "credentialPublicKey")]
    pub credential_public_key: String,
    /// Signature counter, raised on each use.
    pub counter: u32,
    /// `"singleDevice"` or `"multiDevice"`.
    #[serde(rename = "credentialDeviceType")]
    pub credential_device_type: String,
    /// Whether the credential is backed up.
    #[serde(rename = "credentialBackedUp")]
    pub credential_backed_up: bool,
    /// Comma-separated transports, e.g. `"usb,nfc"`.
    #[serde(default)]
    pub transports: Option<String>,
}

/// Serde for `Option<Option<T>>` patch fields: absent keeps, `null` clears.
mod patch {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// [`patch`] for RFC 3339 instants.
mod patch_timestamp {
    use serde::{Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(
        value: &Option<Option<OffsetDateTime>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::option::serialize(&value.flatten(), serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
        time::serde::rfc3339::option::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn account() -> Account {
        Account {
            access_token: Some("gho_access_secret".into()),
            refresh_token: Some("ghr_refresh_secret".into()),
            id_token: Some("eyJ.id.secret".into()),
            session_state: Some("state_secret".into()),
            expires_at: Some(1_700_000_000),
            ..Account::new("u1", AccountType::OAuth, "github", "gh-1")
        }
    }

    #[test]
    fn debug_never_prints_a_token() {
        let session = Session {
            session_token: "sess_secret".into(),
            user_id: "u1".into(),
            expires: datetime!(2030-01-01 0:00 UTC),
        };
        let update = SessionUpdate {
            session_token: "sess_secret".into(),
            expires: None,
            user_id: None,
        };
        let token = VerificationToken {
            identifier: "a@example.com".into(),
            token: "vt_secret".into(),
            expires: datetime!(2030-01-01 0:00 UTC),
        };
        let printed = format!("{:?} {:?} {:?} {:#?}", account(), session, update, token);
        assert!(!printed.contains("secret"), "leaked in {printed}");
        assert!(printed.contains("github") && printed.contains("a@example.com"));
    }

    #[test]
    fn json_uses_authjs_field_names() {
        let user = User {
            id: "u1".into(),
            name: None,
            email: Some("a@example.com".into()),
            email_verified: Some(datetime!(2024-05-06 07:08:09.123 UTC)),
            image: None,
        };
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["emailVerified"], "2024-05-06T07:08:09.123Z");
        assert_eq!(serde_json::from_value::<User>(json).unwrap(), user);

        let json = serde_json::to_value(account()).unwrap();
        assert_eq!(json["providerAccountId"], "gh-1");
        assert_eq!(json["userId"], "u1");
        assert_eq!(json["type"], "oauth");
        assert_eq!(json["access_token"], "gho_access_secret");
        assert_eq!(serde_json::from_value::<Account>(json).unwrap(), account());

        let session: Session = serde_json::from_str(
            r#"{"sessionToken":"t","userId":"u","expires":"2030-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(session.expires, datetime!(2030-01-01 0:00 UTC));

        let authenticator: Authenticator = serde_json::from_str(
            r#"{"credentialID":"c","userId":"u","providerAccountId":"p",
                "credentialPublicKey":"k","counter":7,"credentialDeviceType":"singleDevice",
                "credentialBackedUp":false,"transports":null}"#,
        )
        .unwrap();
        assert_eq!(authenticator.counter, 7);
    }

    #[test]
    fn user_update_json_distinguishes_absent_from_null() {
        let update: UserUpdate =
            serde_json::from_str(r#"{"id":"u1","name":null,"email":"b@example.com"}"#).unwrap();
        assert_eq!(update.name, Some(None));
        assert_eq!(update.email, Some(Some("b@example.com".into())));
        assert_eq!(update.image, None);
        assert_eq!(update.email_verified, None);
        let back = serde_json::to_value(&update).unwrap();
        assert!(back.get("image").is_none());
        assert!(back["name"].is_null());

        let mut user = User {
            id: "u1".into(),
            name: Some("A".into()),
            email: None,
            email_verified: None,
            image: Some("img".into()),
        };
        update.apply_to(&mut user);
        assert_eq!(user.name, None);
        assert_eq!(user.email.as_deref(), Some("b@example.com"));
        assert_eq!(user.image.as_deref(), Some("img"));
    }

    #[test]
    fn account_type_names_round_trip() {
        for t in [
            AccountType::OAuth,
            AccountType::Oidc,
            AccountType::Email,
            AccountType::WebAuthn,
        ] {
            assert_eq!(t.as_str().parse::<AccountType>().unwrap(), t);
        }
        let err = "OAuth".parse::<AccountType>().unwrap_err();
        assert!(err.is_invalid_input());
    }
}
