//! Buying on the box: what a billed service asks to buy ([`PurchaseRequest`]), the intent the box signs for it
//! ([`SignedPurchase`]), what the box shows while the payment is decided ([`PurchaseProgress`]) and how it ended
//! ([`PurchaseOutcome`]). [`interpret`] reads one answer of the platform's purchase long-poll.

use numbind_wire::api::{CancellationReason, PaymentDenialReason, PaymentState, PurchaseStatus};
use numbind_wire::purchase_intent::{ItemDescription, ItemId, MerchantId, SignedPurchaseIntent};
use numbind_wire::{Amount, Currency, PaymentId};

/// What a billed service on the box asks to buy: the box signs exactly this, with a fresh nonce and the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseRequest {
    pub merchant_id: MerchantId,
    pub item_id: ItemId,
    /// What the user reads in the confirmation SMS and on the receipt: `《流浪地球》高清`.
    pub item_description: ItemDescription,
    pub amount: Amount,
    pub currency: Currency,
}

/// The signed intent to hand to the merchant, and its nonce, by which the box follows the payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPurchase {
    pub signed_intent: SignedPurchaseIntent,
    pub intent_nonce: String,
}

/// Where a purchase is while the box waits, in the order things usually happen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PurchaseProgress {
    /// The merchant has not submitted the signed intent to the platform yet.
    WaitingForMerchant,
    /// Above the confirmation threshold: the bound phone got an SMS and must reply `Y <number>` before this time.
    WaitingForConfirmation { expires_at_unix_seconds: Option<i64> },
    /// The operator's billing is charging the bound number.
    Processing,
    /// The platform could not be reached (or shed load); asking again after a wait.
    Retrying { after: std::time::Duration, cause: String },
}

/// How a purchase ended. Final: the platform never changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PurchaseOutcome {
    /// Charged to the bound number; the phone gets a receipt by SMS.
    Succeeded { payment_id: PaymentId },
    /// Refused, with the reason and what the screen says ([`PaymentDenialReason::words`]).
    Denied { reason: PaymentDenialReason, words: &'static str },
    /// Cancelled: by the user's `N`, wrong confirmation numbers, an unbinding or the merchant.
    Cancelled { reason: CancellationReason },
    /// The confirmation (or the merchant's submission) did not come in time.
    Expired,
}

/// One long-poll answer: still under way, or final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurchaseStep {
    Progress(PurchaseProgress),
    Final(PurchaseOutcome),
}

/// What one answer of `GET /v1/terminals/{id}/purchases/{intent_nonce}` means for the box.
/// A state without a payment (no merchant has submitted the intent yet) is still waiting for the merchant.
pub fn interpret(status: &PurchaseStatus) -> PurchaseStep {
    let (Some(state), Some(payment_id)) = (status.state, status.payment_id.clone()) else {
        return PurchaseStep::Progress(PurchaseProgress::WaitingForMerchant);
    };
    match state {
        PaymentState::Processing => PurchaseStep::Progress(PurchaseProgress::Processing),
        PaymentState::PendingConfirmation => PurchaseStep::Progress(PurchaseProgress::WaitingForConfirmation {
            expires_at_unix_seconds: status.confirmation_expires_at_unix_seconds,
        }),
        PaymentState::Succeeded => PurchaseStep::Final(PurchaseOutcome::Succeeded { payment_id }),
        PaymentState::Denied => {
            let reason = status.denial_reason.unwrap_or(PaymentDenialReason::Other);
            PurchaseStep::Final(PurchaseOutcome::Denied { reason, words: reason.words() })
        }
        PaymentState::Cancelled => {
            let reason = status.cancellation_reason.unwrap_or(CancellationReason::Other);
            PurchaseStep::Final(PurchaseOutcome::Cancelled { reason })
        }
        PaymentState::Expired => PurchaseStep::Final(PurchaseOutcome::Expired),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: Option<PaymentState>) -> PurchaseStatus {
        PurchaseStatus {
            payment_id: state.map(|_| PaymentId::parse("pay-1").unwrap()),
            state,
            denial_reason: None,
            cancellation_reason: None,
            confirmation_expires_at_unix_seconds: None,
            poll_interval_seconds: 2,
        }
    }

    #[test]
    fn waiting_states_are_progress_and_settled_ones_are_final() {
        assert_eq!(interpret(&status(None)), PurchaseStep::Progress(PurchaseProgress::WaitingForMerchant));
        assert_eq!(
            interpret(&status(Some(PaymentState::Processing))),
            PurchaseStep::Progress(PurchaseProgress::Processing)
        );
        let pending = PurchaseStatus {
            confirmation_expires_at_unix_seconds: Some(1_800_000_000),
            ..status(Some(PaymentState::PendingConfirmation))
        };
        let waiting = PurchaseProgress::WaitingForConfirmation { expires_at_unix_seconds: Some(1_800_000_000) };
        assert_eq!(interpret(&pending), PurchaseStep::Progress(waiting));
        let payment_id = PaymentId::parse("pay-1").unwrap();
        assert_eq!(
            interpret(&status(Some(PaymentState::Succeeded))),
            PurchaseStep::Final(PurchaseOutcome::Succeeded { payment_id })
        );
        assert_eq!(interpret(&status(Some(PaymentState::Expired))), PurchaseStep::Final(PurchaseOutcome::Expired));
    }

    #[test]
    fn a_denial_carries_its_reason_in_words_and_a_cancellation_its_reason() {
        let denied = PurchaseStatus {
            denial_reason: Some(PaymentDenialReason::DailyLimit),
            ..status(Some(PaymentState::Denied))
        };
        let PurchaseStep::Final(PurchaseOutcome::Denied { reason, words }) = interpret(&denied) else {
            panic!("not a denial")
        };
        assert_eq!(reason, PaymentDenialReason::DailyLimit);
        assert_eq!(words, PaymentDenialReason::DailyLimit.words());
        assert!(matches!(
            interpret(&status(Some(PaymentState::Denied))),
            PurchaseStep::Final(PurchaseOutcome::Denied { reason: PaymentDenialReason::Other, .. })
        ));
        let cancelled = PurchaseStatus {
            cancellation_reason: Some(CancellationReason::DeclinedByUser),
            ..status(Some(PaymentState::Cancelled))
        };
        assert_eq!(
            interpret(&cancelled),
            PurchaseStep::Final(PurchaseOutcome::Cancelled { reason: CancellationReason::DeclinedByUser })
        );
    }

    #[test]
    fn a_state_without_a_payment_is_still_waiting_for_the_merchant() {
        let no_payment = PurchaseStatus { payment_id: None, ..status(Some(PaymentState::Succeeded)) };
        assert_eq!(interpret(&no_payment), PurchaseStep::Progress(PurchaseProgress::WaitingForMerchant));
    }
}
