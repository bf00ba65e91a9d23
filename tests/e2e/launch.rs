//! How the test harness launches the components: their secrets, certificates and command lines, and the OSS's
//! port chosen before it starts.

use crate::helpers::{numbind, PlatformCertificate, Process, SystemOptions, SHORT_CODE, STARTUP_TIMEOUT};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

pub(crate) fn write_secret(path: &Path, secret: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, secret).expect("write secret");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod secret");
}

/// The OSS's and the platform's SP codes at the SMS centre when their links speak CMPP.
pub(crate) const CMPP_OSS_SP_CODE: &str = "900001";
pub(crate) const CMPP_PLATFORM_SP_CODE: &str = "900002";

/// The flags of a component's link to the SMS centre: SMPP over TLS as `system_id`, or CMPP as `sp_code` to the
/// SMS centre's CMPP listener under `over_cmpp`.
fn smsc_link_args(smpp_address: &str, (system_id, sp_code): (&str, &str), options: &SystemOptions) -> Vec<String> {
    match &options.cmpp_address {
        Some(cmpp) => {
            ["--smsc-protocol", "cmpp", "--smsc-address", cmpp, "--smsc-system-id", sp_code].map(str::to_owned).to_vec()
        }
        None => {
            ["--smsc-address", smpp_address, "--smsc-tls", "--smsc-system-id", system_id].map(str::to_owned).to_vec()
        }
    }
}

pub(crate) fn smsc_config_text(root: &Path, over_cmpp: bool) -> String {
    if over_cmpp {
        return format!(
            "[[accounts]]\nprotocol = \"cmpp\"\nsystem_id = \"{}\"\npassword_file = \"{}\"\nroutes = [\"{SHORT_CODE}\"]\n\n\
             [[accounts]]\nprotocol = \"cmpp\"\nsystem_id = \"{}\"\npassword_file = \"{}\"\nroutes = []\n",
            CMPP_OSS_SP_CODE,
            root.join("smsc-oss.password").display(),
            CMPP_PLATFORM_SP_CODE,
            root.join("smsc-platform.password").display()
        );
    }
    format!(
        "[[accounts]]\nsystem_id = \"oss\"\npassword_file = \"{}\"\nroutes = [\"{SHORT_CODE}\"]\nvendor_tlvs = true\n\n\
         [[accounts]]\nsystem_id = \"platform\"\npassword_file = \"{}\"\nroutes = []\nvendor_tlvs = true\n",
        root.join("smsc-oss.password").display(),
        root.join("smsc-platform.password").display()
    )
}

/// The services' certificates and the authority they chain to, in `<root>/tls`; returns the authority's file.
pub(crate) fn make_local_authority(root: &Path) -> PathBuf {
    let hosts = numbind_process::local_authority::loopback_hosts();
    let services = ["platform", "oss", "smsc"];
    let files = numbind_process::local_authority::ensure_local_authority(&root.join("tls"), &services, &hosts)
        .expect("a local certificate authority");
    files.authority_certificate()
}

/// Puts a certificate its clients must refuse in place of the platform's genuine one.
pub(crate) fn replace_platform_certificate(root: &Path, certificate: PlatformCertificate) {
    use numbind_process::local_authority::{loopback_hosts, CertificateAuthority, Validity, AUTHORITY_LIFETIME};
    let issued = match certificate {
        PlatformCertificate::Genuine => return,
        PlatformCertificate::Expired => {
            let authority = CertificateAuthority::read(&root.join("tls")).expect("the system's authority");
            let month_ago = std::time::SystemTime::now() - Duration::from_secs(30 * 24 * 3600);
            let validity = Validity { not_before: month_ago, not_after: month_ago + Duration::from_secs(3600) };
            authority.issue(&loopback_hosts(), validity)
        }
        PlatformCertificate::FromAnotherAuthority => {
            let stranger = CertificateAuthority::generate("stranger", Validity::from_now(AUTHORITY_LIFETIME))
                .expect("another authority");
            stranger.issue(&loopback_hosts(), Validity::from_now(AUTHORITY_LIFETIME))
        }
    };
    write_certificate(&root.join("tls"), "platform", &issued.expect("a certificate"));
}

/// Writes an issued certificate and its key (0600) as `<name>.pem` and `<name>.key` in `directory`.
pub(crate) fn write_certificate(
    directory: &Path,
    name: &str,
    issued: &numbind_process::local_authority::IssuedCertificate,
) -> numbind_process::tls::ServerCertificateFiles {
    let files = numbind_process::tls::ServerCertificateFiles {
        certificate_chain: directory.join(format!("{name}.pem")),
        private_key: directory.join(format!("{name}.key")),
    };
    numbind_process::local_authority::write_file(&files.certificate_chain, issued.chain_pem.as_bytes(), 0o644)
        .expect("write certificate");
    numbind_process::local_authority::write_file(&files.private_key, issued.key_pem.as_bytes(), 0o600)
        .expect("write key");
    files
}

/// An HTTP client that trusts exactly the certificate authorities in `ca_file`.
pub(crate) fn client_trusting(ca_file: &Path) -> reqwest::Client {
    numbind_process::tls::http_client_builder(Some(ca_file)).expect("the test authority").build().expect("client")
}

/// Adds `--tls-certificate-file` and `--tls-key-file` for `service`'s certificate in `<root>/tls`.
pub(crate) fn with_certificate<'a>(command: &'a mut Command, root: &Path, service: &str) -> &'a mut Command {
    command
        .arg("--tls-certificate-file")
        .arg(root.join("tls").join(format!("{service}.pem")))
        .arg("--tls-key-file")
        .arg(root.join("tls").join(format!("{service}.key")))
}

