//! Clients of other components: the platform's OSS API (HTTP + HMAC) and the SMS centre (SMPP ESME).

pub(crate) mod platform;
pub(crate) mod smsc;
