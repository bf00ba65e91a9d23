//! The ESME client against a tiny in-test SMS centre over real sockets.

mod helpers;

use helpers::{fast_config, read, start_client, wait_until, TinySmsc};
use numbind_smpp::pdu::{
    CommandId, CommandStatus, Pdu, PduBody, ShortMessage, TAG_CLIENT_REFERENCE, TAG_SMSC_MESSAGE_ID,
};
use numbind_smpp::{decode_text, encode_text, DeliverVerdict, EsmeError, OutgoingSms};

fn outgoing(text: &str) -> OutgoingSms {
    OutgoingSms {
        source: "10658000".into(),
        destination: "13800138000".into(),
        text: text.into(),
        client_reference: Some("ref-1".into()),
    }
}

fn deliver_sm(sequence: u32, text: &str, smsc_message_id: &str) -> Pdu {
    let (data_coding, octets) = encode_text(text);
    let mut message = ShortMessage {
        source_addr: "13800138000".into(),
        destination_addr: "10658000".into(),
        ..ShortMessage::default()
    };
    message.set_text_octets(data_coding, octets);
    message.set_tlv(TAG_SMSC_MESSAGE_ID, smsc_message_id.as_bytes().to_vec());
    Pdu::new(sequence, PduBody::DeliverSm(message))
}

#[tokio::test]
async fn the_client_binds_and_a_submit_returns_the_smsc_message_id() {
    let smsc = TinySmsc::start().await;
    let (client, _deliveries, shutdown) = start_client(fast_config(smsc.address(), "secret"));
    let (mut connection, bind) = smsc.accept_bind(CommandStatus::EsmeRok).await;
    match bind.body {
        PduBody::BindTransceiver(bind) => {
            assert_eq!(
                (bind.system_id.as_str(), bind.password.as_str(), bind.interface_version),
                ("oss", "secret", 0x34)
            )
        }
        other => panic!("expected bind_transceiver, got {other:?}"),
    }
    wait_until("bound", || client.is_bound()).await;

    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(outgoing("绑定成功：机顶盒 𠮷")).await }
    });
    let submit = read(&mut connection).await;
    let PduBody::SubmitSm(message) = &submit.body else { panic!("expected submit_sm, got {submit:?}") };
    assert_eq!(message.esm_class, 0x00);
    assert_eq!(message.destination_addr, "13800138000");
    assert_eq!(message.ascii_tlv(TAG_CLIENT_REFERENCE).as_deref(), Some("ref-1"));
    assert_eq!(decode_text(message.data_coding, message.text_octets()).unwrap(), "绑定成功：机顶盒 𠮷");
    let response = Pdu::new(submit.sequence_number, PduBody::SubmitSmResp { message_id: "m-77".into() });
    connection.write_pdu(&response).await.unwrap();
    assert_eq!(submitting.await.unwrap(), Ok("m-77".to_owned()));

    shutdown.cancel();
    let unbind = read(&mut connection).await;
    assert_eq!(unbind.body, PduBody::Unbind);
    connection.write_pdu(&Pdu::new(unbind.sequence_number, PduBody::UnbindResp)).await.unwrap();
    wait_until("unbound", || !client.is_bound()).await;
}

#[tokio::test]
async fn a_refused_bind_leaves_the_client_unbound_and_submits_fail_fast() {
    let smsc = TinySmsc::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(smsc.address(), "wrong"));
    let (_connection, _) = smsc.accept_bind(CommandStatus::EsmeRinvpaswd).await;
    assert!(!client.is_bound());
    assert_eq!(client.submit(outgoing("hi")).await, Err(EsmeError::NotBound));
    // It retries the bind after a backoff.
    let (_second, _) = smsc.accept_bind(CommandStatus::EsmeRinvpaswd).await;
}

#[tokio::test]
async fn a_rejected_submit_reports_the_smsc_status() {
    let smsc = TinySmsc::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(smsc.address(), "secret"));
    let (mut connection, _) = smsc.accept_bind(CommandStatus::EsmeRok).await;
    wait_until("bound", || client.is_bound()).await;
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(outgoing("hi")).await }
    });
    let submit = read(&mut connection).await;
    let refusal = Pdu {
        command_status: CommandStatus::EsmeRthrottled,
        sequence_number: submit.sequence_number,
        body: PduBody::SubmitSmResp { message_id: String::new() },
    };
    connection.write_pdu(&refusal).await.unwrap();
    assert_eq!(submitting.await.unwrap(), Err(EsmeError::Rejected { command_status: CommandStatus::EsmeRthrottled }));
}

