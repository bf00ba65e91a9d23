//! The ESME session task: connect, bind, run the bound session (submits, deliveries, enquire_link), and
//! reconnect with the shared full-jitter retry policy until shutdown, when it unbinds politely.

use super::{incoming_from, BindMode, DeliverVerdict, EsmeConfig, EsmeError, InboundDelivery, Shared, SubmitRequest};
use crate::connection::{Connection, ConnectionError, PduReader, PduWriter, ReadHalf, ReadOutcome, WriteHalf};
use crate::pdu::{self, Bind, CommandId, CommandStatus, Pdu, PduBody};
use numbind_process::backoff::RetryPolicy;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const MIN_RECONNECT_BACKOFF: Duration = Duration::from_millis(100);

/// Why a bind or a bound session ended.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connection: {0}")]
    Connection(#[from] ConnectionError),
    #[error("timed out")]
    Timeout,
    #[error("bind refused with command_status {0:#010x}")]
    BindRefused(CommandStatus),
    #[error("the sms centre closed the connection")]
    ClosedByPeer,
    #[error("the sms centre unbound the session")]
    UnboundByPeer,
    #[error("no enquire_link_resp in time")]
    LinkDead,
}

enum SessionEnd {
    Shutdown,
    Lost(SessionError),
}

pub(super) struct Session {
    config: EsmeConfig,
    shared: Arc<Shared>,
    deliveries: mpsc::Sender<InboundDelivery>,
    shutdown: CancellationToken,
}

impl Session {
    pub(super) fn new(
        config: EsmeConfig,
        shared: Arc<Shared>,
        deliveries: mpsc::Sender<InboundDelivery>,
        shutdown: CancellationToken,
    ) -> Self {
        Session { config, shared, deliveries, shutdown }
    }

