//! The national hub's checks in the database: the `national_blacklist` table (numbers refused nationwide, each
//! added and removed by an operator with a reason, audited in the same transaction) and the audit event of each
//! refusal the hub makes before any province is asked.

use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::{Store, StoreError};
use numbind_database::{params, OptionalExtension};
use numbind_wire::{Msisdn, TerminalId};

pub(in crate::store) const NATIONAL_BLACKLIST_MIGRATION: &str = r#"
CREATE TABLE national_blacklist (
    msisdn TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
"#;

/// The audit actor of the blacklist commands, which run on the platform's host against its database.
const BLACKLIST_ACTOR: &str = "operator-cli";
/// The audit actor of the hub's refusals.
const HUB_ACTOR: &str = "hub";

/// A number on the national blacklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlacklistEntry {
    pub msisdn: Msisdn,
    pub reason: String,
    /// The operator who added it.
    pub added_by: String,
    pub added_at: i64,
}

/// Who changes the blacklist, and why (both audited).
#[derive(Debug, Clone, Copy)]
pub struct BlacklistChange<'a> {
    pub operator: &'a str,
    pub reason: &'a str,
}

/// One refusal by the hub, for the audit trail: which check, on which path, for which number or terminal.
#[derive(Debug, Clone, Copy)]
pub struct HubRefusalEvent<'a> {
    /// `number_prefix`, `amount_limit` or `blacklist`.
    pub check: &'a str,
    /// Where the call came in: `redemption`, `confirmation`, `payment`.
    pub path: &'a str,
    pub msisdn: Option<&'a Msisdn>,
    pub terminal_id: Option<&'a TerminalId>,
    /// What was refused, without a number (`amount 60000 fen over 50000`, a merchant's ID).
    pub detail: Option<&'a str>,
}

impl Store {
    /// Whether the national blacklist holds `msisdn`: one indexed read, made on every redemption, confirmation and
    /// payment the hub checks.
    pub fn is_nationally_blacklisted(&self, msisdn: &Msisdn) -> Result<bool, StoreError> {
        self.read_one_query(|connection| {
            Ok(connection
                .prepare_cached("SELECT 1 FROM national_blacklist WHERE msisdn = ?1")?
                .query_row([msisdn.as_digits()], |_| Ok(()))
                .optional()?
                .is_some())
        })
    }

    /// Adds `msisdn` with `change`'s reason, audited; `false` (and nothing written) when it is listed already.
    pub fn add_to_national_blacklist(
        &self,
        msisdn: &Msisdn,
        change: BlacklistChange<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.in_transaction(|transaction| {
            let inserted = transaction
                .prepare_cached(
                    "INSERT INTO national_blacklist (msisdn, reason, added_by, added_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (msisdn) DO NOTHING",
                )?
                .execute(params![msisdn.as_digits(), change.reason, change.operator, now])?;
            if inserted == 0 {
                return Ok(false);
            }
            let detail = format!("by {}: {}", change.operator, change.reason);
            let event = AuditEvent::new(BLACKLIST_ACTOR, "national_blacklist_added").msisdn(msisdn).detail(&detail);
            append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
            Ok(true)
        })
    }

    /// Removes `msisdn`, audited with `change`'s reason; `false` (and nothing written) when it was not listed.
    pub fn remove_from_national_blacklist(
        &self,
        msisdn: &Msisdn,
        change: BlacklistChange<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.in_transaction(|transaction| {
            let removed = transaction
                .prepare_cached("DELETE FROM national_blacklist WHERE msisdn = ?1")?
                .execute([msisdn.as_digits()])?;
            if removed == 0 {
                return Ok(false);
            }
            let detail = format!("by {}: {}", change.operator, change.reason);
            let event = AuditEvent::new(BLACKLIST_ACTOR, "national_blacklist_removed").msisdn(msisdn).detail(&detail);
            append_audit_event(transaction, self.audit_key.as_ref(), now, &event)?;
            Ok(true)
        })
    }

