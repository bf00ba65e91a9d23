//! The whole numbind system (SMS centre, platform, OSS) wired together and started from a [`SystemDescription`]:
//! what `numbind up` runs and what the bench measures, built in this one place so that the two cannot drift.
//!
//! Each component keeps its own SQLite file in the data directory and talks to the others over real sockets
//! (HTTPS and SMPP over TLS, or plain under [`Transport::PlainHttp`]), exactly as when they run as separate
//! processes. Secrets, a local certificate authority and the services' certificates are made on first start.
//!
//! Starting has two steps so that a caller can adjust the components' configurations in between:
//! [`SystemPlan::bind`] takes the data directory's locks, loads the secrets, binds every listener and builds the
//! three configurations; [`SystemPlan::start`] prepares the platform (key, certificate, database) and runs the
//! three on the current tokio runtime.

mod configs;
mod hub_routing;
mod running;
mod secrets;

pub use running::{RunningSystem, SystemAddresses};

use anyhow::Context;
use numbind_process::data_dir::StateLock;
use numbind_process::local_authority::LocalAuthorityFiles;
use numbind_wire::ShortCode;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};

/// The services whose certificates the local authority issues.
pub const TLS_SERVICES: [&str; 3] = ["platform", "oss", "smsc"];

/// The backlog of `tokio::net::TcpListener::bind`, which `numbind up` has always listened with.
pub const DEFAULT_LISTEN_BACKLOG: u32 = 1024;

/// How the components talk to each other and to their clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP and plain SMPP between the components.
    PlainHttp,
    /// HTTPS and SMPP over TLS, with certificates from the local authority in `<data-dir>/tls`.
    Tls,
}

/// Where each listener binds; port 0 picks a free port.
#[derive(Debug, Clone, Copy)]
pub struct ListenAddresses {
    /// Platform HTTP (terminals, OSS, operators).
    pub platform_http: SocketAddr,
    /// SMS centre HTTP (the phones).
    pub smsc_http: SocketAddr,
    /// SMS centre SMPP, plain (third-party ESMEs on this machine; the components' link under `PlainHttp`).
    pub smsc_smpp: SocketAddr,
    /// SMS centre SMPP over TLS (the components' link under `Tls`; not bound under `PlainHttp`).
    pub smsc_smpp_tls: SocketAddr,
    /// OSS admin HTTP.
    pub oss_http: SocketAddr,
    /// SMS centre CMPP 2.0/3.0 (the ISMG for CMPP service providers).
    pub smsc_cmpp: SocketAddr,
}

impl ListenAddresses {
    /// Every listener on 127.0.0.1, each on a free port.
    pub fn loopback_any_port() -> ListenAddresses {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        ListenAddresses {
            platform_http: any,
            smsc_http: any,
            smsc_smpp: any,
            smsc_smpp_tls: any,
            oss_http: any,
            smsc_cmpp: any,
        }
    }
}

/// What to start: where it keeps its files, where it listens, how it talks, what it seeds.
#[derive(Debug, Clone)]
pub struct SystemDescription {
    /// One SQLite file per component, the platform's signing key, the shared secrets, the local authority.
    pub data_dir: PathBuf,
    pub listen: ListenAddresses,
    /// Backlog of every listener.
    pub listen_backlog: u32,
    pub transport: Transport,
    /// The OSS seeds its demo subscribers (the README's walkthrough).
    pub seed_demo_subscribers: bool,
    /// The operator's short code that users text.
    pub short_code: ShortCode,
    /// Life of an activation code.
    pub activation_ttl: Duration,
    /// Who holds the components' state locks, as a second process on the directory is told.
    pub lock_holder: String,
    /// Create the demo merchant `demo-films` on the first start, its credentials in the data directory.
    pub demo_merchant: bool,
    /// The protocol of the platform's and the OSS's links to the SMS centre (default SMPP).
    pub smsc_protocol: numbind_sms_link::LinkProtocol,
    /// A national hub: one OSS per province (its own database `<data-dir>/oss-bj/oss.db`, SMS-centre account
    /// `oss-bj` and admin listener), the SMS centre and the platform routing by the demo segment table
    /// (`numbind_routing::DEMO_SEGMENTS_CSV`). Empty (the default): the operator's one OSS.
    pub provinces: Vec<numbind_routing::ProvinceCode>,
}

