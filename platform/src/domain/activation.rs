//! The activation state machine: pending → claimed → bound | denied, with lazy expiry and cancellation.
//!
//! A pending activation expires at `expires_at`. A claimed one (an SMS redeemed its code, the OSS is
//! checking the subscriber) gets `CLAIM_GRACE_SECONDS` more for the OSS's verdict, then expires too.
//! Expiry is computed from the clock when the activation is read and written back lazily.

use numbind_wire::statement::{BindingState, DenialReason};
use numbind_wire::{ActivationCode, ActivationId, BindingId, Msisdn, TerminalId};

/// How long after `expires_at` a claimed activation still accepts the OSS's verdict.
pub(crate) const CLAIM_GRACE_SECONDS: i64 = 120;
/// A pending activation with less life left than this is not shown again; a fresh one replaces it.
pub(crate) const MINIMUM_REMAINING_TO_REUSE_SECONDS: i64 = 60;

/// The stored state of an activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationState {
    Pending,
    Claimed,
    Bound,
    Denied,
    Expired,
    Cancelled,
}

/// A stored state that this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activation state {0:?}")]
pub struct UnknownActivationState(pub String);

impl ActivationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivationState::Pending => "pending",
            ActivationState::Claimed => "claimed",
            ActivationState::Bound => "bound",
            ActivationState::Denied => "denied",
            ActivationState::Expired => "expired",
            ActivationState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Result<Self, UnknownActivationState> {
        Ok(match text {
            "pending" => ActivationState::Pending,
            "claimed" => ActivationState::Claimed,
            "bound" => ActivationState::Bound,
            "denied" => ActivationState::Denied,
            "expired" => ActivationState::Expired,
            "cancelled" => ActivationState::Cancelled,
            other => return Err(UnknownActivationState(other.to_owned())),
        })
    }

    /// Pending or claimed: still waiting for something to happen.
    pub fn is_live(self) -> bool {
        matches!(self, ActivationState::Pending | ActivationState::Claimed)
    }
}

/// One activation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub activation_id: ActivationId,
    pub terminal_id: TerminalId,
    pub code: ActivationCode,
    pub state: ActivationState,
    pub created_at: i64,
    pub expires_at: i64,
    pub claimed_msisdn: Option<Msisdn>,
    pub claimed_sms_message_id: Option<String>,
    pub denial_reason: Option<DenialReason>,
    pub binding_id: Option<BindingId>,
}

/// Why a code cannot be redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedemptionRefusal {
    #[error("no live activation has this code")]
    Unknown,
    #[error("the activation code has expired")]
    Expired,
    #[error("the activation code was redeemed by another sms")]
    Used,
}

/// Why a verdict of the OSS cannot be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmationRefusal {
    #[error("the activation is not waiting for a confirmation")]
    NotPending,
}

impl Activation {
    /// The state as of `now`: a live activation past its deadline is expired.
    pub fn effective_state(&self, now: i64) -> ActivationState {
        match self.state {
            ActivationState::Pending if now >= self.expires_at => ActivationState::Expired,
            ActivationState::Claimed if now >= self.expires_at + CLAIM_GRACE_SECONDS => ActivationState::Expired,
            other => other,
        }
    }

    /// When a waiting poll must stop waiting because the activation expires.
    pub fn deadline(&self) -> i64 {
        match self.state {
            ActivationState::Claimed => self.expires_at + CLAIM_GRACE_SECONDS,
            _ => self.expires_at,
        }
    }

    /// True when a rebooting box should be shown this activation again instead of a new one.
    pub fn can_be_shown_again(&self, now: i64) -> bool {
        match self.effective_state(now) {
            ActivationState::Pending => self.expires_at - now >= MINIMUM_REMAINING_TO_REUSE_SECONDS,
            ActivationState::Claimed => true,
            _ => false,
        }
    }

    /// May an SMS claim this activation's code now?
    pub fn check_redeemable(&self, now: i64) -> Result<(), RedemptionRefusal> {
        match self.effective_state(now) {
            ActivationState::Pending => Ok(()),
            ActivationState::Expired | ActivationState::Cancelled => Err(RedemptionRefusal::Expired),
            ActivationState::Claimed | ActivationState::Bound | ActivationState::Denied => Err(RedemptionRefusal::Used),
        }
    }

    /// The reason to answer again when `msisdn`, whose SMS this activation was denied for (the subscriber's
    /// state), sends its code again before the code's expiry: not a used code, and not a guess.
    pub fn denial_to_repeat(&self, msisdn: &Msisdn, now: i64) -> Option<DenialReason> {
        let denied_for_this_number =
            self.state == ActivationState::Denied && self.claimed_msisdn.as_ref() == Some(msisdn);
        if denied_for_this_number && now < self.expires_at {
            self.denial_reason
        } else {
            None
        }
    }

