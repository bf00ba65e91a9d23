//! Fuzzes the operator's segment and portability CSVs: never panics; a refused table names a line inside the
//! text; an accepted segment table routes each of its segments' numbers to a province.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_routing::{PortabilityTable, RouteDecision, RoutingTable, SegmentTable, TableImportError};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lines = text.lines().count();
    match SegmentTable::parse_csv(text) {
        Ok(segments) => {
            let provinces = segments.provinces();
            let table = RoutingTable::new(segments, PortabilityTable::default());
            for province in provinces {
                for segment in table.segments().segments_of(province).take(4) {
                    let msisdn = numbind_wire::Msisdn::parse(&format!("{segment}0000")).expect("a segment's number");
                    assert!(matches!(table.route(&msisdn), RouteDecision::Province { .. }));
                }
            }
        }
        Err(error) => assert_line_inside(&error, lines),
    }
    if let Err(error) = PortabilityTable::parse_csv(text) {
        assert_line_inside(&error, lines);
    }
});

fn assert_line_inside(error: &TableImportError, lines: usize) {
    let message = error.to_string();
    if let Some(rest) = message.strip_prefix("line ") {
        let line: usize = rest.split(':').next().and_then(|number| number.parse().ok()).expect("a line number");
        assert!((1..=lines).contains(&line), "{message}");
    }
}
