//! Merchant tooling on the database file, for the umbrella's `numbind merchant create|list|revoke` and for
//! `numbind up`'s demo merchant.

use crate::domain::merchant::{check_display_name, check_webhook_url, mint_merchant_token};
use crate::operators::open_audited;
use crate::store::Merchant;
use anyhow::Context;
use numbind_process::clock::now_unix_seconds;
use numbind_wire::MerchantId;
use ring::rand::SystemRandom;
use std::path::Path;

/// What an operator asks for when creating a merchant.
#[derive(Debug, Clone)]
pub struct NewMerchant<'a> {
    pub merchant_id: &'a str,
    pub display_name: &'a str,
    pub webhook_url: Option<&'a str>,
    /// Accept an `http://` webhook (tests on loopback only).
    pub allow_insecure_http_webhook: bool,
}

/// Creates a merchant and returns its token, shown once (only its SHA-256 is stored). Audited.
pub fn create_merchant(database_path: &Path, request: &NewMerchant<'_>) -> anyhow::Result<String> {
    let merchant_id = MerchantId::parse(request.merchant_id)?;
    let display_name = check_display_name(request.display_name)?;
    let webhook_url =
        request.webhook_url.map(|url| check_webhook_url(url, request.allow_insecure_http_webhook)).transpose()?;
    let store = open_audited(database_path)?;
    let token = mint_merchant_token(&merchant_id, &SystemRandom::new())?;
    let merchant =
        Merchant { merchant_id, display_name, webhook_url, created_at: now_unix_seconds(), revoked_at: None };
    if !store.insert_merchant(&merchant, &token.hash).context("cannot store the merchant")? {
        anyhow::bail!("a merchant named {} exists already", merchant.merchant_id);
    }
    Ok(token.secret)
}

/// Every merchant, revoked ones included.
pub fn list_merchants(database_path: &Path) -> anyhow::Result<Vec<Merchant>> {
    if !database_path.is_file() {
        anyhow::bail!("no database at {}", database_path.display());
    }
    let store = crate::store::Store::open(database_path)?;
    Ok(store.merchants()?)
}

/// Revokes a merchant's token; `false` when it had none live. Audited.
pub fn revoke_merchant(database_path: &Path, merchant_id: &str) -> anyhow::Result<bool> {
    let merchant_id = MerchantId::parse(merchant_id)?;
    let store = open_audited(database_path)?;
    Ok(store.revoke_merchant(&merchant_id, now_unix_seconds())?)
}

/// The JSON file an operator hands to a merchant: who it is, its token, where the platform is, what to trust.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct MerchantCredentials {
    pub merchant_id: String,
    pub token: String,
    pub platform_url: String,
    pub ca_file: Option<std::path::PathBuf>,
}

/// Writes `credentials` owner-only to a new file at `path` (never over an existing one). A relative `ca_file` (as
/// given on a command line, relative to the working directory) is written absolute: readers resolve a relative
/// one next to the credentials file, where `data/tls/ca.pem` would not be found.
pub fn write_merchant_credentials(path: &Path, credentials: &MerchantCredentials) -> anyhow::Result<()> {
    let mut credentials = credentials.clone();
    if let Some(ca_file) = credentials.ca_file.as_deref().filter(|ca_file| ca_file.is_relative()) {
        credentials.ca_file = Some(
            std::path::absolute(ca_file)
                .with_context(|| format!("cannot make the CA file path {} absolute", ca_file.display()))?,
        );
    }
    let text = serde_json::to_vec_pretty(&credentials)?;
    numbind_process::data_dir::create_secret_file(path, &text)
        .with_context(|| format!("cannot write the merchant credentials {}", path.display()))
}

/// The demo merchant of `numbind up`: `demo-films` (`演示影院`), created on the first start with its credentials
/// in `credentials_path`; later starts find the file and change nothing.
pub fn ensure_demo_merchant(
    database_path: &Path,
    credentials_path: &Path,
    platform_url: &str,
    ca_file: Option<&Path>,
) -> anyhow::Result<()> {
    if credentials_path.exists() {
        return Ok(());
    }
    let request = NewMerchant {
        merchant_id: DEMO_MERCHANT_ID,
        display_name: "演示影院",
        webhook_url: None,
        allow_insecure_http_webhook: false,
    };
    let token = create_merchant(database_path, &request)?;
    let credentials = MerchantCredentials {
        merchant_id: DEMO_MERCHANT_ID.to_owned(),
        token,
        platform_url: platform_url.to_owned(),
        ca_file: ca_file.map(Path::to_path_buf),
    };
    write_merchant_credentials(credentials_path, &credentials)
}

/// The merchant `numbind up` creates.
pub const DEMO_MERCHANT_ID: &str = "demo-films";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credentials_file_names_its_ca_file_absolutely() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("merchant.json");
        let credentials = MerchantCredentials {
            merchant_id: "demo-films".to_owned(),
            token: "nbm_demo-films_x".to_owned(),
            platform_url: "https://127.0.0.1:8080".to_owned(),
            ca_file: Some(std::path::PathBuf::from("data/tls/ca.pem")),
        };
        write_merchant_credentials(&path, &credentials).unwrap();
        let written: MerchantCredentials = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let ca_file = written.ca_file.unwrap();
        assert!(ca_file.is_absolute() && ca_file.ends_with("data/tls/ca.pem"), "{}", ca_file.display());
    }

    #[test]
    fn a_created_merchant_is_listed_once_and_revoked() {
        let directory = tempfile::tempdir().unwrap();
        let database = directory.path().join("platform.db");
        let request = NewMerchant {
            merchant_id: "demo-films",
            display_name: "演示影院",
            webhook_url: None,
            allow_insecure_http_webhook: false,
        };
        let token = create_merchant(&database, &request).unwrap();
        assert!(token.starts_with("nbm_demo-films_"));
        assert!(create_merchant(&database, &request).is_err(), "one merchant per id");
        let insecure = NewMerchant { merchant_id: "other", webhook_url: Some("http://127.0.0.1/x"), ..request };
        assert!(create_merchant(&database, &insecure).is_err(), "http webhooks need the test flag");
        assert_eq!(list_merchants(&database).unwrap().len(), 1);
        assert!(revoke_merchant(&database, "demo-films").unwrap());
        assert!(list_merchants(&database).unwrap()[0].revoked_at.is_some());
    }
}
