//! Fuzzes the CMPP 2.0/3.0 codec on raw frames: `check` and `Pdu::decode` never panic in either layout, a
//! decoded PDU encodes to bytes that decode to the same PDU, and a DELIVER's status report and user data
//! header read without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_cmpp::concatenation::parse_user_data_header;
use numbind_cmpp::pdu::{check, Header, Pdu, PduBody, Version};
use numbind_cmpp::text::decode_text;

fuzz_target!(|data: &[u8]| {
    let _ = check(data);
    let _ = Header::parse(data);
    for version in [Version::V2, Version::V3] {
        let Ok(pdu) = Pdu::decode(data, version) else { continue };
        let encoded = pdu.encode(Pdu::layout_of(data, version)).expect("a decoded pdu encodes");
        assert_eq!(check(&encoded), Ok(encoded.len()));
        assert_eq!(Pdu::decode(&encoded, version), Ok(pdu.clone()));
        if let PduBody::Deliver(deliver) = &pdu.body {
            let _ = deliver.status_report();
            let _ = decode_text(deliver.msg_fmt, &deliver.msg_content);
            let _ = parse_user_data_header(&deliver.msg_content);
        }
    }
});
