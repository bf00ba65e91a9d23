//! Operator commands that talk to a running platform's operator API: search bindings, a terminal's history,
//! streamed exports; and the session (platform URL, token, certificate authorities, `--json`) every such command
//! shares. Each authenticates with an operator token read from a file or the environment.

use crate::operator_output::{local_time_of, print_json, print_section, text_of, Table};
use anyhow::Context;
use numbind_process::progress::{Audience, Progress};
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
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
    /// Print the platform's answer as JSON for machines, instead of tables with local times for people.
    #[arg(long)]
    pub(crate) json: bool,
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
    pub(crate) async fn get(&self, path_and_query: &str) -> anyhow::Result<reqwest::Response> {
        let url = self.url(path_and_query);
        let request = operator_http_client(self.ca_file.as_deref())?.get(&url).bearer_auth(self.token()?);
        answer_of(request, &url).await
    }

    /// POSTs `body` as JSON to `path`; fails with the platform's own message on a refusal.
    pub(crate) async fn post(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let url = self.url(path);
        let request = operator_http_client(self.ca_file.as_deref())?.post(&url).bearer_auth(self.token()?).json(body);
        Ok(answer_of(request, &url).await?.json().await?)
    }
}

/// Sends `request`; a refusal becomes an error with the platform's status, code and message.
async fn answer_of(request: reqwest::RequestBuilder, url: &str) -> anyhow::Result<reqwest::Response> {
    let response = request.send().await.with_context(|| format!("cannot reach the platform at {url}"))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let code = body["code"].as_str().unwrap_or("no code");
    anyhow::bail!("the platform answered {status} ({code}): {}", body["message"].as_str().unwrap_or("no message"))
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
    #[arg(long, visible_alias = "terminal")]
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
    /// At a hub, only the bindings of this province's OSS (ISO 3166-2:CN code: BJ, GD, ...).
    #[arg(long)]
    province: Option<String>,
    /// Show full numbers (admins only; the reason is audited).
    #[arg(long)]
    reveal_reason: Option<String>,
}

/// What `numbind operator export` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ExportTable {
    Bindings,
    AuditEvents,
    Payments,
    Refunds,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ExportFormat {
    Csv,
    Jsonl,
}

pub(crate) fn query_string(pairs: &[(&str, Option<String>)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|value| format!("{name}={}", percent_encode(value))))
        .collect();
    encoded.join("&")
}

pub(crate) fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Every matching binding, following the keyset pages.
async fn search_bindings(search: &BindingSearch) -> anyhow::Result<Vec<Value>> {
    let (mut cursor, mut found): (Option<i64>, Vec<Value>) = (None, Vec::new());
    loop {
        let query = query_string(&[
            ("msisdn", search.msisdn.clone()),
            ("terminal_id", search.terminal_id.clone()),
            ("state", search.state.clone()),
            ("from", search.from.map(|value| value.to_string())),
            ("to", search.to.map(|value| value.to_string())),
            ("province", search.province.clone()),
            ("reveal", search.reveal_reason.as_ref().map(|_| "true".to_owned())),
            ("reason", search.reveal_reason.clone()),
            ("cursor", cursor.map(|value| value.to_string())),
        ]);
        let page: Value = search.session.get(&format!("/v1/operator/bindings?{query}")).await?.json().await?;
        found.extend(page["bindings"].as_array().context("no bindings in the answer")?.iter().cloned());
        match page["next_cursor"].as_i64() {
            Some(next) => cursor = Some(next),
            None => return Ok(found),
        }
    }
}

/// Bindings as a table, times local.
pub(crate) fn bindings_table(bindings: &[Value]) -> Table {
    let mut table = Table::new(&[
        "BINDING",
        "TERMINAL",
        "NUMBER",
        "STATE",
        "BOUND AT",
        "REVOKED AT",
        "REVOKED BECAUSE",
        "PROVINCE",
        "ROUTING VERSION",
    ]);
    for binding in bindings {
        table.push(vec![
            text_of(&binding["binding_id"]),
            text_of(&binding["terminal_id"]),
            text_of(&binding["msisdn"]),
            text_of(&binding["state"]),
            local_time_of(&binding["created_at"]),
            local_time_of(&binding["revoked_at"]),
            text_of(&binding["revoked_reason"]),
            text_of(&binding["province"]),
            text_of(&binding["routing_version"]),
        ]);
    }
    table
}

