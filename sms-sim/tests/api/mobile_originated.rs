//! MO: phone -> SMS centre -> ESME, with redelivery until the ESME accepts, across reconnects and restarts.

use crate::helpers::{spawn_app, spawn_app_with, test_config, OSS_PASSWORD, PHONE, SHORT_CODE};
use numbind_smpp::{BindMode, DeliverVerdict};

#[tokio::test]
async fn an_mo_from_a_phone_reaches_the_bound_esme_with_chinese_text_intact() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut oss = app.esme("oss", OSS_PASSWORD, BindMode::Transceiver).await;
    let message_id = app.phone_sends_ok("绑定 BIND WDJBMJHT 𠮷").await;

    let delivery = oss.next_delivery().await;
    assert_eq!(delivery.sms.text, "绑定 BIND WDJBMJHT 𠮷");
    assert_eq!(delivery.sms.source, PHONE);
    assert_eq!(delivery.sms.destination, SHORT_CODE);
    assert_eq!(delivery.sms.smsc_message_id.as_deref(), Some(message_id.as_str()));
    assert!(!delivery.sms.is_delivery_receipt);
    delivery.reply.send(DeliverVerdict::Accept).unwrap();

    let status = app.wait_for_state(&message_id, "delivered").await;
    assert_eq!(status["direction"], "mo");
    assert_eq!(status["attempts"], 1);
}

#[tokio::test]
async fn retry_later_gets_the_mo_redelivered() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut oss = app.esme("oss", OSS_PASSWORD, BindMode::Receiver).await;
    let message_id = app.phone_sends_ok("BIND WDJBMJHT").await;

    let first = oss.next_delivery().await;
    first.reply.send(DeliverVerdict::RetryLater).unwrap();
    let second = oss.next_delivery().await;
    assert_eq!(second.sms.smsc_message_id.as_deref(), Some(message_id.as_str()));
    assert_eq!(second.sms.text, "BIND WDJBMJHT");
    second.reply.send(DeliverVerdict::Accept).unwrap();

    let status = app.wait_for_state(&message_id, "delivered").await;
    assert_eq!(status["attempts"], 2);
}

#[tokio::test]
async fn an_esme_that_disconnects_before_answering_gets_the_mo_after_reconnecting() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let mut first_session = app.esme("oss", OSS_PASSWORD, BindMode::Transceiver).await;
    let message_id = app.phone_sends_ok("BIND AAAABBBB").await;
    let unanswered = first_session.next_delivery().await;
    first_session.shutdown.cancel();
    crate::helpers::wait_until("the first session is gone", || !first_session.client.is_bound()).await;
    drop(unanswered);

    let mut second_session = app.esme("oss", OSS_PASSWORD, BindMode::Transceiver).await;
    let redelivered = second_session.next_delivery().await;
    assert_eq!(redelivered.sms.smsc_message_id.as_deref(), Some(message_id.as_str()));
    redelivered.reply.send(DeliverVerdict::Accept).unwrap();
    let status = app.wait_for_state(&message_id, "delivered").await;
    assert_eq!(status["attempts"], 2, "the unanswered attempt and the delivering one");
}

#[tokio::test]
async fn a_restarted_smsc_keeps_queued_mo_and_delivers_it() {
    let directory = tempfile::tempdir().unwrap();
    let app = spawn_app(directory.path()).await;
    let message_id = app.phone_sends_ok("BIND CCCCDDDD").await;
    app.stop().await;

    let app = spawn_app(directory.path()).await;
    let (_, status) = app.get_json(&format!("/v1/messages/{message_id}")).await;
    assert_eq!(status["state"], "queued");
    let mut oss = app.esme("oss", OSS_PASSWORD, BindMode::Transceiver).await;
    let delivery = oss.next_delivery().await;
    assert_eq!(delivery.sms.smsc_message_id.as_deref(), Some(message_id.as_str()));
    assert_eq!(delivery.sms.text, "BIND CCCCDDDD");
    delivery.reply.send(DeliverVerdict::Accept).unwrap();
    app.wait_for_state(&message_id, "delivered").await;
}

#[tokio::test]
async fn fault_injection_delivers_every_mo_twice_with_the_same_id() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = test_config(directory.path());
    config.duplicate_mo_deliveries = true;
    let app = spawn_app_with(config).await;
    let mut oss = app.esme("oss", OSS_PASSWORD, BindMode::Transceiver).await;
    let message_id = app.phone_sends_ok("BIND EEEEFFFF").await;
    let first = oss.next_delivery().await;
    let second = oss.next_delivery().await;
    assert_eq!(first.sms.smsc_message_id, second.sms.smsc_message_id);
    assert_eq!(first.sms.smsc_message_id.as_deref(), Some(message_id.as_str()));
    first.reply.send(DeliverVerdict::Accept).unwrap();
    second.reply.send(DeliverVerdict::Accept).unwrap();
    app.wait_for_state(&message_id, "delivered").await;
}

#[tokio::test]
async fn an_mo_reaches_only_the_bound_account_that_owns_its_short_code() {
    let directory = tempfile::tempdir().unwrap();
    let mut config = test_config(directory.path());
    let partner_code = numbind_wire::ShortCode::parse("10659999").unwrap();
    config.accounts.push(numbind_sms_sim::config::EsmeAccount::new("partner", "partner1", vec![partner_code]));
    let app = spawn_app_with(config).await;
    // Three accounts bound at once on the wire, each able to receive: the OSS (owns 10658000), a partner (owns
    // 10659999) and the platform (owns no short code).
    let mut oss = app.esme("oss", OSS_PASSWORD, BindMode::Transceiver).await;
    let mut partner = app.esme("partner", "partner1", BindMode::Receiver).await;
    let mut platform = app.esme("platform", crate::helpers::PLATFORM_PASSWORD, BindMode::Transceiver).await;

    let texts = [(SHORT_CODE, "BIND BCDFGHJK"), ("10659999", "PARTNER ONE"), (SHORT_CODE, "BIND CDFGHJKL")];
    for (to, text) in texts {
        let response = app.phone_sends(PHONE, to, text).await;
        assert_eq!(response.status().as_u16(), 202);
        // Each SMS is sent only once the one before was delivered: a copy misrouted to another account would have
        // been delivered before the next SMS, so that account's next delivery would be it, not its own.
        let owner = if to == SHORT_CODE { &mut oss } else { &mut partner };
        let delivery = owner.next_delivery().await;
        assert_eq!((delivery.sms.destination.as_str(), delivery.sms.text.as_str()), (to, text));
        delivery.reply.send(DeliverVerdict::Accept).unwrap();
    }
    for (name, esme) in [("oss", &mut oss), ("partner", &mut partner), ("platform", &mut platform)] {
        let extra = esme.deliveries.try_recv();
        assert!(extra.is_err(), "{name} got an MO it does not own: {:?}", extra.map(|delivery| delivery.sms.text));
    }
}
