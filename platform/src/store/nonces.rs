//! Seen request nonces, for replay protection within the timestamp window.

use super::{Store, StoreError};
use numbind_wire::TerminalId;
use rusqlite::params;

impl Store {
    /// Records a nonce; false when this terminal used it before (a replay).
    pub fn record_nonce(&self, terminal_id: &TerminalId, nonce: &str, now: i64) -> Result<bool, StoreError> {
        self.with_connection(|connection| {
            let inserted = connection.execute(
                "INSERT OR IGNORE INTO request_nonces (terminal_id, nonce, seen_at) VALUES (?1, ?2, ?3)",
                params![terminal_id.as_str(), nonce, now],
            )?;
            Ok(inserted == 1)
        })
    }

    /// Forgets nonces seen before `cutoff` (their timestamps are outside the window anyway).
    pub fn purge_nonces_seen_before(&self, cutoff: i64) -> Result<usize, StoreError> {
        self.with_connection(|connection| {
            Ok(connection.execute("DELETE FROM request_nonces WHERE seen_at < ?1", [cutoff])?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_fresh_once_per_terminal_until_purged() {
        let store = Store::open_in_memory().unwrap();
        let terminal = TerminalId::parse("STB-000001").unwrap();
        let other_terminal = TerminalId::parse("STB-000002").unwrap();
        assert!(store.record_nonce(&terminal, "nonce-0000000000001", 10).unwrap());
        assert!(!store.record_nonce(&terminal, "nonce-0000000000001", 11).unwrap());
        assert!(store.record_nonce(&other_terminal, "nonce-0000000000001", 11).unwrap());
        assert_eq!(store.purge_nonces_seen_before(11).unwrap(), 1);
        assert!(store.record_nonce(&terminal, "nonce-0000000000001", 12).unwrap());
    }
}
