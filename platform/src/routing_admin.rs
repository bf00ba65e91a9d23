//! The hub's routing tables in the platform's database: `numbind routing import` adds a version, `show` names
//! the active one, and a platform started without `--segments-file` routes by it (and by each newer one as it is
//! imported, `crate::active_routing`).

pub use crate::store::{RoutingImportOutcome, StoredRoutingTable};

use crate::store::{RoutingTableImport, Store};
use anyhow::Context;
use numbind_routing::{PortabilityTable, RoutingTable, SegmentTable};
use std::path::Path;

/// Reads and checks the segment CSV (and the portability CSV, if given) and stores them as the next version in
/// `database_path`, all or nothing: a bad line in either file imports nothing and the error names it. The same
/// content as the active version adds no version. A running platform routes by the new version within its
/// `routing_refresh_interval`.
pub fn import_routing_tables(
    database_path: &Path,
    segments: &Path,
    portability: Option<&Path>,
    now: i64,
) -> anyhow::Result<(RoutingImportOutcome, String)> {
    let table = RoutingTable::load(segments, portability).context("nothing was imported")?;
    let read = |path: &Path| std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()));
    let import = table_import(&table, read(segments)?, portability.map(read).transpose()?);
    store_import(database_path, &import, now)
}

/// At a hub's first start (`numbind up`): stores `segments_csv` (the demo table) as version 1 when no version
/// was ever imported into `database_path`; an imported version is kept. `None` when one was there already.
pub fn import_routing_tables_if_none(
    database_path: &Path,
    segments_csv: &str,
    now: i64,
) -> anyhow::Result<Option<RoutingImportOutcome>> {
    if active_routing_tables(database_path)?.is_some() {
        return Ok(None);
    }
    let segments = SegmentTable::parse_csv(segments_csv).context("the segment table")?;
    let table = RoutingTable::new(segments, PortabilityTable::default());
    let import = table_import(&table, segments_csv.to_owned(), None);
    Ok(Some(store_import(database_path, &import, now)?.0))
}

fn table_import(table: &RoutingTable, segments_csv: String, portability_csv: Option<String>) -> RoutingTableImport {
    RoutingTableImport {
        fingerprint: table.version().to_string(),
        segments_csv,
        portability_csv,
        segment_count: table.segments().len() as i64,
        ported_count: table.portability().len() as i64,
    }
}

fn store_import(
    database_path: &Path,
    import: &RoutingTableImport,
    now: i64,
) -> anyhow::Result<(RoutingImportOutcome, String)> {
    let store =
        Store::open(database_path).with_context(|| format!("cannot open the database {}", database_path.display()))?;
    let outcome = store.import_routing_table(import, now).context("cannot store the routing tables")?;
    Ok((outcome, import.fingerprint.clone()))
}

/// The active version in `database_path`, if any was imported.
pub fn active_routing_tables(database_path: &Path) -> anyhow::Result<Option<StoredRoutingTable>> {
    let store =
        Store::open(database_path).with_context(|| format!("cannot open the database {}", database_path.display()))?;
    Ok(store.active_routing_table()?)
}

/// The routing table a stored version holds (checked again: the stored text is the imported file's).
pub(crate) fn routing_table_of(stored: &StoredRoutingTable) -> anyhow::Result<RoutingTable> {
    let version = stored.version;
    let segments = SegmentTable::parse_csv(&stored.table.segments_csv)
        .with_context(|| format!("the stored segment table of version {version}"))?;
    let portability = match &stored.table.portability_csv {
        Some(text) => PortabilityTable::parse_csv(text)
            .with_context(|| format!("the stored portability table of version {version}"))?,
        None => PortabilityTable::default(),
    };
    Ok(RoutingTable::new(segments, portability))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_file_imports_nothing_and_a_good_one_becomes_the_active_version() {
        let directory = tempfile::tempdir().unwrap();
        let database = directory.path().join("platform.db");
        let segments = directory.path().join("segments.csv");
        std::fs::write(&segments, "segment,province\n1380100,BJ\n138020,GD\n").unwrap();
        let refused = import_routing_tables(&database, &segments, None, 10).unwrap_err();
        assert!(format!("{refused:#}").contains("line 3: segment \"138020\""), "{refused:#}");
        assert!(active_routing_tables(&database).unwrap().is_none(), "nothing was imported");

        std::fs::write(&segments, "segment,province\n1380100,BJ\n1380200,GD\n").unwrap();
        let (outcome, fingerprint) = import_routing_tables(&database, &segments, None, 11).unwrap();
        assert_eq!(outcome, RoutingImportOutcome { version: 1, new_version: true });
        let active = active_routing_tables(&database).unwrap().unwrap();
        assert_eq!(active.table.fingerprint, fingerprint);
        assert_eq!(routing_table_of(&active).unwrap().version().to_string(), fingerprint);
    }

    #[test]
    fn a_hubs_first_start_imports_the_demo_table_once_and_keeps_an_imported_one() {
        let directory = tempfile::tempdir().unwrap();
        let database = directory.path().join("platform.db");
        let demo = numbind_routing::DEMO_SEGMENTS_CSV;
        let first = import_routing_tables_if_none(&database, demo, 10).unwrap();
        assert_eq!(first, Some(RoutingImportOutcome { version: 1, new_version: true }));
        assert_eq!(import_routing_tables_if_none(&database, demo, 11).unwrap(), None);
        let active = active_routing_tables(&database).unwrap().unwrap();
        assert_eq!(active.table.fingerprint, numbind_routing::RoutingTable::demo().version().to_string());
    }
}
