//! `Subscriber`: a mobile number the operator serves, with its status, plan, device limit and balance.

use numbind_wire::Msisdn;
use serde::{Deserialize, Serialize};

/// The most boxes one number may pay for, whatever its plan says.
pub const MAX_DEVICE_LIMIT: u32 = 100;

/// Where the subscriber's account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriberStatus {
    Active,
    /// 欠费停机: the number is suspended until the arrears are paid.
    SuspendedForArrears,
    Blacklisted,
    /// 销户: the number is closed.
    Cancelled,
}

/// How the subscriber pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    Prepaid,
    Postpaid,
}

/// Why a text is not a status, a plan or a device limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscriberFieldError {
    #[error("status must be one of active, suspended_for_arrears, blacklisted, cancelled")]
    UnknownStatus,
    #[error("plan must be prepaid or postpaid")]
    UnknownPlan,
    #[error("device limit must be 0 to {MAX_DEVICE_LIMIT}")]
    DeviceLimitTooHigh,
}

impl SubscriberStatus {
    pub fn parse(text: &str) -> Result<Self, SubscriberFieldError> {
        match text.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "active" => Ok(SubscriberStatus::Active),
            "suspended_for_arrears" | "suspended" => Ok(SubscriberStatus::SuspendedForArrears),
            "blacklisted" => Ok(SubscriberStatus::Blacklisted),
            "cancelled" | "canceled" => Ok(SubscriberStatus::Cancelled),
            _ => Err(SubscriberFieldError::UnknownStatus),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Active => "active",
            SubscriberStatus::SuspendedForArrears => "suspended_for_arrears",
            SubscriberStatus::Blacklisted => "blacklisted",
            SubscriberStatus::Cancelled => "cancelled",
        }
    }
}

impl Plan {
    pub fn parse(text: &str) -> Result<Self, SubscriberFieldError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "prepaid" => Ok(Plan::Prepaid),
            "postpaid" => Ok(Plan::Postpaid),
            _ => Err(SubscriberFieldError::UnknownPlan),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Prepaid => "prepaid",
            Plan::Postpaid => "postpaid",
        }
    }
}

/// Checks a device limit given by an operator.
pub fn check_device_limit(device_limit: u32) -> Result<u32, SubscriberFieldError> {
    if device_limit > MAX_DEVICE_LIMIT {
        return Err(SubscriberFieldError::DeviceLimitTooHigh);
    }
    Ok(device_limit)
}

/// One subscriber as the OSS keeps it; also the JSON body of the admin API (full number: operator's system).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    pub msisdn: Msisdn,
    pub status: SubscriberStatus,
    pub plan: Plan,
    /// Most terminals this number may pay for at once.
    pub device_limit: u32,
    /// False when the number has not subscribed to paying for other services (代付).
    pub billing_allowed: bool,
    /// Prepaid balance in fen (0.01 yuan); informative for postpaid.
    pub balance_fen: i64,
}

/// The demo subscribers `seed_demo_subscribers` inserts (the README lists them).
pub fn demo_subscribers() -> Vec<Subscriber> {
    let subscriber = |digits: &str, status, plan, device_limit, billing_allowed, balance_fen| {
        Msisdn::parse(digits).ok().map(|msisdn| Subscriber {
            msisdn,
            status,
            plan,
            device_limit,
            billing_allowed,
            balance_fen,
        })
    };
    use Plan::{Postpaid, Prepaid};
    use SubscriberStatus::{Active, Blacklisted, Cancelled, SuspendedForArrears};
    [
        subscriber("13800138000", Active, Postpaid, 2, true, 0),
        subscriber("13800138001", Active, Prepaid, 1, true, 5000),
        subscriber("13900139000", SuspendedForArrears, Postpaid, 2, true, -3000),
        subscriber("13700137000", Blacklisted, Postpaid, 2, true, 0),
        subscriber("13600136000", Cancelled, Postpaid, 2, true, 0),
        subscriber("13500135000", Active, Postpaid, 2, false, 0),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The six demo profiles of [`demo_subscribers`], numbered in the first demo segment of `province`
/// (`numbind_routing::DEMO_SEGMENTS_CSV`): Beijing's `138 0013 8000`, `138 0013 8001`, ...; none for a province
/// without demo segments.
pub fn demo_subscribers_of_province(province: numbind_routing::ProvinceCode) -> Vec<Subscriber> {
    let table = numbind_routing::RoutingTable::demo();
    let Some(segment) = table.segments().segments_of(province).next() else {
        return Vec::new();
    };
    demo_subscribers()
        .into_iter()
        .filter_map(|subscriber| {
            let subscriber_digits = &subscriber.msisdn.as_digits()[7..];
            let msisdn = Msisdn::parse(&format!("{segment}{subscriber_digits}")).ok()?;
            Some(Subscriber { msisdn, ..subscriber })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_plans_parse_from_their_names_and_nothing_else() {
        for status in [
            SubscriberStatus::Active,
            SubscriberStatus::SuspendedForArrears,
            SubscriberStatus::Blacklisted,
            SubscriberStatus::Cancelled,
        ] {
            assert_eq!(SubscriberStatus::parse(status.as_str()), Ok(status));
        }
        assert_eq!(SubscriberStatus::parse("Suspended"), Ok(SubscriberStatus::SuspendedForArrears));
        assert_eq!(SubscriberStatus::parse("gone"), Err(SubscriberFieldError::UnknownStatus));
        assert_eq!(Plan::parse(" Prepaid "), Ok(Plan::Prepaid));
        assert_eq!(Plan::parse("free"), Err(SubscriberFieldError::UnknownPlan));
        assert_eq!(check_device_limit(101), Err(SubscriberFieldError::DeviceLimitTooHigh));
    }

    #[test]
    fn a_provinces_demo_subscribers_are_numbers_of_that_province() {
        let table = numbind_routing::RoutingTable::demo();
        for code in ["BJ", "GD"] {
            let province = numbind_routing::ProvinceCode::parse(code).unwrap();
            let demo = demo_subscribers_of_province(province);
            assert_eq!(demo.len(), 6);
            for subscriber in &demo {
                let routed = table.route(&subscriber.msisdn);
                assert!(
                    matches!(routed, numbind_routing::RouteDecision::Province { province: p, .. } if p == province)
                );
            }
        }
        let shanghai = numbind_routing::ProvinceCode::parse("SH").unwrap();
        assert!(demo_subscribers_of_province(shanghai).is_empty());
    }

    #[test]
    fn the_six_demo_subscribers_are_all_well_formed() {
        let demo = demo_subscribers();
        assert_eq!(demo.len(), 6);
        assert!(demo.iter().any(|s| s.msisdn.as_digits() == "13500135000" && !s.billing_allowed));
    }
}
