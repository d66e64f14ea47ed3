//! The app's hooks: callbacks that decide, events that observe.

use async_trait::async_trait;
use auth_core::{Account, User};
use serde_json::{Map, Value};

/// Who is signing in, as the sign-in callback sees it.
#[derive(Debug, Clone)]
pub struct SignInAttempt<'a> {
    /// The user: the stored one when known, else the profile to be created.
    pub user: &'a User,
    /// The account: for email sign-in a pseudo account of type `email`
    /// (never stored); for OAuth the account to be linked or found.
    pub account: &'a Account,
    /// `true` when an email link is about to be sent (Auth.js's
    /// `email.verificationRequest`), `false` when the user comes back.
    pub verification_request: bool,
}

/// The sign-in callback's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInDecision {
    /// Go on.
    Allow,
    /// Refuse with `AccessDenied`.
    Deny,
    /// Refuse and send the browser here (checked by the redirect callback).
    Redirect(String),
}

/// What the JWT callback is called for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtTrigger {
    /// A user signed in.
    SignIn,
    /// A new user signed up.
    SignUp,
    /// The client posted an update (`POST /session`).
    Update,
    /// A session read.
    Read,
}

/// The app's callbacks, as Auth.js's `callbacks` option. Every method has
/// Auth.js's default behaviour.
#[async_trait]
pub trait Callbacks: Send + Sync {
    /// Whether this sign-in may go on (default: allow).
    async fn sign_in(&self, _attempt: SignInAttempt<'_>) -> SignInDecision {
        SignInDecision::Allow
    }

    /// Where to send the browser after sign-in or sign-out, given the asked
    /// `url` and the site's `base_url` (origin). The default keeps redirects
    /// on the site: relative paths are joined to the origin, absolute URLs
    /// on the same origin are kept, anything else becomes the origin.
    fn redirect(&self, url: &str, base_url: &str) -> String {
        default_redirect(url, base_url)
    }

    /// Shapes the JWT (JWT strategy): `token` holds `name`, `email`,
    /// `picture`, `sub` and what earlier calls added; `user` is set at
    /// sign-in; `data` is the body's `data` of an update. Return `None` to
    /// sign the user out. Default: the token unchanged.
    async fn jwt(
        &self,
        token: Map<String, Value>,
        _user: Option<&User>,
        _trigger: JwtTrigger,
        _data: Option<&Value>,
    ) -> Option<Map<String, Value>> {
        Some(token)
    }

    /// Shapes the session JSON that `GET /session` returns. `session` is
    /// `{user: {name, email, image}, expires}`; `user` is the stored user
    /// (database strategy), `token` the JWT claims (JWT strategy).
    /// Default: unchanged.
    async fn session(
        &self,
        session: Value,
        _user: Option<&User>,
        _token: Option<&Map<String, Value>>,
    ) -> Value {
        session
    }
}

/// Auth.js's default `redirect` callback.
pub fn default_redirect(url: &str, base_url: &str) -> String {
    if url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\") {
        return format!("{base_url}{url}");
    }
    match url::Url::parse(url) {
        Ok(parsed) if parsed.origin().ascii_serialization() == base_url => url.to_owned(),
        _ => base_url.to_owned(),
    }
}

/// Auth.js's callbacks, unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultCallbacks;

impl Callbacks for DefaultCallbacks {}

/// What happened, for the app's logs or side effects; Auth.js's `events`.
/// Errors cannot be returned: an event never changes the outcome.
#[async_trait]
pub trait Events: Send + Sync {
    /// A user signed in (`is_new_user` when just created).
    async fn sign_in(&self, _user: &User, _account: &Account, _is_new_user: bool) {}
    /// A user signed out; `user_id` when known.
    async fn sign_out(&self, _user_id: Option<&str>) {}
    /// A user was created.
    async fn create_user(&self, _user: &User) {}
    /// A user was updated (email verified).
    async fn update_user(&self, _user: &User) {}
    /// An account was linked to a user.
    async fn link_account(&self, _user: &User, _account: &Account) {}
    /// A session was read (`GET /session`).
    async fn session(&self, _session: &Value) {}
}

/// No event handlers.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEvents;

impl Events for NoEvents {}

#[cfg(test)]
mod tests {
    use super::default_redirect;

    #[test]
    fn redirects_stay_on_the_site() {
        let base = "https://app.example";
        assert_eq!(default_redirect("/dash", base), "https://app.example/dash");
        assert_eq!(
            default_redirect("https://app.example/x?y=1", base),
            "https://app.example/x?y=1"
        );
        for off_site in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "https://app.example.evil.example/",
            "http://app.example/",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert_eq!(default_redirect(off_site, base), base, "{off_site}");
        }
    }
}
