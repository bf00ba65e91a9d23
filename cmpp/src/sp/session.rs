//! The SP session task: connect, log in with CONNECT, run the logged-in link (submits, deliveries, active
//! tests both ways) and reconnect with the shared full-jitter retry policy until shutdown, when it sends
//! TERMINATE and waits (bounded) for its answer.

use super::{incoming_from, DeliverVerdict, InboundDelivery, IncomingSms, Shared, SpConfig, SpError, SubmitRequest};
use crate::civil_time::CivilTime;
use crate::concatenation::{parse_user_data_header, Reassembly};
use crate::connection::{Connection, ConnectionError, PduReader, PduWriter, ReadHalf, ReadOutcome, WriteHalf};
use crate::msg_id::MsgId;
use crate::pdu::{authenticator_ismg, Connect, ConnectStatus, Deliver, DeliverResp, Pdu, PduBody, SubmitResult};
use numbind_process::backoff::RetryPolicy;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const MIN_RECONNECT_BACKOFF: Duration = Duration::from_millis(100);
/// Incomplete long messages held at once.
const MAX_PENDING_LONG_MESSAGES: usize = 256;

/// Why a login or a logged-in link ended.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connection: {0}")]
    Connection(#[from] ConnectionError),
    #[error("timed out")]
    Timeout,
    #[error("login refused: {0}")]
    LoginRefused(ConnectStatus),
    #[error("the gateway's AuthenticatorISMG does not match the shared secret")]
    GatewayNotAuthentic,
    #[error("the gateway closed the connection")]
    ClosedByPeer,
    #[error("the gateway terminated the link")]
    TerminatedByPeer,
    #[error("nothing from the gateway for {0} active-test intervals")]
    LinkDead(u32),
}

enum SessionEnd {
    Shutdown,
    Lost(SessionError),
}

pub(super) struct Session {
    config: SpConfig,
    shared: Arc<Shared>,
    deliveries: mpsc::Sender<InboundDelivery>,
    shutdown: CancellationToken,
}

impl Session {
    pub(super) fn new(
        config: SpConfig,
        shared: Arc<Shared>,
        deliveries: mpsc::Sender<InboundDelivery>,
        shutdown: CancellationToken,
    ) -> Self {
        Session { config, shared, deliveries, shutdown }
    }

