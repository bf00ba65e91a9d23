//! `numbind reconcile`: compares the platform's and the OSS's active bindings and lists every difference;
//! `numbind reconcile payments` (in `reconcile_payments`) does the same for a day's money. Exit codes, the same
//! for both: 0 no difference, 1 differences, 2 could not compare (a side unreachable, a token refused).

use crate::operator_api::{operator_http_client, secret_from};
use crate::reconcile_payments::PaymentsArgs;
use anyhow::Context;
use numbind_process::clock::{CivilDateTime, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// No difference.
pub(crate) const EXIT_CLEAN: i32 = 0;
/// Differences found (listed).
pub(crate) const EXIT_DIFFERENCES: i32 = 1;
/// Could not compare: a side unreachable, a token refused, an answer not understood.
pub(crate) const EXIT_COULD_NOT_COMPARE: i32 = 2;

/// `numbind reconcile [payments ...]`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ReconcileArgs {
    #[command(subcommand)]
    command: Option<ReconcileCommand>,
    #[command(flatten)]
    ledgers: Ledgers,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand, Debug)]
enum ReconcileCommand {
    /// Compare a day's charges and refunds: the platform's ledger, the OSS's bill lines and the SMS centre's
    /// record of the receipts; or repair a difference.
    Payments(Box<PaymentsArgs>),
}

/// Where the ledgers are and how to read them.
#[derive(clap::Args, Debug)]
pub(crate) struct Ledgers {
    /// The platform.
    #[arg(long, env = "NUMBIND_PLATFORM_URL", default_value = "https://127.0.0.1:8080")]
    pub(crate) platform_url: String,
    /// File holding an admin operator token for the platform (else the NUMBIND_OPERATOR_TOKEN variable).
    #[arg(long, env = "NUMBIND_OPERATOR_TOKEN_FILE")]
    operator_token_file: Option<PathBuf>,
    /// The OSS's admin API. At a national hub, each province's, repeated or comma-separated, as
    /// `BJ=https://host:port`: every province is read and each difference names its province. The default is
    /// the two provinces `numbind up` starts; under `numbind up --provinces none`, `https://127.0.0.1:8082`.
    #[arg(long, env = "NUMBIND_OSS_URL", default_value = "BJ=https://127.0.0.1:8082,GD=https://127.0.0.1:8083",
          value_delimiter = ',',
          value_parser = parse_oss_admin_url)]
    pub(crate) oss_url: Vec<OssAdminUrl>,
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
}

/// One `--oss-url`: the admin API of a province's OSS (`BJ=https://...`) or of the operator's one OSS.
#[derive(Debug, Clone)]
pub(crate) struct OssAdminUrl {
    pub(crate) province: Option<numbind_routing::ProvinceCode>,
    pub(crate) base_url: String,
}

impl OssAdminUrl {
    /// `path_and_query` at this OSS.
    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url.trim_end_matches('/'))
    }
}

/// `[PROVINCE=]URL`.
fn parse_oss_admin_url(text: &str) -> Result<OssAdminUrl, String> {
    let (province, base_url) =
        numbind_routing::ProvinceCode::split_prefixed(text).map_err(|error| error.to_string())?;
    Ok(OssAdminUrl { province, base_url: base_url.to_owned() })
}

/// An HTTP client and the tokens of both sides.
pub(crate) struct Connection {
    pub(crate) http: reqwest::Client,
    pub(crate) operator_token: String,
    pub(crate) oss_token: Option<String>,
}

impl Ledgers {
    pub(crate) fn connect(&self) -> anyhow::Result<Connection> {
        let operator_token = secret_from(&self.operator_token_file, "NUMBIND_OPERATOR_TOKEN")?
            .context("an admin operator token is needed: --operator-token-file or NUMBIND_OPERATOR_TOKEN")?;
        let oss_token = numbind_oss_sim::cli::admin_token(self.oss_admin_token_file.as_deref(), &self.data_dir)?;
        let local_authority = self.data_dir.join("tls").join("ca.pem");
        let ca_file = self.ca_file.clone().or_else(|| local_authority.exists().then_some(local_authority));
        Ok(Connection { http: operator_http_client(ca_file.as_deref())?, operator_token, oss_token })
    }
}

/// GETs JSON with an optional bearer token; a refusal fails with the side's own message.
pub(crate) async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.with_context(|| format!("{url} answered no JSON"))?;
    if !status.is_success() {
        anyhow::bail!("{url} answered {status}: {}", body["message"].as_str().unwrap_or("no message"));
    }
    Ok(body)
}

/// `2026-12-07 08:00:00` China Standard Time.
pub(crate) fn local_time(unix_seconds: i64) -> String {
    CivilDateTime::at(unix_seconds, CHINA_STANDARD_TIME_OFFSET_SECONDS).date_time_text()
}

/// A number as people may see it: masked.
pub(crate) fn masked(digits: &str) -> String {
    numbind_wire::Msisdn::parse(digits).map_or_else(|_| "(not a mobile number)".to_owned(), |msisdn| msisdn.masked())
}

/// terminal ID → what one side holds of its active binding.
type ActiveBindings = BTreeMap<String, ActiveBinding>;

/// One side's active binding of a terminal: the number, since when, and the province whose OSS holds it (at a
/// hub; the platform's side gives the province its binding recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActiveBinding {
    msisdn: String,
    since_unix_seconds: Option<i64>,
    province: Option<String>,
}

/// One difference between the two ledgers: the terminal, the masked number and the time of the binding.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
struct Difference {
    kind: &'static str,
    terminal_id: String,
    msisdn_masked: String,
    /// When the binding was made (China Standard Time), as the side that holds it says.
    bound_at: Option<String>,
    /// The province of the binding (at a national hub), as the side that holds it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    province: Option<String>,
}

