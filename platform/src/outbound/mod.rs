//! Clients of other components: the SMS centre (notification SMS over SMPP).

pub mod notification_worker;
pub mod sms_sender;
