//! The seven scenarios; each measures numbind and its baseline alternately, repeat by repeat.

pub mod activations;
pub mod agent_footprint;
pub mod boot_storm;
pub mod hub;
pub mod purchases;
pub mod smsc_throughput;
pub mod waiting_boxes;

use std::time::Duration;

/// How long one measurement lasts: short in quick mode (a smoke run), long enough to be steady otherwise.
pub(crate) fn measurement_duration(quick: bool) -> Duration {
    if quick {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3)
    }
}
