//! One ESME connection: the Open -> Bound -> Unbound state machine, submit_sm (a window of them stored in one
//! write, each answered when its commit is done), deliver_sm out and their responses in, enquire_link
//! both ways, unbind both ways (a peer that never answers ours is closed).

use super::commands::{answer_query, error_response, unsupported_command_response};
use super::deliver::{build_deliver_sms, DeliveryFormat};
use super::in_flight::InFlightSubmits;
use super::submit::{check_submit, store_window, CheckedSubmit};
use crate::config::EsmeAccount;
use crate::domain::session_state::{authenticate, BindKind, SessionState};
use crate::guards::delivery_answers::DeliveryAnswers;
use crate::guards::session_registry::DeliveryJob;
use crate::state::AppState;
use numbind_process::clock::now_unix_millis;
use numbind_smpp::pdu::{Bind, CommandId, CommandStatus, Pdu, PduBody, ShortMessage};
use numbind_smpp::{Connection, ConnectionError, PduReader, PduWriter, ReadHalf, ReadOutcome, WriteHalf};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

const TICK: Duration = Duration::from_millis(500);

pub(super) struct ServerSession {
    state: Arc<AppState>,
    reader: PduReader<ReadHalf>,
    writer: PduWriter<WriteHalf>,
    session_state: SessionState,
    account: Option<EsmeAccount>,
    /// How deliver_sm are written for the bound ESME.
    delivery_format: Option<DeliveryFormat>,
    registration: Option<u64>,
    jobs: Option<mpsc::Receiver<DeliveryJob>>,
    /// deliver_sm awaiting their resp; `None` for fault-injected duplicates.
    pending: HashMap<u32, Option<DeliveryAnswers>>,
    /// submit_sm queued and being stored; while it is full the socket is not read.
    submits: InFlightSubmits<CheckedSubmit>,
    next_sequence: u32,
    last_heard: Instant,
    enquire_sent_at: Option<Instant>,
}

