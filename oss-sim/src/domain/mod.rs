//! Pure types and decisions of the OSS: subscribers, eligibility, bindings, inbox outcomes, replies.

pub mod binding;
pub mod eligibility;
pub mod inbox;
pub mod sms_replies;
pub mod subscriber;
