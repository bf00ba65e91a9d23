//! End-to-end tests: the real components as separate processes on loopback, driven as a user would.
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap should fail loudly")]

mod activation;
mod audit_witness;
mod box_screen;
mod c_box;
mod command_line;
mod components_one_by_one;
mod disputes;
#[allow(dead_code, reason = "shared with the fault suite, which uses the restart helpers")]
mod helpers;
mod hostile_host;
mod hostile_network;
mod hub;
mod hub_billing;
mod launch;
mod lifecycle;
mod operations;
mod operator_doors;
mod over_cmpp;
mod privacy;
mod purchases;
mod reconcile_payments;
mod reconciliation_console;
mod refusals;
mod relay_proxy;
mod routing_reload;
mod self_service;
mod settlement;
mod signed_client;
mod statements;
mod stopping;
mod storage;
mod threats;
mod tls;
mod whole_system;
