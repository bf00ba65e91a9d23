//! Whether a subscriber may bind one more terminal: a pure function over the subscriber and its bindings.
//!
//! Decision on prepaid balance: binding costs nothing, so a prepaid number with a balance of zero or less may
//! still bind; what it buys later is refused at charge time. Suspension for arrears is the status that stops it.

use crate::domain::subscriber::{Subscriber, SubscriberStatus};
use numbind_wire::statement::DenialReason;

/// `subscriber` is `None` when the number is not the operator's; `active_bindings_on_other_terminals` counts
/// this number's active bindings on terminals other than the one asking (a re-bind of the same box is free).
pub fn check_eligibility(
    subscriber: Option<&Subscriber>,
    active_bindings_on_other_terminals: u32,
) -> Result<(), DenialReason> {
    let subscriber = subscriber.ok_or(DenialReason::UnknownSubscriber)?;
    match subscriber.status {
        SubscriberStatus::Active => {}
        SubscriberStatus::SuspendedForArrears => return Err(DenialReason::SubscriberSuspended),
        SubscriberStatus::Blacklisted => return Err(DenialReason::SubscriberBlacklisted),
        SubscriberStatus::Cancelled => return Err(DenialReason::SubscriberCancelled),
    }
    if !subscriber.billing_allowed {
        return Err(DenialReason::BillingNotAllowed);
    }
    if active_bindings_on_other_terminals >= subscriber.device_limit {
        return Err(DenialReason::DeviceLimitReached);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::subscriber::Plan;
    use numbind_wire::Msisdn;

    fn subscriber(status: SubscriberStatus) -> Subscriber {
        Subscriber {
            msisdn: Msisdn::parse("13800138000").unwrap(),
            status,
            plan: Plan::Postpaid,
            device_limit: 2,
            billing_allowed: true,
            balance_fen: 0,
        }
    }

    #[test]
    fn an_active_subscriber_under_its_limit_is_eligible() {
        assert_eq!(check_eligibility(Some(&subscriber(SubscriberStatus::Active)), 1), Ok(()));
    }

    #[test]
    fn an_unknown_number_is_not_a_subscriber() {
        assert_eq!(check_eligibility(None, 0), Err(DenialReason::UnknownSubscriber));
    }

    #[test]
    fn each_inactive_status_has_its_own_reason() {
        let cases = [
            (SubscriberStatus::SuspendedForArrears, DenialReason::SubscriberSuspended),
            (SubscriberStatus::Blacklisted, DenialReason::SubscriberBlacklisted),
            (SubscriberStatus::Cancelled, DenialReason::SubscriberCancelled),
        ];
        for (status, reason) in cases {
            assert_eq!(check_eligibility(Some(&subscriber(status)), 0), Err(reason), "{status:?}");
        }
    }

    #[test]
    fn a_number_without_billing_is_refused() {
        let mut no_billing = subscriber(SubscriberStatus::Active);
        no_billing.billing_allowed = false;
        assert_eq!(check_eligibility(Some(&no_billing), 0), Err(DenialReason::BillingNotAllowed));
    }

    #[test]
    fn a_number_at_its_device_limit_is_refused_another_terminal() {
        let active = subscriber(SubscriberStatus::Active);
        assert_eq!(check_eligibility(Some(&active), 2), Err(DenialReason::DeviceLimitReached));
        let mut no_devices = active.clone();
        no_devices.device_limit = 0;
        assert_eq!(check_eligibility(Some(&no_devices), 0), Err(DenialReason::DeviceLimitReached));
    }

    #[test]
    fn a_prepaid_number_without_balance_may_still_bind() {
        let mut prepaid = subscriber(SubscriberStatus::Active);
        prepaid.plan = Plan::Prepaid;
        prepaid.balance_fen = -100;
        assert_eq!(check_eligibility(Some(&prepaid), 0), Ok(()));
    }
}