fn difference(kind: &'static str, terminal: &str, binding: &ActiveBinding) -> Difference {
    Difference {
        kind,
        terminal_id: terminal.to_owned(),
        msisdn_masked: masked(&binding.msisdn),
        bound_at: binding.since_unix_seconds.map(local_time),
        province: binding.province.clone(),
    }
}

fn compare(platform: &ActiveBindings, oss: &ActiveBindings) -> Vec<Difference> {
    let mut differences = Vec::new();
    for (terminal, binding) in platform {
        match oss.get(terminal) {
            None => differences.push(difference("missing_in_oss", terminal, binding)),
            Some(other) if other.msisdn != binding.msisdn => {
                differences.push(difference("different_number", terminal, binding))
            }
            Some(_) => {}
        }
    }
    for (terminal, binding) in oss.iter().filter(|(terminal, _)| !platform.contains_key(*terminal)) {
        differences.push(difference("missing_on_platform", terminal, binding));
    }
    differences
}

/// Reads one side's active bindings into `active`; `province` names the OSS read (else each binding's own).
async fn fetch_into(
    active: &mut ActiveBindings,
    http: &reqwest::Client,
    (url, token): (String, Option<&str>),
    province: Option<String>,
) -> anyhow::Result<()> {
    let body = get_json(http, &url, token).await?;
    for binding in body["bindings"].as_array().context("no bindings list in the answer")? {
        let field =
            |name: &str| binding[name].as_str().map(str::to_owned).context("a binding without terminal or number");
        let terminal = field("terminal_id")?;
        let since_unix_seconds = binding["created_at_unix_seconds"]
            .as_i64()
            .or_else(|| binding["created_at_unix_ms"].as_i64().map(|millis| millis.div_euclid(1000)));
        let province = province.clone().or_else(|| binding["province"].as_str().map(str::to_owned));
        let held = ActiveBinding { msisdn: field("msisdn")?, since_unix_seconds, province };
        if active.insert(terminal.clone(), held).is_some() {
            anyhow::bail!("{url} lists an active binding of terminal {terminal} that another list also holds");
        }
    }
    Ok(())
}

/// Runs `numbind reconcile [payments]`; the process's exit code.
pub(crate) async fn reconcile(args: ReconcileArgs) -> i32 {
    let outcome = match args.command {
        Some(ReconcileCommand::Payments(payments)) => crate::reconcile_payments::payments(*payments).await,
        None => reconcile_bindings(&args.ledgers, args.json).await,
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: could not compare: {error:#}");
            EXIT_COULD_NOT_COMPARE
        }
    }
}

async fn reconcile_bindings(ledgers: &Ledgers, json: bool) -> anyhow::Result<i32> {
    let connection = ledgers.connect()?;
    let platform_url = format!("{}/v1/operator/reconciliation-snapshot", ledgers.platform_url.trim_end_matches('/'));
    let mut platform = ActiveBindings::new();
    fetch_into(&mut platform, &connection.http, (platform_url, Some(&connection.operator_token)), None).await?;
    // At a hub every province's OSS is read: a binding is on the OSS side if any province holds it.
    let mut oss = ActiveBindings::new();
    for oss_url in &ledgers.oss_url {
        let url = oss_url.url("/v1/bindings?state=active");
        let province = oss_url.province.map(|province| province.as_str().to_owned());
        fetch_into(&mut oss, &connection.http, (url, connection.oss_token.as_deref()), province).await?;
    }
    let differences = compare(&platform, &oss);
    if json {
        let summary = serde_json::json!({
            "platform_active": platform.len(), "oss_active": oss.len(), "differences": differences
        });
        println!("{summary}");
    } else {
        println!("platform: {} active bindings; OSS: {} active bindings", platform.len(), oss.len());
        for difference in &differences {
            let province = difference.province.as_deref().map(|province| format!(" province {province}"));
            println!(
                "difference: {} terminal {} number {} bound {}{}",
                difference.kind,
                difference.terminal_id,
                difference.msisdn_masked,
                difference.bound_at.as_deref().unwrap_or("(time unknown)"),
                province.unwrap_or_default()
            );
        }
    }
    if differences.is_empty() {
        return Ok(EXIT_CLEAN);
    }
    eprintln!("{} difference(s) between the platform and the OSS", differences.len());
    Ok(EXIT_DIFFERENCES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(entries: &[(&str, &str)]) -> ActiveBindings {
        entries
            .iter()
            .map(|(terminal, msisdn)| {
                (
                    terminal.to_string(),
                    ActiveBinding {
                        msisdn: msisdn.to_string(),
                        since_unix_seconds: Some(1_796_601_600),
                        province: None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn every_kind_of_difference_is_listed_with_the_masked_number_and_time() {
        let platform = ledger(&[("A", "13800138000"), ("B", "13800138001"), ("C", "13800138002")]);
        let oss = ledger(&[("A", "13800138000"), ("B", "13900139000"), ("D", "13800138003")]);
        let differences = compare(&platform, &oss);
        let kinds: Vec<(&str, &str)> =
            differences.iter().map(|difference| (difference.kind, difference.terminal_id.as_str())).collect();
        assert_eq!(kinds, [("different_number", "B"), ("missing_in_oss", "C"), ("missing_on_platform", "D")]);
        let missing = &compare(&platform, &oss)[1];
        assert_eq!(missing.msisdn_masked, "138****8002");
        assert_eq!(missing.bound_at.as_deref(), Some("2026-12-07 08:00:00"));
        assert!(compare(&platform, &platform).is_empty());
    }
}
