//! An in-memory reference adapter: the smallest complete implementation of
//! the contract, and the worked example of writing your own adapter.
//!
//! It keeps everything in hash maps behind one mutex, so each call is atomic
//! by construction; a database adapter gets the same guarantees from unique
//! indexes, foreign keys with `ON DELETE CASCADE`, single statements and
//! transactions. Like a key-value adapter, it keeps a per-user index of
//! accounts, sessions and authenticators and deletes a user's records through
//! it, so it shows what has to happen to that index when a record changes
//! owner. Several adapters can share one named namespace
//! ([`MemoryAdapter::open`]), which must be [`migrate`](MemoryAdapter::migrate)d
//! once, like a database schema. It passes the whole suite (see
//! `tests/memory.rs`):
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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use async_trait::async_trait;
use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Result, Session,
    SessionUpdate, User, UserUpdate, VerificationToken,
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
    /// user id → the keys of its accounts, sessions and authenticators:
    /// what `delete_user` removes.
    owned: HashMap<String, Owned>,
    /// The email each user was created with; only kept for
    /// [`Fault::DeleteReleasesCreationEmail`].
    creation_emails: HashMap<String, String>,
    /// The schema version `migrate` wrote; `None` before the first migration.
    schema_version: Option<u32>,
}

/// The keys of the records one user owns.
#[derive(Default)]
struct Owned {
    accounts: HashSet<(String, String)>,
    sessions: HashSet<String>,
    authenticators: HashSet<String>,
}

/// The schema version [`MemoryAdapter::migrate`] writes.
const SCHEMA_VERSION: u32 = 1;

/// Named namespaces shared by every [`MemoryAdapter::open`] in the process:
/// the in-memory stand-in for a database server.
static NAMESPACES: LazyLock<Mutex<HashMap<String, Arc<Mutex<State>>>>> =
    LazyLock::new(Default::default);

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
    /// `update_session` extends or moves a session that has expired.
    RevivesExpiredSessions,
    /// `update_session` returns and stores the new expiry as given (its
    /// offset, its nanoseconds).
    UpdateSessionKeepsRawInstant,
    /// Counters are kept as signed 32-bit numbers: above `i32::MAX` is
    /// `InvalidInput`.
    SignedCounter,
    /// A user field over 4 KiB fails with a `Backend` error.
    OversizedValuesAreBackendErrors,
    /// Email keys ignore trailing spaces, like a PAD SPACE collation.
    PadSpaceKeys,
    /// `unlink_account` leaves the account in its old owner's index.
    UnlinkKeepsOwnerIndex,
    /// `update_session` moving a session leaves it in its old owner's index.
    MovedSessionKeepsOwnerIndex,
    /// `delete_user` forgets the user's authenticators but keeps their
    /// credential ids taken.
    DeleteKeepsCredentialIds,
    /// `delete_user` releases the email the user was created with, even if
    /// the user changed it and someone else took it.
    DeleteReleasesCreationEmail,
    /// `migrate` reads the schema version, yields, then writes it: two
    /// instances migrating at once both try to create the schema.
    RacyMigrate,
    /// `list_accounts_by_user_id` ignores the user id: every account in the
    /// store is listed.
    ListsOtherUsersAccounts,
    /// `list_sessions_by_user_id` ignores `expires`.
    ListsExpiredSessions,
    /// `unlink_account` and `update_session` moving a session leave the key
    /// in its old owner's index, and the list methods trust that index
    /// without checking each record's current owner.
    ListsThroughStaleOwnerIndex,
    /// A taken session token fails with a `Backend` error that quotes the
    /// row, as a database's duplicate-key message does.
    ConflictQuotesTheRow,
    /// A taken provider account is a `Conflict` that names the wrong key.
    ConflictNamesTheWrongKey,
    /// `purge_expired` removes what has expired but reports 0.
    PurgeReportsNothing,
}

/// The in-memory reference adapter. See the [module docs](self).
#[derive(Default)]
pub struct MemoryAdapter {
    state: Arc<Mutex<State>>,
    namespace: Option<String>,
    fault: Option<Fault>,
}

impl MemoryAdapter {
    /// An empty private store, ready to use.
    pub fn new() -> Self {
        let adapter = Self::default();
        adapter.lock().schema_version = Some(SCHEMA_VERSION);
        adapter
    }

