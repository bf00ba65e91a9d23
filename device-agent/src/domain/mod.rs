//! Pure types of the agent: what it reports (`events`) and how long it waits before retrying (`backoff`).

pub mod backoff;
pub mod events;