impl SystemDescription {
    /// Loopback on free ports, TLS, no demo subscribers, the platform's default activation life.
    pub fn new(data_dir: PathBuf, short_code: ShortCode, lock_holder: impl Into<String>) -> SystemDescription {
        SystemDescription {
            data_dir,
            listen: ListenAddresses::loopback_any_port(),
            listen_backlog: DEFAULT_LISTEN_BACKLOG,
            transport: Transport::Tls,
            seed_demo_subscribers: false,
            short_code,
            activation_ttl: Duration::from_secs(600),
            lock_holder: lock_holder.into(),
            demo_merchant: false,
            smsc_protocol: numbind_sms_link::LinkProtocol::Smpp,
            provinces: Vec::new(),
        }
    }
}

/// The system bound and configured, not yet running; the configurations may still be adjusted.
pub struct SystemPlan {
    pub platform: numbind_platform::Config,
    /// The one OSS; at a hub, the first province's.
    pub oss: numbind_oss_sim::Config,
    /// At a hub, the OSS of every other province, in the order of `SystemDescription::provinces`.
    pub other_provinces_oss: Vec<numbind_oss_sim::Config>,
    pub smsc: numbind_sms_sim::Config,
    listeners: Listeners,
    data_dir: PathBuf,
    authority: Option<LocalAuthorityFiles>,
    locks: Vec<StateLock>,
    demo_merchant: bool,
}

struct Listeners {
    platform_http: TcpListener,
    smsc_http: TcpListener,
    smsc_smpp: TcpListener,
    smsc_smpp_tls: Option<TcpListener>,
    smsc_cmpp: TcpListener,
    /// The one OSS's, or each province's.
    oss_http: Vec<TcpListener>,
}

impl SystemPlan {
    /// Locks the data directory, loads (or makes) the secrets and the local authority, binds every listener on
    /// the current runtime and builds the three configurations.
    pub async fn bind(description: &SystemDescription) -> anyhow::Result<SystemPlan> {
        numbind_process::data_dir::create_private_dir(&description.data_dir)?;
        let mut locks = lock_component_states(&description.data_dir, &description.lock_holder)?;
        let secrets = secrets::SystemSecrets::load_or_create(&description.data_dir.join("secrets"))?;
        let authority = match description.transport {
            Transport::Tls => Some(local_authority(&description.data_dir, &description.listen)?),
            Transport::PlainHttp => None,
        };
        let listeners = bind_all(description).await?;
        let linked_smpp = match &listeners.smsc_smpp_tls {
            Some(listener) => listener.local_addr()?,
            None => listeners.smsc_smpp.local_addr()?,
        };
        let links = configs::Links {
            smpp: linked_smpp.to_string(),
            cmpp: listeners.smsc_cmpp.local_addr()?.to_string(),
            platform_http: listeners.platform_http.local_addr()?,
            smsc_http: listeners.smsc_http.local_addr()?,
            oss_http: listeners.oss_http.iter().map(TcpListener::local_addr).collect::<Result<_, _>>()?,
            authority: authority.as_ref(),
        };
        let configs = configs::build(description, &secrets, &links)?;
        let mut oss = configs.oss.into_iter();
        let first_oss = oss.next().context("a system has at least one oss")?;
        let other_provinces_oss: Vec<numbind_oss_sim::Config> = oss.collect();
        for provincial in std::iter::once(&first_oss).chain(&other_provinces_oss).filter(|oss| oss.province.is_some()) {
            // Each province's OSS has a directory of its own, locked as a lone `numbind oss-sim serve` locks it.
            if let Some(directory) = provincial.database_path.parent() {
                numbind_process::data_dir::create_private_dir(directory)?;
                locks.push(numbind_process::data_dir::lock_state(directory, "oss", &description.lock_holder)?);
            }
        }
        Ok(SystemPlan {
            platform: configs.platform,
            oss: first_oss,
            other_provinces_oss,
            smsc: configs.smsc,
            listeners,
            data_dir: description.data_dir.clone(),
            authority,
            locks,
            demo_merchant: description.demo_merchant,
        })
    }

