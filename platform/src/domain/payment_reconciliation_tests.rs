//! Unit tests of the three-way comparison: each kind of difference named once, agreement naming none, adjusted
//! differences settled.

use super::*;

fn record<'a>(record_id: &'a str, amount_fen: i64, receipt: &'a str) -> PlatformRecord<'a> {
    PlatformRecord {
        record_id,
        payment_id: record_id,
        merchant_id: "films",
        msisdn_masked: Some("138****8000"),
        amount_fen,
        settled_at_unix_seconds: 1_796_601_600,
        receipt_references: vec![receipt],
    }
}

fn bill(record_id: &str, amount_fen: i64) -> BillLine {
    BillLine {
        kind: "charge".into(),
        payment_id: record_id.into(),
        refund_id: None,
        msisdn: "13800138000".into(),
        merchant_id: Some("films".into()),
        amount_fen,
        outcome: "charged".into(),
        created_at_unix_ms: 1_796_601_600_000,
    }
}

fn sent(reference: &str) -> SentMessage {
    SentMessage {
        message_id: format!("m-{reference}"),
        client_reference: Some(reference.into()),
        msisdn_masked: "138****8000".into(),
        state: "delivered".into(),
        created_at_unix_ms: 1_796_601_600_000,
    }
}

#[test]
fn a_receipt_reference_names_its_record_with_or_without_a_resend_suffix() {
    assert_eq!(receipt_record("rcpt-pay-0a1b"), Some("pay-0a1b"));
    assert_eq!(receipt_record("rcpt-pay-0a1b-2"), Some("pay-0a1b"));
    assert_eq!(receipt_record("rcpt-ref-77"), Some("ref-77"), "an all-digit ID part is the ID, not a suffix");
    assert_eq!(receipt_record("sms-0a1b"), None);
}

#[test]
fn every_kind_of_difference_is_named_and_agreement_names_none() {
    let platform = PlatformSide {
        records: vec![
            record("pay-a", 500, "rcpt-pay-a"),
            record("pay-b", 700, "rcpt-pay-b"),
            record("pay-c", 100, "rcpt-pay-c"),
        ],
        adjustments: Vec::new(),
    };
    let bills = [bill("pay-a", 500), bill("pay-b", 900), bill("pay-d", 300)];
    let messages = [sent("rcpt-pay-a"), sent("rcpt-pay-b"), sent("rcpt-pay-x"), sent("sms-binding-confirmation")];
    let differences = compare_payment_records(&platform, &bills, &messages);
    let kinds: Vec<(&str, &str)> =
        differences.iter().map(|difference| (difference.kind.as_str(), difference.record_id.as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("amount_differs", "pay-b"),
            ("platform_only", "pay-c"),
            ("receipt_missing", "pay-c"),
            ("billing_only", "pay-d"),
            ("receipt_without_charge", "pay-x"),
        ]
    );
    let billing_only = &differences[3];
    assert_eq!(
        (billing_only.msisdn_masked.as_deref(), billing_only.at.as_str()),
        (Some("138****8000"), "2026-12-07 08:00:00")
    );
    assert_eq!((differences[0].platform_amount_fen, differences[0].billing_amount_fen), (Some(700), Some(900)));
    let agreeing = PlatformSide { records: vec![record("pay-a", 500, "rcpt-pay-a")], adjustments: Vec::new() };
    assert!(compare_payment_records(&agreeing, &[bill("pay-a", 500)], &[sent("rcpt-pay-a")]).is_empty());
}

#[test]
fn each_kind_has_the_repair_that_fits_and_serializes_as_the_command_line_names_it() {
    let repairs: Vec<&str> = DifferenceKind::ALL.iter().map(|kind| kind.repair().api_action()).collect();
    assert_eq!(repairs, ["redrive_billing", "adjust", "adjust", "resend_receipt", "adjust"]);
    let platform = PlatformSide { records: vec![record("pay-c", 100, "rcpt-pay-c")], adjustments: Vec::new() };
    let json = serde_json::to_value(&compare_payment_records(&platform, &[], &[])[0]).unwrap();
    assert_eq!((json["kind"].as_str(), json["repair"].as_str()), (Some("platform_only"), Some("redrive-billing")));
    assert!(json.get("platform_amount_fen").is_none(), "the command line's JSON keeps its fields: {json}");
}

#[test]
fn an_adjusted_difference_is_settled() {
    let platform = PlatformSide {
        records: vec![record("pay-b", 700, "rcpt-pay-b")],
        adjustments: vec![AdjustedDifference { record_id: "pay-b", difference: "amount_differs" }],
    };
    assert!(compare_payment_records(&platform, &[bill("pay-b", 900)], &[sent("rcpt-pay-b")]).is_empty());
}
