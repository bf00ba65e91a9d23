//! Integration tests of the platform over real sockets and a real SQLite file: one binary, one module per area.

// Test helpers panic on setup failures by design: a broken harness must fail the test loudly.
#![allow(clippy::unwrap_used)]

mod activations;
mod audit_chain;
mod audit_witness;
mod authentication;
mod bindings;
mod config_files;
mod console;
mod console_disputes;
mod console_language;
mod guessing_limits;
mod helpers;
mod hub_checks;
mod lifecycle;
mod manifest;
mod money_exports;
mod notifications;
mod openapi;
mod operations;
mod operators;
mod overload;
mod payment_helpers;
mod payments;
mod postgres;
mod provinces;
mod redemptions;
mod replay_across_restart;
mod sessions;
mod statement_schedule;
