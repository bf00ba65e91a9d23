//! `numbind up`: the platform, the OSS and the SMS centre in one process on loopback, for local use, as
//! `numbind_system` wires them (every link over TLS, demo subscribers seeded).

use anyhow::Context;
use numbind_system::{ListenAddresses, RunningSystem, SystemDescription, SystemPlan, Transport};
use numbind_wire::ShortCode;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The provinces of `--provinces`, each once, in the order given; empty for `none`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Provinces(Vec<numbind_routing::ProvinceCode>);

/// `BJ,GD` (each an ISO 3166-2:CN code, a repeated one counted once) or `none`.
fn parse_provinces(text: &str) -> Result<Provinces, String> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(Provinces(Vec::new()));
    }
    let mut provinces = Vec::new();
    for code in text.split(',') {
        let province =
            numbind_routing::ProvinceCode::parse(code.trim()).map_err(|error| format!("{code:?}: {error}"))?;
        if !provinces.contains(&province) {
            provinces.push(province);
        }
    }
    Ok(Provinces(provinces))
}

/// Where everything listens and keeps its files.
#[derive(clap::Args, Debug)]
pub(crate) struct UpArgs {
    /// Data directory: one SQLite file per component, the platform's signing key, the shared secrets.
    #[arg(long, env = "NUMBIND_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Platform HTTP (terminals, OSS, operators).
    #[arg(long, env = "NUMBIND_PLATFORM_HTTP", default_value = "127.0.0.1:8080")]
    platform_http: SocketAddr,
    /// SMS centre HTTP (the phones).
    #[arg(long, env = "NUMBIND_SMSC_HTTP", default_value = "127.0.0.1:8081")]
    smsc_http: SocketAddr,
    /// SMS centre SMPP (plain, for third-party ESMEs on this machine).
    #[arg(long, env = "NUMBIND_SMSC_SMPP", default_value = "127.0.0.1:2775")]
    smsc_smpp: SocketAddr,
    /// SMS centre SMPP over TLS (the platform and the OSS bind here).
    #[arg(long, env = "NUMBIND_SMSC_SMPP_TLS", default_value = "127.0.0.1:3550")]
    smsc_smpp_tls: SocketAddr,
    /// SMS centre CMPP 2.0/3.0 (the ISMG for CMPP service providers).
    #[arg(long, env = "NUMBIND_SMSC_CMPP", default_value = "127.0.0.1:7890")]
    smsc_cmpp: SocketAddr,
    /// OSS admin HTTP: the first province's OSS, each next province's on the next port (`--provinces none`: the
    /// one OSS).
    #[arg(long, env = "NUMBIND_OSS_HTTP", default_value = "127.0.0.1:8082")]
    oss_http: SocketAddr,
    /// The national hub's provinces: one OSS per province (ISO 3166-2:CN codes, comma-separated), each with its
    /// own database (`oss-bj/oss.db`), SMS-centre account and admin listener and demo subscribers numbered in its
    /// demo segments; the SMS centre routes each number to its province by the demo segment table, which `up`
    /// imports into the platform's database on its first start. `none`: the operator's one OSS (`oss.db`, the
    /// single-OSS demo subscribers), no routing.
    #[arg(long, env = "NUMBIND_PROVINCES", default_value = "BJ,GD", value_parser = parse_provinces)]
    provinces: Provinces,
    /// The protocol of the platform's and the OSS's links to the SMS centre: `smpp` (over TLS) or `cmpp`
    /// (CMPP 3.0 to the `--smsc-cmpp` listener, plain TCP).
    #[arg(long, env = "NUMBIND_SMSC_PROTOCOL", default_value = "smpp")]
    smsc_protocol: numbind_sms_link::LinkProtocol,
    /// The operator's short code that users text.
    #[arg(long, env = "NUMBIND_SHORT_CODE", default_value = "10658000")]
    short_code: String,
    /// Life of an activation code, in seconds.
    #[arg(long, env = "NUMBIND_ACTIVATION_TTL_SECONDS", default_value_t = 600)]
    activation_ttl_seconds: u64,
    /// Do not start: write every file `up` uses (secrets, certificates, the SMS centre's accounts file; at a hub
    /// the segment table, imported into the platform's database) and a script starting each component (each
    /// province's OSS) on its own into DIR (as the data directory), print their command lines, and exit.
    #[arg(long, value_name = "DIR")]
    print_config: Option<PathBuf>,
}

