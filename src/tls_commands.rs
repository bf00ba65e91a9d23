//! `numbind tls init|renew`: the local certificate authority and the services' certificates, for running the
//! components one by one (`numbind up` makes the same files on its own first start).

use anyhow::Context;
use numbind_process::local_authority::{ensure_local_authority, loopback_hosts, renew_service_certificates};
use std::path::PathBuf;

/// The local certificate authority.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum TlsCommand {
    /// Make the authority (`ca.pem`, `ca.key`) and a certificate per service, unless they exist.
    Init(TlsArgs),
    /// Issue new service certificates from the existing authority; running services pick them up within
    /// 10 seconds, without a restart, and boxes keep trusting the same `ca.pem`.
    Renew(TlsArgs),
}

/// Where the files are and which names the certificates carry.
#[derive(clap::Args, Debug)]
pub(crate) struct TlsArgs {
    /// Directory of the authority and the certificates (created 0700).
    #[arg(long, env = "NUMBIND_TLS_DIR", default_value = "./data/tls")]
    dir: PathBuf,
    /// A DNS name or IP address the services are reached at, beside localhost, 127.0.0.1 and ::1; repeat it.
    #[arg(long = "host")]
    hosts: Vec<String>,
}

pub(crate) fn tls(command: TlsCommand) -> anyhow::Result<()> {
    let (args, renew) = match command {
        TlsCommand::Init(args) => (args, false),
        TlsCommand::Renew(args) => (args, true),
    };
    let mut hosts = loopback_hosts();
    hosts.extend(args.hosts.iter().cloned());
    let services = numbind_system::TLS_SERVICES;
    let files = if renew {
        renew_service_certificates(&args.dir, &services, &hosts)
    } else {
        ensure_local_authority(&args.dir, &services, &hosts)
    }
    .with_context(|| format!("the certificate authority in {}", args.dir.display()))?;
    println!("ca-file={}", files.authority_certificate().display());
    for service in services {
        let service_files = files.service(service);
        println!(
            "{service} certificate={} key={}",
            service_files.certificate_chain.display(),
            service_files.private_key.display()
        );
    }
    Ok(())
}
