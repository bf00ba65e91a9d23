//! Terminal sessions after the handshake: the session key, the tag on each session request and on each answer.
//!
//! A signed request costs the platform an Ed25519 verification and its signed answer an Ed25519 signature, about
//! 70 µs of CPU together (`MEASURED.md`): a boot storm of status checks is bounded by them. A session moves that
//! cost to one handshake (`session_handshake`) per box and session lifetime; afterwards a request carries the
//! platform's opaque ticket and an HMAC-SHA256 tag over the same canonical fields as a signed request, and the
//! answer is a `SessionStatement`: the statement's JSON with an HMAC-SHA256 tag under the same key. Only the box
//! and the platform hold the key, so a tag proves the answer as well as a signature would to the box itself; a
//! statement the box keeps as proof in its flag file is still fetched signed.

use crate::encoding::{base64url_decode, base64url_encode};
use crate::request_signing::{parse_request_identity, RequestSignatureError, RequestToSign};
use crate::statement::{check_expectation, BindingStatement, StatementError, StatementExpectation};
use crate::terminal_id::TerminalId;
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The platform's opaque session ticket (base64url).
pub const HEADER_SESSION_TICKET: &str = "x-numbind-session";
/// base64url HMAC-SHA256 of the request under the session key.
pub const HEADER_SESSION_TAG: &str = "x-numbind-session-tag";

const REQUEST_DOMAIN: &[u8] = b"NUMBIND-SESSION-REQUEST-V1\n";
const STATEMENT_DOMAIN: &[u8] = b"NUMBIND-SESSION-STATEMENT-V1\n";
/// Tickets are at most this long in text; anything longer is refused before any cryptography.
pub const MAX_TICKET_CHARS: usize = 512;

/// A session's 32-byte key, agreed in the handshake. `Debug` never prints it.
#[derive(Clone)]
pub struct SessionKey {
    bytes: [u8; 32],
    key: hmac::Key,
}

impl SessionKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SessionKey { bytes, key: hmac::Key::new(hmac::HMAC_SHA256, &bytes) }
    }

    /// The raw key, for the terminal's owner-only session file and the platform's sealed ticket.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The tag of a session request, for `x-numbind-session-tag`.
    pub fn tag_request(&self, request: &RequestToSign<'_>) -> String {
        base64url_encode(hmac::sign(&self.key, &request_bytes(request)).as_ref())
    }

    /// Checks a request's tag in constant time.
    pub fn verify_request(&self, request: &RequestToSign<'_>, tag: &[u8]) -> Result<(), SessionError> {
        hmac::verify(&self.key, &request_bytes(request), tag).map_err(|_| SessionError::BadTag)
    }

    /// The platform's answer: the statement's JSON and its tag.
    pub fn seal_statement(&self, statement: &BindingStatement) -> SessionStatement {
        // Serialising a struct of strings, integers and enums cannot fail.
        let payload = serde_json::to_vec(statement).unwrap_or_default();
        let tag = hmac::sign(&self.key, &tagged_statement_bytes(&payload));
        SessionStatement { payload: base64url_encode(&payload), tag: base64url_encode(tag.as_ref()) }
    }

    /// Checks the tag, then every field the terminal expects (terminal, nonce, expiry, activation).
    pub fn open_statement(
        &self,
        sealed: &SessionStatement,
        expectation: StatementExpectation<'_>,
    ) -> Result<BindingStatement, StatementError> {
        let payload = base64url_decode(&sealed.payload).ok_or(StatementError::Malformed)?;
        let tag = base64url_decode(&sealed.tag).ok_or(StatementError::Malformed)?;
        hmac::verify(&self.key, &tagged_statement_bytes(&payload), &tag).map_err(|_| StatementError::BadSignature)?;
        let statement: BindingStatement = serde_json::from_slice(&payload).map_err(|_| StatementError::Malformed)?;
        check_expectation(statement, expectation)
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SessionKey(<redacted>)")
    }
}

