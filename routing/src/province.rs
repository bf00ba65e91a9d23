//! `ProvinceCode`: one of the 31 provincial-level divisions of mainland China, by its ISO 3166-2:CN code.
//!
//! The code is the part after `CN-` of ISO 3166-2:CN since 2017 (`BJ` Beijing, `GD` Guangdong, `HA` Henan,
//! `SN` Shaanxi): two letters an operator can type in a flag (`--province BJ`) and read in a CSV, unlike the
//! numeric GB/T 2260 codes (`11`, `44`), and it names the same divisions. Hong Kong, Macao and Taiwan have
//! their own numbering plans and are not provinces of a mainland operator, so they are not accepted.

use std::fmt;

/// The 31 divisions: ISO 3166-2:CN code (without `CN-`) and the Chinese short name used in SMS texts.
const PROVINCES: [(&str, &str); 31] = [
    ("BJ", "北京"),
    ("TJ", "天津"),
    ("HE", "河北"),
    ("SX", "山西"),
    ("NM", "内蒙古"),
    ("LN", "辽宁"),
    ("JL", "吉林"),
    ("HL", "黑龙江"),
    ("SH", "上海"),
    ("JS", "江苏"),
    ("ZJ", "浙江"),
    ("AH", "安徽"),
    ("FJ", "福建"),
    ("JX", "江西"),
    ("SD", "山东"),
    ("HA", "河南"),
    ("HB", "湖北"),
    ("HN", "湖南"),
    ("GD", "广东"),
    ("GX", "广西"),
    ("HI", "海南"),
    ("CQ", "重庆"),
    ("SC", "四川"),
    ("GZ", "贵州"),
    ("YN", "云南"),
    ("XZ", "西藏"),
    ("SN", "陕西"),
    ("GS", "甘肃"),
    ("QH", "青海"),
    ("NX", "宁夏"),
    ("XJ", "新疆"),
];

/// A mainland province (or autonomous region, or municipality) by its ISO 3166-2:CN code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProvinceCode(u8);

/// Why a text is not a province code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProvinceCodeError {
    #[error("{0:?} is not an ISO 3166-2:CN province code of the mainland (BJ, GD, ...)")]
    Unknown(String),
}

impl ProvinceCode {
    /// Parses `BJ`, `bj` or `CN-BJ`; surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<ProvinceCode, ProvinceCodeError> {
        let trimmed = text.trim();
        let upper = trimmed.to_ascii_uppercase();
        let code = upper.strip_prefix("CN-").unwrap_or(&upper);
        PROVINCES
            .iter()
            .position(|(known, _)| *known == code)
            .and_then(|index| u8::try_from(index).ok())
            .map(ProvinceCode)
            .ok_or_else(|| ProvinceCodeError::Unknown(trimmed.chars().take(16).collect()))
    }

    /// Splits a value that may name its province first, `BJ=https://host:port`: the province, if any, and the rest.
    /// A value whose `=` comes after a `:` or `/` (a URL's own query) names none.
    pub fn split_prefixed(text: &str) -> Result<(Option<ProvinceCode>, &str), ProvinceCodeError> {
        match text.split_once('=').filter(|(before, _)| !before.contains(':') && !before.contains('/')) {
            Some((province, rest)) => Ok((Some(ProvinceCode::parse(province)?), rest)),
            None => Ok((None, text)),
        }
    }

    /// The two letters, `BJ`.
    pub fn as_str(self) -> &'static str {
        PROVINCES[usize::from(self.0)].0
    }

    /// The Chinese short name, `北京`.
    pub fn chinese_name(self) -> &'static str {
        PROVINCES[usize::from(self.0)].1
    }

    /// Every province, in the order of the ISO list.
    pub fn all() -> impl Iterator<Item = ProvinceCode> {
        (0..PROVINCES.len()).filter_map(|index| u8::try_from(index).ok()).map(ProvinceCode)
    }
}

impl fmt::Display for ProvinceCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl fmt::Debug for ProvinceCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ProvinceCode({})", self.as_str())
    }
}

impl std::str::FromStr for ProvinceCode {
    type Err = ProvinceCodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ProvinceCode::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_in_any_case_with_or_without_the_country_prefix() {
        let beijing = ProvinceCode::parse("BJ").unwrap();
        assert_eq!(ProvinceCode::parse(" bj ").unwrap(), beijing);
        assert_eq!(ProvinceCode::parse("CN-BJ").unwrap(), beijing);
        assert_eq!(beijing.as_str(), "BJ");
        assert_eq!(beijing.chinese_name(), "北京");
        assert_eq!(ProvinceCode::parse("gd").unwrap().chinese_name(), "广东");
    }

    #[test]
    fn hong_kong_numeric_codes_and_nonsense_are_refused() {
        for text in ["HK", "MO", "TW", "11", "44", "", "B", "BJX", "北京"] {
            assert!(ProvinceCode::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn every_province_round_trips_through_its_code() {
        assert_eq!(ProvinceCode::all().count(), 31);
        for province in ProvinceCode::all() {
            assert_eq!(ProvinceCode::parse(province.as_str()).unwrap(), province);
        }
    }

    #[test]
    fn a_value_may_name_its_province_first_but_a_urls_own_equals_sign_names_none() {
        let (province, rest) = ProvinceCode::split_prefixed("BJ=https://oss-bj:8082").unwrap();
        assert_eq!((province.map(ProvinceCode::as_str), rest), (Some("BJ"), "https://oss-bj:8082"));
        assert_eq!(ProvinceCode::split_prefixed("https://oss:8082/?a=b").unwrap(), (None, "https://oss:8082/?a=b"));
        assert!(ProvinceCode::split_prefixed("XX=https://oss:8082").is_err());
    }
}