/// Prints every matching binding: a table, or with `--json` `{"bindings": [...]}`.
pub(crate) async fn bindings(search: BindingSearch) -> anyhow::Result<()> {
    let found = search_bindings(&search).await?;
    if search.session.json {
        return print_json(&json!({ "bindings": found }));
    }
    print!("{}", bindings_table(&found).render());
    Ok(())
}

/// Prints a terminal's activations, bindings and audit events: three tables, or with `--json` the platform's
/// document. An unknown terminal is an error (the platform answers 404).
pub(crate) async fn history(session: OperatorSession, terminal_id: String) -> anyhow::Result<()> {
    let path = format!("/v1/operator/terminals/{}/history", percent_encode(&terminal_id));
    let history: Value =
        session.get(&path).await.with_context(|| format!("no history for terminal {terminal_id}"))?.json().await?;
    if session.json {
        return print_json(&history);
    }
    let mut activations = Table::new(&["ACTIVATION", "STATE", "ISSUED AT", "EXPIRES AT", "CLAIMED BY", "BINDING"]);
    for activation in history["activations"].as_array().into_iter().flatten() {
        activations.push(vec![
            text_of(&activation["activation_id"]),
            text_of(&activation["state"]),
            local_time_of(&activation["created_at"]),
            local_time_of(&activation["expires_at"]),
            text_of(&activation["claimed_msisdn"]),
            text_of(&activation["binding_id"]),
        ]);
    }
    let bindings: Vec<Value> = history["bindings"].as_array().cloned().unwrap_or_default();
    println!("Terminal {terminal_id}\n");
    print_section("Bindings", &bindings_table(&bindings))?;
    print_section("Activations", &activations)?;
    print_section("Audit events", &audit_events_table(history["audit_events"].as_array().into_iter().flatten()))
}

/// Audit events as a table, times local.
pub(crate) fn audit_events_table<'event>(events: impl Iterator<Item = &'event Value>) -> Table {
    let mut table = Table::new(&["#", "AT", "ACTOR", "EVENT", "NUMBER", "BINDING", "DETAIL"]);
    for event in events {
        table.push(vec![
            text_of(&event["sequence"]),
            local_time_of(&event["at"]),
            text_of(&event["actor"]),
            text_of(&event["kind"]),
            text_of(&event["msisdn_masked"]),
            text_of(&event["binding_id"]),
            text_of(&event["detail"]),
        ]);
    }
    table
}

/// Streams an export to stdout chunk by chunk: a million rows never sit in memory. With stdout redirected and
/// stderr a terminal, a spinner on stderr counts the lines written so far; the export itself is unchanged.
pub(crate) async fn export(session: OperatorSession, table: ExportTable, format: ExportFormat) -> anyhow::Result<()> {
    let name = match table {
        ExportTable::Bindings => "bindings",
        ExportTable::AuditEvents => "audit-events",
        ExportTable::Payments => "payments",
        ExportTable::Refunds => "refunds",
    };
    let extension = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Jsonl => "jsonl",
    };
    let mut response = session.get(&format!("/v1/operator/exports/{name}.{extension}")).await?;
    // A bar drawn between the export's own lines on one terminal would corrupt what the reader sees.
    let audience = if std::io::stdout().is_terminal() { Audience::Machines } else { Audience::People };
    let progress = Progress::start(&format!("exporting {name} lines"), None, audience);
    let mut stdout = std::io::stdout().lock();
    while let Some(chunk) = response.chunk().await.context("the export stream broke off")? {
        stdout.write_all(&chunk)?;
        progress.advance(chunk.iter().filter(|byte| **byte == b'\n').count() as u64);
    }
    stdout.flush()?;
    progress.finish();
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
