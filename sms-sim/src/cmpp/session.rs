//! One service provider's CMPP connection: CONNECT authenticated against the CMPP accounts (bad source address,
//! authentication failed, version too high), SUBMIT stored as SMPP submits are and answered after the commit,
//! DELIVER of queued MO and status reports with their DELIVER_RESP, ACTIVE_TEST both ways (three misses close the
//! link), TERMINATE both ways.

use super::messages::{build_deliver, check_submit, CheckedSubmit};
use crate::config::{AccountProtocol, EsmeAccount};
use crate::guards::session_registry::DeliveryJob;
use crate::state::AppState;
use crate::store::StoredSubmit;
use numbind_cmpp::{
    Connect, ConnectResp, ConnectStatus, ConnectionError, DeliverResp, MsgId, Pdu, PduBody, PduReader, PduWriter,
    ReadHalf, ReadOutcome, Submit, SubmitResp, SubmitResult, Version, WriteHalf,
};
use numbind_process::clock::now_unix_millis;
use numbind_smpp::CommandStatus;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

const TICK: Duration = Duration::from_millis(500);
/// Unanswered ACTIVE_TESTs after which the link counts as dead.
const MAX_ACTIVE_TEST_MISSES: u32 = 3;

pub(super) struct IsmgSession {
    state: Arc<AppState>,
    reader: PduReader<ReadHalf>,
    writer: PduWriter<WriteHalf>,
    account: Option<EsmeAccount>,
    registration: Option<u64>,
    jobs: Option<mpsc::Receiver<DeliveryJob>>,
    /// DELIVERs awaiting their DELIVER_RESP, by Sequence_Id.
    pending: HashMap<u32, oneshot::Sender<CommandStatus>>,
    next_sequence: u32,
    last_heard: Instant,
    active_test_sent_at: Option<Instant>,
    active_test_misses: u32,
    closed: bool,
}

