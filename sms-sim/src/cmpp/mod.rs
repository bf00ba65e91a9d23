//! The SMS centre as a CMPP 2.0/3.0 ISMG: its own listener (`server`), one session per service provider
//! (`session`), and the translation between CMPP PDUs and the message store (`messages`).

mod messages;
pub(crate) mod server;
mod session;
