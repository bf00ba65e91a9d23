//! Integration tests of the OSS: its `run` in-process on real sockets, with the real SMS centre and platform
//! where a test needs them.

// Tests may unwrap (helpers too): a panic is how a test fails.
#![allow(clippy::unwrap_used)]

mod admin;
mod audit_checkpoints;
mod bill_lines;
mod binding_flow;
mod concurrency;
mod guessing_limits;
mod helpers;
mod openapi;
mod payment_answers;
mod revocations;
mod sms_flow;
mod terminal;
