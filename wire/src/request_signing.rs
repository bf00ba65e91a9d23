//! The terminal's signed-request envelope: Ed25519 over method, path, timestamp, nonce, body hash and ID.
//!
//! The agent signs every request with its key; the platform rebuilds the same canonical bytes from what it
//! received and verifies them against the key it registered for that terminal. Freshness (timestamp window)
//! and replay (nonce cache) are the platform's to enforce; this module only does the cryptography.

use crate::encoding::{base64url_decode, base64url_encode, sha256_hex};
use crate::terminal_id::TerminalId;
use ring::rand::SecureRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use std::borrow::Cow;
use std::fmt;

pub const HEADER_TERMINAL: &str = "x-numbind-terminal";
pub const HEADER_TIMESTAMP: &str = "x-numbind-timestamp";
pub const HEADER_NONCE: &str = "x-numbind-nonce";
pub const HEADER_SIGNATURE: &str = "x-numbind-signature";

/// What is signed. `path_and_query` is exactly as sent (`/v1/terminals/NB-X/activations/a1?wait=25`).
#[derive(Debug, Clone, Copy)]
pub struct RequestToSign<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub terminal_id: &'a TerminalId,
    pub timestamp_unix_seconds: i64,
    pub nonce: &'a str,
    pub body: &'a [u8],
}

impl RequestToSign<'_> {
    /// The bytes that are signed; any change to any field changes them.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        use std::fmt::Write;
        // Most requests are GETs: their body digest is a constant, not a SHA-256 and a hex encoding each time.
        let body_digest: Cow<'_, str> =
            if self.body.is_empty() { Cow::Borrowed(EMPTY_BODY_SHA256_HEX) } else { Cow::Owned(sha256_hex(self.body)) };
        let mut canonical = String::with_capacity(160 + self.path_and_query.len() + self.nonce.len());
        canonical.push_str("NUMBIND-REQUEST-V1\n");
        canonical.extend(self.method.chars().map(|character| character.to_ascii_uppercase()));
        // Writing to a String cannot fail.
        let _ = write!(
            canonical,
            "\n{}\n{}\n{}\n{}\n{}",
            self.path_and_query, self.terminal_id, self.timestamp_unix_seconds, self.nonce, body_digest
        );
        canonical.into_bytes()
    }
}

/// Hex SHA-256 of the empty body.
const EMPTY_BODY_SHA256_HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The four headers a signed request carries, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders {
    pub terminal_id: TerminalId,
    pub timestamp_unix_seconds: i64,
    pub nonce: String,
    pub signature: Vec<u8>,
}

/// Why a request's signature headers or signature are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestSignatureError {
    #[error("missing signature header {0}")]
    MissingHeader(&'static str),
    #[error("malformed signature header {0}")]
    MalformedHeader(&'static str),
    #[error("signature does not verify")]
    BadSignature,
    #[error("public key must be 32 bytes of base64url")]
    MalformedPublicKey,
}

impl SignatureHeaders {
    /// Reads the headers through `header(name)`, which returns a header's value if present.
    pub fn parse<'h>(header: impl Fn(&str) -> Option<&'h str>) -> Result<Self, RequestSignatureError> {
        let (terminal_id, timestamp_unix_seconds, nonce) = parse_request_identity(&header)?;
        let signature = header(HEADER_SIGNATURE)
            .ok_or(RequestSignatureError::MissingHeader(HEADER_SIGNATURE))
            .map(base64url_decode)?
            .filter(|bytes| bytes.len() == 64)
            .ok_or(RequestSignatureError::MalformedHeader(HEADER_SIGNATURE))?;
        Ok(SignatureHeaders { terminal_id, timestamp_unix_seconds, nonce, signature })
    }
}

