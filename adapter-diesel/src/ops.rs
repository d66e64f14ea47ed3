//! The adapter's calls on one connection, written once with Diesel's query
//! builder and compiled for each backend.
//!
//! [`each!`] expands a body once per connection type: the same typed query
//! is checked by the compiler against PostgreSQL, MySQL and SQLite. Where
//! the backends differ (MySQL has no `RETURNING`), the arms are written out.

use auth_core::{
    Account, AdapterError, Authenticator, Entity, Key, NewUser, Result, Session, SessionUpdate,
    User, UserUpdate, VerificationToken, new_id,
};
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::checks::{Column, now, unstorable};
use crate::errors::{classify, write_error};
use crate::rows::{
    AccountRow, AuthenticatorRow, NewAccountRow, NewSessionRow, NewTokenRow, NewUserRow,
    SessionRow, TokenRow, UserChanges, UserRow,
};
use crate::schema::{
    Counter, Instant, accounts, authenticators, sessions, users, verification_tokens,
};
use crate::{AnyConnection, Backend, Limits};

/// Rows `purge_expired` deletes per statement.
const PURGE_BATCH: i64 = 1000;

/// Runs `$body` with `$c` bound to the concrete connection, whichever
/// backend it is: one copy of the code per backend, each type-checked.
macro_rules! each {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            AnyConnection::Postgres(inner) => {
                let $c = &mut **inner;
                $body
            }
            AnyConnection::Mysql(inner) => {
                let $c = &mut **inner;
                $body
            }
            AnyConnection::Sqlite(inner) => {
                let $c = &mut **inner;
                $body
            }
        }
    };
}

/// Like [`each!`] for the backends with `RETURNING` (PostgreSQL, SQLite),
/// with a separate body for MySQL.
macro_rules! returning_or_mysql {
    ($conn:expr, returning |$c:ident| $returning:expr, mysql |$m:ident| $mysql:expr) => {
        match $conn {
            AnyConnection::Postgres(inner) => {
                let $c = &mut **inner;
                $returning
            }
            AnyConnection::Sqlite(inner) => {
                let $c = &mut **inner;
                $returning
            }
            AnyConnection::Mysql(inner) => {
                let $m = &mut **inner;
                $mysql
            }
        }
    };
}

