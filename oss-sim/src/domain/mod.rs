//! Pure types and decisions of the OSS: subscribers, eligibility, bindings, inbox outcomes, replies, and whether
//! billing charges a number, and the ledger's lines.

pub mod binding;
pub mod charging;
pub mod eligibility;
pub mod inbox;
pub mod ledger;
pub mod sms_replies;
pub mod subscriber;
