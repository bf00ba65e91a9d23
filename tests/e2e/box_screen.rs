//! The box's screen as its user sees it: the agent's stdout in English, no log line on it, a platform that is down
//! named with its address, a watch that learns of an unbind at once, and a box that shows bound within seconds of
//! the confirmation after its long-poll was cut by platform restarts.

use crate::helpers::{next_event, numbind, Component, Process, System, FLOW_TIMEOUT};
use std::time::Duration;
use tokio::time::Instant;

/// A box's agent printing its screen (English, plain QR code), with no `RUST_LOG`: what a television shows.
fn screen_agent(system: &System, state_name: &str, arguments: &[&str]) -> Process {
    let mut command = numbind();
    command
        .env_remove("RUST_LOG")
        .arg("agent")
        .arg("--state-dir")
        .arg(system.path(state_name))
        .arg("--platform-url")
        .arg(&system.platform_url)
        .arg("--platform-key-file")
        .arg(&system.platform_key_file)
        .arg("--platform-ca-file")
        .arg(&system.ca_file)
        .args(["--lang", "en"])
        .args(arguments);
    Process::spawn(
        &format!("screen-{state_name}-{}", arguments.first().unwrap_or(&"")),
        command,
        system.directory.path(),
    )
}

/// Reads screen lines into `seen` until one contains `needle`; returns that line.
async fn read_screen_until(agent: &mut Process, seen: &mut Vec<String>, needle: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let Some(line) = agent.next_line_before(deadline).await else {
            panic!("the screen never showed {needle:?}; it showed:\n{}\nstderr:\n{}", seen.join("\n"), agent.stderr());
        };
        seen.push(line.clone());
        if line.contains(needle) {
            return line;
        }
    }
}

/// Whether a line looks like a log line: a level word as tracing prints it, or an RFC 3339 timestamp first.
fn looks_like_a_log_line(line: &str) -> bool {
    let levels = [" TRACE ", " DEBUG ", " INFO ", " WARN ", " ERROR "];
    let starts_with_a_timestamp =
        line.len() > 20 && line.as_bytes()[..4].iter().all(u8::is_ascii_digit) && line.as_bytes()[4] == b'-';
    levels.iter().any(|level| line.contains(level)) || starts_with_a_timestamp || line.contains("\"level\":")
}

