//! Use case, registration: registering a terminal against the manufacturer manifest, audited.

use super::tables::audit_events::{append_audit_event, AuditEvent};
use super::tables::manifest::manifest_key_in;
use super::tables::terminals::{find_terminal_in, Terminal};
use super::{Store, StoreError};
use numbind_database::params;
use numbind_wire::request_signing::TerminalPublicKey;
use numbind_wire::TerminalId;

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationOutcome {
    NewlyRegistered,
    AlreadyRegistered,
    KeyMismatch,
    NotInManifest,
}

impl Store {
    pub fn find_terminal(&self, terminal_id: &TerminalId) -> Result<Option<Terminal>, StoreError> {
        self.read(|connection| find_terminal_in(connection, terminal_id))
    }

    /// Registers a terminal, or confirms an earlier registration with the same key.
    pub fn register_terminal(
        &self,
        terminal_id: &TerminalId,
        public_key: &TerminalPublicKey,
        device_model: &str,
        require_manifest: bool,
        now: i64,
    ) -> Result<RegistrationOutcome, StoreError> {
        self.in_transaction(|transaction| {
            if let Some(existing) = find_terminal_in(transaction, terminal_id)? {
                return Ok(if existing.public_key == *public_key {
                    RegistrationOutcome::AlreadyRegistered
                } else {
                    RegistrationOutcome::KeyMismatch
                });
            }
            // A listed terminal must present its listed key, whether or not the manifest is required.
            match manifest_key_in(transaction, terminal_id)? {
                Some(listed) if listed != *public_key => return Ok(RegistrationOutcome::KeyMismatch),
                None if require_manifest => return Ok(RegistrationOutcome::NotInManifest),
                _ => {}
            }
            transaction
                .prepare_cached(
                    "INSERT INTO terminals (terminal_id, public_key, device_model, registered_at) VALUES (?1, \
                     ?2, ?3, ?4)",
                )?
                .execute(params![terminal_id.as_str(), public_key.to_string(), device_model, now])?;
            append_audit_event(
                transaction,
                self.audit_key.as_ref(),
                now,
                &AuditEvent::new("terminal", "terminal_registered").terminal(terminal_id),
            )?;
            Ok(RegistrationOutcome::NewlyRegistered)
        })
    }

    /// Adds a manufacturer's manifest entry (used when the operator requires a manifest).
    pub fn add_manifest_entry(
        &self,
        terminal_id: &TerminalId,
        public_key: &TerminalPublicKey,
    ) -> Result<(), StoreError> {
        self.in_transaction(|connection| {
            connection
                .prepare_cached(
                    "INSERT INTO manifest_terminals (terminal_id, public_key) VALUES (?1, ?2) ON CONFLICT (terminal_id) \
                     DO UPDATE SET public_key = excluded.public_key, device_model = NULL",
                )?
                .execute(params![terminal_id.as_str(), public_key.to_string()])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::request_signing::TerminalKeyPair;
    use ring::rand::SystemRandom;

    #[test]
    fn registration_is_idempotent_for_the_same_key_only() {
        let store = Store::open_in_memory().unwrap();
        let random = SystemRandom::new();
        let key = TerminalKeyPair::generate(&random).unwrap().0.public_key();
        let other_key = TerminalKeyPair::generate(&random).unwrap().0.public_key();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let register = |key| store.register_terminal(&terminal_id, key, "Skyworth E900", false, 100).unwrap();
        assert_eq!(register(&key), RegistrationOutcome::NewlyRegistered);
        assert_eq!(register(&key), RegistrationOutcome::AlreadyRegistered);
        assert_eq!(register(&other_key), RegistrationOutcome::KeyMismatch);
        assert_eq!(store.find_terminal(&terminal_id).unwrap().unwrap().public_key, key);
    }

    #[test]
    fn a_required_manifest_admits_only_listed_keys() {
        let store = Store::open_in_memory().unwrap();
        let key = TerminalKeyPair::generate(&SystemRandom::new()).unwrap().0.public_key();
        let terminal_id = TerminalId::parse("STB-000002").unwrap();
        assert_eq!(
            store.register_terminal(&terminal_id, &key, "m", true, 1).unwrap(),
            RegistrationOutcome::NotInManifest
        );
        store.add_manifest_entry(&terminal_id, &key).unwrap();
        assert_eq!(
            store.register_terminal(&terminal_id, &key, "m", true, 1).unwrap(),
            RegistrationOutcome::NewlyRegistered
        );
    }
}
