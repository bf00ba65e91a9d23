//! The end-of-run ledgers, read the way an operator reads them: `numbind operator token create` and
//! `numbind reconcile --json` against the running platform and OSS.

use crate::helpers::System;

/// `numbind reconcile --json`'s answer, with the exit status.
pub(crate) struct Reconciliation {
    pub(crate) succeeded: bool,
    pub(crate) summary: serde_json::Value,
}

pub(crate) async fn reconcile(system: &System) -> Reconciliation {
    let token = system.admin_token().await;
    let (succeeded, summary) = system.reconcile(&token).await;
    Reconciliation { succeeded, summary }
}
