//! The national hub: a binding records its number's province and the routing table's version, and its
//! revocation goes to that province's OSS only.

use crate::helpers::spawn_app_with;
use crate::lifecycle::{eventually, operator_unbind, spawn_revocation_endpoint};
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
    let unknown = app.http.get(format!("{}/v1/operator/bindings?province=HK", app.address)).bearer_auth(&auditor);
    assert_eq!(unknown.send().await.unwrap().status(), 400);

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
