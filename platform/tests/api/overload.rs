//! Overload: each route and method has its own concurrency limit, so long-polls that fill theirs shed only
//! further long-polls, never `/healthz`, registration or the other terminal routes.

use crate::helpers::{spawn_app_with, TestApp, TestTerminal};
use numbind_wire::activation_offer::OfferExpectation;
use numbind_wire::api::ActivationResponse;
use reqwest::Method;
use std::time::Duration;

/// Registers `terminal`, asks for an activation and returns the signed path of a 20-second long-poll on it.
async fn long_poll_path(app: &TestApp, terminal: &TestTerminal) -> String {
    assert_eq!(app.register(terminal).await.0, 200);
    let path = format!("/v1/terminals/{}/activations", terminal.terminal_id);
    let request = app.sign_as(terminal, Method::POST, &path, b"{}", app.now());
    let (status, body) = app.send(&request).await;
    assert_eq!(status, 200, "{body}");
    let response: ActivationResponse = serde_json::from_value(body).unwrap();
    let expectation = OfferExpectation {
        terminal_id: &terminal.terminal_id,
        in_reply_to: &request.nonce,
        now_unix_seconds: app.now(),
    };
    let offer = app.pinned_keys.verify_offer(&response.offer, expectation).unwrap();
    format!("{path}/{}?wait_seconds=20", offer.activation_id)
}

/// The status, the JSON body and the `Retry-After` header of a signed request sent as `terminal`.
async fn send_as(app: &TestApp, terminal: &TestTerminal, method: Method, path: &str) -> (u16, String, Option<String>) {
    let request = app.sign_as(terminal, method, path, b"", app.now());
    let mut builder = app.http.request(request.method.clone(), format!("{}{path}", app.address));
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let response = builder.send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|value| value.to_str().unwrap().to_owned());
    (response.status().as_u16(), response.text().await.unwrap(), retry_after)
}

#[tokio::test(flavor = "multi_thread")]
async fn long_polls_that_fill_their_limit_shed_only_long_polls_never_healthz_or_registration() {
    let app = spawn_app_with(|config| config.max_concurrent_requests = 2).await;
    let boxes = [TestTerminal::new(), TestTerminal::new()];
    let mut waiting = Vec::new();
    for terminal in &boxes {
        let path = long_poll_path(&app, terminal).await;
        let request = app.sign_as(terminal, Method::GET, &path, b"", app.now());
        let mut builder = app.http.get(format!("{}{path}", app.address));
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        waiting.push((tokio::spawn(builder.send()), path));
    }
    // Both long-polls hold their route's two permits once the platform counts them as waiting.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
        if metrics.contains("waiting_terminals 2") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the two long-polls never waited: {metrics}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A third long-poll is shed at once, with Retry-After: 1.
    let (status, body, retry_after) = send_as(&app, &boxes[0], Method::GET, &waiting[0].1).await;
    assert_eq!((status, retry_after.as_deref()), (503, Some("1")), "{body}");
    assert!(body.contains("\"overloaded\""), "{body}");
    // Everything else is answered while the long-polls wait: health, registration, another box's activation.
    for _ in 0..3 {
        let health = app.http.get(format!("{}/healthz", app.address)).send().await.unwrap();
        assert_eq!(health.status(), 200);
    }
    let newcomer = TestTerminal::new();
    assert_eq!(app.register(&newcomer).await.0, 200, "registration is not shed by long-polls");
    let activation_path = format!("/v1/terminals/{}/activations", newcomer.terminal_id);
    let request = app.sign_as(&newcomer, Method::POST, &activation_path, b"{}", app.now());
    assert_eq!(app.send(&request).await.0, 200, "issuing an activation is not shed by long-polls");
    assert!(waiting.iter().all(|(poll, _)| !poll.is_finished()), "the long-polls were still waiting throughout");
}
