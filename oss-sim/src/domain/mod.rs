//! Pure types and decisions of the OSS: subscribers, eligibility, bindings, inbox outcomes, replies, and whether
//! billing charges a number.

pub mod binding;
pub mod charging;
pub mod eligibility;
pub mod inbox;
pub mod sms_replies;
pub mod subscriber;
