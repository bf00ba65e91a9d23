//! A local certificate authority: what `numbind up` and `numbind tls init` make on first start, so that every
//! link is TLS with real certificates without an operator's PKI. Boxes and clients pin the authority
//! (`ca.pem`); each service gets its own certificate for the loopback names and the hosts it is given.
//!
//! Layout of the directory (keys 0600, the directory 0700):
//! `ca.pem`, `ca.key`, and for each service `<service>.pem` and `<service>.key`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Why the authority or a certificate cannot be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalAuthorityError {
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "{directory} holds a certificate authority but not {missing}; remove the directory to make a new \
         authority (boxes must then pin the new ca.pem), or put your own certificate and key there"
    )]
    Incomplete { directory: PathBuf, missing: PathBuf },
}

/// When a certificate is valid.
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

impl Validity {
    /// From an hour ago (clocks differ a little) for `lifetime`.
    pub fn from_now(lifetime: Duration) -> Validity {
        let now = SystemTime::now();
        Validity { not_before: now - Duration::from_secs(3600), not_after: now + lifetime }
    }
}

/// The authority's certificate lives ten years; a service certificate one year (renew with `numbind tls renew`,
/// which the servers pick up without a restart).
pub const AUTHORITY_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);
pub const SERVICE_CERTIFICATE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// An authority held in memory: its certificate and its key.
pub struct CertificateAuthority {
    certificate: rcgen::Certificate,
    key: rcgen::KeyPair,
}

/// A certificate issued by an authority (directly: the chain is the leaf alone) and its key, both PEM.
pub struct IssuedCertificate {
    pub chain_pem: String,
    pub key_pem: String,
}

impl CertificateAuthority {
    /// A new authority named `common_name` (ECDSA P-256).
    pub fn generate(common_name: &str, validity: Validity) -> Result<CertificateAuthority, LocalAuthorityError> {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        params.distinguished_name.push(rcgen::DnType::OrganizationName, "numbind");
        set_validity(&mut params, validity);
        let certificate = params.self_signed(&key)?;
        Ok(CertificateAuthority { certificate, key })
    }

    /// The authority of a directory made by `ensure_local_authority`, from its `ca.pem` and `ca.key`.
    pub fn read(directory: &Path) -> Result<CertificateAuthority, LocalAuthorityError> {
        let read = |name: &str| {
            let path = directory.join(name);
            fs::read_to_string(&path).map_err(|source| LocalAuthorityError::Read { path, source })
        };
        let key = rcgen::KeyPair::from_pem(&read("ca.key")?)?;
        // The same name and key as the original: what this signs verifies against the `ca.pem` boxes pinned.
        let certificate = rcgen::CertificateParams::from_ca_cert_pem(&read("ca.pem")?)?.self_signed(&key)?;
        Ok(CertificateAuthority { certificate, key })
    }

    pub fn certificate_pem(&self) -> String {
        self.certificate.pem()
    }

    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A server certificate for `hosts` (DNS names or IP addresses), signed by this authority.
    pub fn issue(&self, hosts: &[String], validity: Validity) -> Result<IssuedCertificate, LocalAuthorityError> {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(hosts.to_vec())?;
        params.distinguished_name.push(rcgen::DnType::CommonName, hosts.first().map_or("numbind", String::as_str));
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, validity);
        let certificate = params.signed_by(&key, &self.certificate, &self.key)?;
        Ok(IssuedCertificate { chain_pem: certificate.pem(), key_pem: key.serialize_pem() })
    }
}

fn set_validity(params: &mut rcgen::CertificateParams, validity: Validity) {
    params.not_before = time::OffsetDateTime::from(validity.not_before);
    params.not_after = time::OffsetDateTime::from(validity.not_after);
}

/// The names every local certificate carries: the loopback names.
pub fn loopback_hosts() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

/// The files of a local authority in `directory`.
#[derive(Debug, Clone)]
pub struct LocalAuthorityFiles {
    pub directory: PathBuf,
}

impl LocalAuthorityFiles {
    pub fn authority_certificate(&self) -> PathBuf {
        self.directory.join("ca.pem")
    }

    pub fn service(&self, service: &str) -> crate::tls::ServerCertificateFiles {
        crate::tls::ServerCertificateFiles {
            certificate_chain: self.directory.join(format!("{service}.pem")),
            private_key: self.directory.join(format!("{service}.key")),
        }
    }
}

