//! Operator commands against a running system: reconciliation finds injected differences, and the audit
//! verifier catches an edit made directly in the platform's SQLite file.

use crate::helpers::{numbind, System};

#[tokio::test(flavor = "multi_thread")]
async fn reconciliation_agrees_after_real_bindings_and_lists_each_injected_difference() {
    let system = System::start().await;
    let first = system.bind_a_box("first", "13800138000").await;
    system.bind_a_box("second", "13800138001").await;
    let token = system.admin_token().await;
    let (agreed, summary) = system.reconcile(&token).await;
    assert!(agreed, "{summary}");
    assert_eq!(summary["platform_active"], 2);

    // Inject differences into the OSS's ledger, as a faulty billing job would.
    let oss = rusqlite::Connection::open(system.path("oss.db")).unwrap();
    oss.execute("UPDATE bindings SET msisdn = '13900139000' WHERE binding_id = ?1", [first["binding_id"].as_str()])
        .unwrap();
    oss.execute("UPDATE bindings SET state = 'revoked' WHERE msisdn = '13800138001'", []).unwrap();
    oss.execute(
        "INSERT INTO bindings (binding_id, msisdn, terminal_id, device_model, activation_id, state, created_at_ms) \
         VALUES ('bnd-ghost', '13700137000', 'NB-GHOST0000000000', 'ghost', 'act-ghost', 'active', 0)",
        [],
    )
    .unwrap();
    drop(oss);

    let (agreed, summary) = system.reconcile(&token).await;
    assert!(!agreed, "reconcile must exit non-zero on differences");
    let kinds: Vec<&str> = summary["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|difference| difference["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{summary}");
    for kind in ["different_number", "missing_in_oss", "missing_on_platform"] {
        assert!(kinds.contains(&kind), "{kind} not reported: {summary}");
    }
    for difference in summary["differences"].as_array().unwrap() {
        let masked = difference["msisdn_masked"].as_str().unwrap_or("");
        assert!(masked.contains("****"), "each difference names the masked number: {difference}");
        assert!(difference["bound_at"].as_str().is_some(), "and when the binding was made: {difference}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_verifier_passes_a_real_history_and_names_an_event_edited_in_the_file() {
    let system = System::start().await;
    system.bind_a_box("box", "13800138000").await;
    let verify = || {
        let mut command = numbind();
        command.args(["audit", "verify", "--data-dir"]).arg(system.directory.path());
        command
    };
    let intact = verify().output().await.unwrap();
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("head hash"), "the head hash is printed for anchoring");

    // An attacker with the file: drop the append-only trigger and rewrite who did what.
    let platform = rusqlite::Connection::open(system.path("platform.db")).unwrap();
    platform.execute_batch("DROP TRIGGER audit_events_are_append_only_update").unwrap();
    platform.execute("UPDATE audit_events SET actor = 'nobody' WHERE sequence = 2", []).unwrap();
    drop(platform);

    let tampered = verify().output().await.unwrap();
    assert!(!tampered.status.success(), "a tampered trail fails verification");
    let report = String::from_utf8_lossy(&tampered.stdout);
    assert!(report.contains("edited") && report.contains('2'), "the report names the edited event: {report}");
}

/// `numbind operator ...` against the running platform with `token`; returns (success, stdout).
async fn operator_cli(system: &System, token: &str, arguments: &[&str]) -> (bool, String) {
    let output = numbind()
        .arg("operator")
        .args(arguments)
        .args(["--platform-url", &system.platform_url])
        .arg("--ca-file")
        .arg(&system.ca_file)
        .env("NUMBIND_OPERATOR_TOKEN", token)
        .output()
        .await
        .unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_cli_searches_shows_history_and_exports_with_numbers_masked_for_auditors() {
    let system = System::start().await;
    let bound = system.bind_a_box("box", "13800138000").await;
    let binding_id = bound["binding_id"].as_str().unwrap();
    let (auditor, admin) = (system.operator_token("auditor").await, system.admin_token().await);

    let (found, listing) = operator_cli(&system, &auditor, &["bindings", "--msisdn", "13800138000"]).await;
    assert!(found && listing.contains(binding_id) && listing.contains("138****8000"), "{listing}");
    assert!(!listing.contains("13800138000"), "an auditor never receives a full number: {listing}");
    let (refused, _) = operator_cli(&system, &auditor, &["bindings", "--reveal-reason", "curious"]).await;
    assert!(!refused, "an auditor cannot reveal");
    let (revealed, listing) = operator_cli(&system, &admin, &["bindings", "--reveal-reason", "ticket 42"]).await;
    assert!(revealed && listing.contains("13800138000"), "{listing}");

    let terminal = listing.lines().nth(1).unwrap().split_whitespace().nth(1).unwrap().to_owned();
    let (shown, history) = operator_cli(&system, &auditor, &["history", &terminal]).await;
    assert!(shown && history.contains("activation_issued") && history.contains("binding_created"), "{history}");
    let (exported, csv) = operator_cli(&system, &auditor, &["export", "bindings", "--format", "csv"]).await;
    assert!(exported && csv.lines().count() == 2 && csv.contains(binding_id), "a header and one row: {csv}");
    assert!(!csv.contains("13800138000"));
}
