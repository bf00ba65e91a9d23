//! The `routing_tables` table: each import of the hub's segment and portability tables is a new version (its
//! CSV text kept whole, with its content fingerprint); the latest is the active one the platform routes by.

use crate::store::{Store, StoreError};
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};

pub(in crate::store) const ROUTING_TABLES_MIGRATION: &str = r#"
CREATE TABLE routing_tables (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    segments_csv TEXT NOT NULL,
    portability_csv TEXT,
    segment_count INTEGER NOT NULL,
    ported_count INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
);
"#;

/// One import, already parsed and checked (`numbind_routing::RoutingTable`), as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingTableImport {
    /// `RoutingTable::version`: the content's fingerprint.
    pub fingerprint: String,
    pub segments_csv: String,
    pub portability_csv: Option<String>,
    pub segment_count: i64,
    pub ported_count: i64,
}

/// A stored version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRoutingTable {
    pub version: i64,
    pub table: RoutingTableImport,
    pub imported_at: i64,
}

/// What an import did: a new version, or none because the active one has the same content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutingImportOutcome {
    pub version: i64,
    pub new_version: bool,
}

fn active_in(connection: &Connection<'_>) -> Result<Option<StoredRoutingTable>, StoreError> {
    let row = connection
        .prepare_cached(
            "SELECT version, fingerprint, segments_csv, portability_csv, segment_count, ported_count, imported_at
             FROM routing_tables ORDER BY version DESC LIMIT 1",
        )?
        .query_row([], |row| {
            Ok(StoredRoutingTable {
                version: row.get(0)?,
                table: RoutingTableImport {
                    fingerprint: row.get(1)?,
                    segments_csv: row.get(2)?,
                    portability_csv: row.get(3)?,
                    segment_count: row.get(4)?,
                    ported_count: row.get(5)?,
                },
                imported_at: row.get(6)?,
            })
        })
        .optional()?;
    Ok(row)
}

impl Store {
    /// Stores `import` as the next version, unless the active version has the same content.
    pub fn import_routing_table(
        &self,
        import: &RoutingTableImport,
        now: i64,
    ) -> Result<RoutingImportOutcome, StoreError> {
        self.in_transaction(|transaction| {
            if let Some(active) =
                active_in(transaction)?.filter(|active| active.table.fingerprint == import.fingerprint)
            {
                return Ok(RoutingImportOutcome { version: active.version, new_version: false });
            }
            let version = transaction
                .prepare_cached(
                    "INSERT INTO routing_tables (fingerprint, segments_csv, portability_csv, segment_count, \
                     ported_count, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING version",
                )?
                .query_row(
                    params![
                        import.fingerprint,
                        import.segments_csv,
                        import.portability_csv,
                        import.segment_count,
                        import.ported_count,
                        now
                    ],
                    |row| row.get(0),
                )?;
            Ok(RoutingImportOutcome { version, new_version: true })
        })
    }

    /// The latest imported version, the one the platform routes by.
    pub fn active_routing_table(&self) -> Result<Option<StoredRoutingTable>, StoreError> {
        self.read(active_in)
    }

    /// The number of the latest imported version, without its tables: what a running platform polls to learn
    /// that an import happened.
    pub fn active_routing_version(&self) -> Result<Option<i64>, StoreError> {
        self.read(|connection| {
            let version = connection
                .prepare_cached("SELECT max(version) FROM routing_tables")?
                .query_row([], |row| row.get::<_, Option<i64>>(0))?;
            Ok(version)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(fingerprint: &str) -> RoutingTableImport {
        RoutingTableImport {
            fingerprint: fingerprint.to_owned(),
            segments_csv: "segment,province\n1380100,BJ\n".to_owned(),
            portability_csv: None,
            segment_count: 1,
            ported_count: 0,
        }
    }

    #[test]
    fn each_new_content_is_a_new_version_and_the_same_content_again_is_not() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.active_routing_table().unwrap(), None);
        let first = store.import_routing_table(&import("aaaa"), 10).unwrap();
        assert_eq!(first, RoutingImportOutcome { version: 1, new_version: true });
        assert!(!store.import_routing_table(&import("aaaa"), 11).unwrap().new_version);
        let second = store.import_routing_table(&import("bbbb"), 12).unwrap();
        assert_eq!(second, RoutingImportOutcome { version: 2, new_version: true });
        let active = store.active_routing_table().unwrap().unwrap();
        assert_eq!(store.active_routing_version().unwrap(), Some(active.version));
        assert_eq!((active.version, active.table.fingerprint.as_str(), active.imported_at), (2, "bbbb", 12));
    }
}
