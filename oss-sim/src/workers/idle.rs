//! How long a worker with nothing due sleeps before it looks again.

use numbind_process::clock::now_unix_millis;
use std::time::Duration;

/// How long an idle worker sleeps: until `next_due_at_ms`, at least 10 ms, at most `idle`.
pub(crate) fn idle_wait(next_due_at_ms: Option<i64>, idle: Duration) -> Duration {
    match next_due_at_ms {
        Some(due) => {
            let millis = u64::try_from(due.saturating_sub(now_unix_millis())).unwrap_or(0);
            Duration::from_millis(millis).clamp(Duration::from_millis(10), idle.max(Duration::from_millis(10)))
        }
        None => idle,
    }
}
