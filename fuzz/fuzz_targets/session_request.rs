//! Fuzzes the session side of the terminal API: `SessionHeaders::parse` with arbitrary header values (five
//! NUL-separated fields), and `SessionKey::open_statement` / `PinnedPlatformKeys::verify_session_grant` with
//! arbitrary JSON: never panic, and nothing forged under a fixed key ever opens or verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_wire::request_signing::{HEADER_NONCE, HEADER_TERMINAL, HEADER_TIMESTAMP};
use numbind_wire::session_handshake::SignedSessionGrant;
use numbind_wire::statement::{PinnedPlatformKeys, PlatformSigningKey, StatementExpectation};
use numbind_wire::terminal_session::{
    SessionHeaders, SessionKey, SessionStatement, HEADER_SESSION_TAG, HEADER_SESSION_TICKET, MAX_TICKET_CHARS,
};
use numbind_wire::TerminalId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let values: Vec<&str> = text.split('\0').collect();
    let names = [HEADER_TERMINAL, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SESSION_TICKET, HEADER_SESSION_TAG];
    let lookup = |name: &str| {
        let index = names.iter().position(|candidate| *candidate == name)?;
        values.get(index).copied()
    };
    if let Ok(headers) = SessionHeaders::parse(lookup) {
        assert_eq!(headers.tag.len(), 32);
        assert!((1..=MAX_TICKET_CHARS).contains(&headers.ticket.len()));
    }
    let Ok(terminal_id) = TerminalId::parse("STB-000001") else { return };
    let expectation =
        StatementExpectation { terminal_id: &terminal_id, activation_id: None, in_reply_to: None, now_unix_seconds: 0 };
    if let Ok(sealed) = serde_json::from_str::<SessionStatement>(text) {
        assert!(SessionKey::from_bytes([42; 32]).open_statement(&sealed, expectation).is_err());
    }
    if let Ok(grant) = serde_json::from_str::<SignedSessionGrant>(text) {
        // A genuine key nobody else holds: no input can carry a signature that verifies under it.
        let Ok((key, _)) = PlatformSigningKey::generate(&ring::rand::SystemRandom::new()) else { return };
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        assert!(pinned.verify_session_grant(&grant, &terminal_id, "nonce", 0).is_err());
    }
});
