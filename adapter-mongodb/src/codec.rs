//! Values to BSON and back, in the layout of the Auth.js MongoDB adapter
//! (see the crate README's "Layout"). Stored values that do not fit the
//! model are [`AdapterError::stored_data`] errors naming the field, never
//! the value.

use auth_core::timestamp::{from_unix_millis, parse_iso, to_unix_millis, truncate_to_millis};
use auth_core::{
    Account, AccountType, AdapterError, Authenticator, Result, Session, User, VerificationToken,
};
use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document};
use time::OffsetDateTime;

use crate::{ACCOUNTS, AUTHENTICATORS, SESSIONS, USERS, VERIFICATION_TOKENS};

// ------------------------------------------------------- values to BSON

/// An id we issued: exactly 24 lowercase hex digits (the form
/// `ObjectId::to_hex` writes, so lookups stay exact). Anything else names no
/// record.
pub(crate) fn parse_id(id: &str) -> Option<ObjectId> {
    let well_formed = id.len() == 24 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    well_formed.then(|| ObjectId::parse_str(id).ok()).flatten()
}

/// A BSON date, truncated to the millisecond.
pub(crate) fn date(instant: OffsetDateTime) -> DateTime {
    DateTime::from_millis(to_unix_millis(truncate_to_millis(instant)))
}

pub(crate) fn opt_date(instant: Option<OffsetDateTime>) -> Bson {
    instant.map_or(Bson::Null, |t| Bson::DateTime(date(t)))
}

pub(crate) fn opt_str(value: &Option<String>) -> Bson {
    value.clone().map_or(Bson::Null, Bson::String)
}

/// Prisma stores `Int` as a 32-bit integer; counters above `i32::MAX` (valid
/// in WebAuthn) become 64-bit so that they are kept exactly.
pub(crate) fn counter(value: u32) -> Bson {
    i32::try_from(value).map_or(Bson::Int64(i64::from(value)), Bson::Int32)
}

// ------------------------------------------------------- BSON to values

/// A stored value of the wrong BSON type.
fn corrupt(collection: &str, field: &'static str, found: &Bson) -> AdapterError {
    AdapterError::stored_data(
        field,
        format!(
            "in `{collection}`, has an unexpected type ({:?})",
            found.element_type()
        ),
    )
}

/// A required field that is missing (or `null`).
fn missing(collection: &str, field: &'static str) -> AdapterError {
    AdapterError::stored_data(field, format!("in `{collection}`, is missing"))
}

/// `None` for a missing field or `null`: Auth.js writes both.
fn field<'d>(record: &'d Document, name: &str) -> Option<&'d Bson> {
    record.get(name).filter(|v| !matches!(v, Bson::Null))
}

fn opt_string(collection: &str, record: &Document, name: &'static str) -> Result<Option<String>> {
    match field(record, name) {
        None => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(corrupt(collection, name, other)),
    }
}

fn string(collection: &str, record: &Document, name: &'static str) -> Result<String> {
    opt_string(collection, record, name)?.ok_or_else(|| missing(collection, name))
}

/// A date as MongoDB stores it; ISO-8601 text is read too.
fn opt_instant(
    collection: &str,
    record: &Document,
    name: &'static str,
) -> Result<Option<OffsetDateTime>> {
    match field(record, name) {
        None => Ok(None),
        Some(Bson::DateTime(d)) => from_unix_millis(name, d.timestamp_millis())
            .map(Some)
            .map_err(|_| {
                AdapterError::stored_data(name, format!("in `{collection}`, is out of range"))
            }),
        Some(Bson::String(text)) => parse_iso(text).map(Some).map_err(|_| {
            AdapterError::stored_data(name, format!("in `{collection}`, is not ISO-8601 text"))
        }),
        Some(other) => Err(corrupt(collection, name, other)),
    }
}

fn instant(collection: &str, record: &Document, name: &'static str) -> Result<OffsetDateTime> {
    opt_instant(collection, record, name)?.ok_or_else(|| missing(collection, name))
}

