//! Binding statements: what the platform tells a terminal about its binding, signed with the platform's key.
//!
//! The platform signs the exact JSON bytes of a `BindingStatement` (carried base64url in `payload`), so the
//! agent verifies before it parses. The agent pins one or more platform public keys by key ID, so the platform
//! can roll to a new key while boxes still hold the old one. A statement names its terminal, its activation
//! (if any), the request nonce it answers (if any) and an expiry; `PinnedPlatformKeys::verify_for` checks all.

use crate::encoding::{base64url_decode, base64url_encode, sha256_hex};
use crate::terminal_id::TerminalId;
use ring::hkdf;
use ring::rand::SecureRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The binding state of a terminal as the platform states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingState {
    Bound,
    Unbound,
    Pending,
    Expired,
    Denied,
}

/// Why a binding was refused, as the terminal shows it and the user's SMS explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DenialReason {
    UnknownSubscriber,
    SubscriberSuspended,
    SubscriberBlacklisted,
    SubscriberCancelled,
    DeviceLimitReached,
    BillingNotAllowed,
}

impl DenialReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DenialReason::UnknownSubscriber => "unknown_subscriber",
            DenialReason::SubscriberSuspended => "subscriber_suspended",
            DenialReason::SubscriberBlacklisted => "subscriber_blacklisted",
            DenialReason::SubscriberCancelled => "subscriber_cancelled",
            DenialReason::DeviceLimitReached => "device_limit_reached",
            DenialReason::BillingNotAllowed => "billing_not_allowed",
        }
    }
}

/// What the platform states. Signed as a whole; every field is covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingStatement {
    pub terminal_id: TerminalId,
    pub state: BindingState,
    /// The activation this statement settles, when it settles one.
    pub activation_id: Option<String>,
    /// The binding that is on, when `state` is `bound`.
    pub binding_id: Option<String>,
    /// The paying number, masked (`138****8000`), for the box's screen.
    pub msisdn_masked: Option<String>,
    pub denial_reason: Option<DenialReason>,
    /// The nonce of the signed request this statement answers, so an old statement cannot be replayed.
    pub in_reply_to: Option<String>,
    pub issued_at_unix_seconds: i64,
    pub expires_at_unix_seconds: i64,
}

/// A statement with its signature, as it travels in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedStatement {
    pub key_id: String,
    /// base64url of the statement's JSON bytes.
    pub payload: String,
    /// base64url Ed25519 signature over `NUMBIND-STATEMENT-V1\n` and the payload bytes.
    pub signature: String,
}

/// Why a signed statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    #[error("statement is signed with key {0:?}, which is not pinned")]
    UnknownKey(String),
    #[error("statement is not well-formed")]
    Malformed,
    #[error("statement signature does not verify")]
    BadSignature,
    #[error("statement has expired")]
    Expired,
    #[error("statement is for another terminal")]
    WrongTerminal,
    #[error("statement is for another activation")]
    WrongActivation,
    #[error("statement answers another request")]
    WrongRequest,
    #[error("platform public key must be written <key id>:<base64url of 32 bytes>")]
    MalformedPublicKey,
}

const STATEMENT_DOMAIN: &[u8] = b"NUMBIND-STATEMENT-V1\n";
/// What the platform's signature on a merchant event (webhook body) covers, before the body bytes.
pub const MERCHANT_EVENT_DOMAIN: &[u8] = b"NUMBIND-MERCHANT-EVENT-V1\n";

