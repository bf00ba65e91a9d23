//! The 64-bit CMPP `Msg_Id`, laid out as the specification does, high bits first: month 4, day 5, hour 5,
//! minute 6, second 6, gateway code 22, sequence 16.

use crate::civil_time::CivilTime;

/// A gateway's message identifier. The wire value is kept whole, so an ID from a gateway that fills the bits
/// differently still round-trips; [`MsgId::fields`] reads the specification's layout from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MsgId(u64);

/// The fields of a [`MsgId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgIdFields {
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59.
    pub second: u8,
    /// The ISMG's gateway code, 22 bits.
    pub gateway_code: u32,
    /// The gateway's counter, 16 bits.
    pub sequence: u16,
}

/// A field outside its range in [`MsgId::build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MsgIdError {
    #[error("msg_id field {field} is out of range")]
    OutOfRange { field: &'static str },
}

/// The largest gateway code (22 bits).
pub const MAX_GATEWAY_CODE: u32 = (1 << 22) - 1;

impl MsgId {
    /// The ID with this wire value.
    pub const fn from_u64(value: u64) -> MsgId {
        MsgId(value)
    }

    /// The wire value.
    pub const fn value(self) -> u64 {
        self.0
    }

    /// Packs the fields; every field must be in its range (month 1-12, day 1-31, hour < 24, minute and second
    /// < 60, gateway code < 2^22).
    pub fn build(fields: MsgIdFields) -> Result<MsgId, MsgIdError> {
        let checks: [(&'static str, bool); 6] = [
            ("month", (1..=12).contains(&fields.month)),
            ("day", (1..=31).contains(&fields.day)),
            ("hour", fields.hour < 24),
            ("minute", fields.minute < 60),
            ("second", fields.second < 60),
            ("gateway_code", fields.gateway_code <= MAX_GATEWAY_CODE),
        ];
        if let Some((field, _)) = checks.iter().find(|(_, valid)| !valid) {
            return Err(MsgIdError::OutOfRange { field });
        }
        let value = (u64::from(fields.month) << 60)
            | (u64::from(fields.day) << 55)
            | (u64::from(fields.hour) << 50)
            | (u64::from(fields.minute) << 44)
            | (u64::from(fields.second) << 38)
            | (u64::from(fields.gateway_code) << 16)
            | u64::from(fields.sequence);
        Ok(MsgId(value))
    }

    /// The ID a gateway with `gateway_code` gives its `sequence`-th message at `time`.
    pub fn at(time: CivilTime, gateway_code: u32, sequence: u16) -> Result<MsgId, MsgIdError> {
        MsgId::build(MsgIdFields {
            month: time.month,
            day: time.day,
            hour: time.hour,
            minute: time.minute,
            second: time.second,
            gateway_code,
            sequence,
        })
    }

    /// The specification's fields, read from the bits whatever they hold (a month of 0 or 13 reads as is).
    pub fn fields(self) -> MsgIdFields {
        let bits = |shift: u32, width: u32| (self.0 >> shift) & ((1u64 << width) - 1);
        MsgIdFields {
            month: bits(60, 4) as u8,
            day: bits(55, 5) as u8,
            hour: bits(50, 5) as u8,
            minute: bits(44, 6) as u8,
            second: bits(38, 6) as u8,
            gateway_code: bits(16, 22) as u32,
            sequence: bits(0, 16) as u16,
        }
    }
}

/// A gateway's source of Msg_Ids: its gateway code and a 16-bit counter that wraps.
#[derive(Debug, Clone)]
pub struct MsgIdSequence {
    gateway_code: u32,
    next: u16,
}

impl MsgIdSequence {
    /// Ids for the gateway `gateway_code` (at most [`MAX_GATEWAY_CODE`]).
    pub fn new(gateway_code: u32) -> Result<MsgIdSequence, MsgIdError> {
        if gateway_code > MAX_GATEWAY_CODE {
            return Err(MsgIdError::OutOfRange { field: "gateway_code" });
        }
        Ok(MsgIdSequence { gateway_code, next: 0 })
    }

