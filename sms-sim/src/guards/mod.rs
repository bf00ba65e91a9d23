//! In-memory guards in front of the SMS centre's work: the per-account submit throttle, the registry of bound
//! receiver sessions, the deliveries in flight, the answers awaited from the parts of one delivery, and the
//! window of submits each session stores in one write.

pub(crate) mod deliveries_in_flight;
pub(crate) mod delivery_answers;
pub(crate) mod session_registry;
pub(crate) mod submit_throttle;
pub(crate) mod submit_window;
