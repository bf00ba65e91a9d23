//! SQL of the `inbox` table: every received SMS once (deduplicated), its progress, and its outcome.

use super::bindings::{record_binding_in, revoke_binding_in, revoke_bindings_of_number_in, NewBinding};
use super::outbox::{enqueue_reply_in, OutgoingReply};
use super::{Store, StoreError};
use crate::domain::inbox::{CommandKind, CommandOutcome};
use numbind_wire::api::{BindingOutcome, RedeemCodeResponse};
use numbind_wire::Msisdn;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use std::collections::HashSet;

/// The worker's poll, first pass: the due pending rows that are the oldest pending row of their sender, oldest
/// first, as (inbox_id, source) from the index alone. It walks the pending rows in arrival order
/// (`inbox_pending_in_arrival_order`, which holds both columns) and the caller stops reading once it has enough:
/// searching by due time instead read every due row in full and sorted them all on each poll, and without
/// statistics SQLite preferred walking the whole inbox (every SMS ever received) to either, hence `INDEXED BY`.
const DUE_INBOX_CANDIDATES: &str = "SELECT inbox_id, source FROM inbox AS candidate \
     INDEXED BY inbox_pending_in_arrival_order WHERE state = 'pending' AND next_attempt_at_ms <= ?1 AND NOT EXISTS \
     (SELECT 1 FROM inbox AS older WHERE older.state = 'pending' AND older.source = candidate.source \
     AND older.inbox_id < candidate.inbox_id) ORDER BY inbox_id";
/// The poll's second pass: one chosen row in full.
const INBOX_ROW_BY_ID: &str = "SELECT inbox_id, smsc_message_id, source, text, attempts, redemption_json, \
     verdict_json FROM inbox WHERE inbox_id = ?1";
/// When the worker next has something to do (searches `inbox_due`).
const NEXT_INBOX_DUE_AT: &str = "SELECT MIN(next_attempt_at_ms) FROM inbox WHERE state = 'pending'";
/// The replies an SMS caused, oldest first (searches `outbox_sms_by_inbox`).
const REPLIES_OF_INBOX_ROW: &str = "SELECT text FROM outbox_sms WHERE inbox_id = ?1 ORDER BY outbox_id";