    /// Prepares the platform (its key, certificate and database are ready before this returns), pins its key in
    /// the OSS, and runs the three components on the current runtime until the system is stopped.
    pub async fn start(self) -> anyhow::Result<RunningSystem> {
        let SystemPlan {
            platform,
            mut oss,
            mut other_provinces_oss,
            smsc,
            listeners,
            data_dir,
            authority,
            locks,
            demo_merchant,
        } = self;
        let database_path = platform.database_path.clone();
        let mut smsc = smsc;
        let hub = !platform.provincial_oss_urls.is_empty() && platform.routing.is_none();
        if hub {
            hub_routing::import_the_demo_routing_once(&database_path).await?;
        }
        let platform = numbind_platform::prepare(platform).await?;
        if hub {
            hub_routing::follow_the_platforms_routing(&platform, &mut smsc)?;
        }
        let platform_key = platform.public_key();
        // The OSS refuses audit checkpoints not signed by this platform's key.
        let pinned = numbind_wire::statement::PinnedPlatformKeys::new(vec![platform_key.clone()]);
        for provincial in &mut other_provinces_oss {
            provincial.platform_keys = Some(pinned.clone());
        }
        oss.platform_keys = Some(pinned);
        let oss_addresses = listeners.oss_http.iter().map(TcpListener::local_addr).collect::<Result<Vec<_>, _>>()?;
        let provinces = std::iter::once(&oss).chain(&other_provinces_oss).filter_map(|config| config.province);
        let scheme = if authority.is_some() { "https" } else { "http" };
        let addresses = SystemAddresses {
            platform_http: listeners.platform_http.local_addr()?,
            platform_url: format!("{scheme}://{}", listeners.platform_http.local_addr()?),
            smsc_http: listeners.smsc_http.local_addr()?,
            smsc_smpp: listeners.smsc_smpp.local_addr()?,
            smsc_smpp_tls: listeners.smsc_smpp_tls.as_ref().map(TcpListener::local_addr).transpose()?,
            smsc_cmpp: listeners.smsc_cmpp.local_addr()?,
            oss_http: oss_addresses[0],
            provincial_oss_http: provinces.zip(oss_addresses.iter().copied()).collect(),
            platform_key,
            platform_key_file: data_dir.join("platform-signing.key.pub"),
            authority_certificate: authority.as_ref().map(LocalAuthorityFiles::authority_certificate),
            merchant_credentials: None,
        };
        let addresses = with_demo_merchant(addresses, demo_merchant, &database_path, &data_dir)?;
        let mut system = RunningSystem::new(addresses, locks);
        let smsc_listeners = numbind_sms_sim::Listeners {
            http: listeners.smsc_http,
            smpp: listeners.smsc_smpp,
            smpp_tls: listeners.smsc_smpp_tls,
            cmpp: Some(listeners.smsc_cmpp),
        };
        system.spawn("sms-sim", |stop| numbind_sms_sim::run(smsc, smsc_listeners, stop));
        system.spawn("platform", |stop| platform.serve(listeners.platform_http, stop));
        let mut oss_listeners = listeners.oss_http.into_iter();
        let first_listener = oss_listeners.next().context("a system has at least one oss listener")?;
        system.spawn("oss-sim", |stop| numbind_oss_sim::run(oss, first_listener, stop));
        for (provincial, listener) in other_provinces_oss.into_iter().zip(oss_listeners) {
            system.spawn("oss-sim (another province)", |stop| numbind_oss_sim::run(provincial, listener, stop));
        }
        Ok(system)
    }
}

