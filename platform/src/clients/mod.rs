//! Clients of other components: the OSS (revocations, audit checkpoints over HTTPS) and the SMS centre (the SMPP
//! transmitter that submits notification SMS).

pub mod oss_client;
pub mod sms_sender;