/// The terminal, timestamp and nonce headers that signed and session requests share.
pub(crate) fn parse_request_identity<'h>(
    header: &impl Fn(&str) -> Option<&'h str>,
) -> Result<(TerminalId, i64, String), RequestSignatureError> {
    let get = |name: &'static str| header(name).ok_or(RequestSignatureError::MissingHeader(name));
    let terminal_id = TerminalId::parse(get(HEADER_TERMINAL)?)
        .map_err(|_| RequestSignatureError::MalformedHeader(HEADER_TERMINAL))?;
    let timestamp_unix_seconds = get(HEADER_TIMESTAMP)?
        .trim()
        .parse::<i64>()
        .map_err(|_| RequestSignatureError::MalformedHeader(HEADER_TIMESTAMP))?;
    let nonce = get(HEADER_NONCE)?.trim().to_owned();
    let nonce_is_well_formed = (16..=64).contains(&nonce.len())
        && nonce.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if !nonce_is_well_formed {
        return Err(RequestSignatureError::MalformedHeader(HEADER_NONCE));
    }
    Ok((terminal_id, timestamp_unix_seconds, nonce))
}

/// A terminal's Ed25519 key pair. `Debug` never prints the private key.
pub struct TerminalKeyPair {
    key_pair: Ed25519KeyPair,
}

/// The random source or the key material failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("the system random source failed")]
    RandomSourceFailed,
    #[error("the key file is not a valid Ed25519 PKCS#8 document")]
    MalformedPrivateKey,
}

impl TerminalKeyPair {
    /// Makes a new key pair; returns it with the PKCS#8 document to store owner-only.
    pub fn generate(random: &dyn SecureRandom) -> Result<(Self, Vec<u8>), KeyError> {
        let document = Ed25519KeyPair::generate_pkcs8(random).map_err(|_| KeyError::RandomSourceFailed)?;
        let pkcs8 = document.as_ref().to_vec();
        Ok((Self::from_pkcs8(&pkcs8)?, pkcs8))
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let key_pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| KeyError::MalformedPrivateKey)?;
        Ok(TerminalKeyPair { key_pair })
    }

    pub fn public_key(&self) -> TerminalPublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.key_pair.public_key().as_ref());
        TerminalPublicKey(bytes)
    }

    /// Signs a request; returns the base64url signature for `x-numbind-signature`.
    pub fn sign(&self, request: &RequestToSign<'_>) -> String {
        base64url_encode(self.key_pair.sign(&request.canonical_bytes()).as_ref())
    }

    /// Signs `payload` in its own domain (`domain` ends with `\n`), so that no signature made for one kind of
    /// message verifies as another; returns the base64url signature.
    pub(crate) fn sign_in_domain(&self, domain: &[u8], payload: &[u8]) -> String {
        let mut message = Vec::with_capacity(domain.len() + payload.len());
        message.extend_from_slice(domain);
        message.extend_from_slice(payload);
        base64url_encode(self.key_pair.sign(&message).as_ref())
    }
}

impl fmt::Debug for TerminalKeyPair {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "TerminalKeyPair(public={})", self.public_key())
    }
}

/// A terminal's public key: 32 bytes, written as base64url.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TerminalPublicKey([u8; 32]);

impl TerminalPublicKey {
    pub fn parse(text: &str) -> Result<Self, RequestSignatureError> {
        let bytes = base64url_decode(text).ok_or(RequestSignatureError::MalformedPublicKey)?;
        let array: [u8; 32] = bytes.try_into().map_err(|_| RequestSignatureError::MalformedPublicKey)?;
        Ok(TerminalPublicKey(array))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Verifies a signature made by [`TerminalKeyPair::sign_in_domain`].
    pub(crate) fn verify_in_domain(&self, domain: &[u8], payload: &[u8], signature: &[u8]) -> bool {
        let mut message = Vec::with_capacity(domain.len() + payload.len());
        message.extend_from_slice(domain);
        message.extend_from_slice(payload);
        UnparsedPublicKey::new(&ED25519, &self.0).verify(&message, signature).is_ok()
    }

    pub fn verify(&self, request: &RequestToSign<'_>, signature: &[u8]) -> Result<(), RequestSignatureError> {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(&request.canonical_bytes(), signature)
            .map_err(|_| RequestSignatureError::BadSignature)
    }
}

impl fmt::Display for TerminalPublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&base64url_encode(&self.0))
    }
}

impl fmt::Debug for TerminalPublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "TerminalPublicKey({self})")
    }
}