    pub(super) async fn run_forever(self, mut commands: mpsc::Receiver<SubmitRequest>) {
        let system_id = self.config.system_id.clone();
        let mut failures: u32 = 0;
        loop {
            let bind_outcome = tokio::select! {
                _ = self.shutdown.cancelled() => break,
                outcome = self.connect_and_bind() => outcome,
            };
            match bind_outcome {
                Ok(connection) => {
                    failures = 0;
                    self.shared.bound.store(true, Ordering::SeqCst);
                    tracing::info!(%system_id, "bound to the sms centre");
                    let (reader, writer) = connection.into_split();
                    let end = BoundSession::new(&self, reader, writer).run(&mut commands).await;
                    self.shared.bound.store(false, Ordering::SeqCst);
                    match end {
                        SessionEnd::Shutdown => {
                            tracing::info!(%system_id, "unbound from the sms centre");
                            break;
                        }
                        SessionEnd::Lost(error) => tracing::warn!(%system_id, %error, "smpp session lost"),
                    }
                }
                Err(error) => tracing::warn!(%system_id, %error, "smpp bind failed"),
            }
            failures = failures.saturating_add(1);
            let delay = reconnect_delay(failures, self.config.max_reconnect_backoff);
            tracing::info!(%system_id, delay_ms = delay.as_millis() as u64, "reconnecting to the sms centre");
            tokio::select! {
                _ = self.shutdown.cancelled() => break,
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    async fn connect_and_bind(&self) -> Result<Connection, SessionError> {
        let timeout = self.config.response_timeout;
        let stream = tokio::time::timeout(timeout, TcpStream::connect(&self.config.address))
            .await
            .map_err(|_| SessionError::Timeout)?
            .map_err(ConnectionError::from)?;
        let _ = stream.set_nodelay(true);
        let mut connection = match &self.config.tls {
            None => Connection::new(stream),
            Some(tls) => {
                let handshake = tls.connector.connect(tls.server_name.clone(), stream);
                let stream = tokio::time::timeout(timeout, handshake)
                    .await
                    .map_err(|_| SessionError::Timeout)?
                    .map_err(ConnectionError::from)?;
                Connection::over(stream)
            }
        };
        let bind = Bind {
            system_id: self.config.system_id.clone(),
            password: self.config.password.clone(),
            interface_version: 0x34,
            ..Bind::default()
        };
        let (body, expected_response) = match self.config.bind_mode {
            BindMode::Transmitter => (PduBody::BindTransmitter(bind), CommandId::BindTransmitterResp),
            BindMode::Receiver => (PduBody::BindReceiver(bind), CommandId::BindReceiverResp),
            BindMode::Transceiver => (PduBody::BindTransceiver(bind), CommandId::BindTransceiverResp),
        };
        connection.write_pdu(&Pdu::new(1, body)).await?;
        let status = tokio::time::timeout(timeout, read_bind_status(&mut connection, expected_response))
            .await
            .map_err(|_| SessionError::Timeout)??;
        if status == CommandStatus::EsmeRok {
            Ok(connection)
        } else {
            Err(SessionError::BindRefused(status))
        }
    }
}

async fn read_bind_status(
    connection: &mut Connection,
    expected_response: CommandId,
) -> Result<CommandStatus, SessionError> {
    loop {
        match connection.read_pdu().await? {
            None => return Err(SessionError::ClosedByPeer),
            Some(ReadOutcome::Pdu(pdu)) if pdu.sequence_number == 1 => {
                if pdu.command_id() == expected_response || pdu.command_id() == CommandId::GenericNack {
                    return Ok(
                        if pdu.command_id() == CommandId::GenericNack && pdu.command_status == CommandStatus::EsmeRok {
                            CommandStatus::EsmeRbindfail
                        } else {
                            pdu.command_status
                        },
                    );
                }
            }
            Some(_) => {}
        }
    }
}

/// Full jitter: a random delay between 100 ms and min(ceiling, 100 ms * 2^failures), drawn by the shared
/// [`RetryPolicy`] (base and floor 100 ms). `failures` is at least 1 here, so the first wait draws up to 200 ms.
fn reconnect_delay(failures: u32, ceiling: Duration) -> Duration {
    RetryPolicy::new(MIN_RECONNECT_BACKOFF, ceiling).with_floor(MIN_RECONNECT_BACKOFF).random_delay(failures, None)
}

/// One bound connection.
struct BoundSession<'a> {
    session: &'a Session,
    reader: PduReader<ReadHalf>,
    writer: PduWriter<WriteHalf>,
    next_sequence: u32,
    pending_submits: HashMap<u32, oneshot::Sender<Result<String, EsmeError>>>,
    verdict_sender: mpsc::UnboundedSender<(u32, DeliverVerdict)>,
    verdict_receiver: mpsc::UnboundedReceiver<(u32, DeliverVerdict)>,
    enquire_sent_at: Option<Instant>,
}

impl<'a> BoundSession<'a> {
    fn new(session: &'a Session, reader: PduReader<ReadHalf>, writer: PduWriter<WriteHalf>) -> Self {
        let (verdict_sender, verdict_receiver) = mpsc::unbounded_channel();
        BoundSession {
            session,
            reader,
            writer,
            next_sequence: 2,
            pending_submits: HashMap::new(),
            verdict_sender,
            verdict_receiver,
            enquire_sent_at: None,
        }
    }

    fn sequence(&mut self) -> u32 {
        let sequence = self.next_sequence;
        self.next_sequence = if sequence >= 0x7FFF_FFFF { 1 } else { sequence + 1 };
        sequence
    }

    async fn run(mut self, commands: &mut mpsc::Receiver<SubmitRequest>) -> SessionEnd {
        let interval = self.session.config.enquire_link_interval.max(Duration::from_millis(10));
        let mut enquire_timer = tokio::time::interval_at(Instant::now() + interval, interval);
        loop {
            let step = tokio::select! {
                _ = self.session.shutdown.cancelled() => {
                    self.unbind_politely().await;
                    return SessionEnd::Shutdown;
                }
                read = self.reader.read_pdu() => self.on_read(read).await,
                Some(request) = commands.recv() => self.send_submit(request).await,
                Some((sequence, verdict)) = self.verdict_receiver.recv() => self.send_deliver_resp(sequence, verdict).await,
                _ = enquire_timer.tick() => self.on_enquire_tick().await,
            };
            if let Err(error) = step {
                return SessionEnd::Lost(error);
            }
        }
    }

    async fn on_read(&mut self, read: Result<Option<ReadOutcome>, ConnectionError>) -> Result<(), SessionError> {
        self.enquire_sent_at = None;
        match read? {
            None => Err(SessionError::ClosedByPeer),
            Some(ReadOutcome::Pdu(pdu)) => self.on_pdu(pdu).await,
            Some(ReadOutcome::Malformed { header, error }) => {
                tracing::warn!(command_id = %header.command_id, %error, "malformed pdu from the sms centre");
                if !header.command_id.is_response() {
                    self.writer.write_pdu(&Pdu::generic_nack(header.sequence_number, error.command_status())).await?;
                }
                Ok(())
            }
        }
    }

    async fn on_pdu(&mut self, pdu: Pdu) -> Result<(), SessionError> {
        let sequence = pdu.sequence_number;
        match pdu.body {
            PduBody::DeliverSm(message) => self.on_deliver_sm(sequence, &message).await,
            PduBody::SubmitSmResp { message_id } => {
                let outcome = if pdu.command_status == CommandStatus::EsmeRok {
                    Ok(message_id)
                } else {
                    Err(EsmeError::Rejected { command_status: pdu.command_status })
                };
                if let Some(reply) = self.pending_submits.remove(&sequence) {
                    let _ = reply.send(outcome);
                }
                Ok(())
            }
            PduBody::GenericNack => {
                if let Some(reply) = self.pending_submits.remove(&sequence) {
                    let _ = reply.send(Err(EsmeError::Rejected { command_status: pdu.command_status }));
                }
                Ok(())
            }
            PduBody::EnquireLink => Ok(self.writer.write_pdu(&Pdu::new(sequence, PduBody::EnquireLinkResp)).await?),
            PduBody::Unbind => {
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::UnbindResp)).await?;
                Err(SessionError::UnboundByPeer)
            }
            PduBody::EnquireLinkResp | PduBody::DeliverSmResp { .. } | PduBody::UnbindResp => Ok(()),
            other if other.command_id().is_response() => Ok(()),
            _ => Ok(self.writer.write_pdu(&Pdu::generic_nack(sequence, CommandStatus::EsmeRinvcmdid)).await?),
        }
    }

