//! Progress of long commands (bench, exports, reconciliation, statements, settlement): a bar on stderr with what
//! is being done and the time left, drawn only when stderr is a terminal and the command prints for people. Piped,
//! or with `--json`, nothing extra is printed; the counts are kept either way.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Who reads the command's output: a person at a terminal gets a bar; a machine (`--json`, a pipe) gets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    People,
    Machines,
}

impl Audience {
    /// `Machines` when the command was asked for JSON, else `People`.
    pub fn from_json_flag(json: bool) -> Audience {
        if json {
            Audience::Machines
        } else {
            Audience::People
        }
    }
}

/// One piece of long work: its bar (hidden when nobody should see it) and its count of finished items.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Starts showing `what` (for example "exporting payments"), with `total` items when known (a bar with an
    /// estimate of the time left) or a spinner with a count when not.
    pub fn start(what: &str, total: Option<u64>, audience: Audience) -> Progress {
        let visible = audience == Audience::People && std::io::stderr().is_terminal();
        Progress::start_on(what, total, visible)
    }

    fn start_on(what: &str, total: Option<u64>, visible: bool) -> Progress {
        let bar = match total {
            Some(total) => ProgressBar::with_draw_target(Some(total), draw_target(visible)).with_style(bar_style()),
            None => ProgressBar::with_draw_target(None, draw_target(visible)).with_style(spinner_style()),
        };
        bar.set_message(what.to_string());
        if visible {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Progress { bar }
    }

    /// Counts `items` more as finished.
    pub fn advance(&self, items: u64) {
        self.bar.inc(items);
    }

    /// Says what is being done now (the bar's text).
    pub fn say(&self, what: &str) {
        self.bar.set_message(what.to_string());
    }

    /// Sets how many items are finished (for work that knows where it stands rather than counting steps).
    pub fn set_finished_items(&self, items: u64) {
        self.bar.set_position(items);
    }

    /// Whether the bar is drawn (a person at a terminal), so that a command can leave out lines the bar says.
    pub fn is_visible(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// Clears the bar without taking it (for a bar shared by several tasks); it draws nothing more.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }

    /// How many items are finished.
    pub fn finished_items(&self) -> u64 {
        self.bar.position()
    }

    /// Ends the work and clears the bar, so the command's own output follows on a clean line.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

fn draw_target(visible: bool) -> ProgressDrawTarget {
    if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}: {pos} done ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_bar_still_counts_what_finished() {
        let progress = Progress::start_on("exporting payments", Some(10), false);
        progress.advance(3);
        progress.say("exporting refunds");
        progress.advance(4);
        assert_eq!(progress.finished_items(), 7);
        progress.finish();
    }

    #[test]
    fn machines_never_get_a_bar() {
        // Under `cargo test` stderr is captured, not a terminal; either way a JSON audience gets a hidden bar.
        let progress = Progress::start("reconciling", None, Audience::from_json_flag(true));
        assert!(progress.bar.is_hidden());
        progress.advance(2);
        assert_eq!(progress.finished_items(), 2);
    }
}
