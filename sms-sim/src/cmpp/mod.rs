//! The SMS centre as a CMPP 2.0/3.0 ISMG: its own listener (`server`), one session per service provider
//! (`session`) checked at CONNECT by `login`, the translation between CMPP PDUs and the message store
//! (`messages`), the window of SUBMITs stored in one write (`submits`), and the answers to QUERY and CANCEL
//! (`queries`).

mod login;
mod messages;
mod queries;
pub(crate) mod server;
mod session;
mod submits;
