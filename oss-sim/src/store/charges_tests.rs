//! Tests of the billing tables: once-only charges and refunds, limits across calls, balances.

use super::*;
use crate::domain::charging::LimitOverride;
use crate::domain::subscriber::{demo_subscribers, Subscriber, SubscriberStatus};
use crate::store::NewBinding;
use numbind_wire::api::{BillingRefundOutcome, BillingRefundRequest, RefundDenialReason};
use numbind_wire::{Amount, BindingId, Currency, ItemDescription, MerchantId, PaymentId, RefundId};

const NOW_MS: i64 = 1_796_601_600_000;

fn store_with(plan: Plan, balance_fen: i64) -> (Store, Msisdn) {
    let store = Store::open_in_memory().unwrap();
    let msisdn = Msisdn::parse("13800138001").unwrap();
    let subscriber = Subscriber {
        msisdn: msisdn.clone(),
        status: SubscriberStatus::Active,
        plan,
        device_limit: 2,
        billing_allowed: true,
        balance_fen,
    };
    store.insert_subscriber(&subscriber, NOW_MS).unwrap();
    let binding = NewBinding {
        binding_id: "b-1".to_owned(),
        msisdn: msisdn.clone(),
        terminal_id: numbind_wire::TerminalId::parse("STB-000001").unwrap(),
        device_model: "Skyworth E900".to_owned(),
        activation_id: "act-1".to_owned(),
    };
    store.write(|transaction| super::super::bindings::record_binding_in(transaction, &binding, NOW_MS)).unwrap();
    (store, msisdn)
}

#[test]
fn a_charge_for_a_binding_billing_no_longer_holds_is_declined_not_bound() {
    let (store, msisdn) = store_with(Plan::Prepaid, 50_00);
    store
        .write(|transaction| super::super::bindings::revoke_binding_in(transaction, "b-1", "unbound_by_sms", NOW_MS))
        .unwrap();
    let outcome =
        store.charge(&charge_request(&msisdn, "pay-1", 5_00), ChargeLimits::operator_default(), NOW_MS).unwrap();
    assert_eq!(outcome, ChargeOutcome::Declined { reason: PaymentDenialReason::NotBound });
    assert_eq!(balance(&store, &msisdn), 50_00);
}

fn charge_request(msisdn: &Msisdn, payment_id: &str, amount_fen: i64) -> ChargeRequest {
    ChargeRequest {
        payment_id: PaymentId::parse(payment_id).unwrap(),
        binding_id: BindingId::parse("b-1").unwrap(),
        msisdn: msisdn.clone(),
        merchant_id: MerchantId::parse("demo-films").unwrap(),
        item_description: ItemDescription::parse("流浪地球").unwrap(),
        amount: Amount::from_minor_units(amount_fen).unwrap(),
        currency: Currency::Cny,
    }
}

fn balance(store: &Store, msisdn: &Msisdn) -> i64 {
    store.get_subscriber(msisdn).unwrap().unwrap().balance_fen
}

#[test]
fn a_retried_charge_answers_the_first_outcome_and_debits_once() {
    let (store, msisdn) = store_with(Plan::Prepaid, 5_000);
    let request = charge_request(&msisdn, "pay-1", 2_000);
    let first = store.charge(&request, ChargeLimits::operator_default(), NOW_MS).unwrap();
    let again = store.charge(&request, ChargeLimits::operator_default(), NOW_MS + 60_000).unwrap();
    assert!(matches!(first, ChargeOutcome::Charged { .. }));
    assert_eq!(first, again);
    assert_eq!(balance(&store, &msisdn), 3_000);
}