/// What a platform signature covers: a domain line (statements, session grants), then the payload bytes.
fn signed_bytes(domain: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut bytes = domain.to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

/// The key ID of a platform public key: `pk-` and the first 8 hex digits of its SHA-256.
fn key_id_of(public_key: &[u8]) -> String {
    format!("pk-{}", &sha256_hex(public_key)[..8])
}

/// The platform's signing key. `Debug` never prints the private key.
pub struct PlatformSigningKey {
    key_id: String,
    key_pair: Ed25519KeyPair,
    /// HKDF pseudo-random key extracted from the private key document: the root of `derive_secret`.
    secret_root: hkdf::Prk,
}

impl PlatformSigningKey {
    /// Makes a new key; returns it with the PKCS#8 document to store owner-only.
    pub fn generate(random: &dyn SecureRandom) -> Result<(Self, Vec<u8>), StatementError> {
        let document = Ed25519KeyPair::generate_pkcs8(random).map_err(|_| StatementError::Malformed)?;
        let pkcs8 = document.as_ref().to_vec();
        Ok((Self::from_pkcs8(&pkcs8)?, pkcs8))
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, StatementError> {
        let key_pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| StatementError::Malformed)?;
        let key_id = key_id_of(key_pair.public_key().as_ref());
        let secret_root = hkdf::Salt::new(hkdf::HKDF_SHA256, b"NUMBIND-PLATFORM-KEY-DERIVATION-V1").extract(pkcs8);
        Ok(PlatformSigningKey { key_id, key_pair, secret_root })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public half, in its pinnable text form `<key id>:<base64url>`.
    pub fn public_key(&self) -> PlatformPublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.key_pair.public_key().as_ref());
        PlatformPublicKey { key_id: self.key_id.clone(), bytes }
    }

    pub fn sign(&self, statement: &BindingStatement) -> SignedStatement {
        // Serialising a struct of strings, integers and enums cannot fail.
        let payload = serde_json::to_vec(statement).unwrap_or_default();
        SignedStatement {
            key_id: self.key_id.clone(),
            payload: base64url_encode(&payload),
            signature: self.sign_in_domain(STATEMENT_DOMAIN, &payload),
        }
    }

    /// base64url Ed25519 signature over `domain` and `payload`.
    pub(crate) fn sign_in_domain(&self, domain: &[u8], payload: &[u8]) -> String {
        base64url_encode(self.key_pair.sign(&signed_bytes(domain, payload)).as_ref())
    }

    /// base64url Ed25519 signature over `NUMBIND-MERCHANT-EVENT-V1\n` and a merchant event's body: the
    /// `x-numbind-event-signature` header of a webhook, which merchants check with the platform's public key.
    pub fn sign_merchant_event(&self, body: &[u8]) -> String {
        self.sign_in_domain(MERCHANT_EVENT_DOMAIN, body)
    }

    /// A 32-byte secret derived from the private key for `label` (HKDF-SHA256): stable while the key is, known
    /// only to whoever holds the key, and unrelated to the secret of any other label.
    pub fn derive_secret(&self, label: &str) -> [u8; 32] {
        let mut secret = [0u8; 32];
        let info = [label.as_bytes()];
        // HKDF-SHA256 can expand up to 8160 bytes; 32 never fails.
        if let Ok(okm) = self.secret_root.expand(&info, hkdf::HKDF_SHA256) {
            let _ = okm.fill(&mut secret);
        }
        secret
    }
}

impl fmt::Debug for PlatformSigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "PlatformSigningKey({})", self.key_id)
    }
}

/// A pinned platform public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformPublicKey {
    key_id: String,
    bytes: [u8; 32],
}

impl PlatformPublicKey {
    /// Parses `<key id>:<base64url of 32 bytes>`, as printed by the platform and written to `platform-key.pub`.
    pub fn parse(text: &str) -> Result<Self, StatementError> {
        let (key_id, encoded) = text.trim().split_once(':').ok_or(StatementError::MalformedPublicKey)?;
        let bytes = base64url_decode(encoded).ok_or(StatementError::MalformedPublicKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| StatementError::MalformedPublicKey)?;
        let key_id_is_well_formed = !key_id.is_empty()
            && key_id.len() <= 32
            && key_id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !key_id_is_well_formed {
            return Err(StatementError::MalformedPublicKey);
        }
        Ok(PlatformPublicKey { key_id: key_id.to_owned(), bytes })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl fmt::Display for PlatformPublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.key_id, base64url_encode(&self.bytes))
    }
}