#[tokio::test]
async fn deliveries_are_answered_by_the_receivers_verdict() {
    let smsc = TinySmsc::start().await;
    let (client, mut deliveries, _shutdown) = start_client(fast_config(smsc.address(), "secret"));
    let (mut connection, _) = smsc.accept_bind(CommandStatus::EsmeRok).await;
    wait_until("bound", || client.is_bound()).await;

    connection.write_pdu(&deliver_sm(10, "BIND WDJBMJHT", "smsc-1")).await.unwrap();
    let delivery = deliveries.recv().await.expect("delivery");
    assert_eq!(delivery.sms.text, "BIND WDJBMJHT");
    assert_eq!(delivery.sms.source, "13800138000");
    assert_eq!(delivery.sms.smsc_message_id.as_deref(), Some("smsc-1"));
    assert!(!delivery.sms.is_delivery_receipt);
    delivery.reply.send(DeliverVerdict::Accept).unwrap();
    let response = read(&mut connection).await;
    assert_eq!(
        (response.command_id(), response.command_status, response.sequence_number),
        (CommandId::DeliverSmResp, CommandStatus::EsmeRok, 10)
    );

    connection.write_pdu(&deliver_sm(11, "解绑", "smsc-2")).await.unwrap();
    let delivery = deliveries.recv().await.expect("delivery");
    assert_eq!(delivery.sms.text, "解绑");
    delivery.reply.send(DeliverVerdict::RetryLater).unwrap();
    let response = read(&mut connection).await;
    assert_eq!((response.command_status, response.sequence_number), (CommandStatus::EsmeRxTAppn, 11));

    connection.write_pdu(&deliver_sm(12, "dropped", "smsc-3")).await.unwrap();
    drop(deliveries.recv().await.expect("delivery"));
    let response = read(&mut connection).await;
    assert_eq!((response.command_status, response.sequence_number), (CommandStatus::EsmeRxTAppn, 12));
}

#[tokio::test]
async fn the_client_answers_enquire_link_and_generic_nacks_unknown_commands() {
    let smsc = TinySmsc::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(smsc.address(), "secret"));
    let (mut connection, _) = smsc.accept_bind(CommandStatus::EsmeRok).await;
    wait_until("bound", || client.is_bound()).await;
    connection.write_pdu(&Pdu::new(5, PduBody::EnquireLink)).await.unwrap();
    assert_eq!(read(&mut connection).await, Pdu::new(5, PduBody::EnquireLinkResp));
    let unknown = Pdu::new(6, PduBody::Other { command_id: CommandId::Other(0x42), body: bytes::Bytes::new() });
    connection.write_pdu(&unknown).await.unwrap();
    assert_eq!(read(&mut connection).await, Pdu::generic_nack(6, CommandStatus::EsmeRinvcmdid));
}

#[tokio::test]
async fn the_client_reconnects_after_the_server_drops_the_connection() {
    let smsc = TinySmsc::start().await;
    let (client, _deliveries, _shutdown) = start_client(fast_config(smsc.address(), "secret"));
    let (connection, _) = smsc.accept_bind(CommandStatus::EsmeRok).await;
    wait_until("bound", || client.is_bound()).await;
    drop(connection);
    let (mut connection, _) = smsc.accept_bind(CommandStatus::EsmeRok).await;
    wait_until("bound again", || client.is_bound()).await;
    let submitting = tokio::spawn({
        let client = client.clone();
        async move { client.submit(outgoing("again")).await }
    });
    let submit = read(&mut connection).await;
    connection
        .write_pdu(&Pdu::new(submit.sequence_number, PduBody::SubmitSmResp { message_id: "m-2".into() }))
        .await
        .unwrap();
    assert_eq!(submitting.await.unwrap(), Ok("m-2".to_owned()));
}
