//! Scenario 7, the national hub: activations end to end through a hub of three provinces (three OSS processes'
//! worth of OSS, each with its own database and SMS-centre account) against the same hub with one province, in
//! the same run; and the session-tagged status check on the three-province hub's platform against the platform
//! of a system with one OSS and no routing table.
//!
//! The bench's numbers are its own (`1330000xxxx` and the next two segments); a routing table made for the run
//! gives them their provinces, the same table in both hubs except that the one-province hub sends every segment
//! to Beijing. Rounds alternate one province, three provinces, three, one (ABBA), so that a drift of the shared
//! machine falls on both.

use crate::http_load::{closed_loop, RequestFactory};
use crate::phones::create_subscribers_numbered;
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::scenarios::activations::{activation_round, round_figures};
use crate::scenarios::measurement_duration;
use crate::system::{start_full_system, start_hub_system, HubLayout, RunningSystem, ServerRuntime};
use crate::terminals::{generate_terminals, open_sessions_all, register_all, SimulatedTerminal};
use crate::BenchOptions;
use anyhow::Context;
use numbind_routing::{PortabilityTable, ProvinceCode, RoutingTable, SegmentTable};
use numbind_wire::statement::PinnedPlatformKeys;
use std::path::Path;
use std::sync::Arc;

/// The provinces of the three-province hub, in the order their segments are numbered.
const THREE_PROVINCES: [&str; 3] = ["BJ", "SH", "GD"];
/// Subscriber numbers per segment: a segment is the first seven digits, four are left.
const NUMBERS_PER_SEGMENT: usize = 10_000;
const STATUS_CHECK_CONNECTIONS: usize = 256;

fn activations_heading(in_flight: usize) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 7,
        name: "national hub",
        variant: format!("activations, 3 provinces vs 1, {in_flight} in flight"),
        unit: "activations/s",
        baseline_name: "the same hub with one province, same run",
        target: "three provinces no slower than one: ratio >= 0.95 (the spread of two identical rounds)",
        target_checks: vec![check("ratio", Comparison::AtLeast, 0.95)],
    }
}

fn status_check_heading(connections: usize) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 7,
        name: "national hub",
        variant: format!("status checks at a 3-province hub, {connections} connections"),
        unit: "req/s",
        baseline_name: "the platform of a system with one OSS, no routing table",
        target: "the status check costs no more at a hub: ratio >= 0.95",
        target_checks: vec![check("ratio", Comparison::AtLeast, 0.95)],
    }
}

/// The `index`-th bench number of a hub: its segment `133000S` cycles through the three provinces' segments.
pub fn hub_phone_number(index: usize) -> String {
    let segment = index % THREE_PROVINCES.len();
    format!("133000{segment}{:04}", (index / THREE_PROVINCES.len()) % NUMBERS_PER_SEGMENT)
}

/// The run's routing table: segment `133000S` to the S-th of `provinces` (all to the one, if there is one).
fn bench_routing(provinces: &[ProvinceCode]) -> anyhow::Result<RoutingTable> {
    let mut csv = String::from("segment,province\n");
    for segment in 0..THREE_PROVINCES.len() {
        let province = provinces[segment % provinces.len()];
        csv.push_str(&format!("133000{segment},{}\n", province.as_str()));
    }
    let segments = SegmentTable::parse_csv(&csv).context("the bench segment table")?;
    Ok(RoutingTable::new(segments, PortabilityTable::default()))
}

async fn start_hub(runtime: &ServerRuntime, directory: &Path, codes: &[&str]) -> anyhow::Result<RunningSystem> {
    let provinces = codes.iter().map(|code| ProvinceCode::parse(code)).collect::<Result<Vec<_>, _>>()?;
    let routing = bench_routing(&provinces)?;
    std::fs::create_dir_all(directory)?;
    start_hub_system(runtime, directory, HubLayout { provinces, routing }).await
}