/// Creates the demo merchant on the first start (the platform's database is migrated by now) and names its file.
fn with_demo_merchant(
    mut addresses: SystemAddresses,
    demo_merchant: bool,
    database_path: &Path,
    data_dir: &Path,
) -> anyhow::Result<SystemAddresses> {
    if !demo_merchant {
        return Ok(addresses);
    }
    let credentials = data_dir.join("merchant-demo-films.json");
    numbind_platform::merchant_admin::ensure_demo_merchant(
        database_path,
        &credentials,
        &addresses.platform_url,
        addresses.authority_certificate.as_deref(),
    )?;
    addresses.merchant_credentials = Some(credentials);
    Ok(addresses)
}

async fn bind_all(description: &SystemDescription) -> anyhow::Result<Listeners> {
    let backlog = description.listen_backlog;
    let addresses = &description.listen;
    Ok(Listeners {
        platform_http: bind(addresses.platform_http, backlog, "platform http")?,
        smsc_http: bind(addresses.smsc_http, backlog, "sms centre http")?,
        smsc_smpp: bind(addresses.smsc_smpp, backlog, "sms centre smpp")?,
        smsc_smpp_tls: match description.transport {
            Transport::Tls => Some(bind(addresses.smsc_smpp_tls, backlog, "sms centre smpp over tls")?),
            Transport::PlainHttp => None,
        },
        smsc_cmpp: bind(addresses.smsc_cmpp, backlog, "sms centre cmpp")?,
        oss_http: bind_oss_listeners(description)?,
    })
}

/// The one OSS's listener on `listen.oss_http`; at a hub, each province's on the next port (or each on a free
/// port when the address's port is 0).
fn bind_oss_listeners(description: &SystemDescription) -> anyhow::Result<Vec<TcpListener>> {
    let first = description.listen.oss_http;
    (0..description.provinces.len().max(1))
        .map(|index| {
            let mut address = first;
            if first.port() != 0 {
                let port = u16::try_from(usize::from(first.port()) + index).context("the oss ports run past 65535")?;
                address.set_port(port);
            }
            bind(address, description.listen_backlog, "oss http")
        })
        .collect()
}

/// Binds as `TcpListener::bind` does (`SO_REUSEADDR` on Unix), with the given backlog.
pub fn bind(address: SocketAddr, backlog: u32, name: &str) -> anyhow::Result<TcpListener> {
    let bound = || -> std::io::Result<TcpListener> {
        let socket = if address.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(address)?;
        socket.listen(backlog)
    };
    bound().with_context(|| format!("binding {name} on {address}"))
}

/// The local certificate authority in `<data-dir>/tls` (made on first start) and its service certificates, for
/// the loopback names and any other address the services are told to listen on.
pub fn local_authority(data_dir: &Path, listen: &ListenAddresses) -> anyhow::Result<LocalAuthorityFiles> {
    let mut hosts = numbind_process::local_authority::loopback_hosts();
    for address in [listen.platform_http, listen.oss_http, listen.smsc_smpp_tls] {
        let ip = address.ip();
        if !ip.is_loopback() && !ip.is_unspecified() && !hosts.contains(&ip.to_string()) {
            hosts.push(ip.to_string());
        }
    }
    let directory = data_dir.join("tls");
    numbind_process::local_authority::ensure_local_authority(&directory, &TLS_SERVICES, &hosts)
        .with_context(|| format!("the local certificate authority in {}", directory.display()))
}

/// Makes what a system keeps in its data directory before it starts (the owner-only directory, the shared secrets in
/// `secrets/`, under `Tls` the local authority and the services' certificates in `tls/`), without taking its locks or
/// binding anything: `numbind up --print-config` hands these files to components started one by one.
pub fn prepare_data_dir(description: &SystemDescription) -> anyhow::Result<()> {
    numbind_process::data_dir::create_private_dir(&description.data_dir)?;
    secrets::SystemSecrets::load_or_create(&description.data_dir.join("secrets"))?;
    if description.transport == Transport::Tls {
        local_authority(&description.data_dir, &description.listen)?;
    }
    Ok(())
}