/// Issues new service certificates from the authority in `directory` and replaces the old ones (each file by an
/// atomic rename); running servers serve them to new connections within `CERTIFICATE_RELOAD_INTERVAL`.
pub fn renew_service_certificates(
    directory: &Path,
    services: &[&str],
    hosts: &[String],
) -> Result<LocalAuthorityFiles, LocalAuthorityError> {
    let authority = CertificateAuthority::read(directory)?;
    let files = LocalAuthorityFiles { directory: directory.to_owned() };
    for service in services {
        write_service_certificate(&files, &authority, service, hosts)?;
    }
    Ok(files)
}

fn write_service_certificate(
    files: &LocalAuthorityFiles,
    authority: &CertificateAuthority,
    service: &str,
    hosts: &[String],
) -> Result<(), LocalAuthorityError> {
    let issued = authority.issue(hosts, Validity::from_now(SERVICE_CERTIFICATE_LIFETIME))?;
    let service_files = files.service(service);
    write_file(&service_files.private_key, issued.key_pem.as_bytes(), 0o600)?;
    write_file(&service_files.certificate_chain, issued.chain_pem.as_bytes(), 0o644)
}

/// Makes the authority and one certificate per service in `directory` unless they are there already.
pub fn ensure_local_authority(
    directory: &Path,
    services: &[&str],
    hosts: &[String],
) -> Result<LocalAuthorityFiles, LocalAuthorityError> {
    let files = LocalAuthorityFiles { directory: directory.to_owned() };
    if files.authority_certificate().exists() {
        for service in services {
            let service_files = files.service(service);
            for path in [service_files.certificate_chain, service_files.private_key] {
                if !path.exists() {
                    return Err(LocalAuthorityError::Incomplete { directory: directory.to_owned(), missing: path });
                }
            }
        }
        return Ok(files);
    }
    create_private_directory(directory)?;
    let authority = CertificateAuthority::generate("numbind local authority", Validity::from_now(AUTHORITY_LIFETIME))?;
    for service in services {
        write_service_certificate(&files, &authority, service, hosts)?;
    }
    write_file(&directory.join("ca.key"), authority.key_pem().as_bytes(), 0o600)?;
    // Written last: its presence means the directory is complete.
    write_file(&files.authority_certificate(), authority.certificate_pem().as_bytes(), 0o644)?;
    Ok(files)
}

