//! MO delivery under load to a bound receiver that counts message IDs: each MO is delivered exactly once when no
//! response is lost.

use crate::helpers::{bind_pdu, spawn_app, OSS_PASSWORD, PHONE, SHORT_CODE};
use numbind_smpp::pdu::{CommandStatus, Pdu, PduBody};
use numbind_smpp::{decode_text, ReadOutcome};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const MOBILE_ORIGINATED: usize = 2_000;
const PHONES_AT_ONCE: usize = 16;

/// Reads deliver_sm until `expected` distinct texts arrived and the link then stays quiet for a moment, answering
/// each at once; returns how often each text came.
async fn count_deliveries(mut connection: numbind_smpp::Connection, expected: usize) -> HashMap<String, u32> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    let quiet = Duration::from_millis(1_500);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let wait = if counts.len() >= expected { quiet } else { deadline - tokio::time::Instant::now() };
        let read = match tokio::time::timeout(wait, connection.read_pdu()).await {
            Ok(read) => read.expect("read").expect("the smsc keeps the link open"),
            Err(_) if counts.len() >= expected => return counts,
            Err(_) => panic!("only {} of {expected} distinct MO arrived", counts.len()),
        };
        let ReadOutcome::Pdu(pdu) = read else { panic!("malformed pdu from the smsc") };
        match pdu.body {
            PduBody::DeliverSm(message) => {
                let text = decode_text(message.data_coding, message.text_octets()).expect("text");
                *counts.entry(text).or_default() += 1;
                let answer = Pdu::new(pdu.sequence_number, PduBody::DeliverSmResp { message_id: String::new() });
                connection.write_pdu(&answer).await.expect("answer");
            }
            PduBody::EnquireLink => {
                connection.write_pdu(&Pdu::new(pdu.sequence_number, PduBody::EnquireLinkResp)).await.expect("answer");
            }
            other => panic!("unexpected pdu {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_mo_reach_a_counting_receiver_exactly_once() {
    let directory = tempfile::tempdir().unwrap();
    let app = Arc::new(spawn_app(directory.path()).await);
    let mut connection = app.raw_connection().await;
    connection.write_pdu(&bind_pdu(1, "oss", OSS_PASSWORD)).await.unwrap();
    let PduBody::BindTransceiverResp { .. } = connection
        .read_pdu()
        .await
        .unwrap()
        .map(|outcome| match outcome {
            ReadOutcome::Pdu(pdu) if pdu.command_status == CommandStatus::EsmeRok => pdu.body,
            other => panic!("bind refused: {other:?}"),
        })
        .unwrap()
    else {
        panic!("expected bind_transceiver_resp")
    };
    let receiver = tokio::spawn(count_deliveries(connection, MOBILE_ORIGINATED));

    let mut phones = tokio::task::JoinSet::new();
    for phone in 0..PHONES_AT_ONCE {
        let app = Arc::clone(&app);
        phones.spawn(async move {
            for number in (phone..MOBILE_ORIGINATED).step_by(PHONES_AT_ONCE) {
                let response = app.phone_sends(PHONE, SHORT_CODE, &format!("MO {number}")).await;
                assert_eq!(response.status().as_u16(), 202);
            }
        });
    }
    while let Some(sent) = phones.join_next().await {
        sent.expect("phone task");
    }
    let counts = receiver.await.expect("receiver");
    assert_eq!(counts.len(), MOBILE_ORIGINATED);
    let repeated: Vec<_> = counts.iter().filter(|(_, count)| **count > 1).collect();
    let total: u32 = counts.values().sum();
    assert!(
        repeated.is_empty(),
        "{total} deliver_sm for {} MO; repeated: {:?}",
        counts.len(),
        &repeated[..repeated.len().min(5)]
    );
}
