//! Helpers: quick bench options in a temporary directory.

use numbind_bench::BenchOptions;
use tempfile::TempDir;

pub(crate) fn quick_options(scenarios: &[u8]) -> (BenchOptions, TempDir) {
    let directory = tempfile::tempdir().unwrap();
    let mut options = BenchOptions::new(directory.path().to_owned());
    options.quick = true;
    options.repeats = 1;
    options.scenarios = scenarios.to_vec();
    (options, directory)
}
