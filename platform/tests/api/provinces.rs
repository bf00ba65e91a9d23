//! The national hub: a binding records its number's province and the routing table's version, and its
//! revocation goes to that province's OSS only; a newly imported routing version is used without a restart.

use crate::helpers::spawn_app_with;
use crate::lifecycle::{eventually, operator_unbind, spawn_revocation_endpoint};
use numbind_platform::routing_admin::import_routing_tables;
use numbind_routing::{PortabilityTable, ProvinceCode, RoutingTable, SegmentTable};

const BEIJING_NUMBER: &str = "13801008000";

fn hub_table() -> RoutingTable {
    let segments = SegmentTable::parse_csv("segment,province\n1380100,BJ\n1380200,GD\n").unwrap();
    RoutingTable::new(segments, PortabilityTable::default())
}

#[tokio::test]
async fn a_bindings_revocation_goes_to_the_oss_of_its_province_only() {
    let (beijing_url, beijing) = spawn_revocation_endpoint(0).await;
    let (guangdong_url, guangdong) = spawn_revocation_endpoint(0).await;
    let table = hub_table();
    let version = table.version().to_string();
    let app = spawn_app_with(move |config| {
        config.provincial_oss_urls.insert(ProvinceCode::parse("BJ").unwrap(), beijing_url);
        config.provincial_oss_urls.insert(ProvinceCode::parse("GD").unwrap(), guangdong_url);
        config.routing = Some(table);
    })
    .await;
    app.bind_test_terminal(BEIJING_NUMBER, "bnd-1").await;
    let binding = app.store.active_binding(&app.terminal.terminal_id).unwrap().unwrap();
    assert_eq!(binding.province, ProvinceCode::parse("BJ").ok());
    let database = rusqlite::Connection::open(app.database_path()).unwrap();
    let recorded: String = database
        .query_row("SELECT routing_version FROM bindings WHERE binding_id = 'bnd-1'", [], |row| row.get(0))
        .unwrap();
    assert_eq!(recorded, version);

    let auditor =
        numbind_platform::create_operator_token(&app.database_path(), "audit", numbind_platform::OperatorRole::Auditor)
            .unwrap();
    for (province, expected) in [("BJ", 1), ("gd", 0)] {
        let url = format!("{}/v1/operator/bindings?province={province}", app.address);
        let page: serde_json::Value =
            app.http.get(url).bearer_auth(&auditor).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["bindings"].as_array().map(Vec::len), Some(expected), "{province}: {page}");
    }
    let url = format!("{}/v1/operator/bindings?province=BJ", app.address);
    let page: serde_json::Value = app.http.get(url).bearer_auth(&auditor).send().await.unwrap().json().await.unwrap();
    assert_eq!(page["bindings"][0]["province"], "BJ");
    assert_eq!(page["bindings"][0]["routing_version"], version.as_str());
    let unknown = app.http.get(format!("{}/v1/operator/bindings?province=HK", app.address)).bearer_auth(&auditor);
    assert_eq!(unknown.send().await.unwrap().status(), 400);
    let export = format!("{}/v1/operator/exports/bindings.csv", app.address);
    let csv = app.http.get(export).bearer_auth(&auditor).send().await.unwrap().text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",province,routing_version"), "{csv}");
    assert!(lines.next().unwrap().ends_with(&format!(",BJ,{version}")), "the export names the province: {csv}");
    let export = format!("{}/v1/operator/exports/bindings.jsonl", app.address);
    let jsonl = app.http.get(export).bearer_auth(&auditor).send().await.unwrap().text().await.unwrap();
    let record: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!((record["province"].as_str(), record["routing_version"].as_str()), (Some("BJ"), Some(version.as_str())));

    assert_eq!(operator_unbind(&app).await.0, 200);
    eventually("beijing's oss received the revocation", || beijing.received.lock().unwrap().len() == 1).await;
    assert_eq!(beijing.received.lock().unwrap()[0]["binding_id"], "bnd-1");
    let queued = app.store.oss_revocations_of_binding("bnd-1").unwrap();
    assert_eq!(queued[0].province, ProvinceCode::parse("BJ").ok());
    eventually("the outbox marked it delivered", || {
        app.store.oss_revocations_of_binding("bnd-1").unwrap()[0].delivered
    })
    .await;
    assert!(guangdong.received.lock().unwrap().is_empty(), "guangdong's oss heard nothing of a beijing binding");
    let metrics = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("oss_revocation_attempts_total{province=\"BJ\",result=\"delivered\"} 1"), "{metrics}");
}

#[tokio::test]
async fn a_number_the_table_routes_nowhere_binds_without_a_province() {
    let (url, _oss) = spawn_revocation_endpoint(0).await;
    let app = spawn_app_with(move |config| {
        config.provincial_oss_urls.insert(ProvinceCode::parse("BJ").unwrap(), url);
        config.routing = Some(hub_table());
    })
    .await;
    app.bind_test_terminal("13800138000", "bnd-1").await;
    let binding = app.store.active_binding(&app.terminal.terminal_id).unwrap().unwrap();
    assert_eq!(binding.province, None);
    let metrics = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("routing_faults_total{province=\"-\",kind=\"no_province\"} 1"), "{metrics}");
}

