//! Latency recording: microseconds in a Vec, sorted once, read as percentiles (HDR-style, exact).

use std::time::Duration;

/// Every latency of one measurement, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct LatencyRecorder {
    microseconds: Vec<u64>,
    sorted: bool,
}

impl LatencyRecorder {
    pub fn record(&mut self, latency: Duration) {
        self.microseconds.push(latency.as_micros().min(u128::from(u64::MAX)) as u64);
        self.sorted = false;
    }

    pub fn merge(&mut self, other: LatencyRecorder) {
        self.microseconds.extend(other.microseconds);
        self.sorted = false;
    }

    pub fn count(&self) -> usize {
        self.microseconds.len()
    }

    /// The latency under which `quantile` (0..=1) of the samples fall, in milliseconds; 0 without samples.
    pub fn quantile_milliseconds(&mut self, quantile: f64) -> f64 {
        if self.microseconds.is_empty() {
            return 0.0;
        }
        if !self.sorted {
            self.microseconds.sort_unstable();
            self.sorted = true;
        }
        let last = self.microseconds.len() - 1;
        let index = ((last as f64) * quantile.clamp(0.0, 1.0)).round() as usize;
        self.microseconds[index.min(last)] as f64 / 1000.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_sorted_samples() {
        let mut recorder = LatencyRecorder::default();
        for milliseconds in (1..=100).rev() {
            recorder.record(Duration::from_millis(milliseconds));
        }
        assert_eq!(recorder.count(), 100);
        assert_eq!(recorder.quantile_milliseconds(0.0), 1.0);
        assert_eq!(recorder.quantile_milliseconds(0.5), 51.0);
        assert_eq!(recorder.quantile_milliseconds(0.99), 99.0);
        assert_eq!(recorder.quantile_milliseconds(1.0), 100.0);
    }

    #[test]
    fn an_empty_recorder_reads_zero() {
        assert_eq!(LatencyRecorder::default().quantile_milliseconds(0.99), 0.0);
    }
}
