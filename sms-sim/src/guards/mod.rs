//! In-memory guards in front of the SMS centre's work: the per-account submit throttle.

pub(crate) mod submit_throttle;
