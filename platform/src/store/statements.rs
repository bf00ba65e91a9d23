//! Use case, monthly statements: which numbers were charged in a month, what each statement says, and queuing one
//! number's statement SMS together with the record that it was queued (one transaction), so that a run repeated or
//! killed half-way queues each number's statement exactly once.

use super::tables::outbox::enqueue_notification;
use super::tables::statement_schedule::{last_finished_month, record_finished_month};
use super::tables::statement_sends::{merchant_totals_of, numbers_charged_in, record_statement_send, statement_sent};
use super::{Store, StoreError};
use crate::domain::statement_text::{statement_sms, MonthTotals};
use numbind_wire::Msisdn;

impl Store {
    /// The numbers with a succeeded charge in `month` (`2026-12`, the operator's local month).
    pub fn numbers_charged_in(&self, month: &str) -> Result<Vec<Msisdn>, StoreError> {
        let numbers = self.read(|connection| numbers_charged_in(connection, month))?;
        numbers
            .iter()
            .map(|digits| Msisdn::parse(digits).map_err(|_| StoreError::MalformedRow("payments.msisdn")))
            .collect()
    }

    /// Queues the number's statement of `month` unless it was queued before; true when this call queued it.
    pub fn queue_month_statement(&self, msisdn: &Msisdn, month: &str, now: i64) -> Result<bool, StoreError> {
        self.in_transaction(|transaction| {
            if statement_sent(transaction, msisdn.as_digits(), month)? {
                return Ok(false);
            }
            let merchants = merchant_totals_of(transaction, msisdn.as_digits(), month)?;
            let text = statement_sms(&MonthTotals { month, merchants: &merchants });
            let outbox_id = enqueue_notification(transaction, msisdn, &text, now)?;
            record_statement_send(transaction, msisdn.as_digits(), month, &outbox_id, now)
        })
    }

    /// The latest month whose statements the platform's schedule finished queuing (`2026-12`).
    pub fn last_scheduled_statement_month(&self) -> Result<Option<String>, StoreError> {
        self.read(last_finished_month)
    }

    /// Records that the schedule queued every statement of `month`.
    pub fn record_scheduled_statement_month(&self, month: &str, now: i64) -> Result<(), StoreError> {
        self.in_transaction(|transaction| record_finished_month(transaction, month, now))
    }
}
