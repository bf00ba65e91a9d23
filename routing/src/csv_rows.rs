//! The operator's CSV files as numbered rows, and `TableImportError`, the one error of importing them.
//!
//! The format is deliberately small: UTF-8 (a leading byte-order mark, as spreadsheets write it, is dropped),
//! one row per line, fields separated by commas and trimmed, no quoting (no field of these tables can hold a
//! comma), blank lines and lines starting with `#` ignored, and a header line naming the columns first. Every
//! error names the line (counting from 1, as an editor does) and what is wrong with it, and never repeats a
//! full phone number (an error may reach a log line).

use crate::province::ProvinceCodeError;
use numbind_wire::MsisdnError;

/// Longest text of a bad field repeated in an error.
const QUOTED_FIELD_CHARS: usize = 24;

/// Why a segment or portability CSV was not imported; nothing of it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableImportError {
    #[error("line {line}: expected the header {expected:?}, found {found:?}")]
    Header { line: usize, expected: &'static str, found: String },
    #[error("the file is empty: expected the header {expected:?}")]
    MissingHeader { expected: &'static str },
    #[error("line {line}: expected {expected} comma-separated fields, found {found}")]
    FieldCount { line: usize, expected: usize, found: usize },
    #[error(
        "line {line}: segment {found:?} is not the first 7 digits of a mobile number (1, then 3 to 9, then 5 digits)"
    )]
    Segment { line: usize, found: String },
    #[error("line {line}: {source}")]
    Province { line: usize, source: ProvinceCodeError },
    #[error("line {line}: the number is not a mobile number: {source}")]
    Number { line: usize, source: MsisdnError },
    #[error("line {line}: destination {found:?} is neither a province code nor \"left\"")]
    Destination { line: usize, found: String },
    #[error("line {line}: segment {segment} is already on line {first_line}")]
    DuplicateSegment { line: usize, segment: String, first_line: usize },
    #[error("line {line}: the number is already on line {first_line}")]
    DuplicateNumber { line: usize, first_line: usize },
    #[error("the table has a header but no rows")]
    NoRows,
    #[error("line {line}: the table has more than {limit} rows")]
    TooManyRows { line: usize, limit: usize },
}

/// One data row: its line number and its trimmed fields.
pub(crate) struct Row<'a> {
    pub(crate) line: usize,
    pub(crate) fields: Vec<&'a str>,
}

/// Checks the header and splits the data rows, each with exactly `header`'s number of fields.
pub(crate) fn data_rows<'a>(
    text: &'a str,
    header: &'static str,
    limit: usize,
) -> Result<Vec<Row<'a>>, TableImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let expected_fields = header.split(',').count();
    let mut header_seen = false;
    let mut rows = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split(',').map(str::trim).collect();
        if !header_seen {
            if !fields.join(",").eq_ignore_ascii_case(header) {
                return Err(TableImportError::Header { line, expected: header, found: quoted(trimmed) });
            }
            header_seen = true;
            continue;
        }
        if fields.len() != expected_fields {
            return Err(TableImportError::FieldCount { line, expected: expected_fields, found: fields.len() });
        }
        if rows.len() == limit {
            return Err(TableImportError::TooManyRows { line, limit });
        }
        rows.push(Row { line, fields });
    }
    if !header_seen {
        return Err(TableImportError::MissingHeader { expected: header });
    }
    Ok(rows)
}

/// A bad field as an error repeats it: at most a few characters.
pub(crate) fn quoted(field: &str) -> String {
    field.chars().take(QUOTED_FIELD_CHARS).collect()
}

/// FNV-1a (64 bits): the tables' content fingerprint, their version. Not a defence against anyone, only a
/// stable name for "this content", the same on every host and in every release.
pub(crate) fn fingerprint(state: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(state, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The FNV-1a offset basis.
pub(crate) const FINGERPRINT_START: u64 = 0xcbf2_9ce4_8422_2325;
