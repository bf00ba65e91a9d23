//! Whether the operator's billing charges a number: a pure decision over the subscriber, the limits in force and
//! what the binding already spent, made inside the charge's transaction so two charges never both pass a limit.
//!
//! Limits are the operator's ([`ChargeLimits::operator_default`], set in the OSS's configuration), each
//! overridable per subscriber ([`LimitOverride`]); the day and the month are the operator's (China Standard
//! Time, UTC+8), so a charge at 23:59 and one at 00:01 fall on different days wherever the server runs.

use crate::domain::self_service::OwnChargeControls;
use crate::domain::subscriber::{Plan, Subscriber, SubscriberStatus};
use numbind_process::clock::{CivilDateTime, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use numbind_wire::api::PaymentDenialReason;
use numbind_wire::{Amount, Currency};
use serde::{Deserialize, Serialize};

/// The currency the operator bills in.
pub const BILLING_CURRENCY: Currency = Currency::Cny;

/// The limits on charges to one binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeLimits {
    /// Most one charge may be, in fen.
    pub max_per_charge_fen: i64,
    /// Most one binding may be charged in one local day, in fen.
    pub daily_fen: i64,
    /// Most one binding may be charged in one local month, in fen.
    pub monthly_fen: i64,
    /// Least time between two charges on one binding.
    pub min_interval_seconds: i64,
    /// Postpaid: most one number's bill may carry in charges this month, in fen.
    pub credit_limit_fen: i64,
}

impl ChargeLimits {
    /// ¥200 a charge, ¥500 a day, ¥2,000 a month, 2 s apart; a postpaid bill carries at most ¥3,000 of charges.
    pub const fn operator_default() -> Self {
        ChargeLimits {
            max_per_charge_fen: 20_000,
            daily_fen: 50_000,
            monthly_fen: 200_000,
            min_interval_seconds: 2,
            credit_limit_fen: 300_000,
        }
    }

    /// These limits with a subscriber's overrides applied.
    pub fn overridden_by(self, overrides: &LimitOverride) -> Self {
        ChargeLimits {
            max_per_charge_fen: overrides.max_per_charge_fen.unwrap_or(self.max_per_charge_fen),
            daily_fen: overrides.daily_fen.unwrap_or(self.daily_fen),
            monthly_fen: overrides.monthly_fen.unwrap_or(self.monthly_fen),
            min_interval_seconds: overrides.min_interval_seconds.unwrap_or(self.min_interval_seconds),
            credit_limit_fen: overrides.credit_limit_fen.unwrap_or(self.credit_limit_fen),
        }
    }
}

/// A subscriber's own limits; `None` keeps the operator's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverride {
    pub max_per_charge_fen: Option<i64>,
    pub daily_fen: Option<i64>,
    pub monthly_fen: Option<i64>,
    pub min_interval_seconds: Option<i64>,
    pub credit_limit_fen: Option<i64>,
}

/// What a binding and its number have spent, as of the charge being decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spending {
    pub binding_today_fen: i64,
    pub binding_this_month_fen: i64,
    /// When the binding was last charged, if ever.
    pub binding_last_charge_at_unix_seconds: Option<i64>,
    /// Charges on this number this month (all its bindings): the postpaid bill's unpaid charges, and what the
    /// owner's own cap counts.
    pub number_unbilled_this_month_fen: i64,
}

/// What a charge is decided against, besides the subscriber and the amount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChargeContext {
    pub limits: ChargeLimits,
    pub spending: Spending,
    /// The pause and the cap the number's owner set by SMS.
    pub own: OwnChargeControls,
}

impl Default for ChargeLimits {
    fn default() -> Self {
        ChargeLimits::operator_default()
    }
}

