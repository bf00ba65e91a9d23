//! `SegmentTable`: 7-digit number segments (号段, the first seven digits of a mobile number) to the province
//! that issued them, imported all or nothing from the operator's CSV.
//!
//! ```text
//! segment,province
//! 1380100,BJ
//! 1380200,GD
//! ```

use crate::csv_rows::{self, TableImportError};
use crate::province::ProvinceCode;
use numbind_wire::Msisdn;
use std::collections::BTreeMap;

/// The header line of a segment CSV.
pub const SEGMENT_CSV_HEADER: &str = "segment,province";

/// Most segments in one table (the whole country has about half a million).
pub const MAX_SEGMENTS: usize = 2_000_000;

/// Segments to provinces; at least one row, no segment twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentTable {
    /// Segment as its 7-digit number → province.
    provinces: BTreeMap<u32, ProvinceCode>,
}

impl SegmentTable {
    /// Parses the CSV; the first bad line refuses the whole table.
    pub fn parse_csv(text: &str) -> Result<SegmentTable, TableImportError> {
        let rows = csv_rows::data_rows(text, SEGMENT_CSV_HEADER, MAX_SEGMENTS)?;
        let mut provinces = BTreeMap::new();
        let mut first_lines: BTreeMap<u32, usize> = BTreeMap::new();
        for row in rows {
            let (segment_text, province_text) = (row.fields[0], row.fields[1]);
            let segment = parse_segment(segment_text)
                .ok_or_else(|| TableImportError::Segment { line: row.line, found: csv_rows::quoted(segment_text) })?;
            let province = ProvinceCode::parse(province_text)
                .map_err(|source| TableImportError::Province { line: row.line, source })?;
            if let Some(first_line) = first_lines.insert(segment, row.line) {
                let segment = segment.to_string();
                return Err(TableImportError::DuplicateSegment { line: row.line, segment, first_line });
            }
            provinces.insert(segment, province);
        }
        if provinces.is_empty() {
            return Err(TableImportError::NoRows);
        }
        Ok(SegmentTable { provinces })
    }

    /// The province whose segment `msisdn` is in, if the table has it.
    pub fn province_of(&self, msisdn: &Msisdn) -> Option<ProvinceCode> {
        self.provinces.get(&segment_of(msisdn)).copied()
    }

    /// How many segments the table holds.
    pub fn len(&self) -> usize {
        self.provinces.len()
    }

    /// Never true: a table has at least one row.
    pub fn is_empty(&self) -> bool {
        self.provinces.is_empty()
    }

    /// The provinces the table names, each once, in code order.
    pub fn provinces(&self) -> Vec<ProvinceCode> {
        let mut provinces: Vec<ProvinceCode> = self.provinces.values().copied().collect();
        provinces.sort_unstable();
        provinces.dedup();
        provinces
    }

    /// The segments of one province, in order.
    pub fn segments_of(&self, province: ProvinceCode) -> impl Iterator<Item = u32> + '_ {
        self.provinces.iter().filter(move |(_, owner)| **owner == province).map(|(segment, _)| *segment)
    }

    /// Folds the content (in segment order, so the order of the CSV's lines does not matter) into a fingerprint.
    pub(crate) fn fingerprint(&self, state: u64) -> u64 {
        self.provinces.iter().fold(state, |hash, (segment, province)| {
            csv_rows::fingerprint(hash, format!("{segment},{province}\n").as_bytes())
        })
    }
}

/// The segment of a number: its first seven digits.
pub fn segment_of(msisdn: &Msisdn) -> u32 {
    msisdn.as_digits()[..7].bytes().fold(0, |value, digit| value * 10 + u32::from(digit - b'0'))
}

/// Seven digits that can begin a mobile number (`1`, then `3` to `9`).
fn parse_segment(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 7
        && bytes.iter().all(u8::is_ascii_digit)
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1]);
    well_formed.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(digits: &str) -> Msisdn {
        Msisdn::parse(digits).unwrap()
    }

    #[test]
    fn a_table_routes_numbers_by_their_first_seven_digits() {
        let table = SegmentTable::parse_csv("segment,province\n1380100,BJ\n1380200,gd\n").unwrap();
        assert_eq!(table.province_of(&number("13801001234")), Some(ProvinceCode::parse("BJ").unwrap()));
        assert_eq!(table.province_of(&number("13802009999")), Some(ProvinceCode::parse("GD").unwrap()));
        assert_eq!(table.province_of(&number("13803000000")), None);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn comments_blank_lines_crlf_and_a_byte_order_mark_are_accepted() {
        let text = "\u{feff}# demo\r\nsegment , province\r\n\r\n# Beijing\r\n1380100 , BJ\r\n";
        assert_eq!(SegmentTable::parse_csv(text).unwrap().len(), 1);
    }

    #[test]
    fn each_malformed_line_is_named_with_what_is_wrong() {
        let cases: [(&str, TableImportError); 6] = [
            (
                "segment,province\n1380100,BJ\n138010,BJ\n",
                TableImportError::Segment { line: 3, found: "138010".into() },
            ),
            ("segment,province\n1280100,BJ\n", TableImportError::Segment { line: 2, found: "1280100".into() }),
            ("segment,province\n1380100,BJ,extra\n", TableImportError::FieldCount { line: 2, expected: 2, found: 3 }),
            (
                "# c\nsegment,province\n1380100,BJ\n\n1380100,GD\n",
                TableImportError::DuplicateSegment { line: 5, segment: "1380100".into(), first_line: 3 },
            ),
            ("segment,province\n", TableImportError::NoRows),
            (
                "number,province\n1380100,BJ\n",
                TableImportError::Header { line: 1, expected: SEGMENT_CSV_HEADER, found: "number,province".into() },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(SegmentTable::parse_csv(text), Err(expected), "{text:?}");
        }
        let unknown = SegmentTable::parse_csv("segment,province\n1380100,HK\n").unwrap_err();
        assert!(matches!(unknown, TableImportError::Province { line: 2, .. }), "{unknown}");
        assert!(unknown.to_string().starts_with("line 2: "), "{unknown}");
        assert_eq!(SegmentTable::parse_csv(""), Err(TableImportError::MissingHeader { expected: SEGMENT_CSV_HEADER }));
    }

    #[test]
    fn the_fingerprint_ignores_line_order_but_not_content() {
        let first = SegmentTable::parse_csv("segment,province\n1380100,BJ\n1380200,GD\n").unwrap();
        let reordered = SegmentTable::parse_csv("segment,province\n1380200,GD\n1380100,BJ\n").unwrap();
        let changed = SegmentTable::parse_csv("segment,province\n1380100,BJ\n1380200,BJ\n").unwrap();
        assert_eq!(first.fingerprint(1), reordered.fingerprint(1));
        assert_ne!(first.fingerprint(1), changed.fingerprint(1));
    }
}
