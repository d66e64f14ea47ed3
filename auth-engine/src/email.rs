//! Email sign-in ("magic links"): the provider, the address normaliser and
//! the mailers that deliver the link.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

/// What a [`Mailer`] is asked to deliver: a one-time sign-in link.
///
/// `Debug` hides the URL, which carries the token.
#[derive(Clone)]
pub struct VerificationRequest {
    /// The normalised email address the link is for.
    pub identifier: String,
    /// The sign-in link: `ORIGIN/BASE/callback/PROVIDER?callbackUrl=…&token=…&email=…`.
    pub url: String,
    /// When the link stops working.
    pub expires: OffsetDateTime,
    /// The email provider's id.
    pub provider_id: String,
}

impl fmt::Debug for VerificationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationRequest")
            .field("identifier", &self.identifier)
            .field("url", &"<redacted>")
            .field("expires", &self.expires)
            .field("provider_id", &self.provider_id)
            .finish()
    }
}

/// The error a [`Mailer`] returns when it cannot deliver (never containing
/// the link).
#[derive(Debug, thiserror::Error)]
#[error("could not send the sign-in email: {0}")]
pub struct MailError(pub String);

/// Delivers sign-in links: Auth.js's `sendVerificationRequest`.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends `request.url` to `request.identifier`.
    async fn send(&self, request: &VerificationRequest) -> Result<(), MailError>;
}

/// A mailer for development: prints `sign-in link for EMAIL: URL` on stdout
/// and keeps every request in an [`Outbox`] (for a dev page or a test).
#[derive(Debug, Clone, Default)]
pub struct ConsoleMailer {
    outbox: Outbox,
    quiet: bool,
}

impl ConsoleMailer {
    /// A console mailer with an empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the links in the outbox without printing them (tests).
    pub fn quiet() -> Self {
        Self {
            quiet: true,
            ..Self::default()
        }
    }

    /// The outbox every sent request is appended to (shared with clones).
    pub fn outbox(&self) -> Outbox {
        self.outbox.clone()
    }
}

#[async_trait]
impl Mailer for ConsoleMailer {
    async fn send(&self, request: &VerificationRequest) -> Result<(), MailError> {
        if !self.quiet {
            println!("sign-in link for {}: {}", request.identifier, request.url);
        }
        self.outbox.push(request.clone());
        Ok(())
    }
}

/// The requests a [`ConsoleMailer`] sent, newest last. Cloning shares it.
#[derive(Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<VerificationRequest>>>);

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Outbox({} messages)", self.len())
    }
}

impl Outbox {
    fn push(&self, request: VerificationRequest) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(request);
    }

    /// Every request sent so far, oldest first.
    pub fn all(&self) -> Vec<VerificationRequest> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The newest request sent to `email`, if any.
    pub fn last_for(&self, email: &str) -> Option<VerificationRequest> {
        self.all().into_iter().rev().find(|r| r.identifier == email)
    }

    /// How many requests were sent.
    pub fn len(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Whether nothing was sent yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sends sign-in links over SMTP with [`lettre`].
#[derive(Clone)]
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
    site_name: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for the SMTP server at `url` (lettre's URL form, e.g.
    /// `smtps://user:pass@smtp.example.com`, `smtp://127.0.0.1:2525`),
    /// sending from `from` (`Name <address>` or an address).
    pub fn new(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| MailError(format!("invalid SMTP URL: {e}")))?
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        let from = from
            .parse()
            .map_err(|e| MailError(format!("invalid sender {from:?}: {e}")))?;
        Ok(Self {
            transport,
            from,
            site_name: "the site".to_owned(),
        })
    }

    /// The site name used in the subject and body ("Sign in to NAME").
    pub fn site_name(mut self, name: impl Into<String>) -> Self {
        self.site_name = name.into();
        self
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, request: &VerificationRequest) -> Result<(), MailError> {
        use lettre::AsyncTransport;
        let to = request
            .identifier
            .parse()
            .map_err(|e| MailError(format!("invalid recipient: {e}")))?;
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Sign in to {}", self.site_name))
            .body(format!(
                "Sign in to {}\n\n{}\n\nIf you did not request this email you can safely ignore it.\n",
                self.site_name, request.url
            ))
            .map_err(|e| MailError(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError(e.to_string()))
    }
}

/// Turns what the user typed into the address the token is for, or `None`
/// when it is not an address.
pub type Normalizer = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Auth.js's default normaliser: NFKC, lowercase, trim; no `"`; exactly one
/// `@` with something on both sides; the domain cut at the first `,`.
pub fn normalize_email(input: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let normalized: String = input.nfkc().collect::<String>().to_lowercase();
    let trimmed = normalized.trim();
    if trimmed.contains('"') {
        return None;
    }
    let mut parts = trimmed.split('@');
    let (local, domain) = (parts.next()?, parts.next()?);
    if parts.next().is_some() || local.is_empty() || domain.is_empty() {
        return None;
    }
    let domain = domain.split(',').next().unwrap_or("");
    if domain.is_empty() {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

/// The email provider: sign in with a one-time link.
#[derive(Clone)]
pub struct EmailProvider {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) max_age: Duration,
    pub(crate) normalizer: Normalizer,
}

impl fmt::Debug for EmailProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailProvider")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl EmailProvider {
    /// An email provider with id `email`, name `Email`, links valid for
    /// 24 hours, Auth.js's normaliser, sending through `mailer`.
    pub fn new(mailer: impl Mailer + 'static) -> Self {
        Self {
            id: "email".to_owned(),
            name: "Email".to_owned(),
            mailer: Arc::new(mailer),
            max_age: Duration::hours(24),
            normalizer: Arc::new(normalize_email),
        }
    }

    /// Another id (the path segment in `/signin/ID` and `/callback/ID`).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Another display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How long a link works (default 24 hours).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Another normaliser for the typed address.
    pub fn normalizer(
        mut self,
        normalizer: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.normalizer = Arc::new(normalizer);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_authjs() {
        assert_eq!(
            normalize_email("  Ada@Example.COM "),
            Some("ada@example.com".into())
        );
        assert_eq!(
            normalize_email("ada@example.com,evil.com"),
            Some("ada@example.com".into())
        );
        // NFKC folds the fullwidth @ and letters.
        assert_eq!(
            normalize_email("ａｄａ＠example.com"),
            Some("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a@b@c",
            "\"ada\"@x.com",
            "ada@,x",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_link() {
        let r = VerificationRequest {
            identifier: "a@b.c".into(),
            url: "http://x/callback/email?token=SECRET".into(),
            expires: OffsetDateTime::UNIX_EPOCH,
            provider_id: "email".into(),
        };
        assert!(!format!("{r:?}").contains("SECRET"));
    }
}
