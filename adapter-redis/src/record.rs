//! The record codec: models to hash fields and back (see the crate
//! README's "Key layout" and "Values"). A stored value that does not decode
//! is [`AdapterError::stored_data`] naming the field, never the value or
//! the key.

use std::collections::HashMap;

use auth_core::timestamp::{from_unix_millis, to_unix_millis};
use auth_core::{Account, AccountType, AdapterError, Authenticator, Result, Session, User};
use redis::{ScriptInvocation, Value};
use time::OffsetDateTime;

use crate::malformed;

/// The version written into every stored record (field `v`, or the `1:`
/// head of a verification token's value). Records of another version are
/// refused with a `Backend` error rather than misread.
pub(crate) const RECORD_VERSION: &str = "1";

pub(crate) fn push_fields(call: &mut ScriptInvocation<'_>, fields: &[(&'static str, String)]) {
    for (name, value) in fields {
        call.arg(*name).arg(value);
    }
}

/// The fields of a user hash; absent options are absent fields.
pub(crate) fn user_fields(user: &User) -> Vec<(&'static str, String)> {
    let mut fields = vec![("v", RECORD_VERSION.to_owned()), ("id", user.id.clone())];
    optional(&mut fields, "name", &user.name);
    optional(&mut fields, "email", &user.email);
    let verified = user.email_verified.map(|t| to_unix_millis(t).to_string());
    optional(&mut fields, "emailVerified", &verified);
    optional(&mut fields, "image", &user.image);
    fields
}

pub(crate) fn account_fields(account: &Account) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("v", RECORD_VERSION.to_owned()),
        ("userId", account.user_id.clone()),
        ("type", account.account_type.as_str().to_owned()),
        ("provider", account.provider.clone()),
        ("providerAccountId", account.provider_account_id.clone()),
    ];
    optional(&mut fields, "access_token", &account.access_token);
    optional(&mut fields, "refresh_token", &account.refresh_token);
    let expires_at = account.expires_at.map(|s| s.to_string());
    optional(&mut fields, "expires_at", &expires_at);
    optional(&mut fields, "token_type", &account.token_type);
    optional(&mut fields, "scope", &account.scope);
    optional(&mut fields, "id_token", &account.id_token);
    optional(&mut fields, "session_state", &account.session_state);
    fields
}

pub(crate) fn authenticator_fields(a: &Authenticator) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("v", RECORD_VERSION.to_owned()),
        ("credentialID", a.credential_id.clone()),
        ("userId", a.user_id.clone()),
        ("providerAccountId", a.provider_account_id.clone()),
        ("credentialPublicKey", a.credential_public_key.clone()),
        ("counter", a.counter.to_string()),
        ("credentialDeviceType", a.credential_device_type.clone()),
        ("credentialBackedUp", a.credential_backed_up.to_string()),
    ];
    optional(&mut fields, "transports", &a.transports);
    fields
}

