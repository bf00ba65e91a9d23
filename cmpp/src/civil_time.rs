//! The calendar fields CMPP carries (CONNECT's MMDDHHMMSS timestamp, the fields of a Msg_Id), computed from a
//! Unix time without a time-zone database: the caller passes the offset its gateway expects (China uses +8 h).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A wall-clock time split into the fields CMPP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilTime {
    pub year: i64,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// China Standard Time, the offset CMPP gateways read timestamps in.
pub const CHINA_STANDARD_TIME_OFFSET_SECONDS: i64 = 8 * 3600;

impl CivilTime {
    /// The time `unix_seconds` after 1970-01-01T00:00:00Z, shifted by `offset_seconds` (east positive).
    pub fn from_unix(unix_seconds: i64, offset_seconds: i64) -> CivilTime {
        let local = unix_seconds.saturating_add(offset_seconds);
        let days = local.div_euclid(86_400);
        let second_of_day = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        CivilTime {
            year,
            month,
            day,
            hour: (second_of_day / 3600) as u8,
            minute: (second_of_day / 60 % 60) as u8,
            second: (second_of_day % 60) as u8,
        }
    }

    /// The time `now` in China Standard Time.
    pub fn china(now: SystemTime) -> CivilTime {
        let unix = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
        CivilTime::from_unix(i64::try_from(unix).unwrap_or(i64::MAX), CHINA_STANDARD_TIME_OFFSET_SECONDS)
    }

    /// MMDDHHMMSS as an integer: the Timestamp field of CONNECT.
    pub fn connect_timestamp(&self) -> u32 {
        u32::from(self.month) * 100_000_000
            + u32::from(self.day) * 1_000_000
            + u32::from(self.hour) * 10_000
            + u32::from(self.minute) * 100
            + u32::from(self.second)
    }

    /// YYMMDDHHMM: the Submit_time and Done_time of a status report.
    pub fn report_time(&self) -> String {
        format!("{:02}{:02}{:02}{:02}{:02}", self.year.rem_euclid(100), self.month, self.day, self.hour, self.minute)
    }
}

/// The Unix second at which the day `year-month-day` starts, `offset_seconds` east of UTC (the span a CMPP
/// QUERY's YYYYMMDD names is this and the next 86,400 seconds); `None` for a date that does not exist.
pub fn day_start_unix(year: i64, month: u8, day: u8, offset_seconds: i64) -> Option<i64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(0..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    (civil_from_days(days) == (year, month, day)).then(|| days * 86_400 - offset_seconds)
}

/// Howard Hinnant's `days_from_civil`: the days from 1970-01-01 to (year, month, day).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let year = year - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Howard Hinnant's `civil_from_days`: (year, month, day) of the day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u8;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u8;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_split_into_their_calendar_fields() {
        assert_eq!(
            CivilTime::from_unix(0, 0),
            CivilTime { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 }
        );
        // 2024-02-29T23:59:59Z is 2024-03-01 07:59:59 in China.
        let leap = CivilTime::from_unix(1_709_251_199, CHINA_STANDARD_TIME_OFFSET_SECONDS);
        assert_eq!((leap.year, leap.month, leap.day, leap.hour, leap.minute, leap.second), (2024, 3, 1, 7, 59, 59));
        assert_eq!(leap.connect_timestamp(), 301_075_959);
        assert_eq!(leap.report_time(), "2403010759");
        assert_eq!(CivilTime::from_unix(1_709_251_199, 0).day, 29);
    }

    #[test]
    fn a_day_starts_at_midnight_of_its_offset_and_dates_that_do_not_exist_have_no_start() {
        assert_eq!(day_start_unix(1970, 1, 1, 0), Some(0));
        // 2024-03-01 00:00 in China is 2024-02-29T16:00:00Z.
        assert_eq!(day_start_unix(2024, 3, 1, CHINA_STANDARD_TIME_OFFSET_SECONDS), Some(1_709_222_400));
        assert_eq!(day_start_unix(2024, 2, 29, 0), Some(1_709_164_800));
        assert_eq!(day_start_unix(2023, 2, 29, 0), None);
        assert_eq!(day_start_unix(2024, 13, 1, 0), None);
        assert_eq!(day_start_unix(2024, 4, 31, 0), None);
        for days in [-1000_i64, 0, 19_000, 20_000, 50_000] {
            let civil = CivilTime::from_unix(days * 86_400, 0);
            assert_eq!(day_start_unix(civil.year, civil.month, civil.day, 0), Some(days * 86_400));
        }
    }
}