/// Charges `amount` in `currency`, or says why not. `subscriber` is `None` when the number is not the operator's.
pub fn decide_charge(
    subscriber: Option<&Subscriber>,
    context: ChargeContext,
    amount: Amount,
    currency: Currency,
    now_unix_seconds: i64,
) -> Result<(), PaymentDenialReason> {
    let ChargeContext { limits, spending, own } = context;
    let subscriber = subscriber.ok_or(PaymentDenialReason::NotBound)?;
    match subscriber.status {
        SubscriberStatus::Active => {}
        SubscriberStatus::SuspendedForArrears => return Err(PaymentDenialReason::SubscriberSuspended),
        SubscriberStatus::Blacklisted => return Err(PaymentDenialReason::Blacklisted),
        SubscriberStatus::Cancelled => return Err(PaymentDenialReason::NotBound),
    }
    if !subscriber.billing_allowed {
        return Err(PaymentDenialReason::BillingNotAllowed);
    }
    if subscriber.plan == Plan::Postpaid && subscriber.balance_fen < 0 {
        return Err(PaymentDenialReason::SubscriberInArrears);
    }
    if currency != BILLING_CURRENCY {
        return Err(PaymentDenialReason::CurrencyNotSupported);
    }
    // The owner's own controls come before the operator's limits: they are what the user asked for.
    own.check(spending.number_unbilled_this_month_fen, amount.minor_units())?;
    check_limits(limits, spending, amount.minor_units(), now_unix_seconds)?;
    match subscriber.plan {
        Plan::Prepaid if subscriber.balance_fen < amount.minor_units() => Err(PaymentDenialReason::InsufficientBalance),
        Plan::Postpaid if spending.number_unbilled_this_month_fen + amount.minor_units() > limits.credit_limit_fen => {
            Err(PaymentDenialReason::CreditLimitExceeded)
        }
        _ => Ok(()),
    }
}

fn check_limits(
    limits: ChargeLimits,
    spending: Spending,
    amount_fen: i64,
    now: i64,
) -> Result<(), PaymentDenialReason> {
    if amount_fen > limits.max_per_charge_fen {
        return Err(PaymentDenialReason::SingleChargeLimit);
    }
    if spending.binding_today_fen + amount_fen > limits.daily_fen {
        return Err(PaymentDenialReason::DailyLimit);
    }
    if spending.binding_this_month_fen + amount_fen > limits.monthly_fen {
        return Err(PaymentDenialReason::MonthlyLimit);
    }
    if spending.binding_last_charge_at_unix_seconds.is_some_and(|last| now - last < limits.min_interval_seconds) {
        return Err(PaymentDenialReason::TooSoon);
    }
    Ok(())
}

/// The operator's local day of a time, as `2026-12-07`.
pub fn local_day(unix_seconds: i64) -> String {
    CivilDateTime::at(unix_seconds, CHINA_STANDARD_TIME_OFFSET_SECONDS).date_text()
}