impl UpArgs {
    fn to_description(&self) -> anyhow::Result<SystemDescription> {
        let short_code = ShortCode::parse(&self.short_code).context("--short-code")?;
        let mut description = SystemDescription::new(self.data_dir.clone(), short_code, "numbind up");
        description.listen = ListenAddresses {
            platform_http: self.platform_http,
            smsc_http: self.smsc_http,
            smsc_smpp: self.smsc_smpp,
            smsc_smpp_tls: self.smsc_smpp_tls,
            oss_http: self.oss_http,
            smsc_cmpp: self.smsc_cmpp,
        };
        description.transport = Transport::Tls;
        description.seed_demo_subscribers = true;
        description.demo_merchant = true;
        description.smsc_protocol = self.smsc_protocol;
        description.activation_ttl = std::time::Duration::from_secs(self.activation_ttl_seconds);
        let provinces = self.provinces.0.clone();
        let demo = numbind_routing::RoutingTable::demo();
        if let Some(province) =
            provinces.iter().find(|province| demo.segments().segments_of(**province).next().is_none())
        {
            anyhow::bail!("--provinces: the demo segment table has no segment of {province} (it has BJ and GD)");
        }
        description.provinces = provinces;
        Ok(description)
    }
}

pub(crate) async fn up(args: UpArgs) -> anyhow::Result<()> {
    if let Some(data_dir) = &args.print_config {
        return print_config(&args, data_dir.clone());
    }
    let description = args.to_description()?;
    // The platform's key, certificate and database are ready before anything is announced.
    let system = SystemPlan::bind(&description).await?.start().await?;
    // Listening for the stop signal before announcing: a signal right after the announcement stops gracefully.
    let stop = numbind_process::stop_signal();
    announce(&system)?;
    system.supervise(stop).await
}

/// `--print-config DIR`: the components' files and command lines, with DIR as their data directory.
fn print_config(args: &UpArgs, data_dir: PathBuf) -> anyhow::Result<()> {
    let mut description = args.to_description()?;
    description.data_dir = data_dir.clone();
    let plan = crate::up_config::ComponentPlan {
        data_dir,
        platform_http: args.platform_http,
        smsc_http: args.smsc_http,
        smsc_smpp: args.smsc_smpp,
        smsc_smpp_tls: args.smsc_smpp_tls,
        oss_http: args.oss_http,
        short_code: args.short_code.clone(),
        activation_ttl_seconds: args.activation_ttl_seconds,
        provinces: description.provinces.clone(),
    };
    crate::up_config::print_config(description, &plan)
}

fn announce(system: &RunningSystem) -> anyhow::Result<()> {
    let addresses = &system.addresses;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening platform-http={}", addresses.platform_http)?;
    writeln!(stdout, "listening smsc-http={}", addresses.smsc_http)?;
    writeln!(stdout, "listening smsc-smpp={}", addresses.smsc_smpp)?;
    if let Some(smpp_tls) = addresses.smsc_smpp_tls {
        writeln!(stdout, "listening smsc-smpp-tls={smpp_tls}")?;
    }
    writeln!(stdout, "listening smsc-cmpp={}", addresses.smsc_cmpp)?;
    writeln!(stdout, "listening oss-http={}", addresses.oss_http)?;
    for (province, address) in &addresses.provincial_oss_http {
        writeln!(stdout, "listening oss-http-{}={address}", province.as_str().to_ascii_lowercase())?;
    }
    writeln!(stdout, "platform-key={}", addresses.platform_key)?;
    writeln!(stdout, "platform-key-file={}", addresses.platform_key_file.display())?;
    if let Some(authority_certificate) = &addresses.authority_certificate {
        writeln!(stdout, "ca-file={}", authority_certificate.display())?;
    }
    if let Some(credentials) = &addresses.merchant_credentials {
        writeln!(stdout, "merchant-credentials={}", credentials.display())?;
    }
    stdout.flush()?;
    Ok(())
}
