//! JSON bodies of the platform's HTTP APIs, shared by the platform (server) and its clients (agent, OSS).
//!
//! Paths (all JSON; errors are `ErrorBody` with a stable `code`):
//!
//! | method and path | caller | body → answer |
//! |---|---|---|
//! | `POST /v1/terminals` | agent (signed) | `RegisterTerminalRequest` → `RegisterTerminalResponse` |
//! | `GET /v1/terminals/{id}/binding` | agent (signed) | → `BindingStatusResponse` |
//! | `POST /v1/terminals/{id}/sessions` | agent (signed) | `OpenSessionRequest` → `OpenSessionResponse` (`session_handshake`) |
//! | `GET /v1/terminals/{id}/binding-check` | agent (session tag) | → `BindingCheckResponse` |
//! | `POST /v1/terminals/{id}/activations` | agent (signed) | `CreateActivationRequest` (or `{}`) → `ActivationResponse` |
//! | `GET /v1/terminals/{id}/activations/{activation_id}?wait_seconds=N` | agent (signed) | → `ActivationOutcomeResponse` (long-poll) |
//! | `POST /v1/terminals/{id}/activations/{activation_id}/acknowledgement` | agent (signed) | `AcknowledgementRequest` → 204 |
//! | `POST /v1/terminals/{id}/reset` | agent (signed) | `{}` → `BindingStatusResponse` |
//! | `POST /v1/oss/redemptions` | OSS (HMAC) | `RedeemCodeRequest` → `RedeemCodeResponse` |
//! | `POST /v1/oss/confirmations` | OSS (HMAC) | `ConfirmBindingRequest` → `ConfirmBindingResponse` |
//! | `POST /v1/oss/unbindings` | OSS (HMAC) | `OssUnbindRequest` → `OssUnbindResponse` |
//! | `POST /v1/oss/disputes` | OSS (HMAC) | `OpenDisputeRequest` → `OpenDisputeResponse` (`disputes`) |
//! | `GET /v1/operator/disputes?state=open` | operator (token) | → `DisputeList` |
//! | `POST /v1/operator/disputes/{dispute_id}/resolution` | admin (token) | `ResolveDisputeRequest` → `Dispute` |
//! | `POST /v1/platform/revocations` (on the OSS) | platform (HMAC) | `PlatformRevocationRequest` → `PlatformRevocationResponse` |
//! | `POST /v1/platform/audit-checkpoints` (on the OSS) | platform (HMAC) | `SignedAuditCheckpoint` → `AuditCheckpointReceipt` (`audit_checkpoint`) |
//!
//! The payments API (merchants and boxes) is listed in `payments`, the billing calls to the OSS in `billing`.

mod billing;
mod disputes;
mod error;
mod oss;
mod payment_confirmation;
mod payments;
mod revocation;
mod terminal;

pub use billing::{
    BillingRefundOutcome, BillingRefundRequest, ChargeOutcome, ChargeRequest, RefundDenialReason, BILLING_REFUNDS_PATH,
    CHARGES_PATH, CHARGE_CHECKS_PATH, PLATFORM_BILL_LINES_PATH,
};
pub use disputes::{
    Dispute, DisputeList, DisputeState, OpenDisputeOutcome, OpenDisputeRequest, OpenDisputeResponse,
    ResolveDisputeRequest, OSS_DISPUTES_PATH,
};
pub use error::{ApiErrorCode, ErrorBody};
pub use oss::{
    BindingOutcome, ConfirmBindingRequest, ConfirmBindingResponse, OssUnbindRequest, OssUnbindResponse,
    RedeemCodeRequest, RedeemCodeResponse, UnboundTerminal,
};
pub use payment_confirmation::{
    PaymentConfirmationOutcome, PaymentConfirmationRequest, PaymentConfirmationResponse, OSS_PAYMENT_CONFIRMATIONS_PATH,
};
pub use payments::{
    CancellationReason, CreatePaymentRequest, CreateRefundRequest, Payment, PaymentDenialReason, PaymentPage,
    PaymentState, PurchaseStatus, Refund, RefundList, RefundState, RemainingRefundableAmount, IDEMPOTENCY_KEY_HEADER,
};
pub use revocation::{
    PlatformRevocationRequest, PlatformRevocationResponse, RevocationOutcome, RevocationReason,
    PLATFORM_REVOCATIONS_PATH,
};
pub use terminal::{
    AcknowledgementRequest, ActivationOutcomeResponse, ActivationResponse, BindingCheckResponse, BindingStatusResponse,
    CreateActivationRequest, RegisterTerminalRequest, RegisterTerminalResponse,
};
