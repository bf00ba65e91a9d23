//! Operator commands that act or read beyond bindings through the platform's operator API: unbind a terminal,
//! search payments, refund one, read the audit trail, the activity counts. Each prints a table with local times, or
//! the platform's JSON with `--json`.

use crate::operator_api::{percent_encode, query_string, OperatorSession};
use crate::operator_output::{local_time, local_time_of, print_json, text_of, Table};
use anyhow::Context;
use serde_json::{json, Value};

/// `numbind operator unbind`.
#[derive(clap::Args, Debug)]
pub(crate) struct UnbindArgs {
    #[command(flatten)]
    session: OperatorSession,
    /// The terminal whose active binding to revoke.
    terminal_id: String,
    /// Why (1 to 200 characters; audited, and numbers typed into it are masked). Admins only.
    #[arg(long)]
    reason: String,
}

/// Revokes a terminal's active binding: the number is told by SMS, the OSS at once.
pub(crate) async fn unbind(args: UnbindArgs) -> anyhow::Result<()> {
    let path = format!("/v1/operator/terminals/{}/unbind", percent_encode(&args.terminal_id));
    let answer = args
        .session
        .post(&path, &json!({ "reason": args.reason }))
        .await
        .with_context(|| format!("terminal {} was not unbound", args.terminal_id))?;
    if args.session.json {
        return print_json(&answer);
    }
    println!(
        "Terminal {} unbound: binding {} revoked ({}). The number is told by SMS, the OSS at once.",
        text_of(&answer["terminal_id"]),
        text_of(&answer["binding_id"]),
        text_of(&answer["revoked_reason"]),
    );
    Ok(())
}

/// `numbind operator payments`: filters as the console's payment search.
#[derive(clap::Args, Debug)]
pub(crate) struct PaymentSearch {
    #[command(flatten)]
    session: OperatorSession,
    /// Only this payment (the console's payment page).
    #[arg(long)]
    payment_id: Option<String>,
    /// Only this merchant's payments.
    #[arg(long)]
    merchant_id: Option<String>,
    /// Only this terminal's payments.
    #[arg(long, visible_alias = "terminal")]
    terminal_id: Option<String>,
    /// Only payments in this state (`processing`, `pending_confirmation`, `succeeded`, `denied`, ...).
    #[arg(long)]
    state: Option<String>,
    /// Only the payment with this merchant reference.
    #[arg(long)]
    reference_code: Option<String>,
}

/// Prints the matching payments (numbers masked).
pub(crate) async fn payments(search: PaymentSearch) -> anyhow::Result<()> {
    let query = query_string(&[
        ("payment_id", search.payment_id.clone()),
        ("merchant_id", search.merchant_id.clone()),
        ("terminal_id", search.terminal_id.clone()),
        ("state", search.state.clone()),
        ("reference_code", search.reference_code.clone()),
    ]);
    let answer: Value = search.session.get(&format!("/v1/operator/payments?{query}")).await?.json().await?;
    if search.session.json {
        return print_json(&answer);
    }
    let mut table =
        Table::new(&["PAYMENT", "MERCHANT", "TERMINAL", "NUMBER", "AMOUNT", "STATE", "MADE AT", "REFUNDED"]);
    for payment in answer["payments"].as_array().context("no payments in the answer")? {
        table.push(vec![
            text_of(&payment["payment_id"]),
            text_of(&payment["merchant_id"]),
            text_of(&payment["terminal_id"]),
            text_of(&payment["msisdn_masked"]),
            format!("{} {}", text_of(&payment["amount"]), text_of(&payment["currency"])),
            text_of(&payment["state"]),
            local_time_of(&payment["created_at_unix_seconds"]),
            text_of(&payment["refunded_minor_units"]),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}

/// `numbind operator refund`.
#[derive(clap::Args, Debug)]
pub(crate) struct RefundArgs {
    #[command(flatten)]
    session: OperatorSession,
    /// The succeeded payment to refund.
    payment_id: String,
    /// How much, in minor units (fen); default: all that remains refundable.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    amount: Option<i64>,
    /// Why (1 to 200 characters; on the user's receipt and in the audit trail). Admins only.
    #[arg(long)]
    reason: String,
}

/// Refunds a succeeded payment; prints the refund as it is after the platform's first try.
pub(crate) async fn refund(args: RefundArgs) -> anyhow::Result<()> {
    let path = format!("/v1/operator/payments/{}/refunds", percent_encode(&args.payment_id));
    let refund = args
        .session
        .post(&path, &json!({ "amount": args.amount, "reason": args.reason }))
        .await
        .with_context(|| format!("payment {} was not refunded", args.payment_id))?;
    if args.session.json {
        return print_json(&refund);
    }
    println!(
        "Refund {} of payment {}: {} {}, {} (asked at {}).",
        text_of(&refund["refund_id"]),
        text_of(&refund["payment_id"]),
        text_of(&refund["amount"]),
        text_of(&refund["currency"]),
        text_of(&refund["state"]),
        local_time_of(&refund["created_at_unix_seconds"]),
    );
    Ok(())
}

/// `numbind operator audit-events`.
#[derive(clap::Args, Debug)]
pub(crate) struct AuditEventsArgs {
    #[command(flatten)]
    session: OperatorSession,
    /// Only events after this sequence number.
    #[arg(long, default_value_t = 0)]
    after_seq: i64,
}

/// Prints the audit trail from `--after-seq` on, following the pages.
pub(crate) async fn audit_events(args: AuditEventsArgs) -> anyhow::Result<()> {
    let (mut after, mut events) = (args.after_seq, Vec::new());
    loop {
        let page: Value =
            args.session.get(&format!("/v1/operator/audit-events?after_seq={after}&limit=1000")).await?.json().await?;
        events.extend(page["audit_events"].as_array().context("no audit events in the answer")?.iter().cloned());
        match page["next_after_seq"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    if args.session.json {
        return print_json(&json!({ "audit_events": events }));
    }
    print!("{}", crate::operator_api::audit_events_table(events.iter()).render());
    Ok(())
}

/// `numbind operator activity`.
#[derive(clap::Args, Debug)]
pub(crate) struct ActivityArgs {
    #[command(flatten)]
    session: OperatorSession,
    /// `hours` (the last 24, per hour) or `days` (the last 14, per day).
    #[arg(long, default_value = "hours", value_parser = ["hours", "days"])]
    period: String,
}

/// Prints activations issued and refused per bucket, as the console's overview chart draws them.
pub(crate) async fn activity(args: ActivityArgs) -> anyhow::Result<()> {
    let answer: Value =
        args.session.get(&format!("/v1/operator/activity?period={}", args.period)).await?.json().await?;
    if args.session.json {
        return print_json(&answer);
    }
    let mut table = Table::new(&["FROM", "ISSUED", "REFUSED"]);
    for bucket in answer["buckets"].as_array().context("no buckets in the answer")? {
        let starts_at = bucket["starts_at"].as_i64().context("a bucket without its start")?;
        table.push(vec![local_time(starts_at), text_of(&bucket["issued"]), text_of(&bucket["refused"])]);
    }
    print!("{}", table.render());
    if answer["truncated"] == json!(true) {
        println!("Too many events: the counts cover the first ones.");
    }
    Ok(())
}
