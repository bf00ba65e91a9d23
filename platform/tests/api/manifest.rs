//! The manufacturer's manifest: all-or-nothing imports, required manifests, and keys that must match it.

use crate::helpers::{spawn_app, spawn_app_with, TestTerminal};
use numbind_platform::manifest::{import_manifest, parse_manifest};
use numbind_platform::store::Store;

fn manifest_csv(terminals: &[&TestTerminal]) -> String {
    let mut text = String::from("terminal_id,public_key,device_model\n");
    for terminal in terminals {
        text.push_str(&format!("{},{},Skyworth E900\n", terminal.terminal_id, terminal.key_pair.public_key()));
    }
    text
}

#[test]
fn an_import_with_a_conflicting_key_imports_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("platform.db");
    let (listed, newcomer, impostor) = (TestTerminal::new(), TestTerminal::new(), TestTerminal::new());
    let report = import_manifest(&database, &manifest_csv(&[&listed])).unwrap();
    assert_eq!((report.added, report.unchanged), (1, 0));
    let conflicting = format!(
        r#"[{{"terminal_id": "{}", "public_key": "{}"}}, {{"terminal_id": "{}", "public_key": "{}"}}]"#,
        newcomer.terminal_id,
        newcomer.key_pair.public_key(),
        listed.terminal_id,
        impostor.key_pair.public_key()
    );
    let error = import_manifest(&database, &conflicting).unwrap_err().to_string();
    assert!(error.contains("entry 2") && error.contains(listed.terminal_id.as_str()), "{error}");
    let store = Store::open(&database).unwrap();
    assert_eq!(store.count_manifest_entries().unwrap(), 1);
    assert_eq!(store.manifest_key(&newcomer.terminal_id).unwrap(), None);
    assert_eq!(store.manifest_key(&listed.terminal_id).unwrap(), Some(listed.key_pair.public_key()));
}

#[test]
fn a_malformed_manifest_imports_nothing_and_names_the_line() {
    let directory = tempfile::tempdir().unwrap();
    let database = directory.path().join("platform.db");
    let good = TestTerminal::new();
    let text = format!("{}NB-BROKEN1,not-a-key\n", manifest_csv(&[&good]));
    let error = format!("{:#}", import_manifest(&database, &text).unwrap_err());
    assert!(error.contains("line 3: field public_key is invalid"), "{error}");
    assert_eq!(Store::open(&database).unwrap().count_manifest_entries().unwrap(), 0);
}

#[tokio::test]
async fn a_terminal_outside_the_manifest_is_refused_when_the_manifest_is_required() {
    let app = spawn_app_with(|config| config.require_manifest = true).await;
    let (status, body) = app.register(&app.terminal).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("terminal_not_in_manifest")), "{body}");
    let entries = parse_manifest(&manifest_csv(&[&app.terminal])).unwrap();
    app.store.import_manifest_entries(&entries).unwrap();
    let (status, body) = app.register(&app.terminal).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["newly_registered"], true);
}

#[tokio::test]
async fn a_terminal_listed_with_another_key_is_refused_even_when_the_manifest_is_optional() {
    let app = spawn_app().await;
    let impostor = TestTerminal::new();
    let listed_with_impostor_key =
        format!("terminal_id,public_key\n{},{}\n", app.terminal.terminal_id, impostor.key_pair.public_key());
    app.store.import_manifest_entries(&parse_manifest(&listed_with_impostor_key).unwrap()).unwrap();
    let (status, body) = app.register(&app.terminal).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("key_mismatch")), "{body}");
    let unlisted = TestTerminal::new();
    assert_eq!(app.register(&unlisted).await.0, 200, "an unlisted terminal registers when the manifest is optional");
}
