//! One module per table of the platform's database: its columns, row reading and single-table statements. A
//! table module imports no sibling; what spans tables is a use case in `store/`, above these.

pub(super) mod activations;
pub(super) mod audit_checkpoints;
pub(super) mod audit_events;
pub(super) mod billing_outbox;
pub(super) mod bindings;
pub(super) mod disputes;
pub(super) mod idempotency_keys;
pub(super) mod manifest;
pub(super) mod merchant_events;
pub(super) mod merchants;
pub(super) mod oss_outbox;
pub(super) mod outbox;
pub(super) mod payment_adjustments;
pub(super) mod payment_confirmation_answers;
pub(super) mod payments;
pub(super) mod refunds;
pub(super) mod routing_tables;
pub(super) mod statement_schedule;
pub(super) mod statement_sends;
pub(super) mod terminals;
