//! What each side believes at the end: the OSS's bindings (over its admin API), the platform's (from its
//! SQLite file, read-only), the phones' inboxes; and the comparison of the first two (reconciliation).

use crate::helpers::System;
use std::collections::BTreeMap;

/// terminal ID → number, for active bindings.
pub(crate) type ActiveBindings = BTreeMap<String, String>;

pub(crate) async fn oss_active_bindings(system: &System) -> ActiveBindings {
    let url = format!("{}/v1/bindings?state=active", system.oss_url);
    let body: serde_json::Value = system.http.get(url).send().await.unwrap().json().await.unwrap();
    let mut active = ActiveBindings::new();
    for binding in body["bindings"].as_array().unwrap() {
        let terminal = binding["terminal_id"].as_str().unwrap().to_owned();
        let previous = active.insert(terminal.clone(), binding["msisdn"].as_str().unwrap().to_owned());
        assert!(previous.is_none(), "the OSS holds two active bindings for {terminal}");
    }
    active
}

pub(crate) fn platform_active_bindings(system: &System) -> ActiveBindings {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let connection = rusqlite::Connection::open_with_flags(system.path("platform.db"), flags).unwrap();
    let mut statement = connection.prepare("SELECT terminal_id, msisdn FROM bindings WHERE state = 'active'").unwrap();
    let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))).unwrap();
    let mut active = ActiveBindings::new();
    for row in rows {
        let (terminal, msisdn) = row.unwrap();
        assert!(
            active.insert(terminal.clone(), msisdn).is_none(),
            "the platform holds two active bindings for {terminal}"
        );
    }
    active
}

/// Every difference between the two views, one line each; empty when they agree.
pub(crate) fn reconcile(platform: &ActiveBindings, oss: &ActiveBindings) -> Vec<String> {
    let mut differences = Vec::new();
    for (terminal, msisdn) in platform {
        match oss.get(terminal) {
            None => differences.push(format!("{terminal}: active on the platform only")),
            Some(other) if other != msisdn => differences.push(format!("{terminal}: bound to different numbers")),
            Some(_) => {}
        }
    }
    for terminal in oss.keys().filter(|terminal| !platform.contains_key(*terminal)) {
        differences.push(format!("{terminal}: active in the OSS only"));
    }
    differences
}

#[test]
fn reconciliation_lists_every_kind_of_difference() {
    let platform: ActiveBindings =
        [("A", "1"), ("B", "2"), ("C", "3")].iter().map(|(t, m)| (t.to_string(), m.to_string())).collect();
    let oss: ActiveBindings =
        [("A", "1"), ("B", "9"), ("D", "4")].iter().map(|(t, m)| (t.to_string(), m.to_string())).collect();
    let differences = reconcile(&platform, &oss);
    assert_eq!(differences.len(), 3, "{differences:?}");
    assert!(reconcile(&platform, &platform).is_empty());
}
