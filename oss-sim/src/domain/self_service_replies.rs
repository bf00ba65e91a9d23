//! Every SMS text the OSS answers the self-service commands with (`查询`, `账单`, `限额`, `暂停`, `恢复`, `帮助`,
//! `投诉`), in Chinese, prefixed `【numbind】`. A reply longer than one SMS (70 Chinese characters) is sent whole:
//! the OSS submits it in `message_payload` and the SMS centre delivers it as a concatenated SMS.

use crate::domain::self_service::{MonthStatement, RecentCharge};
use crate::domain::sms_replies::{bound_devices, DeviceMention};
use numbind_process::clock::{CivilDateTime, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use numbind_wire::sms_arguments::{BillingMonthError, MonthlyCapError, ReceiptNumberError};

const PREFIX: &str = "【numbind】";
/// The merchants a statement names one by one; the rest are summed as `其他`.
const MAX_MERCHANTS_NAMED: usize = 5;
/// A merchant's name or an item is cut so that a statement stays readable.
const MAX_NAME_CHARS: usize = 16;

fn reply(body: &str) -> String {
    format!("{PREFIX}{body}")
}

/// `¥50.00`, for amounts in fen.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_NAME_CHARS).collect()
}

/// `帮助`/`HELP`, and the answer to any text that is no command.
pub fn help() -> String {
    reply("可发送：绑定 验证码、解绑、查询、账单 202612、限额 100、暂停、恢复、投诉 收据号、帮助。")
}

/// A text that is no command: says so, then the help.
pub fn unknown_command() -> String {
    format!("{PREFIX}无法识别。{}", help().trim_start_matches(PREFIX))
}

/// `查询`: the bound boxes, this month's total and the latest charges.
pub fn query(devices: &[DeviceMention], this_month: &MonthStatement, recent: &[RecentCharge]) -> String {
    let mut text = bound_devices(devices);
    text.push_str(&format!("本月扣费{}（{}笔）", yuan(this_month.total_fen), this_month.count));
    if recent.is_empty() {
        text.push('。');
        return text;
    }
    let lines: Vec<String> = recent
        .iter()
        .map(|charge| {
            let at = CivilDateTime::at(charge.charged_at_unix_ms.div_euclid(1000), CHINA_STANDARD_TIME_OFFSET_SECONDS);
            format!("{:02}-{:02} {} {}", at.month, at.day, cut(&charge.merchant_id), yuan(charge.amount_fen))
        })
        .collect();
    text.push_str(&format!("，最近{}笔：{}。", recent.len(), lines.join("；")));
    text
}

/// `账单 202612`: the month's total, count and per-merchant totals.
pub fn statement(month: &MonthStatement) -> String {
    if month.count == 0 {
        return reply(&format!("{}账单：本月没有扣费。", month.month));
    }
    let mut parts: Vec<String> = month
        .merchants
        .iter()
        .take(MAX_MERCHANTS_NAMED)
        .map(|merchant| format!("{} {}（{}笔）", cut(&merchant.merchant_id), yuan(merchant.total_fen), merchant.count))
        .collect();
    let others: i64 = month.merchants.iter().skip(MAX_MERCHANTS_NAMED).map(|merchant| merchant.total_fen).sum();
    if month.merchants.len() > MAX_MERCHANTS_NAMED {
        parts.push(format!("其他 {}", yuan(others)));
    }
    let refunds = if month.refunded_fen > 0 { format!("，退款{}", yuan(month.refunded_fen)) } else { String::new() };
    reply(&format!(
        "{}账单：共{}笔{}{}。{}。",
        month.month,
        month.count,
        yuan(month.total_fen),
        refunds,
        parts.join("；")
    ))
}

pub fn invalid_month(error: BillingMonthError) -> String {
    match error {
        BillingMonthError::NoSuchMonth { found } => {
            reply(&format!("月份{found:02}不存在，请发送“账单 年月”，如“账单 202612”。"))
        }
        _ => reply("月份格式不正确，请发送“账单 年月”，如“账单 202612”。"),
    }
}

