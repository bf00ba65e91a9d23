//! Registered terminal public keys, cached in memory so that authenticating a request needs no database read.
//!
//! Safe because a terminal's row is immutable once registered: no query updates or deletes `terminals` (a
//! re-registration with another key is refused as `key_mismatch`). Whoever adds key rotation or terminal removal
//! must call [`TerminalKeyCache::forget`]. Bounded: past `MAX_CACHED_KEYS` new keys are simply not cached.

use numbind_wire::request_signing::TerminalPublicKey;
use numbind_wire::TerminalId;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

const SHARD_COUNT: usize = 16;
/// About 100 bytes per key: at most ~50 MB.
const MAX_CACHED_KEYS: usize = 500_000;

/// Cheap to clone; clones share the cache.
#[derive(Clone, Default)]
pub(crate) struct TerminalKeyCache {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    shards: [RwLock<HashMap<TerminalId, TerminalPublicKey>>; SHARD_COUNT],
    cached: AtomicUsize,
    hasher: RandomState,
}

impl TerminalKeyCache {
    /// The cached key of `terminal_id`, if any.
    pub(crate) fn get(&self, terminal_id: &TerminalId) -> Option<TerminalPublicKey> {
        let shard = self.shard(terminal_id).read().unwrap_or_else(std::sync::PoisonError::into_inner);
        shard.get(terminal_id).copied()
    }

    /// Remembers the registered key of `terminal_id` (read from the store), unless the cache is full.
    pub(crate) fn remember(&self, terminal_id: &TerminalId, public_key: &TerminalPublicKey) {
        if self.inner.cached.load(Ordering::Relaxed) >= MAX_CACHED_KEYS {
            return;
        }
        let mut shard = self.shard(terminal_id).write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if shard.insert(terminal_id.clone(), *public_key).is_none() {
            self.inner.cached.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Drops a terminal's key (for a future key change or removal of the terminal).
    #[cfg(test)]
    pub(crate) fn forget(&self, terminal_id: &TerminalId) {
        let mut shard = self.shard(terminal_id).write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if shard.remove(terminal_id).is_some() {
            self.inner.cached.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn shard(&self, terminal_id: &TerminalId) -> &RwLock<HashMap<TerminalId, TerminalPublicKey>> {
        let index = self.inner.hasher.hash_one(terminal_id.as_str()) as usize % SHARD_COUNT;
        &self.inner.shards[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::request_signing::TerminalKeyPair;
    use ring::rand::SystemRandom;

    #[test]
    fn a_remembered_key_is_found_until_forgotten() {
        let cache = TerminalKeyCache::default();
        let (key_pair, _) = TerminalKeyPair::generate(&SystemRandom::new()).unwrap();
        let terminal_id = TerminalId::from_public_key(key_pair.public_key().as_bytes());
        assert!(cache.get(&terminal_id).is_none());
        cache.remember(&terminal_id, &key_pair.public_key());
        assert_eq!(cache.get(&terminal_id), Some(key_pair.public_key()));
        cache.forget(&terminal_id);
        assert!(cache.get(&terminal_id).is_none());
        assert_eq!(cache.inner.cached.load(Ordering::Relaxed), 0);
    }
}
