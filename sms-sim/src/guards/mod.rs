//! In-memory guards in front of the SMS centre's work: the per-account submit throttle, the registry of bound
//! receiver sessions and the deliveries in flight.

pub(crate) mod deliveries_in_flight;
pub(crate) mod session_registry;
pub(crate) mod submit_throttle;
