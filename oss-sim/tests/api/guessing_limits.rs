//! The platform's guessing limits seen from the OSS: a locked number is told once per SMS and its SMS are not
//! retried; a global-guard refusal keeps the SMS pending until the platform takes it.

use crate::helpers::{spawn_app_with, AppOptions, TestApp, DEADLINE};
use crate::terminal::TestTerminal;
use numbind_process::clock::ManualClock;
use std::sync::Arc;
use std::time::Duration;

const PAYER: &str = "13800138000";
const GUESSER: &str = "13700137000";
const WRONG_BIND: &str = "BIND BCDF-GHJK";
const LOCKED_PHRASE: &str = "次数过多";

async fn whole_system(adjust_platform: impl FnOnce(&mut numbind_platform::Config) + Send + 'static) -> TestApp {
    spawn_app_with(AppOptions {
        seed_demo: true,
        sms_centre: Some(false),
        platform: true,
        adjust_platform: Some(Box::new(adjust_platform)),
        ..AppOptions::default()
    })
    .await
}

/// Texts the short code and waits until the OSS has finished with the SMS; returns its view.
async fn send_and_settle(app: &TestApp, from: &str, text: &str) -> serde_json::Value {
    let message_id = app.phone_sends(from, text).await;
    app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_number_gets_the_locked_reply_once_per_sms_and_nothing_is_retried() {
    let app = whole_system(|_| {}).await;
    let terminal = TestTerminal::register(app.platform_url.as_deref().unwrap(), "Skyworth E900").await;
    let activation = terminal.activation(&app.platform_keys).await;
    for _ in 0..5 {
        assert_eq!(send_and_settle(&app, PAYER, WRONG_BIND).await["outcome"], "code_unknown");
    }
    let sixth = send_and_settle(&app, PAYER, WRONG_BIND).await;
    assert_eq!(sixth["outcome"], "number_locked", "{sixth}");
    assert_eq!(sixth["replies"].as_array().unwrap().len(), 1, "{sixth}");
    let right_code = send_and_settle(&app, PAYER, &activation.sms_text).await;
    assert_eq!(right_code["outcome"], "number_locked", "even the right code is refused: {right_code}");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let inbox = app.phone_inbox(PAYER).await;
        let locked_replies = inbox.iter().filter(|text| text.contains(LOCKED_PHRASE)).count();
        assert!(locked_replies <= 2, "one locked reply per sms: {inbox:?}");
        if locked_replies == 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the locked replies never arrived: {inbox:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = app.metrics().await;
    assert!(metrics.contains(r#"platform_calls_total{endpoint="redemptions",result="refused"} 7"#), "{metrics}");
    assert!(!metrics.contains(r#"endpoint="redemptions",result="unavailable""#), "nothing was retried: {metrics}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redemption_held_by_the_global_guard_stays_pending_and_is_retried_after_retry_after() {
    let clock = Arc::new(ManualClock::starting_now());
    let platform_clock = clock.clone();
    let app = whole_system(move |config| {
        config.clock = platform_clock;
        config.max_failed_redemptions_global_per_minute = 1;
    })
    .await;
    let terminal = TestTerminal::register(app.platform_url.as_deref().unwrap(), "Skyworth E900").await;
    let activation = terminal.activation(&app.platform_keys).await;
    assert_eq!(send_and_settle(&app, GUESSER, WRONG_BIND).await["outcome"], "code_unknown");
    clock.advance(Duration::from_secs(59));
    let message_id = app.phone_sends(PAYER, &activation.sms_text).await;
    let held = app
        .wait_for_inbox(&message_id, |view| {
            view["state"] == "pending" && view["last_error"].as_str().is_some_and(|error| error.contains("RateLimited"))
        })
        .await;
    assert_eq!(held["replies"], serde_json::json!([]), "the user is not blamed for the guard: {held}");
    clock.advance(Duration::from_secs(1));
    let view = app.wait_for_inbox(&message_id, |view| view["state"] == "processed").await;
    assert_eq!(view["outcome"], "bound", "{view}");
    app.stop().await;
}
