//! The one error type every adapter returns.

use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;

/// A boxed error from the database driver, kept as the source of
/// [`AdapterError::Backend`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A kind of record, as errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A [`User`](crate::User).
    User,
    /// An [`Account`](crate::Account).
    Account,
    /// A [`Session`](crate::Session).
    Session,
    /// A [`VerificationToken`](crate::VerificationToken).
    VerificationToken,
    /// An [`Authenticator`](crate::Authenticator).
    Authenticator,
}

impl Entity {
    /// The entity in words: `"user"`, `"account"`, `"session"`,
    /// `"verification token"`, `"authenticator"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Account => "account",
            Self::Session => "session",
            Self::VerificationToken => "verification token",
            Self::Authenticator => "authenticator",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unique key of a record, as [`AdapterError::Conflict`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// A user's `email`.
    Email,
    /// An account's `(provider, provider_account_id)`.
    ProviderAccountId,
    /// A session's `session_token`.
    SessionToken,
    /// A verification token's `(identifier, token)`.
    IdentifierAndToken,
    /// A verification token's `token` alone (schemas that make it unique,
    /// as the Auth.js SQL schemas do).
    Token,
    /// An authenticator's `credential_id`.
    CredentialId,
}

impl Key {
    /// The key in words: `"email"`, `"provider and provider_account_id"`,
    /// `"session_token"`, `"identifier and token"`, `"token"`,
    /// `"credential_id"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::ProviderAccountId => "provider and provider_account_id",
            Self::SessionToken => "session_token",
            Self::IdentifierAndToken => "identifier and token",
            Self::Token => "token",
            Self::CredentialId => "credential_id",
        }
    }

    /// The entity this key belongs to.
    pub fn entity(self) -> Entity {
        match self {
            Self::Email => Entity::User,
            Self::ProviderAccountId => Entity::Account,
            Self::SessionToken => Entity::Session,
            Self::IdentifierAndToken | Self::Token => Entity::VerificationToken,
            Self::CredentialId => Entity::Authenticator,
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong in an [`Adapter`](crate::Adapter) call, by what the caller
/// can do about it.
///
/// The variants carry what a caller needs to act (which record, which field),
/// never a secret: a session token or an OAuth token is never part of an
/// error message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// A unique key is taken: an email, a session token, a
    /// `(provider, provider_account_id)` pair, a credential id.
    #[error("conflict: {entity} with this {key} already exists")]
    Conflict {
        /// The kind of record.
        entity: Entity,
        /// The unique key that is taken.
        key: Key,
    },
    /// A record the call needs does not exist (the user of a new session, the
    /// user being updated, the authenticator whose counter is set).
    #[error("not found: {entity} ({detail})")]
    NotFound {
        /// The kind of record that is missing.
        entity: Entity,
        /// What was looked up, without secrets, e.g. `"id 42"`.
        detail: String,
    },
    /// The input was rejected before it reached storage: the value cannot be
    /// stored by this backend without changing it.
    #[error("invalid input for `{field}`: {reason}")]
    InvalidInput {
        /// The field that was rejected, e.g. `"name"`.
        field: &'static str,
        /// Why it was rejected, e.g. `"contains a NUL byte"`.
        reason: String,
    },
    /// The backend failed: connection, protocol, timeout, or an error the
    /// adapter could not classify. The driver's error is the source.
    #[error("backend error: {0}")]
    Backend(#[source] BoxError),
}

impl AdapterError {
    /// A [`AdapterError::Conflict`] on the unique `key` (its entity is the
    /// key's).
    pub fn conflict(key: Key) -> Self {
        Self::Conflict {
            entity: key.entity(),
            key,
        }
    }

    /// A [`AdapterError::NotFound`] for `entity`, described by `detail`
    /// (what was looked up, never a secret).
    pub fn not_found(entity: Entity, detail: impl Into<String>) -> Self {
        Self::NotFound {
            entity,
            detail: detail.into(),
        }
    }

    /// The `NotFound` every adapter returns when the user a call needs (the
    /// owner of a new account, session or authenticator; the user being
    /// updated) does not exist.
    pub fn user_not_found(user_id: &str) -> Self {
        Self::not_found(Entity::User, format!("id {user_id:?}"))
    }

    /// A [`AdapterError::Backend`] for a stored value that does not fit the
    /// model (a row another tool wrote, say): `field` and why, never the
    /// value. Its source is a [`StoredDataError`].
    pub fn stored_data(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Backend(Box::new(StoredDataError {
            field,
            reason: reason.into(),
        }))
    }

    /// An [`AdapterError::InvalidInput`] for `field`, explained by `reason`.
    pub fn invalid_input(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    /// A [`AdapterError::Backend`] wrapping a driver error.
    pub fn backend(source: impl Into<BoxError>) -> Self {
        Self::Backend(source.into())
    }

    /// `true` for [`AdapterError::Conflict`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// `true` for [`AdapterError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// `true` for [`AdapterError::InvalidInput`].
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Self::InvalidInput { .. })
    }

    /// A [`AdapterError::Backend`] saying that `operation` did not finish
    /// within `after`; its source is a [`TimedOut`].
    pub fn timed_out(operation: &'static str, after: Duration) -> Self {
        Self::Backend(Box::new(TimedOut { operation, after }))
    }

    /// `true` for a [`AdapterError::Backend`] whose source is a [`TimedOut`]:
    /// the call gave up waiting for the server (or a lock, or a pooled
    /// connection).
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Backend(source) => source.downcast_ref::<TimedOut>().is_some(),
            _ => false,
        }
    }
}

