//! MO routing: the account whose route is the longest prefix of the destination short code, and, for a short
//! code routed by province, the account of the sender's home province by the routing table (segment and
//! portability), or the SMS centre's own refusal when the number has no province of ours.

use crate::config::EsmeAccount;
use numbind_routing::{ProvinceCode, RouteDecision, RoutingTable};
use numbind_wire::{Msisdn, ShortCode};
use std::collections::BTreeMap;

/// Where one short-code prefix sends MO.
#[derive(Debug, Clone)]
enum RouteTarget {
    /// Every sender to this account (the first account naming the prefix).
    Account(String),
    /// Each sender to the account of its home province.
    ByProvince(BTreeMap<ProvinceCode, String>),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    /// (short code prefix, target), longest prefix first.
    entries: Vec<(String, RouteTarget)>,
    table: Option<RoutingTable>,
}

/// What happens to one MO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MoDestination<'a> {
    /// Queue it for this account.
    Account(&'a str),
    /// Answer the sender with a refusal SMS; no ESME sees it.
    Refused(MoRefusal),
}

/// Why the SMS centre answered an MO itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoRefusal {
    /// No segment (and no portability row) knows the number.
    UnknownSegment,
    /// The number was ported to another operator.
    LeftOperator,
    /// The number's province has no account for this short code.
    ProvinceNotServed(ProvinceCode),
}

impl MoRefusal {
    /// The metric label: `unknown_segment`, `left_operator`, `province_not_served`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MoRefusal::UnknownSegment => "unknown_segment",
            MoRefusal::LeftOperator => "left_operator",
            MoRefusal::ProvinceNotServed(_) => "province_not_served",
        }
    }

    /// The SMS the sender gets, in Chinese as every SMS of the service, one SMS long.
    pub(crate) fn sms_text(self) -> String {
        match self {
            MoRefusal::UnknownSegment => {
                "【numbind】号码归属地未知，暂无法办理本业务。请核对号码，或联系您的运营商。".to_owned()
            }
            MoRefusal::LeftOperator => "【numbind】您的号码已携号转出，本运营商暂无法办理本业务。".to_owned(),
            MoRefusal::ProvinceNotServed(province) => {
                format!("【numbind】您的号码归属地（{}）暂未开通本业务。", province.chinese_name())
            }
        }
    }
}

/// Why the accounts cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RoutesError {
    #[error("account {system_id} has a province but the sms centre has no segment table (--segments-file)")]
    ProvinceWithoutTable { system_id: String },
    #[error("short code {route} is routed by province on some accounts and not on others")]
    MixedRoute { route: String },
    #[error("short code {route} has two accounts for province {province}")]
    TwoAccountsForProvince { route: String, province: ProvinceCode },
}

impl Routes {
    pub(crate) fn build(accounts: &[EsmeAccount], table: Option<RoutingTable>) -> Result<Routes, RoutesError> {
        let mut entries: Vec<(String, RouteTarget)> = Vec::new();
        for account in accounts {
            if account.province.is_some() && table.is_none() {
                return Err(RoutesError::ProvinceWithoutTable { system_id: account.system_id.clone() });
            }
            for route in &account.routes {
                let prefix = route.as_str().to_owned();
                match entries.iter_mut().find(|(known, _)| *known == prefix) {
                    None => entries.push((prefix, new_target(account))),
                    Some((_, target)) => add_to_target(target, account, &prefix)?,
                }
            }
        }
        entries.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Ok(Routes { entries, table })
    }

    /// The version of the routing table, when short codes are routed by province.
    pub(crate) fn table_version(&self) -> Option<numbind_routing::RoutingVersion> {
        self.table.as_ref().map(RoutingTable::version)
    }

    /// What to do with an MO from `source` to `destination`; `None` when no account serves the short code.
    pub(crate) fn route(&self, destination: &ShortCode, source: &Msisdn) -> Option<MoDestination<'_>> {
        let (_, target) = self.entries.iter().find(|(prefix, _)| destination.as_str().starts_with(prefix.as_str()))?;
        let by_province = match target {
            RouteTarget::Account(system_id) => return Some(MoDestination::Account(system_id)),
            RouteTarget::ByProvince(by_province) => by_province,
        };
        // `build` refuses a province without a table.
        let decision = self.table.as_ref().map_or(RouteDecision::UnknownSegment, |table| table.route(source));
        Some(match decision {
            RouteDecision::Province { province, .. } => match by_province.get(&province) {
                Some(system_id) => MoDestination::Account(system_id),
                None => MoDestination::Refused(MoRefusal::ProvinceNotServed(province)),
            },
            RouteDecision::UnknownSegment => MoDestination::Refused(MoRefusal::UnknownSegment),
            RouteDecision::LeftOperator => MoDestination::Refused(MoRefusal::LeftOperator),
        })
    }
}

