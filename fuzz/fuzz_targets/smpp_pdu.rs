//! Fuzzes the SMPP 3.4 codec on raw frames: `check` and `Pdu::decode` never panic, and a decoded PDU encodes
//! to bytes that decode to the same PDU.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_smpp::pdu::{check, Header, Pdu};

fuzz_target!(|data: &[u8]| {
    let _ = check(data);
    let _ = Header::parse(data);
    if let Ok(pdu) = Pdu::decode(data) {
        let encoded = pdu.encode();
        assert_eq!(check(&encoded), Ok(encoded.len()));
        assert_eq!(Pdu::decode(&encoded), Ok(pdu));
    }
});
