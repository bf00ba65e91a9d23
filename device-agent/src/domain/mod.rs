//! Pure types of the agent: what it reports (`events`). Its retry waits come from `numbind_process::backoff`.

pub mod events;
