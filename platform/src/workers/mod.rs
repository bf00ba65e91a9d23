//! Background loops: the SMS notification outbox, the OSS revocation outbox and the audit checkpoint sender.

pub mod audit_checkpoints;
pub mod notifications;
pub mod oss_revocations;
mod retry;