    /// The next ID, stamped with `time`. A `time` from [`CivilTime`] always has fields in range.
    pub fn next_at(&mut self, time: CivilTime) -> MsgId {
        let sequence = self.next;
        self.next = self.next.wrapping_add(1);
        let fields = MsgIdFields {
            month: time.month.clamp(1, 12),
            day: time.day.clamp(1, 31),
            hour: time.hour.min(23),
            minute: time.minute.min(59),
            second: time.second.min(59),
            gateway_code: self.gateway_code,
            sequence,
        };
        MsgId::build(fields).unwrap_or_default()
    }
}

/// The wire value in decimal, how gateways print it in logs and reports.
impl std::fmt::Display for MsgId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}", self.0)
    }
}

impl std::str::FromStr for MsgId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<MsgId, Self::Err> {
        text.parse::<u64>().map(MsgId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    #[allow(clippy::unusual_byte_groupings)] // the digit groups are the fields
    fn a_known_id_has_the_specified_bit_layout() {
        let fields = MsgIdFields {
            month: 12,
            day: 31,
            hour: 23,
            minute: 59,
            second: 58,
            gateway_code: 0x2A_5A5A,
            sequence: 0xBEEF,
        };
        let id = MsgId::build(fields).unwrap();
        // 1100 11111 10111 111011 111010 1010100101101001011010 1011111011101111
        let expected = 0b1100_11111_10111_111011_111010_1010100101101001011010_1011111011101111u64;
        assert_eq!(id.value(), expected);
        assert_eq!(id.fields(), fields);
        assert_eq!(id.to_string().parse::<MsgId>().unwrap(), id);
    }

    #[test]
    fn out_of_range_fields_are_refused() {
        let valid = MsgIdFields { month: 1, day: 1, hour: 0, minute: 0, second: 0, gateway_code: 0, sequence: 0 };
        assert!(MsgId::build(valid).is_ok());
        assert_eq!(MsgId::build(MsgIdFields { month: 13, ..valid }), Err(MsgIdError::OutOfRange { field: "month" }));
        assert_eq!(
            MsgId::build(MsgIdFields { gateway_code: MAX_GATEWAY_CODE + 1, ..valid }),
            Err(MsgIdError::OutOfRange { field: "gateway_code" })
        );
    }

    #[test]
    fn a_sequence_stamps_the_time_and_counts_up_then_wraps() {
        let time = CivilTime { year: 2026, month: 12, day: 7, hour: 15, minute: 30, second: 5 };
        let mut sequence = MsgIdSequence::new(4242).unwrap();
        let first = sequence.next_at(time).fields();
        assert_eq!((first.month, first.day, first.hour, first.minute, first.second), (12, 7, 15, 30, 5));
        assert_eq!((first.gateway_code, first.sequence), (4242, 0));
        assert_eq!(sequence.next_at(time).fields().sequence, 1);
        sequence.next = u16::MAX;
        sequence.next_at(time);
        assert_eq!(sequence.next_at(time).fields().sequence, 0);
        assert!(MsgIdSequence::new(MAX_GATEWAY_CODE + 1).is_err());
    }

    proptest! {
        #[test]
        fn building_and_reading_fields_round_trips(month in 1u8..=12, day in 1u8..=31, hour in 0u8..24,
            minute in 0u8..60, second in 0u8..60, gateway_code in 0..=MAX_GATEWAY_CODE, sequence in any::<u16>()) {
            let fields = MsgIdFields { month, day, hour, minute, second, gateway_code, sequence };
            prop_assert_eq!(MsgId::build(fields).unwrap().fields(), fields);
        }

        #[test]
        fn any_wire_value_reads_and_keeps_its_bits(value in any::<u64>()) {
            let id = MsgId::from_u64(value);
            let fields = id.fields();
            prop_assert!(fields.month < 16 && fields.gateway_code <= MAX_GATEWAY_CODE);
            prop_assert_eq!(id.value(), value);
        }
    }
}
