//! `PortabilityTable`: numbers whose home is not where their segment says (携号转网, number portability since
//! 2019), each to the province that now serves it or "left this operator". It overrides the segment table.
//!
//! ```text
//! number,destination
//! 13801001234,GD
//! 13802005678,left
//! ```

use crate::csv_rows::{self, TableImportError};
use crate::province::ProvinceCode;
use numbind_wire::Msisdn;
use std::collections::BTreeMap;

/// The header line of a portability CSV.
pub const PORTABILITY_CSV_HEADER: &str = "number,destination";

/// Most numbers in one table.
pub const MAX_PORTED_NUMBERS: usize = 5_000_000;

/// Where a ported number went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortedTo {
    /// Served by this province of the operator (moved in from elsewhere, or from another operator).
    Province(ProvinceCode),
    /// Ported out to another operator: no province of ours serves it.
    LeftOperator,
}

/// Ported numbers; may be empty (nobody ported), no number twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortabilityTable {
    destinations: BTreeMap<String, PortedTo>,
}

impl PortabilityTable {
    /// Parses the CSV; the first bad line refuses the whole table. A header without rows is an empty table.
    pub fn parse_csv(text: &str) -> Result<PortabilityTable, TableImportError> {
        let rows = csv_rows::data_rows(text, PORTABILITY_CSV_HEADER, MAX_PORTED_NUMBERS)?;
        let mut destinations = BTreeMap::new();
        let mut first_lines: BTreeMap<String, usize> = BTreeMap::new();
        for row in rows {
            let (number_text, destination_text) = (row.fields[0], row.fields[1]);
            let msisdn =
                Msisdn::parse(number_text).map_err(|source| TableImportError::Number { line: row.line, source })?;
            let destination = parse_destination(destination_text).ok_or_else(|| TableImportError::Destination {
                line: row.line,
                found: csv_rows::quoted(destination_text),
            })?;
            let digits = msisdn.as_digits().to_owned();
            if let Some(first_line) = first_lines.insert(digits.clone(), row.line) {
                return Err(TableImportError::DuplicateNumber { line: row.line, first_line });
            }
            destinations.insert(digits, destination);
        }
        Ok(PortabilityTable { destinations })
    }

    /// Where `msisdn` went, if it was ported.
    pub fn destination_of(&self, msisdn: &Msisdn) -> Option<PortedTo> {
        self.destinations.get(msisdn.as_digits()).copied()
    }

    /// How many numbers the table holds.
    pub fn len(&self) -> usize {
        self.destinations.len()
    }

    /// True when nobody is ported.
    pub fn is_empty(&self) -> bool {
        self.destinations.is_empty()
    }

    /// Folds the content (in number order) into a fingerprint.
    pub(crate) fn fingerprint(&self, state: u64) -> u64 {
        self.destinations.iter().fold(state, |hash, (number, destination)| {
            let destination = match destination {
                PortedTo::Province(province) => province.as_str(),
                PortedTo::LeftOperator => "left",
            };
            csv_rows::fingerprint(hash, format!("{number},{destination}\n").as_bytes())
        })
    }
}

fn parse_destination(text: &str) -> Option<PortedTo> {
    if text.eq_ignore_ascii_case("left") {
        return Some(PortedTo::LeftOperator);
    }
    ProvinceCode::parse(text).ok().map(PortedTo::Province)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ported_numbers_go_to_a_province_or_left_the_operator() {
        let table =
            PortabilityTable::parse_csv("number,destination\n13801001234,GD\n+86 138-0200-5678,LEFT\n").unwrap();
        let guangdong = ProvinceCode::parse("GD").unwrap();
        assert_eq!(table.destination_of(&Msisdn::parse("13801001234").unwrap()), Some(PortedTo::Province(guangdong)));
        assert_eq!(table.destination_of(&Msisdn::parse("13802005678").unwrap()), Some(PortedTo::LeftOperator));
        assert_eq!(table.destination_of(&Msisdn::parse("13802005679").unwrap()), None);
    }

    #[test]
    fn a_header_alone_is_an_empty_table() {
        assert!(PortabilityTable::parse_csv("number,destination\n").unwrap().is_empty());
    }

    #[test]
    fn bad_lines_are_named_without_repeating_the_number() {
        let duplicate = PortabilityTable::parse_csv("number,destination\n13801001234,GD\n13801001234,BJ\n");
        assert_eq!(duplicate, Err(TableImportError::DuplicateNumber { line: 3, first_line: 2 }));
        let not_mobile = PortabilityTable::parse_csv("number,destination\n12801001234,GD\n").unwrap_err();
        assert!(matches!(not_mobile, TableImportError::Number { line: 2, .. }));
        assert!(!not_mobile.to_string().contains("12801001234"), "{not_mobile}");
        let destination = PortabilityTable::parse_csv("number,destination\n13801001234,elsewhere\n");
        assert_eq!(destination, Err(TableImportError::Destination { line: 2, found: "elsewhere".into() }));
    }
}
