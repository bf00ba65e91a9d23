//! Pure types of the agent: what it reports (`events`), why the platform could not be reached (`connection`)
//! and what buying on the box means (`purchase`). Its retry waits come from `numbind_process::backoff`.

pub mod connection;
pub mod events;
pub mod purchase;