/// A fresh nonce for `x-numbind-nonce`: 16 random bytes, base64url (22 characters).
pub fn new_nonce(random: &dyn SecureRandom) -> Result<String, KeyError> {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes).map_err(|_| KeyError::RandomSourceFailed)?;
    Ok(base64url_encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn the_canonical_bytes_are_the_documented_format_with_and_without_a_body() {
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        for (method, body) in [("GET", &b""[..]), ("get", &b""[..]), ("POST", &b"{\"code\":\"1\"}"[..])] {
            let request = RequestToSign {
                method,
                path_and_query: "/v1/terminals/STB-000001/binding?wait=1",
                terminal_id: &terminal_id,
                timestamp_unix_seconds: 1_700_000_000,
                nonce: "nonce-0000000000001",
                body,
            };
            let documented = format!(
                "NUMBIND-REQUEST-V1\n{}\n/v1/terminals/STB-000001/binding?wait=1\nSTB-000001\n1700000000\n\
                 nonce-0000000000001\n{}",
                method.to_ascii_uppercase(),
                sha256_hex(body)
            );
            assert_eq!(String::from_utf8(request.canonical_bytes()).unwrap(), documented, "{method}");
        }
    }

    fn sample<'a>(terminal_id: &'a TerminalId, body: &'a [u8]) -> RequestToSign<'a> {
        RequestToSign {
            method: "POST",
            path_and_query: "/v1/terminals/NB-1/activations",
            terminal_id,
            timestamp_unix_seconds: 1_700_000_000,
            nonce: "AAAAAAAAAAAAAAAAAAAAAA",
            body,
        }
    }

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let random = SystemRandom::new();
        let (key_pair, _) = TerminalKeyPair::generate(&random).unwrap();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let request = sample(&terminal_id, b"{}");
        let signature = base64url_decode(&key_pair.sign(&request)).unwrap();
        let public_key = key_pair.public_key();
        assert_eq!(public_key.verify(&request, &signature), Ok(()));

        let other_body = RequestToSign { body: b"{\"x\":1}", ..request };
        let other_path = RequestToSign { path_and_query: "/v1/terminals/NB-2/activations", ..request };
        let other_time = RequestToSign { timestamp_unix_seconds: 1_700_000_001, ..request };
        let other_nonce = RequestToSign { nonce: "BBBBBBBBBBBBBBBBBBBBBB", ..request };
        let other_method = RequestToSign { method: "GET", ..request };
        for changed in [other_body, other_path, other_time, other_nonce, other_method] {
            assert_eq!(public_key.verify(&changed, &signature), Err(RequestSignatureError::BadSignature));
        }
        let (another_key, _) = TerminalKeyPair::generate(&random).unwrap();
        assert!(another_key.public_key().verify(&request, &signature).is_err());
    }

    #[test]
    fn keys_round_trip_through_pkcs8_and_text() {
        let random = SystemRandom::new();
        let (key_pair, pkcs8) = TerminalKeyPair::generate(&random).unwrap();
        let reloaded = TerminalKeyPair::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(reloaded.public_key(), key_pair.public_key());
        assert_eq!(TerminalPublicKey::parse(&key_pair.public_key().to_string()).unwrap(), key_pair.public_key());
        assert_eq!(TerminalKeyPair::from_pkcs8(b"junk").unwrap_err(), KeyError::MalformedPrivateKey);
        assert_eq!(TerminalPublicKey::parse("abc"), Err(RequestSignatureError::MalformedPublicKey));
    }

    #[test]
    fn headers_parse_with_specific_errors() {
        let signature = base64url_encode(&[1u8; 64]);
        let headers = [
            (HEADER_TERMINAL, "stb-000001"),
            (HEADER_TIMESTAMP, "1700000000"),
            (HEADER_NONCE, "AAAAAAAAAAAAAAAAAAAAAA"),
            (HEADER_SIGNATURE, signature.as_str()),
        ];
        let lookup = |name: &str| headers.iter().find(|(key, _)| *key == name).map(|(_, value)| *value);
        let parsed = SignatureHeaders::parse(lookup).unwrap();
        assert_eq!(parsed.terminal_id.as_str(), "STB-000001");
        let without_nonce = |name: &str| if name == HEADER_NONCE { None } else { lookup(name) };
        assert_eq!(SignatureHeaders::parse(without_nonce), Err(RequestSignatureError::MissingHeader(HEADER_NONCE)));
        let bad_time = |name: &str| if name == HEADER_TIMESTAMP { Some("soon") } else { lookup(name) };
        assert_eq!(SignatureHeaders::parse(bad_time), Err(RequestSignatureError::MalformedHeader(HEADER_TIMESTAMP)));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn lookup_in<'a>(values: &'a [Option<String>; 4]) -> impl Fn(&str) -> Option<&'a str> + 'a {
            move |name: &str| {
                let index = [HEADER_TERMINAL, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE]
                    .iter()
                    .position(|candidate| *candidate == name)?;
                values[index].as_deref()
            }
        }

        proptest! {
            #[test]
            fn header_parsing_never_panics_and_accepts_only_well_formed_values(
                values in proptest::array::uniform4(proptest::option::of(any::<String>()))
            ) {
                match SignatureHeaders::parse(lookup_in(&values)) {
                    Ok(parsed) => {
                        prop_assert_eq!(parsed.signature.len(), 64);
                        prop_assert!((16..=64).contains(&parsed.nonce.len()));
                    }
                    Err(error) => prop_assert!(matches!(
                        error,
                        RequestSignatureError::MissingHeader(_) | RequestSignatureError::MalformedHeader(_)
                    )),
                }
            }

            #[test]
            fn well_formed_headers_round_trip(
                timestamp in any::<i64>(),
                nonce in "[A-Za-z0-9_-]{16,64}",
                signature in proptest::array::uniform32(any::<u8>()),
            ) {
                let signature_text = base64url_encode(&[signature, signature].concat());
                let values = [
                    Some("STB-000001".to_owned()),
                    Some(timestamp.to_string()),
                    Some(nonce.clone()),
                    Some(signature_text),
                ];
                let parsed = SignatureHeaders::parse(lookup_in(&values)).unwrap();
                prop_assert_eq!(parsed.timestamp_unix_seconds, timestamp);
                prop_assert_eq!(parsed.nonce, nonce);
                prop_assert_eq!(parsed.signature, [signature, signature].concat());
            }

            #[test]
            fn a_missing_header_is_named(missing in 0usize..4) {
                let mut values = [
                    Some("STB-000001".to_owned()),
                    Some("1700000000".to_owned()),
                    Some("AAAAAAAAAAAAAAAAAAAAAA".to_owned()),
                    Some(base64url_encode(&[1u8; 64])),
                ];
                values[missing] = None;
                let name = [HEADER_TERMINAL, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE][missing];
                prop_assert_eq!(SignatureHeaders::parse(lookup_in(&values)), Err(RequestSignatureError::MissingHeader(name)));
            }

            #[test]
            fn public_key_text_never_panics_and_32_bytes_round_trip(
                text in any::<String>(),
                bytes in proptest::array::uniform32(any::<u8>()),
            ) {
                if let Ok(key) = TerminalPublicKey::parse(&text) {
                    prop_assert_eq!(TerminalPublicKey::parse(&key.to_string()), Ok(key));
                } else {
                    prop_assert_eq!(TerminalPublicKey::parse(&text), Err(RequestSignatureError::MalformedPublicKey));
                }
                let key = TerminalPublicKey::parse(&base64url_encode(&bytes)).unwrap();
                prop_assert_eq!(key.as_bytes(), &bytes);
            }

            #[test]
            fn an_arbitrary_signature_never_verifies(signature in proptest::collection::vec(any::<u8>(), 0..100)) {
                let random = SystemRandom::new();
                let (key_pair, _) = TerminalKeyPair::generate(&random).unwrap();
                let terminal_id = TerminalId::parse("STB-000001").unwrap();
                let request = sample(&terminal_id, b"{}");
                prop_assert_eq!(
                    key_pair.public_key().verify(&request, &signature),
                    Err(RequestSignatureError::BadSignature)
                );
            }
        }
    }
}