/// A delivery to store.
#[derive(Debug, Clone)]
pub(crate) struct NewInboxMessage {
    pub(crate) dedupe_key: String,
    pub(crate) smsc_message_id: Option<String>,
    pub(crate) source: Msisdn,
    pub(crate) destination: String,
    pub(crate) text: String,
    pub(crate) received_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InboxInsert {
    Inserted { inbox_id: i64 },
    Duplicate,
}

/// A pending row, with whatever steps a previous attempt already made durable.
#[derive(Debug, Clone)]
pub(crate) struct InboxRow {
    pub(crate) inbox_id: i64,
    pub(crate) smsc_message_id: Option<String>,
    pub(crate) source: Msisdn,
    pub(crate) text: String,
    pub(crate) attempts: u32,
    pub(crate) redemption: Option<RedeemCodeResponse>,
    pub(crate) verdict: Option<BindingOutcome>,
}

impl InboxRow {
    /// The idempotency key of every platform call this SMS makes.
    pub(crate) fn request_id(&self) -> String {
        self.smsc_message_id.clone().unwrap_or_else(|| format!("oss-inbox-{}", self.inbox_id))
    }
}

/// Bindings to revoke when a command finishes.
#[derive(Debug, Clone)]
pub(crate) enum Revocation {
    AllOfNumber { msisdn: Msisdn, reason: &'static str },
    Binding { binding_id: String, reason: &'static str },
}

/// How a command ended: written in one transaction with its reply and revocations.
#[derive(Debug, Clone)]
pub(crate) struct FinishedCommand {
    pub(crate) kind: CommandKind,
    pub(crate) outcome: CommandOutcome,
    pub(crate) reply: Option<OutgoingReply>,
    pub(crate) revocation: Option<Revocation>,
}

/// The processing state of one SMS, for the admin API.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct InboxView {
    pub(crate) smsc_message_id: Option<String>,
    pub(crate) source: String,
    pub(crate) destination: String,
    pub(crate) state: String,
    pub(crate) attempts: u32,
    pub(crate) command: Option<String>,
    pub(crate) outcome: Option<String>,
    pub(crate) last_error: Option<String>,
    pub(crate) received_at_unix_ms: i64,
    pub(crate) processed_at_unix_ms: Option<i64>,
    pub(crate) replies: Vec<String>,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: Option<String>) -> Result<Option<T>, StoreError> {
    text.map(|text| serde_json::from_str(&text).map_err(|error| StoreError::Corrupt(error.to_string()))).transpose()
}

type RawInboxRow = (i64, Option<String>, String, String, i64, Option<String>, Option<String>);

fn raw_inbox_row(row: &Row<'_>) -> Result<RawInboxRow, rusqlite::Error> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
}

fn inbox_row_from_raw(raw: RawInboxRow) -> Result<InboxRow, StoreError> {
    let (inbox_id, smsc_message_id, source, text, attempts, redemption, verdict) = raw;
    Ok(InboxRow {
        inbox_id,
        smsc_message_id,
        source: Msisdn::parse(&source).map_err(|_| StoreError::Corrupt("inbox source".into()))?,
        text,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        redemption: from_json(redemption)?,
        verdict: from_json(verdict)?,
    })
}

impl Store {
    /// Stores a delivery unless its dedupe key is known; committed before the SMS centre gets its ack.
    pub(crate) fn insert_inbox(&self, message: &NewInboxMessage) -> Result<InboxInsert, StoreError> {
        self.write(|connection| {
            let inserted = connection
                .prepare_cached(
                    "INSERT OR IGNORE INTO inbox (dedupe_key, smsc_message_id, source, destination, text, \
                     received_at_ms, \
                     state, next_attempt_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?6)",
                )?
                .execute(params![
                    message.dedupe_key,
                    message.smsc_message_id,
                    message.source.as_digits(),
                    message.destination,
                    message.text,
                    message.received_at_ms
                ])?;
            if inserted == 0 {
                return Ok(InboxInsert::Duplicate);
            }
            Ok(InboxInsert::Inserted { inbox_id: connection.last_insert_rowid() })
        })
    }

    /// The oldest due pending row whose sender has no older pending row (each number's commands run in order).
    #[cfg(test)]
    pub(crate) fn due_inbox_row(&self, now_ms: i64) -> Result<Option<InboxRow>, StoreError> {
        Ok(self.due_inbox_rows(now_ms, 1, &HashSet::new())?.into_iter().next())
    }

    /// Up to `limit` due pending rows, oldest first, each the oldest pending row of its sender and none of a number
    /// in `busy_numbers` (whose oldest row is already running): no two share a number, so they may run at once
    /// while each number's commands still run in arrival order. Only the rows returned are read in full.
    pub(crate) fn due_inbox_rows(
        &self,
        now_ms: i64,
        limit: usize,
        busy_numbers: &HashSet<Msisdn>,
    ) -> Result<Vec<InboxRow>, StoreError> {
        self.read(|connection| {
            let mut candidates = connection.prepare_cached(DUE_INBOX_CANDIDATES)?;
            let mut candidate_rows = candidates.query([now_ms])?;
            let mut chosen = Vec::new();
            while chosen.len() < limit {
                let Some(candidate) = candidate_rows.next()? else { break };
                let source = candidate.get_ref(1)?.as_str().map_err(|_| StoreError::Corrupt("inbox source".into()))?;
                if !busy_numbers.contains(source) {
                    chosen.push(candidate.get::<_, i64>(0)?);
                }
            }
            let mut by_id = connection.prepare_cached(INBOX_ROW_BY_ID)?;
            chosen.into_iter().map(|inbox_id| inbox_row_from_raw(by_id.query_row([inbox_id], raw_inbox_row)?)).collect()
        })
    }

    /// When the earliest pending row falls due, if any.
    pub(crate) fn next_inbox_due_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(|connection| Ok(connection.prepare_cached(NEXT_INBOX_DUE_AT)?.query_row([], |row| row.get(0))?))
    }

