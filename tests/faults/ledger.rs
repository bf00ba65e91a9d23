//! The end-of-run ledgers, read the way an operator reads them: `numbind operator token create` and
//! `numbind reconcile --json` against the running platform and OSS.

use crate::helpers::{numbind, System};

/// `numbind reconcile --json`'s answer, with the exit status.
pub(crate) struct Reconciliation {
    pub(crate) succeeded: bool,
    pub(crate) summary: serde_json::Value,
}

pub(crate) async fn reconcile(system: &System) -> Reconciliation {
    let token = numbind()
        .args(["operator", "token", "create", "--name", "fault-suite", "--role", "admin", "--data-dir"])
        .arg(system.directory.path())
        .output()
        .await
        .unwrap();
    assert!(token.status.success(), "token create: {}", String::from_utf8_lossy(&token.stderr));
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let output = numbind()
        .args(["reconcile", "--json", "--platform-url", &system.platform_url, "--oss-url", &system.oss_url])
        .env("NUMBIND_OPERATOR_TOKEN", token)
        .output()
        .await
        .unwrap();
    let summary = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("reconcile printed no JSON: {}", String::from_utf8_lossy(&output.stderr)));
    Reconciliation { succeeded: output.status.success(), summary }
}
