//! Clients of other components: the OSS (revocations, audit checkpoints over HTTPS) and the SMS centre (the SMPP
//! transmitter that submits notification SMS).

pub(crate) mod oss_client;
pub(crate) mod sms_sender;