/// Creates each phone's subscriber on its province's OSS (by the table the hub routes with).
async fn create_hub_subscribers(system: &RunningSystem, codes: &[&str], phones: &[String]) -> anyhow::Result<()> {
    for (position, (_, oss)) in system.addresses.provincial_oss.iter().enumerate() {
        let theirs: Vec<String> = phones
            .iter()
            .enumerate()
            .filter(|(index, _)| codes.len() == 1 || index % codes.len() == position)
            .map(|(_, phone)| phone.clone())
            .collect();
        create_subscribers_numbered(oss.clone(), &theirs).await?;
    }
    Ok(())
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let (boxes, in_flight) = if options.quick { (18, 6) } else { (1500, 256) };
    anyhow::ensure!(boxes * 2 * options.repeats <= NUMBERS_PER_SEGMENT * 3, "too many boxes for three segments");
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let one = start_hub(&runtime, &directory.path().join("one-province"), &THREE_PROVINCES[..1]).await?;
    let three = start_hub(&runtime, &directory.path().join("three-provinces"), &THREE_PROVINCES).await?;
    let phones: Vec<String> = (0..boxes * 2 * options.repeats).map(hub_phone_number).collect();
    create_hub_subscribers(&one, &THREE_PROVINCES[..1], &phones).await?;
    create_hub_subscribers(&three, &THREE_PROVINCES, &phones).await?;
    let mut repeats = Vec::new();
    for repeat in 0..options.repeats {
        options.progress.repeat("one province, three, three, one", repeat);
        let batch = |round: usize| phones[(repeat * 2 + round) * boxes..(repeat * 2 + round + 1) * boxes].to_vec();
        let boxes_directory = |name: &str| directory.path().join(format!("boxes-{name}-{repeat}"));
        let one_first = activation_round(&one.addresses, &boxes_directory("one-a"), batch(0), in_flight).await?;
        let three_first = activation_round(&three.addresses, &boxes_directory("three-a"), batch(0), in_flight).await?;
        let three_second = activation_round(&three.addresses, &boxes_directory("three-b"), batch(1), in_flight).await?;
        let one_second = activation_round(&one.addresses, &boxes_directory("one-b"), batch(1), in_flight).await?;
        let one_rate = (one_first.rate() + one_second.rate()) / 2.0;
        let mut three_rounds = three_first;
        three_rounds.activations += three_second.activations;
        three_rounds.elapsed += three_second.elapsed;
        three_rounds.latencies.merge(three_second.latencies);
        repeats.push(round_figures(&mut three_rounds, one_rate).with("one_province_per_second", one_rate));
    }
    let notes = vec![
        format!("{boxes} boxes per round, two rounds per hub per repeat (ABBA), {in_flight} activations in flight"),
        "numbind = three provinces (BJ, SH, GD: one OSS each, own database and SMS-centre account), baseline = one province (BJ)".into(),
        "the run's own routing table: segments 1330000-1330002, one per province (all BJ in the one-province hub)".into(),
    ];
    let mut reports = vec![ScenarioReport::from_repeats(activations_heading(in_flight), repeats, notes)];
    drop(one);
    reports.push(status_checks(options, &runtime, &three, directory.path()).await?);
    Ok(reports)
}

/// Session-tagged status checks on the hub's platform and on a one-OSS system's, alternately.
async fn status_checks(
    options: &BenchOptions,
    runtime: &ServerRuntime,
    hub: &RunningSystem,
    directory: &Path,
) -> anyhow::Result<ScenarioReport> {
    let single_directory = directory.join("one-oss");
    std::fs::create_dir_all(&single_directory)?;
    let single = start_full_system(runtime, &single_directory).await?;
    let terminal_count = if options.quick { 16 } else { 1024 };
    let connections = if options.quick { 16 } else { STATUS_CHECK_CONNECTIONS };
    let single_requests = session_checks(&single, terminal_count).await?;
    let hub_requests = session_checks(hub, terminal_count).await?;
    let duration = measurement_duration(options.quick);
    let mut repeats = Vec::new();
    for repeat in 0..options.repeats {
        options.progress.repeat("status checks: one OSS and the hub, in turn", repeat);
        let single_run = closed_loop(single.addresses.platform, connections, duration, single_requests.clone());
        let hub_run = closed_loop(hub.addresses.platform, connections, duration, hub_requests.clone());
        // Alternate which goes first, so that neither always runs on a machine the other just warmed or loaded.
        let (mut baseline, mut measured) = if repeat % 2 == 0 {
            let baseline = single_run.await?;
            (baseline, hub_run.await?)
        } else {
            let measured = hub_run.await?;
            (single_run.await?, measured)
        };
        anyhow::ensure!(measured.failed == 0 && baseline.failed == 0, "status checks failed during the run");
        repeats.push(
            RepeatFigures::new(measured.per_second(), baseline.per_second())
                .with("p50_ms", measured.latencies.quantile_milliseconds(0.50))
                .with("p99_ms", measured.latencies.quantile_milliseconds(0.99))
                .with("baseline_p99_ms", baseline.latencies.quantile_milliseconds(0.99)),
        );
    }
    let notes = vec![
        format!("{terminal_count} registered terminals holding sessions on each platform; {connections} connections"),
        "both platforms run inside a whole system (SMS centre and OSS idle) on the same server runtime".into(),
    ];
    Ok(ScenarioReport::from_repeats(status_check_heading(connections), repeats, notes))
}

/// Registers `count` terminals on `system`'s platform, each opening a session there (a terminal holds one
/// session, so each platform gets its own terminals), and makes their session-tagged checks.
async fn session_checks(system: &RunningSystem, count: usize) -> anyhow::Result<RequestFactory> {
    let terminals: Vec<Arc<SimulatedTerminal>> = generate_terminals(count)?;
    let pinned = PinnedPlatformKeys::new(vec![system.addresses.platform_key.clone()]);
    register_all(system.addresses.platform, &terminals).await?;
    open_sessions_all(system.addresses.platform, &terminals, &pinned).await?;
    Ok(Arc::new(move |index| terminals[index % terminals.len()].session_check_request()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_numbers_cycle_through_the_three_provinces_segments() {
        let provinces: Vec<ProvinceCode> =
            THREE_PROVINCES.iter().map(|code| ProvinceCode::parse(code).unwrap()).collect();
        let routing = bench_routing(&provinces).unwrap();
        for index in [0, 1, 2, 3, 29_999] {
            let number = numbind_wire::Msisdn::parse(&hub_phone_number(index)).unwrap();
            match routing.route(&number) {
                numbind_routing::RouteDecision::Province { province, .. } => {
                    assert_eq!(province, provinces[index % 3], "number {index}")
                }
                other => panic!("number {index} routed {other:?}"),
            }
        }
    }
}
