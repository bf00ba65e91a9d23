//! The session handshake: an ephemeral X25519 exchange inside a signed request and a signed answer.
//!
//! The terminal sends `OpenSessionRequest` (its ephemeral public key) as an ordinary signed request, so the
//! platform knows the offer is the registered terminal's. The platform answers a `SignedSessionGrant`, signed with
//! its statement key, naming both ephemeral keys, the request's nonce, an opaque ticket and the expiry, so nobody
//! in between can substitute a key or replay an old grant. Both sides then derive the same `SessionKey`:
//! HKDF-SHA256 over the X25519 shared secret, bound to the terminal ID and both public keys. Ephemeral private
//! keys never leave memory and are used once.

use crate::encoding::{base64url_decode, base64url_encode};
use crate::statement::{PinnedPlatformKeys, PlatformSigningKey, StatementError};
use crate::terminal_id::TerminalId;
use crate::terminal_session::{SessionError, SessionKey};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, X25519};
use ring::hkdf;
use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

const GRANT_DOMAIN: &[u8] = b"NUMBIND-SESSION-GRANT-V1\n";
const KEY_DERIVATION_SALT: &[u8] = b"NUMBIND-SESSION-KEY-V1";

/// The body of `POST /v1/terminals/{id}/sessions` (a signed request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSessionRequest {
    /// base64url of the terminal's 32-byte ephemeral X25519 public key.
    pub terminal_ephemeral_key: String,
}

/// The answer to `OpenSessionRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSessionResponse {
    pub grant: SignedSessionGrant,
}

/// What the platform signs when it opens a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionGrant {
    pub terminal_id: TerminalId,
    /// Opaque to the terminal: sent back in `x-numbind-session` with every session request.
    pub ticket: String,
    pub terminal_ephemeral_key: String,
    pub platform_ephemeral_key: String,
    /// The nonce of the signed request that asked for the session.
    pub in_reply_to: String,
    pub issued_at_unix_seconds: i64,
    pub expires_at_unix_seconds: i64,
}

/// A grant with the platform's signature, as it travels in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedSessionGrant {
    pub key_id: String,
    /// base64url of the grant's JSON bytes.
    pub payload: String,
    /// base64url Ed25519 signature over `NUMBIND-SESSION-GRANT-V1\n` and the payload bytes.
    pub signature: String,
}

impl PlatformSigningKey {
    pub fn sign_session_grant(&self, grant: &SessionGrant) -> SignedSessionGrant {
        // Serialising a struct of strings and integers cannot fail.
        let payload = serde_json::to_vec(grant).unwrap_or_default();
        SignedSessionGrant {
            key_id: self.key_id().to_owned(),
            payload: base64url_encode(&payload),
            signature: self.sign_in_domain(GRANT_DOMAIN, &payload),
        }
    }
}

impl PinnedPlatformKeys {
    /// Verifies a grant's signature, then that it is for this terminal, answers `request_nonce` and is not expired.
    pub fn verify_session_grant(
        &self,
        signed: &SignedSessionGrant,
        terminal_id: &TerminalId,
        request_nonce: &str,
        now_unix_seconds: i64,
    ) -> Result<SessionGrant, StatementError> {
        let payload = self.verify_in_domain(&signed.key_id, GRANT_DOMAIN, &signed.payload, &signed.signature)?;
        let grant: SessionGrant = serde_json::from_slice(&payload).map_err(|_| StatementError::Malformed)?;
        if &grant.terminal_id != terminal_id {
            return Err(StatementError::WrongTerminal);
        }
        if grant.in_reply_to != request_nonce {
            return Err(StatementError::WrongRequest);
        }
        if grant.expires_at_unix_seconds < now_unix_seconds {
            return Err(StatementError::Expired);
        }
        Ok(grant)
    }
}

/// The terminal's half of a handshake in progress: its ephemeral private key, used once.
pub struct SessionOffer {
    private_key: EphemeralPrivateKey,
    public_key_text: String,
}

