//! Fuzzes the SMS centre's accounts file (`numbind_sms_sim::ConfigFile`, TOML): parsing never panics, and
//! checking the accounts of a parsed file never panics and accepts only well-formed accounts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_sms_sim::ConfigFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = toml::from_str::<ConfigFile>(text) else { return };
    // Only passwords from the environment: a fuzzed password_file could name any file on this machine.
    if file.accounts.iter().any(|entry| entry.password_file.is_some()) {
        return;
    }
    if let Ok(accounts) = file.accounts() {
        for account in accounts {
            assert!((1..=15).contains(&account.system_id.len()));
            assert!((1..=8).contains(&account.password.len()));
        }
    }
});
