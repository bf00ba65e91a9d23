//! Fuzzes `SmsCommand::parse` (the text a user texts to the short code): never panics; a parsed bind code
//! round-trips through its canonical and grouped forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_wire::{ActivationCode, SmsCommand};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(SmsCommand::Bind(code)) = SmsCommand::parse(text) {
        assert_eq!(ActivationCode::parse(code.as_str()).ok(), Some(code.clone()));
        assert_eq!(SmsCommand::parse(&format!("BIND {}", code.grouped())).ok(), Some(SmsCommand::Bind(code)));
    }
});
