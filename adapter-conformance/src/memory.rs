//! An in-memory reference adapter: the smallest complete implementation of
//! the contract, and the worked example of writing your own adapter.
//!
//! It keeps everything in hash maps behind one mutex, so each call is atomic
//! by construction; a database adapter gets the same guarantees from unique
//! indexes, foreign keys with `ON DELETE CASCADE`, single statements and
//! transactions. It passes the whole suite (see `tests/memory.rs`):
//!
//! ```
//! use adapter_conformance::memory::MemoryAdapter;
//! use auth_core::{Adapter, NewUser};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let adapter = MemoryAdapter::new();
//! let user = adapter
//!     .create_user(NewUser { email: Some("ada@example.com".into()), ..NewUser::default() })
//!     .await?;
//! assert_eq!(adapter.get_user_by_email("ada@example.com").await?, Some(user));
//! # Ok::<(), auth_core::AdapterError>(())
//! # }).unwrap();
//! ```
//!
//! It is not meant for production: nothing survives a restart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, NewUser, Result, Session, SessionUpdate, User,
    UserUpdate, VerificationToken,
};
use time::OffsetDateTime;

#[derive(Default)]
struct State {
    users: HashMap<String, User>,
    /// email → user id: the unique index on `User.email`.
    emails: HashMap<String, String>,
    /// (provider, provider_account_id) → account.
    accounts: HashMap<(String, String), Account>,
    sessions: HashMap<String, Session>,
    /// (identifier, token) → token.
    tokens: HashMap<(String, String), VerificationToken>,
    authenticators: HashMap<String, Authenticator>,
}

/// A deliberate defect, to prove that the suite catches it. Only for the
/// suite's own tests.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `use_verification_token` reads, yields, then deletes: two callers can
    /// both get the token.
    NonAtomicTokenUse,
    /// `delete_user` leaves accounts, sessions and authenticators behind.
    NoCascadeOnDelete,
    /// `get_session_and_user` ignores `expires`.
    ServesExpiredSessions,
    /// `get_user_by_email` compares lowercased addresses.
    CaseFoldedEmailLookup,
    /// `create_user` checks the email, yields, then inserts.
    NonAtomicEmailClaim,
    /// `use_verification_token` matches the token only.
    IgnoresTokenIdentifier,
    /// An expired verification token is refused but not deleted.
    KeepsExpiredTokens,
    /// Sessions, accounts and authenticators are stored for unknown users.
    NoUserCheck,
    /// Instants are stored to the second.
    SecondPrecision,
    /// `update_user` clears the fields it was not asked to change.
    UpdateClearsUnsetFields,
    /// `update_user` keeps the old email in the index.
    StaleEmailIndex,
}

/// The in-memory reference adapter. See the [module docs](self).
#[derive(Default)]
pub struct MemoryAdapter {
    state: Mutex<State>,
    next_id: AtomicU64,
    fault: Option<Fault>,
}

impl MemoryAdapter {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store with one deliberate defect.
    #[doc(hidden)]
    pub fn with_fault(fault: Fault) -> Self {
        Self {
            fault: Some(fault),
            ..Self::default()
        }
    }

    /// Whether a session row with this token exists, expired or not: the
    /// "raw lookup" ceiling of the benchmark.
    pub fn raw_session_exists(&self, session_token: &str) -> bool {
        self.lock().sessions.contains_key(session_token)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change:
        // every method validates before it mutates.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn has(&self, fault: Fault) -> bool {
        self.fault == Some(fault)
    }

    fn instant(&self, t: OffsetDateTime) -> OffsetDateTime {
        let t = truncate_to_millis(t);
        if self.has(Fault::SecondPrecision) {
            t.replace_millisecond(0).expect("0 ms is valid")
        } else {
            t
        }
    }

    fn check_user(&self, state: &State, user_id: &str) -> Result<()> {
        if self.has(Fault::NoUserCheck) || state.users.contains_key(user_id) {
            Ok(())
        } else {
            Err(AdapterError::not_found("user", format!("id {user_id:?}")))
        }
    }
}

