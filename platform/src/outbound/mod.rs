//! Clients of other components: the SMS centre (notification SMS over SMPP) and the OSS (revocations, audit
//! checkpoints).

pub mod audit_checkpoints;
pub mod notification_worker;
pub mod oss_client;
pub mod oss_revocations;
pub mod sms_sender;
