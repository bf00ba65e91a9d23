//! The CMPP half of the SMS-centre scenario: a CMPP echo (logs in any provider that knows the bench's shared
//! secret and answers each SUBMIT at once, with the same codec as the client) and the client loop that keeps
//! a window of SUBMITs outstanding on one CMPP 3.0 connection. The scenario measures a CMPP gateway with this
//! loop against this echo in the same run.

use crate::latency::LatencyRecorder;
use numbind_cmpp::pdu::{Connect, ConnectResp, ConnectStatus, Pdu, PduBody, Submit, SubmitResp, SubmitResult, Version};
use numbind_cmpp::{encode_text, CivilTime, Connection, MsgId, ReadOutcome};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;

/// SUBMITs outstanding at once.
pub const CMPP_WINDOW: usize = 16;
/// The bench provider's code (SP_Id) and shared secret.
pub const CMPP_SOURCE_ADDR: &str = "901234";
pub const CMPP_SHARED_SECRET: &str = "benchsecret";
const VERSION: Version = Version::V3;

/// What one windowed run measured.
#[derive(Clone, Default)]
pub struct CmppRun {
    pub accepted: u64,
    pub refused: u64,
    pub elapsed: Duration,
    pub latencies: LatencyRecorder,
}

/// A CMPP 3.0 peer doing no work: logs in a provider with the bench secret, answers each SUBMIT at once.
pub async fn serve_cmpp_echo(listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let mut connection = Connection::new(stream, VERSION);
            let mut next_msg_id = 0u64;
            while let Ok(Some(ReadOutcome::Pdu(request))) = connection.read_pdu().await {
                next_msg_id += 1;
                let (answer, last) = echo_answer(request, MsgId::from_u64(next_msg_id));
                if connection.write_pdu(&answer).await.is_err() || last {
                    break;
                }
            }
        });
    }
}

/// The echo's answer to `request`, and whether the link ends with it.
fn echo_answer(request: Pdu, msg_id: MsgId) -> (Pdu, bool) {
    let (body, last) = match request.body {
        PduBody::Connect(connect) => {
            let status = if connect.is_authentic(CMPP_SHARED_SECRET) {
                ConnectStatus::Ok
            } else {
                ConnectStatus::AuthenticationFailed
            };
            (PduBody::ConnectResp(ConnectResp::answer(&connect, status, CMPP_SHARED_SECRET, VERSION)), !status.is_ok())
        }
        PduBody::Submit(_) => (PduBody::SubmitResp(SubmitResp { msg_id, result: SubmitResult::Ok }), false),
        PduBody::ActiveTest => (PduBody::ActiveTestResp { reserved: 0 }, false),
        _ => (PduBody::TerminateResp, true),
    };
    (Pdu::new(request.sequence_id, body), last)
}

/// The SUBMIT the loop sends: one Chinese notification in UCS-2, charged per message, with a status report.
fn submit() -> Submit {
    let (msg_fmt, content) = encode_text("已绑定：您的号码已为机顶盒 numbind bench STB 代付业务费用。");
    Submit {
        pk_total: 1,
        pk_number: 1,
        registered_delivery: 1,
        service_id: "NUMBIND".into(),
        fee: numbind_cmpp::Fee::per_message(numbind_cmpp::FeeCode::from_fen(10).unwrap_or_default()),
        msg_fmt,
        msg_src: CMPP_SOURCE_ADDR.into(),
        src_id: crate::system::SHORT_CODE.into(),
        dest_terminal_ids: vec!["13800138000".into()],
        msg_content: content.into(),
        ..Submit::default()
    }
}

async fn log_in(address: SocketAddr) -> anyhow::Result<Connection> {
    let stream = tokio::net::TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    let mut connection = Connection::new(stream, VERSION);
    let timestamp = CivilTime::china(SystemTime::now()).connect_timestamp();
    let connect = Connect::new(CMPP_SOURCE_ADDR, CMPP_SHARED_SECRET, VERSION, timestamp);
    connection.write_pdu(&Pdu::new(1, PduBody::Connect(connect))).await?;
    match connection.read_pdu().await? {
        Some(ReadOutcome::Pdu(Pdu { body: PduBody::ConnectResp(answer), .. })) if answer.status.is_ok() => {
            Ok(connection)
        }
        other => anyhow::bail!("cmpp login refused: {other:?}"),
    }
}

/// Keeps [`CMPP_WINDOW`] SUBMITs outstanding on one connection for `duration`, then drains the window.
pub async fn windowed_cmpp_submits(address: SocketAddr, duration: Duration) -> anyhow::Result<CmppRun> {
    let mut connection = log_in(address).await?;
    let template = Box::new(submit());
    let mut sent_at: HashMap<u32, Instant> = HashMap::new();
    let mut run = CmppRun::default();
    let started = Instant::now();
    let deadline = started + duration;
    let mut sequence_id = 1u32;
    loop {
        if Instant::now() < deadline && sent_at.len() < CMPP_WINDOW {
            sequence_id += 1;
            connection.write_pdu(&Pdu::new(sequence_id, PduBody::Submit(template.clone()))).await?;
            sent_at.insert(sequence_id, Instant::now());
            continue;
        }
        if sent_at.is_empty() {
            break;
        }
        match connection.read_pdu().await? {
            Some(ReadOutcome::Pdu(Pdu { sequence_id, body: PduBody::SubmitResp(answer) })) => {
                if let Some(sent) = sent_at.remove(&sequence_id) {
                    run.latencies.record(sent.elapsed());
                }
                if answer.result.is_ok() {
                    run.accepted += 1;
                } else {
                    run.refused += 1;
                }
            }
            Some(ReadOutcome::Pdu(Pdu { sequence_id, body: PduBody::ActiveTest })) => {
                connection.write_pdu(&Pdu::new(sequence_id, PduBody::ActiveTestResp { reserved: 0 })).await?;
            }
            Some(_) => {}
            None => anyhow::bail!("the gateway closed the link"),
        }
    }
    run.elapsed = started.elapsed();
    connection.write_pdu(&Pdu::new(sequence_id + 1, PduBody::Terminate)).await?;
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_windowed_loop_measures_the_echo_over_a_real_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve_cmpp_echo(listener));
        let run = windowed_cmpp_submits(address, Duration::from_millis(200)).await.unwrap();
        assert!(run.accepted > CMPP_WINDOW as u64, "accepted {}", run.accepted);
        assert_eq!(run.refused, 0);
    }

    #[test]
    fn the_echo_refuses_a_provider_with_another_secret() {
        let connect = Connect::new(CMPP_SOURCE_ADDR, "other", VERSION, 1_207_150_000);
        let (answer, last) = echo_answer(Pdu::new(1, PduBody::Connect(connect)), MsgId::default());
        assert!(last);
        assert!(matches!(
            answer.body,
            PduBody::ConnectResp(ConnectResp { status: ConnectStatus::AuthenticationFailed, .. })
        ));
    }
}
