//! The routing decision as a whole: the demo table, portability over segments, and properties of imports.

use super::*;
use proptest::prelude::*;

fn number(digits: &str) -> Msisdn {
    Msisdn::parse(digits).unwrap()
}

fn province(code: &str) -> ProvinceCode {
    ProvinceCode::parse(code).unwrap()
}

#[test]
fn the_demo_table_routes_beijing_and_guangdong_numbers_and_nothing_else() {
    let table = RoutingTable::demo();
    assert_eq!(table.segments().provinces(), vec![province("BJ"), province("GD")]);
    let beijing = RouteDecision::Province { province: province("BJ"), basis: RouteBasis::Segment };
    let guangdong = RouteDecision::Province { province: province("GD"), basis: RouteBasis::Segment };
    assert_eq!(table.route(&number("13801001000")), beijing);
    assert_eq!(table.route(&number("13902040000")), guangdong);
    assert_eq!(table.route(&number("13800138000")), beijing, "the sample number stays a Beijing demo number");
    assert_eq!(table.route(&number("13300133000")), RouteDecision::UnknownSegment);
}

#[test]
fn portability_overrides_the_segment() {
    let segments = SegmentTable::parse_csv("segment,province\n1380100,BJ\n1380200,GD\n").unwrap();
    let ported = "number,destination\n13801001234,GD\n13802005678,left\n";
    let table = RoutingTable::new(segments, PortabilityTable::parse_csv(ported).unwrap());
    let moved = RouteDecision::Province { province: province("GD"), basis: RouteBasis::Portability };
    assert_eq!(table.route(&number("13801001234")), moved);
    assert_eq!(table.route(&number("13802005678")), RouteDecision::LeftOperator);
    let stayed = RouteDecision::Province { province: province("BJ"), basis: RouteBasis::Segment };
    assert_eq!(table.route(&number("13801001235")), stayed);
}

#[test]
fn the_version_changes_with_either_table() {
    let segments = SegmentTable::parse_csv("segment,province\n1380100,BJ\n").unwrap();
    let nobody = RoutingTable::new(segments.clone(), PortabilityTable::default());
    let ported = PortabilityTable::parse_csv("number,destination\n13801001234,GD\n").unwrap();
    let somebody = RoutingTable::new(segments.clone(), ported);
    assert_ne!(nobody.version(), somebody.version());
    assert_eq!(nobody.version(), RoutingTable::new(segments, PortabilityTable::default()).version());
    assert_eq!(nobody.version().to_string().len(), 16);
}

fn segment_rows() -> impl Strategy<Value = Vec<(u32, ProvinceCode)>> {
    let provinces: Vec<ProvinceCode> = ProvinceCode::all().collect();
    proptest::collection::btree_map(1_300_000u32..2_000_000, proptest::sample::select(provinces), 1..40)
        .prop_map(|rows| rows.into_iter().collect())
}

fn csv_of(rows: &[(u32, ProvinceCode)]) -> String {
    let mut text = String::from("segment,province\n");
    for (segment, province) in rows {
        text.push_str(&format!("{segment},{province}\n"));
    }
    text
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_either_import(text in any::<String>()) {
        let _ = SegmentTable::parse_csv(&text);
        let _ = PortabilityTable::parse_csv(&text);
    }

    #[test]
    fn every_number_of_an_imported_segment_routes_to_its_province(
        rows in segment_rows(),
        subscriber in 0u32..10_000,
    ) {
        let table = RoutingTable::new(SegmentTable::parse_csv(&csv_of(&rows)).unwrap(), PortabilityTable::default());
        for (segment, owner) in &rows {
            let msisdn = number(&format!("{segment}{subscriber:04}"));
            let expected = RouteDecision::Province { province: *owner, basis: RouteBasis::Segment };
            prop_assert_eq!(table.route(&msisdn), expected);
        }
    }

    #[test]
    fn one_malformed_line_refuses_the_table_and_names_its_line(
        rows in segment_rows(),
        position in any::<prop::sample::Index>(),
        bad_line in prop_oneof!["[0-9]{1,6},BJ", "1[0-2][0-9]{5},GD", "1380100,[A-Z]{3}", "1380100", "13801001,BJ"],
    ) {
        let mut lines: Vec<String> = csv_of(&rows).lines().map(str::to_owned).collect();
        let index = 1 + position.index(lines.len());
        lines.insert(index, bad_line);
        let refused = SegmentTable::parse_csv(&lines.join("\n"));
        let message = refused.expect_err("a malformed line was imported").to_string();
        prop_assert!(message.starts_with(&format!("line {}: ", index + 1)), "{}", message);
    }

    #[test]
    fn a_repeated_segment_is_refused_at_its_second_line(rows in segment_rows(), pick in any::<prop::sample::Index>()) {
        let (segment, _) = rows[pick.index(rows.len())];
        let mut text = csv_of(&rows);
        text.push_str(&format!("{segment},BJ\n"));
        let refused = SegmentTable::parse_csv(&text);
        let is_duplicate = matches!(
            refused,
            Err(TableImportError::DuplicateSegment { line, .. }) if line == rows.len() + 2
        );
        prop_assert!(is_duplicate);
    }
}
