//! Bindings: confirmation idempotency, notification SMS, rebinding, OSS unbinding and factory reset.

use crate::helpers::{spawn_app, DEVICE_MODEL};
use numbind_wire::statement::BindingState;
use numbind_wire::Msisdn;
use reqwest::Method;
use serde_json::json;

fn msisdn(text: &str) -> Msisdn {
    Msisdn::parse(text).unwrap()
}

#[tokio::test]
async fn a_repeated_confirmation_answers_the_same_and_binds_once() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    assert_eq!(app.redeem(&activation.code, "13800138000", "sms-1").await.0, 200);
    let first = app.confirm_bound(activation.activation_id.as_str(), "13800138000", "bnd-1").await;
    let again = app.confirm_bound(activation.activation_id.as_str(), "13800138000", "bnd-1").await;
    assert_eq!(first.0, 200);
    assert_eq!(first, again);
    assert_eq!(app.store.notifications_to(&msisdn("13800138000")).unwrap().len(), 1);
    let (status, body) = app.confirm_bound(activation.activation_id.as_str(), "13800138000", "bnd-2").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("activation_not_pending")));
}

#[tokio::test]
async fn a_confirmation_for_an_unredeemed_activation_is_refused() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let (status, body) = app.confirm_bound(activation.activation_id.as_str(), "13800138000", "bnd-1").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("activation_not_pending")));
}

#[tokio::test]
async fn the_confirmation_sms_is_queued_in_chinese_naming_the_model_and_the_terminal_tail() {
    let app = spawn_app().await;
    app.bind_test_terminal("13800138000", "bnd-1").await;
    let queued = app.store.notifications_to(&msisdn("13800138000")).unwrap();
    assert_eq!(queued.len(), 1);
    let text = &queued[0].text;
    assert!(text.starts_with("【numbind】本号码已绑定设备"), "{text}");
    assert!(
        text.contains(DEVICE_MODEL) && text.contains(&format!("终端尾号{}", app.terminal.terminal_id.tail())),
        "{text}"
    );
    assert!(!queued[0].sent, "no sms centre is configured, so it stays queued");
}

#[tokio::test]
async fn after_an_oss_unbinding_the_box_can_be_bound_to_another_number() {
    let app = spawn_app().await;
    app.bind_test_terminal("13800138000", "bnd-1").await;
    let (status, _, _) = app.terminal_call(Method::POST, &app.terminal_path("/activations"), b"{}").await;
    assert_eq!(status, 409, "a bound box gets no code until it is unbound");
    let unbind = json!({ "msisdn": "13800138000", "terminal_id": app.terminal.terminal_id, "request_id": "u-1" });
    assert_eq!(app.oss_post("/v1/oss/unbindings", &unbind).await.0, 200);
    let second = app.activation_offer().await;
    let second_id = second.activation_id.as_str();
    let (status, redeemed) = app.redeem(&second.code, "13900139000", "sms-2").await;
    assert_eq!(status, 200, "{redeemed}");
    assert!(redeemed["currently_bound_msisdn"].is_null());
    let (status, body) = app.confirm_bound(second_id, "13900139000", "bnd-2").await;
    assert_eq!(status, 200, "{body}");
    let binding = app.store.active_binding(&app.terminal.terminal_id).unwrap().unwrap();
    assert_eq!((binding.binding_id.as_str(), binding.msisdn.as_digits()), ("bnd-2", "13900139000"));
}

#[tokio::test]
async fn an_oss_unbinding_revokes_the_numbers_bindings_once() {
    let app = spawn_app().await;
    app.bind_test_terminal("13800138000", "bnd-1").await;
    let request = json!({ "msisdn": "13800138000", "terminal_id": null, "request_id": "sms-unbind-1" });
    let first = app.oss_post("/v1/oss/unbindings", &request).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first.1["unbound"][0]["binding_id"], "bnd-1");
    assert_eq!(first.1["unbound"][0]["device_model"], DEVICE_MODEL);
    assert_eq!(app.oss_post("/v1/oss/unbindings", &request).await, first, "the same request again");
    let (_, body, nonce) = app.terminal_call(Method::GET, &app.terminal_path("/binding"), b"").await;
    assert_eq!(app.verify_statement(&body["statement"], None, &nonce).state, BindingState::Unbound);
    let filter = numbind_platform::store::BindingFilter::default();
    let revoked = app.store.search_bindings(&filter, 0, 10).unwrap();
    assert_eq!(revoked[0].revoked_reason.as_deref(), Some("unbound_by_sms"), "the word the OSS and the docs use");
    let named =
        json!({ "msisdn": "13800138000", "terminal_id": app.terminal.terminal_id, "request_id": "sms-unbind-2" });
    let (status, body) = app.oss_post("/v1/oss/unbindings", &named).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("binding_not_found")));
}

#[tokio::test]
async fn a_factory_reset_unbinds_the_box_and_tells_the_old_number() {
    let app = spawn_app().await;
    app.bind_test_terminal("13800138000", "bnd-1").await;
    let (status, body, nonce) = app.terminal_call(Method::POST, &app.terminal_path("/reset"), b"{}").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.verify_statement(&body["statement"], None, &nonce).state, BindingState::Unbound);
    assert!(app.store.active_binding(&app.terminal.terminal_id).unwrap().is_none());
    let texts: Vec<String> =
        app.store.notifications_to(&msisdn("13800138000")).unwrap().into_iter().map(|sms| sms.text).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[1].contains("恢复出厂设置") && texts[1].contains(DEVICE_MODEL), "{texts:?}");
    let (status, _, _) = app.terminal_call(Method::POST, &app.terminal_path("/activations"), b"{}").await;
    assert_eq!(status, 200, "a reset box can be bound again");
}

#[tokio::test]
async fn a_watching_box_is_answered_as_soon_as_its_binding_is_revoked_and_at_once_when_it_differs_already() {
    let app = spawn_app().await;
    app.bind_test_terminal("13800138000", "bnd-1").await;
    let (status, body, nonce) =
        app.terminal_call(Method::GET, &app.terminal_path("/binding?wait_seconds=20"), b"").await;
    assert_eq!(status, 200, "a box that holds no binding is answered at once: {body}");
    assert_eq!(app.verify_statement(&body["statement"], None, &nonce).state, BindingState::Bound);

    let poll_started = std::time::Instant::now();
    let watch_path = app.terminal_path("/binding?wait_seconds=20&binding_id=bnd-1");
    let watch = app.terminal_call(Method::GET, &watch_path, b"");
    let unbind = async {
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let request = json!({ "msisdn": "13800138000", "terminal_id": null, "request_id": "sms-unbind-1" });
        assert_eq!(app.oss_post("/v1/oss/unbindings", &request).await.0, 200);
        std::time::Instant::now()
    };
    let ((status, body, nonce), unbound_at) = tokio::join!(watch, unbind);
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.verify_statement(&body["statement"], None, &nonce).state, BindingState::Unbound);
    assert!(poll_started.elapsed() >= std::time::Duration::from_millis(400), "it waited while unchanged");
    assert!(unbound_at.elapsed() < std::time::Duration::from_secs(1), "answered {:?} late", unbound_at.elapsed());
}