/// `[http, smpp, smpp-tls]` listen addresses.
pub(crate) fn smsc_command(root: &Path, [http, smpp, smpp_tls]: [&str; 3], options: &SystemOptions) -> Command {
    let mut command = numbind();
    command
        .args(["sms-sim", "--http", http, "--smpp", smpp, "--smpp-tls", smpp_tls])
        .args(["--redelivery-interval-ms", "300", "--data-dir"])
        .arg(root)
        .arg("--config")
        .arg(root.join("smsc.toml"));
    with_certificate(&mut command, root, "smsc");
    if options.duplicate_mo_deliveries {
        command.arg("--duplicate-mo-deliveries");
    }
    if let Some(cmpp) = &options.cmpp_address {
        command.args(["--cmpp", cmpp]);
    }
    with_log_filter(command, options)
}

pub(crate) fn with_log_filter(mut command: Command, options: &SystemOptions) -> Command {
    if let Some(filter) = options.log_filter {
        command.env("RUST_LOG", filter);
    }
    command
}

/// How many ports `start_platform_and_oss` tries for the OSS before the test fails.
const OSS_PORT_ATTEMPTS: usize = 5;

/// Starts the platform and the OSS. Each calls the other, so the OSS's address is chosen before either starts;
/// should something else take that port before the OSS binds it, both start again on another one.
pub(crate) async fn start_platform_and_oss(
    root: &Path,
    (smpp_address, smsc_api_url): (&str, &str),
    options: &SystemOptions,
) -> (Process, String, Process, String) {
    for _ in 0..OSS_PORT_ATTEMPTS {
        let oss_address = free_loopback_address();
        let oss_url = format!("https://{oss_address}");
        let smsc = (smpp_address, smsc_api_url);
        let mut platform =
            Process::spawn("platform", platform_command(root, "127.0.0.1:0", smsc, &oss_url, options), root);
        let platform_url = format!("https://{}", platform.wait_listening(&["http"]).await.remove(0));
        let mut oss = Process::spawn(
            "oss-sim",
            with_log_filter(oss_command(root, &oss_address, &platform_url, smpp_address, options), options),
            root,
        );
        if oss.try_wait_listening(&["http"]).await.is_some() {
            return (platform, platform_url, oss, oss_url);
        }
        let _ = oss.wait_exit(STARTUP_TIMEOUT).await;
        assert!(oss.stderr().contains("Address already in use"), "oss-sim did not start:\n{}", oss.stderr());
        platform.child.start_kill().expect("SIGKILL");
        let _ = platform.child.wait().await;
    }
    panic!("oss-sim found its port taken {OSS_PORT_ATTEMPTS} times");
}

/// A loopback address that was free a moment ago, for a component that must be known before it starts. It is
/// taken below the kernel's ephemeral range, which `bind(0)` listeners and the source ports of outgoing
/// connections use: there, the other components' connections cannot take it before the component binds it (they
/// did in CI once: the OSS found its port in use).
pub(crate) fn free_loopback_address() -> String {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let below_ephemeral = 10_000..ephemeral_start;
    if below_ephemeral.len() >= 1_000 {
        for _ in 0..100 {
            let port = below_ephemeral.start + (random_u64() % below_ephemeral.len() as u64) as u16;
            if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                return listener.local_addr().expect("its address").to_string();
            }
        }
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").to_string()
}

/// 64 random bits from the standard library's per-process hash keys and a counter (no RNG dependency for tests).
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    hasher.finish()
}

/// The platform's command line; `smsc` is the SMS centre's SMPP (or CMPP) address and its HTTP API's URL.
pub(crate) fn platform_command(
    root: &Path,
    http: &str,
    (smpp_address, smsc_api_url): (&str, &str),
    oss_url: &str,
    options: &SystemOptions,
) -> Command {
    let mut command = numbind();
    command
        .args(["platform", "--http", http, "--oss-url", oss_url, "--smsc-api-url", smsc_api_url, "--data-dir"])
        .arg(root)
        .arg("--oss-secret-file")
        .arg(root.join("oss-platform.secret"))
        .args(smsc_link_args(smpp_address, ("platform", CMPP_PLATFORM_SP_CODE), options))
        .arg("--smsc-password-file")
        .arg(root.join("smsc-platform.password"))
        .arg("--ca-file")
        .arg(root.join("tls").join("ca.pem"))
        .args(["--activation-ttl-seconds", &options.activation_ttl_seconds.to_string()])
        .args(["--audit-checkpoint-interval-seconds", "1"]);
    with_certificate(&mut command, root, "platform");
    if options.require_manifest {
        command.arg("--require-manifest");
    }
    if let Some(database) = &options.platform_database {
        command.arg("--database").arg(database);
    }
    with_log_filter(command, options)
}

pub(crate) fn oss_command(
    root: &Path,
    http: &str,
    platform_url: &str,
    smpp_address: &str,
    options: &SystemOptions,
) -> Command {
    let mut command = numbind();
    command
        .args(["oss-sim", "serve", "--http", http, "--data-dir"])
        .arg(root)
        .args(["--platform-url", platform_url, "--platform-secret-file"])
        .arg(root.join("oss-platform.secret"))
        .args(smsc_link_args(smpp_address, ("oss", CMPP_OSS_SP_CODE), options))
        .arg("--smsc-password-file")
        .arg(root.join("smsc-oss.password"))
        .arg("--ca-file")
        .arg(root.join("tls").join("ca.pem"))
        .arg("--platform-public-key-file")
        .arg(root.join("platform-signing.key.pub"))
        .arg("--admin-token-file")
        .arg(root.join("oss-admin.token"))
        .arg("--seed-demo");
    with_certificate(&mut command, root, "oss");
    command
}
