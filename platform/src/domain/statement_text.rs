//! The Chinese monthly statement SMS: the month's total, the number of charges and each merchant's total. Longer
//! than one SMS when many merchants charged: the SMS centre delivers it concatenated.

/// What a statement names: the month and, per merchant, its display name, total in fen and count.
pub(crate) struct MonthTotals<'a> {
    pub month: &'a str,
    pub merchants: &'a [(String, i64, u32)],
}

/// `¥50.00`.
fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

pub(crate) fn statement_sms(totals: &MonthTotals<'_>) -> String {
    let total: i64 = totals.merchants.iter().map(|(_, fen, _)| fen).sum();
    let count: u32 = totals.merchants.iter().map(|(_, _, count)| count).sum();
    let parts: Vec<String> =
        totals.merchants.iter().map(|(name, fen, count)| format!("{name} {}（{count}笔）", yuan(*fen))).collect();
    format!(
        "【numbind】{}月度账单：本号码绑定设备共扣费{count}笔，合计{}。{}。查询请回复“账单 {}”。",
        totals.month,
        yuan(total),
        parts.join("；"),
        totals.month.replace('-', "")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_names_the_total_the_count_and_each_merchant() {
        let merchants = [("演示影院".to_owned(), 8_000, 2), ("演示游戏".to_owned(), 1_200, 1)];
        let text = statement_sms(&MonthTotals { month: "2026-12", merchants: &merchants });
        assert!(text.contains("2026-12月度账单") && text.contains("共扣费3笔，合计¥92.00"), "{text}");
        assert!(text.contains("演示影院 ¥80.00（2笔）；演示游戏 ¥12.00（1笔）"), "{text}");
        assert!(text.contains("账单 202612"), "{text}");
    }
}
