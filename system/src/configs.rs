//! The components' configurations for one system: the same secrets on both ends of every link, every link
//! pointed at the listener bound for it, over TLS when the system runs with TLS. A national hub has one OSS per
//! province, each with its own database and SMS-centre account, routed by the demo segment table.

use crate::secrets::SystemSecrets;
use crate::{SystemDescription, Transport};
use anyhow::Context;
use numbind_process::local_authority::LocalAuthorityFiles;
use numbind_routing::{ProvinceCode, RoutingTable};
use numbind_smpp::esme::{EsmeTls, SmscLink};
use numbind_sms_link::{CmppLink, CmppVersion, LinkConfig, LinkProtocol};
use numbind_wire::component_auth::ComponentSecret;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The OSS's and the platform's accounts at the SMS centre: SMPP system_id and CMPP SP code.
const OSS_ACCOUNT: (&str, &str) = ("oss", "900001");
const PLATFORM_ACCOUNT: (&str, &str) = ("platform", "900002");

/// A province's OSS account at a hub: `oss-bj`, and the SP code `9001NN` (NN its place in the list, from 01).
fn provincial_oss_account(province: ProvinceCode, index: usize) -> (String, String) {
    (format!("oss-{}", province.as_str().to_ascii_lowercase()), format!("9001{:02}", index + 1))
}

/// The SMS centre's accounts for the OSS (which receives the short code's MO; at a hub one per province, each
/// receiving its province's numbers') and the platform, of the protocol their links speak.
fn smsc_accounts(
    protocol: LinkProtocol,
    secrets: &SystemSecrets,
    short_code: &numbind_wire::ShortCode,
    provinces: &[ProvinceCode],
) -> Vec<numbind_sms_sim::EsmeAccount> {
    let account = match protocol {
        // numbind's own ESMEs dedupe redeliveries by the SMS centre's message ID, which travels in a vendor TLV.
        LinkProtocol::Smpp => |(system_id, _): (&str, &str), password: &str, routes| numbind_sms_sim::EsmeAccount {
            vendor_tlvs: true,
            ..numbind_sms_sim::EsmeAccount::new(system_id, password, routes)
        },
        LinkProtocol::Cmpp => |(_, sp_code): (&str, &str), password: &str, routes| {
            numbind_sms_sim::EsmeAccount::cmpp(sp_code, password, routes)
        },
    };
    let mut accounts: Vec<numbind_sms_sim::EsmeAccount> = provinces
        .iter()
        .enumerate()
        .map(|(index, province)| {
            let (system_id, sp_code) = provincial_oss_account(*province, index);
            let oss =
                account((system_id.as_str(), sp_code.as_str()), &secrets.smsc_oss_password, vec![short_code.clone()]);
            numbind_sms_sim::EsmeAccount { province: Some(*province), ..oss }
        })
        .collect();
    if provinces.is_empty() {
        accounts.push(account(OSS_ACCOUNT, &secrets.smsc_oss_password, vec![short_code.clone()]));
    }
    accounts.push(account(PLATFORM_ACCOUNT, &secrets.smsc_platform_password, vec![]));
    accounts
}

/// Where the components reach each other.
pub(crate) struct Links<'a> {
    /// The SMS centre's SMPP listener the platform and the OSS bind to (its TLS one under `Tls`).
    pub(crate) smpp: String,
    /// The SMS centre's CMPP listener (plain TCP), used when the system's links speak CMPP.
    pub(crate) cmpp: String,
    pub(crate) platform_http: SocketAddr,
    /// The SMS centre's HTTP API (plain HTTP), whose sent list payment reconciliation reads.
    pub(crate) smsc_http: SocketAddr,
    /// The OSS's admin listener, one per province at a hub (in the order of `SystemDescription::provinces`).
    pub(crate) oss_http: Vec<SocketAddr>,
    /// The local authority, under `Tls`.
    pub(crate) authority: Option<&'a LocalAuthorityFiles>,
}

impl Links<'_> {
    fn url(&self, address: SocketAddr) -> String {
        let scheme = if self.authority.is_some() { "https" } else { "http" };
        format!("{scheme}://{address}")
    }

    /// The link of an account to the SMS centre: SMPP as `system_id` (over TLS when the system has an
    /// authority), or CMPP 3.0 as the SP code `sp_code` (plain TCP), with the same password as secret.
    fn smsc_link(
        &self,
        protocol: LinkProtocol,
        (system_id, sp_code): (&str, &str),
        password: &str,
    ) -> anyhow::Result<LinkConfig> {
        if protocol == LinkProtocol::Cmpp {
            let link = CmppLink {
                address: self.cmpp.clone(),
                sp_code: sp_code.to_owned(),
                shared_secret: password.to_owned(),
                version: CmppVersion::V3,
            };
            return Ok(LinkConfig::Cmpp(link));
        }
        let mut link = SmscLink::new(self.smpp.clone(), system_id, password);
        if let Some(authority) = self.authority {
            let client_config = numbind_process::tls::client_config(&authority.authority_certificate())?;
            link.tls = Some(EsmeTls::new(client_config, &self.smpp)?);
        }
        Ok(LinkConfig::Smpp(link))
    }
}

