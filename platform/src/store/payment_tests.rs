//! Store-level tests of the payment use cases: a final state never changes, an answer is recorded once (one
//! receipt), unbinding cancels what waits for confirmation, and no charge goes out for a box unbound meanwhile.

use super::*;
use crate::domain::payment::ConfirmationKey;
use numbind_wire::api::{
    CancellationReason, ChargeOutcome, PaymentConfirmationOutcome, PaymentConfirmationRequest, PaymentDenialReason,
    PaymentState,
};
use numbind_wire::request_signing::TerminalKeyPair;
use numbind_wire::{
    Amount, BindingId, Currency, ItemDescription, ItemId, MerchantId, Msisdn, PaymentId, PurchaseIntent, TerminalId,
};
use ring::rand::SystemRandom;

const NUMBER: &str = "13800138000";

/// A store with a merchant and a terminal bound to [`NUMBER`].
fn bound_store() -> (Store, TerminalId) {
    let store = Store::open_in_memory().unwrap();
    let key = TerminalKeyPair::generate(&SystemRandom::new()).unwrap().0.public_key();
    let terminal_id = TerminalId::parse("STB-00007Q2K").unwrap();
    store.register_terminal(&terminal_id, &key, "Skyworth E900", false, 1).unwrap();
    let merchant = Merchant {
        merchant_id: MerchantId::parse("demo-films").unwrap(),
        display_name: "演示影院".to_owned(),
        webhook_url: None,
        created_at: 1,
        revoked_at: None,
    };
    store.insert_merchant(&merchant, &[1; 32]).unwrap();
    store
        .in_transaction(|connection| {
            connection.execute(
                "INSERT INTO activations (activation_id, terminal_id, code, state, created_at, expires_at)
                 VALUES ('act-1', ?1, 'BCDFGHJK', 'bound', 1, 2)",
                [terminal_id.as_str()],
            )?;
            connection.execute(
                "INSERT INTO bindings (binding_id, terminal_id, msisdn, activation_id, state, created_at)
                 VALUES ('bnd-1', ?1, ?2, 'act-1', 'active', 1)",
                [terminal_id.as_str(), NUMBER],
            )?;
            Ok(())
        })
        .unwrap();
    (store, terminal_id)
}

fn new_payment(terminal_id: &TerminalId, payment_id: &str, confirmation: Option<NewConfirmation>) -> NewPayment {
    NewPayment {
        merchant_id: MerchantId::parse("demo-films").unwrap(),
        idempotency_key: format!("key-{payment_id}"),
        body_hash: [0; 32],
        intent: PurchaseIntent {
            terminal_id: terminal_id.clone(),
            merchant_id: MerchantId::parse("demo-films").unwrap(),
            item_id: ItemId::parse("film-4412").unwrap(),
            item_description: ItemDescription::parse("《流浪地球》高清").unwrap(),
            amount: Amount::from_minor_units(5000).unwrap(),
            currency: Currency::Cny,
            nonce: format!("nonce-{payment_id}-000000000000"),
            signed_at_unix_seconds: 100,
        },
        reference_code: "ORDER-1".to_owned(),
        payment_id: PaymentId::parse(payment_id).unwrap(),
        confirmation,
        declined_by_check: None,
    }
}

fn created(store: &Store, request: &NewPayment) -> PaymentRecord {
    match store.create_payment(request, 100).unwrap() {
        CreatePaymentOutcome::Created(record) => record,
        other => panic!("not created: {other:?}"),
    }
}

fn receipts(store: &Store) -> usize {
    let sent = store.notifications_to(&Msisdn::parse(NUMBER).unwrap()).unwrap();
    sent.iter().filter(|sms| sms.text.contains("如有疑问回复 投诉")).count()
}

#[test]
fn a_final_state_never_changes_and_a_second_answer_sends_no_second_receipt() {
    let (store, terminal_id) = bound_store();
    let record = created(&store, &new_payment(&terminal_id, "pay-1", None));
    assert_eq!(record.payment.state, PaymentState::Processing);
    let payment_id = record.payment.payment_id.clone();
    let charged = ChargeOutcome::Charged { bill_line_id: "BL-1".to_owned(), charged_at_unix_seconds: 101 };
    let first = store.record_charge_outcome(&payment_id, &charged, 101).unwrap().unwrap();
    assert!(first.changed && first.record.payment.state == PaymentState::Succeeded);
    let declined = ChargeOutcome::Declined { reason: PaymentDenialReason::DailyLimit };
    let second = store.record_charge_outcome(&payment_id, &declined, 102).unwrap().unwrap();
    assert!(!second.changed, "a final payment takes no second answer");
    assert_eq!(second.record.payment.state, PaymentState::Succeeded);
    assert_eq!(second.record.payment.server_reference_code.as_deref(), Some("BL-1"));
    assert_eq!(receipts(&store), 1);
    let cancelled = store.cancel_payment_by_merchant(&record.payment.merchant_id, &payment_id, 103).unwrap();
    assert_eq!(cancelled, MerchantCancellation::NotCancellable);
    // Even a direct UPDATE through the table's transition refuses to leave a final state.
    let moved = store
        .in_transaction(|connection| {
            let transition = tables::payments::Transition {
                from: &[PaymentState::Succeeded],
                to: PaymentState::Denied,
                denial_reason: Some(PaymentDenialReason::Other),
                cancellation_reason: None,
                server_reference_code: None,
            };
            tables::payments::transition_payment(connection, &payment_id, &transition, 104)
        })
        .unwrap();
    assert!(!moved);
}