    pub(super) async fn run_forever(self, mut commands: mpsc::Receiver<SubmitRequest>) {
        let source_addr = self.config.source_addr.clone();
        let mut failures: u32 = 0;
        loop {
            let login = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                outcome = self.connect_and_log_in() => outcome,
            };
            match login {
                Ok(connection) => {
                    failures = 0;
                    self.shared.connected.store(true, Ordering::SeqCst);
                    tracing::info!(%source_addr, "logged in to the cmpp gateway");
                    let (reader, writer) = connection.into_split();
                    let end = LinkSession::new(&self, reader, writer).run(&mut commands).await;
                    self.shared.connected.store(false, Ordering::SeqCst);
                    match end {
                        SessionEnd::Shutdown => {
                            tracing::info!(%source_addr, "terminated the cmpp link");
                            break;
                        }
                        SessionEnd::Lost(error) => tracing::warn!(%source_addr, %error, "cmpp link lost"),
                    }
                }
                Err(error) => tracing::warn!(%source_addr, %error, "cmpp login failed"),
            }
            failures = failures.saturating_add(1);
            let delay = reconnect_delay(failures, self.config.max_reconnect_backoff);
            tracing::info!(%source_addr, delay_ms = delay.as_millis() as u64, "reconnecting to the cmpp gateway");
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    async fn connect_and_log_in(&self) -> Result<Connection, SessionError> {
        let timeout = self.config.response_timeout;
        let stream = tokio::time::timeout(timeout, TcpStream::connect(&self.config.address))
            .await
            .map_err(|_| SessionError::Timeout)?
            .map_err(ConnectionError::from)?;
        let _ = stream.set_nodelay(true);
        let mut connection = Connection::new(stream, self.config.version);
        connection.reader = connection.reader.with_max_frame_length(self.config.max_frame_length);
        let timestamp = CivilTime::china(SystemTime::now()).connect_timestamp();
        let connect =
            Connect::new(&self.config.source_addr, &self.config.shared_secret, self.config.version, timestamp);
        connection.write_pdu(&Pdu::new(1, PduBody::Connect(connect.clone()))).await?;
        let response = tokio::time::timeout(timeout, read_connect_resp(&mut connection))
            .await
            .map_err(|_| SessionError::Timeout)??;
        if !response.status.is_ok() {
            return Err(SessionError::LoginRefused(response.status));
        }
        let expected = authenticator_ismg(response.status, &connect.authenticator_source, &self.config.shared_secret);
        if expected != response.authenticator_ismg {
            return Err(SessionError::GatewayNotAuthentic);
        }
        Ok(connection)
    }
}

/// Waits for the CONNECT_RESP, answering the ACTIVE_TESTs some gateways send before it.
async fn read_connect_resp(connection: &mut Connection) -> Result<crate::pdu::ConnectResp, SessionError> {
    loop {
        match connection.read_pdu().await? {
            None => return Err(SessionError::ClosedByPeer),
            Some(ReadOutcome::Pdu(Pdu { body: PduBody::ConnectResp(response), .. })) => return Ok(response),
            Some(ReadOutcome::Pdu(Pdu { sequence_id, body: PduBody::ActiveTest })) => {
                connection.write_pdu(&Pdu::new(sequence_id, PduBody::ActiveTestResp { reserved: 0 })).await?
            }
            Some(_) => {}
        }
    }
}

/// Full jitter between 100 ms and min(ceiling, 100 ms * 2^failures), drawn by the shared [`RetryPolicy`].
fn reconnect_delay(failures: u32, ceiling: Duration) -> Duration {
    RetryPolicy::new(MIN_RECONNECT_BACKOFF, ceiling).with_floor(MIN_RECONNECT_BACKOFF).random_delay(failures, None)
}

/// What a DELIVER_RESP must answer: the DELIVER's Sequence_Id and Msg_Id.
type DeliverTag = (u32, MsgId);
/// A sent SUBMIT: where its answer goes, and the window slot it holds until then.
type PendingSubmit = (oneshot::Sender<Result<MsgId, SpError>>, OwnedSemaphorePermit);

/// One logged-in link.
struct LinkSession<'a> {
    session: &'a Session,
    reader: PduReader<ReadHalf>,
    writer: PduWriter<WriteHalf>,
    next_sequence: u32,
    pending_submits: HashMap<u32, PendingSubmit>,
    verdict_sender: mpsc::UnboundedSender<(Vec<DeliverTag>, DeliverVerdict)>,
    verdict_receiver: mpsc::UnboundedReceiver<(Vec<DeliverTag>, DeliverVerdict)>,
    quiet_intervals: u32,
    long_messages: Reassembly<(String, String), DeliverTag>,
}

impl<'a> LinkSession<'a> {
    fn new(session: &'a Session, reader: PduReader<ReadHalf>, writer: PduWriter<WriteHalf>) -> Self {
        let (verdict_sender, verdict_receiver) = mpsc::unbounded_channel();
        let time_limit = session.config.reassembly_time_limit;
        LinkSession {
            session,
            reader,
            writer,
            next_sequence: 2,
            pending_submits: HashMap::new(),
            verdict_sender,
            verdict_receiver,
            quiet_intervals: 0,
            long_messages: Reassembly::new(time_limit, MAX_PENDING_LONG_MESSAGES),
        }
    }

    fn sequence(&mut self) -> u32 {
        let sequence = self.next_sequence;
        self.next_sequence = if sequence >= 0x7FFF_FFFF { 1 } else { sequence + 1 };
        sequence
    }

