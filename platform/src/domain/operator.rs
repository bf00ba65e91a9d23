//! Operators: their roles, their bearer tokens (`nbo_` + 32 base64url characters) and how tokens are hashed.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use ring::rand::SecureRandom;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorRole {
    /// Reads bindings, histories and the audit log; numbers always masked.
    Auditor,
    /// Also acts (unbinds) and may reveal a full number with a stated reason.
    Admin,
}

/// The role text is neither `auditor` nor `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an operator role is auditor or admin, not {0:?}")]
pub struct UnknownRole(pub String);

impl OperatorRole {
    pub fn parse(text: &str) -> Result<Self, UnknownRole> {
        match text {
            "auditor" => Ok(OperatorRole::Auditor),
            "admin" => Ok(OperatorRole::Admin),
            other => Err(UnknownRole(other.chars().take(32).collect())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Auditor => "auditor",
            OperatorRole::Admin => "admin",
        }
    }
}

impl std::str::FromStr for OperatorRole {
    type Err = UnknownRole;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        OperatorRole::parse(text)
    }
}

/// An authenticated operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub name: String,
    pub role: OperatorRole,
}

/// The prefix of every operator token (so a leaked one is recognisable by secret scanners).
pub(crate) const TOKEN_PREFIX: &str = "nbo_";
const TOKEN_RANDOM_BYTES: usize = 24;

/// A freshly minted token: show `secret` once, store only `hash`.
#[derive(Clone)]
pub struct NewOperatorToken {
    pub token_id: String,
    pub secret: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewOperatorToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("NewOperatorToken").field("token_id", &self.token_id).finish_non_exhaustive()
    }
}

/// The random source failed; no token was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random source failed")]
pub(crate) struct TokenRandomFailed;

/// Mints a token: 24 random bytes as 32 base64url characters after `nbo_`, and a token ID.
pub(crate) fn mint_operator_token(random: &dyn SecureRandom) -> Result<NewOperatorToken, TokenRandomFailed> {
    let mut secret_bytes = [0u8; TOKEN_RANDOM_BYTES];
    random.fill(&mut secret_bytes).map_err(|_| TokenRandomFailed)?;
    let mut id_bytes = [0u8; 8];
    random.fill(&mut id_bytes).map_err(|_| TokenRandomFailed)?;
    let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret_bytes));
    let token_id = format!("tok-{}", id_bytes.iter().map(|byte| format!("{byte:02x}")).collect::<String>());
    Ok(NewOperatorToken { hash: hash_operator_token(&secret), token_id, secret })
}

/// SHA-256 of the whole token text.
pub(crate) fn hash_operator_token(secret: &str) -> [u8; 32] {
    let mut hash = [0; 32];
    hash.copy_from_slice(digest(&SHA256, secret.as_bytes()).as_ref());
    hash
}

/// Compares two token hashes in time independent of where they differ.
pub(crate) fn hashes_match(stored: &[u8], presented: &[u8; 32]) -> bool {
    stored.len() == presented.len()
        && stored.iter().zip(presented).fold(0u8, |difference, (left, right)| difference | (left ^ right)) == 0
}

/// Whether `text` has the shape of a token (prefix and 32 base64url characters).
pub(crate) fn looks_like_operator_token(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 32 && rest.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn minted_tokens_have_their_shape_and_differ() {
        let random = SystemRandom::new();
        let first = mint_operator_token(&random).unwrap();
        assert!(looks_like_operator_token(&first.secret), "{}", first.secret);
        assert_eq!(first.hash, hash_operator_token(&first.secret));
        assert_ne!(first.secret, mint_operator_token(&random).unwrap().secret);
        assert!(!format!("{first:?}").contains(&first.secret));
        assert!(!looks_like_operator_token("nbo_short"));
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        assert_eq!(OperatorRole::parse("admin"), Ok(OperatorRole::Admin));
        assert_eq!("auditor".parse::<OperatorRole>(), Ok(OperatorRole::Auditor));
        assert!(OperatorRole::parse("root").is_err());
    }
}