#[test]
fn unbinding_cancels_the_payments_waiting_for_confirmation_and_no_charge_goes_out_for_an_unbound_box() {
    let (store, terminal_id) = bound_store();
    let key = ConfirmationKey::from_secret(&[9; 32]);
    let confirmation =
        NewConfirmation { tag: key.tag("pay-2", "123456"), expires_at: 400, sms_text: "confirm".to_owned() };
    let pending = created(&store, &new_payment(&terminal_id, "pay-2", Some(confirmation)));
    assert_eq!(pending.payment.state, PaymentState::PendingConfirmation);
    let processing = created(&store, &new_payment(&terminal_id, "pay-3", None));
    let ready = store.ready_charge(&processing.payment.payment_id).unwrap().expect("a bound box's charge is ready");
    assert_eq!(ready.payment_id, processing.payment.payment_id);
    store.unbind_by_operator(&terminal_id, "alice", "user asked", 150).unwrap().unwrap();
    assert_eq!(
        store.ready_charge(&processing.payment.payment_id).unwrap(),
        None,
        "read without the writer, a charge never goes out for an unbound box: charge_to_send decides"
    );
    assert_eq!(store.ready_charge(&pending.payment.payment_id).unwrap(), None, "a pending payment is not charged");
    let after = store.find_payment(&pending.payment.payment_id).unwrap().unwrap();
    assert_eq!(
        (after.payment.state, after.payment.cancellation_reason),
        (PaymentState::Cancelled, Some(CancellationReason::Unbound))
    );
    let ChargeToSend::DeniedNotBound(denied) = store.charge_to_send(&processing.payment.payment_id, 151).unwrap()
    else {
        panic!("a charge went out for an unbound box")
    };
    assert_eq!(denied.payment.denial_reason, Some(PaymentDenialReason::NotBound));
    let request = PaymentConfirmationRequest {
        msisdn: Msisdn::parse(NUMBER).unwrap(),
        approve: true,
        confirmation_number: "123456".to_owned(),
        sms_message_id: "sms-1".to_owned(),
    };
    let answer = store.answer_payment_confirmation(&request, &key, 152).unwrap();
    assert_eq!(answer.response.outcome, PaymentConfirmationOutcome::NothingPending);
    assert!(BindingId::parse("bnd-1").is_ok());
}

#[test]
fn a_window_that_closed_expires_the_payment() {
    let (store, terminal_id) = bound_store();
    let confirmation = NewConfirmation { tag: vec![0; 32], expires_at: 400, sms_text: "confirm".to_owned() };
    created(&store, &new_payment(&terminal_id, "pay-4", Some(confirmation)));
    assert!(store.expire_overdue_confirmations(399, 10).unwrap().is_empty());
    let expired = store.expire_overdue_confirmations(400, 10).unwrap();
    assert_eq!(expired[0].payment.state, PaymentState::Expired);
    assert!(store.expire_overdue_confirmations(500, 10).unwrap().is_empty(), "expired once");
}

#[test]
fn a_confirmation_number_is_not_kept_once_its_sms_is_delivered() {
    let (store, terminal_id) = bound_store();
    let key = ConfirmationKey::from_secret(&[9; 32]);
    let sms_text = "【numbind】回复 Y 123456 确认支付 ¥50.00".to_owned();
    let confirmation = NewConfirmation { tag: key.tag("pay-2", "123456"), expires_at: 400, sms_text };
    created(&store, &new_payment(&terminal_id, "pay-2", Some(confirmation)));
    let number = Msisdn::parse(NUMBER).unwrap();
    let queued = store.notifications_to(&number).unwrap();
    let sms = queued.iter().find(|sms| sms.text.contains("123456")).expect("the confirmation sms is queued");
    store.mark_notifications_delivered(&[(sms.outbox_id.clone(), "smsc-1".to_owned())], 120).unwrap();
    let delivered = store.notifications_to(&number).unwrap();
    assert!(delivered.iter().all(|sms| !sms.text.contains("123456")), "{delivered:?}");
    assert!(delivered.iter().any(|sms| sms.text == crate::store::tables::outbox::REDACTED_TEXT));
}

#[test]
fn an_idempotency_key_is_remembered_for_its_retention_and_then_forgotten() {
    let (store, terminal_id) = bound_store();
    let request = new_payment(&terminal_id, "pay-000000000000000000000071", None);
    let record = created(&store, &request);
    let merchant = request.merchant_id.clone();
    let remembered = store.repeated_payment_key(&merchant, &request.idempotency_key, &request.body_hash).unwrap();
    assert!(matches!(remembered, Some(CreatePaymentOutcome::Repeated(ref again)) if again.payment == record.payment));
    assert_eq!(store.forget_idempotency_keys_before(100).unwrap(), 0, "a key first used at the cutoff is kept");
    assert_eq!(store.forget_idempotency_keys_before(101).unwrap(), 1);
    let forgotten = store.repeated_payment_key(&merchant, &request.idempotency_key, &request.body_hash).unwrap();
    assert!(forgotten.is_none());
    assert!(
        matches!(store.create_payment(&request, 200).unwrap(), CreatePaymentOutcome::IntentUsed),
        "a forgotten key cannot charge the box's intent twice"
    );
}
