//! Merchants: their bearer tokens (`nbm_<merchant_id>_` + 43 base64url characters of 32 random bytes), how a
//! token is hashed and compared, and the checks on a display name and a webhook URL.
//!
//! A token is a high-entropy secret (256 bits): SHA-256 is the right hash for it (no password stretching needed,
//! no guessable input), and the stored hash is compared in constant time. The merchant ID inside the token lets the
//! platform look up one row, and tells a human whose token leaked.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use numbind_wire::MerchantId;
use ring::digest::{digest, SHA256};
use ring::rand::SecureRandom;

/// The prefix of every merchant token, so that secret scanners recognise a leaked one.
const TOKEN_PREFIX: &str = "nbm_";
const TOKEN_RANDOM_BYTES: usize = 32;
/// base64url without padding of 32 bytes.
const TOKEN_SECRET_CHARS: usize = 43;

/// A freshly minted token: show `secret` once, store only `hash`.
#[derive(Clone)]
pub struct NewMerchantToken {
    pub secret: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewMerchantToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("NewMerchantToken(..)")
    }
}

/// The random source failed; no token was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random source failed")]
pub struct MerchantTokenRandomFailed;

/// Mints the token of `merchant_id`.
pub(crate) fn mint_merchant_token(
    merchant_id: &MerchantId,
    random: &dyn SecureRandom,
) -> Result<NewMerchantToken, MerchantTokenRandomFailed> {
    let mut secret_bytes = [0u8; TOKEN_RANDOM_BYTES];
    random.fill(&mut secret_bytes).map_err(|_| MerchantTokenRandomFailed)?;
    let secret = format!("{TOKEN_PREFIX}{merchant_id}_{}", URL_SAFE_NO_PAD.encode(secret_bytes));
    Ok(NewMerchantToken { hash: hash_merchant_token(&secret), secret })
}

/// SHA-256 of the whole token text.
pub(crate) fn hash_merchant_token(secret: &str) -> [u8; 32] {
    let mut hash = [0; 32];
    hash.copy_from_slice(digest(&SHA256, secret.as_bytes()).as_ref());
    hash
}

/// The merchant a well-shaped token names (its secret still to be checked), or `None` for any other text.
pub(crate) fn merchant_of_token(text: &str) -> Option<MerchantId> {
    let rest = text.strip_prefix(TOKEN_PREFIX)?;
    if rest.len() < TOKEN_SECRET_CHARS + 2 || !rest.is_char_boundary(rest.len() - TOKEN_SECRET_CHARS) {
        return None;
    }
    let (head, secret) = rest.split_at(rest.len() - TOKEN_SECRET_CHARS);
    let merchant = head.strip_suffix('_')?;
    let secret_is_base64url = secret.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    secret_is_base64url.then_some(())?;
    MerchantId::parse(merchant).ok()
}

/// Why a display name or a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerchantFieldError {
    #[error("a display name is 1 to 20 characters with no control characters (it is shown in SMS)")]
    DisplayName,
    #[error("a webhook url is an https:// url of at most 512 characters")]
    WebhookUrl,
}

/// A merchant's name as the SMS shows it (`演示影院`): 1 to 20 characters, no control characters.
pub fn check_display_name(text: &str) -> Result<String, MerchantFieldError> {
    let text = text.trim();
    let length = text.chars().count();
    let well_formed = (1..=20).contains(&length) && !text.chars().any(char::is_control);
    well_formed.then(|| text.to_owned()).ok_or(MerchantFieldError::DisplayName)
}

/// A webhook URL: https only, unless `allow_insecure_http` (tests on loopback).
pub fn check_webhook_url(text: &str, allow_insecure_http: bool) -> Result<String, MerchantFieldError> {
    let text = text.trim();
    let scheme_ok = text.starts_with("https://") || (allow_insecure_http && text.starts_with("http://"));
    let well_formed = scheme_ok
        && text.len() <= 512
        && text.split_once("://").is_some_and(|(_, rest)| !rest.is_empty())
        && !text.chars().any(|character| character.is_control() || character.is_whitespace());
    well_formed.then(|| text.to_owned()).ok_or(MerchantFieldError::WebhookUrl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn a_minted_token_names_its_merchant_and_hashes_stably() {
        let merchant = MerchantId::parse("demo-films").unwrap();
        let token = mint_merchant_token(&merchant, &SystemRandom::new()).unwrap();
        assert!(token.secret.starts_with("nbm_demo-films_") && token.secret.len() == 4 + 10 + 1 + 43);
        assert_eq!(merchant_of_token(&token.secret), Some(merchant));
        assert_eq!(hash_merchant_token(&token.secret), token.hash);
        assert!(!format!("{token:?}").contains(&token.secret));
        for refused in
            ["", "nbm_", "nbo_demo-films_x", "nbm_demo-films", "nbm_Demo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
        {
            assert_eq!(merchant_of_token(refused), None, "{refused}");
        }
    }

    #[test]
    fn display_names_and_webhook_urls_are_checked() {
        assert_eq!(check_display_name(" 演示影院 ").unwrap(), "演示影院");
        assert!(check_display_name("").is_err() && check_display_name(&"影".repeat(21)).is_err());
        assert!(check_webhook_url("https://merchant.example/hooks", false).is_ok());
        assert!(check_webhook_url("http://127.0.0.1:9/hooks", false).is_err());
        assert!(check_webhook_url("http://127.0.0.1:9/hooks", true).is_ok());
        assert!(check_webhook_url("https://", false).is_err());
    }
}
