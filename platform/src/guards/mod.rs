//! In-memory request guards: the replay guard, poll pacing, session tickets, the terminal keys cache and the
//! long-poll waiters.

pub(crate) mod poll_pacing;
pub(crate) mod replay_guard;
pub(crate) mod session_tickets;
pub(crate) mod terminal_keys;
pub(crate) mod waiters;