    async fn on_deliver_sm(&mut self, sequence: u32, message: &pdu::ShortMessage) -> Result<(), SessionError> {
        let sms = match incoming_from(message) {
            Ok(sms) => sms,
            Err(error) => {
                tracing::warn!(%error, "undecodable deliver_sm refused permanently");
                let refusal = Pdu {
                    command_status: CommandStatus::EsmeRxPAppn,
                    sequence_number: sequence,
                    body: PduBody::DeliverSmResp { message_id: String::new() },
                };
                return Ok(self.writer.write_pdu(&refusal).await?);
            }
        };
        let deliveries = self.session.deliveries.clone();
        let verdicts = self.verdict_sender.clone();
        tokio::spawn(async move {
            let (reply, answer) = oneshot::channel();
            let verdict = match deliveries.send(InboundDelivery { sms, reply }).await {
                Ok(()) => answer.await.unwrap_or(DeliverVerdict::RetryLater),
                Err(_) => DeliverVerdict::RetryLater,
            };
            let _ = verdicts.send((sequence, verdict));
        });
        Ok(())
    }

    async fn send_deliver_resp(&mut self, sequence: u32, verdict: DeliverVerdict) -> Result<(), SessionError> {
        let command_status = match verdict {
            DeliverVerdict::Accept => CommandStatus::EsmeRok,
            DeliverVerdict::RetryLater => CommandStatus::EsmeRxTAppn,
        };
        let response = Pdu {
            command_status,
            sequence_number: sequence,
            body: PduBody::DeliverSmResp { message_id: String::new() },
        };
        Ok(self.writer.write_pdu(&response).await?)
    }

    async fn send_submit(&mut self, request: SubmitRequest) -> Result<(), SessionError> {
        if request.reply.is_closed() {
            return Ok(());
        }
        let sequence = self.sequence();
        self.writer.write_pdu(&Pdu::new(sequence, PduBody::SubmitSm(request.message))).await?;
        self.pending_submits.insert(sequence, request.reply);
        Ok(())
    }

    async fn on_enquire_tick(&mut self) -> Result<(), SessionError> {
        self.pending_submits.retain(|_, reply| !reply.is_closed());
        if let Some(sent_at) = self.enquire_sent_at {
            if sent_at.elapsed() >= self.session.config.response_timeout {
                return Err(SessionError::LinkDead);
            }
            return Ok(());
        }
        let sequence = self.sequence();
        self.writer.write_pdu(&Pdu::new(sequence, PduBody::EnquireLink)).await?;
        self.enquire_sent_at = Some(Instant::now());
        Ok(())
    }

    /// Sends unbind and waits (bounded) for unbind_resp; deliveries arriving meanwhile stay unanswered,
    /// so the SMS centre redelivers them to the next session. An unbind from the SMS centre crossing ours (both
    /// sides stopping at once, as under `numbind up`) is answered and ends the wait: each side waiting only for
    /// its own unbind_resp would hold both for the whole response timeout.
    async fn unbind_politely(&mut self) {
        let sequence = self.sequence();
        if self.writer.write_pdu(&Pdu::new(sequence, PduBody::Unbind)).await.is_err() {
            return;
        }
        let (reader, writer) = (&mut self.reader, &mut self.writer);
        let wait_for_response = async {
            while let Ok(Some(outcome)) = reader.read_pdu().await {
                match outcome {
                    ReadOutcome::Pdu(Pdu { body: PduBody::UnbindResp, .. }) => break,
                    ReadOutcome::Pdu(Pdu { body: PduBody::Unbind, sequence_number, .. }) => {
                        let _ = writer.write_pdu(&Pdu::new(sequence_number, PduBody::UnbindResp)).await;
                        break;
                    }
                    _ => {}
                }
            }
        };
        let timeout = self.session.config.response_timeout;
        if tokio::time::timeout(timeout, wait_for_response).await.is_err() {
            tracing::info!(system_id = %self.session.config.system_id, "the sms centre never answered unbind; closing");
        }
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
        assert!(reconnect_delay(1, ceiling) <= Duration::from_millis(200));
    }
}