#[test]
fn a_decline_is_final_even_after_a_top_up() {
    let (store, msisdn) = store_with(Plan::Prepaid, 1_000);
    let request = charge_request(&msisdn, "pay-1", 2_000);
    let declined = ChargeOutcome::Declined { reason: PaymentDenialReason::InsufficientBalance };
    assert_eq!(store.charge(&request, ChargeLimits::operator_default(), NOW_MS).unwrap(), declined);
    let mut topped_up = store.get_subscriber(&msisdn).unwrap().unwrap();
    topped_up.balance_fen = 10_000;
    store.update_subscriber(&topped_up, NOW_MS).unwrap();
    assert_eq!(store.charge(&request, ChargeLimits::operator_default(), NOW_MS + 5_000).unwrap(), declined);
}

#[test]
fn a_retry_with_another_amount_is_refused() {
    let (store, msisdn) = store_with(Plan::Postpaid, 0);
    store.charge(&charge_request(&msisdn, "pay-1", 100), ChargeLimits::operator_default(), NOW_MS).unwrap();
    let raised = store.charge(&charge_request(&msisdn, "pay-1", 900), ChargeLimits::operator_default(), NOW_MS);
    assert!(matches!(raised, Err(StoreError::ConflictingRetry)));
}

#[test]
fn the_daily_limit_counts_earlier_charges_and_the_interval_spaces_them() {
    let (store, msisdn) = store_with(Plan::Postpaid, 0);
    let limits = ChargeLimits { daily_fen: 3_000, ..ChargeLimits::operator_default() };
    let first = store.charge(&charge_request(&msisdn, "pay-1", 2_000), limits, NOW_MS).unwrap();
    assert!(matches!(first, ChargeOutcome::Charged { .. }));
    let too_soon = store.charge(&charge_request(&msisdn, "pay-2", 100), limits, NOW_MS + 500).unwrap();
    assert_eq!(too_soon, ChargeOutcome::Declined { reason: PaymentDenialReason::TooSoon });
    let over_the_day = store.charge(&charge_request(&msisdn, "pay-3", 1_001), limits, NOW_MS + 10_000).unwrap();
    assert_eq!(over_the_day, ChargeOutcome::Declined { reason: PaymentDenialReason::DailyLimit });
    // The next local day starts afresh.
    let tomorrow = store.charge(&charge_request(&msisdn, "pay-4", 2_000), limits, NOW_MS + 86_400_000).unwrap();
    assert!(matches!(tomorrow, ChargeOutcome::Charged { .. }));
}

#[test]
fn a_subscribers_own_limit_overrides_the_operators() {
    let (store, msisdn) = store_with(Plan::Postpaid, 0);
    let own = LimitOverride { max_per_charge_fen: Some(500), ..LimitOverride::default() };
    store.set_limit_override(&msisdn, &own).unwrap();
    assert_eq!(store.limit_override(&msisdn).unwrap(), own);
    let refused =
        store.charge(&charge_request(&msisdn, "pay-1", 501), ChargeLimits::operator_default(), NOW_MS).unwrap();
    assert_eq!(refused, ChargeOutcome::Declined { reason: PaymentDenialReason::SingleChargeLimit });
}

#[test]
fn a_check_writes_nothing() {
    let (store, msisdn) = store_with(Plan::Prepaid, 5_000);
    let request = charge_request(&msisdn, "pay-1", 2_000);
    assert!(matches!(
        store.check_charge(&request, ChargeLimits::operator_default(), NOW_MS).unwrap(),
        ChargeOutcome::Charged { .. }
    ));
    assert_eq!(balance(&store, &msisdn), 5_000);
    let charged = store.charge(&request, ChargeLimits::operator_default(), NOW_MS).unwrap();
    assert_eq!(store.check_charge(&request, ChargeLimits::operator_default(), NOW_MS).unwrap(), charged);
}

fn refund_request(msisdn: &Msisdn, refund_id: &str, amount_fen: i64) -> BillingRefundRequest {
    BillingRefundRequest {
        refund_id: RefundId::parse(refund_id).unwrap(),
        payment_id: PaymentId::parse("pay-1").unwrap(),
        msisdn: msisdn.clone(),
        amount: Amount::from_minor_units(amount_fen).unwrap(),
        currency: Currency::Cny,
    }
}