async fn next_job(jobs: &mut Option<mpsc::Receiver<DeliveryJob>>) -> Option<DeliveryJob> {
    match jobs {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

impl IsmgSession {
    pub(super) fn new(state: Arc<AppState>, connection: numbind_cmpp::Connection) -> IsmgSession {
        let (reader, writer) = connection.into_split();
        IsmgSession {
            state,
            reader,
            writer,
            account: None,
            registration: None,
            jobs: None,
            pending: HashMap::new(),
            next_sequence: 1,
            last_heard: Instant::now(),
            active_test_sent_at: None,
            active_test_misses: 0,
            closed: false,
        }
    }

    pub(super) async fn run(mut self) {
        let mut ticker = tokio::time::interval(TICK);
        while !self.closed {
            let step = tokio::select! {
                _ = self.state.shutdown.cancelled() => {
                    self.terminate_and_wait().await;
                    break;
                }
                read = self.reader.read_pdu() => self.on_read(read).await,
                Some(job) = next_job(&mut self.jobs) => self.send_delivery(job).await,
                _ = ticker.tick() => self.on_tick().await,
            };
            if let Err(error) = step {
                tracing::info!(sp = self.sp_code(), %error, "cmpp session ended");
                break;
            }
        }
        self.leave();
        let _ = self.writer.shutdown().await;
    }

    fn sp_code(&self) -> &str {
        self.account.as_ref().map(|account| account.system_id.as_str()).unwrap_or("-")
    }

    fn sequence(&mut self) -> u32 {
        let sequence = self.next_sequence;
        self.next_sequence = if sequence >= 0x7FFF_FFFF { 1 } else { sequence + 1 };
        sequence
    }

    fn leave(&mut self) {
        if let (Some(account), Some(registration)) = (&self.account, self.registration.take()) {
            self.state.sessions.unregister(&account.system_id, registration);
        }
        if self.account.take().is_some() {
            self.state.metrics.sessions_bound.dec();
        }
        self.closed = true;
    }

    async fn on_read(&mut self, read: Result<Option<ReadOutcome>, ConnectionError>) -> Result<(), ConnectionError> {
        self.last_heard = Instant::now();
        self.active_test_misses = 0;
        match read? {
            None => {
                self.closed = true;
                Ok(())
            }
            Some(ReadOutcome::Malformed { header, error }) => {
                tracing::warn!(sp = self.sp_code(), command_id = %header.command_id, %error, "malformed cmpp pdu");
                let result = error.submit_result();
                let body = match header.command_id {
                    numbind_cmpp::CommandId::Submit => {
                        PduBody::SubmitResp(SubmitResp { msg_id: MsgId::from_u64(0), result })
                    }
                    numbind_cmpp::CommandId::Connect => {
                        let resp = ConnectResp {
                            status: ConnectStatus::InvalidStructure,
                            authenticator_ismg: [0; 16],
                            version: Version::V3.byte(),
                        };
                        self.closed = true;
                        PduBody::ConnectResp(resp)
                    }
                    _ => return Ok(()),
                };
                self.writer.write_pdu(&Pdu::new(header.sequence_id, body)).await
            }
            Some(ReadOutcome::Pdu(pdu)) => self.on_pdu(pdu).await,
        }
    }

    async fn on_pdu(&mut self, pdu: Pdu) -> Result<(), ConnectionError> {
        let sequence = pdu.sequence_id;
        match pdu.body {
            PduBody::Connect(connect) => self.on_connect(sequence, connect).await,
            PduBody::ActiveTest => {
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::ActiveTestResp { reserved: 0 })).await
            }
            PduBody::ActiveTestResp { .. } => {
                self.active_test_sent_at = None;
                Ok(())
            }
            PduBody::Terminate => {
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::TerminateResp)).await?;
                self.closed = true;
                Ok(())
            }
            PduBody::TerminateResp => {
                self.closed = true;
                Ok(())
            }
            PduBody::DeliverResp(DeliverResp { result, .. }) => {
                if let Some(outcome) = self.pending.remove(&sequence) {
                    let status = if result.is_ok() { CommandStatus::EsmeRok } else { CommandStatus::EsmeRsyserr };
                    let _ = outcome.send(status);
                }
                Ok(())
            }
            PduBody::Submit(submit) => self.on_submit(sequence, &submit).await,
            // Other requests (QUERY, CANCEL, FWD) are not served; responses to them are ignored.
            _ => Ok(()),
        }
    }

    async fn on_connect(&mut self, sequence: u32, connect: Connect) -> Result<(), ConnectionError> {
        let (status, secret, version) = match authenticate(&self.state.config.accounts, &connect) {
            Ok((account, version)) => (ConnectStatus::Ok, account.password.clone(), version),
            // A refusal is answered in the layout the provider asked for, so that a 2.0 client reads its Status.
            Err(status) => (status, String::new(), Version::from_byte(connect.version).unwrap_or(Version::V3)),
        };
        let answer_version = if self.account.is_some() { self.writer.version() } else { version };
        self.writer.set_version(answer_version);
        if self.account.is_some() {
            let resp = ConnectResp::answer(&connect, ConnectStatus::OtherError, "", answer_version);
            return self.writer.write_pdu(&Pdu::new(sequence, PduBody::ConnectResp(resp))).await;
        }
        let resp = ConnectResp::answer(&connect, status, &secret, version);
        self.writer.write_pdu(&Pdu::new(sequence, PduBody::ConnectResp(resp))).await?;
        if !status.is_ok() {
            tracing::warn!(sp = %connect.source_addr, %status, "cmpp connect refused");
            self.closed = true;
            return Ok(());
        }
        self.reader.set_version(version);
        let account = match self.state.config.accounts.iter().find(|account| account.system_id == connect.source_addr) {
            Some(account) => account.clone(),
            None => return Ok(()),
        };
        self.register(&account).await;
        tracing::info!(sp = %account.system_id, ?version, "cmpp sp connected");
        self.account = Some(account);
        Ok(())
    }

    /// Receives the account's MO and reports from now on, and makes its queue due at once.
    async fn register(&mut self, account: &EsmeAccount) {
        let system_id = account.system_id.clone();
        let (sender, receiver) = mpsc::channel(32);
        self.registration = Some(self.state.sessions.register(&system_id, sender));
        self.jobs = Some(receiver);
        let now_ms = now_unix_millis();
        if let Err(error) = self.state.store.call(move |store| store.make_account_due(&system_id, now_ms)).await {
            tracing::error!(%error, "cannot reschedule the queue of a connected sp");
        }
        self.state.metrics.sessions_bound.inc();
        self.state.delivery_wakeup.notify_one();
    }

    /// Checks, stores (the MT and its fee in one durable write), then answers with the Msg_Id.
    async fn on_submit(&mut self, sequence: u32, submit: &Submit) -> Result<(), ConnectionError> {
        let checked = match &self.account {
            Some(account) => check_submit(&self.state, account, submit),
            None => Err(SubmitResult::InvalidCommand),
        };
        let (msg_id, result) = match checked {
            Ok(checked) => (checked.msg_id, store_submit(&self.state, checked).await),
            Err(result) => (MsgId::from_u64(0), result),
        };
        let resp = SubmitResp { msg_id, result };
        self.writer.write_pdu(&Pdu::new(sequence, PduBody::SubmitResp(resp))).await
    }

    async fn send_delivery(&mut self, job: DeliveryJob) -> Result<(), ConnectionError> {
        let deliver = match build_deliver(&job.delivery, self.writer.version()) {
            Ok(deliver) => deliver,
            Err(error) => {
                tracing::warn!(sp = self.sp_code(), message_id = %job.delivery.message_id, %error, "not deliverable over cmpp");
                let _ = job.outcome.send(CommandStatus::EsmeRxPAppn);
                return Ok(());
            }
        };
        let sequence = self.sequence();
        self.writer.write_pdu(&Pdu::new(sequence, PduBody::Deliver(Box::new(deliver.clone())))).await?;
        self.pending.insert(sequence, job.outcome);
        if job.duplicate {
            let duplicate_sequence = self.sequence();
            self.writer.write_pdu(&Pdu::new(duplicate_sequence, PduBody::Deliver(Box::new(deliver)))).await?;
        }
        Ok(())
    }

    /// ACTIVE_TEST after an idle interval; a link whose tests go unanswered three times is closed.
    async fn on_tick(&mut self) -> Result<(), ConnectionError> {
        self.pending.retain(|_, outcome| !outcome.is_closed());
        if self.account.is_none() {
            return Ok(());
        }
        let config = &self.state.config;
        if let Some(sent_at) = self.active_test_sent_at {
            if sent_at.elapsed() < config.esme_response_timeout {
                return Ok(());
            }
            self.active_test_misses += 1;
            self.active_test_sent_at = None;
            if self.active_test_misses >= MAX_ACTIVE_TEST_MISSES {
                tracing::warn!(sp = self.sp_code(), "sp did not answer active_test; closing");
                self.closed = true;
                return Ok(());
            }
        }
        let idle = self.last_heard.elapsed() >= config.enquire_link_interval;
        if idle && self.active_test_sent_at.is_none() {
            let sequence = self.sequence();
            self.writer.write_pdu(&Pdu::new(sequence, PduBody::ActiveTest)).await?;
            self.active_test_sent_at = Some(Instant::now());
        }
        Ok(())
    }

    /// Our TERMINATE on shutdown; a peer that never answers is closed after `esme_response_timeout`.
    async fn terminate_and_wait(&mut self) {
        if self.account.is_none() {
            return;
        }
        let sequence = self.sequence();
        if self.writer.write_pdu(&Pdu::new(sequence, PduBody::Terminate)).await.is_err() {
            return;
        }
        let wait = async {
            while let Ok(Some(outcome)) = self.reader.read_pdu().await {
                if matches!(outcome, ReadOutcome::Pdu(Pdu { body: PduBody::TerminateResp, .. })) {
                    return;
                }
            }
        };
        if tokio::time::timeout(self.state.config.esme_response_timeout, wait).await.is_err() {
            tracing::info!(sp = self.sp_code(), "sp never answered terminate; closing");
        }
    }
}

