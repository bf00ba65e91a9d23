//! The SMPP 3.4 appendix B delivery receipt text.

use numbind_process::clock::CivilDateTime;

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
    let at = CivilDateTime::at(unix_ms.div_euclid(1000), 0);
    format!("{:02}{:02}{:02}{:02}{:02}", at.year.rem_euclid(100), at.month, at.day, at.hour, at.minute)
}

/// `YYYY-MM-DD hh:mm:ss` in UTC, for people.
#[cfg_attr(not(feature = "cli"), allow(dead_code))]
pub(crate) fn format_utc(unix_ms: i64) -> String {
    CivilDateTime::at(unix_ms.div_euclid(1000), 0).date_time_text()
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