    /// An empty private store with one deliberate defect.
    #[doc(hidden)]
    pub fn with_fault(fault: Fault) -> Self {
        Self {
            fault: Some(fault),
            ..Self::new()
        }
    }

    /// An adapter on the process-wide namespace `name`, created empty on
    /// first use and shared by every adapter opened on the same name. Call
    /// [`migrate`](Self::migrate) before using it; any number of adapters may
    /// do so at once.
    pub fn open(name: &str) -> Self {
        Self::open_with(name, None)
    }

    /// [`open`](Self::open) with one deliberate defect.
    #[doc(hidden)]
    pub fn open_with(name: &str, fault: Option<Fault>) -> Self {
        let state = NAMESPACES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(name.to_owned())
            .or_default()
            .clone();
        Self {
            state,
            namespace: Some(name.to_owned()),
            fault,
        }
    }

    /// The namespace this adapter was [`open`](Self::open)ed on, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Creates the namespace's "schema" if no one has yet: idempotent, and
    /// safe from any number of adapters at once, because checking and
    /// writing the version happen under one lock (a database adapter takes
    /// a lock on the server for the same reason).
    pub async fn migrate(&self) -> Result<()> {
        if self.has(Fault::RacyMigrate) {
            let current = self.lock().schema_version;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let mut state = self.lock();
            if current.is_none() && state.schema_version.is_some() {
                return Err(AdapterError::backend(
                    "migration 1 failed: the schema already exists",
                ));
            }
            state.schema_version = Some(SCHEMA_VERSION);
            return Ok(());
        }
        let mut state = self.lock();
        if state.schema_version.is_none() {
            state.schema_version = Some(SCHEMA_VERSION);
        }
        Ok(())
    }

