//! The SMPP 3.4 appendix B delivery receipt text.

/// `id:<id> sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000`
pub(crate) fn receipt_text(message_id: &str, submitted_unix_ms: i64, done_unix_ms: i64) -> String {
    format!(
        "id:{message_id} sub:001 dlvrd:001 submit date:{} done date:{} stat:DELIVRD err:000",
        receipt_date(submitted_unix_ms),
        receipt_date(done_unix_ms)
    )
}

/// YYMMDDhhmm in UTC.
fn receipt_date(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{:02}{month:02}{day:02}{:02}{:02}",
        year.rem_euclid(100),
        second_of_day / 3600,
        (second_of_day % 3600) / 60
    )
}

/// `YYYY-MM-DD hh:mm:ss` in UTC, for people.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn format_utc(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        second_of_day / 3600,
        (second_of_day % 3600) / 60,
        second_of_day % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_has_the_standard_layout() {
        // 2024-02-29 13:45:10 UTC
        let at = 1_709_214_310_000;
        assert_eq!(
            receipt_text("abc", at, at + 60_000),
            "id:abc sub:001 dlvrd:001 submit date:2402291345 done date:2402291346 stat:DELIVRD err:000"
        );
        assert_eq!(format_utc(at), "2024-02-29 13:45:10");
    }
}
