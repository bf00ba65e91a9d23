//! Integration tests of the OSS: its `run` in-process on real sockets, with a real SMS centre where needed.

mod admin;
mod helpers;
mod sms_flow;
