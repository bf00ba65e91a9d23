//! `numbind statements send --month 2026-12`: queues one statement SMS per number charged in the month, on the
//! platform's database; the running platform's notification worker sends them. Each number's SMS and the record
//! that it was queued are one transaction, so a rerun (or a run after a `kill -9`) queues only what is missing.

use crate::store::Store;
use numbind_process::clock::now_unix_seconds;
use numbind_process::progress::{Audience, Progress};
use numbind_wire::BillingMonth;
use std::path::Path;

/// What a statements run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatementRun {
    /// Numbers charged in the month.
    pub numbers: usize,
    /// Statements this run queued.
    pub queued: usize,
    /// Statements an earlier run had queued.
    pub already_queued: usize,
}

/// Queues the statements of `month`, one number at a time, on the database at `database_path`.
pub fn send_month_statements(
    database_path: &Path,
    month: BillingMonth,
    audience: Audience,
) -> anyhow::Result<StatementRun> {
    let store = Store::open(database_path)?;
    let month = month.to_string();
    let numbers = store.numbers_charged_in(&month)?;
    let progress = Progress::start(&format!("statements of {month}"), Some(numbers.len() as u64), audience);
    let mut run = StatementRun { numbers: numbers.len(), ..StatementRun::default() };
    for msisdn in &numbers {
        if store.queue_month_statement(msisdn, &month, now_unix_seconds())? {
            run.queued += 1;
        } else {
            run.already_queued += 1;
        }
        progress.advance(1);
    }
    progress.finish();
    tracing::info!(month, queued = run.queued, already_queued = run.already_queued, "statements queued");
    Ok(run)
}