impl SessionOffer {
    pub fn generate(random: &dyn SecureRandom) -> Result<Self, SessionError> {
        let private_key =
            EphemeralPrivateKey::generate(&X25519, random).map_err(|_| SessionError::RandomSourceFailed)?;
        let public_key = private_key.compute_public_key().map_err(|_| SessionError::KeyAgreementFailed)?;
        Ok(SessionOffer { public_key_text: base64url_encode(public_key.as_ref()), private_key })
    }

    /// The body to send in the signed `POST .../sessions`.
    pub fn request(&self) -> OpenSessionRequest {
        OpenSessionRequest { terminal_ephemeral_key: self.public_key_text.clone() }
    }

    /// The session key, from a grant already verified with `verify_session_grant`.
    pub fn complete(self, grant: &SessionGrant) -> Result<SessionKey, SessionError> {
        if grant.terminal_ephemeral_key != self.public_key_text {
            return Err(SessionError::GrantForAnotherOffer);
        }
        let peer = decode_public_key(&grant.platform_ephemeral_key)?;
        let context = KeyContext {
            terminal_id: &grant.terminal_id,
            terminal_key: &self.public_key_text,
            platform_key: &grant.platform_ephemeral_key,
        };
        agree(self.private_key, &peer, &context)
    }
}

impl std::fmt::Debug for SessionOffer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "SessionOffer(public={})", self.public_key_text)
    }
}

/// The platform's half: answers a terminal's ephemeral key with its own; returns the session key and the
/// platform's ephemeral public key (base64url) for the grant.
pub fn accept_session_offer(
    random: &dyn SecureRandom,
    terminal_id: &TerminalId,
    terminal_ephemeral_key: &str,
) -> Result<(SessionKey, String), SessionError> {
    let peer = decode_public_key(terminal_ephemeral_key)?;
    let private_key = EphemeralPrivateKey::generate(&X25519, random).map_err(|_| SessionError::RandomSourceFailed)?;
    let public_key = private_key.compute_public_key().map_err(|_| SessionError::KeyAgreementFailed)?;
    let platform_key = base64url_encode(public_key.as_ref());
    let context = KeyContext { terminal_id, terminal_key: terminal_ephemeral_key.trim(), platform_key: &platform_key };
    let session_key = agree(private_key, &peer, &context)?;
    Ok((session_key, platform_key))
}

/// What the derived key is bound to, besides the shared secret.
struct KeyContext<'a> {
    terminal_id: &'a TerminalId,
    terminal_key: &'a str,
    platform_key: &'a str,
}

fn decode_public_key(text: &str) -> Result<UnparsedPublicKey<[u8; 32]>, SessionError> {
    let bytes = base64url_decode(text).ok_or(SessionError::MalformedEphemeralKey)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| SessionError::MalformedEphemeralKey)?;
    Ok(UnparsedPublicKey::new(&X25519, bytes))
}

