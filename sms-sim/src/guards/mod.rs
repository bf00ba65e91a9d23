//! In-memory guards in front of the SMS centre's work: the per-account submit throttle and the registry of bound
//! receiver sessions.

pub(crate) mod session_registry;
pub(crate) mod submit_throttle;
