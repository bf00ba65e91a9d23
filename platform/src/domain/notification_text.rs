//! The Chinese notification SMS the platform sends: confirmation, replacement and factory-reset texts.

use numbind_wire::TerminalId;

/// To the newly bound number: names the device and says how to undo.
pub(crate) fn binding_confirmed(device_model: &str, terminal_id: &TerminalId) -> String {
    format!(
        "【numbind】本号码已绑定设备 {device_model}（终端尾号{}），该设备上的付费业务将由本号码支付。如非本人操作，请回复“解绑”取消。",
        terminal_id.tail()
    )
}

/// To the number whose binding another number replaced.
pub(crate) fn binding_replaced(device_model: &str, terminal_id: &TerminalId) -> String {
    format!(
        "【numbind】您的号码与设备 {device_model}（终端尾号{}）的绑定已由其他号码取代，该设备的费用不再由本号码支付。",
        terminal_id.tail()
    )
}

/// To the number whose device was factory-reset.
pub(crate) fn device_reset(device_model: &str, terminal_id: &TerminalId) -> String {
    format!(
        "【numbind】设备 {device_model}（终端尾号{}）已恢复出厂设置，与本号码的绑定已解除，该设备的费用不再由本号码支付。",
        terminal_id.tail()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_name_the_model_and_the_terminal_tail() {
        let terminal_id = TerminalId::parse("STB-00007Q2K").unwrap();
        let confirmed = binding_confirmed("Skyworth E900", &terminal_id);
        assert!(
            confirmed.contains("Skyworth E900") && confirmed.contains("终端尾号7Q2K") && confirmed.contains("解绑")
        );
        assert!(binding_replaced("Skyworth E900", &terminal_id).contains("取代"));
        assert!(device_reset("Skyworth E900", &terminal_id).contains("恢复出厂设置"));
    }
}