    /// May the OSS's verdict for `msisdn` be applied now?
    pub fn check_confirmable(&self, msisdn: &Msisdn, now: i64) -> Result<(), ConfirmationRefusal> {
        let claimed_by_this_number = self.claimed_msisdn.as_ref() == Some(msisdn);
        if self.effective_state(now) == ActivationState::Claimed && claimed_by_this_number {
            Ok(())
        } else {
            Err(ConfirmationRefusal::NotPending)
        }
    }

    /// The state a signed statement about this activation names.
    pub fn statement_state(&self, now: i64) -> BindingState {
        match self.effective_state(now) {
            ActivationState::Pending | ActivationState::Claimed => BindingState::Pending,
            ActivationState::Bound => BindingState::Bound,
            ActivationState::Denied => BindingState::Denied,
            ActivationState::Expired | ActivationState::Cancelled => BindingState::Expired,
        }
    }
}

/// The text form of a denial reason, as stored.
pub(crate) fn parse_denial_reason(text: &str) -> Option<DenialReason> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activation(state: ActivationState) -> Activation {
        Activation {
            activation_id: ActivationId::parse("act-1").unwrap(),
            terminal_id: TerminalId::parse("STB-000001").unwrap(),
            code: ActivationCode::parse("WDJBMJHT").unwrap(),
            state,
            created_at: 1_000,
            expires_at: 1_600,
            claimed_msisdn: Some(Msisdn::parse("13800138000").unwrap()),
            claimed_sms_message_id: None,
            denial_reason: None,
            binding_id: None,
        }
    }

    #[test]
    fn a_pending_activation_expires_at_its_deadline() {
        let pending = activation(ActivationState::Pending);
        assert_eq!(pending.effective_state(1_599), ActivationState::Pending);
        assert_eq!(pending.effective_state(1_600), ActivationState::Expired);
        assert_eq!(pending.check_redeemable(1_599), Ok(()));
        assert_eq!(pending.check_redeemable(1_600), Err(RedemptionRefusal::Expired));
        assert_eq!(pending.statement_state(1_600), BindingState::Expired);
    }

    #[test]
    fn a_claimed_activation_gets_a_grace_period_for_the_verdict() {
        let claimed = activation(ActivationState::Claimed);
        let number = Msisdn::parse("13800138000").unwrap();
        let other_number = Msisdn::parse("13900139000").unwrap();
        assert_eq!(claimed.check_confirmable(&number, 1_600 + CLAIM_GRACE_SECONDS - 1), Ok(()));
        assert_eq!(
            claimed.check_confirmable(&number, 1_600 + CLAIM_GRACE_SECONDS),
            Err(ConfirmationRefusal::NotPending)
        );
        assert_eq!(claimed.check_confirmable(&other_number, 1_100), Err(ConfirmationRefusal::NotPending));
        assert_eq!(claimed.check_redeemable(1_100), Err(RedemptionRefusal::Used));
        assert_eq!(claimed.statement_state(1_100), BindingState::Pending);
    }

    #[test]
    fn settled_activations_are_neither_redeemable_nor_confirmable() {
        let number = Msisdn::parse("13800138000").unwrap();
        for (state, refusal) in [
            (ActivationState::Bound, RedemptionRefusal::Used),
            (ActivationState::Denied, RedemptionRefusal::Used),
            (ActivationState::Expired, RedemptionRefusal::Expired),
            (ActivationState::Cancelled, RedemptionRefusal::Expired),
        ] {
            let settled = activation(state);
            assert_eq!(settled.check_redeemable(1_100), Err(refusal), "{state:?}");
            assert_eq!(settled.check_confirmable(&number, 1_100), Err(ConfirmationRefusal::NotPending));
            assert!(!settled.can_be_shown_again(1_100));
        }
    }

    #[test]
    fn only_an_activation_with_a_minute_left_is_shown_again() {
        let pending = activation(ActivationState::Pending);
        assert!(pending.can_be_shown_again(1_540));
        assert!(!pending.can_be_shown_again(1_541));
        assert!(activation(ActivationState::Claimed).can_be_shown_again(1_590));
    }

    #[test]
    fn states_and_denial_reasons_round_trip_through_text() {
        for state in [
            ActivationState::Pending,
            ActivationState::Claimed,
            ActivationState::Bound,
            ActivationState::Denied,
            ActivationState::Expired,
            ActivationState::Cancelled,
        ] {
            assert_eq!(ActivationState::parse(state.as_str()), Ok(state));
        }
        assert!(ActivationState::parse("sleeping").is_err());
        assert_eq!(parse_denial_reason("device_limit_reached"), Some(DenialReason::DeviceLimitReached));
        assert_eq!(parse_denial_reason("bored"), None);
    }
}
