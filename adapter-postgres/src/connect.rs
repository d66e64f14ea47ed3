//! From a connection URL to a tokio-postgres [`Config`] and the TLS
//! settings, and from those to a pool of connections.
//!
//! tokio-postgres parses libpq URLs itself but knows fewer parameters than
//! libpq (and than sqlx, which this crate used before): `sslmode` only
//! `disable`, `prefer` and `require`, and no `sslrootcert`, `sslcert` or
//! `sslkey`, and it refuses parameters it does not know. [`parse_url`] takes
//! those out of the URL first and keeps them in [`TlsOptions`], turns
//! `options[name]=value` into `-c name=value`, and drops the parameters no
//! PostgreSQL client here uses (`?schema=public` of a Prisma URL, say), so
//! that every URL the adapter took before still works.

use std::path::PathBuf;
use std::str::FromStr;

use tokio_postgres::config::{Config, SslMode};

/// How much of the server's certificate is checked (with TLS at all, which
/// the `sslmode` of the [`Config`] decides), as libpq's `sslmode` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Verify {
    /// `prefer` and `require`: encrypted, the certificate not checked.
    #[default]
    Nothing,
    /// `verify-ca`: the certificate chains to a trusted root.
    Chain,
    /// `verify-full`: that, and it names the host connected to.
    Full,
}

/// The TLS parameters of a URL that tokio-postgres does not take itself.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsOptions {
    pub verify: Verify,
    /// `sslrootcert`: PEM certificates trusted besides the webpki roots.
    pub root_cert: Option<PathBuf>,
    /// `sslcert`: the client's PEM certificate chain.
    pub client_cert: Option<PathBuf>,
    /// `sslkey`: the client's PEM private key.
    pub client_key: Option<PathBuf>,
}

/// The parameters tokio-postgres reads from a URL's query, passed on as
/// they are.
const PASSED_ON: &[&str] = &[
    "user",
    "password",
    "dbname",
    "application_name",
    "sslnegotiation",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// The connection settings of `url`, a `postgres://` or `postgresql://`
/// URL (or a libpq key-value string, which tokio-postgres parses as it
/// is). As libpq, the environment variables `PGHOST`, `PGPORT`, `PGUSER`,
/// `PGPASSWORD`, `PGDATABASE`, `PGAPPNAME`, `PGOPTIONS`, `PGSSLMODE`,
/// `PGSSLROOTCERT`, `PGSSLCERT` and `PGSSLKEY` fill in what the URL leaves
/// out. The error never quotes the URL (it may hold a password).
pub(crate) fn parse_url(url: &str) -> Result<(Config, TlsOptions), String> {
    let mut tls = TlsOptions::default();
    let mut ssl_mode = None;
    let mut options: Vec<String> = Vec::new();
    let mut config = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut parsed = url::Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
        let mut kept: Vec<(String, String)> = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match &*key {
                "sslmode" | "ssl-mode" => ssl_mode = Some(value.into_owned()),
                "sslrootcert" | "ssl-root-cert" | "ssl-ca" => {
                    tls.root_cert = Some(PathBuf::from(&*value));
                }
                "sslcert" | "ssl-cert" => tls.client_cert = Some(PathBuf::from(&*value)),
                "sslkey" | "ssl-key" => tls.client_key = Some(PathBuf::from(&*value)),
                "options" => options.push(value.into_owned()),
                other => {
                    if let Some(name) = other
                        .strip_prefix("options[")
                        .and_then(|k| k.strip_suffix(']'))
                    {
                        options.push(setting(name, &value));
                    } else if PASSED_ON.contains(&other) {
                        kept.push((key.into_owned(), value.into_owned()));
                    }
                    // Anything else (`statement-cache-capacity`, Prisma's
                    // `schema`, ...) is not a connection setting: ignored.
                }
            }
        }
        parsed.set_query(None);
        if !kept.is_empty() {
            parsed.query_pairs_mut().extend_pairs(&kept);
        }
        Config::from_str(parsed.as_str())
    } else {
        Config::from_str(url)
    }
    .map_err(|e| e.to_string())?;

    // What the URL leaves out, from the environment.
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        config.host(env("PGHOST").as_deref().unwrap_or("localhost"));
    }
    if config.get_ports().is_empty()
        && let Some(port) = env("PGPORT")
    {
        let port = port
            .parse()
            .map_err(|_| "PGPORT is not a port number".to_owned())?;
        config.port(port);
    }
    if config.get_user().is_none()
        && let Some(user) = env("PGUSER")
    {
        config.user(user);
    }
    if config.get_password().is_none()
        && let Some(password) = env("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_dbname().is_none()
        && let Some(dbname) = env("PGDATABASE")
    {
        config.dbname(dbname);
    }
    if config.get_application_name().is_none()
        && let Some(name) = env("PGAPPNAME")
    {
        config.application_name(name);
    }
    if ssl_mode.is_none() {
        ssl_mode = env("PGSSLMODE");
    }
    if tls.root_cert.is_none() {
        tls.root_cert = env("PGSSLROOTCERT").map(PathBuf::from);
    }
    if tls.client_cert.is_none() {
        tls.client_cert = env("PGSSLCERT").map(PathBuf::from);
    }
    if tls.client_key.is_none() {
        tls.client_key = env("PGSSLKEY").map(PathBuf::from);
    }

    if let Some(mode) = ssl_mode {
        let (mode, verify) = match mode.as_str() {
            "disable" => (SslMode::Disable, Verify::Nothing),
            // tokio-postgres has no `allow` (plain first, then TLS): TLS
            // first, then plain, as `prefer`.
            "allow" | "prefer" => (SslMode::Prefer, Verify::Nothing),
            "require" => (SslMode::Require, Verify::Nothing),
            "verify-ca" => (SslMode::Require, Verify::Chain),
            "verify-full" => (SslMode::Require, Verify::Full),
            _ => {
                return Err(
                    "sslmode must be disable, allow, prefer, require, verify-ca or verify-full"
                        .to_owned(),
                );
            }
        };
        config.ssl_mode(mode);
        tls.verify = verify;
    }
    if let Some(own) = config.get_options() {
        options.insert(0, own.to_owned());
    }
    if options.is_empty()
        && let Some(env_options) = env("PGOPTIONS")
    {
        options.push(env_options);
    }
    if !options.is_empty() {
        config.options(options.join(" "));
    }
    Ok((config, tls))
}

