//! User data headers of concatenated SMS (3GPP TS 23.040 9.2.3.24.1 and .8): IEI 0x00 (8-bit reference)
//! and IEI 0x08 (16-bit reference).

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
    fn malformed_headers_are_refused() {
        assert_eq!(split_user_data_header(&[]), None);
        assert_eq!(split_user_data_header(&[9, 0, 3]), None);
        assert_eq!(split_user_data_header(&[5, 0x00, 3, 1, 2, 3]), None);
        assert_eq!(split_user_data_header(&[2, 0x70, 0, b'x']), Some((None, &b"x"[..])));
    }
}
