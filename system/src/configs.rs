//! The three components' configurations for one system: the same secrets on both ends of every link, every
//! link pointed at the listener bound for it, over TLS when the system runs with TLS.

use crate::secrets::SystemSecrets;
use crate::{SystemDescription, Transport};
use anyhow::Context;
use numbind_process::local_authority::LocalAuthorityFiles;
use numbind_smpp::esme::{EsmeTls, SmscLink};
use numbind_wire::component_auth::ComponentSecret;
use std::net::SocketAddr;

/// Where the components reach each other.
pub(crate) struct Links<'a> {
    /// The SMS centre's SMPP listener the platform and the OSS bind to (its TLS one under `Tls`).
    pub(crate) smpp: String,
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

    /// The SMPP link of `system_id` to the SMS centre, over TLS when the system has an authority.
    fn smsc_link(&self, system_id: &str, password: &str) -> anyhow::Result<SmscLink> {
        let mut link = SmscLink::new(self.smpp.clone(), system_id, password);
        if let Some(authority) = self.authority {
            let client_config = numbind_process::tls::client_config(&authority.authority_certificate())?;
            link.tls = Some(EsmeTls::new(client_config, &self.smpp)?);
        }
        Ok(link)
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
    platform.smsc = Some(links.smsc_link("platform", &secrets.smsc_platform_password)?);
    platform.tls = links.authority.map(|authority| authority.service("platform"));
    platform.trusted_authorities = links.authority.map(LocalAuthorityFiles::authority_certificate);

    let oss_link = links.smsc_link("oss", &secrets.smsc_oss_password)?;
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

    let mut oss_account =
        numbind_sms_sim::EsmeAccount::new("oss", &secrets.smsc_oss_password, vec![short_code.clone()]);
    let mut platform_account = numbind_sms_sim::EsmeAccount::new("platform", &secrets.smsc_platform_password, vec![]);
    // numbind's own ESMEs dedupe redeliveries by the SMS centre's message ID, which travels in a vendor TLV.
    oss_account.vendor_tlvs = true;
    platform_account.vendor_tlvs = true;
    let mut smsc = numbind_sms_sim::Config::new(data_dir.join("smsc.db"), vec![oss_account, platform_account]);
    smsc.tls = links.authority.map(|authority| authority.service("smsc"));
    Ok(Configs { platform, oss, smsc })
}