/// `name=value` as one `-c` switch of the startup `options`, escaped as the
/// server splits them: a backslash before each backslash and white space.
pub(crate) fn setting(name: &str, value: &str) -> String {
    let mut out = String::with_capacity(name.len() + value.len() + 4);
    out.push_str("-c ");
    for c in name.chars().chain(['=']).chain(value.chars()) {
        if c == '\\' || c.is_ascii_whitespace() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `config`'s startup options with `before` put before them (defaults the
/// URL may override) and `after` after them (settings the adapter
/// enforces: the server applies the last of several `-c` switches of one
/// name).
pub(crate) fn with_settings(config: &mut Config, before: &[(&str, &str)], after: &[(&str, &str)]) {
    let mut options: Vec<String> = before.iter().map(|(n, v)| setting(n, v)).collect();
    if let Some(own) = config.get_options().filter(|o| !o.is_empty()) {
        options.push(own.to_owned());
    }
    options.extend(after.iter().map(|(n, v)| setting(n, v)));
    config.options(options.join(" "));
}

#[cfg(feature = "tls")]
pub(crate) mod tls {
    //! The rustls connector: the webpki roots (and `sslrootcert`), the
    //! ring crypto provider, and libpq's checks per `sslmode`.

    use std::sync::Arc;

    use auth_core::{AdapterError, Result};
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
    use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
    use tokio_postgres_rustls::MakeRustlsConnect;

    use super::{TlsOptions, Verify};

    /// The connector for `options`. Reads the certificate and key files.
    ///
    /// Errors: `InvalidInput` naming `sslrootcert`, `sslcert` or `sslkey`
    /// for a file that cannot be read or holds no usable PEM item.
    pub(crate) fn connector(options: &TlsOptions) -> Result<MakeRustlsConnect> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(AdapterError::backend)?;
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = &options.root_cert {
            let pem = std::fs::read(path)
                .map_err(|e| AdapterError::invalid_input("sslrootcert", e.to_string()))?;
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert =
                    cert.map_err(|e| AdapterError::invalid_input("sslrootcert", e.to_string()))?;
                roots
                    .add(cert)
                    .map_err(|e| AdapterError::invalid_input("sslrootcert", e.to_string()))?;
                added += 1;
            }
            if added == 0 {
                return Err(AdapterError::invalid_input(
                    "sslrootcert",
                    "the file holds no PEM certificate",
                ));
            }
        }
        let builder = match options.verify {
            Verify::Full => builder.with_root_certificates(roots),
            Verify::Chain => {
                let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| AdapterError::invalid_input("sslrootcert", e.to_string()))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyHostName(chain)))
            }
            Verify::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))),
        };
        let config = match (&options.client_cert, &options.client_key) {
            (Some(cert), Some(key)) => {
                let pem = std::fs::read(cert)
                    .map_err(|e| AdapterError::invalid_input("sslcert", e.to_string()))?;
                let chain = CertificateDer::pem_slice_iter(&pem)
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| AdapterError::invalid_input("sslcert", e.to_string()))?;
                let pem = std::fs::read(key)
                    .map_err(|e| AdapterError::invalid_input("sslkey", e.to_string()))?;
                let key = PrivateKeyDer::from_pem_slice(&pem)
                    .map_err(|e| AdapterError::invalid_input("sslkey", e.to_string()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| AdapterError::invalid_input("sslkey", e.to_string()))?
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(AdapterError::invalid_input(
                    "sslcert",
                    "a client certificate needs both sslcert and sslkey",
                ));
            }
            (None, None) => builder.with_no_client_auth(),
        };
        Ok(MakeRustlsConnect::new(config))
    }

    /// `require` and `prefer`: any certificate (the handshake's signatures
    /// are still checked against it), as libpq does.
    #[derive(Debug)]
    struct AnyCertificate(Arc<CryptoProvider>);

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> std::result::Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// `verify-ca`: the chain is checked, the host name is not.
    #[derive(Debug)]
    struct AnyHostName(Arc<WebPkiServerVerifier>);

    impl ServerCertVerifier for AnyHostName {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            now: UnixTime,
        ) -> std::result::Result<ServerCertVerified, rustls::Error> {
            match self.0.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            self.0.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
            self.0.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.supported_verify_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::config::Host;

    #[test]
    fn sqlx_urls_still_parse() {
        let (config, tls) = parse_url(
            "postgres://app:s%20cret@db.internal:6543/app?sslmode=verify-full\
             &sslrootcert=/etc/ca.pem&statement-cache-capacity=10&schema=public\
             &options[search_path]=a%20b&application_name=svc",
        )
        .unwrap();
        assert_eq!(config.get_hosts(), [Host::Tcp("db.internal".into())]);
        assert_eq!(config.get_ports(), [6543]);
        assert_eq!(config.get_user(), Some("app"));
        assert_eq!(config.get_password(), Some(&b"s cret"[..]));
        assert_eq!(config.get_dbname(), Some("app"));
        assert_eq!(config.get_application_name(), Some("svc"));
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert_eq!(config.get_options(), Some(r"-c search_path=a\ b"));
        assert_eq!(tls.verify, Verify::Full);
        assert_eq!(tls.root_cert, Some(PathBuf::from("/etc/ca.pem")));

        let (config, tls) = parse_url("postgresql://u@h/d?sslmode=require").unwrap();
        assert_eq!(config.get_ssl_mode(), SslMode::Require);
        assert_eq!(tls.verify, Verify::Nothing);
        assert!(parse_url("postgres://u@h/d?sslmode=sometimes").is_err());
        assert!(parse_url("not a url").is_err());
        let err = parse_url("postgres://u:hunter2@h:notaport/d").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn settings_are_escaped_and_ordered() {
        assert_eq!(
            setting("search_path", r#""a b\c""#),
            r#"-c search_path="a\ b\\c""#
        );
        let mut config = Config::new();
        config.options("-c TimeZone=Europe/Paris");
        with_settings(
            &mut config,
            &[("TimeZone", "UTC")],
            &[("lock_timeout", "5ms")],
        );
        assert_eq!(
            config.get_options(),
            Some("-c TimeZone=UTC -c TimeZone=Europe/Paris -c lock_timeout=5ms")
        );
    }
}
