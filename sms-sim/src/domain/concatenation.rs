//! Where a part of a concatenated SMS belongs: from its user data header (3GPP TS 23.040 9.2.3.24.1 and .8:
//! IEI 0x00, 8-bit reference, and IEI 0x08, 16-bit reference) or from the SMPP SAR TLVs (SMPP 3.4 section
//! 5.3.2.22 to 5.3.2.24: `sar_msg_ref_num`, `sar_total_segments`, `sar_segment_seqnum`).

/// Where one part belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConcatenatedPart {
    pub(crate) reference: u16,
    pub(crate) total: u8,
    pub(crate) sequence: u8,
}

/// Splits octets that start with a user data header into (concatenation info if any, the text octets).
/// `None` when the header is malformed.
pub(crate) fn split_user_data_header(octets: &[u8]) -> Option<(Option<ConcatenatedPart>, &[u8])> {
    let header_length = usize::from(*octets.first()?);
    let header = octets.get(1..=header_length)?;
    let body = octets.get(header_length + 1..)?;
    let mut part = None;
    let mut position = 0;
    while position < header.len() {
        let identifier = header[position];
        let length = usize::from(*header.get(position + 1)?);
        let element = header.get(position + 2..position + 2 + length)?;
        part = match (identifier, element) {
            (0x00, [reference, total, sequence]) => Some(concatenated(u16::from(*reference), *total, *sequence)?),
            (0x08, [high, low, total, sequence]) => {
                Some(concatenated(u16::from_be_bytes([*high, *low]), *total, *sequence)?)
            }
            _ => part,
        };
        position += 2 + length;
    }
    Some((part, body))
}

/// The part the SAR TLV values describe: `Ok(None)` when none is present, `Err` when they are incomplete or
/// inconsistent (a reference of two octets, a total and a sequence of one, sequence within 1..=total).
pub(crate) fn sar_part(
    reference: Option<&[u8]>,
    total: Option<&[u8]>,
    sequence: Option<&[u8]>,
) -> Result<Option<ConcatenatedPart>, ()> {
    match (reference, total, sequence) {
        (None, None, None) => Ok(None),
        (Some(&[high, low]), Some(&[total]), Some(&[sequence])) => {
            concatenated(u16::from_be_bytes([high, low]), total, sequence).map(Some).ok_or(())
        }
        _ => Err(()),
    }
}

fn concatenated(reference: u16, total: u8, sequence: u8) -> Option<ConcatenatedPart> {
    (total >= 1 && (1..=total).contains(&sequence)).then_some(ConcatenatedPart { reference, total, sequence })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_reference_sizes_parse() {
        let eight_bit = [5, 0x00, 3, 0x2A, 2, 1, b'h', b'i'];
        assert_eq!(
            split_user_data_header(&eight_bit),
            Some((Some(ConcatenatedPart { reference: 0x2A, total: 2, sequence: 1 }), &b"hi"[..]))
        );
        let sixteen_bit = [6, 0x08, 4, 0x01, 0x02, 3, 3, 0x4E, 0x2D];
        assert_eq!(
            split_user_data_header(&sixteen_bit),
            Some((Some(ConcatenatedPart { reference: 0x0102, total: 3, sequence: 3 }), &[0x4E, 0x2D][..]))
        );
    }

    #[test]
    fn sar_values_describe_a_part_only_when_complete_and_consistent() {
        assert_eq!(sar_part(None, None, None), Ok(None));
        let part = sar_part(Some(&[0x01, 0x02]), Some(&[3]), Some(&[2]));
        assert_eq!(part, Ok(Some(ConcatenatedPart { reference: 0x0102, total: 3, sequence: 2 })));
        assert_eq!(sar_part(Some(&[0x01, 0x02]), Some(&[3]), None), Err(()));
        assert_eq!(sar_part(Some(&[0x01, 0x02]), Some(&[3]), Some(&[4])), Err(()));
        assert_eq!(sar_part(Some(&[0x01]), Some(&[3]), Some(&[1])), Err(()));
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert_eq!(split_user_data_header(&[]), None);
        assert_eq!(split_user_data_header(&[9, 0, 3]), None);
        assert_eq!(split_user_data_header(&[5, 0x00, 3, 1, 2, 3]), None);
        assert_eq!(split_user_data_header(&[2, 0x70, 0, b'x']), Some((None, &b"x"[..])));
    }
}
