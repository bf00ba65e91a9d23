//! Pure types and decisions of the SMS centre: message IDs and states, routing, receipts, throttling and the
//! SMPP session state machine. No I/O here.

pub(crate) mod concatenation;
pub(crate) mod message;
pub(crate) mod receipt;
pub(crate) mod routing;
pub(crate) mod session_state;
pub(crate) mod throttle;