fn new_target(account: &EsmeAccount) -> RouteTarget {
    match account.province {
        Some(province) => RouteTarget::ByProvince(BTreeMap::from([(province, account.system_id.clone())])),
        None => RouteTarget::Account(account.system_id.clone()),
    }
}

/// A second account naming the same prefix: another province, or (without provinces) ignored as before, the
/// first account keeping the route.
fn add_to_target(target: &mut RouteTarget, account: &EsmeAccount, prefix: &str) -> Result<(), RoutesError> {
    match (target, account.province) {
        (RouteTarget::Account(_), None) => Ok(()),
        (RouteTarget::ByProvince(by_province), Some(province)) => {
            if by_province.insert(province, account.system_id.clone()).is_some() {
                return Err(RoutesError::TwoAccountsForProvince { route: prefix.to_owned(), province });
            }
            Ok(())
        }
        _ => Err(RoutesError::MixedRoute { route: prefix.to_owned() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ShortCode {
        ShortCode::parse(text).unwrap()
    }

    fn number(digits: &str) -> Msisdn {
        Msisdn::parse(digits).unwrap()
    }

    fn provincial(system_id: &str, province: &str) -> EsmeAccount {
        EsmeAccount {
            province: Some(ProvinceCode::parse(province).unwrap()),
            ..EsmeAccount::new(system_id, "p", vec![code("10658000")])
        }
    }

    #[test]
    fn the_longest_matching_prefix_wins() {
        let accounts = vec![
            EsmeAccount::new("wide", "p", vec![code("1065")]),
            EsmeAccount::new("narrow", "p", vec![code("10658000")]),
        ];
        let routes = Routes::build(&accounts, None).unwrap();
        let anyone = number("13800138000");
        assert_eq!(routes.route(&code("10658000"), &anyone), Some(MoDestination::Account("narrow")));
        assert_eq!(routes.route(&code("10659999"), &anyone), Some(MoDestination::Account("wide")));
        assert_eq!(routes.route(&code("95588"), &anyone), None);
    }

    #[test]
    fn a_short_code_routed_by_province_goes_to_the_senders_home_province() {
        let accounts =
            vec![provincial("oss-bj", "BJ"), provincial("oss-gd", "GD"), EsmeAccount::new("platform", "p", vec![])];
        let routes = Routes::build(&accounts, Some(RoutingTable::demo())).unwrap();
        let short_code = code("10658000");
        assert_eq!(routes.route(&short_code, &number("13801001000")), Some(MoDestination::Account("oss-bj")));
        assert_eq!(routes.route(&short_code, &number("13802001000")), Some(MoDestination::Account("oss-gd")));
        let unknown = routes.route(&short_code, &number("13300133000"));
        assert_eq!(unknown, Some(MoDestination::Refused(MoRefusal::UnknownSegment)));
    }

    #[test]
    fn a_province_without_its_account_is_refused_by_name() {
        let routes = Routes::build(&[provincial("oss-bj", "BJ")], Some(RoutingTable::demo())).unwrap();
        let guangdong = ProvinceCode::parse("GD").unwrap();
        let refused = routes.route(&code("10658000"), &number("13802001000"));
        assert_eq!(refused, Some(MoDestination::Refused(MoRefusal::ProvinceNotServed(guangdong))));
    }

    #[test]
    fn every_refusal_is_one_sms_that_says_why() {
        let beijing = ProvinceCode::parse("BJ").unwrap();
        for refusal in [MoRefusal::UnknownSegment, MoRefusal::LeftOperator, MoRefusal::ProvinceNotServed(beijing)] {
            let text = refusal.sms_text();
            assert!(text.starts_with("【numbind】") && text.chars().count() <= 70, "{text}");
        }
        assert!(MoRefusal::UnknownSegment.sms_text().contains("号码归属地未知"));
        assert!(MoRefusal::ProvinceNotServed(beijing).sms_text().contains("北京"));
    }

    #[test]
    fn inconsistent_province_routes_are_refused_at_start() {
        let demo = Some(RoutingTable::demo());
        let mixed = [provincial("oss-bj", "BJ"), EsmeAccount::new("oss", "p", vec![code("10658000")])];
        assert!(matches!(Routes::build(&mixed, demo.clone()), Err(RoutesError::MixedRoute { .. })));
        let twice = [provincial("oss-bj", "BJ"), provincial("oss-bj2", "BJ")];
        assert!(matches!(Routes::build(&twice, demo), Err(RoutesError::TwoAccountsForProvince { .. })));
        let no_table = Routes::build(&[provincial("oss-bj", "BJ")], None);
        assert!(matches!(no_table, Err(RoutesError::ProvinceWithoutTable { .. })));
    }
}