/// The SMS text the screen asks for: `... send the SMS "BIND XXXXXXXX" to 10658000`.
fn sms_text_of(line: &str) -> String {
    line.split('"').nth(1).unwrap_or_else(|| panic!("no quoted SMS in {line:?}")).to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_screen_shows_no_log_line_names_the_platform_that_is_down_and_ends_bound() {
    let mut system = System::start().await;
    system.kill(Component::Platform).await;
    let mut agent = screen_agent(&system, "box", &["run", "--plain-qr"]);
    let mut seen = Vec::new();
    let failure = read_screen_until(&mut agent, &mut seen, "Cannot reach the service platform", FLOW_TIMEOUT).await;
    assert!(failure.contains(&system.platform_url) && failure.contains("connection refused"), "{failure}");
    assert!(failure.contains("Check the box's network and the platform address"), "{failure}");
    system.restart(Component::Platform).await;

    let instruction = read_screen_until(&mut agent, &mut seen, "send the SMS", FLOW_TIMEOUT).await;
    read_screen_until(&mut agent, &mut seen, "The code expires in", FLOW_TIMEOUT).await;
    system.phone_sends("13800138000", &sms_text_of(&instruction)).await;
    let bound = read_screen_until(&mut agent, &mut seen, "Billing bound to number", FLOW_TIMEOUT).await;
    assert!(bound.contains("138****8000"), "{bound}");
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0));

    let log_lines: Vec<&String> = seen.iter().filter(|line| looks_like_a_log_line(line)).collect();
    assert!(log_lines.is_empty(), "log lines on the screen: {log_lines:?}\nscreen:\n{}", seen.join("\n"));
    assert!(seen.iter().any(|line| line.contains("Activation code: ")), "{}", seen.join("\n"));
    assert!(!seen.iter().any(|line| line.contains("13800138000")), "the full number is never on the screen");
    assert_eq!(agent.stderr(), "", "nothing but the screen on the terminal by default");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watching_box_learns_of_an_operator_unbind_within_two_seconds() {
    let system = System::start().await;
    let bound = system.bind_a_box("box", "13800138000").await;
    let mut identity = system.agent("box", &["show-identity"]);
    let terminal_id = next_event(&mut identity, &["identity"]).await["terminal_id"].as_str().unwrap().to_owned();
    let mut watch = screen_agent(&system, "box", &["watch"]);
    let mut seen = Vec::new();
    let started = read_screen_until(&mut watch, &mut seen, "Watching this box's binding", FLOW_TIMEOUT).await;
    assert!(started.contains(bound["msisdn_masked"].as_str().unwrap()), "{started}");
    wait_until_a_box_waits_in_a_long_poll(&system).await;

    let token = system.admin_token().await;
    let unbound_at = Instant::now();
    let response = system
        .http
        .post(format!("{}/v1/operator/terminals/{terminal_id}/unbind", system.platform_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "reason": "customer asked by phone" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let change = read_screen_until(&mut watch, &mut seen, "unbound", Duration::from_secs(10)).await;
    let took = unbound_at.elapsed();
    assert_eq!(change, "This box was unbound since it last checked; billed services are off");
    assert!(took < Duration::from_secs(2), "the watching box learned of the unbind after {took:?}");
    assert_eq!(watch.stderr(), "", "nothing but the screen on the terminal by default");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_whose_long_poll_was_cut_by_platform_restarts_shows_bound_within_seconds_of_the_confirmation() {
    let mut system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    for _ in 0..5 {
        // The box is held in its long-poll; the platform goes down under it and comes back.
        wait_until_a_box_waits_in_a_long_poll(&system).await;
        system.kill(Component::Platform).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        system.restart(Component::Platform).await;
    }
    // The user texts the code as soon as the platform is back, while the box may still be reconnecting.
    system.phone_sends("13800138000", activation["sms_text"].as_str().unwrap()).await;
    system.wait_for_sms("13800138000", "已绑定").await;
    let confirmed_at = Instant::now();
    let bound = next_event(&mut agent, &["bound"]).await;
    let took = confirmed_at.elapsed();
    assert_eq!(bound["msisdn_masked"], "138****8000");
    assert!(took < Duration::from_secs(5), "the box showed bound {took:?} after the confirmation SMS");
}

/// Waits until the platform's `waiting_terminals` gauge says a box is held in a long-poll.
async fn wait_until_a_box_waits_in_a_long_poll(system: &System) {
    let deadline = Instant::now() + FLOW_TIMEOUT;
    loop {
        let metrics = system.http.get(format!("{}/metrics", system.platform_url)).send().await;
        let text = match metrics {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.lines().any(|line| line == "waiting_terminals 1") {
            return;
        }
        assert!(Instant::now() < deadline, "no box came back into a long-poll:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_refused_for_arrears_answers_the_arrears_again_when_its_number_resends_it() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let sms_text = activation["sms_text"].as_str().unwrap();
    system.phone_sends("13900139000", sms_text).await;
    assert_eq!(next_event(&mut agent, &["denied"]).await["reason"], "subscriber_suspended");
    system.phone_sends("13900139000", sms_text).await;
    let deadline = Instant::now() + FLOW_TIMEOUT;
    loop {
        let inbox = system.inbox("13900139000").await;
        let arrears = inbox.iter().filter(|text| text.contains("欠费停机")).count();
        assert!(!inbox.iter().any(|text| text.contains("已被使用")), "the resent code was answered as used: {inbox:?}");
        if arrears == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the resent code was not answered with the arrears again: {inbox:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Another number resending it gets the code's own answer.
    system.phone_sends("13800138000", sms_text).await;
    system.wait_for_sms("13800138000", "已被使用").await;
}
