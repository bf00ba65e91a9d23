//! `numbind reconcile`: compares the platform's and the OSS's active bindings and lists every difference.

use crate::operator_api::{operator_http_client, secret_from};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the two ledgers are and how to read them.
#[derive(clap::Args, Debug)]
pub(crate) struct ReconcileArgs {
    /// The platform.
    #[arg(long, env = "NUMBIND_PLATFORM_URL", default_value = "https://127.0.0.1:8080")]
    platform_url: String,
    /// File holding an admin operator token for the platform (else the NUMBIND_OPERATOR_TOKEN variable).
    #[arg(long, env = "NUMBIND_OPERATOR_TOKEN_FILE")]
    operator_token_file: Option<PathBuf>,
    /// The OSS's admin API.
    #[arg(long, env = "NUMBIND_OSS_URL", default_value = "https://127.0.0.1:8082")]
    oss_url: String,
    /// File holding the OSS admin token (else the NUMBIND_OSS_ADMIN_TOKEN variable, else the one `numbind up`
    /// keeps in <data-dir>/secrets/oss-admin.token).
    #[arg(long, env = "NUMBIND_OSS_ADMIN_TOKEN_FILE")]
    oss_admin_token_file: Option<PathBuf>,
    /// PEM certificate authorities trusted for https (default: `<data-dir>/tls/ca.pem`, made by `numbind up`).
    #[arg(long, env = "NUMBIND_CA_FILE")]
    ca_file: Option<PathBuf>,
    /// The data directory of a `numbind up` whose OSS admin token to use when no other is given.
    #[arg(long, env = "NUMBIND_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

/// terminal ID → number, of the active bindings of one side.
type ActiveBindings = BTreeMap<String, String>;

/// One difference between the two ledgers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Difference {
    MissingInOss { terminal_id: String },
    MissingOnPlatform { terminal_id: String },
    DifferentNumber { terminal_id: String },
}

fn compare(platform: &ActiveBindings, oss: &ActiveBindings) -> Vec<Difference> {
    let mut differences = Vec::new();
    for (terminal, msisdn) in platform {
        match oss.get(terminal) {
            None => differences.push(Difference::MissingInOss { terminal_id: terminal.clone() }),
            Some(other) if other != msisdn => {
                differences.push(Difference::DifferentNumber { terminal_id: terminal.clone() })
            }
            Some(_) => {}
        }
    }
    for terminal in oss.keys().filter(|terminal| !platform.contains_key(*terminal)) {
        differences.push(Difference::MissingOnPlatform { terminal_id: terminal.clone() });
    }
    differences
}

async fn fetch(http: &reqwest::Client, url: String, token: Option<&str>) -> anyhow::Result<ActiveBindings> {
    let mut request = http.get(&url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.with_context(|| format!("{url} answered no JSON"))?;
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}: {}", body["message"].as_str().unwrap_or("no message"));
    }
    let mut active = ActiveBindings::new();
    for binding in body["bindings"].as_array().context("no bindings list in the answer")? {
        let field =
            |name: &str| binding[name].as_str().map(str::to_owned).context("a binding without terminal or number");
        let terminal = field("terminal_id")?;
        if active.insert(terminal.clone(), field("msisdn")?).is_some() {
            anyhow::bail!("{url} lists two active bindings of terminal {terminal}");
        }
    }
    Ok(active)
}

pub(crate) async fn reconcile(args: ReconcileArgs) -> anyhow::Result<()> {
    let operator_token = secret_from(&args.operator_token_file, "NUMBIND_OPERATOR_TOKEN")?
        .context("an admin operator token is needed: --operator-token-file or NUMBIND_OPERATOR_TOKEN")?;
    let oss_token = numbind_oss_sim::cli::admin_token(args.oss_admin_token_file.as_deref(), &args.data_dir)?;
    let local_authority = args.data_dir.join("tls").join("ca.pem");
    let ca_file = args.ca_file.clone().or_else(|| local_authority.exists().then_some(local_authority));
    let http = operator_http_client(ca_file.as_deref())?;
    let platform_url = format!("{}/v1/operator/reconciliation-snapshot", args.platform_url.trim_end_matches('/'));
    let oss_url = format!("{}/v1/bindings?state=active", args.oss_url.trim_end_matches('/'));
    let platform = fetch(&http, platform_url, Some(&operator_token)).await?;
    let oss = fetch(&http, oss_url, oss_token.as_deref()).await?;
    let differences = compare(&platform, &oss);
    if args.json {
        let summary = serde_json::json!({
            "platform_active": platform.len(), "oss_active": oss.len(), "differences": differences
        });
        println!("{summary}");
    } else {
        println!("platform: {} active bindings; OSS: {} active bindings", platform.len(), oss.len());
        for difference in &differences {
            println!("difference: {}", serde_json::to_string(difference)?);
        }
    }
    if !differences.is_empty() {
        anyhow::bail!("{} difference(s) between the platform and the OSS", differences.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(pairs: &[(&str, &str)]) -> ActiveBindings {
        pairs.iter().map(|(terminal, msisdn)| (terminal.to_string(), msisdn.to_string())).collect()
    }

    #[test]
    fn every_kind_of_difference_is_listed_and_agreement_lists_none() {
        let platform = ledger(&[("A", "1"), ("B", "2"), ("C", "3")]);
        let oss = ledger(&[("A", "1"), ("B", "9"), ("D", "4")]);
        assert_eq!(
            compare(&platform, &oss),
            vec![
                Difference::DifferentNumber { terminal_id: "B".into() },
                Difference::MissingInOss { terminal_id: "C".into() },
                Difference::MissingOnPlatform { terminal_id: "D".into() },
            ]
        );
        assert!(compare(&platform, &platform).is_empty());
    }
}
