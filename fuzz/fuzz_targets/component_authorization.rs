//! Fuzzes `ComponentAuthorization::parse` (the OSS's `authorization` header) and `verify`: never panic, and
//! nothing but a header made with the secret verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use numbind_wire::component_auth::{ComponentAuthorization, ComponentSecret};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = ComponentAuthorization::parse(Some(text)) else { return };
    assert!((1..=32).contains(&parsed.client.len()));
    let Ok(secret) = ComponentSecret::parse("fuzz-secret-that-is-long-enough-0123456789") else { return };
    // The fuzzer does not know the secret: a forged tag over these fixed request fields must never verify.
    assert!(parsed.verify(&secret, "POST", "/v1/oss/redemptions", b"{}").is_err());
});