fn request_bytes(request: &RequestToSign<'_>) -> Vec<u8> {
    let mut bytes = REQUEST_DOMAIN.to_vec();
    bytes.extend_from_slice(&request.canonical_bytes());
    bytes
}

fn tagged_statement_bytes(payload: &[u8]) -> Vec<u8> {
    let mut bytes = STATEMENT_DOMAIN.to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// A binding statement authenticated with the session key rather than signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionStatement {
    /// base64url of the statement's JSON bytes.
    pub payload: String,
    /// base64url HMAC-SHA256 over `NUMBIND-SESSION-STATEMENT-V1\n` and the payload bytes.
    pub tag: String,
}

/// The headers of a session request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionHeaders {
    pub terminal_id: TerminalId,
    pub timestamp_unix_seconds: i64,
    pub nonce: String,
    pub ticket: String,
    pub tag: Vec<u8>,
}

impl SessionHeaders {
    /// Reads the headers through `header(name)`, which returns a header's value if present.
    pub fn parse<'h>(header: impl Fn(&str) -> Option<&'h str>) -> Result<Self, RequestSignatureError> {
        let (terminal_id, timestamp_unix_seconds, nonce) = parse_request_identity(&header)?;
        let ticket = header(HEADER_SESSION_TICKET)
            .ok_or(RequestSignatureError::MissingHeader(HEADER_SESSION_TICKET))?
            .trim()
            .to_owned();
        let ticket_is_well_formed = (1..=MAX_TICKET_CHARS).contains(&ticket.len())
            && ticket.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !ticket_is_well_formed {
            return Err(RequestSignatureError::MalformedHeader(HEADER_SESSION_TICKET));
        }
        let tag = header(HEADER_SESSION_TAG)
            .ok_or(RequestSignatureError::MissingHeader(HEADER_SESSION_TAG))
            .map(base64url_decode)?
            .filter(|bytes| bytes.len() == 32)
            .ok_or(RequestSignatureError::MalformedHeader(HEADER_SESSION_TAG))?;
        Ok(SessionHeaders { terminal_id, timestamp_unix_seconds, nonce, ticket, tag })
    }
}

