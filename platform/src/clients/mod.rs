//! Clients of other components: the OSS (revocations, audit checkpoints, billing and its bill lines over HTTPS) and
//! the SMS centre (the SMPP transmitter that submits notification SMS, and its HTTP API's list of what was sent).

pub(crate) mod oss_breaker;
pub(crate) mod oss_client;
pub(crate) mod sms_sender;
pub(crate) mod smsc_api_client;
