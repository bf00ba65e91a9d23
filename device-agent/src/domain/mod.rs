//! Pure types of the agent: what it reports (`events`) and what buying on the box means (`purchase`). Its retry
//! waits come from `numbind_process::backoff`.

pub mod events;
pub mod purchase;
