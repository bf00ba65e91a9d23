//! Fuzzes `Msisdn::parse`: never panics; an accepted number is 11 digits, round-trips, and its masked form
//! hides the middle four digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_wire::Msisdn;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(msisdn) = Msisdn::parse(text) {
        let digits = msisdn.as_digits();
        assert_eq!(digits.len(), 11);
        assert!(digits.bytes().all(|byte| byte.is_ascii_digit()));
        assert_eq!(Msisdn::parse(digits).ok().as_ref(), Some(&msisdn));
        let masked = msisdn.to_string();
        assert!(masked.contains("****") && !masked.contains(digits), "the masked form leaks the number");
        assert_eq!(masked, msisdn.masked());
    }
});
