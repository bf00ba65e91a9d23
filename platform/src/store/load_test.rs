//! Test support (feature `test-support`): rows written straight into the tables, for the benchmark's export load
//! test. Never compiled into the platform binary.

use super::{Store, StoreError};
use numbind_database::params;
use numbind_wire::{Msisdn, TerminalId};

impl Store {
    /// Inserts bindings rows directly, in one transaction (load tests of the export).
    pub fn insert_bindings_for_load_test(&self, rows: &[(String, TerminalId, Msisdn, i64)]) -> Result<(), StoreError> {
        self.in_transaction(|transaction| {
            let mut terminal = transaction.prepare(
                "INSERT INTO terminals (terminal_id, public_key, device_model, registered_at)
                 VALUES (?1, '', 'load test', ?2) ON CONFLICT DO NOTHING",
            )?;
            let mut activation = transaction.prepare(
                "INSERT INTO activations (activation_id, terminal_id, code, state, created_at, expires_at)
                 VALUES ('load-' || ?1, ?1, '000000', 'expired', ?2, ?2) ON CONFLICT DO NOTHING",
            )?;
            let mut binding = transaction.prepare(
                "INSERT INTO bindings (binding_id, terminal_id, msisdn, activation_id, state, created_at)
                 VALUES (?1, ?2, ?3, 'load-' || ?2, 'revoked', ?4)",
            )?;
            for (binding_id, terminal_id, msisdn, created_at) in rows {
                terminal.execute(params![terminal_id.as_str(), created_at])?;
                activation.execute(params![terminal_id.as_str(), created_at])?;
                binding.execute(params![binding_id, terminal_id.as_str(), msisdn.as_digits(), created_at])?;
            }
            Ok(())
        })
    }

    /// Ends every other connection to this PostgreSQL database, as a server restart or a network cut would (tests
    /// of the platform's recovery); nothing on SQLite.
    pub fn end_every_other_connection_for_tests(&self) -> Result<(), StoreError> {
        if self.database.dialect() == numbind_database::Dialect::Sqlite {
            return Ok(());
        }
        self.read_one_query(|connection| {
            let mut statement = connection.prepare(
                "SELECT CAST(COUNT(pg_terminate_backend(pid)) AS BIGINT) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )?;
            statement.query_row((), |row| row.get::<_, i64>(0))?;
            Ok(())
        })
    }
}
