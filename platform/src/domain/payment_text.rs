//! The Chinese SMS of payments: the confirmation request, the charge receipt and the refund receipt, with the
//! time in China's local time (UTC+8).

use numbind_wire::{Amount, Currency};

/// What a payment SMS names.
pub(crate) struct PaymentSmsFacts<'a> {
    pub merchant_display_name: &'a str,
    pub item_description: &'a str,
    pub amount: Amount,
    pub currency: Currency,
    pub payment_id: &'a str,
}

/// Asks the bound number to confirm: `回复 Y 123456 确认支付 ¥50.00（演示影院，《流浪地球》高清）…`.
pub(crate) fn confirmation_request(facts: &PaymentSmsFacts<'_>, number: &str, ttl_minutes: i64) -> String {
    format!(
        "【numbind】回复 Y {number} 确认支付 {}（{}，{}），回复 N {number} 取消，{ttl_minutes}分钟内有效。",
        facts.currency.format(facts.amount),
        facts.merchant_display_name,
        facts.item_description
    )
}

/// The receipt of a completed charge.
pub(crate) fn charge_receipt(facts: &PaymentSmsFacts<'_>, charged_at: i64) -> String {
    format!(
        "【numbind】您已支付 {}：{}，{}，时间 {}，收据号 {}。如有疑问回复 投诉 {}",
        facts.currency.format(facts.amount),
        facts.merchant_display_name,
        facts.item_description,
        beijing_time(charged_at),
        facts.payment_id,
        facts.payment_id
    )
}

/// The receipt of a completed refund (`facts.amount` is the refunded amount).
pub(crate) fn refund_receipt(facts: &PaymentSmsFacts<'_>, refund_id: &str, refunded_at: i64) -> String {
    format!(
        "【numbind】{}已退款 {}（{}），时间 {}，退款号 {}，原收据号 {}。如有疑问回复 投诉 {}",
        facts.merchant_display_name,
        facts.currency.format(facts.amount),
        facts.item_description,
        beijing_time(refunded_at),
        refund_id,
        facts.payment_id,
        facts.payment_id
    )
}

/// `2026-12-07 13:15` in UTC+8.
pub(crate) fn beijing_time(unix_seconds: i64) -> String {
    let local = unix_seconds.saturating_add(8 * 3600);
    let (days, seconds_of_day) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", seconds_of_day / 3600, seconds_of_day % 3600 / 60)
}

/// Howard Hinnant's days-to-civil: the proleptic Gregorian date of a day count since 1970-01-01.
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

    fn facts() -> PaymentSmsFacts<'static> {
        PaymentSmsFacts {
            merchant_display_name: "演示影院",
            item_description: "《流浪地球》高清",
            amount: Amount::from_minor_units(5000).unwrap(),
            currency: Currency::Cny,
            payment_id: "pay-0123456789abcdef01234567",
        }
    }

    #[test]
    fn the_confirmation_request_reads_as_specified() {
        assert_eq!(
            confirmation_request(&facts(), "123456", 5),
            "【numbind】回复 Y 123456 确认支付 ¥50.00（演示影院，《流浪地球》高清），回复 N 123456 取消，5分钟内有效。"
        );
    }

    #[test]
    fn receipts_name_merchant_item_amount_local_time_and_how_to_dispute() {
        // 2026-12-07 05:15:00 UTC is 13:15 in Beijing.
        let receipt = charge_receipt(&facts(), 1_796_620_500);
        for part in [
            "演示影院",
            "《流浪地球》高清",
            "¥50.00",
            "2026-12-07 13:15",
            "如有疑问回复 投诉 pay-0123456789abcdef01234567",
        ] {
            assert!(receipt.contains(part), "{receipt} lacks {part}");
        }
        assert!(refund_receipt(&facts(), "ref-1", 1_796_620_500).contains("已退款 ¥50.00"));
        assert_eq!(beijing_time(0), "1970-01-01 08:00");
    }
}