impl AnyConnection<'_> {
    /// The database this connection talks to.
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgres(_) => Backend::Postgres,
            AnyConnection::Mysql(_) => Backend::Mysql,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }

    // ------------------------------------------------------------- users

    pub(crate) async fn create_user(&mut self, limits: &Limits, user: NewUser) -> Result<User> {
        let b = self.backend();
        b.check("name", user.name.as_deref(), Column::Text)?;
        b.check("email", user.email.as_deref(), Column::Key)?;
        b.check("image", user.image.as_deref(), Column::Text)?;
        let email_verified = b.optional_instant("email_verified", user.email_verified)?;
        let user = NewUser {
            email_verified: email_verified.map(|t| t.0),
            ..user
        }
        .into_user(new_id());
        let row = NewUserRow::from(&user);
        each!(self, |c| diesel::insert_into(users::table)
            .values(&row)
            .execute(c)
            .await)
        .map_err(|e| write_error(e, Key::Email, None, limits))?;
        Ok(user)
    }

    pub(crate) async fn get_user(&mut self, limits: &Limits, id: &str) -> Result<Option<User>> {
        if unstorable(id) {
            return Ok(None);
        }
        let row = each!(self, |c| users::table
            .find(id)
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional())
        .map_err(|e| classify(e, limits))?;
        Ok(row.map(User::from))
    }

    pub(crate) async fn get_user_by_email(
        &mut self,
        limits: &Limits,
        email: &str,
    ) -> Result<Option<User>> {
        if unstorable(email) {
            return Ok(None);
        }
        let row = each!(self, |c| users::table
            .filter(users::email.eq(email))
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional())
        .map_err(|e| classify(e, limits))?;
        Ok(row.map(User::from))
    }

    pub(crate) async fn get_user_by_account(
        &mut self,
        limits: &Limits,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        if unstorable(provider) || unstorable(provider_account_id) {
            return Ok(None);
        }
        let row = each!(self, |c| accounts::table
            .inner_join(users::table)
            .filter(accounts::provider.eq(provider))
            .filter(accounts::provider_account_id.eq(provider_account_id))
            .select(UserRow::as_select())
            .first(c)
            .await
            .optional())
        .map_err(|e| classify(e, limits))?;
        Ok(row.map(User::from))
    }

    pub(crate) async fn update_user(
        &mut self,
        limits: &Limits,
        update: UserUpdate,
    ) -> Result<User> {
        let b = self.backend();
        fn set(field: &Option<Option<String>>) -> Option<Option<&str>> {
            field.as_ref().map(|v| v.as_deref())
        }
        let changes = UserChanges {
            name: set(&update.name),
            email: set(&update.email),
            email_verified: match update.email_verified {
                Some(value) => Some(b.optional_instant("email_verified", value)?),
                None => None,
            },
            image: set(&update.image),
        };
        b.check("name", changes.name.flatten(), Column::Text)?;
        b.check("email", changes.email.flatten(), Column::Key)?;
        b.check("image", changes.image.flatten(), Column::Text)?;
        let id = update.id.as_str();
        if unstorable(id) {
            return Err(AdapterError::user_not_found(id));
        }
        let row = if changes.is_empty() {
            // Nothing to set (Diesel refuses an empty `SET`): the user as it is.
            each!(self, |c| users::table
                .find(id)
                .select(UserRow::as_select())
                .first(c)
                .await
                .optional())
            .map_err(|e| classify(e, limits))?
        } else {
            returning_or_mysql!(
                self,
                returning
                    | c
                    | diesel::update(users::table.find(id))
                        .set(&changes)
                        .returning(UserRow::as_returning())
                        .get_result(c)
                        .await
                        .optional(),
                mysql
                    | c
                    | c.transaction::<_, DieselError, _>(async move |c| {
                        diesel::update(users::table.find(id))
                            .set(&changes)
                            .execute(c)
                            .await?;
                        users::table
                            .find(id)
                            .select(UserRow::as_select())
                            .first(c)
                            .await
                            .optional()
                    })
                    .await
            )
            .map_err(|e| write_error(e, Key::Email, None, limits))?
        };
        row.map(User::from)
            .ok_or_else(|| AdapterError::user_not_found(id))
    }

    pub(crate) async fn delete_user(&mut self, limits: &Limits, id: &str) -> Result<Option<User>> {
        if unstorable(id) {
            return Ok(None);
        }
        // The foreign keys cascade to accounts, sessions and authenticators
        // inside the one `DELETE`: all or nothing.
        let row = returning_or_mysql!(
            self,
            returning
                | c
                | diesel::delete(users::table.find(id))
                    .returning(UserRow::as_returning())
                    .get_result(c)
                    .await
                    .optional(),
            // No `RETURNING`: read the row under a lock, then delete it in the
            // same transaction. The lock keeps new sessions, accounts and
            // authenticators of this user waiting on their foreign-key check
            // until the cascade commits; then they fail as NotFound.
            mysql
                | c
                | c.transaction::<_, DieselError, _>(async move |c| {
                    let row = users::table
                        .find(id)
                        .select(UserRow::as_select())
                        .for_update()
                        .first(c)
                        .await
                        .optional()?;
                    if row.is_some() {
                        diesel::delete(users::table.find(id)).execute(c).await?;
                    }
                    Ok(row)
                })
                .await
        )
        .map_err(|e| classify(e, limits))?;
        Ok(row.map(User::from))
    }

    // ---------------------------------------------------------- accounts

    pub(crate) async fn link_account(
        &mut self,
        limits: &Limits,
        account: Account,
    ) -> Result<Account> {
        let b = self.backend();
        b.check("user_id", account.user_id.as_str(), Column::Key)?;
        b.check_pair(
            ("provider", &account.provider),
            ("provider_account_id", &account.provider_account_id),
        )?;
        b.check(
            "refresh_token",
            account.refresh_token.as_deref(),
            Column::Text,
        )?;
        b.check(
            "access_token",
            account.access_token.as_deref(),
            Column::Text,
        )?;
        b.check("token_type", account.token_type.as_deref(), Column::Short)?;
        b.check("scope", account.scope.as_deref(), Column::Text)?;
        b.check("id_token", account.id_token.as_deref(), Column::Text)?;
        b.check(
            "session_state",
            account.session_state.as_deref(),
            Column::Text,
        )?;
        let row = NewAccountRow::from(&account);
        each!(self, |c| diesel::insert_into(accounts::table)
            .values(&row)
            .execute(c)
            .await)
        .map_err(|e| write_error(e, Key::ProviderAccountId, Some(&account.user_id), limits))?;
        Ok(account)
    }

    pub(crate) async fn unlink_account(
        &mut self,
        limits: &Limits,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        if unstorable(provider) || unstorable(provider_account_id) {
            return Ok(None);
        }
        let the_account = || {
            accounts::table
                .filter(accounts::provider.eq(provider))
                .filter(accounts::provider_account_id.eq(provider_account_id))
        };
        let row = returning_or_mysql!(
            self,
            returning
                | c
                | diesel::delete(the_account())
                    .returning(AccountRow::as_returning())
                    .get_result(c)
                    .await
                    .optional(),
            mysql
                | c
                | c.transaction::<_, DieselError, _>(async move |c| {
                    let row = the_account()
                        .select(AccountRow::as_select())
                        .for_update()
                        .first(c)
                        .await
                        .optional()?;
                    if row.is_some() {
                        diesel::delete(the_account()).execute(c).await?;
                    }
                    Ok(row)
                })
                .await
        )
        .map_err(|e| classify(e, limits))?;
        row.map(Account::try_from).transpose()
    }

    pub(crate) async fn get_account(
        &mut self,
        limits: &Limits,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        if unstorable(provider) || unstorable(provider_account_id) {
            return Ok(None);
        }
        let row = each!(self, |c| accounts::table
            .filter(accounts::provider.eq(provider))
            .filter(accounts::provider_account_id.eq(provider_account_id))
            .select(AccountRow::as_select())
            .first(c)
            .await
            .optional())
        .map_err(|e| classify(e, limits))?;
        row.map(Account::try_from).transpose()
    }

    pub(crate) async fn list_accounts_by_user_id(
        &mut self,
        limits: &Limits,
        user_id: &str,
    ) -> Result<Vec<Account>> {
        if unstorable(user_id) {
            return Ok(Vec::new());
        }
        // On "Account_userId_idx".
        let rows = each!(self, |c| accounts::table
            .filter(accounts::user_id.eq(user_id))
            .select(AccountRow::as_select())
            .load(c)
            .await)
        .map_err(|e| classify(e, limits))?;
        rows.into_iter().map(Account::try_from).collect()
    }

    // ---------------------------------------------------------- sessions

    pub(crate) async fn create_session(
        &mut self,
        limits: &Limits,
        session: Session,
    ) -> Result<Session> {
        let b = self.backend();
        b.check("session_token", session.session_token.as_str(), Column::Key)?;
        b.check("user_id", session.user_id.as_str(), Column::Key)?;
        let expires = b.instant("expires", session.expires)?;
        let row = NewSessionRow {
            session_token: &session.session_token,
            user_id: &session.user_id,
            expires,
        };
        each!(self, |c| diesel::insert_into(sessions::table)
            .values(&row)
            .execute(c)
            .await)
        .map_err(|e| write_error(e, Key::SessionToken, Some(&session.user_id), limits))?;
        Ok(Session {
            expires: expires.0,
            ..session
        })
    }

    pub(crate) async fn get_session_and_user(
        &mut self,
        limits: &Limits,
        session_token: &str,
    ) -> Result<Option<(Session, User)>> {
        if unstorable(session_token) {
            return Ok(None);
        }
        // One round trip: the session joined to its user, unexpired by the
        // caller's clock.
        let now = now();
        let row = each!(self, |c| sessions::table
            .inner_join(users::table)
            .filter(sessions::session_token.eq(session_token))
            .filter(sessions::expires.gt(now))
            .select((sessions::expires, UserRow::as_select()))
            .first::<(Instant, UserRow)>(c)
            .await
            .optional())
        .map_err(|e| classify(e, limits))?;
        Ok(row.map(|(expires, user)| {
            let user = User::from(user);
            let session = Session {
                session_token: session_token.to_owned(),
                user_id: user.id.clone(),
                expires: expires.0,
            };
            (session, user)
        }))
    }

    pub(crate) async fn update_session(
        &mut self,
        limits: &Limits,
        update: SessionUpdate,
    ) -> Result<Option<Session>> {
        let b = self.backend();
        b.check("user_id", update.user_id.as_deref(), Column::Key)?;
        let expires = b.optional_instant("expires", update.expires)?;
        let token = update.session_token.as_str();
        let new_owner = update.user_id.as_deref();
        if unstorable(token) {
            return Ok(None);
        }
        // An expired session (by the caller's clock) is not updated: it
        // cannot be revived, exactly as it cannot be read.
        let now = now();
        let live = || {
            sessions::table
                .filter(sessions::session_token.eq(token))
                .filter(sessions::expires.gt(now))
        };
        let changes = (
            expires.map(|t| sessions::expires.eq(t)),
            new_owner.map(|id| sessions::user_id.eq(id)),
        );
        let nothing_to_set = expires.is_none() && new_owner.is_none();
        let row = if nothing_to_set {
            each!(self, |c| live()
                .select(SessionRow::as_select())
                .first(c)
                .await
                .optional())
        } else {
            returning_or_mysql!(
                self,
                returning
                    | c
                    | diesel::update(live())
                        .set(changes)
                        .returning(SessionRow::as_returning())
                        .get_result(c)
                        .await
                        .optional(),
                // No `RETURNING`: lock the live row, then change it.
                mysql
                    | c
                    | c.transaction::<_, DieselError, _>(async move |c| {
                        let Some(row) = live()
                            .select(SessionRow::as_select())
                            .for_update()
                            .first(c)
                            .await
                            .optional()?
                        else {
                            return Ok(None);
                        };
                        diesel::update(sessions::table.filter(sessions::session_token.eq(token)))
                            .set(changes)
                            .execute(c)
                            .await?;
                        Ok(Some(SessionRow {
                            session_token: row.session_token,
                            user_id: new_owner.map_or(row.user_id, str::to_owned),
                            expires: expires.unwrap_or(row.expires),
                        }))
                    })
                    .await
            )
        }
        .map_err(|e| write_error(e, Key::SessionToken, new_owner, limits))?;
        Ok(row.map(Session::from))
    }

    pub(crate) async fn delete_session(
        &mut self,
        limits: &Limits,
        session_token: &str,
    ) -> Result<Option<Session>> {
        if unstorable(session_token) {
            return Ok(None);
        }
        let the_session = || sessions::table.filter(sessions::session_token.eq(session_token));
        let row = returning_or_mysql!(
            self,
            returning
                | c
                | diesel::delete(the_session())
                    .returning(SessionRow::as_returning())
                    .get_result(c)
                    .await
                    .optional(),
            mysql
                | c
                | c.transaction::<_, DieselError, _>(async move |c| {
                    let row = the_session()
                        .select(SessionRow::as_select())
                        .for_update()
                        .first(c)
                        .await
                        .optional()?;
                    if row.is_some() {
                        diesel::delete(the_session()).execute(c).await?;
                    }
                    Ok(row)
                })
                .await
        )
        .map_err(|e| classify(e, limits))?;
        Ok(row.map(Session::from))
    }

    pub(crate) async fn list_sessions_by_user_id(
        &mut self,
        limits: &Limits,
        user_id: &str,
    ) -> Result<Vec<Session>> {
        if unstorable(user_id) {
            return Ok(Vec::new());
        }
        // On "Session_userId_idx"; expiry by the caller's clock.
        let now = now();
        let rows = each!(self, |c| sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::expires.gt(now))
            .select(SessionRow::as_select())
            .load(c)
            .await)
        .map_err(|e| classify(e, limits))?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    // ----------------------------------------------- verification tokens

    pub(crate) async fn create_verification_token(
        &mut self,
        limits: &Limits,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        let b = self.backend();
        b.check_pair(("identifier", &token.identifier), ("token", &token.token))?;
        let expires = b.instant("expires", token.expires)?;
        let row = NewTokenRow {
            identifier: &token.identifier,
            token: &token.token,
            expires,
        };
        // The schema makes `token` unique on its own too: either key taken
        // is a conflict on the token.
        each!(self, |c| diesel::insert_into(verification_tokens::table)
            .values(&row)
            .execute(c)
            .await)
        .map_err(|e| write_error(e, Key::Token, None, limits))?;
        Ok(VerificationToken {
            expires: expires.0,
            ..token
        })
    }

    pub(crate) async fn use_verification_token(
        &mut self,
        limits: &Limits,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        if unstorable(identifier) || unstorable(token) {
            return Ok(None);
        }
        let now = now();
        let the_token = || {
            verification_tokens::table
                .filter(verification_tokens::identifier.eq(identifier))
                .filter(verification_tokens::token.eq(token))
        };
        // Deleting is the claim: of concurrent calls only one gets the row.
        let row = returning_or_mysql!(
            self,
            returning
                | c
                | diesel::delete(the_token())
                    .returning(TokenRow::as_returning())
                    .get_result(c)
                    .await
                    .optional(),
            // The row lock makes the others wait, then find it gone.
            mysql
                | c
                | c.transaction::<_, DieselError, _>(async move |c| {
                    let row = the_token()
                        .select(TokenRow::as_select())
                        .for_update()
                        .first(c)
                        .await
                        .optional()?;
                    if row.is_some() {
                        diesel::delete(the_token()).execute(c).await?;
                    }
                    Ok(row)
                })
                .await
        )
        .map_err(|e| classify(e, limits))?;
        // An expired token is deleted all the same, and reported as none.
        Ok(row
            .filter(|row| row.expires > now)
            .map(|row| VerificationToken {
                identifier: row.identifier,
                token: row.token,
                expires: row.expires.0,
            }))
    }

    // ---------------------------------------------------- authenticators

    pub(crate) async fn create_authenticator(
        &mut self,
        limits: &Limits,
        authenticator: Authenticator,
    ) -> Result<Authenticator> {
        let b = self.backend();
        let a = &authenticator;
        b.check_pair(("user_id", &a.user_id), ("credential_id", &a.credential_id))?;
        b.check(
            "provider_account_id",
            a.provider_account_id.as_str(),
            Column::Short,
        )?;
        b.check(
            "credential_public_key",
            a.credential_public_key.as_str(),
            Column::Text,
        )?;
        b.check(
            "credential_device_type",
            a.credential_device_type.as_str(),
            Column::Short,
        )?;
        b.check("transports", a.transports.as_deref(), Column::Text)?;
        let row = AuthenticatorRow::from(a);
        each!(self, |c| diesel::insert_into(authenticators::table)
            .values(&row)
            .execute(c)
            .await)
        .map_err(|e| write_error(e, Key::CredentialId, Some(&a.user_id), limits))?;
        Ok(authenticator)
    }

    pub(crate) async fn get_authenticator(
        &mut self,
        limits: &Limits,
        credential_id: &str,
    ) -> Result<Option<Authenticator>> {
        if unstorable(credential_id) {
            return Ok(None);
        }
        let row = each!(self, |c| authenticators::table
            .filter(authenticators::credential_id.eq(credential_id))
            .select(AuthenticatorRow::as_select())
            .first(c)
            .await
            .optional())
        .map_err(|e| classify(e, limits))?;
        Ok(row.map(Authenticator::from))
    }

    pub(crate) async fn list_authenticators_by_user_id(
        &mut self,
        limits: &Limits,
        user_id: &str,
    ) -> Result<Vec<Authenticator>> {
        if unstorable(user_id) {
            return Ok(Vec::new());
        }
        let rows = each!(self, |c| authenticators::table
            .filter(authenticators::user_id.eq(user_id))
            .select(AuthenticatorRow::as_select())
            .load(c)
            .await)
        .map_err(|e| classify(e, limits))?;
        Ok(rows.into_iter().map(Authenticator::from).collect())
    }

    pub(crate) async fn update_authenticator_counter(
        &mut self,
        limits: &Limits,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator> {
        let not_found = || AdapterError::not_found(Entity::Authenticator, "no such credential id");
        if unstorable(credential_id) {
            return Err(not_found());
        }
        let the_credential =
            || authenticators::table.filter(authenticators::credential_id.eq(credential_id));
        let row = returning_or_mysql!(
            self,
            returning
                | c
                | diesel::update(the_credential())
                    .set(authenticators::counter.eq(Counter(counter)))
                    .returning(AuthenticatorRow::as_returning())
                    .get_result(c)
                    .await
                    .optional(),
            mysql
                | c
                | c.transaction::<_, DieselError, _>(async move |c| {
                    diesel::update(the_credential())
                        .set(authenticators::counter.eq(Counter(counter)))
                        .execute(c)
                        .await?;
                    the_credential()
                        .select(AuthenticatorRow::as_select())
                        .first(c)
                        .await
                        .optional()
                })
                .await
        )
        .map_err(|e| classify(e, limits))?;
        row.map(Authenticator::from).ok_or_else(not_found)
    }

    // ------------------------------------------------------------- purge

    pub(crate) async fn purge_expired(&mut self, limits: &Limits) -> Result<u64> {
        // Bounded batches keep each statement's locks small. The `expires`
        // test is repeated in the `DELETE`, so a session extended meanwhile
        // survives. Two statements per batch because MySQL allows no
        // `LIMIT` in an `IN` subquery (and Diesel has no `DELETE ... LIMIT`).
        let now = now();
        let mut purged = 0u64;
        loop {
            let batch: Vec<String> = each!(self, |c| sessions::table
                .filter(sessions::expires.le(now))
                .select(sessions::session_token)
                .limit(PURGE_BATCH)
                .load(c)
                .await)
            .map_err(|e| classify(e, limits))?;
            if batch.is_empty() {
                break;
            }
            let full = batch.len() as i64 == PURGE_BATCH;
            let deleted = each!(self, |c| diesel::delete(
                sessions::table
                    .filter(sessions::session_token.eq_any(&batch))
                    .filter(sessions::expires.le(now))
            )
            .execute(c)
            .await)
            .map_err(|e| classify(e, limits))?;
            purged += deleted as u64;
            if !full {
                break;
            }
        }
        loop {
            // `token` is unique on its own in this schema.
            let batch: Vec<String> = each!(self, |c| verification_tokens::table
                .filter(verification_tokens::expires.le(now))
                .select(verification_tokens::token)
                .limit(PURGE_BATCH)
                .load(c)
                .await)
            .map_err(|e| classify(e, limits))?;
            if batch.is_empty() {
                break;
            }
            let full = batch.len() as i64 == PURGE_BATCH;
            let deleted = each!(self, |c| diesel::delete(
                verification_tokens::table
                    .filter(verification_tokens::token.eq_any(&batch))
                    .filter(verification_tokens::expires.le(now))
            )
            .execute(c)
            .await)
            .map_err(|e| classify(e, limits))?;
            purged += deleted as u64;
            if !full {
                break;
            }
        }
        Ok(purged)
    }
}
