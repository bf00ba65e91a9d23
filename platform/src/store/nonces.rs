//! Seen request nonces: no longer stored. Replay protection lives in memory (`state::replay_guard`).
//!
//! The `request_nonces` table of migration 1 is dropped by a later migration: a status check then writes nothing,
//! and nonces need no durability (a request signed before the process started is refused instead).

#[cfg(test)]
mod tests {
    use super::super::Store;

    #[test]
    fn the_nonce_table_is_gone_after_the_migrations() {
        let store = Store::open_in_memory().unwrap();
        let tables: i64 = store
            .read(|connection| {
                Ok(connection.query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'request_nonces'",
                    [],
                    |row| row.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(tables, 0);
    }
}
