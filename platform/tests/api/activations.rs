//! Activations: issuing, showing again, long-polling to the outcome, pacing, expiry and acknowledgement.

use crate::helpers::spawn_app;
use numbind_wire::statement::{BindingState, DenialReason};
use numbind_wire::ActivationCode;
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn an_activation_is_issued_with_its_sms_text_and_qr_payload() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let code = ActivationCode::parse(&activation.code).unwrap();
    assert_eq!(activation.code, code.grouped());
    assert_eq!(activation.sms_text, format!("BIND {}", code.as_str()));
    assert_eq!(activation.qr_payload, format!("SMSTO:10658000:BIND {}", code.as_str()));
    assert_eq!(activation.short_code.as_str(), "10658000");
    assert_eq!(activation.expires_at_unix_seconds, app.now() + 600);
    assert_eq!(activation.poll_interval_seconds, 5);
    assert_eq!(activation.terminal_id, app.terminal.terminal_id);
}

#[tokio::test]
async fn an_activation_offer_is_signed_for_its_terminal_and_request_and_verifies_for_nothing_else() {
    let app = spawn_app().await;
    assert_eq!(app.register(&app.terminal).await.0, 200);
    let (status, body, nonce) = app.terminal_call(Method::POST, &app.terminal_path("/activations"), b"{}").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_object().map(|fields| fields.len()), Some(1), "nothing beside the signed offer: {body}");
    let offer = app.verify_offer(&body, &nonce);
    assert_eq!(offer.in_reply_to, nonce);
    let response: numbind_wire::api::ActivationResponse = serde_json::from_value(body).unwrap();
    let other_request = numbind_wire::activation_offer::OfferExpectation {
        terminal_id: &app.terminal.terminal_id,
        in_reply_to: "another-request-nonce",
        now_unix_seconds: app.now(),
    };
    assert_eq!(
        app.pinned_keys.verify_offer(&response.offer, other_request),
        Err(numbind_wire::statement::StatementError::WrongRequest)
    );
}

#[tokio::test]
async fn a_rebooting_box_is_shown_the_same_code_until_it_is_nearly_expired() {
    let app = spawn_app().await;
    let first = app.registered_with_activation().await;
    let again = app.activation_offer().await;
    assert_eq!((&again.activation_id, &again.code), (&first.activation_id, &first.code));
    assert_ne!(again.in_reply_to, first.in_reply_to, "each offer answers its own request");
    app.clock.advance(Duration::from_secs(541));
    let fresh = app.activation_offer().await;
    assert_ne!(fresh.activation_id, first.activation_id);
}

#[tokio::test]
async fn an_already_bound_terminal_is_refused_a_new_activation() {
    let app = spawn_app().await;
    app.bind_test_terminal("13800138000", "bnd-1").await;
    let (status, body, _) = app.terminal_call(Method::POST, &app.terminal_path("/activations"), b"{}").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("terminal_already_bound")));
}

#[tokio::test]
async fn a_confirmed_binding_wakes_the_waiting_box_with_a_verifiable_bound_statement() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let poll_path = app.terminal_path(&format!("/activations/{}?wait_seconds=20", activation.activation_id));
    let poll = app.sign(Method::GET, &poll_path, b"");
    let started = std::time::Instant::now();
    let waiting = tokio::spawn({
        let (http, address) = (app.http.clone(), app.address.clone());
        let poll = poll.clone();
        async move {
            let mut builder = http.get(format!("{address}{}", poll.path));
            for (name, value) in &poll.headers {
                builder = builder.header(*name, value);
            }
            builder.send().await.unwrap().json::<serde_json::Value>().await.unwrap()
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains("waiting_terminals 1")
    {
        assert!(std::time::Instant::now() < deadline, "the box never started waiting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(app.redeem(&activation.code, "13800138000", "sms-1").await.0, 200);
    assert_eq!(app.confirm_bound(activation.activation_id.as_str(), "13800138000", "bnd-1").await.0, 200);
    let answer = waiting.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(15), "the box was not woken");
    let statement = app.verify_statement(&answer["statement"], Some(activation.activation_id.as_str()), &poll.nonce);
    assert_eq!(statement.state, BindingState::Bound);
    assert_eq!(statement.terminal_id, app.terminal.terminal_id);
    assert_eq!(statement.binding_id.as_deref(), Some("bnd-1"));
    assert_eq!(statement.msisdn_masked.as_deref(), Some("138****8000"));
}

#[tokio::test]
async fn a_denied_binding_is_stated_with_its_reason() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    assert_eq!(app.redeem(&activation.code, "13800138000", "sms-1").await.0, 200);
    let denial = json!({ "activation_id": activation.activation_id, "msisdn": "13800138000", "outcome": "denied", "reason": "subscriber_suspended" });
    assert_eq!(app.oss_post("/v1/oss/confirmations", &denial).await.0, 200);
    let path = app.terminal_path(&format!("/activations/{}?wait_seconds=20", activation.activation_id));
    let (status, body, nonce) = app.terminal_call(Method::GET, &path, b"").await;
    assert_eq!(status, 200, "{body}");
    let statement = app.verify_statement(&body["statement"], Some(activation.activation_id.as_str()), &nonce);
    assert_eq!(
        (statement.state, statement.denial_reason),
        (BindingState::Denied, Some(DenialReason::SubscriberSuspended))
    );
}

#[tokio::test]
async fn polling_sooner_than_the_interval_is_told_to_slow_down() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let path = app.terminal_path(&format!("/activations/{}", activation.activation_id));
    let (status, body, nonce) = app.terminal_call(Method::GET, &path, b"").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.verify_statement(&body["statement"], Some(activation.activation_id.as_str()), &nonce).state,
        BindingState::Pending
    );
    let too_soon = app.sign(Method::GET, &path, b"");
    let response = app.http.get(format!("{}{}", app.address, path));
    let response = too_soon
        .headers
        .iter()
        .fold(response, |builder, (name, value)| builder.header(*name, value))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "5");
    assert_eq!(response.json::<serde_json::Value>().await.unwrap()["code"], "slow_down");
    app.clock.advance(Duration::from_secs(5));
    assert_eq!(app.terminal_call(Method::GET, &path, b"").await.0, 200);
}

