//! The deliveries the delivery loop has handed to a session and not yet settled, so that no message is sent
//! twice because of a read of the queue that predates its outcome.
//!
//! A message is claimed when it is handed out and settled once its outcome (delivered, failed, or an attempt
//! with its next time) is committed. Removing it from the set at that point is not enough: the loop may be
//! walking a batch it read before that commit, in which the message still shows as due, and would send it
//! again. So a settled message stays blocked until the next read of the queue starts; that read sees the
//! committed outcome (a read sees every commit made before it began), so it is due again then only when its
//! outcome says so.

use crate::domain::message::MessageId;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
pub(crate) struct DeliveriesInFlight {
    entries: Mutex<HashMap<MessageId, Claim>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// Handed to a session; its outcome is not committed yet.
    Sending,
    /// Its outcome is committed, but the batch being walked may predate that commit.
    Settled,
}

impl DeliveriesInFlight {
    /// Call right before reading the queue: outcomes settled so far are committed and that read sees them.
    pub(crate) fn start_read(&self) {
        self.lock().retain(|_, claim| *claim == Claim::Sending);
    }

    /// Claims a due message for one delivery; `false` when it is being delivered or was settled after the batch
    /// it comes from was read.
    pub(crate) fn claim(&self, message_id: &MessageId) -> bool {
        let mut entries = self.lock();
        if entries.contains_key(message_id) {
            return false;
        }
        entries.insert(message_id.clone(), Claim::Sending);
        true
    }

    /// The outcome of a claimed delivery is committed (or nothing was sent).
    pub(crate) fn settle(&self, message_id: &MessageId) {
        if let Some(claim) = self.lock().get_mut(message_id) {
            *claim = Claim::Settled;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MessageId, Claim>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_claimed_once_while_it_is_being_delivered() {
        let in_flight = DeliveriesInFlight::default();
        let message_id = MessageId::generate();
        assert!(in_flight.claim(&message_id));
        assert!(!in_flight.claim(&message_id));
        in_flight.start_read();
        assert!(!in_flight.claim(&message_id), "a new read does not free a delivery still in flight");
    }

    #[test]
    fn a_settled_message_stays_blocked_for_the_batch_read_before_its_outcome() {
        let in_flight = DeliveriesInFlight::default();
        let message_id = MessageId::generate();
        in_flight.start_read();
        assert!(in_flight.claim(&message_id));
        in_flight.settle(&message_id);
        assert!(!in_flight.claim(&message_id), "the batch in hand may show it as due although it was delivered");
        in_flight.start_read();
        assert!(in_flight.claim(&message_id), "a read after the outcome decides");
    }
}
