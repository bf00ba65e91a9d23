//! `numbind operator disputes list|resolve`: the users' disputes of their charges over the platform's operator API
//! (`GET /v1/operator/disputes`, `POST /v1/operator/disputes/{id}/resolution`); numbers stay masked.

use crate::operator_api::OperatorSession;
use anyhow::Context;
use numbind_wire::api::{Dispute, DisputeList, ResolveDisputeRequest};
use std::io::Write;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum DisputeCommand {
    /// List disputes, oldest first (open ones unless `--state` says otherwise).
    List {
        #[command(flatten)]
        session: OperatorSession,
        /// `open`, `refunded`, `rejected` or `all`.
        #[arg(long, default_value = "open", value_parser = ["open", "refunded", "rejected", "all"])]
        state: String,
    },
    /// Resolve an open dispute (admin): `--refund`, or `--reject <reason>` which the user is sent.
    Resolve {
        #[command(flatten)]
        session: OperatorSession,
        /// The dispute ID (`dsp-…`).
        dispute_id: String,
        /// Refund what remains of the charge.
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        refund: bool,
        /// Keep the charge, for this reason (1 to 200 characters).
        #[arg(long)]
        reject: Option<String>,
    },
}

pub(crate) async fn disputes(command: DisputeCommand) -> anyhow::Result<()> {
    match command {
        DisputeCommand::List { session, state } => list(&session, &state, session.json).await,
        DisputeCommand::Resolve { session, dispute_id, refund, reject } => {
            let request = match (refund, reject) {
                (true, _) => ResolveDisputeRequest::Refund,
                (false, Some(reason)) => ResolveDisputeRequest::Reject { reason },
                (false, None) => anyhow::bail!("say --refund or --reject <reason>"),
            };
            resolve(&session, &dispute_id, &request).await
        }
    }
}

async fn list(session: &OperatorSession, state: &str, json: bool) -> anyhow::Result<()> {
    let query = if state == "all" { String::new() } else { format!("?state={state}") };
    let url = session.url(&format!("/v1/operator/disputes{query}"));
    let response = session.http_client()?.get(&url).bearer_auth(session.token()?).send().await;
    let list: DisputeList = answer(response.with_context(|| format!("cannot reach {url}"))?).await?;
    let mut stdout = std::io::stdout().lock();
    for dispute in &list.disputes {
        if json {
            writeln!(stdout, "{}", serde_json::to_string(dispute)?)?;
        } else {
            writeln!(stdout, "{}", line_of(dispute))?;
        }
    }
    Ok(())
}

async fn resolve(session: &OperatorSession, dispute_id: &str, request: &ResolveDisputeRequest) -> anyhow::Result<()> {
    let url = session.url(&format!("/v1/operator/disputes/{dispute_id}/resolution"));
    let response = session.http_client()?.post(&url).bearer_auth(session.token()?).json(request).send().await;
    let dispute: Dispute = answer(response.with_context(|| format!("cannot reach {url}"))?).await?;
    writeln!(std::io::stdout().lock(), "{}", line_of(&dispute))?;
    Ok(())
}

/// The body of a success, or the platform's own message of a refusal.
async fn answer<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> anyhow::Result<T> {
    let status = response.status();
    if !status.is_success() {
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        anyhow::bail!("the platform answered {status}: {}", body["message"].as_str().unwrap_or("no message"));
    }
    Ok(response.json().await?)
}

/// `dsp-… open pay-… 138****8000 opened=…`.
fn line_of(dispute: &Dispute) -> String {
    let mut line = format!(
        "{} {} {} {} opened={}",
        dispute.dispute_id,
        dispute.state.as_str(),
        dispute.payment_id,
        dispute.msisdn_masked,
        dispute.opened_at_unix_seconds
    );
    if let Some(refund_id) = &dispute.refund_id {
        line.push_str(&format!(" refund={refund_id}"));
    }
    if let Some(reason) = &dispute.rejection_reason {
        line.push_str(&format!(" reason={reason:?}"));
    }
    line
}