#[test]
fn refunds_never_exceed_the_charge_and_credit_the_balance_once() {
    let (store, msisdn) = store_with(Plan::Prepaid, 5_000);
    store.charge(&charge_request(&msisdn, "pay-1", 2_000), ChargeLimits::operator_default(), NOW_MS).unwrap();
    let partial = store.refund(&refund_request(&msisdn, "ref-1", 1_500), NOW_MS).unwrap();
    assert!(matches!(partial, BillingRefundOutcome::Refunded { .. }));
    assert_eq!(store.refund(&refund_request(&msisdn, "ref-1", 1_500), NOW_MS).unwrap(), partial);
    let too_much = store.refund(&refund_request(&msisdn, "ref-2", 501), NOW_MS).unwrap();
    assert_eq!(too_much, BillingRefundOutcome::Declined { reason: RefundDenialReason::ExceedsRefundable });
    assert!(matches!(
        store.refund(&refund_request(&msisdn, "ref-3", 500), NOW_MS).unwrap(),
        BillingRefundOutcome::Refunded { .. }
    ));
    assert_eq!(balance(&store, &msisdn), 5_000);
}

#[test]
fn a_refund_of_a_payment_never_charged_is_declined() {
    let (store, msisdn) = store_with(Plan::Postpaid, 0);
    let refused = store.refund(&refund_request(&msisdn, "ref-1", 100), NOW_MS).unwrap();
    assert_eq!(refused, BillingRefundOutcome::Declined { reason: RefundDenialReason::ChargeNotFound });
    assert!(!demo_subscribers().is_empty());
}

#[test]
fn the_ledger_lists_charges_and_refunds_by_number_payment_and_local_month() {
    let (store, msisdn) = store_with(Plan::Prepaid, 5_000);
    let limits = ChargeLimits::operator_default();
    store.charge(&charge_request(&msisdn, "pay-1", 2_000), limits, NOW_MS).unwrap();
    store.charge(&charge_request(&msisdn, "pay-2", 9_000), limits, NOW_MS + 5_000).unwrap();
    store.refund(&refund_request(&msisdn, "ref-1", 500), NOW_MS + 10_000).unwrap();
    let all = ChargeRecordFilter { limit: 100, ..ChargeRecordFilter::default() };
    let records = store.list_charge_records(&all).unwrap();
    let summary: Vec<_> = records.iter().map(|record| (record.kind.as_str(), record.outcome.as_str())).collect();
    assert_eq!(summary, [("charge", "charged"), ("charge", "declined"), ("refund", "refunded")]);
    assert_eq!(records[2].currency, "CNY");
    assert_eq!(records[2].local_month, records[0].local_month);
    let of_payment = ChargeRecordFilter { payment_id: Some("pay-1".into()), ..all.clone() };
    assert_eq!(store.list_charge_records(&of_payment).unwrap().len(), 2);
    let other_month = ChargeRecordFilter { month: Some("1999-01".into()), ..all.clone() };
    assert!(store.list_charge_records(&other_month).unwrap().is_empty());
    let other_number = ChargeRecordFilter { msisdn: Some(Msisdn::parse("13900139000").unwrap()), ..all.clone() };
    assert!(store.list_charge_records(&other_number).unwrap().is_empty());
    let local_day = numbind_process::clock::CivilDateTime::at(NOW_MS / 1000, 8 * 3600).date_text();
    let that_day = ChargeRecordFilter { day: Some(local_day), ..all.clone() };
    assert_eq!(store.list_charge_records(&that_day).unwrap().len(), 3, "charges and refunds of the local day");
    let other_day = ChargeRecordFilter { day: Some("1999-01-01".into()), ..all.clone() };
    assert!(store.list_charge_records(&other_day).unwrap().is_empty());
    let first = ChargeRecordFilter { limit: 1, ..all };
    assert_eq!(store.list_charge_records(&first).unwrap().len(), 1);
}
