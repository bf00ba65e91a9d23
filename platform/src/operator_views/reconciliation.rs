//! Payment reconciliation as operators drive it, for the API (`http/`) and the console (`console/`) alike: the
//! platform's ledger of a billing day (China Standard Time), and one repair (parsed from a body or a form, performed
//! by `Store::repair_payment_difference`, the worker that carries it out woken).

use crate::domain::payment_reconciliation::DifferenceKind;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{PaymentLedger, PaymentRepair, PaymentRepairOutcome, PaymentRepairRequest};
use numbind_process::civil_date::CivilDate;
use numbind_process::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS;
use serde::Deserialize;
use serde_json::{json, Value};

/// The kinds of difference payment reconciliation names, by their wire names; an adjustment names one of them.
pub(crate) const DIFFERENCE_KINDS: [&str; 5] = {
    let kinds = DifferenceKind::ALL;
    [kinds[0].as_str(), kinds[1].as_str(), kinds[2].as_str(), kinds[3].as_str(), kinds[4].as_str()]
};

/// An adjustment's reason: 1 to 200 printable characters, as every operator's stated reason.
fn parse_adjustment_reason(reason: Option<&str>) -> Result<String, ApiError> {
    let reason = reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > 200 || reason.chars().any(char::is_control) {
        return Err(ApiError::invalid_request("a reason of 1 to 200 printable characters is required"));
    }
    Ok(reason.to_owned())
}

pub(crate) fn parse_day(text: &str) -> Result<CivilDate, ApiError> {
    CivilDate::parse(text).map_err(ApiError::invalid_request)
}

/// The platform's ledger of one China Standard Time day.
pub(crate) async fn read_ledger(state: &AppState, day: CivilDate) -> Result<PaymentLedger, ApiError> {
    let (start, end) = day.unix_seconds_span(CHINA_STANDARD_TIME_OFFSET_SECONDS);
    let day_text = day.to_string();
    Ok(state.store.call(move |store| store.payment_ledger(start, end, &day_text)).await?)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepairBody {
    pub(crate) day: String,
    pub(crate) record_id: String,
    /// `redrive_billing`, `resend_receipt` or `adjust`.
    pub(crate) action: String,
    pub(crate) difference: Option<String>,
    pub(crate) reason: Option<String>,
}

/// A repair body as a typed request, or the reason it is refused.
pub(crate) fn parse_repair(body: RepairBody, operator: &str) -> Result<PaymentRepairRequest, ApiError> {
    let day = parse_day(&body.day)?;
    let record_id = body.record_id.trim();
    let well_formed = (1..=64).contains(&record_id.len())
        && record_id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !well_formed {
        return Err(ApiError::invalid_request("record_id is a payment or refund ID"));
    }
    let repair = match body.action.as_str() {
        "redrive_billing" => PaymentRepair::RedriveBilling,
        "resend_receipt" => PaymentRepair::ResendReceipt,
        "adjust" => {
            let difference = body.difference.unwrap_or_default();
            if !DIFFERENCE_KINDS.contains(&difference.as_str()) {
                return Err(ApiError::invalid_request(format!("difference is one of {}", DIFFERENCE_KINDS.join(", "))));
            }
            PaymentRepair::Adjust { difference, reason: parse_adjustment_reason(body.reason.as_deref())? }
        }
        _ => return Err(ApiError::invalid_request("action is redrive_billing, resend_receipt or adjust")),
    };
    Ok(PaymentRepairRequest {
        day: day.to_string(),
        record_id: record_id.to_owned(),
        repair,
        operator: operator.to_owned(),
    })
}

/// Performs a repair and wakes the worker that carries it out; the answer as JSON.
pub(crate) async fn perform_repair(state: &AppState, request: PaymentRepairRequest) -> Result<Value, ApiError> {
    let now = state.now();
    let outcome = {
        let request = request.clone();
        state.store.call(move |store| store.repair_payment_difference(&request, now)).await?
    };
    let answer = match outcome {
        PaymentRepairOutcome::Queued { outbox_id } => {
            state.announce_billing();
            state.outbox_changed.notify_one();
            json!({ "outcome": "queued", "outbox_id": outbox_id })
        }
        PaymentRepairOutcome::Adjusted { adjustment_id } => {
            json!({ "outcome": "adjusted", "adjustment_id": adjustment_id })
        }
        PaymentRepairOutcome::AlreadyAdjusted => json!({ "outcome": "already_adjusted" }),
        PaymentRepairOutcome::NoSettledRecord => return Err(ApiError::PaymentNotFound),
    };
    tracing::info!(operator = %request.operator, record_id = %request.record_id, outcome = %answer["outcome"], "payment difference repaired");
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(action: &str, difference: Option<&str>, reason: Option<&str>) -> RepairBody {
        RepairBody {
            day: "2026-12-07".into(),
            record_id: "pay-0123456789abcdef01234567".into(),
            action: action.into(),
            difference: difference.map(str::to_owned),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn repairs_are_parsed_into_typed_requests_and_bad_ones_refused() {
        assert_eq!(
            parse_repair(body("redrive_billing", None, None), "ops").unwrap().repair,
            PaymentRepair::RedriveBilling
        );
        assert_eq!(
            parse_repair(body("resend_receipt", None, None), "ops").unwrap().repair,
            PaymentRepair::ResendReceipt
        );
        let adjusted = parse_repair(body("adjust", Some("amount_differs"), Some("billing corrected by hand")), "ops");
        assert!(matches!(adjusted.unwrap().repair, PaymentRepair::Adjust { .. }));
        assert!(
            parse_repair(body("adjust", Some("amount_differs"), None), "ops").is_err(),
            "an adjustment needs a reason"
        );
        assert!(parse_repair(body("adjust", Some("whatever"), Some("x")), "ops").is_err());
        assert!(parse_repair(body("delete", None, None), "ops").is_err());
        let mut bad_day = body("redrive_billing", None, None);
        bad_day.day = "2026-02-30".into();
        assert!(parse_repair(bad_day, "ops").is_err());
        let mut bad_record = body("redrive_billing", None, None);
        bad_record.record_id = "pay 1; drop".into();
        assert!(parse_repair(bad_record, "ops").is_err());
    }
}
