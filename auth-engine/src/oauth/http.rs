//! The HTTP client every call to a provider goes through: reqwest 0.13 on
//! a preconfigured rustls (ring, webpki roots), no redirects followed, a timeout per request,
//! bodies capped in size. It implements `oauth2`'s `AsyncHttpClient` so that
//! `oauth2` and `openidconnect` use it too.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Largest response body read from a provider (1 MiB).
const MAX_BODY: usize = 1024 * 1024;

/// Why a request to the provider failed. Carries no URL query, header or body,
/// so it never holds a token or a code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The client could not be built (TLS configuration).
    #[error("the HTTP client could not be built: {0}")]
    Build(String),
    /// The request timed out.
    #[error("the request to the provider timed out")]
    Timeout,
    /// Connection or protocol failure.
    #[error("the request to the provider failed")]
    Transport,
    /// The response body exceeded the size limit.
    #[error("the provider's response is too large")]
    TooLarge,
}

fn shared_client() -> Result<&'static reqwest::Client, HttpError> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(build_client)
        .as_ref()
        .map_err(|e| HttpError::Build(e.clone()))
}

/// Installs rustls's `ring` crypto provider as the process default unless one
/// is installed already, so that code building a rustls config without
/// naming a provider finds one. The OAuth client names its provider itself.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn build_client() -> Result<reqwest::Client, String> {
    install_crypto_provider();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        // OAuth 2 security BCP: never follow redirects from the token,
        // userinfo or discovery endpoints.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("auth-engine/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// A handle on the shared client with a per-request timeout.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Http {
    client: &'static reqwest::Client,
    timeout: Duration,
}

impl Http {
    /// The shared client with `timeout` on every request.
    pub(crate) fn new(timeout: Duration) -> Result<Self, HttpError> {
        Ok(Self {
            client: shared_client()?,
            timeout,
        })
    }

    /// Sends `request` and reads the whole (size-capped) response.
    pub(crate) async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, HttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let builder = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .timeout(self.timeout);
        let mut response = builder.send().await.map_err(map_reqwest)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_reqwest)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let mut out = http::Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }

    /// `GET url` with `Authorization: Bearer access_token`, expecting JSON.
    pub(crate) async fn get_bearer_json(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<(http::StatusCode, Vec<u8>), HttpError> {
        let request = http::Request::builder()
            .method(http::Method::GET)
            .uri(url)
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {access_token}"),
            )
            .body(Vec::new())
            .map_err(|_| HttpError::Transport)?;
        let response = self.send(request).await?;
        Ok((response.status(), response.into_body()))
    }
}

fn map_reqwest(error: reqwest::Error) -> HttpError {
    if error.is_timeout() {
        HttpError::Timeout
    } else {
        HttpError::Transport
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
