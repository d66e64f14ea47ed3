//! Rows as Diesel reads and writes them, and their conversions to and from
//! the `auth-core` models.

use auth_core::{Account, AccountType, AdapterError, Authenticator, Session, User};
use diesel::prelude::*;

use crate::schema::{
    Counter, Instant, accounts, authenticators, sessions, users, verification_tokens,
};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<Instant>,
    pub image: Option<String>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            name: row.name,
            email: row.email,
            email_verified: row.email_verified.map(|t| t.0),
            image: row.image,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub(crate) struct NewUserRow<'a> {
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: Option<Instant>,
    pub image: Option<&'a str>,
}

impl<'a> From<&'a User> for NewUserRow<'a> {
    fn from(user: &'a User) -> Self {
        NewUserRow {
            id: &user.id,
            name: user.name.as_deref(),
            email: user.email.as_deref(),
            email_verified: user.email_verified.map(Instant),
            image: user.image.as_deref(),
        }
    }
}

/// The fields `update_user` sets: `None` leaves a column alone, `Some(None)`
/// clears it.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChanges<'a> {
    pub name: Option<Option<&'a str>>,
    pub email: Option<Option<&'a str>>,
    pub email_verified: Option<Option<Instant>>,
    pub image: Option<Option<&'a str>>,
}

impl UserChanges<'_> {
    /// `true` when the update sets nothing (Diesel refuses an empty `SET`).
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.email.is_none()
            && self.email_verified.is_none()
            && self.image.is_none()
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountRow {
    pub user_id: String,
    pub account_type: String,
    pub provider: String,
    pub provider_account_id: String,
    pub refresh_token: Option<String>,
    pub access_token: Option<String>,
    pub expires_at: Option<i64>,
    pub token_type: Option<String>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
    pub session_state: Option<String>,
}

impl TryFrom<AccountRow> for Account {
    type Error = AdapterError;

    fn try_from(row: AccountRow) -> Result<Self, AdapterError> {
        Ok(Account {
            user_id: row.user_id,
            // An unknown stored type is corrupt data, not caller input.
            account_type: row
                .account_type
                .parse::<AccountType>()
                .map_err(|e| AdapterError::stored_data("type", e.to_string()))?,
            provider: row.provider,
            provider_account_id: row.provider_account_id,
            refresh_token: row.refresh_token,
            access_token: row.access_token,
            expires_at: row.expires_at,
            token_type: row.token_type,
            scope: row.scope,
            id_token: row.id_token,
            session_state: row.session_state,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
pub(crate) struct NewAccountRow<'a> {
    pub user_id: &'a str,
    pub account_type: &'a str,
    pub provider: &'a str,
    pub provider_account_id: &'a str,
    pub refresh_token: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub expires_at: Option<i64>,
    pub token_type: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub id_token: Option<&'a str>,
    pub session_state: Option<&'a str>,
}

impl<'a> From<&'a Account> for NewAccountRow<'a> {
    fn from(a: &'a Account) -> Self {
        NewAccountRow {
            user_id: &a.user_id,
            account_type: a.account_type.as_str(),
            provider: &a.provider,
            provider_account_id: &a.provider_account_id,
            refresh_token: a.refresh_token.as_deref(),
            access_token: a.access_token.as_deref(),
            expires_at: a.expires_at,
            token_type: a.token_type.as_deref(),
            scope: a.scope.as_deref(),
            id_token: a.id_token.as_deref(),
            session_state: a.session_state.as_deref(),
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    pub session_token: String,
    pub user_id: String,
    pub expires: Instant,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Session {
            session_token: row.session_token,
            user_id: row.user_id,
            expires: row.expires.0,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub(crate) struct NewSessionRow<'a> {
    pub session_token: &'a str,
    pub user_id: &'a str,
    pub expires: Instant,
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = verification_tokens)]
pub(crate) struct TokenRow {
    pub identifier: String,
    pub token: String,
    pub expires: Instant,
}

#[derive(Insertable)]
#[diesel(table_name = verification_tokens)]
pub(crate) struct NewTokenRow<'a> {
    pub identifier: &'a str,
    pub token: &'a str,
    pub expires: Instant,
}

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = authenticators)]
pub(crate) struct AuthenticatorRow {
    pub credential_id: String,
    pub user_id: String,
    pub provider_account_id: String,
    pub credential_public_key: String,
    pub counter: Counter,
    pub credential_device_type: String,
    pub credential_backed_up: bool,
    pub transports: Option<String>,
}

impl From<AuthenticatorRow> for Authenticator {
    fn from(row: AuthenticatorRow) -> Self {
        Authenticator {
            credential_id: row.credential_id,
            user_id: row.user_id,
            provider_account_id: row.provider_account_id,
            credential_public_key: row.credential_public_key,
            counter: row.counter.0,
            credential_device_type: row.credential_device_type,
            credential_backed_up: row.credential_backed_up,
            transports: row.transports,
        }
    }
}

impl From<&Authenticator> for AuthenticatorRow {
    fn from(a: &Authenticator) -> Self {
        AuthenticatorRow {
            credential_id: a.credential_id.clone(),
            user_id: a.user_id.clone(),
            provider_account_id: a.provider_account_id.clone(),
            credential_public_key: a.credential_public_key.clone(),
            counter: Counter(a.counter),
            credential_device_type: a.credential_device_type.clone(),
            credential_backed_up: a.credential_backed_up,
            transports: a.transports.clone(),
        }
    }
}
