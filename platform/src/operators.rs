//! Operator tooling on the database file, for the umbrella's `numbind audit verify` and `numbind operator token`.

use crate::domain::audit_mac::AuditChainKey;
use crate::domain::operator::{mint_operator_token, OperatorRole};
use crate::store::{verify_audit_chain_file, verify_audit_trail_file, Store};
use anyhow::Context;
use numbind_process::clock::now_unix_seconds;
use ring::rand::SystemRandom;
use std::path::Path;

pub use crate::domain::audit_chain::{AuditProblem, AuditProblemKind, AuditVerifyReport};
use numbind_wire::audit_checkpoint::SignedAuditCheckpoint;
use numbind_wire::statement::{PinnedPlatformKeys, PlatformPublicKey};

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

/// Verifies the audit chain of the database at `database_path` against the platform's signed checkpoints (their
/// signatures checked with the public key(s) in `public_key_path`, one per line), when given, the copies the OSS
/// holds, and with `audit_key` (see [`read_audit_key`]), every event's MAC. The report names the first break, the
/// events after the last witnessed checkpoint, and whether the MACs were checked.
pub fn verify_audit_trail(
    database_path: &Path,
    public_key_path: &Path,
    oss_checkpoints: Option<&[SignedAuditCheckpoint]>,
    audit_key: Option<&AuditChainKey>,
) -> anyhow::Result<AuditVerifyReport> {
    if !database_path.is_file() {
        anyhow::bail!("no database at {}", database_path.display());
    }
    let text = std::fs::read_to_string(public_key_path)
        .with_context(|| format!("cannot read the platform public key {}", public_key_path.display()))?;
    let keys = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(PlatformPublicKey::parse)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("malformed platform public key in {}", public_key_path.display()))?;
    let keys = PinnedPlatformKeys::new(keys);
    verify_audit_trail_file(database_path, Some(&keys), oss_checkpoints, audit_key)
        .with_context(|| format!("cannot read the audit log of {}", database_path.display()))
}

/// Opens the database with its audit key (`platform-audit.key` beside it), to append audited changes. In a fresh
/// data directory (no database yet) the key is made as the platform's first start would make it, so that a token can
/// be made before the platform ever ran; otherwise it must exist (a new key would not be the one that keyed the
/// chain).
pub(crate) fn open_audited(database_path: &Path) -> anyhow::Result<Store> {
    let key_path = crate::audit_key::audit_key_path(database_path);
    let audit_key = if database_path.exists() {
        crate::audit_key::read_audit_key(&key_path)?
    } else {
        crate::audit_key::load_or_create_audit_key(&key_path)?
    };
    let store = Store::open(database_path).with_context(|| format!("cannot open {}", database_path.display()))?;
    Ok(store.with_audit_key(audit_key))
}

/// Creates an operator token; the token is returned once and only its SHA-256 is stored. Audited (the event is
/// MAC'd with the database's audit key).
pub fn create_operator_token(database_path: &Path, name: &str, role: OperatorRole) -> anyhow::Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        anyhow::bail!("an operator name is 1 to 64 printable characters");
    }
    let store = open_audited(database_path)?;
    let token = mint_operator_token(&SystemRandom::new())?;
    store.insert_operator_token(&token, name, role, now_unix_seconds()).context("cannot store the token")?;
    Ok(token.secret)
}

/// Revokes a token by its ID, or every live token of an operator name; returns how many. Audited, as above.
pub fn revoke_operator_token(database_path: &Path, token_id_or_name: &str) -> anyhow::Result<usize> {
    let store = open_audited(database_path)?;
    store.revoke_operator_token(token_id_or_name, now_unix_seconds()).context("cannot revoke the token")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_key::{audit_key_path, read_audit_key};
    use crate::domain::audit_mac::MacCheck;

    #[test]
    fn a_token_made_before_the_platform_ever_ran_creates_the_key_that_keys_its_event() {
        let directory = tempfile::tempdir().unwrap();
        let database = directory.path().join("platform.db");
        create_operator_token(&database, "alice", OperatorRole::Auditor).unwrap();
        let audit_key = read_audit_key(&audit_key_path(&database)).unwrap();
        let report = verify_audit_trail_file(&database, None, None, Some(&audit_key)).unwrap();
        assert!(report.is_intact(), "{report}");
        assert_eq!((report.event_count, report.mac_check), (1, MacCheck::Checked { unkeyed_through: 0 }));
    }

    #[test]
    fn a_token_for_an_existing_database_needs_the_audit_key_that_keyed_it() {
        let directory = tempfile::tempdir().unwrap();
        let database = directory.path().join("platform.db");
        Store::open(&database).unwrap();
        let refused = create_operator_token(&database, "alice", OperatorRole::Auditor).unwrap_err();
        assert!(format!("{refused:#}").contains("cannot read the audit key"), "{refused:#}");
        assert!(!audit_key_path(&database).exists(), "no stray key is made for a chain another key may have keyed");
    }
}