/// Stores a checked SUBMIT (the MT and its fee in one durable write); the Result to answer with.
async fn store_submit(state: &AppState, checked: CheckedSubmit) -> SubmitResult {
    let CheckedSubmit { msg_id, to_store, fee } = checked;
    let stored = state.store.call(move |store| store.insert_submit_with_fee(to_store, fee)).await;
    match stored {
        Ok(StoredSubmit::Stored { message_id }) => {
            state.metrics.mt_submitted.inc();
            tracing::info!(%message_id, msg_id = msg_id.value(), "mt stored");
            state.delivery_wakeup.notify_one();
            SubmitResult::Ok
        }
        Ok(StoredSubmit::PartWaiting { .. } | StoredSubmit::Resubmitted { .. }) => SubmitResult::Ok,
        Ok(StoredSubmit::PartsRefused) => SubmitResult::InvalidStructure,
        Err(error) => {
            // CMPP has no system-error result: the provider is asked to retry later, as under flow control.
            tracing::error!(%error, "cannot store a cmpp submit");
            SubmitResult::FlowControl
        }
    }
}

/// Checks a CONNECT against the CMPP accounts; the error is the Status to answer with.
fn authenticate<'a>(
    accounts: &'a [EsmeAccount],
    connect: &Connect,
) -> Result<(&'a EsmeAccount, Version), ConnectStatus> {
    if connect.version >> 4 > 3 {
        return Err(ConnectStatus::VersionTooHigh);
    }
    let version = Version::from_byte(connect.version).ok_or(ConnectStatus::OtherError)?;
    let account = accounts
        .iter()
        .filter(|account| account.protocol == AccountProtocol::Cmpp)
        .find(|account| account.system_id == connect.source_addr)
        .ok_or(ConnectStatus::InvalidSourceAddress)?;
    if !connect.is_authentic(&account.password) {
        return Err(ConnectStatus::AuthenticationFailed);
    }
    Ok((account, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connect_is_checked_for_account_secret_and_version() {
        let accounts = vec![EsmeAccount::cmpp("901234", "secret", vec![]), EsmeAccount::new("oss", "pw", vec![])];
        let connect = |source: &str, secret: &str, version: u8| {
            let mut connect = Connect::new(source, secret, Version::V3, 1_207_120_000);
            connect.version = version;
            connect
        };
        assert_eq!(authenticate(&accounts, &connect("901234", "secret", 0x30)).unwrap().1, Version::V3);
        assert_eq!(authenticate(&accounts, &connect("901234", "secret", 0x20)).unwrap().1, Version::V2);
        assert_eq!(
            authenticate(&accounts, &connect("901234", "wrong", 0x30)).err(),
            Some(ConnectStatus::AuthenticationFailed)
        );
        assert_eq!(
            authenticate(&accounts, &connect("999999", "secret", 0x30)).err(),
            Some(ConnectStatus::InvalidSourceAddress)
        );
        assert_eq!(
            authenticate(&accounts, &connect("oss", "pw", 0x30)).err(),
            Some(ConnectStatus::InvalidSourceAddress)
        );
        assert_eq!(
            authenticate(&accounts, &connect("901234", "secret", 0x40)).err(),
            Some(ConnectStatus::VersionTooHigh)
        );
    }
}
