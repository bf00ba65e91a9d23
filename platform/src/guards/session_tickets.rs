//! Session tickets: a terminal session sealed (ChaCha20-Poly1305) into the opaque token the terminal sends back.
//!
//! The platform keeps no session table: a ticket carries its terminal, session key and expiry, sealed under a key
//! derived from the platform's signing key. Sessions therefore survive a platform restart, cost no memory per box
//! and need no database read; rotating the signing key ends every session (boxes open new ones). A ticket cannot
//! be read or altered without the key, and opening one checks its terminal and expiry.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use numbind_wire::statement::PlatformSigningKey;
use numbind_wire::terminal_session::SessionKey;
use numbind_wire::TerminalId;
use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::SecureRandom;

const TICKET_KEY_LABEL: &str = "numbind session tickets v1";
const TICKET_AAD: &[u8] = b"NUMBIND-SESSION-TICKET-V1";
const EXPIRY_LEN: usize = 8;
const SESSION_KEY_LEN: usize = 32;

/// Seals and opens tickets.
pub(crate) struct SessionTickets {
    key: LessSafeKey,
}

/// Why a ticket does not open a session; all answer `session_invalid`, the terminal opens a new session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TicketRefusal {
    #[error("the ticket is not one this platform sealed")]
    NotGenuine,
    #[error("the session has expired")]
    Expired,
    #[error("the ticket is for another terminal")]
    OtherTerminal,
    #[error("the random source failed")]
    RandomSourceFailed,
}

impl SessionTickets {
    /// The ticket key of this signing key (ring refuses only a key of the wrong length, which 32 bytes is not).
    pub(crate) fn new(signing_key: &PlatformSigningKey) -> Result<Self, ring::error::Unspecified> {
        let secret = signing_key.derive_secret(TICKET_KEY_LABEL);
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &secret)?;
        Ok(SessionTickets { key: LessSafeKey::new(unbound) })
    }

    /// The ticket of a session of `terminal_id` with `session_key`, valid until `expires_at_unix_seconds`.
    pub(crate) fn seal(
        &self,
        random: &dyn SecureRandom,
        terminal_id: &TerminalId,
        session_key: &SessionKey,
        expires_at_unix_seconds: i64,
    ) -> Result<String, TicketRefusal> {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        random.fill(&mut nonce_bytes).map_err(|_| TicketRefusal::RandomSourceFailed)?;
        let mut sealed = expires_at_unix_seconds.to_be_bytes().to_vec();
        sealed.extend_from_slice(session_key.as_bytes());
        sealed.extend_from_slice(terminal_id.as_str().as_bytes());
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::from(TICKET_AAD), &mut sealed)
            .map_err(|_| TicketRefusal::NotGenuine)?;
        let mut ticket = nonce_bytes.to_vec();
        ticket.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(&ticket))
    }

    /// The session key of a genuine, unexpired ticket of `terminal_id`.
    pub(crate) fn open(
        &self,
        ticket: &str,
        terminal_id: &TerminalId,
        now_unix_seconds: i64,
    ) -> Result<SessionKey, TicketRefusal> {
        let mut bytes = URL_SAFE_NO_PAD.decode(ticket.trim()).map_err(|_| TicketRefusal::NotGenuine)?;
        if bytes.len() < NONCE_LEN + EXPIRY_LEN + SESSION_KEY_LEN + aead::MAX_TAG_LEN {
            return Err(TicketRefusal::NotGenuine);
        }
        let mut sealed = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| TicketRefusal::NotGenuine)?;
        let plain =
            self.key.open_in_place(nonce, Aad::from(TICKET_AAD), &mut sealed).map_err(|_| TicketRefusal::NotGenuine)?;
        let (expiry, rest) = plain.split_at(EXPIRY_LEN);
        let (session_key, sealed_terminal) = rest.split_at(SESSION_KEY_LEN);
        if sealed_terminal != terminal_id.as_str().as_bytes() {
            return Err(TicketRefusal::OtherTerminal);
        }
        let expires_at = i64::from_be_bytes(expiry.try_into().map_err(|_| TicketRefusal::NotGenuine)?);
        if expires_at < now_unix_seconds {
            return Err(TicketRefusal::Expired);
        }
        let session_key: [u8; SESSION_KEY_LEN] = session_key.try_into().map_err(|_| TicketRefusal::NotGenuine)?;
        Ok(SessionKey::from_bytes(session_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    fn platform_key() -> PlatformSigningKey {
        PlatformSigningKey::generate(&SystemRandom::new()).unwrap().0
    }

    #[test]
    fn a_ticket_opens_for_its_terminal_until_it_expires() {
        let random = SystemRandom::new();
        let tickets = SessionTickets::new(&platform_key()).unwrap();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let session_key = SessionKey::from_bytes([9; 32]);
        let ticket = tickets.seal(&random, &terminal_id, &session_key, 2000).unwrap();
        assert_eq!(tickets.open(&ticket, &terminal_id, 2000).unwrap().as_bytes(), &[9; 32]);
        assert_eq!(tickets.open(&ticket, &terminal_id, 2001).unwrap_err(), TicketRefusal::Expired);
        let other = TerminalId::parse("STB-000002").unwrap();
        assert_eq!(tickets.open(&ticket, &other, 1000).unwrap_err(), TicketRefusal::OtherTerminal);
    }

    #[test]
    fn a_ticket_survives_a_restart_with_the_same_key_but_not_another_key_or_a_flipped_bit() {
        let random = SystemRandom::new();
        let (key, pkcs8) = PlatformSigningKey::generate(&random).unwrap();
        let terminal_id = TerminalId::parse("STB-000001").unwrap();
        let ticket = SessionTickets::new(&key)
            .unwrap()
            .seal(&random, &terminal_id, &SessionKey::from_bytes([1; 32]), 2000)
            .unwrap();
        let restarted = SessionTickets::new(&PlatformSigningKey::from_pkcs8(&pkcs8).unwrap()).unwrap();
        assert!(restarted.open(&ticket, &terminal_id, 1000).is_ok());
        let rotated = SessionTickets::new(&platform_key()).unwrap();
        assert_eq!(rotated.open(&ticket, &terminal_id, 1000).unwrap_err(), TicketRefusal::NotGenuine);
        let mut bytes = URL_SAFE_NO_PAD.decode(&ticket).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        assert_eq!(
            restarted.open(&URL_SAFE_NO_PAD.encode(&bytes), &terminal_id, 1000).unwrap_err(),
            TicketRefusal::NotGenuine
        );
        for junk in ["", "AAAA", "%%%", &"A".repeat(200)] {
            assert_eq!(restarted.open(junk, &terminal_id, 1000).unwrap_err(), TicketRefusal::NotGenuine, "{junk}");
        }
    }
}
