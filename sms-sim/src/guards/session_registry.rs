//! Bound receiver sessions per account, picked round-robin for each delivery.

use crate::store::QueuedDelivery;
use numbind_smpp::CommandStatus;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

/// One deliver_sm for a session to send; `outcome` gets the deliver_sm_resp command_status.
#[derive(Debug)]
pub(crate) struct DeliveryJob {
    pub(crate) delivery: QueuedDelivery,
    /// Fault injection: send the same message twice.
    pub(crate) duplicate: bool,
    pub(crate) outcome: oneshot::Sender<CommandStatus>,
}

/// A bound receiver session: its registration ID and its job queue.
type RegisteredSession = (u64, mpsc::Sender<DeliveryJob>);

#[derive(Debug, Default)]
pub(crate) struct SessionRegistry {
    sessions: Mutex<HashMap<String, Vec<RegisteredSession>>>,
    next_session_id: AtomicU64,
    round_robin: AtomicUsize,
}

impl SessionRegistry {
    /// Registers a bound receiver of `system_id`; returns its registration ID.
    pub(crate) fn register(&self, system_id: &str, jobs: mpsc::Sender<DeliveryJob>) -> u64 {
        let session_id = self.next_session_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.entry(system_id.to_owned()).or_default().push((session_id, jobs));
        }
        session_id
    }

    pub(crate) fn unregister(&self, system_id: &str, session_id: u64) {
        if let Ok(mut sessions) = self.sessions.lock() {
            if let Some(list) = sessions.get_mut(system_id) {
                list.retain(|(id, _)| *id != session_id);
            }
        }
    }

    /// A bound receiver of the account, round-robin; `None` when none is bound.
    pub(crate) fn pick(&self, system_id: &str) -> Option<mpsc::Sender<DeliveryJob>> {
        let sessions = self.sessions.lock().ok()?;
        let list = sessions.get(system_id).filter(|list| !list.is_empty())?;
        let index = self.round_robin.fetch_add(1, Ordering::Relaxed) % list.len();
        Some(list[index].1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_of_one_account_take_turns_and_leave_cleanly() {
        let registry = SessionRegistry::default();
        let (first, _first_jobs) = mpsc::channel(1);
        let (second, _second_jobs) = mpsc::channel(1);
        let first_id = registry.register("oss", first.clone());
        registry.register("oss", second.clone());
        let picks: Vec<_> = (0..4).map(|_| registry.pick("oss").unwrap()).collect();
        assert!(picks.iter().any(|sender| sender.same_channel(&first)));
        assert!(picks.iter().any(|sender| sender.same_channel(&second)));
        registry.unregister("oss", first_id);
        assert!((0..4).all(|_| registry.pick("oss").unwrap().same_channel(&second)));
        assert!(registry.pick("platform").is_none());
    }
}