/// Holds each component's state lock for as long as the system runs: a second system, or a component started
/// alone on this directory, is refused and told who has it.
fn lock_component_states(data_dir: &Path, holder: &str) -> anyhow::Result<Vec<StateLock>> {
    ["platform", "oss", "smsc"]
        .into_iter()
        .map(|component| Ok(numbind_process::data_dir::lock_state(data_dir, component, holder)?))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn description(directory: &Path, transport: Transport) -> SystemDescription {
        let mut description =
            SystemDescription::new(directory.to_owned(), ShortCode::parse("10658000").unwrap(), "a test");
        description.transport = transport;
        description
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_system_on_free_ports_listens_everywhere_and_stops_when_told() {
        let directory = tempfile::tempdir().unwrap();
        let system = SystemPlan::bind(&description(directory.path(), Transport::Tls)).await.unwrap().start().await;
        let system = system.unwrap();
        let addresses = system.addresses.clone();
        assert!(addresses.platform_url.starts_with("https://127.0.0.1:"));
        assert_eq!(addresses.authority_certificate, Some(directory.path().join("tls").join("ca.pem")));
        assert_eq!(addresses.linked_smpp(), addresses.smsc_smpp_tls.unwrap());
        for address in [addresses.platform_http, addresses.smsc_http, addresses.linked_smpp(), addresses.oss_http] {
            tokio::net::TcpStream::connect(address).await.unwrap();
        }
        assert!(SystemPlan::bind(&description(directory.path(), Transport::Tls)).await.is_err(), "the lock is held");
        system.supervise(std::future::ready(())).await.unwrap();
        assert!(directory.path().join("secrets").join("oss-platform.secret").exists());
    }

    #[tokio::test]
    async fn a_plain_system_has_no_tls_listener_and_no_authority() {
        let directory = tempfile::tempdir().unwrap();
        let plan = SystemPlan::bind(&description(directory.path(), Transport::PlainHttp)).await.unwrap();
        assert!(plan.platform.tls.is_none() && plan.oss.tls.is_none() && plan.smsc.tls.is_none());
        assert!(plan.oss.platform_url.starts_with("http://127.0.0.1:"));
        assert!(plan.listeners.smsc_smpp_tls.is_none());
        assert!(!directory.path().join("tls").exists());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hub_runs_one_oss_per_province_each_with_its_own_directory_and_listener() {
        let directory = tempfile::tempdir().unwrap();
        let mut hub = description(directory.path(), Transport::PlainHttp);
        hub.provinces = ["BJ", "GD"].map(|code| numbind_routing::ProvinceCode::parse(code).unwrap()).to_vec();
        let plan = SystemPlan::bind(&hub).await.unwrap();
        assert_eq!(plan.oss.province, hub.provinces.first().copied());
        assert_eq!(plan.other_provinces_oss.len(), 1);
        assert_eq!(plan.oss.database_path, directory.path().join("oss-bj").join("oss.db"));
        assert_eq!(plan.platform.provincial_oss_urls.len(), 2);
        assert!(plan.platform.oss_url.is_none() && plan.smsc.routing.is_some());
        assert!(plan.platform.routing.is_none(), "the platform routes by the version in its database");
        let provincial_accounts: Vec<_> = plan
            .smsc
            .accounts
            .iter()
            .filter_map(|account| Some((account.system_id.as_str(), account.province?)))
            .collect();
        assert_eq!(provincial_accounts, vec![("oss-bj", hub.provinces[0]), ("oss-gd", hub.provinces[1])]);
        let system = plan.start().await.unwrap();
        let addresses = system.addresses.clone();
        assert_eq!(addresses.provincial_oss_http.len(), 2);
        let imported = numbind_platform::routing_admin::active_routing_tables(&directory.path().join("platform.db"));
        let imported = imported.unwrap().expect("the demo table was imported at the first start");
        assert_eq!(imported.table.fingerprint, numbind_routing::RoutingTable::demo().version().to_string());
        for (_, address) in &addresses.provincial_oss_http {
            tokio::net::TcpStream::connect(address).await.unwrap();
        }
        system.supervise(std::future::ready(())).await.unwrap();
    }
}