/// An integer stored as int32, int64 or an integral double (JavaScript
/// numbers beyond int32 are stored as doubles by the Node.js driver).
pub(crate) fn number(value: Option<&Bson>) -> Option<i64> {
    match value? {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        Bson::Double(f) if f.fract() == 0.0 && f.abs() < 9.3e18 => Some(*f as i64),
        _ => None,
    }
}

/// An id: the hex of an ObjectId, or a string id written by other code.
fn id(collection: &str, record: &Document, name: &'static str) -> Result<String> {
    match record.get(name) {
        Some(Bson::ObjectId(oid)) => Ok(oid.to_hex()),
        Some(Bson::String(s)) => Ok(s.clone()),
        Some(other) => Err(corrupt(collection, name, other)),
        None => Err(missing(collection, name)),
    }
}

/// The document a `$lookup` + `$unwind` put under `name`.
pub(crate) fn sub_document<'d>(record: &'d Document, name: &'static str) -> Result<&'d Document> {
    record
        .get_document(name)
        .map_err(|_| AdapterError::stored_data(name, "the joined document is missing"))
}

pub(crate) fn read_user(record: &Document) -> Result<User> {
    Ok(User {
        id: id(USERS, record, "_id")?,
        name: opt_string(USERS, record, "name")?,
        email: opt_string(USERS, record, "email")?,
        email_verified: opt_instant(USERS, record, "emailVerified")?,
        image: opt_string(USERS, record, "image")?,
    })
}

pub(crate) fn read_account(record: &Document) -> Result<Account> {
    let s = |name| opt_string(ACCOUNTS, record, name);
    let account_type: AccountType = string(ACCOUNTS, record, "type")?.parse().map_err(|_| {
        AdapterError::stored_data("type", format!("in `{ACCOUNTS}`, is not an account type"))
    })?;
    let expires_at = match field(record, "expires_at") {
        None => None,
        Some(value) => {
            Some(number(Some(value)).ok_or_else(|| corrupt(ACCOUNTS, "expires_at", value))?)
        }
    };
    Ok(Account {
        user_id: id(ACCOUNTS, record, "userId")?,
        account_type,
        provider: string(ACCOUNTS, record, "provider")?,
        provider_account_id: string(ACCOUNTS, record, "providerAccountId")?,
        access_token: s("access_token")?,
        refresh_token: s("refresh_token")?,
        expires_at,
        token_type: s("token_type")?,
        scope: s("scope")?,
        id_token: s("id_token")?,
        session_state: s("session_state")?,
    })
}

pub(crate) fn read_session(record: &Document) -> Result<Session> {
    Ok(Session {
        session_token: string(SESSIONS, record, "sessionToken")?,
        user_id: id(SESSIONS, record, "userId")?,
        expires: instant(SESSIONS, record, "expires")?,
    })
}

pub(crate) fn read_verification_token(record: &Document) -> Result<VerificationToken> {
    Ok(VerificationToken {
        identifier: string(VERIFICATION_TOKENS, record, "identifier")?,
        token: string(VERIFICATION_TOKENS, record, "token")?,
        expires: instant(VERIFICATION_TOKENS, record, "expires")?,
    })
}

pub(crate) fn read_authenticator(record: &Document) -> Result<Authenticator> {
    let s = |name| string(AUTHENTICATORS, record, name);
    let counter = field(record, "counter").unwrap_or(&Bson::Null);
    let counter = number(Some(counter))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| corrupt(AUTHENTICATORS, "counter", counter))?;
    let backed_up = match field(record, "credentialBackedUp") {
        Some(Bson::Boolean(b)) => *b,
        other => {
            return Err(corrupt(
                AUTHENTICATORS,
                "credentialBackedUp",
                other.unwrap_or(&Bson::Null),
            ));
        }
    };
    Ok(Authenticator {
        credential_id: s("credentialID")?,
        user_id: id(AUTHENTICATORS, record, "userId")?,
        provider_account_id: s("providerAccountId")?,
        credential_public_key: s("credentialPublicKey")?,
        counter,
        credential_device_type: s("credentialDeviceType")?,
        credential_backed_up: backed_up,
        transports: opt_string(AUTHENTICATORS, record, "transports")?,
    })
}
