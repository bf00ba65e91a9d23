//! Long-poll waiters per activation: a wake-up point each (a `Notify` and a generation), created on demand,
//! dropped with the last waiter. About 150 bytes per watched activation, held for the whole wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The registry of activations that boxes are waiting on.
#[derive(Clone, Default)]
pub(crate) struct ActivationWaiters {
    points: Arc<Mutex<HashMap<Arc<str>, Arc<WakePoint>>>>,
}

/// Where the waiters of one activation wait: `generation` counts the wake-ups.
#[derive(Default)]
struct WakePoint {
    notify: Notify,
    generation: AtomicU64,
}

/// One waiting box; dropping it unregisters (and frees the wake-up point when it was the last one).
pub(crate) struct WaitTicket {
    registry: ActivationWaiters,
    activation_id: Arc<str>,
    point: Arc<WakePoint>,
    /// The generation when the ticket was taken: any later wake-up ends the wait.
    seen_generation: u64,
}

/// The wake-up key of a terminal's binding, which a watching box long-polls (`GET .../binding?wait_seconds=N`).
/// Every path that binds or revokes wakes it once its change is committed.
pub(crate) fn binding_waiter_key(terminal_id: &numbind_wire::TerminalId) -> String {
    format!("binding:{terminal_id}")
}

impl ActivationWaiters {
    /// Registers a waiter; call before re-reading the activation so that no wake-up is lost.
    pub(crate) fn subscribe(&self, activation_id: &str) -> WaitTicket {
        let mut points = self.points.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (activation_id, point) = match points.get_key_value(activation_id) {
            Some((key, point)) => (key.clone(), point.clone()),
            None => {
                let (key, point) = (Arc::<str>::from(activation_id), Arc::new(WakePoint::default()));
                points.insert(key.clone(), point.clone());
                (key, point)
            }
        };
        let seen_generation = point.generation.load(Ordering::SeqCst);
        WaitTicket { registry: self.clone(), activation_id, point, seen_generation }
    }

    /// Wakes every box waiting on this activation.
    pub(crate) fn wake(&self, activation_id: &str) {
        let points = self.points.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(point) = points.get(activation_id) {
            point.generation.fetch_add(1, Ordering::SeqCst);
            point.notify.notify_waiters();
        }
    }

    /// How many activations have at least one waiter.
    #[cfg(test)]
    pub(crate) fn watched_activation_count(&self) -> usize {
        self.points.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
    }
}

impl WaitTicket {
    /// Completes when the activation is woken after this ticket was taken.
    pub(crate) async fn woken(&self) {
        loop {
            // Created before the check: a `Notified` receives every `notify_waiters` made after its creation, so a
            // wake-up between the check and the await is not lost.
            let notified = self.point.notify.notified();
            if self.point.generation.load(Ordering::SeqCst) != self.seen_generation {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for WaitTicket {
    fn drop(&mut self) {
        let mut points = self.registry.points.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Under the registry's lock nobody else can take a ticket: two owners left are the map and this ticket.
        if Arc::strong_count(&self.point) == 2 {
            points.remove(&self.activation_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wake_before_the_wait_is_not_lost_and_a_later_ticket_waits_for_the_next() {
        let waiters = ActivationWaiters::default();
        let early = waiters.subscribe("act-1");
        waiters.wake("act-1");
        early.woken().await;
        let late = waiters.subscribe("act-1");
        let mut wait = Box::pin(late.woken());
        assert!(futures_util::FutureExt::now_or_never(&mut wait).is_none());
        waiters.wake("act-1");
        wait.await;
    }

    #[tokio::test]
    async fn a_wake_reaches_every_waiter_and_the_last_one_out_cleans_up() {
        let waiters = ActivationWaiters::default();
        let first = waiters.subscribe("act-1");
        let second = waiters.subscribe("act-1");
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