/// `限额` alone: the owner's cap and the operator's.
pub fn limit_report(own_cap_fen: Option<i64>, operator_monthly_fen: i64) -> String {
    match own_cap_fen {
        Some(cap) => reply(&format!(
            "您设置的每月限额为{}（运营商限额{}）。修改请发送“限额 金额”，取消请发送“限额 取消”。",
            yuan(cap),
            yuan(operator_monthly_fen)
        )),
        None => reply(&format!(
            "您未设置每月限额，适用运营商限额{}。设置请发送“限额 金额”，如“限额 100”。",
            yuan(operator_monthly_fen)
        )),
    }
}

pub fn limit_set(cap_fen: i64) -> String {
    reply(&format!("已设置每月限额{}：本月扣费超过该金额的购买将被拒绝。", yuan(cap_fen)))
}

pub fn limit_removed(operator_monthly_fen: i64) -> String {
    reply(&format!("已取消您的每月限额，适用运营商限额{}。", yuan(operator_monthly_fen)))
}

/// The requested cap is above what the operator allows: it may only lower it.
pub fn limit_above_operator(requested_fen: i64, operator_monthly_fen: i64) -> String {
    reply(&format!(
        "限额未修改：{}高于运营商每月限额{}，您只能设置更低的限额。",
        yuan(requested_fen),
        yuan(operator_monthly_fen)
    ))
}

pub fn invalid_limit(error: MonthlyCapError) -> String {
    match error {
        MonthlyCapError::Negative => reply("限额未修改：金额不能为负数，请发送“限额 金额”，如“限额 100”。"),
        MonthlyCapError::Zero => reply("限额未修改：金额不能为0，停止扣费请发送“暂停”。"),
        MonthlyCapError::TooLarge { max } => {
            reply(&format!("限额未修改：金额过大（最多{max}元），请发送“限额 金额”，如“限额 100”。"))
        }
        _ => reply("限额未修改：金额须为整数元，请发送“限额 金额”，如“限额 100”。"),
    }
}

pub fn paused() -> String {
    reply("已暂停本号码所有绑定设备的扣费，绑定保持不变。恢复请发送“恢复”。")
}

pub fn resumed() -> String {
    reply("已恢复本号码绑定设备的扣费。")
}

/// A command that needs a subscriber, from a number that is not the operator's.
pub fn not_a_subscriber() -> String {
    reply("您的号码不是本网用户，无法办理此业务。")
}

pub fn invalid_receipt_number(error: ReceiptNumberError) -> String {
    match error {
        ReceiptNumberError::Missing => reply("投诉请发送“投诉 收据号”，收据号见扣费短信。"),
        _ => reply("收据号格式不正确，请发送“投诉 收据号”，收据号见扣费短信，如 pay-0123…。"),
    }
}

/// The platform opened the dispute (or had opened it before).
pub fn dispute_opened(payment_id: &str) -> String {
    reply(&format!("已受理您对收据号 {payment_id} 的投诉，处理结果将短信通知您。"))
}

/// The charge was disputed before and the dispute was resolved: its result was sent then.
pub fn dispute_already_resolved(payment_id: &str) -> String {
    reply(&format!("收据号 {payment_id} 的投诉已处理完毕，结果已短信通知。"))
}

/// No charge of this number has the receipt number (unknown and another number's alike).
pub fn dispute_receipt_not_found() -> String {
    reply("未找到本号码的该笔扣费，请核对扣费短信中的收据号后重新发送“投诉 收据号”。")
}