/// Why a session handshake or a session request is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("ephemeral key must be 32 bytes of base64url")]
    MalformedEphemeralKey,
    #[error("the key agreement failed")]
    KeyAgreementFailed,
    #[error("the system random source failed")]
    RandomSourceFailed,
    #[error("the session grant answers another offer")]
    GrantForAnotherOffer,
    #[error("session tag does not verify")]
    BadTag,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statement::BindingState;

    fn key(byte: u8) -> SessionKey {
        SessionKey::from_bytes([byte; 32])
    }

    fn request<'a>(terminal_id: &'a TerminalId, nonce: &'a str) -> RequestToSign<'a> {
        RequestToSign {
            method: "GET",
            path_and_query: "/v1/terminals/STB-000001/binding-check",
            terminal_id,
            timestamp_unix_seconds: 1_700_000_000,
            nonce,
            body: b"",
        }
    }

    fn statement(terminal_id: &TerminalId) -> BindingStatement {
        BindingStatement {
            terminal_id: terminal_id.clone(),
            state: BindingState::Bound,
            activation_id: None,
            binding_id: Some("bnd-1".into()),
            msisdn_masked: Some("138****8000".into()),
            denial_reason: None,
            in_reply_to: Some("nonce-nonce-nonce-1".into()),
            issued_at_unix_seconds: 1000,
            expires_at_unix_seconds: 2000,
        }
    }

    #[test]
    fn a_request_tag_verifies_only_under_its_key_and_for_its_fields() {
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let genuine = request(&terminal_id, "AAAAAAAAAAAAAAAAAAAAAA");
        let tag = base64url_decode(&key(1).tag_request(&genuine)).unwrap();
        assert_eq!(key(1).verify_request(&genuine, &tag), Ok(()));
        assert_eq!(key(2).verify_request(&genuine, &tag), Err(SessionError::BadTag));
        let other_nonce = request(&terminal_id, "BBBBBBBBBBBBBBBBBBBBBB");
        assert_eq!(key(1).verify_request(&other_nonce, &tag), Err(SessionError::BadTag));
        let other_path = RequestToSign { path_and_query: "/v1/terminals/STB-000002/binding-check", ..genuine };
        assert_eq!(key(1).verify_request(&other_path, &tag), Err(SessionError::BadTag));
    }

    #[test]
    fn a_sealed_statement_opens_only_under_its_key_untampered_and_as_expected() {
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let sealed = key(1).seal_statement(&statement(&terminal_id));
        let expectation = StatementExpectation {
            terminal_id: &terminal_id,
            activation_id: None,
            in_reply_to: Some("nonce-nonce-nonce-1"),
            now_unix_seconds: 1500,
        };
        assert_eq!(key(1).open_statement(&sealed, expectation), Ok(statement(&terminal_id)));
        assert_eq!(key(2).open_statement(&sealed, expectation), Err(StatementError::BadSignature));
        let other = TerminalId::parse("STB-000002").unwrap();
        let forged_payload = base64url_encode(&serde_json::to_vec(&statement(&other)).unwrap());
        let tampered = SessionStatement { payload: forged_payload, ..sealed.clone() };
        assert_eq!(key(1).open_statement(&tampered, expectation), Err(StatementError::BadSignature));
        let another_request = StatementExpectation { in_reply_to: Some("another-nonce-00001"), ..expectation };
        assert_eq!(key(1).open_statement(&sealed, another_request), Err(StatementError::WrongRequest));
        let later = StatementExpectation { now_unix_seconds: 2001, ..expectation };
        assert_eq!(key(1).open_statement(&sealed, later), Err(StatementError::Expired));
        let not_base64 = SessionStatement { tag: "%%".into(), ..sealed };
        assert_eq!(key(1).open_statement(&not_base64, expectation), Err(StatementError::Malformed));
    }

    #[test]
    fn session_headers_parse_with_specific_errors() {
        let tag = base64url_encode(&[7u8; 32]);
        let headers = [
            ("x-numbind-terminal", "STB-000001"),
            ("x-numbind-timestamp", "1700000000"),
            ("x-numbind-nonce", "AAAAAAAAAAAAAAAAAAAAAA"),
            (HEADER_SESSION_TICKET, "AQID_-ticket"),
            (HEADER_SESSION_TAG, tag.as_str()),
        ];
        let lookup = |name: &str| headers.iter().find(|(key, _)| *key == name).map(|(_, value)| *value);
        let parsed = SessionHeaders::parse(lookup).unwrap();
        assert_eq!((parsed.ticket.as_str(), parsed.tag.len()), ("AQID_-ticket", 32));
        let without_ticket = |name: &str| if name == HEADER_SESSION_TICKET { None } else { lookup(name) };
        assert_eq!(
            SessionHeaders::parse(without_ticket),
            Err(RequestSignatureError::MissingHeader(HEADER_SESSION_TICKET))
        );
        let long_ticket = "a".repeat(MAX_TICKET_CHARS + 1);
        let too_long =
            |name: &str| if name == HEADER_SESSION_TICKET { Some(long_ticket.as_str()) } else { lookup(name) };
        assert_eq!(SessionHeaders::parse(too_long), Err(RequestSignatureError::MalformedHeader(HEADER_SESSION_TICKET)));
        let short_tag = base64url_encode(&[7u8; 31]);
        let bad_tag = |name: &str| if name == HEADER_SESSION_TAG { Some(short_tag.as_str()) } else { lookup(name) };
        assert_eq!(SessionHeaders::parse(bad_tag), Err(RequestSignatureError::MalformedHeader(HEADER_SESSION_TAG)));
    }

    #[test]
    fn the_key_never_appears_in_debug_output() {
        assert_eq!(format!("{:?}", key(0x41)), "SessionKey(<redacted>)");
    }
}
