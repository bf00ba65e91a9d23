//! The Chinese SMS of payments: the confirmation request, the charge receipt and the refund receipt, with the
//! time in China's local time (UTC+8).

use numbind_process::clock::{CivilDateTime, CHINA_STANDARD_TIME_OFFSET_SECONDS};
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
    let at = CivilDateTime::at(unix_seconds, CHINA_STANDARD_TIME_OFFSET_SECONDS);
    format!("{} {:02}:{:02}", at.date_text(), at.hour, at.minute)
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