/// What a terminal expects a statement to name.
#[derive(Debug, Clone, Copy)]
pub struct StatementExpectation<'a> {
    pub terminal_id: &'a TerminalId,
    /// When set, the statement must settle exactly this activation.
    pub activation_id: Option<&'a str>,
    /// When set, the statement must answer exactly this request nonce.
    pub in_reply_to: Option<&'a str>,
    pub now_unix_seconds: i64,
}

/// The platform keys a terminal trusts (the current one and, during a rotation, the next).
#[derive(Debug, Clone, Default)]
pub struct PinnedPlatformKeys {
    keys: Vec<PlatformPublicKey>,
}

impl PlatformPublicKey {
    /// Does `signature` (base64url) sign this merchant event `body` with this key?
    pub fn verifies_merchant_event(&self, body: &[u8], signature: &str) -> bool {
        base64url_decode(signature).is_some_and(|signature| {
            UnparsedPublicKey::new(&ED25519, &self.bytes)
                .verify(&signed_bytes(MERCHANT_EVENT_DOMAIN, body), &signature)
                .is_ok()
        })
    }
}

impl PinnedPlatformKeys {
    pub fn new(keys: Vec<PlatformPublicKey>) -> Self {
        PinnedPlatformKeys { keys }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies the signature with the pinned key named by `key_id`, then every field the terminal expects.
    pub fn verify_for(
        &self,
        signed: &SignedStatement,
        expectation: StatementExpectation<'_>,
    ) -> Result<BindingStatement, StatementError> {
        let payload = self.verify_in_domain(&signed.key_id, STATEMENT_DOMAIN, &signed.payload, &signed.signature)?;
        let statement: BindingStatement = serde_json::from_slice(&payload).map_err(|_| StatementError::Malformed)?;
        check_expectation(statement, expectation)
    }

    /// Verifies a base64url `payload` and `signature` made by `sign_in_domain`; returns the payload's bytes.
    pub(crate) fn verify_in_domain(
        &self,
        key_id: &str,
        domain: &[u8],
        payload: &str,
        signature: &str,
    ) -> Result<Vec<u8>, StatementError> {
        let key = self
            .keys
            .iter()
            .find(|key| key.key_id == key_id)
            .ok_or_else(|| StatementError::UnknownKey(key_id.to_owned()))?;
        let payload = base64url_decode(payload).ok_or(StatementError::Malformed)?;
        let signature = base64url_decode(signature).ok_or(StatementError::Malformed)?;
        UnparsedPublicKey::new(&ED25519, &key.bytes)
            .verify(&signed_bytes(domain, &payload), &signature)
            .map_err(|_| StatementError::BadSignature)?;
        Ok(payload)
    }
}

/// Checks every field a terminal expects of a statement whose origin is already proven (signature or session tag).
pub(crate) fn check_expectation(
    statement: BindingStatement,
    expectation: StatementExpectation<'_>,
) -> Result<BindingStatement, StatementError> {
    if &statement.terminal_id != expectation.terminal_id {
        return Err(StatementError::WrongTerminal);
    }
    if statement.expires_at_unix_seconds < expectation.now_unix_seconds {
        return Err(StatementError::Expired);
    }
    if let Some(activation_id) = expectation.activation_id {
        if statement.activation_id.as_deref() != Some(activation_id) {
            return Err(StatementError::WrongActivation);
        }
    }
    if let Some(nonce) = expectation.in_reply_to {
        if statement.in_reply_to.as_deref() != Some(nonce) {
            return Err(StatementError::WrongRequest);
        }
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn statement(terminal: &str) -> BindingStatement {
        BindingStatement {
            terminal_id: TerminalId::parse(terminal).unwrap(),
            state: BindingState::Bound,
            activation_id: Some("act-1".into()),
            binding_id: Some("bnd-1".into()),
            msisdn_masked: Some("138****8000".into()),
            denial_reason: None,
            in_reply_to: Some("nonce-nonce-nonce-1".into()),
            issued_at_unix_seconds: 1000,
            expires_at_unix_seconds: 2000,
        }
    }

    fn expectation(terminal_id: &TerminalId) -> StatementExpectation<'_> {
        StatementExpectation {
            terminal_id,
            activation_id: Some("act-1"),
            in_reply_to: Some("nonce-nonce-nonce-1"),
            now_unix_seconds: 1500,
        }
    }

    #[test]
    fn a_genuine_statement_verifies_and_names_the_terminal() {
        let random = SystemRandom::new();
        let (key, _) = PlatformSigningKey::generate(&random).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![PlatformPublicKey::parse(&key.public_key().to_string()).unwrap()]);
        let signed = key.sign(&statement("STB-000001"));
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        assert_eq!(pinned.verify_for(&signed, expectation(&terminal_id)).unwrap().state, BindingState::Bound);
    }

