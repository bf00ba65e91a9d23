//! The Chinese SMS that tells a user how an operator resolved their dispute (`投诉 <receipt number>`).

/// The charge is refunded (the refund's own receipt follows when billing applies it).
pub(crate) fn refunded(payment_id: &str) -> String {
    format!("【numbind】您对收据号 {payment_id} 的投诉已处理：将全额退款，退款完成后另行短信通知。")
}

/// The charge stands, for `reason`.
pub(crate) fn rejected(payment_id: &str, reason: &str) -> String {
    let reason: String = reason.chars().take(60).collect();
    format!("【numbind】您对收据号 {payment_id} 的投诉已处理：维持扣费。原因：{reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_resolution_names_the_receipt_and_says_what_happens() {
        assert!(refunded("pay-1").contains("pay-1") && refunded("pay-1").contains("退款"));
        let text = rejected("pay-1", "the film was watched in full");
        assert!(text.contains("维持扣费") && text.contains("the film was watched in full"));
        assert!(!rejected("pay-1", &"x".repeat(500)).contains(&"x".repeat(61)));
    }
}
