//! `ActivationId` and `BindingId`: the identifiers of an activation (minted by the platform, `act-` and 16 hex
//! digits) and of a binding (minted by the OSS), parsed once at the edge and typed everywhere after.
//!
//! Both accept what the platform has always accepted as an ID in a path or a body: 1 to 64 ASCII letters, digits,
//! `-` or `_`. On the wire they are plain JSON strings; a malformed one is refused when deserialised.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest identifier accepted.
const MAX_ID_LENGTH: usize = 64;

/// Why a text is not a well-formed activation or binding ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordIdError {
    #[error("{kind} must have 1 to {MAX_ID_LENGTH} characters, found {found}")]
    WrongLength { kind: &'static str, found: usize },
    #[error("{kind} may hold only ascii letters, digits, dashes and underscores")]
    InvalidCharacter { kind: &'static str },
}

fn check_record_id(kind: &'static str, text: &str) -> Result<(), RecordIdError> {
    if !(1..=MAX_ID_LENGTH).contains(&text.len()) {
        return Err(RecordIdError::WrongLength { kind, found: text.chars().count() });
    }
    if !text.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_') {
        return Err(RecordIdError::InvalidCharacter { kind });
    }
    Ok(())
}

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Accepts 1 to 64 ASCII letters, digits, `-` or `_`.
            pub fn parse(text: &str) -> Result<Self, RecordIdError> {
                check_record_id($kind, text)?;
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
                check_record_id($kind, &text)?;
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
    "activation id"
);

record_id!(
    /// A binding's ID, minted by the OSS when it confirms the binding.
    BindingId,
    "binding id"
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
        assert!(matches!(BindingId::parse(&"b".repeat(65)), Err(RecordIdError::WrongLength { found: 65, .. })));
        assert_eq!(BindingId::parse("bnd_1-X").unwrap().as_str(), "bnd_1-X");
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
