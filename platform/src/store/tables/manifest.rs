//! Manufacturer manifest queries: importing a whole manifest in one transaction, and looking a terminal up.

use crate::domain::manifest::ManifestEntry;
use crate::store::{Store, StoreError};
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::request_signing::TerminalPublicKey;
use numbind_wire::TerminalId;

/// What importing a manifest did (nothing at all when it is a conflict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestImportOutcome {
    Imported {
        added: usize,
        unchanged: usize,
    },
    /// The entry (1-based) names a terminal already in the manifest with another public key.
    KeyConflict {
        entry_number: usize,
        terminal_id: TerminalId,
    },
}

/// The public key the manifest lists for this terminal, if it is listed.
pub(in crate::store) fn manifest_key_in(
    connection: &Connection<'_>,
    terminal_id: &TerminalId,
) -> Result<Option<TerminalPublicKey>, StoreError> {
    let listed: Option<String> = connection
        .prepare_cached("SELECT public_key FROM manifest_terminals WHERE terminal_id = ?1")?
        .query_row([terminal_id.as_str()], |row| row.get(0))
        .optional()?;
    listed
        .map(|text| {
            TerminalPublicKey::parse(&text).map_err(|_| StoreError::MalformedRow("manifest_terminals.public_key"))
        })
        .transpose()
}

impl Store {
    /// Adds every entry, all or nothing: an entry whose terminal is listed with another key imports nothing.
    pub fn import_manifest_entries(&self, entries: &[ManifestEntry]) -> Result<ManifestImportOutcome, StoreError> {
        self.in_transaction(|transaction| {
            // Check everything before writing anything: an `Ok` conflict must leave nothing to commit.
            let mut new_entries = Vec::new();
            for (index, entry) in entries.iter().enumerate() {
                match manifest_key_in(transaction, &entry.terminal_id)? {
                    Some(listed) if listed == entry.public_key => {}
                    Some(_) => {
                        let terminal_id = entry.terminal_id.clone();
                        return Ok(ManifestImportOutcome::KeyConflict { entry_number: index + 1, terminal_id });
                    }
                    None => new_entries.push(entry),
                }
            }
            for entry in &new_entries {
                transaction
                    .prepare_cached(
                        "INSERT INTO manifest_terminals (terminal_id, public_key, device_model) VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![entry.terminal_id.as_str(), entry.public_key.to_string(), entry.device_model])?;
            }
            Ok(ManifestImportOutcome::Imported {
                added: new_entries.len(),
                unchanged: entries.len() - new_entries.len(),
            })
        })
    }

    /// The public key the manifest lists for this terminal, if any.
    pub fn manifest_key(&self, terminal_id: &TerminalId) -> Result<Option<TerminalPublicKey>, StoreError> {
        self.read(|connection| manifest_key_in(connection, terminal_id))
    }

    /// How many terminals the manifest lists.
    pub fn count_manifest_entries(&self) -> Result<i64, StoreError> {
        self.read(|connection| {
            Ok(connection.prepare_cached("SELECT count(*) FROM manifest_terminals")?.query_row([], |row| row.get(0))?)
        })
    }
}
