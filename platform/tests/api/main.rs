//! Integration tests of the platform over real sockets and a real SQLite file: one binary, one module per area.

mod activations;
mod authentication;
mod bindings;
mod helpers;
mod operations;
mod redemptions;
