//! numbind-routing: which province's OSS serves a mobile number, decided without I/O.
//!
//! A national platform is a hub in front of provincial systems: a number's subscriber record lives only in the
//! province that issued it. The decision has two tables, both imported all or nothing from an operator's CSV:
//! the [`PortabilityTable`] (a number kept across operators or provinces, 携号转网) is asked first, then the
//! [`SegmentTable`] (the first seven digits, 号段). A number in neither is [`RouteDecision::UnknownSegment`]:
//! it is refused, never guessed. Each [`RoutingTable`] has a [`RoutingVersion`], a fingerprint of its content,
//! which every decision carries so that a record can say which table routed it.

mod csv_rows;
#[cfg(feature = "files")]
mod files;
mod network_prefix;
mod portability;
mod province;
mod segments;

pub use csv_rows::TableImportError;
#[cfg(feature = "files")]
pub use files::RoutingFileError;
pub use network_prefix::{issuing_operator, MobileOperator};
pub use portability::{PortabilityTable, PortedTo, MAX_PORTED_NUMBERS, PORTABILITY_CSV_HEADER};
pub use province::{ProvinceCode, ProvinceCodeError};
pub use segments::{segment_of, SegmentTable, MAX_SEGMENTS, SEGMENT_CSV_HEADER};

use numbind_wire::Msisdn;
use std::fmt;

/// The demo segment table `numbind up` and the simulators use: real China Mobile segments of Beijing and
/// Guangdong (sources in the file's comments).
pub const DEMO_SEGMENTS_CSV: &str = include_str!("../demo/segments.csv");

/// The content fingerprint of a routing table (both tables): 16 hex digits, the same for the same rows in any
/// order, on every host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoutingVersion(u64);

impl fmt::Display for RoutingVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:016x}", self.0)
    }
}

/// Why a number goes to the province it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteBasis {
    /// Its segment is the province's.
    Segment,
    /// The portability table says the province serves it.
    Portability,
}

impl RouteBasis {
    /// `segment` or `portability`, as records and metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteBasis::Segment => "segment",
            RouteBasis::Portability => "portability",
        }
    }
}

/// Where a number goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteDecision {
    /// To this province's OSS.
    Province { province: ProvinceCode, basis: RouteBasis },
    /// Neither table knows the number: refused with its own answer.
    UnknownSegment,
    /// Ported out to another operator: no province of ours serves it.
    LeftOperator,
}

/// The segment table and the portability table, as one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingTable {
    segments: SegmentTable,
    portability: PortabilityTable,
    version: RoutingVersion,
}

impl RoutingTable {
    pub fn new(segments: SegmentTable, portability: PortabilityTable) -> RoutingTable {
        let state = segments.fingerprint(csv_rows::FINGERPRINT_START);
        let state = csv_rows::fingerprint(state, b"--portability--\n");
        let version = RoutingVersion(portability.fingerprint(state));
        RoutingTable { segments, portability, version }
    }

    /// The demo segments, nobody ported.
    pub fn demo() -> RoutingTable {
        match SegmentTable::parse_csv(DEMO_SEGMENTS_CSV) {
            Ok(segments) => RoutingTable::new(segments, PortabilityTable::default()),
            // The demo file is checked by a unit test; an edit that breaks it fails the build's tests.
            Err(error) => unreachable!("the demo segment table does not parse: {error}"),
        }
    }

    /// Where `msisdn` goes: the portability table first, then its segment.
    pub fn route(&self, msisdn: &Msisdn) -> RouteDecision {
        match self.portability.destination_of(msisdn) {
            Some(PortedTo::Province(province)) => RouteDecision::Province { province, basis: RouteBasis::Portability },
            Some(PortedTo::LeftOperator) => RouteDecision::LeftOperator,
            None => match self.segments.province_of(msisdn) {
                Some(province) => RouteDecision::Province { province, basis: RouteBasis::Segment },
                None => RouteDecision::UnknownSegment,
            },
        }
    }

    pub fn version(&self) -> RoutingVersion {
        self.version
    }

    pub fn segments(&self) -> &SegmentTable {
        &self.segments
    }

    pub fn portability(&self) -> &PortabilityTable {
        &self.portability
    }
}

#[cfg(test)]
mod tests;
