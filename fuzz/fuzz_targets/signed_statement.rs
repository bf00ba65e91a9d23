//! Fuzzes `PinnedPlatformKeys::verify_for` with a fixed pinned key: on arbitrary `SignedStatement` JSON it
//! never panics and never accepts; on arbitrary payload bytes genuinely signed with the pinned key it never
//! panics and accepts only a statement naming the expected terminal; a mangled signature is always refused.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use numbind_wire::statement::{
    PinnedPlatformKeys, PlatformPublicKey, PlatformSigningKey, SignedStatement, StatementExpectation,
};
use numbind_wire::TerminalId;
use ring::signature::Ed25519KeyPair;

/// PKCS#8 v1 prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_V1_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
const SEED: [u8; 32] = [7u8; 32];

/// Signs `payload` exactly as the platform signs a statement's JSON bytes.
fn sign_payload(key_pair: &Ed25519KeyPair, key_id: &str, payload: &[u8]) -> SignedStatement {
    let mut signed_bytes = b"NUMBIND-STATEMENT-V1\n".to_vec();
    signed_bytes.extend_from_slice(payload);
    SignedStatement {
        key_id: key_id.to_owned(),
        payload: URL_SAFE_NO_PAD.encode(payload),
        signature: URL_SAFE_NO_PAD.encode(key_pair.sign(&signed_bytes).as_ref()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut document = PKCS8_V1_PREFIX.to_vec();
    document.extend_from_slice(&SEED);
    let (Ok(key), Ok(key_pair)) =
        (PlatformSigningKey::from_pkcs8(&document), Ed25519KeyPair::from_pkcs8_maybe_unchecked(&document))
    else {
        return;
    };
    let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
    let Ok(terminal_id) = TerminalId::parse("STB-000001") else { return };
    let expectation =
        StatementExpectation { terminal_id: &terminal_id, activation_id: None, in_reply_to: None, now_unix_seconds: 0 };
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parsed) = PlatformPublicKey::parse(text) {
            assert_eq!(PlatformPublicKey::parse(&parsed.to_string()).ok(), Some(parsed));
        }
    }
    if let Ok(signed) = serde_json::from_slice::<SignedStatement>(data) {
        // Unless the fuzzer replays the seed corpus's genuine statement verbatim, nothing it writes verifies.
        if let Ok(statement) = pinned.verify_for(&signed, expectation) {
            assert_eq!(key.sign(&statement).payload.len() > 0, true);
            let payload = URL_SAFE_NO_PAD.decode(signed.payload.trim()).unwrap_or_default();
            assert_eq!(sign_payload(&key_pair, key.key_id(), &payload).signature, signed.signature.trim());
        }
    }
    let mut genuine = sign_payload(&key_pair, key.key_id(), data);
    if let Ok(statement) = pinned.verify_for(&genuine, expectation) {
        assert_eq!(statement.terminal_id, terminal_id);
    }
    genuine.signature.replace_range(0..1, if genuine.signature.starts_with('A') { "B" } else { "A" });
    assert!(pinned.verify_for(&genuine, expectation).is_err(), "a mangled signature was accepted");
});
