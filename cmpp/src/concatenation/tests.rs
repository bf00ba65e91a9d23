//! Splitting and reassembly: boundaries, headers, time limits, and a round trip over any text.

use super::*;
use crate::text::decode_text;
use proptest::prelude::*;

#[test]
fn a_short_message_is_one_part_without_a_header() {
    let parts = split_text("BIND 123456", 7).unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!((parts[0].pk_total, parts[0].pk_number, parts[0].tp_udhi), (1, 1, 0));
    assert_eq!(split_text(&"a".repeat(159), 7).unwrap().len(), 1);
    assert_eq!(split_text(&"中".repeat(70), 7).unwrap().len(), 1);
}

#[test]
fn a_long_message_gets_numbered_parts_with_the_concatenation_header() {
    let parts = split_text(&"中".repeat(71), 0x2A).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(&parts[0].content[..6], &[0x05, 0x00, 0x03, 0x2A, 2, 1]);
    assert_eq!(&parts[1].content[..6], &[0x05, 0x00, 0x03, 0x2A, 2, 2]);
    assert_eq!(parts[0].content.len(), 140);
    assert!(parts.iter().all(|part| part.tp_udhi == 1 && part.pk_total == 2 && part.msg_fmt == MsgFmt::Ucs2));
    assert_eq!(split_text("", 1), Err(SplitError::Empty));
    assert_eq!(split_text(&"a".repeat(134 * 256), 1), Err(SplitError::TooManyParts));
}

#[test]
fn a_surrogate_pair_is_never_cut_between_parts() {
    let text = format!("{}😀{}", "a中".repeat(33), "b".repeat(100));
    for part in split_text(&text, 1).unwrap() {
        let (_, payload) = parse_user_data_header(&part.content).unwrap();
        assert!(decode_text(MsgFmt::Ucs2, payload).is_ok(), "{payload:?}");
    }
}

#[test]
fn a_16_bit_reference_header_reads_too_and_a_broken_one_is_none() {
    let content = [0x06, 0x08, 0x04, 0x12, 0x34, 3, 2, b'h', b'i'];
    let (concatenation, rest) = parse_user_data_header(&content).unwrap();
    assert_eq!(concatenation, Some(Concatenation { reference: 0x1234, total: 3, number: 2 }));
    assert_eq!(rest, b"hi");
    assert_eq!(parse_user_data_header(&[0x05, 0x00, 0x03]), None);
    assert_eq!(parse_user_data_header(&[0x05, 0x00, 0x03, 1, 2, 3]).unwrap().0, None);
}

#[test]
fn parts_in_any_order_make_the_whole_message_with_every_tag() {
    let start = Instant::now();
    let mut buffer: Reassembly<&str, u32> = Reassembly::new(Duration::from_secs(60), 10);
    let part = |number| Concatenation { reference: 9, total: 3, number };
    assert_eq!(buffer.insert("a", part(3), 13, b"!", start).unwrap(), None);
    assert_eq!(buffer.insert("b", part(1), 21, b"other", start).unwrap(), None);
    assert_eq!(buffer.insert("a", part(1), 11, b"he", start).unwrap(), None);
    let whole = buffer.insert("a", part(2), 12, b"llo", start).unwrap().unwrap();
    assert_eq!(whole, Reassembled { content: b"hello!".to_vec(), tags: vec![11, 12, 13] });
    assert_eq!(buffer.len(), 1);
}

#[test]
fn a_message_whose_parts_do_not_all_arrive_in_time_expires_with_its_tags() {
    let start = Instant::now();
    let mut buffer: Reassembly<&str, u32> = Reassembly::new(Duration::from_secs(60), 1);
    let first = Concatenation { reference: 1, total: 2, number: 1 };
    buffer.insert("a", first, 7, b"x", start).unwrap();
    let other = Concatenation { reference: 2, total: 2, number: 1 };
    assert_eq!(buffer.insert("a", other, 8, b"y", start), Err(ReassemblyError::Full));
    assert!(buffer.expire(start + Duration::from_secs(59)).is_empty());
    let expired = buffer.expire(start + Duration::from_secs(60));
    assert_eq!(expired, vec![Expired { key: "a", reference: 1, tags: vec![7] }]);
    assert!(buffer.is_empty());
}

proptest! {
    #[test]
    fn any_text_split_and_reassembled_is_the_same_text(text in "\\PC{1,600}", reference in any::<u8>()) {
        let parts = split_text(&text, reference).unwrap();
        let now = Instant::now();
        let mut buffer: Reassembly<(), u8> = Reassembly::new(Duration::from_secs(1), 4);
        let format = parts[0].msg_fmt;
        if parts.len() == 1 {
            prop_assert_eq!(decode_text(format, &parts[0].content).unwrap(), text);
            return Ok(());
        }
        let mut whole = None;
        for part in parts.iter().rev() {
            prop_assert!(part.content.len() <= MAX_SINGLE_OCTETS);
            let (concatenation, payload) = parse_user_data_header(&part.content).unwrap();
            whole = buffer.insert((), concatenation.unwrap(), part.pk_number, payload, now).unwrap();
        }
        let whole = whole.unwrap();
        prop_assert_eq!(decode_text(format, &whole.content).unwrap(), text);
    }

    #[test]
    fn reading_a_header_from_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_user_data_header(&bytes);
    }
}
