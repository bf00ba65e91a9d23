//! Fuzzes `SignatureHeaders::parse` with arbitrary header values (four NUL-separated fields) and
//! `TerminalPublicKey::parse`: never panic; accepted values are well-formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_wire::request_signing::{
    SignatureHeaders, TerminalPublicKey, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TERMINAL, HEADER_TIMESTAMP,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(key) = TerminalPublicKey::parse(text) {
        assert_eq!(TerminalPublicKey::parse(&key.to_string()).ok(), Some(key));
    }
    let values: Vec<&str> = text.split('\0').collect();
    let names = [HEADER_TERMINAL, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE];
    let lookup = |name: &str| {
        let index = names.iter().position(|candidate| *candidate == name)?;
        values.get(index).copied()
    };
    if let Ok(headers) = SignatureHeaders::parse(lookup) {
        assert_eq!(headers.signature.len(), 64);
        assert!((16..=64).contains(&headers.nonce.len()));
    }
});
