//! The operator's doors against a running system: an unbind through the console or the CLI reaches the OSS at once
//! (so a reconcile right after it agrees), and operator commands print tables with local times, JSON on request,
//! and an error for a terminal nobody knows.

use crate::helpers::{next_event, numbind, System};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The OSS-revocation worker rechecks its outbox every second when nobody wakes it; an unbind that wakes it reaches
/// the OSS in a few tens of milliseconds.
const WELL_UNDER_THE_WORKER_POLL: Duration = Duration::from_millis(500);

/// `numbind operator ...` against the running platform with `token` and `TZ`; returns (success, stdout, stderr).
async fn operator_cli(system: &System, token: &str, time_zone: &str, arguments: &[&str]) -> (bool, String, String) {
    let output = numbind()
        .arg("operator")
        .args(arguments)
        .args(["--platform-url", &system.platform_url])
        .arg("--ca-file")
        .arg(&system.ca_file)
        .env("NUMBIND_OPERATOR_TOKEN", token)
        .env("TZ", time_zone)
        .output()
        .await
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

/// How long after `started` the OSS holds the terminal's binding as revoked; fails after two seconds.
async fn until_the_oss_holds_it_revoked(system: &System, terminal_id: &str, started: Instant) -> Duration {
    loop {
        let bindings = system.oss_bindings_of(terminal_id).await;
        if bindings.iter().any(|binding| binding["state"] == "revoked") {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(2), "the OSS never heard of the unbind: {bindings:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The terminal ID of the box whose state is in `state`.
async fn terminal_of(system: &System, state: &str) -> String {
    let mut identity = system.agent(state, &["show-identity"]);
    next_event(&mut identity, &["identity"]).await["terminal_id"].as_str().unwrap().to_owned()
}

/// Signs in to the console with `token` and unbinds `terminal_id` through its form, as an admin's browser does.
async fn unbind_in_the_console(system: &System, token: &str, terminal_id: &str) {
    let browser = numbind_process::tls::http_client_builder(Some(&system.ca_file))
        .unwrap()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let console = format!("{}/console", system.platform_url);
    let signed_in = browser.post(format!("{console}/sign-in")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(signed_in.status(), 303);
    let set_cookie = signed_in.headers()["set-cookie"].to_str().unwrap();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page_url = format!("{console}/terminals/{terminal_id}");
    let page = browser.get(&page_url).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let csrf = page[page.find(marker).expect("a csrf field") + marker.len()..].split('"').next().unwrap().to_owned();
    let form = [("csrf_token", csrf.as_str()), ("reason", "customer moved")];
    let unbound =
        browser.post(format!("{page_url}/unbind")).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(unbound.status(), 303, "{}", unbound.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unbind_through_the_console_or_the_cli_reaches_the_oss_at_once_and_reconcile_agrees() {
    let system = System::start().await;
    system.bind_a_box("by-console", "13800138000").await;
    let by_cli = system.bind_a_box("by-cli", "13800138001").await;
    let token = system.admin_token().await;
    let (console_terminal, cli_terminal) =
        (terminal_of(&system, "by-console").await, terminal_of(&system, "by-cli").await);

    let started = Instant::now();
    unbind_in_the_console(&system, &token, &console_terminal).await;
    let console_delay = until_the_oss_holds_it_revoked(&system, &console_terminal, started).await;
    assert!(console_delay < WELL_UNDER_THE_WORKER_POLL, "a console unbind reached the OSS after {console_delay:?}");
    let (agreed, summary) = system.reconcile(&token).await;
    assert!(agreed, "reconcile right after a console unbind: {summary}");

    let started = Instant::now();
    let (unbound, said, errors) =
        operator_cli(&system, &token, "UTC", &["unbind", &cli_terminal, "--reason", "fraud report 7"]).await;
    assert!(unbound && said.contains("unbound") && said.contains(by_cli["binding_id"].as_str().unwrap()), "{errors}");
    let cli_delay = until_the_oss_holds_it_revoked(&system, &cli_terminal, started).await;
    assert!(
        cli_delay < WELL_UNDER_THE_WORKER_POLL + Duration::from_millis(500),
        "process start included: {cli_delay:?}"
    );
    let (agreed, summary) = system.reconcile(&token).await;
    assert!(agreed, "reconcile right after a CLI unbind: {summary}");

    let (again, _, errors) =
        operator_cli(&system, &token, "UTC", &["unbind", &cli_terminal, "--reason", "twice"]).await;
    assert!(
        !again && errors.contains("binding_not_found"),
        "a second unbind says there is nothing to unbind: {errors}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_commands_print_local_times_in_tables_json_on_request_and_fail_for_an_unknown_terminal() {
    let system = System::start().await;
    system.bind_a_box("box", "13800138000").await;
    let terminal = &terminal_of(&system, "box").await;
    let auditor = system.operator_token("auditor").await;

    for time_zone in ["Asia/Shanghai", "UTC"] {
        let (listed, table, errors) = operator_cli(&system, &auditor, time_zone, &["bindings"]).await;
        assert!(listed, "{errors}");
        let offset = if time_zone == "UTC" { " +00:00" } else { " +08:00" };
        assert!(table.starts_with("BINDING") && table.contains(offset), "local times in {time_zone}: {table}");
        let (shown, history, errors) = operator_cli(&system, &auditor, time_zone, &["history", terminal]).await;
        assert!(shown && history.contains("Audit events") && history.contains(offset), "{history}{errors}");
    }
    let (listed, json, errors) = operator_cli(&system, &auditor, "UTC", &["bindings", "--json"]).await;
    let json: Value = serde_json::from_str(&json).unwrap_or_else(|_| panic!("--json prints JSON: {json}{errors}"));
    assert!(listed && json["bindings"][0]["created_at"].is_i64(), "machines get unix seconds: {json}");
    let (shown, json, _) = operator_cli(&system, &auditor, "UTC", &["history", terminal, "--json"]).await;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert!(shown && json["audit_events"].as_array().is_some_and(|events| !events.is_empty()), "{json}");
    for arguments in [&["activity"][..], &["audit-events"], &["payments"]] {
        let (ran, table, errors) = operator_cli(&system, &auditor, "UTC", arguments).await;
        assert!(ran && !table.contains("1796") && table.lines().count() >= 1, "{arguments:?}: {table}{errors}");
    }

    let (found, printed, errors) = operator_cli(&system, &auditor, "UTC", &["history", "NB-NOBODY0000000"]).await;
    assert!(!found, "an unknown terminal's history is an error: {printed}");
    assert!(errors.contains("NB-NOBODY0000000") && errors.contains("404"), "{errors}");
}
