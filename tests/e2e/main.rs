//! End-to-end tests: the real components as separate processes on loopback, driven as a user would.

mod activation;
mod helpers;
mod refusals;
mod whole_system;
