//! Database-session logic that needs only the [`Adapter`] trait: token
//! generation, expiry, and the sliding refresh Auth.js performs on each
//! request.

use time::{Duration, OffsetDateTime};

use crate::{Adapter, AdapterError, Result, Session, SessionUpdate, User};

/// A fresh session token: 32 bytes from the operating system's CSPRNG as 64
/// lowercase hex digits.
///
/// Errors: `Backend` if the operating system has no randomness to give.
pub fn generate_session_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AdapterError::backend(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// How long sessions live and how often their expiry slides forward, with
/// the Auth.js defaults (`maxAge` 30 days, `updateAge` 24 hours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Lifetime of a session from its last refresh.
    pub max_age: Duration,
    /// Minimum time between two refreshes of one session's expiry; `0`
    /// refreshes on every request.
    pub update_age: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            max_age: Duration::days(30),
            update_age: Duration::hours(24),
        }
    }
}

impl SessionPolicy {
    /// A new session for `user_id` with a fresh token, expiring `max_age`
    /// from `now`. Store it with [`Adapter::create_session`].
    pub fn new_session(&self, user_id: &str, now: OffsetDateTime) -> Result<Session> {
        Ok(Session {
            session_token: generate_session_token()?,
            user_id: user_id.to_owned(),
            expires: now + self.max_age,
        })
    }

    /// Whether `session` is due for its expiry to slide forward at `now`:
    /// more than `update_age` has passed since it was last set.
    pub fn is_due_for_refresh(&self, session: &Session, now: OffsetDateTime) -> bool {
        session.expires - self.max_age + self.update_age <= now
    }

    /// Resolves a session cookie as Auth.js does on each request: the session
    /// and its user, with the expiry slid forward to `now + max_age` when the
    /// session is due for it. `Ok(None)` for an unknown or expired token.
    pub async fn resolve(
        &self,
        adapter: &dyn Adapter,
        session_token: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(Session, User)>> {
        let Some((session, user)) = adapter.get_session_and_user(session_token).await? else {
            return Ok(None);
        };
        if !self.is_due_for_refresh(&session, now) {
            return Ok(Some((session, user)));
        }
        let update = SessionUpdate {
            session_token: session.session_token,
            expires: Some(now + self.max_age),
            user_id: None,
        };
        // A concurrent sign-out may remove the session between the two calls.
        Ok(adapter.update_session(update).await?.map(|s| (s, user)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn tokens_are_64_hex_digits_and_distinct() {
        let a = generate_session_token().unwrap();
        let b = generate_session_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn refresh_is_due_once_update_age_has_passed() {
        let policy = SessionPolicy::default();
        let now = datetime!(2025-01-01 12:00 UTC);
        let session = policy.new_session("u1", now).unwrap();
        assert_eq!(session.expires, datetime!(2025-01-31 12:00 UTC));
        assert!(!policy.is_due_for_refresh(&session, now));
        assert!(!policy.is_due_for_refresh(&session, now + Duration::hours(23)));
        assert!(policy.is_due_for_refresh(&session, now + Duration::hours(24)));
    }
}
