//! The hub's national blacklist in the platform's database, for `numbind blacklist add|remove|list`: each change
//! with the operator's name and reason, audited in the audit chain in the same transaction. The running platform
//! reads the table on every check, so a change applies to the next redemption, confirmation or payment.

pub use crate::store::BlacklistEntry;

use crate::operators::open_audited;
use crate::store::{BlacklistChange, Store};
use anyhow::Context;
use numbind_process::clock::now_unix_seconds;
use numbind_wire::Msisdn;
use std::path::Path;

/// The longest reason kept (a reason is for the audit trail, not a document).
const MAX_REASON_CHARS: usize = 200;

/// Who changes the blacklist and why: both required, printable, bounded.
fn checked_change<'a>(operator: &'a str, reason: &'a str) -> anyhow::Result<BlacklistChange<'a>> {
    let (operator, reason) = (operator.trim(), reason.trim());
    if operator.is_empty() || operator.chars().count() > 64 || operator.chars().any(char::is_control) {
        anyhow::bail!("--operator is 1 to 64 printable characters: who makes the change");
    }
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        anyhow::bail!("--reason is 1 to {MAX_REASON_CHARS} printable characters: why the change is made");
    }
    Ok(BlacklistChange { operator, reason })
}

fn parse_number(number: &str) -> anyhow::Result<Msisdn> {
    Msisdn::parse(number).map_err(|error| anyhow::anyhow!("not a mobile number: {error}"))
}

/// Adds `number` to the national blacklist of the database at `database_path`; `Ok(false)` when it was listed
/// already (nothing written).
pub fn add_to_national_blacklist(
    database_path: &Path,
    number: &str,
    operator: &str,
    reason: &str,
) -> anyhow::Result<(Msisdn, bool)> {
    let msisdn = parse_number(number)?;
    let change = checked_change(operator, reason)?;
    let store = open_audited(database_path)?;
    let added =
        store.add_to_national_blacklist(&msisdn, change, now_unix_seconds()).context("cannot add the number")?;
    Ok((msisdn, added))
}

/// Removes `number` from the national blacklist; `Ok(false)` when it was not listed (nothing written).
pub fn remove_from_national_blacklist(
    database_path: &Path,
    number: &str,
    operator: &str,
    reason: &str,
) -> anyhow::Result<(Msisdn, bool)> {
    let msisdn = parse_number(number)?;
    let change = checked_change(operator, reason)?;
    let store = open_audited(database_path)?;
    let removed = store
        .remove_from_national_blacklist(&msisdn, change, now_unix_seconds())
        .context("cannot remove the number")?;
    Ok((msisdn, removed))
}

/// Every listed number, oldest first.
pub fn national_blacklist(database_path: &Path) -> anyhow::Result<Vec<BlacklistEntry>> {
    let store =
        Store::open(database_path).with_context(|| format!("cannot open the database {}", database_path.display()))?;
    Ok(store.national_blacklist()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_needs_an_operator_and_a_reason_and_a_malformed_number_changes_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let database = directory.path().join("platform.db");
        let refused = add_to_national_blacklist(&database, "13800138000", "alice", " ").unwrap_err();
        assert!(format!("{refused:#}").contains("--reason"), "{refused:#}");
        assert!(add_to_national_blacklist(&database, "1380013800", "alice", "fraud").is_err());
        let (msisdn, added) = add_to_national_blacklist(&database, "+86 138 0013 8000", "alice", "fraud").unwrap();
        assert!(added);
        assert_eq!(msisdn.masked(), "138****8000");
        assert!(!add_to_national_blacklist(&database, "13800138000", "alice", "again").unwrap().1);
        assert_eq!(national_blacklist(&database).unwrap().len(), 1);
        assert!(remove_from_national_blacklist(&database, "13800138000", "bob", "cleared").unwrap().1);
        assert!(national_blacklist(&database).unwrap().is_empty());
    }
}