    #[test]
    fn forged_misdirected_stale_and_unpinned_statements_are_refused() {
        let random = SystemRandom::new();
        let (key, _) = PlatformSigningKey::generate(&random).unwrap();
        let (forger, _) = PlatformSigningKey::generate(&random).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let expect = expectation(&terminal_id);

        let forged = forger.sign(&statement("STB-000001"));
        assert!(matches!(pinned.verify_for(&forged, expect), Err(StatementError::UnknownKey(_))));

        let mut tampered = key.sign(&statement("STB-000001"));
        tampered.payload = base64url_encode(&serde_json::to_vec(&statement("STB-000002")).unwrap());
        assert_eq!(pinned.verify_for(&tampered, expect), Err(StatementError::BadSignature));

        let other_terminal = key.sign(&statement("STB-000002"));
        assert_eq!(pinned.verify_for(&other_terminal, expect), Err(StatementError::WrongTerminal));

        let genuine = key.sign(&statement("STB-000001"));
        let later = StatementExpectation { now_unix_seconds: 2001, ..expect };
        assert_eq!(pinned.verify_for(&genuine, later), Err(StatementError::Expired));
        let other_activation = StatementExpectation { activation_id: Some("act-2"), ..expect };
        assert_eq!(pinned.verify_for(&genuine, other_activation), Err(StatementError::WrongActivation));
        let other_request = StatementExpectation { in_reply_to: Some("another-nonce-0001"), ..expect };
        assert_eq!(pinned.verify_for(&genuine, other_request), Err(StatementError::WrongRequest));
    }

