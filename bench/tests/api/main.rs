//! The bench's integration tests: quick runs of real scenarios against real servers, checking the report's shape.
#![allow(clippy::unwrap_used)]

mod helpers;
mod quick_runs;