pub(crate) struct Configs {
    pub(crate) platform: numbind_platform::Config,
    /// The one OSS, or each province's.
    pub(crate) oss: Vec<numbind_oss_sim::Config>,
    pub(crate) smsc: numbind_sms_sim::Config,
}

pub(crate) fn build(
    description: &SystemDescription,
    secrets: &SystemSecrets,
    links: &Links<'_>,
) -> anyhow::Result<Configs> {
    debug_assert_eq!(links.authority.is_some(), description.transport == Transport::Tls);
    let data_dir = &description.data_dir;
    let short_code = &description.short_code;
    let oss_secret = ComponentSecret::parse(&secrets.oss_platform).context("the OSS-platform secret")?;

    let mut platform = numbind_platform::Config::new(
        data_dir.join("platform.db"),
        data_dir.join("platform-signing.key"),
        short_code.clone(),
        oss_secret.clone(),
    );
    platform.activation_ttl = description.activation_ttl;
    let provinces = &description.provinces;
    if provinces.is_empty() {
        platform.oss_url = links.oss_http.first().map(|address| links.url(*address));
    } else {
        let urls = provinces.iter().zip(&links.oss_http).map(|(province, address)| (*province, links.url(*address)));
        // The platform routes by the version in its database (`SystemPlan::start` imports the demo table there
        // on the first start), so that `numbind routing import` changes a running hub.
        platform.provincial_oss_urls = urls.collect();
    }
    let protocol = description.smsc_protocol;
    platform.smsc = Some(links.smsc_link(protocol, PLATFORM_ACCOUNT, &secrets.smsc_platform_password)?);
    platform.smsc_api_url = Some(format!("http://{}", links.smsc_http));
    platform.tls = links.authority.map(|authority| authority.service("platform"));
    platform.trusted_authorities = links.authority.map(LocalAuthorityFiles::authority_certificate);

    let oss = if provinces.is_empty() {
        vec![oss_config(description, secrets, links, OSS_ACCOUNT, (None, data_dir.join("oss.db")))?]
    } else {
        let mut configs = Vec::new();
        for (index, province) in provinces.iter().enumerate() {
            let (system_id, sp_code) = provincial_oss_account(*province, index);
            let database = data_dir.join(&system_id).join("oss.db");
            let account = (system_id.as_str(), sp_code.as_str());
            configs.push(oss_config(description, secrets, links, account, (Some(*province), database))?);
        }
        configs
    };

    let smsc_accounts = smsc_accounts(protocol, secrets, short_code, provinces);
    let mut smsc = numbind_sms_sim::Config::new(data_dir.join("smsc.db"), smsc_accounts);
    smsc.tls = links.authority.map(|authority| authority.service("smsc"));
    smsc.routing = (!provinces.is_empty()).then(RoutingTable::demo);
    Ok(Configs { platform, oss, smsc })
}

/// One OSS: its SMS-centre account, its province (at a hub) and its database.
fn oss_config(
    description: &SystemDescription,
    secrets: &SystemSecrets,
    links: &Links<'_>,
    account: (&str, &str),
    (province, database_path): (Option<ProvinceCode>, PathBuf),
) -> anyhow::Result<numbind_oss_sim::Config> {
    let oss_secret = ComponentSecret::parse(&secrets.oss_platform).context("the OSS-platform secret")?;
    let oss_link = links.smsc_link(description.smsc_protocol, account, &secrets.smsc_oss_password)?;
    let mut oss = numbind_oss_sim::Config::new(
        database_path,
        links.url(links.platform_http),
        oss_secret,
        description.short_code.clone(),
        oss_link,
    );
    oss.province = province;
    oss.seed_demo_subscribers = description.seed_demo_subscribers;
    oss.admin_token = Some(secrets.oss_admin_token.clone());
    oss.tls = links.authority.map(|authority| authority.service("oss"));
    oss.trusted_authorities = links.authority.map(LocalAuthorityFiles::authority_certificate);
    Ok(oss)
}