    /// Every listed number, oldest first.
    pub fn national_blacklist(&self) -> Result<Vec<BlacklistEntry>, StoreError> {
        self.read(|connection| {
            let mut statement = connection.prepare_cached(
                "SELECT msisdn, reason, added_by, added_at FROM national_blacklist ORDER BY added_at, msisdn",
            )?;
            let rows =
                statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?;
            let mut entries = Vec::new();
            for row in rows {
                let (msisdn, reason, added_by, added_at) = row?;
                let msisdn =
                    Msisdn::parse(&msisdn).map_err(|_| StoreError::MalformedRow("national_blacklist.msisdn"))?;
                entries.push(BlacklistEntry { msisdn, reason, added_by, added_at });
            }
            Ok(entries)
        })
    }

    /// Appends the audit event of one refusal by the hub (`hub_refusal`, the number masked as every event's).
    pub fn record_hub_refusal(&self, refusal: &HubRefusalEvent<'_>, now: i64) -> Result<(), StoreError> {
        let mut detail = format!("check {} on {}", refusal.check, refusal.path);
        if let Some(more) = refusal.detail {
            detail = format!("{detail}: {more}");
        }
        let mut event = AuditEvent::new(HUB_ACTOR, "hub_refusal").detail(&detail);
        if let Some(msisdn) = refusal.msisdn {
            event = event.msisdn(msisdn);
        }
        if let Some(terminal_id) = refusal.terminal_id {
            event = event.terminal(terminal_id);
        }
        self.in_transaction(|transaction| append_audit_event(transaction, self.audit_key.as_ref(), now, &event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: BlacklistChange<'static> = BlacklistChange { operator: "alice", reason: "fraud case 42" };

    #[test]
    fn a_number_is_listed_once_removed_once_and_each_change_is_audited_masked() {
        let store = Store::open_in_memory().unwrap();
        let number = Msisdn::parse("13800138000").unwrap();
        assert!(!store.is_nationally_blacklisted(&number).unwrap());
        assert!(store.add_to_national_blacklist(&number, ALICE, 10).unwrap());
        assert!(!store.add_to_national_blacklist(&number, ALICE, 11).unwrap(), "listed already");
        assert!(store.is_nationally_blacklisted(&number).unwrap());
        let listed = store.national_blacklist().unwrap();
        assert_eq!((listed.len(), listed[0].added_by.as_str(), listed[0].added_at), (1, "alice", 10));
        let removal = BlacklistChange { operator: "bob", reason: "cleared" };
        assert!(store.remove_from_national_blacklist(&number, removal, 12).unwrap());
        assert!(!store.remove_from_national_blacklist(&number, removal, 13).unwrap(), "not listed any more");
        assert!(!store.is_nationally_blacklisted(&number).unwrap());
        let events = store.audit_events().unwrap();
        let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
        assert_eq!(kinds, ["national_blacklist_added", "national_blacklist_removed"]);
        assert_eq!(events[0].msisdn_masked.as_deref(), Some("138****8000"));
        assert_eq!(events[1].detail.as_deref(), Some("by bob: cleared"));
    }

    #[test]
    fn a_refusal_is_audited_with_its_check_and_path() {
        let store = Store::open_in_memory().unwrap();
        let number = Msisdn::parse("13800138000").unwrap();
        let refusal = HubRefusalEvent {
            check: "blacklist",
            path: "redemption",
            msisdn: Some(&number),
            terminal_id: None,
            detail: None,
        };
        store.record_hub_refusal(&refusal, 20).unwrap();
        let events = store.audit_events().unwrap();
        assert_eq!((events[0].kind.as_str(), events[0].actor.as_str()), ("hub_refusal", "hub"));
        assert_eq!(events[0].detail.as_deref(), Some("check blacklist on redemption"));
        assert_eq!(events[0].msisdn_masked.as_deref(), Some("138****8000"));
    }
}
