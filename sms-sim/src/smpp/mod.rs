//! The SMPP side of the SMS centre: the accept loop and one session task per ESME connection (the registry of
//! bound receivers is in `guards/`, the delivery loop that feeds them in `workers/`).

mod commands;
mod deliver;
mod in_flight;
pub(crate) mod server;
mod session;
mod submit;
