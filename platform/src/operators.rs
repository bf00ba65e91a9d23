//! Operator tooling on the database file, for the umbrella's `numbind audit verify` and `numbind operator token`.

use crate::domain::operator::{mint_operator_token, OperatorRole};
use crate::store::{verify_audit_chain_file, Store};
use anyhow::Context;
use ring::rand::SystemRandom;
use std::path::Path;

pub use crate::domain::audit_chain::{AuditProblem, AuditProblemKind, AuditVerifyReport};

/// The platform database inside a data directory.
pub fn database_path_in(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("platform.db")
}

/// Verifies the audit hash chain of the database at `database_path`, opened read-only (the platform may run).
///
/// The report is OK with the event count and the head hash (anchor it elsewhere), or lists every problem found.
pub fn verify_audit_chain(database_path: &Path) -> anyhow::Result<AuditVerifyReport> {
    if !database_path.is_file() {
        anyhow::bail!("no database at {}", database_path.display());
    }
    verify_audit_chain_file(database_path)
        .with_context(|| format!("cannot read the audit log of {}", database_path.display()))
}

/// Creates an operator token; the token is returned once and only its SHA-256 is stored. Audited.
pub fn create_operator_token(database_path: &Path, name: &str, role: OperatorRole) -> anyhow::Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        anyhow::bail!("an operator name is 1 to 64 printable characters");
    }
    let store = Store::open(database_path).with_context(|| format!("cannot open {}", database_path.display()))?;
    let token = mint_operator_token(&SystemRandom::new())?;
    store.insert_operator_token(&token, name, role, now_unix_seconds()).context("cannot store the token")?;
    Ok(token.secret)
}

/// Revokes a token by its ID, or every live token of an operator name; returns how many. Audited.
pub fn revoke_operator_token(database_path: &Path, token_id_or_name: &str) -> anyhow::Result<usize> {
    let store = Store::open(database_path).with_context(|| format!("cannot open {}", database_path.display()))?;
    store.revoke_operator_token(token_id_or_name, now_unix_seconds()).context("cannot revoke the token")
}

fn now_unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}
