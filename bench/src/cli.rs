//! `numbind-bench` / `numbind bench`: flags, running the scenarios, printing the table, writing the report.

use crate::progress::BenchProgress;
use crate::service_logging::ServiceLogging;
use crate::{run_benchmarks, write_report, BenchOptions};
use numbind_process::progress::Audience;
use std::io::Write;
use std::path::PathBuf;

/// Measures numbind against its ceilings on this machine and writes bench-report.json and bench-report.md.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Smoke run for CI: small counts and short measurements (checks the bench works, not the targets).
    #[arg(long, env = "NUMBIND_BENCH_QUICK")]
    pub quick: bool,
    /// Scenarios to run, comma-separated: 1 boot storm, 2 activations, 3 waiting boxes, 4 SMS centre, 5 agent,
    /// 6 purchases, 7 national hub.
    #[arg(long, env = "NUMBIND_BENCH_SCENARIOS", value_delimiter = ',', default_value = "1,2,3,4,5,6,7",
          value_parser = clap::value_parser!(u8).range(1..=7))]
    pub scenarios: Vec<u8>,
    /// Repeats per scenario (baseline and numbind alternate within each repeat).
    #[arg(long, env = "NUMBIND_BENCH_REPEATS", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub repeats: u16,
    /// Where bench-report.json and bench-report.md are written.
    #[arg(long, env = "NUMBIND_BENCH_OUTPUT_DIR", default_value = ".")]
    pub output_dir: PathBuf,
    /// Where the measured databases and state directories live (default: the system temporary directory).
    #[arg(long, env = "NUMBIND_BENCH_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// The numbind-bench-server binary for scenario 3 (default: next to this executable).
    #[arg(long, env = "NUMBIND_BENCH_SERVER_BINARY")]
    pub server_binary: Option<PathBuf>,
    /// The numbind-agent binary for scenario 5 (default: next to this executable).
    #[arg(long, env = "NUMBIND_BENCH_AGENT_BINARY")]
    pub agent_binary: Option<PathBuf>,
}

impl Args {
    /// Makes the `--work-dir` folder (and its parents) when it does not exist, so that no scenario fails on a
    /// missing folder; an error names the folder.
    pub fn create_work_dir(&self) -> anyhow::Result<()> {
        let Some(work_dir) = &self.work_dir else { return Ok(()) };
        std::fs::create_dir_all(work_dir)
            .map_err(|error| anyhow::anyhow!("cannot create the work directory {}: {error}", work_dir.display()))
    }

    pub fn to_options(&self) -> BenchOptions {
        let mut options = BenchOptions::new(self.work_dir.clone().unwrap_or_else(std::env::temp_dir));
        options.quick = self.quick;
        options.scenarios = self.scenarios.clone();
        options.repeats = usize::from(self.repeats);
        options.server_binary = self.server_binary.clone();
        options.agent_binary = self.agent_binary.clone();
        options
    }
}

/// The one entry point of `numbind-bench` and `numbind bench` (neither installs a subscriber before calling
/// it): installs logging as the services have it in production, at their default level, into
/// `bench-services.log` next to the reports (JSON lines under `log_json`), runs the bench, prints the Markdown
/// table on stdout, writes both reports and says where; fails if a scenario could not run. On a terminal, a
/// progress bar on stderr says which scenario and repeat runs and the time left.
pub async fn main(args: Args, log_json: bool) -> anyhow::Result<()> {
    args.create_work_dir()?;
    let progress =
        BenchProgress::start(args.scenarios.len(), usize::from(args.repeats), Audience::from_json_flag(log_json));
    let service_logging = ServiceLogging::install(&args.output_dir, log_json, progress.is_visible())?;
    let mut stderr = std::io::stderr().lock();
    writeln!(stderr, "logging: {}", service_logging.describe())?;
    drop(stderr);
    let mut options = args.to_options();
    options.service_logging = Some(service_logging);
    options.progress = progress.clone();
    let report = run_benchmarks(&options).await;
    progress.finish();
    let (json_path, markdown_path) = write_report(&report, &args.output_dir)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", report.markdown())?;
    writeln!(stdout, "report json={} markdown={}", json_path.display(), markdown_path.display())?;
    stdout.flush()?;
    let mut stderr = std::io::stderr().lock();
    writeln!(
        stderr,
        "The report is in {} (JSON) and {} (Markdown); the services' logs in {}.",
        json_path.display(),
        markdown_path.display(),
        options.service_logging.as_ref().map_or_else(String::new, |logging| logging.file.display().to_string()),
    )?;
    drop(stderr);
    let failed: Vec<String> = report
        .scenarios
        .iter()
        .filter(|scenario| scenario.error.is_some())
        .map(|scenario| scenario.scenario.to_string())
        .collect();
    anyhow::ensure!(failed.is_empty(), "scenario(s) {} could not run (see the report)", failed.join(","));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: Args,
    }

    #[test]
    fn a_missing_work_dir_is_created_and_one_that_cannot_be_is_named() {
        let root = tempfile::tempdir().expect("temp dir");
        let missing = root.path().join("not").join("yet");
        let parsed = Command::parse_from(["bench", "--work-dir", missing.to_str().expect("utf-8")]);
        parsed.args.create_work_dir().expect("created");
        assert!(missing.is_dir());
        let file = root.path().join("a-file");
        std::fs::write(&file, "").expect("write");
        let under_a_file = file.join("work");
        let parsed = Command::parse_from(["bench", "--work-dir", under_a_file.to_str().expect("utf-8")]);
        let error = parsed.args.create_work_dir().expect_err("a folder under a file cannot be made").to_string();
        assert!(error.contains(&under_a_file.display().to_string()), "{error}");
    }
}