fn optional(fields: &mut Vec<(&'static str, String)>, name: &'static str, value: &Option<String>) {
    if let Some(value) = value {
        fields.push((name, value.clone()));
    }
}

/// A stored hash, field by field. Never printed: it may hold tokens.
pub(crate) struct Record {
    kind: &'static str,
    fields: HashMap<String, String>,
}

impl Record {
    /// The hash in `value` (an `HGETALL` reply), or `None` for nil or an
    /// empty hash. Checks the record version.
    pub(crate) fn decode(kind: &'static str, value: Value) -> Result<Option<Self>> {
        let pairs: Vec<(Value, Value)> = match value {
            Value::Nil => return Ok(None),
            Value::Array(items) => {
                if items.len() % 2 != 0 {
                    return Err(malformed(kind));
                }
                let mut items = items.into_iter();
                std::iter::from_fn(|| Some((items.next()?, items.next()?))).collect()
            }
            Value::Map(pairs) => pairs,
            _ => return Err(malformed(kind)),
        };
        if pairs.is_empty() {
            return Ok(None);
        }
        let text = |v: Value| match v {
            Value::BulkString(bytes) => String::from_utf8(bytes).map_err(|_| malformed(kind)),
            Value::SimpleString(s) => Ok(s),
            _ => Err(malformed(kind)),
        };
        let mut fields = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            fields.insert(text(name)?, text(value)?);
        }
        let record = Self { kind, fields };
        match record.fields.get("v").map(String::as_str) {
            Some(RECORD_VERSION) => Ok(Some(record)),
            Some(_) => Err(AdapterError::stored_data(
                "v",
                format!(
                    "the {kind} record has a version this adapter does not read \
                     (it reads version {RECORD_VERSION})"
                ),
            )),
            None => Err(AdapterError::stored_data(
                "v",
                format!("the {kind} record has no version"),
            )),
        }
    }

    fn optional(&mut self, field: &str) -> Option<String> {
        self.fields.remove(field)
    }

    fn required(&mut self, field: &'static str) -> Result<String> {
        self.fields.remove(field).ok_or_else(|| {
            AdapterError::stored_data(field, format!("the {} record lacks it", self.kind))
        })
    }

    fn parsed<T: std::str::FromStr>(&self, field: &'static str, text: &str) -> Result<T> {
        text.parse().map_err(|_| {
            AdapterError::stored_data(
                field,
                format!("the {} record's value is not valid", self.kind),
            )
        })
    }

    fn instant(&mut self, field: &'static str) -> Result<Option<OffsetDateTime>> {
        match self.optional(field) {
            None => Ok(None),
            Some(text) => stored_instant(field, self.parsed(field, &text)?).map(Some),
        }
    }
}

pub(crate) fn decode_user(mut r: Record) -> Result<User> {
    Ok(User {
        id: r.required("id")?,
        name: r.optional("name"),
        email: r.optional("email"),
        email_verified: r.instant("emailVerified")?,
        image: r.optional("image"),
    })
}

pub(crate) fn decode_account(mut r: Record) -> Result<Account> {
    let account_type = r.required("type")?;
    let account_type: AccountType = r.parsed("type", &account_type)?;
    let expires_at = match r.optional("expires_at") {
        Some(text) => Some(r.parsed("expires_at", &text)?),
        None => None,
    };
    Ok(Account {
        user_id: r.required("userId")?,
        account_type,
        provider: r.required("provider")?,
        provider_account_id: r.required("providerAccountId")?,
        access_token: r.optional("access_token"),
        refresh_token: r.optional("refresh_token"),
        expires_at,
        token_type: r.optional("token_type"),
        scope: r.optional("scope"),
        id_token: r.optional("id_token"),
        session_state: r.optional("session_state"),
    })
}

/// A session hash; the token is the caller's (it is only in the key).
pub(crate) fn decode_session(session_token: &str, mut r: Record) -> Result<Session> {
    let expires = r.required("expires")?;
    let expires = stored_instant("expires", r.parsed("expires", &expires)?)?;
    Ok(Session {
        session_token: session_token.to_owned(),
        user_id: r.required("userId")?,
        expires,
    })
}

pub(crate) fn decode_authenticator(mut r: Record) -> Result<Authenticator> {
    let counter = r.required("counter")?;
    let backed_up = r.required("credentialBackedUp")?;
    Ok(Authenticator {
        counter: r.parsed("counter", &counter)?,
        credential_backed_up: r.parsed("credentialBackedUp", &backed_up)?,
        credential_id: r.required("credentialID")?,
        user_id: r.required("userId")?,
        provider_account_id: r.required("providerAccountId")?,
        credential_public_key: r.required("credentialPublicKey")?,
        credential_device_type: r.required("credentialDeviceType")?,
        transports: r.optional("transports"),
    })
}

/// An instant read back from storage; out of range means corrupt data.
pub(crate) fn stored_instant(field: &'static str, millis: i64) -> Result<OffsetDateTime> {
    from_unix_millis(field, millis)
        .map_err(|_| AdapterError::stored_data(field, "the instant is out of range"))
}
