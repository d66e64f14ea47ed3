//! Key names: the crate README's "Key layout", in one place.

use auth_core::{AdapterError, Result};

/// Key names. Every key starts with `{prefix}:`, so a whole namespace shares
/// one hash tag, hence one cluster slot, and every script may touch any key
/// of it. Parts that come from callers are last, or length-prefixed when two
/// of them meet, so different inputs never make the same key.
#[derive(Clone)]
pub(crate) struct Keys {
    pub(crate) prefix: String,
    /// `{prefix}:`
    pub(crate) base: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Result<Self> {
        if prefix.is_empty() {
            return Err(AdapterError::invalid_input("prefix", "must not be empty"));
        }
        if prefix.contains(['{', '}']) {
            return Err(AdapterError::invalid_input(
                "prefix",
                "must not contain `{` or `}`: the prefix is the cluster hash tag",
            ));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            base: format!("{{{prefix}}}:"),
        })
    }

    /// The keys of [`DEFAULT_PREFIX`](crate::DEFAULT_PREFIX), a valid prefix.
    pub(crate) fn default_prefix() -> Self {
        Self::new(crate::DEFAULT_PREFIX).expect("the default prefix is valid")
    }

    pub(crate) fn user(&self, id: &str) -> String {
        format!("{}user:{id}", self.base)
    }

    pub(crate) fn email(&self, email: &str) -> String {
        format!("{}email:{email}", self.base)
    }

    /// What follows `account:` in an account key, and the member of the
    /// user's account index.
    pub(crate) fn account_member(provider: &str, provider_account_id: &str) -> String {
        format!("{}:{provider}:{provider_account_id}", provider.len())
    }

    pub(crate) fn account(&self, provider: &str, provider_account_id: &str) -> String {
        format!(
            "{}account:{}",
            self.base,
            Self::account_member(provider, provider_account_id)
        )
    }

    pub(crate) fn session(&self, token: &str) -> String {
        format!("{}session:{token}", self.base)
    }

    pub(crate) fn verification_token(&self, identifier: &str, token: &str) -> String {
        format!(
            "{}verification-token:{}:{identifier}:{token}",
            self.base,
            identifier.len()
        )
    }

    pub(crate) fn authenticator(&self, credential_id: &str) -> String {
        format!("{}authenticator:{credential_id}", self.base)
    }

    pub(crate) fn user_sessions(&self, id: &str) -> String {
        format!("{}user-sessions:{id}", self.base)
    }

    pub(crate) fn user_accounts(&self, id: &str) -> String {
        format!("{}user-accounts:{id}", self.base)
    }

    pub(crate) fn user_authenticators(&self, id: &str) -> String {
        format!("{}user-authenticators:{id}", self.base)
    }
}

/// `text` with the characters `SCAN MATCH` treats as wildcards escaped.
pub(crate) fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
