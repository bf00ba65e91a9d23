//! The three components' configurations for one system: the same secrets on both ends of every link, every
//! link pointed at the listener bound for it, over TLS when the system runs with TLS.

use crate::secrets::SystemSecrets;
use crate::{SystemDescription, Transport};
use anyhow::Context;
use numbind_process::local_authority::LocalAuthorityFiles;
use numbind_smpp::esme::{EsmeTls, SmscLink};
use numbind_sms_link::{CmppLink, CmppVersion, LinkConfig, LinkProtocol};
use numbind_wire::component_auth::ComponentSecret;
use std::net::SocketAddr;

/// The OSS's and the platform's accounts at the SMS centre: SMPP system_id and CMPP SP code.
const OSS_ACCOUNT: (&str, &str) = ("oss", "900001");
const PLATFORM_ACCOUNT: (&str, &str) = ("platform", "900002");

/// The SMS centre's accounts for the OSS (which receives the short code's MO) and the platform, of the protocol
/// their links speak.
fn smsc_accounts(
    protocol: LinkProtocol,
    secrets: &SystemSecrets,
    short_code: &numbind_wire::ShortCode,
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
    vec![
        account(OSS_ACCOUNT, &secrets.smsc_oss_password, vec![short_code.clone()]),
        account(PLATFORM_ACCOUNT, &secrets.smsc_platform_password, vec![]),
    ]
}

/// Where the components reach each other.
pub(crate) struct Links<'a> {
    /// The SMS centre's SMPP listener the platform and the OSS bind to (its TLS one under `Tls`).
    pub(crate) smpp: String,
    /// The SMS centre's CMPP listener (plain TCP), used when the system's links speak CMPP.
    pub(crate) cmpp: String,
    pub(crate) platform_http: SocketAddr,
    pub(crate) oss_http: SocketAddr,
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
    pub(crate) oss: numbind_oss_sim::Config,
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
    platform.oss_url = Some(links.url(links.oss_http));
    let protocol = description.smsc_protocol;
    platform.smsc = Some(links.smsc_link(protocol, PLATFORM_ACCOUNT, &secrets.smsc_platform_password)?);
    platform.tls = links.authority.map(|authority| authority.service("platform"));
    platform.trusted_authorities = links.authority.map(LocalAuthorityFiles::authority_certificate);

    let oss_link = links.smsc_link(protocol, OSS_ACCOUNT, &secrets.smsc_oss_password)?;
    let mut oss = numbind_oss_sim::Config::new(
        data_dir.join("oss.db"),
        links.url(links.platform_http),
        oss_secret,
        short_code.clone(),
        oss_link,
    );
    oss.seed_demo_subscribers = description.seed_demo_subscribers;
    oss.admin_token = Some(secrets.oss_admin_token.clone());
    oss.tls = links.authority.map(|authority| authority.service("oss"));
    oss.trusted_authorities = links.authority.map(LocalAuthorityFiles::authority_certificate);

    let smsc_accounts = smsc_accounts(protocol, secrets, short_code);
    let mut smsc = numbind_sms_sim::Config::new(data_dir.join("smsc.db"), smsc_accounts);
    smsc.tls = links.authority.map(|authority| authority.service("smsc"));
    Ok(Configs { platform, oss, smsc })
}
