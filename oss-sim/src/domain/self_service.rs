//! The subscriber's own controls over charges (a pause, a monthly cap set by SMS) and the month's statement the
//! OSS answers `账单`/`BILL` and `查询`/`QUERY` with: pure types and decisions, no SQL.

use numbind_wire::api::PaymentDenialReason;
use numbind_wire::MonthlyCap;

/// What the number's owner set by SMS: `暂停`/`恢复` and `限额`. Nothing set is the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnChargeControls {
    /// `暂停`: every charge on the number's boxes is declined `charging_paused` until `恢复`.
    pub paused: bool,
    /// `限额 100`: the most the number's boxes may be charged in one local month, in fen.
    pub monthly_cap_fen: Option<i64>,
}

impl OwnChargeControls {
    /// Declines a charge of `amount_fen` when the owner paused charges, or when the number's charges this month
    /// (`number_this_month_fen`, all its boxes) would pass the owner's cap.
    pub fn check(self, number_this_month_fen: i64, amount_fen: i64) -> Result<(), PaymentDenialReason> {
        if self.paused {
            return Err(PaymentDenialReason::ChargingPaused);
        }
        match self.monthly_cap_fen {
            Some(cap) if number_this_month_fen.saturating_add(amount_fen) > cap => {
                Err(PaymentDenialReason::OwnMonthlyLimit)
            }
            _ => Ok(()),
        }
    }
}

/// Why a user's cap is refused: it may only lower what the operator allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cap of {requested_fen} fen is above the operator's monthly limit of {operator_fen} fen")]
pub struct CapAboveOperatorLimit {
    pub requested_fen: i64,
    pub operator_fen: i64,
}

/// Accepts `cap` when it is at most the operator's monthly limit in force for the number (`operator_monthly_fen`).
pub fn accept_own_cap(cap: MonthlyCap, operator_monthly_fen: i64) -> Result<i64, CapAboveOperatorLimit> {
    if cap.fen() > operator_monthly_fen {
        return Err(CapAboveOperatorLimit { requested_fen: cap.fen(), operator_fen: operator_monthly_fen });
    }
    Ok(cap.fen())
}

/// One merchant's part of a month's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantTotal {
    pub merchant_id: String,
    pub total_fen: i64,
    pub count: u32,
}

/// One charge as a reply names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentCharge {
    pub merchant_id: String,
    pub item_description: String,
    pub amount_fen: i64,
    pub charged_at_unix_ms: i64,
}

/// A number's charges in one local month, as billing recorded them (charges applied; refunds listed apart).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthStatement {
    /// `2026-12`.
    pub month: String,
    pub total_fen: i64,
    pub count: u32,
    /// Refunds applied in the month, in fen.
    pub refunded_fen: i64,
    /// Largest total first.
    pub merchants: Vec<MerchantTotal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_number_is_declined_whatever_the_amount() {
        let paused = OwnChargeControls { paused: true, monthly_cap_fen: None };
        assert_eq!(paused.check(0, 1), Err(PaymentDenialReason::ChargingPaused));
        assert_eq!(OwnChargeControls::default().check(1_000_000, 1), Ok(()));
    }

    #[test]
    fn the_owners_cap_counts_every_box_of_the_number() {
        let capped = OwnChargeControls { paused: false, monthly_cap_fen: Some(10_000) };
        assert_eq!(capped.check(9_000, 1_000), Ok(()));
        assert_eq!(capped.check(9_000, 1_001), Err(PaymentDenialReason::OwnMonthlyLimit));
    }

    #[test]
    fn a_cap_above_the_operators_limit_is_refused() {
        let hundred = MonthlyCap::from_yuan(100).unwrap();
        assert_eq!(accept_own_cap(hundred, 200_000), Ok(10_000));
        assert_eq!(accept_own_cap(hundred, 10_000), Ok(10_000));
        let refused = accept_own_cap(MonthlyCap::from_yuan(3_000).unwrap(), 200_000).unwrap_err();
        assert_eq!(refused.operator_fen, 200_000);
    }
}
