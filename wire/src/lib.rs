//! The numbind wire contract: every type that crosses a process boundary, and nothing that runs a server.
//!
//! Domain values (`Msisdn`, `TerminalId`, `ActivationCode`, `ShortCode`) parse, never validate: once you
//! hold one it is well-formed. `api` holds the JSON bodies of the HTTP APIs, `sms_command` the grammar of
//! the user's SMS, `request_signing` the terminal's signed-request envelope, `statement` the platform's
//! signed binding statements, `activation_offer` the platform's signed codes and `component_auth` the HMAC that the OSS and the platform use between them; `session_handshake` and
//! `terminal_session` the cheaper MAC'd status checks a terminal makes once it holds a session; `audit_checkpoint`
//! the platform's signed audit chain heads that the OSS keeps as a witness; `money` amounts and currencies, and
//! `purchase_intent` what a box signs before its bound number may be charged.

pub mod activation_code;
pub mod activation_offer;
pub mod api;
pub mod audit_checkpoint;
pub mod component_auth;
mod encoding;
pub mod free_text;
pub mod money;
pub mod msisdn;
pub mod purchase_intent;
pub mod purchase_status;
pub mod record_ids;
pub mod request_signing;
pub mod session_handshake;
pub mod short_code;
pub mod sms_arguments;
pub mod sms_command;
pub mod statement;
pub mod terminal_id;
pub mod terminal_session;

pub use activation_code::{ActivationCode, ActivationCodeError};
pub use free_text::mask_numbers_in_text;
pub use money::{Amount, Currency, MoneyError};
pub use msisdn::{Msisdn, MsisdnError};
pub use purchase_intent::{ItemDescription, ItemId, MerchantId, PurchaseIntent, SignedPurchaseIntent};
pub use record_ids::{ActivationId, BindingId, PaymentId, RecordIdError, RefundId};
pub use short_code::{ShortCode, ShortCodeError};
pub use sms_arguments::{BillingMonth, MonthlyCap};
pub use sms_command::{LimitRequest, SmsCommand, SmsCommandError};
pub use terminal_id::{TerminalId, TerminalIdError};
