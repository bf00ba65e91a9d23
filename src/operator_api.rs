//! Operator commands that talk to a running platform's operator API: search bindings, a terminal's history,
//! streamed exports. Each authenticates with an operator token read from a file or the environment.

use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which platform, and the operator's token.
#[derive(clap::Args, Debug)]
pub(crate) struct OperatorSession {
    /// The platform.
    #[arg(long, env = "NUMBIND_PLATFORM_URL", default_value = "https://127.0.0.1:8080")]
    platform_url: String,
    /// File holding the operator token (else the NUMBIND_OPERATOR_TOKEN variable).
    #[arg(long, env = "NUMBIND_OPERATOR_TOKEN_FILE")]
    operator_token_file: Option<PathBuf>,
    /// PEM certificate authorities trusted for https (default: `./data/tls/ca.pem`, made by `numbind up`).
    #[arg(long, env = "NUMBIND_CA_FILE")]
    ca_file: Option<PathBuf>,
}

/// The certificate authority `numbind up` makes, trusted by the operator commands when no other is named.
const LOCAL_AUTHORITY: &str = "data/tls/ca.pem";

/// An HTTP client for the operator commands: https trusting `ca_file` (or the local authority of `numbind up`
/// when there is one), plain http to whatever URL is named.
pub(crate) fn operator_http_client(ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let local = Path::new(LOCAL_AUTHORITY);
    let authorities = ca_file.or_else(|| local.exists().then_some(local));
    Ok(numbind_process::tls::http_client_builder(authorities)?.build()?)
}

/// Reads a secret from `file`, else from the environment variable `variable`.
pub(crate) fn secret_from(file: &Option<PathBuf>, variable: &str) -> anyhow::Result<Option<String>> {
    match file {
        Some(path) => Ok(Some(
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?.trim().to_owned(),
        )),
        None => Ok(std::env::var(variable).ok().map(|value| value.trim().to_owned())),
    }
}

impl OperatorSession {
    pub(crate) fn token(&self) -> anyhow::Result<String> {
        secret_from(&self.operator_token_file, "NUMBIND_OPERATOR_TOKEN")?
            .context("an operator token is needed: --operator-token-file or NUMBIND_OPERATOR_TOKEN")
    }

    /// A client for this session's platform, trusting its certificate authority.
    pub(crate) fn http_client(&self) -> anyhow::Result<reqwest::Client> {
        operator_http_client(self.ca_file.as_deref())
    }

    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.platform_url.trim_end_matches('/'))
    }

    /// GETs `path_and_query`; fails with the platform's own message on a refusal.
    async fn get(&self, path_and_query: &str) -> anyhow::Result<reqwest::Response> {
        let url = self.url(path_and_query);
        let response = operator_http_client(self.ca_file.as_deref())?
            .get(&url)
            .bearer_auth(self.token()?)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        anyhow::bail!("the platform answered {status}: {}", body["message"].as_str().unwrap_or("no message"))
    }
}

/// Search filters of `numbind operator bindings`.
#[derive(clap::Args, Debug)]
pub(crate) struct BindingSearch {
    #[command(flatten)]
    session: OperatorSession,
    /// Only this number's bindings.
    #[arg(long)]
    msisdn: Option<String>,
    /// Only this terminal's bindings.
    #[arg(long)]
    terminal_id: Option<String>,
    /// `active` or `revoked`.
    #[arg(long)]
    state: Option<String>,
    /// Made at or after this time (unix seconds).
    #[arg(long)]
    from: Option<i64>,
    /// Made before this time (unix seconds).
    #[arg(long)]
    to: Option<i64>,
    /// Show full numbers (admins only; the reason is audited).
    #[arg(long)]
    reveal_reason: Option<String>,
}

/// What `numbind operator export` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ExportTable {
    Bindings,
    AuditEvents,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ExportFormat {
    Csv,
    Jsonl,
}

fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|value| format!("{name}={}", percent_encode(value))))
        .collect();
    encoded.join("&")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Prints every matching binding, one line each, following the keyset pages.
pub(crate) async fn bindings(search: BindingSearch) -> anyhow::Result<()> {
    let mut cursor: Option<i64> = None;
    let mut stdout = std::io::stdout().lock();
    loop {
        let query = query_string(&[
            ("msisdn", search.msisdn.clone()),
            ("terminal_id", search.terminal_id.clone()),
            ("state", search.state.clone()),
            ("from", search.from.map(|value| value.to_string())),
            ("to", search.to.map(|value| value.to_string())),
            ("reveal", search.reveal_reason.as_ref().map(|_| "true".to_owned())),
            ("reason", search.reveal_reason.clone()),
            ("cursor", cursor.map(|value| value.to_string())),
        ]);
        let page: serde_json::Value =
            search.session.get(&format!("/v1/operator/bindings?{query}")).await?.json().await?;
        for binding in page["bindings"].as_array().context("no bindings in the answer")? {
            let field =
                |name: &str| binding[name].as_str().map(str::to_owned).unwrap_or_else(|| binding[name].to_string());
            writeln!(
                stdout,
                "{}  {}  {}  {}  made {}  {}",
                field("binding_id"),
                field("terminal_id"),
                field("msisdn"),
                field("state"),
                field("created_at"),
                binding["revoked_reason"].as_str().map(|reason| format!("revoked: {reason}")).unwrap_or_default()
            )?;
        }
        match page["next_cursor"].as_i64() {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// Prints a terminal's activations, bindings and audit events as one JSON document.
pub(crate) async fn history(session: OperatorSession, terminal_id: String) -> anyhow::Result<()> {
    let path = format!("/v1/operator/terminals/{}/history", percent_encode(&terminal_id));
    let history: serde_json::Value = session.get(&path).await?.json().await?;
    println!("{}", serde_json::to_string_pretty(&history)?);
    Ok(())
}

/// Streams an export to stdout chunk by chunk: a million rows never sit in memory.
pub(crate) async fn export(session: OperatorSession, table: ExportTable, format: ExportFormat) -> anyhow::Result<()> {
    let name = match table {
        ExportTable::Bindings => "bindings",
        ExportTable::AuditEvents => "audit-events",
    };
    let extension = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
    };
    let mut response = session.get(&format!("/v1/operator/exports/{name}.{extension}")).await?;
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = response.chunk().await.context("the export stream broke off")? {
        stdout.write_all(&chunk)?;
    }
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_carry_only_the_given_filters_percent_encoded() {
        let query =
            query_string(&[("msisdn", Some("13800138000".into())), ("state", None), ("reason", Some("a b&c".into()))]);
        assert_eq!(query, "msisdn=13800138000&reason=a%20b%26c");
    }
}