    /// Saves the platform's redemption and the verdict on it in one transaction; a `Bound` verdict records the
    /// binding in it too. A crash before it repeats the redemption, which the platform answers as before (it is
    /// idempotent by SMS ID), so one durable step suffices where two would cost two commits.
    pub(crate) fn save_redemption_and_verdict(
        &self,
        inbox_id: i64,
        redemption: &RedeemCodeResponse,
        verdict: &BindingOutcome,
        binding: Option<&NewBinding>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let redemption_json = to_json(redemption)?;
        let verdict_json = to_json(verdict)?;
        self.write(|transaction| {
            if let Some(binding) = binding {
                record_binding_in(transaction, binding, now_ms)?;
            }
            transaction
                .prepare_cached("UPDATE inbox SET redemption_json = ?2, verdict_json = ?3 WHERE inbox_id = ?1")?
                .execute(params![inbox_id, redemption_json, verdict_json])?;
            Ok(())
        })
    }

    /// Leaves the row pending and due again at `next_attempt_at_ms`.
    pub(crate) fn reschedule_inbox(
        &self,
        inbox_id: i64,
        next_attempt_at_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.write(|connection| {
            connection
                .prepare_cached(
                    "UPDATE inbox SET attempts = attempts + 1, next_attempt_at_ms = ?2, last_error = ?3 WHERE \
                     inbox_id = ?1",
                )?
                .execute(params![inbox_id, next_attempt_at_ms, error])?;
            Ok(())
        })
    }

    /// Marks the row processed, queues its reply and applies its revocations, all in one transaction.
    pub(crate) fn finish_inbox(
        &self,
        inbox_id: i64,
        finished: &FinishedCommand,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(|transaction| {
            let newly_finished = transaction
                .prepare_cached(
                    "UPDATE inbox SET state = 'processed', command_kind = ?2, outcome = ?3, processed_at_ms = ?4 \
                 WHERE inbox_id = ?1 AND state = 'pending'",
                )?
                .execute(params![inbox_id, finished.kind.as_str(), finished.outcome.as_str(), now_ms])?;
            if newly_finished == 0 {
                // Finished before (or unknown): nothing to do twice.
                return Ok(());
            }
            match &finished.revocation {
                Some(Revocation::AllOfNumber { msisdn, reason }) => {
                    revoke_bindings_of_number_in(transaction, msisdn, reason, now_ms)?
                }
                Some(Revocation::Binding { binding_id, reason }) => {
                    revoke_binding_in(transaction, binding_id, reason, now_ms)?
                }
                None => {}
            }
            if let Some(reply) = &finished.reply {
                enqueue_reply_in(transaction, Some(inbox_id), reply, now_ms)?;
            }
            Ok(())
        })
    }

