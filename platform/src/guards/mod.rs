//! In-memory request guards: the replay guard, poll pacing, session tickets, the terminal keys cache and the
//! long-poll waiters.

pub mod poll_pacing;
pub mod replay_guard;
pub mod session_tickets;
pub mod terminal_keys;
pub mod waiters;
