//! numbind bench: starts what it measures on loopback, measures numbind and its baseline alternately with the
//! same load generator, and writes `bench-report.json` and `bench-report.md` (see `docs/PERFORMANCE.md`).

pub mod baselines;
#[cfg(feature = "cli")]
pub mod cli;
pub mod cmpp_submits;
pub mod cpu_time;
pub mod durable_echo;
pub mod http_load;
pub mod latency;
pub mod phones;
pub mod process;
pub mod progress;
pub mod report;
pub mod scenarios;
pub mod service_logging;
pub mod system;
pub mod terminals;

use report::{MachineInfo, Report, ScenarioHeading, ScenarioReport};
use std::path::{Path, PathBuf};

/// What to run and where.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Smoke run: small counts, short measurements (checks the bench works, not the targets).
    pub quick: bool,
    /// Scenario numbers 1 to 7.
    pub scenarios: Vec<u8>,
    pub repeats: usize,
    /// Where temporary databases and state directories go (the disk being measured).
    pub work_dir: PathBuf,
    /// `numbind-bench-server` (scenario 3); default: next to the running executable.
    pub server_binary: Option<PathBuf>,
    /// `numbind-agent` (scenario 5); default: next to the running executable.
    pub agent_binary: Option<PathBuf>,
    /// How the measured services log, when the bench installed their subscriber (see [`cli::main`]).
    pub service_logging: Option<service_logging::ServiceLogging>,
    /// Which scenario and repeat runs; hidden unless a person watches (see [`cli::main`]).
    pub progress: progress::BenchProgress,
}

impl BenchOptions {
    pub fn new(work_dir: PathBuf) -> BenchOptions {
        BenchOptions {
            quick: false,
            scenarios: vec![1, 2, 3, 4, 5, 6, 7],
            repeats: 3,
            work_dir,
            server_binary: None,
            agent_binary: None,
            service_logging: None,
            progress: progress::BenchProgress::hidden(),
        }
    }
}

/// Runs the chosen scenarios one after the other; a scenario that fails is reported with its error.
pub async fn run_benchmarks(options: &BenchOptions) -> Report {
    let started_at_unix_seconds = unix_seconds();
    let mut scenarios = Vec::new();
    for (index, &number) in options.scenarios.iter().enumerate() {
        tracing::info!(scenario = number, "running");
        options.progress.scenario(index, number, scenario_name(number));
        let outcome = match number {
            1 => scenarios::boot_storm::run(options).await,
            2 => scenarios::activations::run(options).await,
            3 => scenarios::waiting_boxes::run(options).await,
            4 => scenarios::smsc_throughput::run(options).await,
            5 => scenarios::agent_footprint::run(options).await,
            6 => scenarios::purchases::run(options).await,
            7 => scenarios::hub::run(options).await,
            other => Err(anyhow::anyhow!("no scenario {other}")),
        };
        match outcome {
            Ok(reports) => scenarios.extend(reports),
            Err(error) => {
                tracing::error!(scenario = number, error = %format!("{error:#}"), "scenario failed");
                scenarios.push(ScenarioReport::failed(failed_heading(number), format!("{error:#}")));
            }
        }
    }
    Report {
        machine: MachineInfo::current(),
        started_at_unix_seconds,
        finished_at_unix_seconds: unix_seconds(),
        quick: options.quick,
        repeats: options.repeats,
        logging: service_logging::describe(options.service_logging.as_ref()),
        scenarios,
    }
}

/// What scenario `number` measures, in a few words, for the progress bar.
fn scenario_name(number: u8) -> &'static str {
    match number {
        1 => "boot storm",
        2 => "activations",
        3 => "waiting boxes",
        4 => "SMS centre",
        5 => "agent footprint",
        6 => "purchases",
        7 => "national hub",
        _ => "unknown",
    }
}

fn failed_heading(number: u8) -> ScenarioHeading {
    ScenarioHeading {
        scenario: number,
        name: "scenario",
        variant: String::new(),
        unit: "",
        baseline_name: "",
        target: "",
        target_checks: Vec::new(),
    }
}

/// Writes `bench-report.json` and `bench-report.md` into `directory`.
pub fn write_report(report: &Report, directory: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(directory)?;
    let json_path = directory.join("bench-report.json");
    let markdown_path = directory.join("bench-report.md");
    std::fs::write(&json_path, serde_json::to_vec_pretty(report)?)?;
    std::fs::write(&markdown_path, report.markdown())?;
    Ok((json_path, markdown_path))
}

/// The report's timestamps: the system's clock, 0 before 1970.
fn unix_seconds() -> u64 {
    u64::try_from(numbind_process::clock::now_unix_seconds()).unwrap_or(0)
}