    /// Removes this adapter's namespace from the process (its data stays
    /// with adapters still open on it). A no-op for [`new`](Self::new) stores.
    pub fn drop_namespace(&self) {
        if let Some(name) = &self.namespace {
            NAMESPACES
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(name);
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
        if state.schema_version.is_none() {
            return Err(AdapterError::backend("the namespace is not migrated"));
        }
        if self.has(Fault::NoUserCheck) || state.users.contains_key(user_id) {
            Ok(())
        } else {
            Err(AdapterError::user_not_found(user_id))
        }
    }

    /// The index of the records `user_id` owns.
    fn owned<'s>(&self, state: &'s mut State, user_id: &str) -> &'s mut Owned {
        state.owned.entry(user_id.to_owned()).or_default()
    }

    /// The key of `email` in the unique email index.
    fn email_key(&self, email: &str) -> String {
        if self.has(Fault::PadSpaceKeys) {
            email.trim_end_matches(' ').to_owned()
        } else {
            email.to_owned()
        }
    }

    fn check_sizes(&self, fields: &[(&'static str, Option<&String>)]) -> Result<()> {
        if self.has(Fault::OversizedValuesAreBackendErrors)
            && fields
                .iter()
                .any(|(_, v)| v.is_some_and(|v| v.len() > 4096))
        {
            return Err(AdapterError::backend("index row size exceeds maximum 2712"));
        }
        Ok(())
    }
}

fn key(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[async_trait]
impl Adapter for MemoryAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        self.check_sizes(&[
            ("name", user.name.as_ref()),
            ("email", user.email.as_ref()),
            ("image", user.image.as_ref()),
        ])?;
        if self.has(Fault::NonAtomicEmailClaim) {
            let taken = user
                .email
                .as_ref()
                .is_some_and(|e| self.lock().emails.contains_key(&self.email_key(e)));
            if taken {
                return Err(AdapterError::conflict(Key::Email));
            }
            tokio::task::yield_now().await;
        }
        let mut state = self.lock();
        if state.schema_version.is_none() {
            return Err(AdapterError::backend("the namespace is not migrated"));
        }
        if let Some(email) = &user.email
            && state.emails.contains_key(&self.email_key(email))
            && !self.has(Fault::NonAtomicEmailClaim)
        {
            return Err(AdapterError::conflict(Key::Email));
        }
        // The one id scheme of the workspace: a random UUID, unique across
        // every adapter in the process, as a database's would be.
        let id = auth_core::new_id();
        let mut user = user.into_user(id.clone());
        user.email_verified = user.email_verified.map(|t| self.instant(t));
        if let Some(email) = &user.email {
            state.emails.insert(self.email_key(email), id.clone());
            state.creation_emails.insert(id.clone(), email.clone());
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
            .get(&self.email_key(email))
            .and_then(|id| state.users.get(id))
            .filter(|u| u.email.as_deref() == Some(email) || self.has(Fault::PadSpaceKeys))
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
            return Err(AdapterError::user_not_found(&update.id));
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
                    .get(&self.email_key(email))
                    .is_some_and(|owner| *owner != user.id)
            {
                return Err(AdapterError::conflict(Key::Email));
            }
            if let Some(old) = &current.email
                && !self.has(Fault::StaleEmailIndex)
            {
                state.emails.remove(&self.email_key(old));
            }
            if let Some(email) = &user.email {
                state.emails.insert(self.email_key(email), user.id.clone());
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
        let creation_email = state.creation_emails.remove(id);
        let released = if self.has(Fault::DeleteReleasesCreationEmail) {
            creation_email
        } else {
            user.email.clone()
        };
        if let Some(email) = released {
            state.emails.remove(&self.email_key(&email));
        }
        let owned = state.owned.remove(id).unwrap_or_default();
        if !self.has(Fault::NoCascadeOnDelete) {
            // Through the user's index, as a key-value store must: anything
            // left in it by mistake is deleted with the user.
            for key in &owned.accounts {
                state.accounts.remove(key);
            }
            for token in &owned.sessions {
                state.sessions.remove(token);
            }
            if !self.has(Fault::DeleteKeepsCredentialIds) {
                for credential_id in &owned.authenticators {
                    state.authenticators.remove(credential_id);
                }
            }
        }
        Ok(Some(user))
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        let mut state = self.lock();
        self.check_user(&state, &account.user_id)?;
        let k = key(&account.provider, &account.provider_account_id);
        if state.accounts.contains_key(&k) {
            if self.has(Fault::ConflictNamesTheWrongKey) {
                return Err(AdapterError::conflict(Key::Email));
            }
            return Err(AdapterError::conflict(Key::ProviderAccountId));
        }
        self.owned(&mut state, &account.user_id)
            .accounts
            .insert(k.clone());
        state.accounts.insert(k, account.clone());
        Ok(account)
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let mut state = self.lock();
        let k = key(provider, provider_account_id);
        let removed = state.accounts.remove(&k);
        if let Some(account) = &removed
            && !self.has(Fault::UnlinkKeepsOwnerIndex)
            && !self.has(Fault::ListsThroughStaleOwnerIndex)
            && let Some(owned) = state.owned.get_mut(&account.user_id)
        {
            owned.accounts.remove(&k);
        }
        Ok(removed)
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

    async fn list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
        let state = self.lock();
        if self.has(Fault::ListsOtherUsersAccounts) {
            return Ok(state.accounts.values().cloned().collect());
        }
        let Some(owned) = state.owned.get(user_id) else {
            return Ok(Vec::new());
        };
        // Through the user's index, checking each account's current owner:
        // an index entry left behind by mistake never lists another's.
        let trust_index = self.has(Fault::ListsThroughStaleOwnerIndex);
        Ok(owned
            .accounts
            .iter()
            .filter_map(|k| state.accounts.get(k))
            .filter(|a| trust_index || a.user_id == user_id)
            .cloned()
            .collect())
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        let mut state = self.lock();
        self.check_user(&state, &session.user_id)?;
        if state.sessions.contains_key(&session.session_token) {
            if self.has(Fault::ConflictQuotesTheRow) {
                return Err(AdapterError::backend(format!(
                    "duplicate key value violates unique constraint: (sessionToken)=({})",
                    session.session_token
                )));
            }
            return Err(AdapterError::conflict(Key::SessionToken));
        }
        let session = Session {
            expires: self.instant(session.expires),
            ..session
        };
        self.owned(&mut state, &session.user_id)
            .sessions
            .insert(session.session_token.clone());
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
        let now = OffsetDateTime::now_utc();
        let mut state = self.lock();
        let Some(current) = state.sessions.get(&update.session_token).cloned() else {
            return Ok(None);
        };
        if current.expires <= now && !self.has(Fault::RevivesExpiredSessions) {
            return Ok(None);
        }
        if let Some(user_id) = &update.user_id {
            self.check_user(&state, user_id)?;
        }
        let expires = if self.has(Fault::UpdateSessionKeepsRawInstant) {
            update.expires
        } else {
            update.expires.map(|t| self.instant(t))
        };
        let mut session = current.clone();
        SessionUpdate { expires, ..update }.apply_to(&mut session);
        if session.user_id != current.user_id {
            if !self.has(Fault::MovedSessionKeepsOwnerIndex)
                && !self.has(Fault::ListsThroughStaleOwnerIndex)
                && let Some(owned) = state.owned.get_mut(&current.user_id)
            {
                owned.sessions.remove(&session.session_token);
            }
            self.owned(&mut state, &session.user_id)
                .sessions
                .insert(session.session_token.clone());
        }
        state
            .sessions
            .insert(session.session_token.clone(), session.clone());
        Ok(Some(session))
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        let mut state = self.lock();
        let removed = state.sessions.remove(session_token);
        if let Some(session) = &removed
            && let Some(owned) = state.owned.get_mut(&session.user_id)
        {
            owned.sessions.remove(session_token);
        }
        Ok(removed)
    }

    async fn list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        let now = OffsetDateTime::now_utc();
        let state = self.lock();
        let Some(owned) = state.owned.get(user_id) else {
            return Ok(Vec::new());
        };
        let trust_index = self.has(Fault::ListsThroughStaleOwnerIndex);
        let serve_expired = self.has(Fault::ListsExpiredSessions);
        Ok(owned
            .sessions
            .iter()
            .filter_map(|token| state.sessions.get(token))
            .filter(|s| trust_index || s.user_id == user_id)
            .filter(|s| serve_expired || s.expires > now)
            .cloned()
            .collect())
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        let mut state = self.lock();
        let k = key(&token.identifier, &token.token);
        if state.tokens.contains_key(&k) {
            return Err(AdapterError::conflict(Key::IdentifierAndToken));
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
        if self.has(Fault::SignedCounter) && i32::try_from(authenticator.counter).is_err() {
            return Err(AdapterError::invalid_input(
                "counter",
                "out of range for a 32-bit signed integer",
            ));
        }
        let mut state = self.lock();
        self.check_user(&state, &authenticator.user_id)?;
        if state
            .authenticators
            .contains_key(&authenticator.credential_id)
        {
            return Err(AdapterError::conflict(Key::CredentialId));
        }
        self.owned(&mut state, &authenticator.user_id)
            .authenticators
            .insert(authenticator.credential_id.clone());
        state
            .authenticators
            .insert(authenticator.credential_id.clone(), authenticator.clone());
        Ok(authenticator)
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        Ok(self.lock().authenticators.get(credential_id).cloned())
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        let state = self.lock();
        let Some(owned) = state.owned.get(user_id) else {
            return Ok(Vec::new());
        };
        Ok(owned
            .authenticators
            .iter()
            .filter_map(|id| state.authenticators.get(id))
            .cloned()
            .collect())
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator> {
        if self.has(Fault::SignedCounter) && i32::try_from(counter).is_err() {
            return Err(AdapterError::invalid_input(
                "counter",
                "out of range for a 32-bit signed integer",
            ));
        }
        let mut state = self.lock();
        let Some(authenticator) = state.authenticators.get_mut(credential_id) else {
            return Err(AdapterError::not_found(
                Entity::Authenticator,
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
        let expired: Vec<Session> = state
            .sessions
            .values()
            .filter(|s| s.expires <= now)
            .cloned()
            .collect();
        for session in expired {
            state.sessions.remove(&session.session_token);
            if let Some(owned) = state.owned.get_mut(&session.user_id) {
                owned.sessions.remove(&session.session_token);
            }
        }
        state.tokens.retain(|_, t| t.expires > now);
        if self.has(Fault::PurgeReportsNothing) {
            return Ok(0);
        }
        Ok((before - state.sessions.len() - state.tokens.len()) as u64)
    }
}