fn agree(
    private_key: EphemeralPrivateKey,
    peer: &UnparsedPublicKey<[u8; 32]>,
    context: &KeyContext<'_>,
) -> Result<SessionKey, SessionError> {
    let info = [
        context.terminal_id.as_str().as_bytes(),
        b"\n",
        context.terminal_key.as_bytes(),
        b"\n",
        context.platform_key.as_bytes(),
    ];
    agreement::agree_ephemeral(private_key, peer, |shared_secret| {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, KEY_DERIVATION_SALT).extract(shared_secret);
        let mut bytes = [0u8; 32];
        prk.expand(&info, hkdf::HKDF_SHA256).and_then(|okm| okm.fill(&mut bytes)).map(|()| bytes)
    })
    .map_err(|_| SessionError::KeyAgreementFailed)?
    .map(SessionKey::from_bytes)
    .map_err(|_| SessionError::KeyAgreementFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn grant_for(offer: &SessionOffer, platform_key: String, terminal_id: &TerminalId) -> SessionGrant {
        SessionGrant {
            terminal_id: terminal_id.clone(),
            ticket: "ticket".into(),
            terminal_ephemeral_key: offer.request().terminal_ephemeral_key,
            platform_ephemeral_key: platform_key,
            in_reply_to: "nonce-nonce-nonce-1".into(),
            issued_at_unix_seconds: 1000,
            expires_at_unix_seconds: 2000,
        }
    }

    #[test]
    fn both_sides_derive_the_same_key_and_a_swapped_offer_is_refused() {
        let random = SystemRandom::new();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let offer = SessionOffer::generate(&random).unwrap();
        let (platform_session, platform_key) =
            accept_session_offer(&random, &terminal_id, &offer.request().terminal_ephemeral_key).unwrap();
        let grant = grant_for(&offer, platform_key.clone(), &terminal_id);
        let terminal_session = offer.complete(&grant).unwrap();
        assert_eq!(terminal_session.as_bytes(), platform_session.as_bytes());

        let another_offer = SessionOffer::generate(&random).unwrap();
        assert_eq!(another_offer.complete(&grant).unwrap_err(), SessionError::GrantForAnotherOffer);
        let offer = SessionOffer::generate(&random).unwrap();
        let bad_key =
            SessionGrant { platform_ephemeral_key: "AAAA".into(), ..grant_for(&offer, platform_key, &terminal_id) };
        assert_eq!(offer.complete(&bad_key).unwrap_err(), SessionError::MalformedEphemeralKey);
        assert_eq!(
            accept_session_offer(&random, &terminal_id, "not base64!").unwrap_err(),
            SessionError::MalformedEphemeralKey
        );
    }

    #[test]
    fn the_key_is_bound_to_the_terminal_named_in_the_grant() {
        let random = SystemRandom::new();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let other_terminal = TerminalId::parse("STB-000002").unwrap();
        let offer = SessionOffer::generate(&random).unwrap();
        let (platform_session, platform_key) =
            accept_session_offer(&random, &other_terminal, &offer.request().terminal_ephemeral_key).unwrap();
        let grant = grant_for(&offer, platform_key, &terminal_id);
        let terminal_session = offer.complete(&grant).unwrap();
        assert_ne!(terminal_session.as_bytes(), platform_session.as_bytes());
    }

    #[test]
    fn a_grant_verifies_only_signed_by_a_pinned_key_for_this_terminal_request_and_time() {
        let random = SystemRandom::new();
        let (platform, _) = PlatformSigningKey::generate(&random).unwrap();
        let (forger, _) = PlatformSigningKey::generate(&random).unwrap();
        let pinned = PinnedPlatformKeys::new(vec![platform.public_key()]);
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let offer = SessionOffer::generate(&random).unwrap();
        let grant = grant_for(&offer, "platform-key".into(), &terminal_id);
        let signed = platform.sign_session_grant(&grant);
        let nonce = "nonce-nonce-nonce-1";
        assert_eq!(pinned.verify_session_grant(&signed, &terminal_id, nonce, 1500), Ok(grant.clone()));
        let other = TerminalId::parse("STB-000002").unwrap();
        assert_eq!(pinned.verify_session_grant(&signed, &other, nonce, 1500), Err(StatementError::WrongTerminal));
        let replayed = pinned.verify_session_grant(&signed, &terminal_id, "another-nonce-00001", 1500);
        assert_eq!(replayed, Err(StatementError::WrongRequest));
        assert_eq!(pinned.verify_session_grant(&signed, &terminal_id, nonce, 2001), Err(StatementError::Expired));
        let forged = forger.sign_session_grant(&grant);
        assert!(matches!(
            pinned.verify_session_grant(&forged, &terminal_id, nonce, 1500),
            Err(StatementError::UnknownKey(_))
        ));
        let as_statement = crate::statement::SignedStatement {
            key_id: signed.key_id.clone(),
            payload: signed.payload.clone(),
            signature: signed.signature.clone(),
        };
        let expectation = crate::statement::StatementExpectation {
            terminal_id: &terminal_id,
            activation_id: None,
            in_reply_to: None,
            now_unix_seconds: 1500,
        };
        assert_eq!(pinned.verify_for(&as_statement, expectation), Err(StatementError::BadSignature));
    }
}
