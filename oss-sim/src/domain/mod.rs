//! Pure types and decisions of the OSS: subscribers, eligibility, bindings, inbox outcomes, replies, whether
//! billing charges a number, the ledger's lines, and the owner's own controls and statements (`self_service`).

pub mod binding;
pub mod charging;
pub mod eligibility;
pub mod inbox;
pub mod ledger;
pub mod self_service;
pub mod self_service_replies;
pub mod sms_replies;
pub mod subscriber;
