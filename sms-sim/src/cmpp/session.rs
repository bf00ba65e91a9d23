//! One service provider's CMPP connection: CONNECT authenticated against the CMPP accounts (bad source address,
//! authentication failed, version too high), SUBMITs stored a window at a time and each answered after its commit,
//! DELIVER of queued MO (a long one in UDH parts) and status reports with their DELIVER_RESP, QUERY and CANCEL
//! answered from the store, ACTIVE_TEST both ways (three misses close the link), TERMINATE both ways.

use super::login::authenticate;
use super::messages::{build_delivers, check_submit};
use super::queries::{answer_cancel, answer_query};
use super::submits::{encode_answers, submits_in_flight, SubmitAnswer, SubmitsInFlight};
use crate::config::EsmeAccount;
use crate::guards::delivery_answers::DeliveryAnswers;
use crate::guards::session_registry::DeliveryJob;
use crate::state::AppState;
use numbind_cmpp::{
    CancelResp, Connect, ConnectResp, ConnectStatus, ConnectionError, DeliverResp, MsgId, Pdu, PduBody, PduReader,
    PduWriter, ReadHalf, ReadOutcome, Submit, SubmitResp, SubmitResult, Version, WriteHalf,
};
use numbind_process::clock::now_unix_millis;
use numbind_smpp::CommandStatus;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
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
    /// DELIVERs awaiting their DELIVER_RESP, by Sequence_Id; `None` for fault-injected duplicates.
    pending: HashMap<u32, Option<DeliveryAnswers>>,
    next_sequence: u32,
    last_heard: Instant,
    active_test_sent_at: Option<Instant>,
    active_test_misses: u32,
    /// SUBMITs queued and being stored; while it is full the socket is not read.
    submits: SubmitsInFlight,
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
            submits: submits_in_flight(&state),
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
                    if self.answer_submits_in_flight().await.is_ok() {
                        self.terminate_and_wait().await;
                    }
                    break;
                }
                read = self.reader.read_pdu(), if self.submits.has_room() => self.on_read(read).await,
                answers = self.submits.next_answers() => write_answers(&self.state, &mut self.writer, answers).await,
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
                self.answer_submits_in_flight().await?;
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::TerminateResp)).await?;
                self.closed = true;
                Ok(())
            }
            PduBody::TerminateResp => {
                self.closed = true;
                Ok(())
            }
            PduBody::DeliverResp(DeliverResp { result, .. }) => {
                if let Some(Some(answers)) = self.pending.remove(&sequence) {
                    answers.record(if result.is_ok() { CommandStatus::EsmeRok } else { CommandStatus::EsmeRsyserr });
                }
                Ok(())
            }
            PduBody::Submit(submit) => self.on_submit(sequence, &submit).await,
            PduBody::Query(query) => {
                let answer = answer_query(&self.state, self.sp_code(), query).await;
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::QueryResp(answer))).await
            }
            PduBody::Cancel(cancel) => {
                let answer = match &self.account {
                    Some(account) => answer_cancel(&self.state, &account.system_id, cancel).await,
                    None => CancelResp::NOT_CANCELLED,
                };
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::CancelResp(answer))).await
            }
            // FWD (between gateways) is not served; responses to requests numbind never sends are ignored.
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

    /// Refuses at once what needs no store (not connected, flow control, bad fields); queues the rest for the
    /// store, answered from `run` once its window is committed.
    async fn on_submit(&mut self, sequence: u32, submit: &Submit) -> Result<(), ConnectionError> {
        let checked = match &self.account {
            Some(account) => check_submit(&self.state, account, submit),
            None => Err(SubmitResult::InvalidCommand),
        };
        match checked {
            Ok(checked) => {
                self.submits.push(sequence, checked);
                Ok(())
            }
            Err(result) => {
                let resp = SubmitResp { msg_id: MsgId::from_u64(0), result };
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::SubmitResp(resp))).await
            }
        }
    }

    /// Waits for every SUBMIT in flight and writes its SUBMIT_RESP (before a TERMINATE_RESP or our TERMINATE),
    /// for at most `esme_response_timeout`: stores still running then finish unanswered, and the provider's
    /// retry is stored again under a new Msg_Id.
    async fn answer_submits_in_flight(&mut self) -> Result<(), ConnectionError> {
        let (submits, writer, state) = (&mut self.submits, &mut self.writer, &self.state);
        submits.store_without_waiting();
        let answer_all = async {
            while !submits.is_empty() {
                write_answers(state, writer, submits.next_answers().await).await?;
            }
            Ok(())
        };
        match tokio::time::timeout(self.state.config.esme_response_timeout, answer_all).await {
            Ok(answered) => answered,
            Err(_) => {
                tracing::warn!(sp = self.sp_code(), "cmpp submits still being stored; left unanswered");
                Ok(())
            }
        }
    }

    /// Sends the DELIVERs of one queued message (several for a long MO); its outcome is known once every
    /// part is answered, or at the first refusal.
    async fn send_delivery(&mut self, job: DeliveryJob) -> Result<(), ConnectionError> {
        let delivers = match build_delivers(&job.delivery, self.writer.version()) {
            Ok(delivers) => delivers,
            Err(error) => {
                tracing::warn!(sp = self.sp_code(), message_id = %job.delivery.message_id, %error, "not deliverable over cmpp");
                let _ = job.outcome.send(CommandStatus::EsmeRxPAppn);
                return Ok(());
            }
        };
        let answers = DeliveryAnswers::new(delivers.len(), job.outcome);
        for deliver in &delivers {
            let sequence = self.sequence();
            self.writer.write_pdu(&Pdu::new(sequence, PduBody::Deliver(Box::new(deliver.clone())))).await?;
            self.pending.insert(sequence, Some(answers.clone()));
        }
        if job.duplicate {
            for deliver in delivers {
                let duplicate_sequence = self.sequence();
                self.writer.write_pdu(&Pdu::new(duplicate_sequence, PduBody::Deliver(Box::new(deliver)))).await?;
                self.pending.insert(duplicate_sequence, None);
            }
        }
        Ok(())
    }

    /// ACTIVE_TEST after an idle interval; a link whose tests go unanswered three times is closed.
    async fn on_tick(&mut self) -> Result<(), ConnectionError> {
        self.pending.retain(|_, answers| answers.as_ref().is_some_and(DeliveryAnswers::is_awaited));
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

/// Writes the SUBMIT_RESPs of a stored window, then wakes the delivery loop for the status reports they may
/// have made due (after, so that no report overtakes the answer that tells the provider its Msg_Id).
async fn write_answers(
    state: &AppState,
    writer: &mut PduWriter<WriteHalf>,
    answers: Vec<(u32, Option<SubmitAnswer>)>,
) -> Result<(), ConnectionError> {
    let (bytes, accepted_any) = encode_answers(answers, writer.version());
    writer.write_raw(&bytes).await?;
    if accepted_any {
        state.delivery_wakeup.notify_one();
    }
    Ok(())
}
