//! `RoutingTable::load`: the segment and portability tables read from the operator's files (feature `files`).

use crate::{PortabilityTable, RoutingTable, SegmentTable, TableImportError};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest table file read (the whole country's segments are about 10 MB as CSV).
const MAX_TABLE_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Why the routing tables could not be read from their files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoutingFileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is larger than {MAX_TABLE_FILE_BYTES} bytes")]
    TooLarge { path: PathBuf },
    #[error("{path}: {source}")]
    Import { path: PathBuf, source: TableImportError },
}

impl RoutingTable {
    /// Reads the segment CSV and, if given, the portability CSV; either file bad refuses both.
    pub fn load(segments: &Path, portability: Option<&Path>) -> Result<RoutingTable, RoutingFileError> {
        let imported = |path: &Path, source| RoutingFileError::Import { path: path.to_owned(), source };
        let segment_text = read_table_file(segments)?;
        let segment_table = SegmentTable::parse_csv(&segment_text).map_err(|source| imported(segments, source))?;
        let portability_table = match portability {
            Some(path) => {
                let text = read_table_file(path)?;
                PortabilityTable::parse_csv(&text).map_err(|source| imported(path, source))?
            }
            None => PortabilityTable::default(),
        };
        Ok(RoutingTable::new(segment_table, portability_table))
    }
}

fn read_table_file(path: &Path) -> Result<String, RoutingFileError> {
    let read_error = |source| RoutingFileError::Read { path: path.to_owned(), source };
    let mut text = String::new();
    let file = std::fs::File::open(path).map_err(read_error)?;
    file.take(MAX_TABLE_FILE_BYTES + 1).read_to_string(&mut text).map_err(read_error)?;
    if text.len() as u64 > MAX_TABLE_FILE_BYTES {
        return Err(RoutingFileError::TooLarge { path: path.to_owned() });
    }
    Ok(text)
}