/// The operator's local month of a time, as `2026-12`.
pub fn local_month(unix_seconds: i64) -> String {
    CivilDateTime::at(unix_seconds, CHINA_STANDARD_TIME_OFFSET_SECONDS).month_text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::Msisdn;

    const NOW: i64 = 1_796_601_600; // 2026-12-07 08:00 in Beijing

    fn subscriber(status: SubscriberStatus, plan: Plan, balance_fen: i64) -> Subscriber {
        Subscriber {
            msisdn: Msisdn::parse("13800138001").unwrap(),
            status,
            plan,
            device_limit: 2,
            billing_allowed: true,
            balance_fen,
        }
    }

    fn fen(amount: i64) -> Amount {
        Amount::from_minor_units(amount).unwrap()
    }

    fn decide(subscriber: &Subscriber, spending: Spending, amount_fen: i64) -> Result<(), PaymentDenialReason> {
        let context = ChargeContext { spending, ..ChargeContext::default() };
        decide_charge(Some(subscriber), context, fen(amount_fen), Currency::Cny, NOW)
    }

    #[test]
    fn an_active_prepaid_number_with_the_balance_is_charged() {
        let prepaid = subscriber(SubscriberStatus::Active, Plan::Prepaid, 5_000);
        assert_eq!(decide(&prepaid, Spending::default(), 5_000), Ok(()));
        assert_eq!(decide(&prepaid, Spending::default(), 5_001), Err(PaymentDenialReason::InsufficientBalance));
    }

    #[test]
    fn each_subscriber_refusal_has_its_own_reason() {
        let cases = [
            (SubscriberStatus::SuspendedForArrears, Plan::Postpaid, 0, PaymentDenialReason::SubscriberSuspended),
            (SubscriberStatus::Blacklisted, Plan::Postpaid, 0, PaymentDenialReason::Blacklisted),
            (SubscriberStatus::Cancelled, Plan::Postpaid, 0, PaymentDenialReason::NotBound),
            (SubscriberStatus::Active, Plan::Postpaid, -1, PaymentDenialReason::SubscriberInArrears),
        ];
        for (status, plan, balance, reason) in cases {
            assert_eq!(decide(&subscriber(status, plan, balance), Spending::default(), 100), Err(reason), "{status:?}");
        }
        let mut not_enabled = subscriber(SubscriberStatus::Active, Plan::Postpaid, 0);
        not_enabled.billing_allowed = false;
        assert_eq!(decide(&not_enabled, Spending::default(), 100), Err(PaymentDenialReason::BillingNotAllowed));
        let unknown = decide_charge(None, ChargeContext::default(), fen(1), Currency::Cny, NOW);
        assert_eq!(unknown, Err(PaymentDenialReason::NotBound));
    }

    #[test]
    fn each_limit_has_its_own_reason() {
        let postpaid = subscriber(SubscriberStatus::Active, Plan::Postpaid, 0);
        assert_eq!(decide(&postpaid, Spending::default(), 20_001), Err(PaymentDenialReason::SingleChargeLimit));
        let spent_today = Spending { binding_today_fen: 45_000, binding_this_month_fen: 45_000, ..Spending::default() };
        assert_eq!(decide(&postpaid, spent_today, 5_001), Err(PaymentDenialReason::DailyLimit));
        let spent_month = Spending { binding_this_month_fen: 199_000, ..Spending::default() };
        assert_eq!(decide(&postpaid, spent_month, 1_001), Err(PaymentDenialReason::MonthlyLimit));
        let just_charged = Spending { binding_last_charge_at_unix_seconds: Some(NOW - 1), ..Spending::default() };
        assert_eq!(decide(&postpaid, just_charged, 100), Err(PaymentDenialReason::TooSoon));
        let on_the_bill = Spending { number_unbilled_this_month_fen: 299_900, ..Spending::default() };
        assert_eq!(decide(&postpaid, on_the_bill, 101), Err(PaymentDenialReason::CreditLimitExceeded));
        assert_eq!(decide(&postpaid, on_the_bill, 100), Ok(()));
    }

    #[test]
    fn a_subscribers_override_replaces_only_what_it_names() {
        let overrides = LimitOverride { daily_fen: Some(1_000), ..LimitOverride::default() };
        let limits = ChargeLimits::operator_default().overridden_by(&overrides);
        assert_eq!(limits.daily_fen, 1_000);
        assert_eq!(limits.max_per_charge_fen, ChargeLimits::operator_default().max_per_charge_fen);
    }

    #[test]
    fn another_currency_is_refused() {
        let postpaid = subscriber(SubscriberStatus::Active, Plan::Postpaid, 0);
        let refused = decide_charge(Some(&postpaid), ChargeContext::default(), fen(100), Currency::Usd, NOW);
        assert_eq!(refused, Err(PaymentDenialReason::CurrencyNotSupported));
    }

    #[test]
    fn the_owners_pause_and_cap_decline_with_their_own_reasons() {
        let postpaid = subscriber(SubscriberStatus::Active, Plan::Postpaid, 0);
        let paused = ChargeContext {
            own: OwnChargeControls { paused: true, monthly_cap_fen: None },
            ..ChargeContext::default()
        };
        assert_eq!(
            decide_charge(Some(&postpaid), paused, fen(1), Currency::Cny, NOW),
            Err(PaymentDenialReason::ChargingPaused)
        );
        let capped = ChargeContext {
            spending: Spending { number_unbilled_this_month_fen: 9_000, ..Spending::default() },
            own: OwnChargeControls { paused: false, monthly_cap_fen: Some(10_000) },
            ..ChargeContext::default()
        };
        assert_eq!(decide_charge(Some(&postpaid), capped, fen(1_000), Currency::Cny, NOW), Ok(()));
        assert_eq!(
            decide_charge(Some(&postpaid), capped, fen(1_001), Currency::Cny, NOW),
            Err(PaymentDenialReason::OwnMonthlyLimit)
        );
        // A suspended number says so, not that it is paused.
        let suspended = subscriber(SubscriberStatus::SuspendedForArrears, Plan::Postpaid, 0);
        assert_eq!(
            decide_charge(Some(&suspended), paused, fen(1), Currency::Cny, NOW),
            Err(PaymentDenialReason::SubscriberSuspended)
        );
    }

    #[test]
    fn days_and_months_are_the_operators_local_ones() {
        assert_eq!(local_day(NOW), "2026-12-07");
        // 2026-12-31 16:30 UTC is already 2027-01-01 00:30 in Beijing.
        assert_eq!(local_day(1_798_734_600), "2027-01-01");
        assert_eq!(local_month(1_798_734_600), "2027-01");
        assert_eq!(local_day(0), "1970-01-01");
        assert_eq!(local_day(951_782_400), "2000-02-29");
    }
}
