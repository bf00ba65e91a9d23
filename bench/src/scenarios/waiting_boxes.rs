//! placeholder
use crate::report::ScenarioReport;
use crate::BenchOptions;

pub async fn run(_options: &BenchOptions) -> anyhow::Result<Vec<ScenarioReport>> {
    anyhow::bail!("not yet")
}