/// The source of [`AdapterError::stored_data`]: a stored value the adapter
/// cannot read back into the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored `{field}` cannot be read: {reason}")]
pub struct StoredDataError {
    /// The field (column, key) that holds it.
    pub field: &'static str,
    /// Why it cannot be read.
    pub reason: String,
}

/// The source of the [`AdapterError::Backend`] an adapter returns when a call
/// runs out of time: the server stalled, a lock was held, or no pooled
/// connection became free.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{operation}` timed out after {after:?}")]
pub struct TimedOut {
    /// The adapter method (or step) that gave up, e.g. `"get_session_and_user"`.
    pub operation: &'static str,
    /// The limit it ran into.
    pub after: Duration,
}

/// Runs `call` and gives up after `limit`, returning
/// [`AdapterError::timed_out`] for `operation`.
///
/// Adapters wrap each public call in this so that no call waits without
/// bound, whatever the driver does. The future is dropped on timeout, so it
/// must be cancel safe (every sqlx, mongodb, redis and deadpool call is: an
/// unfinished transaction is rolled back when its connection is dropped).
pub async fn with_timeout<T, F>(limit: Duration, operation: &'static str, call: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    match tokio::time::timeout(limit, call).await {
        Ok(result) => result,
        Err(_) => Err(AdapterError::timed_out(operation, limit)),
    }
}

/// The result of every [`Adapter`](crate::Adapter) call.
pub type Result<T, E = AdapterError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_record_and_field() {
        assert_eq!(
            AdapterError::conflict(Key::Email).to_string(),
            "conflict: user with this email already exists"
        );
        assert_eq!(
            AdapterError::invalid_input("name", "contains a NUL byte").to_string(),
            "invalid input for `name`: contains a NUL byte"
        );
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "read timed out");
        let err = AdapterError::backend(io);
        assert!(err.source().unwrap().to_string().contains("timed out"));
        assert!(!err.is_conflict() && !err.is_not_found() && !err.is_invalid_input());
        assert!(!err.is_timeout());
    }

    #[tokio::test]
    async fn with_timeout_gives_up_with_a_named_timeout() {
        let limit = Duration::from_millis(20);
        let stalled = with_timeout(limit, "get_user", std::future::pending::<Result<()>>()).await;
        let err = stalled.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            err.source().unwrap().to_string(),
            "`get_user` timed out after 20ms"
        );
        let quick = with_timeout(limit, "get_user", async { Ok(7) }).await;
        assert_eq!(quick.unwrap(), 7);
    }
}
