//! Clients of other components: the agent talks to the platform only.

pub(crate) mod platform;
