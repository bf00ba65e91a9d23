//! Long-poll waiters per activation: a watch channel each, created on demand, dropped with the last waiter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The registry of activations that boxes are waiting on.
#[derive(Clone, Default)]
pub struct ActivationWaiters {
    senders: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
}

/// One waiting box; dropping it unregisters (and frees the channel when it was the last one).
pub struct WaitTicket {
    registry: ActivationWaiters,
    activation_id: String,
    receiver: Option<watch::Receiver<u64>>,
}

impl ActivationWaiters {
    /// Registers a waiter; call before re-reading the activation so that no wake-up is lost.
    pub fn subscribe(&self, activation_id: &str) -> WaitTicket {
        let mut senders = self.senders.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let receiver = senders.entry(activation_id.to_owned()).or_insert_with(|| watch::channel(0).0).subscribe();
        WaitTicket { registry: self.clone(), activation_id: activation_id.to_owned(), receiver: Some(receiver) }
    }

    /// Wakes every box waiting on this activation.
    pub fn wake(&self, activation_id: &str) {
        let senders = self.senders.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = senders.get(activation_id) {
            sender.send_modify(|generation| *generation += 1);
        }
    }

    /// How many activations have at least one waiter.
    pub fn watched_activation_count(&self) -> usize {
        self.senders.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }
}

impl WaitTicket {
    /// Completes when the activation is woken after this ticket was taken.
    pub async fn woken(&mut self) {
        if let Some(receiver) = self.receiver.as_mut() {
            // An error means the sender is gone, which cannot happen while a receiver is registered.
            let _ = receiver.changed().await;
        }
    }
}

impl Drop for WaitTicket {
    fn drop(&mut self) {
        drop(self.receiver.take());
        let mut senders = self.registry.senders.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if senders.get(&self.activation_id).is_some_and(|sender| sender.receiver_count() == 0) {
            senders.remove(&self.activation_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_reaches_every_waiter_and_the_last_one_out_cleans_up() {
        let waiters = ActivationWaiters::default();
        let mut first = waiters.subscribe("act-1");
        let mut second = waiters.subscribe("act-1");
        assert_eq!(waiters.watched_activation_count(), 1);
        waiters.wake("act-1");
        first.woken().await;
        second.woken().await;
        drop(first);
        assert_eq!(waiters.watched_activation_count(), 1);
        drop(second);
        assert_eq!(waiters.watched_activation_count(), 0);
        waiters.wake("act-1");
    }
}
