//! The bench report: per scenario and repeat, numbind's and the baseline's figures, their ratio, min/median/max,
//! the target and whether it is met; written as `bench-report.json` and as a Markdown table.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: MachineInfo,
    pub started_at_unix_seconds: u64,
    pub finished_at_unix_seconds: u64,
    pub quick: bool,
    pub repeats: usize,
    /// How the measured services logged: `services at info, to <path>`.
    pub logging: String,
    pub scenarios: Vec<ScenarioReport>,
}

/// Where it ran.
#[derive(Debug, Clone, Serialize)]
pub struct MachineInfo {
    pub nproc: usize,
    pub kernel: String,
    /// `release` or `debug`: figures from a debug build say nothing about targets.
    pub build: &'static str,
}

impl MachineInfo {
    pub fn current() -> MachineInfo {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|text| text.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        MachineInfo {
            nproc: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            kernel,
            build: if cfg!(debug_assertions) { "debug" } else { "release" },
        }
    }
}

/// One figure of one repeat: numbind's, the baseline's, their ratio, and named extras (latencies...).
#[derive(Debug, Clone, Serialize)]
pub struct RepeatFigures {
    pub numbind: f64,
    pub baseline: f64,
    pub ratio: f64,
    pub extra: BTreeMap<String, f64>,
}

impl RepeatFigures {
    pub fn new(numbind: f64, baseline: f64) -> RepeatFigures {
        let ratio = if baseline > 0.0 { numbind / baseline } else { 0.0 };
        RepeatFigures { numbind, baseline, ratio, extra: BTreeMap::new() }
    }

    pub fn with(mut self, name: &str, value: f64) -> RepeatFigures {
        self.extra.insert(name.to_owned(), value);
        self
    }
}

/// Min, median and max over the repeats.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Summary {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|value| value.is_finite()).collect();
        if sorted.is_empty() {
            return Summary { min: 0.0, median: 0.0, max: 0.0 };
        }
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 };
        Summary { min: sorted[0], median, max: sorted[sorted.len() - 1] }
    }
}

/// Which figure a target check reads (its median over the repeats).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtLeast,
    AtMost,
}

/// One condition of a target, read on the median: `figure` is `numbind`, `baseline`, `ratio` or an extra's name.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub figure: String,
    pub comparison: Comparison,
    pub value: f64,
}

/// One scenario (or one variant of it, such as a connection count).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: u8,
    pub name: String,
    pub variant: String,
    pub unit: String,
    pub baseline_name: String,
    pub repeats: Vec<RepeatFigures>,
    pub numbind: Summary,
    pub baseline: Summary,
    pub ratio: Summary,
    pub extra: BTreeMap<String, Summary>,
    pub target: String,
    pub target_checks: Vec<TargetCheck>,
    /// Every target check passes on the medians (false for a variant without a check of its own).
    pub met: bool,
    pub notes: Vec<String>,
    /// Set when the scenario could not run; its figures are then empty.
    pub error: Option<String>,
}

/// What a scenario says about itself before its repeats are known.
#[derive(Debug, Clone)]
pub struct ScenarioHeading {
    pub scenario: u8,
    pub name: &'static str,
    pub variant: String,
    pub unit: &'static str,
    pub baseline_name: &'static str,
    pub target: &'static str,
    pub target_checks: Vec<TargetCheck>,
}

pub fn check(figure: &str, comparison: Comparison, value: f64) -> TargetCheck {
    TargetCheck { figure: figure.to_owned(), comparison, value }
}

impl ScenarioReport {
    pub fn from_repeats(heading: ScenarioHeading, repeats: Vec<RepeatFigures>, notes: Vec<String>) -> ScenarioReport {
        let numbind = Summary::of(&repeats.iter().map(|figures| figures.numbind).collect::<Vec<_>>());
        let baseline = Summary::of(&repeats.iter().map(|figures| figures.baseline).collect::<Vec<_>>());
        let ratio = Summary::of(&repeats.iter().map(|figures| figures.ratio).collect::<Vec<_>>());
        let mut extra = BTreeMap::new();
        for name in repeats.iter().flat_map(|figures| figures.extra.keys()) {
            let values: Vec<f64> = repeats.iter().filter_map(|figures| figures.extra.get(name).copied()).collect();
            extra.insert(name.clone(), Summary::of(&values));
        }
        let mut report = ScenarioReport {
            scenario: heading.scenario,
            name: heading.name.to_owned(),
            variant: heading.variant,
            unit: heading.unit.to_owned(),
            baseline_name: heading.baseline_name.to_owned(),
            repeats,
            numbind,
            baseline,
            ratio,
            extra,
            target: heading.target.to_owned(),
            target_checks: heading.target_checks,
            met: false,
            notes,
            error: None,
        };
        report.met = !report.repeats.is_empty()
            && !report.target_checks.is_empty()
            && report.target_checks.iter().all(|check| report.passes(check));
        report
    }