    #[test]
    fn a_box_pinning_the_old_and_the_new_key_survives_a_rotation() {
        let random = SystemRandom::new();
        let (old, _) = PlatformSigningKey::generate(&random).unwrap();
        let (new, _) = PlatformSigningKey::generate(&random).unwrap();
        let (retired_elsewhere, _) = PlatformSigningKey::generate(&random).unwrap();
        assert_ne!(old.key_id(), new.key_id(), "key IDs tell the keys apart");
        let pinned = PinnedPlatformKeys::new(vec![old.public_key(), new.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        for signer in [&old, &new] {
            let verified = pinned.verify_for(&signer.sign(&statement("STB-000001")), expectation(&terminal_id));
            assert_eq!(verified.unwrap().state, BindingState::Bound, "signed with {}", signer.key_id());
        }
        let unpinned = retired_elsewhere.sign(&statement("STB-000001"));
        assert!(matches!(pinned.verify_for(&unpinned, expectation(&terminal_id)), Err(StatementError::UnknownKey(_))));
    }

    #[test]
    fn derived_secrets_are_stable_per_key_and_label_and_differ_otherwise() {
        let random = SystemRandom::new();
        let (key, pkcs8) = PlatformSigningKey::generate(&random).unwrap();
        let reloaded = PlatformSigningKey::from_pkcs8(&pkcs8).unwrap();
        let (other, _) = PlatformSigningKey::generate(&random).unwrap();
        assert_eq!(key.derive_secret("tickets"), reloaded.derive_secret("tickets"));
        assert_ne!(key.derive_secret("tickets"), key.derive_secret("other purpose"));
        assert_ne!(key.derive_secret("tickets"), other.derive_secret("tickets"));
        assert_ne!(key.derive_secret("tickets"), [0u8; 32]);
    }

    #[test]
    fn public_keys_parse_only_in_their_text_form() {
        assert_eq!(PlatformPublicKey::parse("no-colon"), Err(StatementError::MalformedPublicKey));
        assert_eq!(PlatformPublicKey::parse("pk-1:AAAA"), Err(StatementError::MalformedPublicKey));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn fixed_key() -> PlatformSigningKey {
            PlatformSigningKey::generate(&SystemRandom::new()).unwrap().0
        }

        fn arbitrary_statement() -> impl Strategy<Value = BindingStatement> {
            let states = prop_oneof![
                Just(BindingState::Bound),
                Just(BindingState::Unbound),
                Just(BindingState::Pending),
                Just(BindingState::Expired),
                Just(BindingState::Denied),
            ];
            let optional_text = proptest::option::of(any::<String>());
            (states, optional_text.clone(), optional_text.clone(), optional_text, any::<i64>(), any::<i64>()).prop_map(
                |(state, activation_id, binding_id, in_reply_to, issued, expires)| BindingStatement {
                    state,
                    activation_id,
                    binding_id,
                    in_reply_to,
                    issued_at_unix_seconds: issued,
                    expires_at_unix_seconds: expires,
                    ..statement("STB-000001")
                },
            )
        }

        proptest! {
            #[test]
            fn public_key_text_never_panics_and_round_trips(text in any::<String>()) {
                match PlatformPublicKey::parse(&text) {
                    Ok(key) => prop_assert_eq!(PlatformPublicKey::parse(&key.to_string()), Ok(key)),
                    Err(error) => prop_assert_eq!(error, StatementError::MalformedPublicKey),
                }
            }

            #[test]
            fn arbitrary_signed_statements_never_verify(
                key_id in prop_oneof![Just(String::new()), any::<String>()],
                payload in any::<String>(),
                signature in any::<String>(),
                use_the_pinned_key_id in any::<bool>(),
            ) {
                let key = fixed_key();
                let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
                let key_id = if use_the_pinned_key_id { key.key_id().to_owned() } else { key_id };
                let signed = SignedStatement { key_id, payload, signature };
                let terminal_id = TerminalId::parse("STB-000001").unwrap();
                prop_assert!(pinned.verify_for(&signed, expectation(&terminal_id)).is_err());
            }

            #[test]
            fn arbitrary_json_never_panics_the_verifier(json in any::<String>()) {
                let key = fixed_key();
                let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
                let terminal_id = TerminalId::parse("STB-000001").unwrap();
                if let Ok(signed) = serde_json::from_str::<SignedStatement>(&json) {
                    prop_assert!(pinned.verify_for(&signed, expectation(&terminal_id)).is_err());
                }
            }

            #[test]
            fn genuine_statements_round_trip_and_a_flipped_bit_is_refused(
                statement in arbitrary_statement(),
                flipped_byte in any::<prop::sample::Index>(),
            ) {
                let key = fixed_key();
                let pinned = PinnedPlatformKeys::new(vec![key.public_key()]);
                let signed = key.sign(&statement);
                let terminal_id = TerminalId::parse("STB-000001").unwrap();
                let open = StatementExpectation {
                    terminal_id: &terminal_id,
                    activation_id: None,
                    in_reply_to: None,
                    now_unix_seconds: i64::MIN,
                };
                prop_assert_eq!(pinned.verify_for(&signed, open), Ok(statement));
                let mut payload = base64url_decode(&signed.payload).unwrap();
                let index = flipped_byte.index(payload.len());
                payload[index] ^= 0x01;
                let tampered = SignedStatement { payload: base64url_encode(&payload), ..signed };
                prop_assert_eq!(pinned.verify_for(&tampered, open), Err(StatementError::BadSignature));
            }
        }
    }
}
