//! CPU time the bench process spends, read from `/proc` (Linux): the whole process's user+system time, and each
//! live thread's on-CPU time by thread name, so a scenario can report CPU per operation beside its rate. Both the
//! measured servers and the load generator run in this process, so the total is what the machine spent on a round.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/<pid>/stat` (`sysconf(_SC_CLK_TCK)`, 100 on every Linux this runs on).
const TICKS_PER_SECOND: f64 = 100.0;

/// The process's CPU time at one instant: the total (user + system, exited threads included) and by thread name.
#[derive(Debug, Clone, Default)]
pub struct CpuSample {
    pub total: Duration,
    pub by_thread_name: BTreeMap<String, Duration>,
}

impl CpuSample {
    /// The process's CPU time now; `None` where `/proc` cannot tell (not Linux).
    pub fn now() -> Option<CpuSample> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let (user, system) = user_and_system_ticks(&stat)?;
        let total = Duration::from_secs_f64((user + system) as f64 / TICKS_PER_SECOND);
        Some(CpuSample { total, by_thread_name: threads_by_name() })
    }

    /// What was spent from `earlier` to this sample, by thread name (threads that ended meanwhile are missing from
    /// the names, not from the total).
    pub fn since(&self, earlier: &CpuSample) -> CpuSample {
        let by_thread_name = self
            .by_thread_name
            .iter()
            .map(|(name, spent)| {
                let before = earlier.by_thread_name.get(name).copied().unwrap_or_default();
                (name.clone(), spent.saturating_sub(before))
            })
            .collect();
        CpuSample { total: self.total.saturating_sub(earlier.total), by_thread_name }
    }
}

/// Waits until the process is nearly idle (under a tenth of a core over `step`), at most `limit`, so that the work
/// a round left behind (receipts, events, checkpoints) is counted with it; how long it waited.
pub async fn wait_until_idle(step: Duration, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut last = CpuSample::now();
    while started.elapsed() < limit {
        tokio::time::sleep(step).await;
        let sample = CpuSample::now();
        let busy = match (&last, &sample) {
            (Some(last), Some(sample)) => sample.total.saturating_sub(last.total),
            _ => return started.elapsed(),
        };
        if busy.as_secs_f64() < step.as_secs_f64() / 10.0 {
            return started.elapsed().saturating_sub(step);
        }
        last = sample;
    }
    started.elapsed()
}

/// Fields 14 and 15 (utime, stime) of a `/proc/<pid>/stat` line; the name in parentheses may hold spaces.
fn user_and_system_ticks(stat: &str) -> Option<(u64, u64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// Each live thread's on-CPU time (`/proc/self/task/*/schedstat`, nanoseconds), summed by thread name.
fn threads_by_name() -> BTreeMap<String, Duration> {
    let mut by_name = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return by_name };
    for task in tasks.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).map(|name| name.trim().to_owned());
        let on_cpu = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|text| text.split_whitespace().next()?.parse::<u64>().ok());
        if let (Ok(name), Some(nanoseconds)) = (name, on_cpu) {
            *by_name.entry(name).or_insert(Duration::ZERO) += Duration::from_nanos(nanoseconds);
        }
    }
    by_name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_times_follow_the_parenthesised_name_even_with_spaces_in_it() {
        let stat = "4242 (bench (x) y) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0";
        assert_eq!(user_and_system_ticks(stat), Some((250, 75)));
        assert_eq!(user_and_system_ticks("4242 (cut"), None);
    }

    #[test]
    fn spinning_shows_in_the_total_and_under_this_threads_name() {
        let Some(before) = CpuSample::now() else { return };
        // Spins until one thread (this one) shows 60 ms: other tests of this process run on other threads at the same
        // time, so the total alone would be reached sooner (on a busy machine it takes longer than 60 ms of wall time).
        let started = Instant::now();
        let mut spent = CpuSample::default();
        let busiest = |sample: &CpuSample| sample.by_thread_name.values().copied().max().unwrap_or_default();
        while busiest(&spent) < Duration::from_millis(60) && started.elapsed() < Duration::from_secs(30) {
            let mut spin = 0u64;
            for _ in 0..100_000 {
                spin = std::hint::black_box(spin.wrapping_add(1));
            }
            spent = CpuSample::now().expect("read once, readable again").since(&before);
        }
        assert!(spent.total >= Duration::from_millis(60), "{spent:?}");
        assert!(spent.by_thread_name.values().any(|time| *time >= Duration::from_millis(40)), "{spent:?}");
    }
}
