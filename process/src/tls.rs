//! TLS for every numbind link: server certificates read from PEM files (and read again when they change, so a
//! certificate is rotated without a restart), and the certificate authorities a client trusts.
//!
//! Every configuration uses rustls on `ring` (the provider numbind already uses for its signatures), TLS 1.2 and
//! 1.3 with rustls's safe defaults, and no client authentication (callers authenticate inside: signatures, HMAC,
//! bearer tokens, SMPP bind).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

pub use rustls::client::Resumption;
pub use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Why a TLS configuration cannot be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")]
    NoPrivateKey { path: PathBuf },
    #[error("private key file {path} is readable by others (mode {mode:o}); chmod 600 it")]
    KeyReadableByOthers { path: PathBuf, mode: u32 },
    #[error("the certificate and key in {certificate} and {key} do not make a server configuration: {source}")]
    ServerConfig { certificate: PathBuf, key: PathBuf, source: rustls::Error },
    #[error("a certificate authority in {path} is not usable: {source}")]
    Authority { path: PathBuf, source: rustls::Error },
    #[error("{host:?} is not a valid TLS server name")]
    ServerName { host: String },
}

/// Where a server's certificate chain (leaf first) and private key are, both PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCertificateFiles {
    pub certificate_chain: PathBuf,
    pub private_key: PathBuf,
}

/// A server's TLS configuration, read again from its files when they change (`reload_if_changed`), so that a
/// renewed certificate is served to new connections without a restart; connections already open keep theirs.
#[derive(Clone)]
pub struct ServerTls {
    files: ServerCertificateFiles,
    current: Arc<RwLock<Loaded>>,
}

struct Loaded {
    acceptor: TlsAcceptor,
    modified: (Option<SystemTime>, Option<SystemTime>),
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ServerTls").field("files", &self.files).finish_non_exhaustive()
    }
}

/// How often a server looks at its certificate files for a renewal.
pub const CERTIFICATE_RELOAD_INTERVAL: Duration = Duration::from_secs(10);

impl ServerTls {
    /// Reads the files; fails when either is missing, malformed, or the key is readable by others.
    pub fn load(files: ServerCertificateFiles) -> Result<ServerTls, TlsError> {
        let loaded = load_server(&files)?;
        Ok(ServerTls { files, current: Arc::new(RwLock::new(loaded)) })
    }

    /// The acceptor for the next connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        match self.current.read() {
            Ok(loaded) => loaded.acceptor.clone(),
            Err(poisoned) => poisoned.into_inner().acceptor.clone(),
        }
    }

    /// Reads the files again when either changed since the last read. A renewal that does not load (a key
    /// written before its certificate, say) keeps the configuration in use and is reported.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let modified = modification_times(&self.files);
        let unchanged = self.current.read().map(|loaded| loaded.modified == modified).unwrap_or(false);
        if unchanged {
            return Ok(false);
        }
        let loaded = load_server(&self.files)?;
        match self.current.write() {
            Ok(mut current) => *current = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
        Ok(true)
    }

    /// Looks for a renewed certificate every `interval` until `shutdown`.
    pub async fn keep_reloading(self, interval: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = shutdown.cancelled() => return,
            }
            match self.reload_if_changed() {
                Ok(true) => {
                    tracing::info!(certificate = %self.files.certificate_chain.display(), "certificate reloaded")
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(error = %error, "renewed certificate not loaded; serving the previous one")
                }
            }
        }
    }
}

fn modification_times(files: &ServerCertificateFiles) -> (Option<SystemTime>, Option<SystemTime>) {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok();
    (modified(&files.certificate_chain), modified(&files.private_key))
}

fn load_server(files: &ServerCertificateFiles) -> Result<Loaded, TlsError> {
    let modified = modification_times(files);
    let chain = read_certificates(&files.certificate_chain)?;
    let key = read_private_key(&files.private_key)?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|source| TlsError::ServerConfig {
            certificate: files.certificate_chain.clone(),
            key: files.private_key.clone(),
            source,
        })?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Loaded { acceptor: TlsAcceptor::from(Arc::new(config)), modified })
}

/// rustls on `ring`. rustls deprecates its `ring` provider because `ring` has no post-quantum key exchange; every
/// numbind link therefore negotiates classical X25519 (or P-256), which is what `ring`, numbind's one crypto
/// library, offers.
#[allow(deprecated, reason = "ring has no post-quantum key exchange; numbind keeps one crypto library")]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

/// Every certificate in a PEM file, in order.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_file(path)?;
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok).collect();
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_owned() });
    }
    Ok(certificates)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    refuse_if_readable_by_others(path)?;
    let pem = read_file(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| TlsError::NoPrivateKey { path: path.to_owned() })
}

#[cfg(unix)]
fn refuse_if_readable_by_others(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(TlsError::KeyReadableByOthers { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_readable_by_others(_path: &Path) -> Result<(), TlsError> {
    Ok(())
}

/// A client configuration that trusts exactly the certificate authorities in `authorities_file` (PEM, one or
/// more: during a CA rotation the old and the new), and nothing else: no system roots.
pub fn client_config(authorities_file: &Path) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in read_certificates(authorities_file)? {
        roots.add(certificate).map_err(|source| TlsError::Authority { path: authorities_file.to_owned(), source })?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsError::Authority { path: authorities_file.to_owned(), source })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// An HTTP client that trusts exactly the authorities in `authorities_file` for `https://` (no system roots);
/// without a file, it can reach only `http://` URLs.
pub fn http_client_builder(authorities_file: Option<&Path>) -> Result<reqwest::ClientBuilder, TlsError> {
    let builder = reqwest::Client::builder().tls_built_in_root_certs(false);
    match authorities_file {
        Some(path) => Ok(builder.use_preconfigured_tls(client_config(path)?)),
        None => Ok(builder),
    }
}

/// An HTTP client for endpoints on the public internet (merchants' webhooks): it trusts the Web PKI's roots
/// (Mozilla's set, built in, so the answer does not depend on the host's certificate store) and, when given, the
/// authorities in `authorities_file` (a merchant inside the operator's network, or a test).
pub fn web_http_client_builder(authorities_file: Option<&Path>) -> Result<reqwest::ClientBuilder, TlsError> {
    let builder = reqwest::Client::builder().tls_built_in_root_certs(false);
    Ok(builder.use_preconfigured_tls(web_client_config(authorities_file)?))
}

/// The TLS configuration of [`web_http_client_builder`].
pub fn web_client_config(authorities_file: Option<&Path>) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = authorities_file {
        for certificate in read_certificates(path)? {
            roots.add(certificate).map_err(|source| TlsError::Authority { path: path.to_owned(), source })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsError::Authority { path: authorities_file.unwrap_or(Path::new("")).to_owned(), source })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// The name a client checks the server's certificate against: a DNS name or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|_| TlsError::ServerName { host: host.to_owned() })
}