    pub fn failed(heading: ScenarioHeading, error: String) -> ScenarioReport {
        let mut report = ScenarioReport::from_repeats(heading, Vec::new(), Vec::new());
        report.error = Some(error);
        report
    }

    fn median_of(&self, figure: &str) -> Option<f64> {
        match figure {
            "numbind" => Some(self.numbind.median),
            "baseline" => Some(self.baseline.median),
            "ratio" => Some(self.ratio.median),
            other => self.extra.get(other).map(|summary| summary.median),
        }
    }

    fn passes(&self, check: &TargetCheck) -> bool {
        match (self.median_of(&check.figure), &check.comparison) {
            (Some(value), Comparison::AtLeast) => value >= check.value,
            (Some(value), Comparison::AtMost) => value <= check.value,
            (None, _) => false,
        }
    }
}

impl Report {
    /// The Markdown table of the run (medians, with min-max over the repeats).
    pub fn markdown(&self) -> String {
        let mut text = String::new();
        let machine = &self.machine;
        let _ = writeln!(
            text,
            "numbind bench: {} cores, kernel {}, {} build, {} repeat(s){}",
            machine.nproc,
            machine.kernel,
            machine.build,
            self.repeats,
            if self.quick { ", quick mode (smoke run: figures are not meaningful)" } else { "" }
        );
        let _ = writeln!(text, "logging: {}\n", self.logging);
        text.push_str("| # | scenario | variant | numbind | baseline | ratio | details | target | met |\n");
        text.push_str("|---|---|---|---|---|---|---|---|---|\n");
        for scenario in &self.scenarios {
            text.push_str(&markdown_row(scenario));
        }
        text
    }
}

fn markdown_row(scenario: &ScenarioReport) -> String {
    if let Some(error) = &scenario.error {
        return format!(
            "| {} | {} | {} | error: {} | | | | {} | no |\n",
            scenario.scenario, scenario.name, scenario.variant, error, scenario.target
        );
    }
    let details: Vec<String> =
        scenario.extra.iter().map(|(name, summary)| format!("{name} {}", format_number(summary.median))).collect();
    format!(
        "| {} | {} | {} | {} {} [{}-{}] | {} ({}) | {:.3} [{:.3}-{:.3}] | {} | {} | {} |\n",
        scenario.scenario,
        scenario.name,
        scenario.variant,
        format_number(scenario.numbind.median),
        scenario.unit,
        format_number(scenario.numbind.min),
        format_number(scenario.numbind.max),
        format_number(scenario.baseline.median),
        scenario.baseline_name,
        scenario.ratio.median,
        scenario.ratio.min,
        scenario.ratio.max,
        details.join(", "),
        scenario.target,
        match (scenario.target_checks.is_empty(), scenario.met) {
            (true, _) => "-",
            (false, true) => "yes",
            (false, false) => "no",
        }
    )
}

fn format_number(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn heading() -> ScenarioHeading {
        ScenarioHeading {
            scenario: 1,
            name: "boot storm",
            variant: "256 connections".into(),
            unit: "req/s",
            baseline_name: "bare hyper",
            target: ">= 0.7x",
            target_checks: vec![check("ratio", Comparison::AtLeast, 0.7)],
        }
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(Summary::of(&[4.0, 1.0, 3.0, 2.0]), Summary { min: 1.0, median: 2.5, max: 4.0 });
    }

    #[test]
    fn a_target_is_met_on_the_median_ratio() {
        let repeats =
            vec![RepeatFigures::new(80.0, 100.0), RepeatFigures::new(60.0, 100.0), RepeatFigures::new(75.0, 100.0)];
        let report = ScenarioReport::from_repeats(heading(), repeats, Vec::new());
        assert!(report.met);
        let repeats = vec![RepeatFigures::new(60.0, 100.0)];
        assert!(!ScenarioReport::from_repeats(heading(), repeats, Vec::new()).met);
    }

    #[test]
    fn a_failed_scenario_is_not_met_and_shows_its_error_in_the_table() {
        let report = Report {
            machine: MachineInfo::current(),
            started_at_unix_seconds: 0,
            finished_at_unix_seconds: 1,
            quick: true,
            repeats: 1,
            logging: "services at info, to bench-services.log".into(),
            scenarios: vec![ScenarioReport::failed(heading(), "no binary".into())],
        };
        assert!(!report.scenarios[0].met);
        assert!(report.markdown().contains("error: no binary"));
    }
}