#[tokio::test]
async fn a_long_poll_held_for_the_interval_may_be_followed_at_once() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    let held_path = app.terminal_path(&format!("/activations/{}?wait_seconds=1", activation.activation_id));
    let held = app.sign(Method::GET, &held_path, b"");
    let waiting = tokio::spawn({
        let (http, address) = (app.http.clone(), app.address.clone());
        async move {
            let mut builder = http.get(format!("{address}{}", held.path));
            for (name, value) in &held.headers {
                builder = builder.header(*name, value);
            }
            builder.send().await.unwrap().status()
        }
    });
    // While the platform holds the poll, the interval passes on its clock; the poll then times out, pending.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.clock.advance(Duration::from_secs(5));
    assert_eq!(waiting.await.unwrap(), 200);
    // The next poll starts at once and is answered, not told to slow down: the interval counts from the held
    // poll's start, so a confirmation landing right after it timed out reaches the box without another wait.
    let path = app.terminal_path(&format!("/activations/{}", activation.activation_id));
    let (status, body, _) = app.terminal_call(Method::GET, &path, b"").await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = app.terminal_call(Method::GET, &path, b"").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("slow_down")), "an answer at once still paces the next");
}

#[tokio::test]
async fn an_activation_past_its_life_is_stated_expired_and_its_code_refused() {
    let app = spawn_app().await;
    let activation = app.registered_with_activation().await;
    app.clock.advance(Duration::from_secs(600));
    let path = app.terminal_path(&format!("/activations/{}?wait_seconds=20", activation.activation_id));
    let (status, body, nonce) = app.terminal_call(Method::GET, &path, b"").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.verify_statement(&body["statement"], Some(activation.activation_id.as_str()), &nonce).state,
        BindingState::Expired
    );
    let events = app.store.audit_events().unwrap();
    let expired = events.iter().filter(|event| event.kind == "activation_expired").count();
    assert_eq!(expired, 1, "the poll wrote the expiry back, once");
    let (status, body) = app.redeem(&activation.code, "13800138000", "sms-late").await;
    assert_eq!((status, body["code"].as_str()), (410, Some("code_expired")));
}

#[tokio::test]
async fn another_terminals_activation_is_not_found() {
    let app = spawn_app().await;
    app.registered_with_activation().await;
    let path = app.terminal_path("/activations/act-0000000000000000");
    let (status, body, _) = app.terminal_call(Method::GET, &path, b"").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("activation_not_found")));
}

#[tokio::test]
async fn acknowledging_the_binding_is_idempotent_and_checks_the_binding() {
    let app = spawn_app().await;
    let activation = app.bind_test_terminal("13800138000", "bnd-1").await;
    let path = app.terminal_path(&format!("/activations/{}/acknowledgement", activation.activation_id));
    for _ in 0..2 {
        let (status, body, _) = app.terminal_call(Method::POST, &path, br#"{"binding_id":"bnd-1"}"#).await;
        assert_eq!(status, 204, "{body}");
    }
    let (status, body, _) = app.terminal_call(Method::POST, &path, br#"{"binding_id":"bnd-other"}"#).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("binding_not_found")));
    let acknowledgements =
        app.store.audit_events().unwrap().into_iter().filter(|event| event.kind == "binding_acknowledged").count();
    assert_eq!(acknowledgements, 1);
}
