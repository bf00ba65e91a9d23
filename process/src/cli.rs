//! The TLS flags every service's command line shares: the certificate a server serves, and whom a client trusts.

use crate::tls::{client_config, ServerCertificateFiles, TlsError};
use std::path::PathBuf;

/// `--tls-certificate-file` and `--tls-key-file`: serve over TLS with these PEM files.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerTlsArgs {
    /// Serve over TLS with this PEM certificate chain (with `--tls-key-file`); read again when it changes.
    #[arg(long, env = "NUMBIND_TLS_CERTIFICATE_FILE", requires = "tls_key_file")]
    pub tls_certificate_file: Option<PathBuf>,
    /// The PEM private key of `--tls-certificate-file` (refused when readable by group or others).
    #[arg(long, env = "NUMBIND_TLS_KEY_FILE", requires = "tls_certificate_file")]
    pub tls_key_file: Option<PathBuf>,
}

impl ServerTlsArgs {
    /// The files, when both are given.
    pub fn certificate_files(&self) -> Option<ServerCertificateFiles> {
        match (&self.tls_certificate_file, &self.tls_key_file) {
            (Some(certificate_chain), Some(private_key)) => Some(ServerCertificateFiles {
                certificate_chain: certificate_chain.clone(),
                private_key: private_key.clone(),
            }),
            _ => None,
        }
    }
}

/// `--ca-file` and `--smsc-tls`: whom a service trusts for its own calls, and whether it reaches the SMS centre
/// over TLS.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientTlsArgs {
    /// PEM certificate authorities trusted for this service's own calls over TLS (no system roots).
    #[arg(long, env = "NUMBIND_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Reach the SMS centre with SMPP over TLS (`--smsc-address` is then its TLS listener); its certificate must
    /// chain to `--ca-file`.
    #[arg(
        long,
        env = "NUMBIND_SMSC_TLS",
        requires = "ca_file",
        default_value_t = false,
        value_parser = clap::builder::BoolishValueParser::new(),
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub smsc_tls: bool,
}

impl ClientTlsArgs {
    /// The TLS client configuration for the SMS centre link, when `--smsc-tls` is given.
    pub fn smsc_client_config(&self) -> Result<Option<rustls::ClientConfig>, TlsError> {
        match (&self.ca_file, self.smsc_tls) {
            (Some(ca_file), true) => Ok(Some(client_config(ca_file)?)),
            _ => Ok(None),
        }
    }
}