    /// The latest SMS with this SMS-centre message ID, with the texts of its replies.
    pub(crate) fn inbox_view(&self, smsc_message_id: &str) -> Result<Option<InboxView>, StoreError> {
        self.read(|connection| {
            let found = connection
                .prepare_cached(
                    "SELECT inbox_id, smsc_message_id, source, destination, state, attempts, command_kind, outcome, \
                     last_error, received_at_ms, processed_at_ms FROM inbox WHERE smsc_message_id = ?1 \
                     ORDER BY inbox_id DESC LIMIT 1",
                )?
                .query_row([smsc_message_id], |row| {
                    let attempts: i64 = row.get(5)?;
                    let view = InboxView {
                        smsc_message_id: row.get(1)?,
                        source: row.get(2)?,
                        destination: row.get(3)?,
                        state: row.get(4)?,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        command: row.get(6)?,
                        outcome: row.get(7)?,
                        last_error: row.get(8)?,
                        received_at_unix_ms: row.get(9)?,
                        processed_at_unix_ms: row.get(10)?,
                        replies: Vec::new(),
                    };
                    Ok((row.get::<_, i64>(0)?, view))
                })
                .optional()?;
            let Some((inbox_id, mut view)) = found else { return Ok(None) };
            let mut statement = connection.prepare_cached(REPLIES_OF_INBOX_ROW)?;
            let replies = statement.query_map([inbox_id], |row| row.get::<_, String>(0))?;
            for reply in replies {
                view.replies.push(reply?);
            }
            Ok(Some(view))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::inbox::dedupe_key;
    use rusqlite::StatementStatus;

    fn message(smsc_id: &str, source: &str, text: &str) -> NewInboxMessage {
        NewInboxMessage {
            dedupe_key: dedupe_key(Some(smsc_id), source, "10658000", text, 1_000),
            smsc_message_id: Some(smsc_id.into()),
            source: Msisdn::parse(source).unwrap(),
            destination: "10658000".into(),
            text: text.into(),
            received_at_ms: 1_000,
        }
    }

    fn finished(outcome: CommandOutcome, reply: &str, to: &str) -> FinishedCommand {
        FinishedCommand {
            kind: CommandKind::Invalid,
            outcome,
            reply: Some(OutgoingReply { destination: Msisdn::parse(to).unwrap(), text: reply.into() }),
            revocation: None,
        }
    }

    #[test]
    fn the_worker_polls_and_an_sms_view_search_and_never_scan_the_whole_inbox_or_outbox() {
        let store = Store::open_in_memory().unwrap();
        // The poll walks the pending rows only (a partial index), in arrival order.
        let bounded = ["inbox_pending_in_arrival_order"];
        for sql in [DUE_INBOX_CANDIDATES, INBOX_ROW_BY_ID, NEXT_INBOX_DUE_AT, REPLIES_OF_INBOX_ROW] {
            let scans = store
                .read(|connection| Ok(numbind_sqlite::query_plan::unbounded_scans(connection, sql, &bounded)?))
                .unwrap();
            assert_eq!(scans, Vec::<String>::new(), "{sql}");
        }
    }

    #[test]
    fn a_poll_over_a_backlog_reads_about_its_limit_of_rows_oldest_first_and_sorts_nothing() {
        let store = Store::open_in_memory().unwrap();
        for index in 0..2_000 {
            store.insert_inbox(&message(&format!("m-{index}"), &format!("1380013{index:04}"), "hi")).unwrap();
        }
        let rows = store.due_inbox_rows(1_000_000, 10, &HashSet::new()).unwrap();
        assert_eq!(rows.len(), 10);
        assert!(rows.windows(2).all(|pair| pair[0].inbox_id < pair[1].inbox_id), "oldest first");
        let (vm_steps, sorts) = store
            .read(|connection| {
                let mut statement = connection.prepare(DUE_INBOX_CANDIDATES)?;
                let mut candidates = statement.query([1_000_000])?;
                for _ in 0..10 {
                    candidates.next()?;
                }
                drop(candidates);
                Ok((statement.get_status(StatementStatus::VmStep), statement.get_status(StatementStatus::Sort)))
            })
            .unwrap();
        assert_eq!(sorts, 0, "no sort of the due rows");
        assert!(vm_steps < 2_000, "{vm_steps} VM steps for 10 rows of a 2,000-row backlog");
    }

    #[test]
    fn a_poll_skips_the_numbers_already_running_and_still_fills_its_limit() {
        let store = Store::open_in_memory().unwrap();
        for (index, source) in
            ["13800138000", "13800138001", "13800138000", "13800138002", "13800138003"].iter().enumerate()
        {
            store.insert_inbox(&message(&format!("m-{index}"), source, &format!("text-{index}"))).unwrap();
        }
        let busy: HashSet<Msisdn> = [Msisdn::parse("13800138000").unwrap()].into();
        let texts = |rows: Vec<InboxRow>| rows.into_iter().map(|row| row.text).collect::<Vec<_>>();
        assert_eq!(texts(store.due_inbox_rows(1_000, 2, &busy).unwrap()), ["text-1", "text-3"]);
        assert_eq!(texts(store.due_inbox_rows(1_000, 10, &busy).unwrap()), ["text-1", "text-3", "text-4"]);
    }

    #[test]
    fn a_redelivered_sms_is_stored_once() {
        let store = Store::open_in_memory().unwrap();
        assert!(matches!(store.insert_inbox(&message("m-1", "13800138000", "hi")), Ok(InboxInsert::Inserted { .. })));
        assert_eq!(store.insert_inbox(&message("m-1", "13800138000", "hi")).unwrap(), InboxInsert::Duplicate);
        assert!(store.due_inbox_row(1_000).unwrap().is_some());
    }

    #[test]
    fn each_number_is_served_in_order_and_others_are_not_held_up() {
        let store = Store::open_in_memory().unwrap();
        store.insert_inbox(&message("m-1", "13800138000", "a")).unwrap();
        store.insert_inbox(&message("m-2", "13800138000", "b")).unwrap();
        store.insert_inbox(&message("m-3", "13800138001", "c")).unwrap();
        let first = store.due_inbox_row(1_000).unwrap().unwrap();
        assert_eq!(first.text, "a");
        store.reschedule_inbox(first.inbox_id, 5_000, "platform unavailable").unwrap();
        // m-2 waits behind m-1 (same sender); m-3 goes ahead.
        assert_eq!(store.due_inbox_row(1_000).unwrap().unwrap().text, "c");
        assert_eq!(store.next_inbox_due_at().unwrap(), Some(1_000));
        assert_eq!(store.due_inbox_row(5_000).unwrap().unwrap().attempts, 1);
    }

    #[test]
    fn due_rows_hold_at_most_one_row_per_number_oldest_first() {
        let store = Store::open_in_memory().unwrap();
        store.insert_inbox(&message("m-1", "13800138000", "a")).unwrap();
        store.insert_inbox(&message("m-2", "13800138001", "b")).unwrap();
        store.insert_inbox(&message("m-3", "13800138000", "c")).unwrap();
        store.insert_inbox(&message("m-4", "13800138002", "d")).unwrap();
        let texts = |rows: Vec<InboxRow>| rows.into_iter().map(|row| row.text).collect::<Vec<_>>();
        assert_eq!(texts(store.due_inbox_rows(1_000, 10, &HashSet::new()).unwrap()), ["a", "b", "d"]);
        assert_eq!(texts(store.due_inbox_rows(1_000, 2, &HashSet::new()).unwrap()), ["a", "b"]);
        assert!(store.due_inbox_rows(0, 10, &HashSet::new()).unwrap().is_empty(), "nothing is due before it arrived");
    }

    #[test]
    fn finishing_a_row_queues_its_reply_in_the_same_step_and_only_once() {
        let store = Store::open_in_memory().unwrap();
        store.insert_inbox(&message("m-1", "13800138000", "hello")).unwrap();
        let row = store.due_inbox_row(1_000).unwrap().unwrap();
        let done = finished(CommandOutcome::UnknownCommand, "reply", "13800138000");
        store.finish_inbox(row.inbox_id, &done, 2_000).unwrap();
        store.finish_inbox(row.inbox_id, &done, 2_001).unwrap();
        assert!(store.due_inbox_row(10_000).unwrap().is_none());
        let view = store.inbox_view("m-1").unwrap().unwrap();
        assert_eq!((view.state.as_str(), view.outcome.as_deref()), ("processed", Some("unknown_command")));
        assert_eq!(view.replies, vec!["reply".to_owned()]);
        assert!(store.due_outbox_row(2_000).unwrap().is_some());
    }

    #[test]
    fn a_saved_redemption_and_verdict_survive_for_the_retry() {
        let store = Store::open_in_memory().unwrap();
        store.insert_inbox(&message("m-1", "13800138000", "BIND WDJBMJHT")).unwrap();
        let row = store.due_inbox_row(1_000).unwrap().unwrap();
        let redemption = RedeemCodeResponse {
            activation_id: numbind_wire::ActivationId::parse("act-1").unwrap(),
            terminal_id: numbind_wire::TerminalId::parse("STB-000001").unwrap(),
            device_model: "Skyworth E900".into(),
            currently_bound_msisdn: None,
            refused_before: None,
        };
        let verdict = BindingOutcome::Bound { binding_id: numbind_wire::BindingId::parse("bnd-1").unwrap() };
        store.save_redemption_and_verdict(row.inbox_id, &redemption, &verdict, None, 1_000).unwrap();
        let again = store.due_inbox_row(1_000).unwrap().unwrap();
        assert_eq!(again.redemption, Some(redemption));
        assert_eq!(again.verdict, Some(verdict));
        assert_eq!(again.request_id(), "m-1");
    }
}
