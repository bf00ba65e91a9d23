//! `ActivationId`, `BindingId`, `PaymentId` and `RefundId`: the identifiers of an activation (minted by the
//! platform, `act-` and 16 hex digits), a binding (minted by the OSS), a payment and a refund (minted by the
//! platform), parsed once at the edge and typed everywhere after.
//!
//! Each accepts what the platform has always accepted: an activation ID is 1 to 64 ASCII letters, digits, `-` or
//! `_` (the check its path segment always had); a binding ID, the OSS's idempotency key, is 1 to 128 characters
//! with no control character. On the wire they are plain JSON strings; a malformed one is refused when
//! deserialised.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest activation ID accepted.
const MAX_ACTIVATION_ID_LENGTH: usize = 64;
/// The longest binding ID accepted.
const MAX_BINDING_ID_LENGTH: usize = 128;

/// Why a text is not a well-formed activation or binding ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordIdError {
    #[error("{kind} must have 1 to {max} characters, found {found}")]
    WrongLength { kind: &'static str, max: usize, found: usize },
    #[error("{kind} may not hold this character")]
    InvalidCharacter { kind: &'static str },
}

fn check_activation_id(kind: &'static str, text: &str) -> Result<(), RecordIdError> {
    if !(1..=MAX_ACTIVATION_ID_LENGTH).contains(&text.len()) {
        return Err(RecordIdError::WrongLength { kind, max: MAX_ACTIVATION_ID_LENGTH, found: text.chars().count() });
    }
    if !text.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_') {
        return Err(RecordIdError::InvalidCharacter { kind });
    }
    Ok(())
}

fn check_binding_id(kind: &'static str, text: &str) -> Result<(), RecordIdError> {
    if text.is_empty() || text.len() > MAX_BINDING_ID_LENGTH {
        return Err(RecordIdError::WrongLength { kind, max: MAX_BINDING_ID_LENGTH, found: text.chars().count() });
    }
    if text.chars().any(char::is_control) {
        return Err(RecordIdError::InvalidCharacter { kind });
    }
    Ok(())
}

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:ident, $shape:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            #[doc = $shape]
            pub fn parse(text: &str) -> Result<Self, RecordIdError> {
                $check($kind, text)?;
                Ok($name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = RecordIdError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                $check($kind, &text)?;
                Ok($name(text))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

record_id!(
    /// An activation's ID: the platform mints `act-` and 16 lowercase hex digits.
    ActivationId,
    "activation id",
    check_activation_id,
    "Accepts 1 to 64 ASCII letters, digits, `-` or `_`."
);

record_id!(
    /// A binding's ID, minted by the OSS when it confirms the binding (its idempotency key at the platform).
    BindingId,
    "binding id",
    check_binding_id,
    "Accepts 1 to 128 bytes of text without a control character."
);

record_id!(
    /// A payment's ID, minted by the platform (`pay-` and 24 lowercase hex digits); also the receipt number the
    /// user quotes to dispute a charge, and the OSS's idempotency key for the charge.
    PaymentId,
    "payment id",
    check_activation_id,
    "Accepts 1 to 64 ASCII letters, digits, `-` or `_`."
);

record_id!(
    /// A refund's ID, minted by the platform (`ref-` and 24 lowercase hex digits); the OSS's idempotency key for
    /// the refund.
    RefundId,
    "refund id",
    check_activation_id,
    "Accepts 1 to 64 ASCII letters, digits, `-` or `_`."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ids_parse_and_others_are_refused_with_a_reason() {
        let activation_id = ActivationId::parse("act-0123456789abcdef").unwrap();
        assert_eq!(
            (activation_id.as_str(), activation_id.to_string()),
            ("act-0123456789abcdef", "act-0123456789abcdef".into())
        );
        assert!(matches!(ActivationId::parse("act 1"), Err(RecordIdError::InvalidCharacter { .. })));
        assert!(matches!(ActivationId::parse(""), Err(RecordIdError::WrongLength { found: 0, .. })));
        assert!(matches!(ActivationId::parse(&"a".repeat(65)), Err(RecordIdError::WrongLength { found: 65, .. })));
        assert!(matches!(BindingId::parse(&"b".repeat(129)), Err(RecordIdError::WrongLength { found: 129, .. })));
        assert!(matches!(BindingId::parse("bnd\n1"), Err(RecordIdError::InvalidCharacter { .. })));
        assert_eq!(BindingId::parse("bnd_1-X:7").unwrap().as_str(), "bnd_1-X:7");
        assert!(PaymentId::parse("pay-0123456789abcdef01234567").is_ok());
        assert!(matches!(RefundId::parse("ref 1"), Err(RecordIdError::InvalidCharacter { .. })));
    }

    #[test]
    fn ids_are_plain_json_strings_and_malformed_ones_do_not_deserialise() {
        let binding_id = BindingId::parse("bnd-1").unwrap();
        assert_eq!(serde_json::to_string(&binding_id).unwrap(), "\"bnd-1\"");
        assert_eq!(serde_json::from_str::<BindingId>("\"bnd-1\"").unwrap(), binding_id);
        assert!(serde_json::from_str::<ActivationId>("\"act/1\"").is_err());
        assert!(serde_json::from_str::<ActivationId>("\"\"").is_err());
    }
}
