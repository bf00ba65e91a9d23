//! Fuzzes `ActivationCode::parse`: never panics; an accepted code is 8 letters of the alphabet and round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_wire::ActivationCode;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(code) = ActivationCode::parse(text) {
        assert_eq!(code.as_str().len(), 8);
        assert!(code.as_str().bytes().all(|byte| b"BCDFGHJKLMNPQRSTVWXZ".contains(&byte)));
        assert_eq!(ActivationCode::parse(code.as_str()).ok().as_ref(), Some(&code));
        assert_eq!(ActivationCode::parse(&code.grouped()).ok(), Some(code));
    }
});
