//! Replay protection of signed terminal requests, in memory: seen (terminal, nonce) pairs within the timestamp window.
//!
//! A signed request is accepted only when its timestamp is within `window` of now (checked before this guard), so
//! a nonce needs remembering only until its request's timestamp leaves the window: every entry is kept until
//! `timestamp + window` and purged after. Nothing is written to disk. Across a restart the guard starts empty, so
//! the platform also refuses every request signed before it started (`timestamp < started_at`): a request captured
//! before a restart cannot be replayed into the new process. The cost is that a box whose clock is behind by `d`
//! seconds is refused (as `replayed_request`, which the agent retries) for at most the first `d` seconds after a
//! restart, and `d` is at most the window or the request would be refused as stale anyway.
//!
//! Entries are 128-bit SHA-256 prefixes of (terminal, nonce), spread over 16 mutex-guarded shards so concurrent
//! requests rarely wait for each other; their number is capped: past the cap, after a purge, the guard answers
//! [`ReplayRefusal::Overloaded`] rather than grow without limit.

use numbind_wire::TerminalId;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const SHARD_COUNT: usize = 16;

/// Why a signed request is refused by the replay guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ReplayRefusal {
    #[error("the nonce was already used by this terminal within the timestamp window")]
    NonceSeen,
    #[error("the request was signed before this platform process started")]
    SignedBeforeStart,
    #[error("too many nonces are remembered")]
    Overloaded,
}

/// One shard: (terminal, nonce) digest → the unix second after which the entry may be forgotten.
type Shard = HashMap<u128, i64>;

/// Cheap to clone; clones share the remembered nonces.
#[derive(Clone)]
pub(crate) struct ReplayGuard {
    inner: Arc<Inner>,
}

struct Inner {
    shards: [Mutex<Shard>; SHARD_COUNT],
    remembered: AtomicUsize,
    max_remembered: usize,
    window_seconds: i64,
    started_at: i64,
}

impl ReplayGuard {
    /// A guard for a process started at `started_at`, accepting timestamps within `window_seconds` of now.
    pub(crate) fn new(started_at: i64, window_seconds: i64, max_remembered: usize) -> Self {
        ReplayGuard {
            inner: Arc::new(Inner {
                shards: std::array::from_fn(|_| Mutex::new(Shard::new())),
                remembered: AtomicUsize::new(0),
                max_remembered,
                window_seconds,
                started_at,
            }),
        }
    }

    /// Records the nonce of a request whose signature and timestamp window were already checked.
    pub(crate) fn admit(
        &self,
        terminal_id: &TerminalId,
        nonce: &str,
        timestamp_unix_seconds: i64,
        now: i64,
    ) -> Result<(), ReplayRefusal> {
        if timestamp_unix_seconds < self.inner.started_at {
            return Err(ReplayRefusal::SignedBeforeStart);
        }
        let key = entry_key(terminal_id, nonce);
        let forget_after = timestamp_unix_seconds.saturating_add(self.inner.window_seconds);
        match self.insert_if_room(key, forget_after) {
            Err(ReplayRefusal::Overloaded) => {
                // Full: forget the nonces whose window has passed (every shard), then try once more.
                self.purge_expired(now);
                self.insert_if_room(key, forget_after)
            }
            outcome => outcome,
        }
    }

    /// One lock and one probe of the table: with millions of nonces remembered, each probe is a cache miss.
    fn insert_if_room(&self, key: u128, forget_after: i64) -> Result<(), ReplayRefusal> {
        let mut shard = self.shard_of(key);
        let Entry::Vacant(vacant) = shard.entry(key) else {
            return Err(ReplayRefusal::NonceSeen);
        };
        if self.inner.remembered.load(Ordering::Relaxed) >= self.inner.max_remembered {
            return Err(ReplayRefusal::Overloaded);
        }
        vacant.insert(forget_after);
        self.inner.remembered.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Forgets nonces whose requests' timestamps have left the window; returns how many were forgotten.
    pub(crate) fn purge_expired(&self, now: i64) -> usize {
        let mut forgotten = 0;
        for shard in &self.inner.shards {
            let mut shard = lock(shard);
            let before = shard.len();
            shard.retain(|_, forget_after| *forget_after >= now);
            forgotten += before - shard.len();
        }
        self.inner.remembered.fetch_sub(forgotten, Ordering::Relaxed);
        forgotten
    }

    /// How many nonces are remembered now.
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.inner.remembered.load(Ordering::Relaxed)
    }

