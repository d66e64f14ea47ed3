//! The [`Adapter`] trait: what every storage backend implements.

use async_trait::async_trait;

use crate::{
    Account, Authenticator, NewUser, Result, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};

/// Storage for users, linked accounts, sessions, verification tokens and
/// passkey authenticators: the Auth.js `Adapter` interface, made strict.
///
/// Every implementation is held to the `adapter-conformance` suite, which has
/// at least one case for each promise written here.
///
/// Rules that hold for every method:
/// - "Not found" for a lookup is `Ok(None)`, never an error, including for
///   ids that could never exist in this backend (empty, malformed).
/// - Lookups are exact: no case folding, no pattern matching, no trimming.
/// - Strings are stored byte for byte. A value the backend cannot store
///   unchanged (a NUL byte in PostgreSQL text, say) is rejected with
///   [`AdapterError::InvalidInput`](crate::AdapterError::InvalidInput).
/// - Instants are kept to the millisecond and returned in UTC, from every
///   method that returns one.
/// - **Whose clock decides expiry:** the caller's. "Expired" means
///   `expires <= now` where `now` is `OffsetDateTime::now_utc()` on the
///   machine running the adapter, read when the call starts; the adapter
///   sends that instant to the server instead of using the server's clock
///   (`NOW()`, `$$NOW`, `TIME`). Backends that also expire records by
///   themselves (a Redis TTL) only ever do so after `expires`, as cleanup.
/// - Every value up to 1 MiB in any string field is either stored and read
///   back byte for byte, or rejected with `InvalidInput` naming the field
///   (a backend whose unique indexes have a size limit rejects longer keys);
///   never `Backend`.
/// - **No call waits without bound.** Every call returns within a time limit
///   the user can configure on the adapter's options (documented per
///   adapter), with an [`AdapterError::Backend`](crate::AdapterError::Backend)
///   for which [`AdapterError::is_timeout`](crate::AdapterError::is_timeout)
///   is true when the server stalls, a lock is held or no pooled connection
///   frees up. Retries of conflicting writes are bounded too.
/// - Every method is safe to call concurrently from many tasks, and every
///   adapter's `migrate()` is safe to run from many processes at once on
///   one fresh namespace (several replicas starting together).
/// - Keys that change owner or are released (an account unlinked and linked
///   to another user, a session moved to another user, a credential id or an
///   email reused after a delete or update) belong to their new owner only:
///   deleting the old owner never touches them.
///
/// The trait is object safe: `Arc<dyn Adapter>` is the usual way to share one.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// Stores a new user under a fresh id chosen by the adapter and returns it.
    ///
    /// Errors: `Conflict` if another user has the same (non-null) email. Any
    /// number of users may have no email.
    async fn create_user(&self, user: NewUser) -> Result<User>;

    /// The user with this id, or `Ok(None)`.
    async fn get_user(&self, id: &str) -> Result<Option<User>>;

    /// The user whose email equals `email` exactly, or `Ok(None)`.
    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>>;

    /// The user owning the account `(provider, provider_account_id)`, or
    /// `Ok(None)`.
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>>;

    /// Changes the fields of `update` that are `Some` and returns the whole
    /// updated user.
    ///
    /// Errors: `NotFound` for an unknown id; `Conflict` if the new email
    /// belongs to another user (nothing is changed then).
    async fn update_user(&self, update: UserUpdate) -> Result<User>;

    /// Deletes the user and every account, session and authenticator of it,
    /// all or nothing. Returns the removed user, or `Ok(None)` if there was
    /// none.
    async fn delete_user(&self, id: &str) -> Result<Option<User>>;

    /// Links a provider account to an existing user and returns it.
    ///
    /// Errors: `NotFound` if the user does not exist; `Conflict` if the pair
    /// `(provider, provider_account_id)` is already linked.
    async fn link_account(&self, account: Account) -> Result<Account>;

    /// Removes the account `(provider, provider_account_id)` and returns it,
    /// or `Ok(None)` if there was none.
    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>>;

    /// The account `(provider, provider_account_id)`, or `Ok(None)`.
    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>>;

    /// Every account linked to the user, in no particular order; empty when
    /// there are none or the user does not exist. An unknown or malformed id
    /// is never an error. An account unlinked, or relinked to another user,
    /// is listed under its current owner only.
    ///
    /// Adapters make it one round trip to the server where the backend
    /// allows (one query on the index of the user id, a script).
    async fn list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>>;

    /// Stores a new session and returns it.
    ///
    /// Errors: `NotFound` if the user does not exist; `Conflict` if the token
    /// is taken.
    async fn create_session(&self, session: Session) -> Result<Session>;

    /// The session with this token and its user, or `Ok(None)` if there is
    /// none or it has expired (`expires <= now`). An expired session is never
    /// returned, even if the backend has not removed it yet.
    ///
    /// This runs on every authenticated request: adapters make it one round
    /// trip to the server where the backend allows (a join, a `$lookup`, a
    /// script).
    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>>;

    /// Changes the fields of `update` that are `Some` and returns the updated
    /// session, or `Ok(None)` if the token is unknown or the session has
    /// expired (`expires <= now`, before the update): an expired session
    /// cannot be revived, exactly as it cannot be read. The returned `expires`
    /// is in UTC and to the millisecond, as from `create_session`.
    ///
    /// For an unknown or expired token it returns `Ok(None)` and creates
    /// nothing, also when it names a new owner; if that owner does not exist
    /// either, it may return `Ok(None)` or `NotFound` naming the user.
    ///
    /// Errors: `NotFound` if `user_id` names a user that does not exist.
    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>>;

    /// Deletes the session and returns it, or `Ok(None)` if there was none.
    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>>;

    /// Every session of the user that has not expired (`expires > now`), in
    /// no particular order; empty when there are none or the user does not
    /// exist. An unknown or malformed id is never an error. An expired
    /// session is never listed, even if the backend has not removed it yet;
    /// a session moved to another user is listed under its new owner only.
    ///
    /// Adapters make it one round trip to the server where the backend
    /// allows (one query on the index of the user id, a script).
    async fn list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>>;

    /// Stores a verification token and returns it.
    ///
    /// Errors: `Conflict` if the same `(identifier, token)` is stored already.
    /// An expired token may still conflict with a new one of the same
    /// `(identifier, token)` until it is used or purged, and never after.
    /// Backends whose schema makes `token` unique on its own (the Auth.js SQL
    /// schemas do) also report `Conflict` for the same token under another
    /// identifier.
    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken>;

    /// Deletes and returns the token matching both `identifier` and `token`,
    /// in one atomic step: of many concurrent calls exactly one gets it, and a
    /// second use returns `Ok(None)`. An expired token is deleted as well, and
    /// `Ok(None)` is returned for it.
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>>;

    /// Stores a passkey credential and returns it.
    ///
    /// Errors: `NotFound` if the user does not exist; `Conflict` if the
    /// credential id is taken.
    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator>;

    /// The authenticator with this credential id, or `Ok(None)`.
    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>>;

    /// Every authenticator of the user, in no particular order; empty when
    /// there are none or the user does not exist.
    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>>;

    /// Sets the signature counter and returns the updated authenticator.
    ///
    /// Errors: `NotFound` if the credential id is unknown.
    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator>;

    /// Deletes expired sessions and verification tokens and returns how many
    /// it removed. Backends that expire records by themselves (TTL) may
    /// return 0. Safe to run at any time, e.g. from a periodic task.
    async fn purge_expired(&self) -> Result<u64>;
}