/// A province's OSS that does not know a number the hub routed to it is a routing fault: audited and counted,
/// while the box is told the usual denial.
#[tokio::test]
async fn a_routed_number_the_province_does_not_know_is_a_routing_fault() {
    let (url, _oss) = spawn_revocation_endpoint(0).await;
    let app = spawn_app_with(move |config| {
        config.provincial_oss_urls.insert(ProvinceCode::parse("BJ").unwrap(), url);
        config.routing = Some(hub_table());
    })
    .await;
    let activation = app.registered_with_activation().await;
    let (status, body) = app.redeem(&activation.code, BEIJING_NUMBER, "sms-1").await;
    assert_eq!(status, 200, "{body}");
    let denial = serde_json::json!({
        "activation_id": activation.activation_id.as_str(),
        "msisdn": BEIJING_NUMBER,
        "outcome": "denied",
        "reason": "unknown_subscriber",
    });
    for _ in 0..2 {
        let (status, body) = app.oss_post("/v1/oss/confirmations", &denial).await;
        assert_eq!(status, 200, "{body}");
    }
    let database = rusqlite::Connection::open(app.database_path()).unwrap();
    let (count, detail): (i64, String) = database
        .query_row("SELECT count(*), max(detail) FROM audit_events WHERE kind = 'routing_fault'", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!(count, 1, "a repeated verdict is not a second fault");
    assert!(detail.starts_with("province BJ (routing table "), "{detail}");
    let metrics = app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("routing_faults_total{province=\"BJ\",kind=\"not_our_subscriber\"} 1"), "{metrics}");
}

async fn metrics_text(app: &crate::helpers::TestApp) -> String {
    app.http.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap()
}

/// `numbind routing import` while the platform runs: within its refresh interval the new version routes the next
/// binding, which records that version, and the metric names the version in use. No restart, no signal.
#[tokio::test]
async fn a_newly_imported_routing_version_routes_the_next_binding_without_a_restart() {
    let (beijing_url, _beijing) = spawn_revocation_endpoint(0).await;
    let (guangdong_url, _guangdong) = spawn_revocation_endpoint(0).await;
    let tables = tempfile::tempdir().unwrap();
    let (first, second) = (tables.path().join("first.csv"), tables.path().join("second.csv"));
    std::fs::write(&first, "segment,province\n1380100,GD\n").unwrap();
    std::fs::write(&second, "segment,province\n1380100,BJ\n1380200,GD\n").unwrap();
    let imported_first = first.clone();
    let app = spawn_app_with(move |config| {
        config.provincial_oss_urls.insert(ProvinceCode::parse("BJ").unwrap(), beijing_url);
        config.provincial_oss_urls.insert(ProvinceCode::parse("GD").unwrap(), guangdong_url);
        config.routing_refresh_interval = std::time::Duration::from_millis(50);
        import_routing_tables(&config.database_path, &imported_first, None, 1).unwrap();
    })
    .await;
    assert!(metrics_text(&app).await.contains("\nrouting_version 1\n"), "the first import routes at start");

    let (outcome, fingerprint) = import_routing_tables(&app.database_path(), &second, None, 2).unwrap();
    assert_eq!(outcome.version, 2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !metrics_text(&app).await.contains("\nrouting_version 2\n") {
        assert!(std::time::Instant::now() < deadline, "the platform never took up version 2");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.bind_test_terminal(BEIJING_NUMBER, "bnd-1").await;
    let binding = app.store.active_binding(&app.terminal.terminal_id).unwrap().unwrap();
    assert_eq!(binding.province, ProvinceCode::parse("BJ").ok(), "routed by the second version, not the first");
    let database = rusqlite::Connection::open(app.database_path()).unwrap();
    let recorded: String = database
        .query_row("SELECT routing_version FROM bindings WHERE binding_id = 'bnd-1'", [], |row| row.get(0))
        .unwrap();
    assert_eq!(recorded, fingerprint);
}

/// A payment's export line names the province and routing version of the binding it was made on.
#[tokio::test]
async fn the_payments_export_names_the_province_of_each_payments_binding() {
    let segments = SegmentTable::parse_csv("segment,province\n1380013,BJ\n").unwrap();
    let table = RoutingTable::new(segments, PortabilityTable::default());
    let version = table.version().to_string();
    let payments = crate::payment_helpers::spawn_payment_app_with(move |config| config.routing = Some(table)).await;
    let token = payments.merchant("demo-films");
    let (status, paid) =
        payments.pay(&token, "order-hub-1", &payments.signed(&payments.intent("demo-films", 500))).await;
    assert_eq!(status, 201, "{paid}");
    let auditor = numbind_platform::create_operator_token(
        &payments.app.database_path(),
        "audit",
        numbind_platform::OperatorRole::Auditor,
    )
    .unwrap();
    let url = format!("{}/v1/operator/exports/payments.csv", payments.app.address);
    let csv = payments.app.http.get(url).bearer_auth(&auditor).send().await.unwrap().text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().ends_with(",refunded,province,routing_version"), "{csv}");
    assert!(lines.next().unwrap().ends_with(&format!(",BJ,{version}")), "{csv}");
    let url = format!("{}/v1/operator/exports/payments.jsonl", payments.app.address);
    let jsonl = payments.app.http.get(url).bearer_auth(&auditor).send().await.unwrap().text().await.unwrap();
    let record: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!((record["province"].as_str(), record["routing_version"].as_str()), (Some("BJ"), Some(version.as_str())));
}
