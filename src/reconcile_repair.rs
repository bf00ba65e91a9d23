//! `numbind reconcile payments repair`: one repair of a payment reconciliation difference (re-drive billing,
//! re-send a receipt, or adjust with a reason), through the platform's operator API, which performs it with the
//! same function as the console's button.

use crate::reconcile::{Ledgers, EXIT_CLEAN};
use anyhow::Context;
use numbind_process::civil_date::CivilDate;

#[derive(clap::Args, Debug)]
pub(crate) struct RepairArgs {
    #[command(flatten)]
    ledgers: Ledgers,
    /// The reconciliation day the difference belongs to, `2026-12-07`.
    #[arg(long)]
    date: CivilDate,
    /// The payment or refund ID the difference names.
    #[arg(long)]
    record_id: String,
    #[arg(long, value_enum)]
    action: RepairAction,
    /// For `adjust`: the kind of difference (`billing_only`, `amount_differs`, ...).
    #[arg(long)]
    difference: Option<String>,
    /// For `adjust`: why (audited).
    #[arg(long)]
    reason: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum RepairAction {
    RedriveBilling,
    ResendReceipt,
    Adjust,
}

pub(crate) async fn repair_difference(args: RepairArgs) -> anyhow::Result<i32> {
    let connection = args.ledgers.connect()?;
    let action = match args.action {
        RepairAction::RedriveBilling => "redrive_billing",
        RepairAction::ResendReceipt => "resend_receipt",
        RepairAction::Adjust => "adjust",
    };
    let body = serde_json::json!({
        "day": args.date.to_string(), "record_id": args.record_id, "action": action,
        "difference": args.difference, "reason": args.reason
    });
    let url = format!("{}/v1/operator/payment-repairs", args.ledgers.platform_url.trim_end_matches('/'));
    let response = connection
        .http
        .post(&url)
        .bearer_auth(&connection.operator_token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await.with_context(|| format!("{url} answered no JSON"))?;
    if !status.is_success() {
        anyhow::bail!(
            "the platform refused the repair ({status}): {}",
            answer["message"].as_str().unwrap_or("no message")
        );
    }
    println!("{answer}");
    Ok(EXIT_CLEAN)
}
