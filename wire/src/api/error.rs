//! The error body every numbind HTTP API answers with, and the stable codes clients match on.

use serde::{Deserialize, Serialize};

/// `{ "code": "code_expired", "message": "the activation code has expired" }`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ApiErrorCode,
    pub message: String,
}

/// Every code a numbind service answers with (platform, OSS, SMS centre). Clients keep working when a newer platform adds one (`Other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApiErrorCode {
    /// The body, a path segment or a query parameter is not well-formed.
    InvalidRequest,
    /// Signature headers missing or malformed, signature wrong, or HMAC wrong.
    Unauthenticated,
    /// A session request's ticket is expired, for another terminal or not this platform's: open a new session.
    SessionInvalid,
    /// The request's timestamp is outside the accepted window.
    StaleTimestamp,
    /// The request's nonce was seen before.
    ReplayedRequest,
    /// The terminal is registered with another public key.
    KeyMismatch,
    /// The terminal must register first.
    TerminalNotRegistered,
    /// The operator requires a manifest and this terminal is not on it.
    TerminalNotInManifest,
    /// A signed request names a terminal other than the one in its path.
    TerminalMismatch,
    /// The terminal is already bound; unbind or reset first.
    TerminalAlreadyBound,
    ActivationNotFound,
    /// Poll no more often than the activation's interval.
    SlowDown,
    /// Too many requests of this kind; see `Retry-After`.
    RateLimited,
    /// No live activation has this code.
    CodeUnknown,
    CodeExpired,
    /// The code was redeemed by another SMS.
    CodeUsed,
    /// The activation is not waiting for a confirmation (already settled).
    ActivationNotPending,
    /// The number is locked after too many failed redemptions.
    NumberLocked,
    /// The terminal is not bound to the number that asked to unbind it.
    BindingNotFound,
    /// The service sheds load; see `Retry-After`.
    Overloaded,
    /// The service cannot write its store (disk full, read-only); see `Retry-After`.
    StorageUnavailable,
    /// The request body is larger than the service reads.
    PayloadTooLarge,
    /// The caller is authenticated but its role may not do this.
    Forbidden,
    /// No such endpoint, or no such resource behind it.
    NotFound,
    /// The endpoint does not take this method.
    MethodNotAllowed,
    /// OSS: a subscriber with this number exists.
    SubscriberExists,
    /// OSS: no subscriber has this number.
    SubscriberNotFound,
    /// OSS: no SMS with this message ID was received.
    MessageNotFound,
    /// OSS: another audit checkpoint is held at this sequence (the first is kept).
    CheckpointConflict,
    /// SMS centre: no ESME serves this short code.
    NoRoute,
    /// SMS centre: the queue towards the ESMEs is full; see `Retry-After`.
    QueueFull,
    /// The `Idempotency-Key` (or a payment or refund ID between services) was used before with another body.
    IdempotencyKeyReused,
    /// The first call with this `Idempotency-Key` is still being processed; retry later.
    InProgress,
    PaymentNotFound,
    /// No refund with this ID belongs to this payment of this merchant.
    RefundNotFound,
    /// The signed purchase intent is malformed, does not verify with the terminal's key, or is for another merchant.
    PurchaseIntentInvalid,
    /// The signed purchase intent is too old (or from the future); the box signs a new one.
    PurchaseIntentStale,
    /// This signed purchase intent was charged (or refused) before: one consent, one payment.
    PurchaseIntentUsed,
    /// The payment is final, or past the point where it can be cancelled.
    PaymentNotCancellable,
    /// Only a succeeded payment can be refunded.
    PaymentNotRefundable,
    /// More than was charged minus refunds done or in flight.
    RefundExceedsRemaining,
    /// No dispute has this ID.
    DisputeNotFound,
    /// The dispute was resolved before; a resolution never changes.
    DisputeAlreadyResolved,
    /// Platform: a side of payment reconciliation (the OSS's bill lines, the SMS centre's sent messages) cannot be
    /// read, so no verdict is given; the message names the side and why.
    ReconciliationSideUnreadable,
    /// Platform (the national hub's checks): the number is not an 11-digit Chinese mobile number of a known
    /// operator's network prefix; no province is asked.
    NumberNotMobile,
    /// Platform (the national hub's checks): the number is on the national blacklist; no province is asked.
    NumberBlacklistedNationally,
    /// Platform (the national hub's checks): the amount is above the national limit for one charge; no province
    /// is asked.
    AmountOverNationalLimit,
    Internal,
    #[serde(other)]
    Other,
}