    fn shard_of(&self, key: u128) -> MutexGuard<'_, Shard> {
        lock(&self.inner.shards[(key as usize) % SHARD_COUNT])
    }
}

/// A poisoned shard only means another thread panicked mid-insert; the map itself is still consistent.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 128 bits of SHA-256 over the terminal ID and the nonce: collision-free in practice, 16 bytes per entry.
fn entry_key(terminal_id: &TerminalId, nonce: &str) -> u128 {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(terminal_id.as_str().as_bytes());
    context.update(&[0]);
    context.update(nonce.as_bytes());
    let digest = context.finish();
    let mut prefix = [0_u8; 16];
    prefix.copy_from_slice(&digest.as_ref()[..16]);
    u128::from_le_bytes(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_000_000;
    const WINDOW: i64 = 300;

    fn terminal(number: u32) -> TerminalId {
        TerminalId::parse(&format!("STB-{number:06}")).unwrap()
    }

    #[test]
    fn a_nonce_is_admitted_once_per_terminal() {
        let guard = ReplayGuard::new(START, WINDOW, 100);
        assert_eq!(guard.admit(&terminal(1), "nonce-0000000000001", START, START), Ok(()));
        assert_eq!(guard.admit(&terminal(1), "nonce-0000000000001", START, START + 5), Err(ReplayRefusal::NonceSeen));
        assert_eq!(guard.admit(&terminal(2), "nonce-0000000000001", START, START + 5), Ok(()));
        assert_eq!(guard.remembered(), 2);
    }

    #[test]
    fn a_request_signed_before_the_process_started_is_refused() {
        let guard = ReplayGuard::new(START, WINDOW, 100);
        assert_eq!(
            guard.admit(&terminal(1), "nonce-0000000000001", START - 1, START),
            Err(ReplayRefusal::SignedBeforeStart)
        );
        assert_eq!(guard.remembered(), 0);
    }

    #[test]
    fn nonces_are_remembered_until_their_timestamp_leaves_the_window_then_purged() {
        let guard = ReplayGuard::new(START, WINDOW, 100);
        guard.admit(&terminal(1), "nonce-0000000000001", START, START).unwrap();
        guard.admit(&terminal(1), "nonce-0000000000002", START + 100, START + 100).unwrap();
        assert_eq!(guard.purge_expired(START + WINDOW), 0, "still inside the window");
        assert_eq!(guard.purge_expired(START + WINDOW + 1), 1);
        assert_eq!(guard.remembered(), 1);
        assert_eq!(
            guard.admit(&terminal(1), "nonce-0000000000002", START + 100, START + WINDOW + 1),
            Err(ReplayRefusal::NonceSeen)
        );
    }

    #[test]
    fn the_guard_is_bounded_and_makes_room_by_purging_before_refusing() {
        let guard = ReplayGuard::new(START, WINDOW, 3);
        for index in 0..3 {
            guard.admit(&terminal(1), &format!("nonce-000000000000{index}"), START, START).unwrap();
        }
        assert_eq!(guard.admit(&terminal(1), "nonce-0000000000009", START, START), Err(ReplayRefusal::Overloaded));
        assert_eq!(
            guard.admit(&terminal(1), "nonce-0000000000001", START, START),
            Err(ReplayRefusal::NonceSeen),
            "a replay is refused as a replay even when the guard is full"
        );
        assert_eq!(guard.remembered(), 3);
        let later = START + WINDOW + 1;
        assert_eq!(guard.admit(&terminal(1), "nonce-0000000000009", later, later), Ok(()), "expired entries purged");
        assert_eq!(guard.remembered(), 1);
    }

    #[test]
    fn concurrent_replays_of_one_nonce_admit_exactly_one() {
        let guard = ReplayGuard::new(START, WINDOW, 1_000);
        let admitted: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| guard.admit(&terminal(7), "nonce-0000000000007", START, START).is_ok()))
                .collect();
            handles.into_iter().map(|handle| usize::from(handle.join().unwrap())).sum()
        });
        assert_eq!(admitted, 1);
    }
}
