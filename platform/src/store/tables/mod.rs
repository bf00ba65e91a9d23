//! One module per table of the platform's database: its columns, row reading and single-table statements. A
//! table module imports no sibling; what spans tables is a use case in `store/`, above these.

pub(super) mod activations;
pub(super) mod audit_checkpoints;
pub(super) mod audit_events;
pub(super) mod bindings;
pub(super) mod manifest;
pub(super) mod oss_outbox;
pub(super) mod outbox;
pub(super) mod terminals;
