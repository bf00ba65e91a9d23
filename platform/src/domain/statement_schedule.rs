//! When monthly statements are due on a schedule: the operator's day of the month (1 to 28, so that every month
//! has it) from whose start (UTC+8) the previous month's statements are sent, and which months are due given the
//! last month the schedule finished.

use numbind_process::clock::{CivilDateTime, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use numbind_wire::BillingMonth;
use std::fmt;
use std::str::FromStr;

/// The day of the month (1 to 28) the previous month's statements are sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementDay(u8);

/// Why a text is not a statement day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementDayError {
    #[error("the statement day is a whole number of the month, 1 to 28 (every month has it); found {found:?}")]
    NotADayOfEveryMonth { found: String },
}

impl FromStr for StatementDay {
    type Err = StatementDayError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<u8>() {
            Ok(day) if (1..=28).contains(&day) => Ok(StatementDay(day)),
            _ => Err(StatementDayError::NotADayOfEveryMonth { found: text.to_owned() }),
        }
    }
}

impl fmt::Display for StatementDay {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

fn month_of(year: i64, month: u32) -> Option<BillingMonth> {
    BillingMonth::parse(&format!("{year:04}{month:02}")).ok()
}

/// The month before `month`.
pub(crate) fn previous_month(month: BillingMonth) -> Option<BillingMonth> {
    match month.month() {
        1 => month_of(i64::from(month.year()) - 1, 12),
        other => month_of(i64::from(month.year()), u32::from(other) - 1),
    }
}

/// The month after `month`.
pub(crate) fn next_month(month: BillingMonth) -> Option<BillingMonth> {
    match month.month() {
        12 => month_of(i64::from(month.year()) + 1, 1),
        other => month_of(i64::from(month.year()), u32::from(other) + 1),
    }
}

/// The months whose statements are due at `now` and not yet sent by the schedule, oldest first: every month after
/// `last_finished` up to the latest due one (the previous month once `day` has begun, else the one before it).
/// With nothing finished yet, only the previous month, and only once `day` has begun: turning the schedule on
/// does not send statements of the past.
pub(crate) fn months_due(
    now_unix_seconds: i64,
    day: StatementDay,
    last_finished: Option<BillingMonth>,
) -> Vec<BillingMonth> {
    let local = CivilDateTime::at(now_unix_seconds, CHINA_STANDARD_TIME_OFFSET_SECONDS);
    let Some(current) = month_of(local.year, local.month) else { return Vec::new() };
    let day_begun = local.day >= u32::from(day.0);
    let Some(previous) = previous_month(current) else { return Vec::new() };
    let latest_due = if day_begun { Some(previous) } else { previous_month(previous) };
    let Some(latest_due) = latest_due else { return Vec::new() };
    let mut next = match last_finished {
        Some(last) => next_month(last),
        None if day_begun => Some(previous),
        None => None,
    };
    let mut due = Vec::new();
    while let Some(month) = next.filter(|month| *month <= latest_due) {
        due.push(month);
        next = next_month(month);
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of `date` at `hour`:00 China Standard Time.
    fn at(date: &str, hour: i64) -> i64 {
        let date = numbind_process::civil_date::CivilDate::parse(date).unwrap();
        date.unix_seconds_span(CHINA_STANDARD_TIME_OFFSET_SECONDS).0 + hour * 3600
    }

    fn month(text: &str) -> BillingMonth {
        BillingMonth::parse(text).unwrap()
    }

    #[test]
    fn a_statement_day_is_one_to_twenty_eight() {
        assert_eq!("5".parse::<StatementDay>().unwrap(), StatementDay(5));
        assert_eq!(" 28 ".parse::<StatementDay>().unwrap(), StatementDay(28));
        for bad in ["0", "29", "31", "-1", "x", "", "5.5"] {
            assert!(bad.parse::<StatementDay>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_previous_month_is_due_once_the_day_begins_in_china_standard_time() {
        let day: StatementDay = "3".parse().unwrap();
        assert!(months_due(at("2027-01-02", 23), day, None).is_empty(), "the day has not begun");
        // 2027-01-03 00:00 UTC+8 is 2027-01-02 16:00 UTC.
        assert_eq!(months_due(at("2027-01-03", 0), day, None), vec![month("2026-12")]);
        assert!(months_due(at("2027-01-20", 0), day, Some(month("2026-12"))).is_empty(), "sent once");
        assert!(months_due(at("2027-02-02", 0), day, Some(month("2026-12"))).is_empty(), "January waits for Feb 3");
        assert_eq!(months_due(at("2027-02-03", 0), day, Some(month("2026-12"))), vec![month("2027-01")]);
    }

    #[test]
    fn months_missed_while_the_platform_was_down_are_all_sent() {
        let day: StatementDay = "3".parse().unwrap();
        let due = months_due(at("2027-04-02", 12), day, Some(month("2026-12")));
        assert_eq!(due, vec![month("2027-01"), month("2027-02")], "March is not due before April 3");
        assert_eq!(previous_month(month("2027-01")), Some(month("2026-12")));
        assert_eq!(next_month(month("2026-12")), Some(month("2027-01")));
    }
}
