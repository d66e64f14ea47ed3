//! The one error type every adapter returns.

use std::error::Error as StdError;

/// A boxed error from the database driver, kept as the source of
/// [`AdapterError::Backend`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

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
        /// The kind of record, e.g. `"user"`, `"account"`.
        entity: &'static str,
        /// The unique key that is taken, e.g. `"email"`.
        key: &'static str,
    },
    /// A record the call needs does not exist (the user of a new session, the
    /// user being updated, the authenticator whose counter is set).
    #[error("not found: {entity} ({detail})")]
    NotFound {
        /// The kind of record that is missing, e.g. `"user"`.
        entity: &'static str,
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
    /// A [`AdapterError::Conflict`] on `entity`'s unique `key`.
    pub fn conflict(entity: &'static str, key: &'static str) -> Self {
        Self::Conflict { entity, key }
    }

    /// A [`AdapterError::NotFound`] for `entity`, described by `detail`.
    pub fn not_found(entity: &'static str, detail: impl Into<String>) -> Self {
        Self::NotFound {
            entity,
            detail: detail.into(),
        }
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
}

/// The result of every [`Adapter`](crate::Adapter) call.
pub type Result<T, E = AdapterError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_record_and_field() {
        assert_eq!(
            AdapterError::conflict("user", "email").to_string(),
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
    }
}
