//! The SMPP side of the SMS centre: the accept loop, one session task per ESME connection, the registry of
//! bound receivers, and the delivery loop that moves queued MO and receipts to them.

pub(crate) mod delivery;
mod in_flight;
pub(crate) mod registry;
pub(crate) mod server;
mod session;
mod submit;