    async fn run(mut self, commands: &mut mpsc::Receiver<SubmitRequest>) -> SessionEnd {
        let interval = self.session.config.active_test_interval.max(Duration::from_millis(10));
        let mut active_test_timer = tokio::time::interval_at(Instant::now() + interval, interval);
        loop {
            let step = tokio::select! {
                _ = self.session.shutdown.cancelled() => {
                    self.terminate_politely().await;
                    return SessionEnd::Shutdown;
                }
                read = self.reader.read_pdu() => self.on_read(read).await,
                Some(request) = commands.recv() => self.send_submit(request).await,
                Some((tags, verdict)) = self.verdict_receiver.recv() => self.send_deliver_resps(&tags, verdict).await,
                _ = active_test_timer.tick() => self.on_active_test_tick().await,
            };
            if let Err(error) = step {
                return SessionEnd::Lost(error);
            }
        }
    }

    async fn on_read(&mut self, read: Result<Option<ReadOutcome>, ConnectionError>) -> Result<(), SessionError> {
        self.quiet_intervals = 0;
        match read? {
            None => Err(SessionError::ClosedByPeer),
            Some(ReadOutcome::Pdu(pdu)) => self.on_pdu(pdu).await,
            Some(ReadOutcome::Malformed { header, error }) => {
                tracing::warn!(command_id = %header.command_id, %error, "malformed pdu from the cmpp gateway");
                if header.command_id == crate::pdu::CommandId::Deliver {
                    let tag = (header.sequence_id, MsgId::default());
                    self.answer_deliver(tag, error.submit_result()).await?;
                }
                Ok(())
            }
        }
    }

