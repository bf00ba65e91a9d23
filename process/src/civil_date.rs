//! A calendar day as typed input (`2026-12-07`): parsed from a CLI argument or a query, and the span of Unix
//! seconds it covers at an offset from UTC (the operator's billing day is China Standard Time).

use crate::clock::{civil_from_days, CivilDateTime};
use std::fmt;

/// A day of the proleptic Gregorian calendar, always valid (no 2026-02-30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    year: i64,
    month: u32,
    day: u32,
}

/// Why a text is no day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a day written 2026-12-07")]
pub struct CivilDateError {
    text: String,
}

impl CivilDate {
    /// `YYYY-MM-DD`, a real day (the month's length and leap years checked).
    pub fn parse(text: &str) -> Result<CivilDate, CivilDateError> {
        let refuse = || CivilDateError { text: text.chars().take(32).collect() };
        let parts: Vec<&str> = text.trim().split('-').collect();
        let [year, month, day] = parts.as_slice() else { return Err(refuse()) };
        let digits = |part: &str, length: usize| part.len() == length && part.bytes().all(|byte| byte.is_ascii_digit());
        if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
            return Err(refuse());
        }
        let (year, month, day) = (
            year.parse::<i64>().map_err(|_| refuse())?,
            month.parse::<u32>().map_err(|_| refuse())?,
            day.parse::<u32>().map_err(|_| refuse())?,
        );
        if !(1..=12).contains(&month) || day == 0 {
            return Err(refuse());
        }
        let date = CivilDate { year, month, day };
        // A day past the month's end comes back from the round trip as another date.
        if civil_from_days(date.days_since_epoch()) != (year, month, day) {
            return Err(refuse());
        }
        Ok(date)
    }

    /// The day holding `unix_seconds` at `offset_seconds` east of UTC.
    pub fn of(unix_seconds: i64, offset_seconds: i64) -> CivilDate {
        let at = CivilDateTime::at(unix_seconds, offset_seconds);
        CivilDate { year: at.year, month: at.month, day: at.day }
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(&self) -> i64 {
        let year = self.year - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year.rem_euclid(400);
        let month = i64::from(self.month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The first and one past the last Unix second of this day at `offset_seconds` east of UTC.
    pub fn unix_seconds_span(&self, offset_seconds: i64) -> (i64, i64) {
        let start = self.days_since_epoch() * 86_400 - offset_seconds;
        (start, start + 86_400)
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl std::str::FromStr for CivilDate {
    type Err = CivilDateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        CivilDate::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS;

    #[test]
    fn real_days_parse_and_others_are_refused() {
        assert_eq!(CivilDate::parse("2026-12-07").map(|date| date.to_string()), Ok("2026-12-07".to_owned()));
        assert!(CivilDate::parse("2024-02-29").is_ok());
        for bad in ["2026-02-29", "2026-13-01", "2026-12-32", "2026-12-00", "2026-12-7", "2026/12/07", "", "x"] {
            assert!(CivilDate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_beijing_day_starts_at_sixteen_hundred_utc_the_day_before() {
        let day = CivilDate::parse("2026-12-07").unwrap();
        let (start, end) = day.unix_seconds_span(CHINA_STANDARD_TIME_OFFSET_SECONDS);
        assert_eq!(CivilDateTime::at(start, 0).date_time_text(), "2026-12-06 16:00:00");
        assert_eq!(end - start, 86_400);
        assert_eq!(CivilDate::of(start, CHINA_STANDARD_TIME_OFFSET_SECONDS), day);
        assert_eq!(CivilDate::of(end - 1, CHINA_STANDARD_TIME_OFFSET_SECONDS), day);
        assert_ne!(CivilDate::of(end, CHINA_STANDARD_TIME_OFFSET_SECONDS), day);
        assert_eq!(CivilDate::parse("1970-01-01").unwrap().days_since_epoch(), 0);
    }
}
