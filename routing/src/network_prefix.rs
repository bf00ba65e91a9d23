//! The network prefixes (网号, the first three digits) of China's public mobile numbers and the operator each is
//! allocated to: the national hub refuses a number of no allocated prefix before it routes it anywhere.
//!
//! Source: MIIT's numbering plan for public mobile networks as allocated by 2024 (China Mobile, China Unicom,
//! China Telecom, China Broadnet, and 170/171 for virtual operators). Left out on purpose: 140-144 (13-digit
//! Internet-of-Things numbers, never 11 digits), and 154, 160, 161, 163, 164, 168, 169, 179 and 194 (not
//! allocated). A number keeps its prefix when it is ported to another operator, so the prefix names the operator
//! that issued the number, not the one that serves it now.

use numbind_wire::Msisdn;

/// The operator a network prefix is allocated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MobileOperator {
    ChinaMobile,
    ChinaUnicom,
    ChinaTelecom,
    ChinaBroadnet,
    /// Mobile virtual network operators (170, 171), on the networks of the three above.
    VirtualNetwork,
}

impl MobileOperator {
    /// `china_mobile`, `china_unicom`, ... as records and metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            MobileOperator::ChinaMobile => "china_mobile",
            MobileOperator::ChinaUnicom => "china_unicom",
            MobileOperator::ChinaTelecom => "china_telecom",
            MobileOperator::ChinaBroadnet => "china_broadnet",
            MobileOperator::VirtualNetwork => "virtual_network",
        }
    }
}

use MobileOperator::{ChinaBroadnet, ChinaMobile, ChinaTelecom, ChinaUnicom, VirtualNetwork};

/// Every allocated three-digit network prefix of 11-digit mobile numbers, in order.
const NETWORK_PREFIXES: &[(&str, MobileOperator)] = &[
    ("130", ChinaUnicom),
    ("131", ChinaUnicom),
    ("132", ChinaUnicom),
    ("133", ChinaTelecom),
    ("134", ChinaMobile),
    ("135", ChinaMobile),
    ("136", ChinaMobile),
    ("137", ChinaMobile),
    ("138", ChinaMobile),
    ("139", ChinaMobile),
    ("145", ChinaUnicom),
    ("146", ChinaUnicom),
    ("147", ChinaMobile),
    ("148", ChinaMobile),
    ("149", ChinaTelecom),
    ("150", ChinaMobile),
    ("151", ChinaMobile),
    ("152", ChinaMobile),
    ("153", ChinaTelecom),
    ("155", ChinaUnicom),
    ("156", ChinaUnicom),
    ("157", ChinaMobile),
    ("158", ChinaMobile),
    ("159", ChinaMobile),
    ("162", ChinaTelecom),
    ("165", ChinaMobile),
    ("166", ChinaUnicom),
    ("167", ChinaUnicom),
    ("170", VirtualNetwork),
    ("171", VirtualNetwork),
    ("172", ChinaMobile),
    ("173", ChinaTelecom),
    ("174", ChinaTelecom),
    ("175", ChinaUnicom),
    ("176", ChinaUnicom),
    ("177", ChinaTelecom),
    ("178", ChinaMobile),
    ("180", ChinaTelecom),
    ("181", ChinaTelecom),
    ("182", ChinaMobile),
    ("183", ChinaMobile),
    ("184", ChinaMobile),
    ("185", ChinaUnicom),
    ("186", ChinaUnicom),
    ("187", ChinaMobile),
    ("188", ChinaMobile),
    ("189", ChinaTelecom),
    ("190", ChinaTelecom),
    ("191", ChinaTelecom),
    ("192", ChinaBroadnet),
    ("193", ChinaTelecom),
    ("195", ChinaMobile),
    ("196", ChinaUnicom),
    ("197", ChinaMobile),
    ("198", ChinaMobile),
    ("199", ChinaTelecom),
];

/// The operator that issued `msisdn`, by its network prefix; `None` for a prefix allocated to no operator.
/// (1349, China Telecom's satellite block inside China Mobile's 134, is counted as China Telecom's.)
pub fn issuing_operator(msisdn: &Msisdn) -> Option<MobileOperator> {
    let digits = msisdn.as_digits();
    if digits.starts_with("1349") {
        return Some(ChinaTelecom);
    }
    let prefix = digits.get(..3)?;
    NETWORK_PREFIXES
        .binary_search_by(|(allocated, _)| allocated.cmp(&prefix))
        .ok()
        .map(|index| NETWORK_PREFIXES[index].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operator_of(number: &str) -> Option<MobileOperator> {
        issuing_operator(&Msisdn::parse(number).unwrap())
    }

    #[test]
    fn the_prefix_table_is_sorted_and_without_duplicates() {
        assert!(NETWORK_PREFIXES.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }

    #[test]
    fn each_operator_s_prefixes_name_it() {
        assert_eq!(operator_of("13800138000"), Some(ChinaMobile));
        assert_eq!(operator_of("13012345678"), Some(ChinaUnicom));
        assert_eq!(operator_of("18912345678"), Some(ChinaTelecom));
        assert_eq!(operator_of("19212345678"), Some(ChinaBroadnet));
        assert_eq!(operator_of("17012345678"), Some(VirtualNetwork));
        assert_eq!(operator_of("13491234567"), Some(ChinaTelecom), "the satellite block");
        assert_eq!(operator_of("13481234567"), Some(ChinaMobile));
    }

    #[test]
    fn unallocated_and_internet_of_things_prefixes_name_no_operator() {
        for number in ["14012345678", "14412345678", "15412345678", "16012345678", "16912345678", "17912345678"] {
            assert_eq!(operator_of(number), None, "{number}");
        }
        assert_eq!(operator_of("19412345678"), None);
    }
}
