//! The one clock of numbind: the [`Clock`] trait services take by injection, the system's time for code that has
//! no clock to be handed (signing a request, stamping a log record), and calendar dates at an offset from UTC.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock time. Every expiry, window and statement is in whole Unix seconds; ordering stamps use milliseconds.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now_unix_millis(&self) -> i64;

    fn now_unix_seconds(&self) -> i64 {
        self.now_unix_millis().div_euclid(1000)
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_millis(&self) -> i64 {
        now_unix_millis()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock {
    now_unix_millis: AtomicI64,
}

impl ManualClock {
    pub fn starting_at(now_unix_seconds: i64) -> Self {
        ManualClock { now_unix_millis: AtomicI64::new(now_unix_seconds.saturating_mul(1000)) }
    }

    /// Starts at the system's current time.
    pub fn starting_now() -> Self {
        ManualClock { now_unix_millis: AtomicI64::new(now_unix_millis()) }
    }

    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.now_unix_millis.fetch_add(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix_millis(&self) -> i64 {
        self.now_unix_millis.load(Ordering::SeqCst)
    }
}

/// The system's time in whole Unix seconds (0 before 1970).
pub fn now_unix_seconds() -> i64 {
    now_unix_millis().div_euclid(1000)
}

/// The system's time in Unix milliseconds (0 before 1970).
pub fn now_unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A calendar date and time of day at some offset from UTC (the operator's local time, China Standard Time, is
/// `CHINA_STANDARD_TIME_OFFSET_SECONDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CivilDateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// UTC+8, the local time of the operators numbind serves: their days, months, receipts and statements.
pub const CHINA_STANDARD_TIME_OFFSET_SECONDS: i64 = 8 * 3600;

impl CivilDateTime {
    /// The date and time `offset_seconds` east of UTC at `unix_seconds`.
    pub fn at(unix_seconds: i64, offset_seconds: i64) -> Self {
        let local = unix_seconds.saturating_add(offset_seconds);
        let (year, month, day) = civil_from_days(local.div_euclid(86_400));
        let second_of_day = local.rem_euclid(86_400);
        CivilDateTime {
            year,
            month,
            day,
            hour: (second_of_day / 3600) as u32,
            minute: (second_of_day % 3600 / 60) as u32,
            second: (second_of_day % 60) as u32,
        }
    }

    /// `2026-12-07`
    pub fn date_text(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `2026-12`
    pub fn month_text(&self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `2026-12-07 08:00:00`
    pub fn date_time_text(&self) -> String {
        format!("{} {:02}:{:02}:{:02}", self.date_text(), self.hour, self.minute, self.second)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::starting_at(1_000);
        assert_eq!(clock.now_unix_seconds(), 1_000);
        clock.advance(Duration::from_millis(61_500));
        assert_eq!(clock.now_unix_seconds(), 1_061);
        assert_eq!(clock.now_unix_millis(), 1_061_500);
    }

    #[test]
    fn civil_dates_and_times_at_an_offset() {
        let beijing = |unix_seconds| CivilDateTime::at(unix_seconds, CHINA_STANDARD_TIME_OFFSET_SECONDS);
        assert_eq!(beijing(1_796_601_600).date_time_text(), "2026-12-07 08:00:00");
        // 2026-12-31 16:30 UTC is already 2027-01-01 00:30 in Beijing.
        assert_eq!(beijing(1_798_734_600).month_text(), "2027-01");
        assert_eq!(CivilDateTime::at(951_782_400, 0).date_text(), "2000-02-29");
        assert_eq!(CivilDateTime::at(-1, 0).date_time_text(), "1969-12-31 23:59:59");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn the_system_clock_agrees_with_the_free_functions() {
        let before = now_unix_seconds();
        let clock_now = SystemClock.now_unix_seconds();
        assert!(before > 1_600_000_000 && clock_now >= before && clock_now - before <= 1);
    }
}
