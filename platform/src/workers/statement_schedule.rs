//! Monthly statements on a schedule (`--statement-day N`): at start and every `statement_schedule_interval`, the
//! months due (`domain::statement_schedule::months_due`) are queued one number at a time (each number's SMS and its
//! once-per-month record in one transaction), then the month is recorded as finished. A platform killed half-way
//! queues the rest of the month when it starts again, and one that was down when a month fell due sends it late.

use crate::config::Config;
use crate::domain::statement_schedule::{months_due, StatementDay};
use crate::state::AppState;
use crate::store::StoreError;
use numbind_wire::BillingMonth;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Starts the worker when the configuration names a statement day.
pub(crate) fn spawn_statement_schedule_worker(
    background: &mut JoinSet<()>,
    config: &Config,
    state: &AppState,
    shutdown: &CancellationToken,
) {
    if let Some(day) = config.statement_day {
        let interval = config.statement_schedule_interval;
        background.spawn(run_statement_schedule(state.clone(), day, interval, shutdown.clone()));
    }
}

async fn run_statement_schedule(state: AppState, day: StatementDay, interval: Duration, shutdown: CancellationToken) {
    tracing::info!(statement_day = %day, "monthly statements are sent on a schedule");
    while !shutdown.is_cancelled() {
        if let Err(error) = queue_due_months(&state, day).await {
            tracing::error!(error = %error, "cannot queue the scheduled statements; trying again later");
        }
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => {}
        }
    }
}

/// Queues the statements of every month due now, oldest first.
pub(crate) async fn queue_due_months(state: &AppState, day: StatementDay) -> Result<(), StoreError> {
    let last = state.store.call(|store| store.last_scheduled_statement_month()).await?;
    let last = last.and_then(|month| BillingMonth::parse(&month).ok());
    for month in months_due(state.now(), day, last) {
        let month = month.to_string();
        let numbers = {
            let month = month.clone();
            state.store.call(move |store| store.numbers_charged_in(&month)).await?
        };
        let mut queued = 0_usize;
        for msisdn in numbers {
            let (month, now) = (month.clone(), state.now());
            if state.store.call(move |store| store.queue_month_statement(&msisdn, &month, now)).await? {
                queued += 1;
            }
        }
        state.outbox_changed.notify_one();
        let (finished, now) = (month.clone(), state.now());
        state.store.call(move |store| store.record_scheduled_statement_month(&finished, now)).await?;
        tracing::info!(month, queued, "scheduled statements queued");
    }
    Ok(())
}