fn create_private_directory(directory: &Path) -> Result<(), LocalAuthorityError> {
    let failed = |source| LocalAuthorityError::Write { path: directory.to_owned(), source };
    fs::create_dir_all(directory).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(directory, fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// Writes `bytes` to a temporary file with `mode`, syncs it and renames it over `path`.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), LocalAuthorityError> {
    let failed = |source| LocalAuthorityError::Write { path: path.to_owned(), source };
    let temporary = path.with_extension("partial");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temporary).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    fs::rename(&temporary, path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{client_config, web_client_config, ServerTls};

    #[test]
    fn a_new_authority_and_its_service_certificates_load_and_a_second_call_keeps_them() {
        let directory = tempfile::tempdir().unwrap();
        let tls = directory.path().join("tls");
        let files = ensure_local_authority(&tls, &["platform", "oss"], &loopback_hosts()).unwrap();
        ServerTls::load(files.service("platform")).unwrap();
        client_config(&files.authority_certificate()).unwrap();
        let before = fs::read(files.authority_certificate()).unwrap();
        ensure_local_authority(&tls, &["platform", "oss"], &loopback_hosts()).unwrap();
        assert_eq!(fs::read(files.authority_certificate()).unwrap(), before, "the authority boxes pinned stays");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&tls), 0o700);
            assert_eq!(mode(&tls.join("ca.key")), 0o600);
            assert_eq!(mode(&files.service("oss").private_key), 0o600);
        }
    }

    #[test]
    fn an_authority_missing_a_service_certificate_is_named_not_replaced() {
        let directory = tempfile::tempdir().unwrap();
        ensure_local_authority(directory.path(), &["platform"], &loopback_hosts()).unwrap();
        let outcome = ensure_local_authority(directory.path(), &["platform", "smsc"], &loopback_hosts());
        assert!(
            matches!(outcome, Err(LocalAuthorityError::Incomplete { missing, .. }) if missing.ends_with("smsc.pem"))
        );
    }

    /// A TLS handshake over an in-memory pipe: the client trusts `authority_file` only.
    async fn handshake(server: &ServerTls, authority_file: &Path) -> Result<(), std::io::Error> {
        handshake_with(server, client_config(authority_file).unwrap()).await
    }

    /// A TLS handshake over an in-memory pipe with the client configured by `client`.
    async fn handshake_with(server: &ServerTls, client: rustls::ClientConfig) -> Result<(), std::io::Error> {
        let connector = crate::tls::TlsConnector::from(std::sync::Arc::new(client));
        let (client_side, server_side) = tokio::io::duplex(64 * 1024);
        let name = crate::tls::server_name("127.0.0.1").unwrap();
        // Both ends are driven together and dropped together, so neither writes to a pipe the other closed.
        let (connected, accepted) =
            tokio::join!(connector.connect(name, client_side), server.acceptor().accept(server_side));
        match (connected, accepted) {
            (Ok(_), Ok(_)) => Ok(()),
            (Err(error), _) | (_, Err(error)) => Err(error),
        }
    }

    #[tokio::test]
    async fn a_renewed_certificate_chains_to_the_authority_boxes_pinned_and_is_served_without_a_restart() {
        let directory = tempfile::tempdir().unwrap();
        let files = ensure_local_authority(directory.path(), &["platform"], &loopback_hosts()).unwrap();
        let server = ServerTls::load(files.service("platform")).unwrap();
        handshake(&server, &files.authority_certificate()).await.unwrap();
        let before = fs::read(files.service("platform").certificate_chain).unwrap();
        // Modification times have a granularity; make sure the renewal is seen as a change.
        std::thread::sleep(Duration::from_millis(20));
        renew_service_certificates(directory.path(), &["platform"], &loopback_hosts()).unwrap();
        assert_ne!(fs::read(files.service("platform").certificate_chain).unwrap(), before);
        assert!(server.reload_if_changed().unwrap(), "the server sees the renewal");
        assert!(!server.reload_if_changed().unwrap(), "and reads it once");
        handshake(&server, &files.authority_certificate()).await.expect("the renewal chains to the pinned ca.pem");
    }

    #[tokio::test]
    async fn a_client_refuses_an_expired_certificate_and_one_from_another_authority() {
        let directory = tempfile::tempdir().unwrap();
        let files = ensure_local_authority(directory.path(), &["platform"], &loopback_hosts()).unwrap();
        let authority = CertificateAuthority::read(directory.path()).unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(30 * 24 * 3600);
        let expired = authority
            .issue(
                &loopback_hosts(),
                Validity { not_before: long_ago, not_after: long_ago + Duration::from_secs(3600) },
            )
            .unwrap();
        let expired_files = write_issued(directory.path(), "expired", &expired);
        let error = handshake(&ServerTls::load(expired_files).unwrap(), &files.authority_certificate()).await;
        assert!(error.unwrap_err().to_string().contains("expired"), "refused as expired");

        let stranger = CertificateAuthority::generate("someone else", Validity::from_now(AUTHORITY_LIFETIME)).unwrap();
        let foreign = stranger.issue(&loopback_hosts(), Validity::from_now(SERVICE_CERTIFICATE_LIFETIME)).unwrap();
        let foreign_files = write_issued(directory.path(), "foreign", &foreign);
        let error = handshake(&ServerTls::load(foreign_files).unwrap(), &files.authority_certificate()).await;
        assert!(error.unwrap_err().to_string().contains("UnknownIssuer"), "refused as unknown issuer");
    }

    fn write_issued(directory: &Path, name: &str, issued: &IssuedCertificate) -> crate::tls::ServerCertificateFiles {
        let files = crate::tls::ServerCertificateFiles {
            certificate_chain: directory.join(format!("{name}.pem")),
            private_key: directory.join(format!("{name}.key")),
        };
        write_file(&files.certificate_chain, issued.chain_pem.as_bytes(), 0o644).unwrap();
        write_file(&files.private_key, issued.key_pem.as_bytes(), 0o600).unwrap();
        files
    }

    #[cfg(unix)]
    #[test]
    fn a_service_key_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let directory = tempfile::tempdir().unwrap();
        let files = ensure_local_authority(directory.path(), &["platform"], &loopback_hosts()).unwrap();
        let key = files.service("platform").private_key;
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let outcome = ServerTls::load(files.service("platform"));
        assert!(matches!(outcome, Err(crate::tls::TlsError::KeyReadableByOthers { mode: 0o644, .. })));
    }

    #[tokio::test]
    async fn the_web_client_trusts_the_public_roots_and_the_operators_authority_only_when_given() {
        let directory = tempfile::tempdir().unwrap();
        let files = ensure_local_authority(directory.path(), &["platform"], &loopback_hosts()).unwrap();
        let server = ServerTls::load(files.service("platform")).unwrap();
        let with_operator_authority = web_client_config(Some(&files.authority_certificate())).unwrap();
        handshake_with(&server, with_operator_authority).await.unwrap();
        let public_only = web_client_config(None).unwrap();
        assert!(handshake_with(&server, public_only).await.is_err(), "a private authority is not a public root");
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100, "Mozilla's root set is built in");
    }
}
