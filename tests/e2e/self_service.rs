//! The user's SMS self-service, end to end through the real SMS centre and OSS: every command and its malformed
//! forms answered by SMS, and a paused or capped number's box refused with its own code and words.

use crate::helpers::{next_event, System, FLOW_TIMEOUT};
use std::path::PathBuf;

const PAYER: &str = "13800138000";
const MERCHANT: &str = "e2e-films";

/// Sends `text` from the payer's phone and waits for the reply containing `needle`; returns that reply.
async fn ask(system: &System, text: &str, needle: &str) -> String {
    ask_from(system, PAYER, text, needle).await
}

/// Sends `text` from `phone` and waits for a new SMS to it containing `needle`; returns that SMS.
pub(crate) async fn ask_from(system: &System, phone: &str, text: &str, needle: &str) -> String {
    let before = replies_containing(system, phone, needle).await;
    system.phone_sends(phone, text).await;
    let deadline = tokio::time::Instant::now() + FLOW_TIMEOUT;
    loop {
        let matching = replies_containing(system, phone, needle).await;
        if matching.len() > before.len() {
            return matching.last().cloned().unwrap_or_default();
        }
        let inbox = system.inbox(phone).await;
        assert!(tokio::time::Instant::now() < deadline, "no reply to {text:?} containing {needle:?}: {inbox:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn replies_containing(system: &System, phone: &str, needle: &str) -> Vec<String> {
    system.inbox(phone).await.into_iter().filter(|text| text.contains(needle)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_self_service_command_is_answered_by_sms_and_a_malformed_one_changes_nothing() {
    let system = System::start().await;
    let bound = system.bind_a_box("box", PAYER).await;
    let terminal_id = bound["terminal_id"].as_str().unwrap_or_default().to_owned();
    let help = ask(&system, "帮助", "可发送").await;
    for command in ["查询", "账单", "限额", "暂停", "恢复", "投诉"] {
        assert!(help.contains(command), "{help}");
    }
    let query = ask(&system, "QUERY", "本月扣费").await;
    assert!(query.contains("本月扣费¥0.00（0笔）"), "{query}");
    if terminal_id.len() >= 4 {
        assert!(query.contains(&terminal_id[terminal_id.len() - 4..]), "the terminal's tail: {query}");
    }
    assert!(ask(&system, "账单 202612", "账单").await.contains("2026-12账单：本月没有扣费"));
    assert!(ask(&system, "LIMIT 100", "已设置每月限额").await.contains("¥100.00"));
    let report = ask(&system, "限额", "您设置的每月限额为").await;
    assert!(report.contains("¥100.00") && report.contains("运营商限额¥2000.00"), "{report}");
    let above = ask(&system, "限额 3000", "限额未修改").await;
    assert!(above.contains("高于运营商每月限额¥2000.00"), "{above}");
    assert!(ask(&system, "账单 2026-13", "月份13不存在").await.contains("账单 202612"));
    assert!(ask(&system, "限额 -5", "限额未修改").await.contains("负数"));
    assert!(ask(&system, "限额 99999999999", "限额未修改").await.contains("过大"));
    assert!(ask(&system, "投诉", "投诉请发送").await.contains("收据号"));
    // None of the refused commands changed the cap.
    let report = ask(&system, "LIMIT", "您设置的每月限额为").await;
    assert!(report.contains("¥100.00"), "{report}");
    assert!(ask(&system, "限额 取消", "已取消您的每月限额").await.contains("¥2000.00"));
    assert!(ask(&system, "你好", "无法识别").await.contains("可发送"), "any other text gets the help");
    assert!(ask(&system, "PAUSE", "已暂停").await.contains("绑定保持不变"));
    assert!(ask(&system, "恢复", "已恢复").await.contains("扣费"));
    // The box stayed bound through the pause.
    assert!(ask(&system, "查询", "本月扣费").await.contains("已绑定1台设备"));
}

/// Creates a merchant on the platform's database and returns its credentials file.
pub(crate) async fn merchant(system: &System) -> PathBuf {
    let (path, output) = system.create_merchant(MERCHANT, "演示影院").await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    path
}

/// `numbind agent buy` of five yuan on the box; returns its outcome event.
async fn buy_five_yuan(system: &System, credentials: &std::path::Path) -> serde_json::Value {
    buy_five_yuan_on(system, "box", credentials).await
}

/// `numbind agent buy` of five yuan on the box with state `box_name`; returns its outcome event.
pub(crate) async fn buy_five_yuan_on(
    system: &System,
    box_name: &str,
    credentials: &std::path::Path,
) -> serde_json::Value {
    let credentials = credentials.to_str().expect("utf-8 path");
    let arguments = ["buy", "--merchant-credentials", credentials, "--item", "film-4412", "--description", "film"];
    let mut all: Vec<&str> = arguments.to_vec();
    all.extend(["--amount", "5.00"]);
    let mut agent = system.agent(box_name, &all);
    let outcome = next_event(&mut agent, &["purchase_outcome"]).await;
    agent.wait_exit(FLOW_TIMEOUT).await;
    outcome
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_or_capped_numbers_box_is_refused_with_its_own_code_and_words() {
    let system = System::start().await;
    system.bind_a_box("box", PAYER).await;
    let credentials = merchant(&system).await;
    ask(&system, "暂停", "已暂停").await;
    let paused = buy_five_yuan(&system, &credentials).await;
    assert_eq!(paused["outcome"], "denied", "{paused}");
    assert_eq!(paused["reason"], "charging_paused");
    assert_eq!(paused["words"], "the number's owner paused purchases on this box");
    ask(&system, "恢复", "已恢复").await;
    ask(&system, "限额 1", "已设置每月限额").await;
    let capped = buy_five_yuan(&system, &credentials).await;
    assert_eq!(capped["outcome"], "denied", "{capped}");
    assert_eq!(capped["reason"], "own_monthly_limit");
    assert_eq!(capped["words"], "the monthly limit the number's owner set is reached");
    ask(&system, "限额 取消", "已取消您的每月限额").await;
    let bought = buy_five_yuan(&system, &credentials).await;
    assert_eq!(bought["outcome"], "succeeded", "{bought}");
    let query = ask(&system, "查询", "本月扣费").await;
    assert!(query.contains("本月扣费¥5.00（1笔）") && query.contains("e2e-films ¥5.00"), "{query}");
}