/// The platform could not take the dispute for a reason retrying cannot fix.
pub fn dispute_failed() -> String {
    reply("系统暂时无法受理您的投诉，请稍后重试。")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::self_service::MerchantTotal;

    fn month(merchants: &[(&str, i64, u32)]) -> MonthStatement {
        let merchants: Vec<MerchantTotal> = merchants
            .iter()
            .map(|(id, total, count)| MerchantTotal { merchant_id: (*id).into(), total_fen: *total, count: *count })
            .collect();
        MonthStatement {
            month: "2026-12".into(),
            total_fen: merchants.iter().map(|merchant| merchant.total_fen).sum(),
            count: merchants.iter().map(|merchant| merchant.count).sum(),
            refunded_fen: 0,
            merchants,
        }
    }

    fn fits_one_sms(text: &str) {
        assert!(text.starts_with(PREFIX) && text.chars().count() <= 70, "{} chars: {text}", text.chars().count());
    }

    #[test]
    fn amounts_read_as_yuan_with_two_decimals() {
        assert_eq!(yuan(5_000), "¥50.00");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(yuan(-1_050), "-¥10.50");
    }

    #[test]
    fn the_help_names_every_command_and_fits_one_sms() {
        let text = help();
        for command in ["绑定", "解绑", "查询", "账单", "限额", "暂停", "恢复", "投诉", "帮助"] {
            assert!(text.contains(command), "{command}: {text}");
        }
        fits_one_sms(&text);
        let unknown = unknown_command();
        assert!(unknown.contains("无法识别") && unknown.contains("绑定 验证码") && unknown.contains("暂停"));
        fits_one_sms(&unknown);
    }

    #[test]
    fn a_statement_names_its_total_count_and_merchants() {
        let text = statement(&month(&[("demo-cinema", 8_000, 2), ("demo-games", 1_200, 1)]));
        assert!(text.contains("2026-12") && text.contains("共3笔¥92.00"), "{text}");
        assert!(text.contains("demo-cinema ¥80.00（2笔）") && text.contains("demo-games ¥12.00（1笔）"), "{text}");
        // Longer than one SMS: the SMS centre sends it as two concatenated parts of 67 characters.
        assert!(text.chars().count() <= 2 * 67, "{text}");
        assert!(statement(&month(&[])).contains("没有扣费"));
        let many: Vec<(&str, i64, u32)> = ["a", "b", "c", "d", "e", "f", "g"].iter().map(|id| (*id, 100, 1)).collect();
        assert!(statement(&month(&many)).contains("其他 ¥2.00"));
    }

    #[test]
    fn a_query_adds_the_months_total_and_latest_charges() {
        let device = DeviceMention { device_model: "Skyworth E900".into(), terminal_tail: "7Q2K".into() };
        let recent = [RecentCharge {
            merchant_id: "demo-cinema".into(),
            item_description: "film".into(),
            amount_fen: 5_000,
            charged_at_unix_ms: 1_796_601_600_000,
        }];
        let text = query(&[device], &month(&[("demo-cinema", 5_000, 1)]), &recent);
        assert!(text.contains("7Q2K") && text.contains("本月扣费¥50.00（1笔）"), "{text}");
        assert!(text.contains("12-07 demo-cinema ¥50.00"), "{text}");
    }

    #[test]
    fn each_malformed_argument_gets_its_own_reply_in_one_sms() {
        let replies = [
            invalid_month(BillingMonthError::NoSuchMonth { found: 13 }),
            invalid_month(BillingMonthError::NotSixDigits),
            invalid_limit(MonthlyCapError::Negative),
            invalid_limit(MonthlyCapError::Zero),
            invalid_limit(MonthlyCapError::TooLarge { max: 100_000 }),
            invalid_limit(MonthlyCapError::NotAWholeNumber),
            invalid_receipt_number(ReceiptNumberError::Missing),
            invalid_receipt_number(ReceiptNumberError::Malformed),
            limit_above_operator(300_000, 200_000),
            limit_report(None, 200_000),
            limit_report(Some(10_000), 200_000),
            limit_set(10_000),
            limit_removed(200_000),
            paused(),
            resumed(),
            not_a_subscriber(),
            dispute_opened("pay-0123456789abcdef01234567"),
            dispute_already_resolved("pay-0123456789abcdef01234567"),
            dispute_receipt_not_found(),
            dispute_failed(),
        ];
        for text in &replies {
            fits_one_sms(text);
        }
        assert!(replies[0].contains("13"));
        assert!(replies[2].contains("负数"));
        assert!(replies[4].contains("过大"));
        assert!(replies[8].contains("高于运营商"));
    }
}