fn key(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[async_trait]
impl Adapter for MemoryAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        if self.has(Fault::NonAtomicEmailClaim) {
            let taken = user
                .email
                .as_ref()
                .is_some_and(|e| self.lock().emails.contains_key(e));
            if taken {
                return Err(AdapterError::conflict("user", "email"));
            }
            tokio::task::yield_now().await;
        }
        let mut state = self.lock();
        if let Some(email) = &user.email
            && state.emails.contains_key(email)
            && !self.has(Fault::NonAtomicEmailClaim)
        {
            return Err(AdapterError::conflict("user", "email"));
        }
        let id = format!("user-{}", self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let mut user = user.into_user(id.clone());
        user.email_verified = user.email_verified.map(|t| self.instant(t));
        if let Some(email) = &user.email {
            state.emails.insert(email.clone(), id.clone());
        }
        state.users.insert(id, user.clone());
        Ok(user)
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let state = self.lock();
        if self.has(Fault::CaseFoldedEmailLookup) {
            let email = email.to_lowercase();
            let found = state
                .users
                .values()
                .find(|u| u.email.as_ref().is_some_and(|e| e.to_lowercase() == email));
            return Ok(found.cloned());
        }
        Ok(state
            .emails
            .get(email)
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        let state = self.lock();
        Ok(state
            .accounts
            .get(&key(provider, provider_account_id))
            .and_then(|a| state.users.get(&a.user_id))
            .cloned())
    }

    async fn update_user(&self, update: UserUpdate) -> Result<User> {
        let mut state = self.lock();
        let Some(current) = state.users.get(&update.id).cloned() else {
            return Err(AdapterError::not_found(
                "user",
                format!("id {:?}", update.id),
            ));
        };
        let mut user = current.clone();
        if self.has(Fault::UpdateClearsUnsetFields) {
            user = User {
                id: user.id,
                name: None,
                email: None,
                email_verified: None,
                image: None,
            };
        }
        update.apply_to(&mut user);
        user.email_verified = user.email_verified.map(|t| self.instant(t));
        if user.email != current.email {
            if let Some(email) = &user.email
                && state
                    .emails
                    .get(email)
                    .is_some_and(|owner| *owner != user.id)
            {
                return Err(AdapterError::conflict("user", "email"));
            }
            if let Some(old) = &current.email
                && !self.has(Fault::StaleEmailIndex)
            {
                state.emails.remove(old);
            }
            if let Some(email) = &user.email {
                state.emails.insert(email.clone(), user.id.clone());
            }
        }
        state.users.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    async fn delete_user(&self, id: &str) -> Result<Option<User>> {
        let mut state = self.lock();
        let Some(user) = state.users.remove(id) else {
            return Ok(None);
        };
        if let Some(email) = &user.email {
            state.emails.remove(email);
        }
        if !self.has(Fault::NoCascadeOnDelete) {
            state.accounts.retain(|_, a| a.user_id != id);
            state.sessions.retain(|_, s| s.user_id != id);
            state.authenticators.retain(|_, a| a.user_id != id);
        }
        Ok(Some(user))
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        let mut state = self.lock();
        self.check_user(&state, &account.user_id)?;
        let k = key(&account.provider, &account.provider_account_id);
        if state.accounts.contains_key(&k) {
            return Err(AdapterError::conflict(
                "account",
                "provider and provider_account_id",
            ));
        }
        state.accounts.insert(k, account.clone());
        Ok(account)
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .remove(&key(provider, provider_account_id)))
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        Ok(self
            .lock()
            .accounts
            .get(&key(provider, provider_account_id))
            .cloned())
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        let mut state = self.lock();
        self.check_user(&state, &session.user_id)?;
        if state.sessions.contains_key(&session.session_token) {
            return Err(AdapterError::conflict("session", "session_token"));
        }
        let session = Session {
            expires: self.instant(session.expires),
            ..session
        };
        state
            .sessions
            .insert(session.session_token.clone(), session.clone());
        Ok(session)
    }

    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>> {
        let state = self.lock();
        let Some(session) = state.sessions.get(session_token) else {
            return Ok(None);
        };
        if session.expires <= OffsetDateTime::now_utc() && !self.has(Fault::ServesExpiredSessions) {
            return Ok(None);
        }
        Ok(state
            .users
            .get(&session.user_id)
            .map(|u| (session.clone(), u.clone())))
    }

    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        let mut state = self.lock();
        if let Some(user_id) = &update.user_id {
            if !state.sessions.contains_key(&update.session_token) {
                return Ok(None);
            }
            self.check_user(&state, user_id)?;
        }
        let expires = update.expires.map(|t| self.instant(t));
        let Some(session) = state.sessions.get_mut(&update.session_token) else {
            return Ok(None);
        };
        SessionUpdate { expires, ..update }.apply_to(session);
        Ok(Some(session.clone()))
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        Ok(self.lock().sessions.remove(session_token))
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        let mut state = self.lock();
        let k = key(&token.identifier, &token.token);
        if state.tokens.contains_key(&k) {
            return Err(AdapterError::conflict(
                "verification token",
                "identifier and token",
            ));
        }
        let token = VerificationToken {
            expires: self.instant(token.expires),
            ..token
        };
        state.tokens.insert(k, token.clone());
        Ok(token)
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        let k = if self.has(Fault::IgnoresTokenIdentifier) {
            let state = self.lock();
            match state.tokens.keys().find(|(_, t)| t == token) {
                Some(k) => k.clone(),
                None => return Ok(None),
            }
        } else {
            key(identifier, token)
        };
        let found = if self.has(Fault::NonAtomicTokenUse) {
            let seen = self.lock().tokens.get(&k).cloned();
            tokio::task::yield_now().await;
            self.lock().tokens.remove(&k);
            seen
        } else if self.has(Fault::KeepsExpiredTokens) {
            let mut state = self.lock();
            match state.tokens.get(&k) {
                Some(t) if t.expires <= OffsetDateTime::now_utc() => return Ok(None),
                _ => state.tokens.remove(&k),
            }
        } else {
            self.lock().tokens.remove(&k)
        };
        Ok(found.filter(|t| t.expires > OffsetDateTime::now_utc()))
    }

    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        let mut state = self.lock();
        self.check_user(&state, &authenticator.user_id)?;
        if state
            .authenticators
            .contains_key(&authenticator.credential_id)
        {
            return Err(AdapterError::conflict("authenticator", "credential_id"));
        }
        state
            .authenticators
            .insert(authenticator.credential_id.clone(), authenticator.clone());
        Ok(authenticator)
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        Ok(self.lock().authenticators.get(credential_id).cloned())
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        Ok(self
            .lock()
            .authenticators
            .values()
            .filter(|a| a.user_id == user_id)
            .cloned()
            .collect())
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator> {
        let mut state = self.lock();
        let Some(authenticator) = state.authenticators.get_mut(credential_id) else {
            return Err(AdapterError::not_found(
                "authenticator",
                format!("credential id {credential_id:?}"),
            ));
        };
        authenticator.counter = counter;
        Ok(authenticator.clone())
    }

    async fn purge_expired(&self) -> Result<u64> {
        let now = OffsetDateTime::now_utc();
        let mut state = self.lock();
        let before = state.sessions.len() + state.tokens.len();
        state.sessions.retain(|_, s| s.expires > now);
        state.tokens.retain(|_, t| t.expires > now);
        Ok((before - state.sessions.len() - state.tokens.len()) as u64)
    }
}