    async fn on_pdu(&mut self, pdu: Pdu) -> Result<(), SessionError> {
        let sequence = pdu.sequence_id;
        match pdu.body {
            PduBody::Deliver(deliver) => self.on_deliver(sequence, *deliver).await,
            PduBody::SubmitResp(response) => {
                if let Some((reply, _permit)) = self.pending_submits.remove(&sequence) {
                    let outcome = if response.result.is_ok() {
                        Ok(response.msg_id)
                    } else {
                        Err(SpError::Rejected { result: response.result })
                    };
                    let _ = reply.send(outcome);
                }
                Ok(())
            }
            PduBody::ActiveTest => {
                Ok(self.writer.write_pdu(&Pdu::new(sequence, PduBody::ActiveTestResp { reserved: 0 })).await?)
            }
            PduBody::Terminate => {
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::TerminateResp)).await?;
                Err(SessionError::TerminatedByPeer)
            }
            _ => Ok(()),
        }
    }

    async fn on_deliver(&mut self, sequence: u32, deliver: Deliver) -> Result<(), SessionError> {
        let tag = (sequence, deliver.msg_id);
        let mut tags = vec![tag];
        let mut content = deliver.msg_content.to_vec();
        if deliver.tp_udhi == 1 && !deliver.is_status_report() {
            let Some((concatenation, payload)) = parse_user_data_header(&deliver.msg_content) else {
                return self.answer_deliver(tag, SubmitResult::InvalidStructure).await;
            };
            content = payload.to_vec();
            if let Some(concatenation) = concatenation {
                let key = (deliver.src_terminal_id.clone(), deliver.dest_id.clone());
                match self.long_messages.insert(key, concatenation, tag, payload, std::time::Instant::now()) {
                    Ok(None) => return Ok(()),
                    Ok(Some(whole)) => (content, tags) = (whole.content, whole.tags),
                    Err(_) => return self.answer_deliver(tag, SubmitResult::FlowControl).await,
                }
            }
        }
        match incoming_from(&deliver, tags[0].1, &content) {
            Ok(sms) => self.hand_over(sms, tags),
            Err(result) => {
                tracing::warn!(%result, "undecodable deliver refused");
                for tag in tags {
                    self.answer_deliver(tag, result).await?;
                }
                Ok(())
            }
        }
    }

    /// Hands the message to the application on its own task; its verdict comes back through the channel.
    fn hand_over(&mut self, sms: IncomingSms, tags: Vec<DeliverTag>) -> Result<(), SessionError> {
        let deliveries = self.session.deliveries.clone();
        let verdicts = self.verdict_sender.clone();
        tokio::spawn(async move {
            let (reply, answer) = oneshot::channel();
            let verdict = match deliveries.send(InboundDelivery { sms, reply }).await {
                Ok(()) => answer.await.unwrap_or(DeliverVerdict::RetryLater),
                Err(_) => DeliverVerdict::RetryLater,
            };
            let _ = verdicts.send((tags, verdict));
        });
        Ok(())
    }

    async fn send_deliver_resps(&mut self, tags: &[DeliverTag], verdict: DeliverVerdict) -> Result<(), SessionError> {
        let result = match verdict {
            DeliverVerdict::Accept => SubmitResult::Ok,
            DeliverVerdict::RetryLater => SubmitResult::FlowControl,
        };
        for tag in tags {
            self.answer_deliver(*tag, result).await?;
        }
        Ok(())
    }

    async fn answer_deliver(
        &mut self,
        (sequence, msg_id): DeliverTag,
        result: SubmitResult,
    ) -> Result<(), SessionError> {
        let response = Pdu::new(sequence, PduBody::DeliverResp(DeliverResp { msg_id, result }));
        Ok(self.writer.write_pdu(&response).await?)
    }

    async fn send_submit(&mut self, request: SubmitRequest) -> Result<(), SessionError> {
        if request.reply.is_closed() {
            return Ok(());
        }
        let sequence = self.sequence();
        let pdu = Pdu::new(sequence, PduBody::Submit(Box::new(request.submit)));
        match self.writer.write_pdu(&pdu).await {
            Err(ConnectionError::Encode(error)) => {
                let _ = request.reply.send(Err(SpError::DoesNotFit(error)));
                Ok(())
            }
            Err(error) => Err(error.into()),
            Ok(()) => {
                self.pending_submits.insert(sequence, (request.reply, request.permit));
                Ok(())
            }
        }
    }

    /// Counts an interval without anything from the gateway, declares the link dead after the configured
    /// number of them, sends an ACTIVE_TEST, and answers the parts of long messages that waited too long.
    async fn on_active_test_tick(&mut self) -> Result<(), SessionError> {
        self.pending_submits.retain(|_, (reply, _)| !reply.is_closed());
        self.quiet_intervals += 1;
        let max_misses = self.session.config.active_test_max_misses.max(1);
        if self.quiet_intervals > max_misses {
            return Err(SessionError::LinkDead(max_misses));
        }
        let sequence = self.sequence();
        self.writer.write_pdu(&Pdu::new(sequence, PduBody::ActiveTest)).await?;
        for expired in self.long_messages.expire(std::time::Instant::now()) {
            for tag in expired.tags {
                self.answer_deliver(tag, SubmitResult::FlowControl).await?;
            }
        }
        Ok(())
    }

    /// Sends TERMINATE and waits (bounded) for its answer; deliveries arriving meanwhile stay unanswered, so
    /// the gateway delivers them again on the next link.
    async fn terminate_politely(&mut self) {
        let sequence = self.sequence();
        if self.writer.write_pdu(&Pdu::new(sequence, PduBody::Terminate)).await.is_err() {
            return;
        }
        let wait_for_response = async {
            while let Ok(Some(outcome)) = self.reader.read_pdu().await {
                if matches!(outcome, ReadOutcome::Pdu(Pdu { body: PduBody::TerminateResp, .. })) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(self.session.config.response_timeout, wait_for_response).await;
        let _ = self.writer.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_stay_between_the_floor_and_the_ceiling() {
        let ceiling = Duration::from_secs(10);
        for failures in 0..40 {
            let delay = reconnect_delay(failures, ceiling);
            assert!(delay >= MIN_RECONNECT_BACKOFF && delay <= ceiling, "{delay:?}");
        }
    }
}
