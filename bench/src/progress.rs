//! The bench's progress bar: one bar over every repeat of every scenario chosen, saying which scenario, which
//! variant and which repeat runs, with the time left; hidden when nobody reads it (piped, `--log-json`, tests).

use numbind_process::progress::{Audience, Progress};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared by the scenarios through [`crate::BenchOptions`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct BenchProgress {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    progress: Progress,
    repeats: u64,
    /// Scenarios finished before the one running.
    scenarios_done: AtomicU64,
    /// "scenario 2 (activations)": what runs now, before the variant and repeat.
    scenario: Mutex<String>,
}

impl BenchProgress {
    /// A bar of `scenario_count × repeats` steps, drawn for people at a terminal only.
    pub fn start(scenario_count: usize, repeats: usize, audience: Audience) -> BenchProgress {
        let repeats = repeats.max(1) as u64;
        let total = scenario_count.max(1) as u64 * repeats;
        let progress = Progress::start("starting the bench", Some(total), audience);
        BenchProgress {
            inner: Arc::new(Inner {
                progress,
                repeats,
                scenarios_done: AtomicU64::new(0),
                scenario: Mutex::new(String::new()),
            }),
        }
    }

    /// A bar nobody sees (library callers and tests), which still counts.
    pub fn hidden() -> BenchProgress {
        BenchProgress::start(1, 1, Audience::Machines)
    }

    /// Whether the bar is drawn.
    pub fn is_visible(&self) -> bool {
        self.inner.progress.is_visible()
    }

    /// Scenario `number` (`name`) starts; `index` of them have finished.
    pub fn scenario(&self, index: usize, number: u8, name: &str) {
        let label = format!("scenario {number} ({name})");
        self.inner.scenarios_done.store(index as u64, Ordering::Relaxed);
        self.inner.progress.set_finished_items(index as u64 * self.inner.repeats);
        self.inner.progress.say(&format!("{label}: starting"));
        *self.inner.scenario.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = label;
    }

    /// Repeat `repeat` (from 0) of the running scenario starts measuring `variant` (empty when it has one).
    pub fn repeat(&self, variant: &str, repeat: usize) {
        let scenario = self.inner.scenario.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let variant = if variant.is_empty() { String::new() } else { format!(", {variant}") };
        let repeats = self.inner.repeats;
        self.inner.progress.say(&format!("{scenario}{variant}: repeat {}/{repeats}", repeat + 1));
        let done = self.inner.scenarios_done.load(Ordering::Relaxed) * repeats + repeat as u64;
        // Several variants of one scenario each run every repeat: the bar never goes back.
        if done > self.inner.progress.finished_items() {
            self.inner.progress.set_finished_items(done);
        }
    }

    /// Steps finished so far.
    pub fn finished_steps(&self) -> u64 {
        self.inner.progress.finished_items()
    }

    /// Clears the bar, so the table follows on a clean screen.
    pub fn finish(&self) {
        self.inner.progress.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_of_each_scenario_move_the_bar_forward_only() {
        let progress = BenchProgress::start(2, 3, Audience::Machines);
        progress.scenario(0, 1, "boot storm");
        progress.repeat("64 connections", 2);
        progress.repeat("256 connections", 0);
        assert_eq!(progress.finished_steps(), 2, "a later variant's first repeat does not move the bar back");
        progress.scenario(1, 2, "activations");
        progress.repeat("", 1);
        assert_eq!(progress.finished_steps(), 4);
    }
}