async fn next_job(jobs: &mut Option<mpsc::Receiver<DeliveryJob>>) -> Option<DeliveryJob> {
    match jobs {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

impl ServerSession {
    pub(super) fn new(state: Arc<AppState>, connection: Connection) -> ServerSession {
        let (reader, writer) = connection.into_split();
        let store_state = Arc::clone(&state);
        let submits = InFlightSubmits::new(Arc::new(move |window| store_window(&store_state, window)));
        ServerSession {
            state,
            reader,
            writer,
            session_state: SessionState::Open,
            account: None,
            delivery_format: None,
            registration: None,
            jobs: None,
            pending: HashMap::new(),
            submits,
            next_sequence: 1,
            last_heard: Instant::now(),
            enquire_sent_at: None,
        }
    }

    pub(super) async fn run(mut self) {
        let mut ticker = tokio::time::interval(TICK);
        let outcome = loop {
            let step = tokio::select! {
                _ = self.state.shutdown.cancelled() => {
                    if self.answer_submits_in_flight().await.is_ok() {
                        self.unbind_and_wait().await;
                    }
                    break Ok(());
                }
                read = self.reader.read_pdu(), if self.submits.has_room() => self.on_read(read).await,
                responses = self.submits.next_responses() => self.writer.write_raw(&responses).await,
                Some(job) = next_job(&mut self.jobs) => self.send_delivery(job).await,
                _ = ticker.tick() => self.on_tick().await,
            };
            if let Err(error) = step {
                break Err(error);
            }
            if self.session_state == SessionState::Unbound {
                break Ok(());
            }
        };
        match outcome {
            // A peer that closed or stopped answering may still read: stores in flight are answered.
            Ok(()) => {
                let _ = self.answer_submits_in_flight().await;
            }
            Err(error) => tracing::info!(system_id = self.system_id(), %error, "smpp session ended"),
        }
        self.leave();
        let _ = self.writer.shutdown().await;
    }

    fn system_id(&self) -> &str {
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
        if self.account.is_some() {
            self.state.metrics.sessions_bound.dec();
            tracing::info!(system_id = self.system_id(), "esme unbound");
        }
        self.account = None;
        self.session_state = SessionState::Unbound;
    }

    async fn on_read(&mut self, read: Result<Option<ReadOutcome>, ConnectionError>) -> Result<(), ConnectionError> {
        self.last_heard = Instant::now();
        match read? {
            None => {
                self.session_state = SessionState::Unbound;
                Ok(())
            }
            Some(ReadOutcome::Malformed { header, error }) => {
                tracing::warn!(system_id = self.system_id(), command_id = %header.command_id, %error, "malformed pdu");
                if header.command_id.is_response() {
                    return Ok(());
                }
                let answer = error_response(header.command_id, header.sequence_number, error.command_status());
                self.writer.write_pdu(&answer).await
            }
            Some(ReadOutcome::Pdu(pdu)) => self.on_pdu(pdu).await,
        }
    }

    async fn on_pdu(&mut self, pdu: Pdu) -> Result<(), ConnectionError> {
        let sequence = pdu.sequence_number;
        let command_id = pdu.command_id();
        let bound_kind = match &self.session_state {
            SessionState::Bound { kind, .. } => Some(*kind),
            _ => None,
        };
        match pdu.body {
            PduBody::BindTransmitter(bind) => self.on_bind(BindKind::Transmitter, sequence, bind).await,
            PduBody::BindReceiver(bind) => self.on_bind(BindKind::Receiver, sequence, bind).await,
            PduBody::BindTransceiver(bind) => self.on_bind(BindKind::Transceiver, sequence, bind).await,
            PduBody::EnquireLink => self.writer.write_pdu(&Pdu::new(sequence, PduBody::EnquireLinkResp)).await,
            PduBody::GenericNack | PduBody::EnquireLinkResp => Ok(()),
            PduBody::DeliverSmResp { .. } => {
                if let Some(Some(answers)) = self.pending.remove(&sequence) {
                    answers.record(pdu.command_status);
                }
                Ok(())
            }
            PduBody::UnbindResp => {
                self.session_state = SessionState::Unbound;
                Ok(())
            }
            _ if command_id.is_response() => Ok(()),
            _ if bound_kind.is_none() => {
                self.writer.write_pdu(&error_response(command_id, sequence, CommandStatus::EsmeRinvbndsts)).await
            }
            PduBody::Unbind => {
                self.answer_submits_in_flight().await?;
                self.writer.write_pdu(&Pdu::new(sequence, PduBody::UnbindResp)).await?;
                self.session_state = SessionState::Unbound;
                Ok(())
            }
            PduBody::SubmitSm(message) => self.on_submit(bound_kind, sequence, message, CommandId::SubmitSm).await,
            PduBody::DataSm(message) => self.on_submit(bound_kind, sequence, message, CommandId::DataSm).await,
            // query_sm is a transmitter's command (SMPP 3.4 section 2.3), like submit_sm.
            PduBody::QuerySm(_) if !bound_kind.is_some_and(BindKind::may_submit) => {
                self.writer.write_pdu(&error_response(command_id, sequence, CommandStatus::EsmeRinvbndsts)).await
            }
            PduBody::QuerySm(query) => {
                let account = self.system_id().to_owned();
                let answer = answer_query(&self.state, &account, sequence, query).await;
                self.writer.write_pdu(&answer).await
            }
            _ => self.writer.write_pdu(&unsupported_command_response(command_id, sequence)).await,
        }
    }

    /// submit_sm or data_sm: refuses at once what needs no store (bind state, throttle, validation); queues the
    /// rest for the store, answered in the command's own response type from `run` once its window is committed.
    async fn on_submit(
        &mut self,
        bound_kind: Option<BindKind>,
        sequence: u32,
        message: ShortMessage,
        command_id: CommandId,
    ) -> Result<(), ConnectionError> {
        let checked = match (&self.account, bound_kind) {
            (Some(account), Some(kind)) if kind.may_submit() => check_submit(&self.state, account, message),
            _ => Err(CommandStatus::EsmeRinvbndsts),
        };
        match checked {
            Ok(submit) if command_id == CommandId::DataSm => {
                self.submits.push_data_sm(sequence, submit);
                Ok(())
            }
            Ok(submit) => {
                self.submits.push(sequence, submit);
                Ok(())
            }
            Err(status) => self.writer.write_pdu(&error_response(command_id, sequence, status)).await,
        }
    }

    async fn on_bind(&mut self, kind: BindKind, sequence: u32, bind: Bind) -> Result<(), ConnectionError> {
        let command_id = pdu_bind_id(kind);
        if self.session_state != SessionState::Open {
            return self.writer.write_pdu(&error_response(command_id, sequence, CommandStatus::EsmeRalybnd)).await;
        }
        let (account, version) = match authenticate(&self.state.config.accounts, &bind) {
            Ok((account, version)) => (account.clone(), version),
            Err(status) => {
                tracing::warn!(system_id = %bind.system_id, command_status = %status, "bind refused");
                return self.writer.write_pdu(&error_response(command_id, sequence, status)).await;
            }
        };
        let system_id = account.system_id.clone();
        if kind.may_receive() {
            let (sender, receiver) = mpsc::channel(32);
            self.registration = Some(self.state.sessions.register(&system_id, sender));
            self.jobs = Some(receiver);
            let now_ms = now_unix_millis();
            let account_id = system_id.clone();
            if let Err(error) = self.state.store.call(move |store| store.make_account_due(&account_id, now_ms)).await {
                tracing::error!(%error, "cannot reschedule the queue of a bound esme");
            }
            self.state.delivery_wakeup.notify_one();
        }
        self.state.metrics.sessions_bound.inc();
        tracing::info!(%system_id, ?kind, ?version, "esme bound");
        self.session_state = SessionState::Bound { kind, system_id };
        self.delivery_format = Some(DeliveryFormat::new(&account, version));
        self.account = Some(account);
        let response = error_response(command_id, sequence, CommandStatus::EsmeRok);
        self.writer.write_pdu(&response).await
    }

    async fn send_delivery(&mut self, job: DeliveryJob) -> Result<(), ConnectionError> {
        // Jobs come only to a session registered at bind, which set the format.
        let Some(format) = self.delivery_format else { return Ok(()) };
        let messages = build_deliver_sms(&job.delivery, format);
        let answers = DeliveryAnswers::new(messages.len(), job.outcome);
        for message in &messages {
            let sequence = self.sequence();
            self.writer.write_pdu(&Pdu::new(sequence, PduBody::DeliverSm(message.clone()))).await?;
            self.pending.insert(sequence, Some(answers.clone()));
        }
        if job.duplicate {
            for message in messages {
                let duplicate_sequence = self.sequence();
                self.writer.write_pdu(&Pdu::new(duplicate_sequence, PduBody::DeliverSm(message))).await?;
                self.pending.insert(duplicate_sequence, None);
            }
        }
        Ok(())
    }

    async fn on_tick(&mut self) -> Result<(), ConnectionError> {
        self.pending.retain(|_, answers| answers.as_ref().is_some_and(DeliveryAnswers::is_awaited));
        let config = &self.state.config;
        if let Some(sent_at) = self.enquire_sent_at {
            if self.last_heard < sent_at && sent_at.elapsed() >= config.esme_response_timeout {
                tracing::warn!(system_id = self.system_id(), "esme did not answer enquire_link; closing");
                self.session_state = SessionState::Unbound;
                return Ok(());
            }
        }
        let idle = self.last_heard.elapsed() >= config.enquire_link_interval;
        let outstanding = self.enquire_sent_at.is_some_and(|sent_at| self.last_heard < sent_at);
        if idle && !outstanding && matches!(self.session_state, SessionState::Bound { .. }) {
            let sequence = self.sequence();
            self.writer.write_pdu(&Pdu::new(sequence, PduBody::EnquireLink)).await?;
            self.enquire_sent_at = Some(Instant::now());
        }
        Ok(())
    }

    /// Waits for every submit_sm in flight and writes its resp (before an unbind_resp or our unbind), for at most
    /// `esme_response_timeout`: stores still running then finish unanswered, and the ESME's retry is deduplicated.
    async fn answer_submits_in_flight(&mut self) -> Result<(), ConnectionError> {
        let (submits, writer) = (&mut self.submits, &mut self.writer);
        submits.store_without_waiting();
        let answer_all = async {
            while !submits.is_empty() {
                writer.write_raw(&submits.next_responses().await).await?;
            }
            Ok(())
        };
        let answered = tokio::time::timeout(self.state.config.esme_response_timeout, answer_all).await;
        match answered {
            Ok(answered) => answered,
            Err(_) => {
                tracing::warn!(system_id = self.system_id(), "submit_sm still being stored; left unanswered");
                Ok(())
            }
        }
    }

    /// Our unbind on shutdown; a peer that never answers is closed after `esme_response_timeout`. An unbind
    /// from the ESME crossing ours (both stopping at once) is answered and ends the wait, so that neither side
    /// waits out the timeout for a response the other, itself waiting, would never send.
    async fn unbind_and_wait(&mut self) {
        if !matches!(self.session_state, SessionState::Bound { .. }) {
            return;
        }
        let sequence = self.sequence();
        if self.writer.write_pdu(&Pdu::new(sequence, PduBody::Unbind)).await.is_err() {
            return;
        }
        let (reader, writer) = (&mut self.reader, &mut self.writer);
        let wait = async {
            while let Ok(Some(outcome)) = reader.read_pdu().await {
                match outcome {
                    ReadOutcome::Pdu(Pdu { body: PduBody::UnbindResp, .. }) => return,
                    ReadOutcome::Pdu(Pdu { body: PduBody::Unbind, sequence_number, .. }) => {
                        let _ = writer.write_pdu(&Pdu::new(sequence_number, PduBody::UnbindResp)).await;
                        return;
                    }
                    _ => {}
                }
            }
        };
        if tokio::time::timeout(self.state.config.esme_response_timeout, wait).await.is_err() {
            tracing::info!(system_id = self.system_id(), "esme never answered unbind; closing");
        }
    }
}

fn pdu_bind_id(kind: BindKind) -> CommandId {
    match kind {
        BindKind::Transmitter => CommandId::BindTransmitter,
        BindKind::Receiver => CommandId::BindReceiver,
        BindKind::Transceiver => CommandId::BindTransceiver,
    }
}
