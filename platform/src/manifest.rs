//! Importing a manufacturer's manifest into the platform's database (the operator's `manifest import` command).

pub use crate::domain::manifest::{parse_manifest, ManifestEntry, ManifestError, ManifestPlace};
pub use crate::store::ManifestImportOutcome;

use crate::store::Store;
use anyhow::Context;
use std::path::Path;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManifestImportReport {
    /// Terminals newly listed.
    pub added: usize,
    /// Terminals already listed with the same key.
    pub unchanged: usize,
}

/// Parses `text` (JSON or CSV) and adds its terminals to the manifest in `database_path`, all or nothing.
///
/// Refused, importing nothing: a malformed manifest, and an entry whose terminal is already listed with another
/// public key. The database is created and migrated if missing; the platform may be running meanwhile.
pub fn import_manifest(database_path: &Path, text: &str) -> anyhow::Result<ManifestImportReport> {
    let entries = parse_manifest(text).context("the manifest is malformed; nothing was imported")?;
    let store =
        Store::open(database_path).with_context(|| format!("cannot open the database {}", database_path.display()))?;
    match store.import_manifest_entries(&entries).context("cannot write the manifest")? {
        ManifestImportOutcome::Imported { added, unchanged } => {
            tracing::info!(added, unchanged, "manifest imported");
            Ok(ManifestImportReport { added, unchanged })
        }
        ManifestImportOutcome::KeyConflict { entry_number, terminal_id } => anyhow::bail!(
            "entry {entry_number}: terminal {terminal_id} is already in the manifest with another public key; \
             nothing was imported"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::request_signing::TerminalKeyPair;
    use ring::rand::SystemRandom;

    fn public_key() -> String {
        TerminalKeyPair::generate(&SystemRandom::new()).unwrap().0.public_key().to_string()
    }

    #[test]
    fn importing_twice_reports_the_second_time_as_unchanged() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("platform.db");
        let text = format!("terminal_id,public_key\nSTB-000001,{}\nSTB-000002,{}\n", public_key(), public_key());
        assert_eq!(import_manifest(&path, &text).unwrap(), ManifestImportReport { added: 2, unchanged: 0 });
        assert_eq!(import_manifest(&path, &text).unwrap(), ManifestImportReport { added: 0, unchanged: 2 });
    }
}
