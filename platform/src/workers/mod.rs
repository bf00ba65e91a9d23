//! Background loops: the SMS notification outbox, the OSS revocation outbox, the audit checkpoint sender, billing (a
//! queue per province), merchant events and the monthly statements schedule.

pub(crate) mod audit_checkpoints;
pub(crate) mod billing;
pub(crate) mod billing_queues;
pub(crate) mod merchant_events;
pub(crate) mod notifications;
pub(crate) mod oss_revocations;
mod retry;
pub(crate) mod statement_schedule;
