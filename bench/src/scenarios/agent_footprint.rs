//! Scenario 5, agent footprint: the stripped size of the `numbind-agent` binary, and its peak RSS (VmHWM) over
//! boot -> bound against the in-process system, a phone texting the code it shows.

use crate::phones::{create_subscribers, phone_number, send_sms};
use crate::process::{locate_binary, status_field_bytes};
use crate::report::{check, Comparison, RepeatFigures, ScenarioHeading, ScenarioReport};
use crate::system::{start_full_system, ServerRuntime, SystemAddresses};
use crate::BenchOptions;
use anyhow::Context;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const MIB: f64 = 1024.0 * 1024.0;
const SIZE_BUDGET_MIB: f64 = 6.0;
const RSS_BUDGET_MIB: f64 = 12.0;

fn heading(variant: &str, budget: f64) -> ScenarioHeading {
    ScenarioHeading {
        scenario: 5,
        name: "agent footprint",
        variant: variant.to_owned(),
        unit: "MiB",
        baseline_name: "budget",
        target: if budget == SIZE_BUDGET_MIB { "<= 6 MiB stripped" } else { "<= 12 MiB peak RSS" },
        target_checks: vec![check("numbind", Comparison::AtMost, budget)],
    }
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    let binary = locate_binary(options.agent_binary.as_deref(), "numbind-agent")?;
    let size_mib = std::fs::metadata(&binary)?.len() as f64 / MIB;
    let runtime = ServerRuntime::new()?;
    let directory = tempfile::tempdir_in(&options.work_dir)?;
    let system = start_full_system(&runtime, directory.path()).await?;
    let first_phone = 50_000_000;
    create_subscribers(system.addresses.oss_http, first_phone, options.repeats).await?;
    let mut size_repeats = Vec::new();
    let mut rss_repeats = Vec::new();
    for repeat in 0..options.repeats {
        options.progress.repeat("", repeat);
        let state_dir = directory.path().join(format!("agent-{repeat}"));
        let peak =
            peak_rss_boot_to_bound(&binary, &system.addresses, &state_dir, &phone_number(first_phone + repeat)).await?;
        size_repeats.push(RepeatFigures::new(size_mib, SIZE_BUDGET_MIB));
        rss_repeats.push(RepeatFigures::new(peak / MIB, RSS_BUDGET_MIB));
    }
    let notes = vec![format!("binary {}", binary.display())];
    Ok(vec![
        ScenarioReport::from_repeats(heading("binary size", SIZE_BUDGET_MIB), size_repeats, notes.clone()),
        ScenarioReport::from_repeats(heading("peak RSS boot -> bound", RSS_BUDGET_MIB), rss_repeats, notes),
    ])
}

/// Runs the agent until it exits bound; VmHWM is read every 5 ms while it lives (the last read is its peak).
async fn peak_rss_boot_to_bound(
    binary: &Path,
    system: &SystemAddresses,
    state_dir: &Path,
    phone: &str,
) -> anyhow::Result<f64> {
    let mut child = Command::new(binary)
        .arg("--state-dir")
        .arg(state_dir)
        .arg("--platform-url")
        .arg(format!("http://{}", system.platform))
        .arg("--platform-key")
        .arg(system.platform_key.to_string())
        .arg("--json-events")
        .arg("run")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let pid = child.id().context("the agent exited at once")?;
    let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut peak = 0u64;
    let mut texted = false;
    loop {
        anyhow::ensure!(Instant::now() < deadline, "the agent was not bound within 60 s");
        if let Ok(bytes) = status_field_bytes(pid, "VmHWM") {
            peak = peak.max(bytes);
        }
        tokio::select! {
            line = lines.next_line(), if !texted => {
                let Some(line) = line? else { continue };
                let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                if event["event"] == "activation" {
                    let text = event["sms_text"].as_str().context("activation without sms_text")?;
                    send_sms(system.smsc_http, phone, text).await?;
                    texted = true;
                }
            }
            status = child.wait() => {
                let status = status?;
                anyhow::ensure!(status.success(), "the agent exited with {status}");
                anyhow::ensure!(texted, "the agent exited before showing a code");
                return Ok(peak as f64);
            }
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }
}
