//! Component authentication between the OSS and the platform: HMAC-SHA256 over the request with a shared
//! secret, a client name and a timestamp, carried in `authorization: NUMBIND-HMAC-SHA256 ...`.

use crate::encoding::{base64url_decode, base64url_encode, sha256_hex};
use ring::hmac;
use std::fmt;

pub const AUTHORIZATION_SCHEME: &str = "NUMBIND-HMAC-SHA256";

/// A shared secret, read from a file or the environment (never from a command line). `Debug` hides it.
#[derive(Clone)]
pub struct ComponentSecret {
    key: hmac::Key,
}

/// Why a secret or an authorization header is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ComponentAuthError {
    #[error("shared secret must be at least 32 characters")]
    SecretTooShort,
    #[error("authorization header is missing")]
    Missing,
    #[error("authorization header is malformed")]
    Malformed,
    #[error("authorization signature does not verify")]
    BadSignature,
}

impl ComponentSecret {
    /// Takes the secret's text (surrounding white space dropped); at least 32 characters.
    pub fn parse(text: &str) -> Result<Self, ComponentAuthError> {
        let trimmed = text.trim();
        if trimmed.len() < 32 {
            return Err(ComponentAuthError::SecretTooShort);
        }
        Ok(ComponentSecret { key: hmac::Key::new(hmac::HMAC_SHA256, trimmed.as_bytes()) })
    }
}

impl fmt::Debug for ComponentSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ComponentSecret(<redacted>)")
    }
}

/// What is authenticated.
#[derive(Debug, Clone, Copy)]
pub struct ComponentRequest<'a> {
    pub client: &'a str,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub timestamp_unix_seconds: i64,
    pub body: &'a [u8],
}

impl ComponentRequest<'_> {
    fn canonical_bytes(&self) -> Vec<u8> {
        format!(
            "NUMBIND-COMPONENT-V1\n{}\n{}\n{}\n{}\n{}",
            self.client,
            self.method.to_ascii_uppercase(),
            self.path_and_query,
            self.timestamp_unix_seconds,
            sha256_hex(self.body)
        )
        .into_bytes()
    }

    /// The value of the `authorization` header for this request.
    pub fn authorization(&self, secret: &ComponentSecret) -> String {
        let tag = hmac::sign(&secret.key, &self.canonical_bytes());
        format!(
            "{AUTHORIZATION_SCHEME} client={},ts={},sig={}",
            self.client,
            self.timestamp_unix_seconds,
            base64url_encode(tag.as_ref())
        )
    }
}

/// An `authorization` header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentAuthorization {
    pub client: String,
    pub timestamp_unix_seconds: i64,
    signature: Vec<u8>,
}

impl ComponentAuthorization {
    pub fn parse(header: Option<&str>) -> Result<Self, ComponentAuthError> {
        let header = header.ok_or(ComponentAuthError::Missing)?;
        let fields = header.strip_prefix(AUTHORIZATION_SCHEME).ok_or(ComponentAuthError::Malformed)?.trim();
        let (mut client, mut timestamp, mut signature) = (None, None, None);
        for field in fields.split(',') {
            match field.trim().split_once('=') {
                Some(("client", value)) => client = Some(value.to_owned()),
                Some(("ts", value)) => timestamp = value.parse::<i64>().ok(),
                Some(("sig", value)) => signature = base64url_decode(value),
                _ => return Err(ComponentAuthError::Malformed),
            }
        }
        let client = client
            .filter(|name| {
                (1..=32).contains(&name.len()) && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            })
            .ok_or(ComponentAuthError::Malformed)?;
        Ok(ComponentAuthorization {
            client,
            timestamp_unix_seconds: timestamp.ok_or(ComponentAuthError::Malformed)?,
            signature: signature.ok_or(ComponentAuthError::Malformed)?,
        })
    }

    /// Checks the tag in constant time. The caller checks the timestamp window.
    pub fn verify(
        &self,
        secret: &ComponentSecret,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<(), ComponentAuthError> {
        let request = ComponentRequest {
            client: &self.client,
            method,
            path_and_query,
            timestamp_unix_seconds: self.timestamp_unix_seconds,
            body,
        };
        hmac::verify(&secret.key, &request.canonical_bytes(), &self.signature)
            .map_err(|_| ComponentAuthError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_request_authenticated_with_the_secret_verifies() {
        let secret = ComponentSecret::parse(SECRET).unwrap();
        let request = ComponentRequest {
            client: "oss",
            method: "POST",
            path_and_query: "/v1/oss/redemptions",
            timestamp_unix_seconds: 1_700_000_000,
            body: b"{}",
        };
        let header = request.authorization(&secret);
        let parsed = ComponentAuthorization::parse(Some(&header)).unwrap();
        assert_eq!(parsed.client, "oss");
        assert_eq!(parsed.verify(&secret, "POST", "/v1/oss/redemptions", b"{}"), Ok(()));
        assert_eq!(
            parsed.verify(&secret, "POST", "/v1/oss/redemptions", b"{ }"),
            Err(ComponentAuthError::BadSignature)
        );
        let wrong = ComponentSecret::parse("another secret that is long enough!").unwrap();
        assert_eq!(parsed.verify(&wrong, "POST", "/v1/oss/redemptions", b"{}"), Err(ComponentAuthError::BadSignature));
    }

    #[test]
    fn short_secrets_and_malformed_headers_are_refused() {
        assert_eq!(ComponentSecret::parse("short").unwrap_err(), ComponentAuthError::SecretTooShort);
        assert_eq!(ComponentAuthorization::parse(None), Err(ComponentAuthError::Missing));
        assert_eq!(ComponentAuthorization::parse(Some("Bearer x")), Err(ComponentAuthError::Malformed));
        assert_eq!(
            ComponentAuthorization::parse(Some("NUMBIND-HMAC-SHA256 client=oss,ts=x,sig=AA")),
            Err(ComponentAuthError::Malformed)
        );
        assert!(!format!("{:?}", ComponentSecret::parse(SECRET).unwrap()).contains("0123"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn header_parsing_never_panics_and_refuses_with_malformed(text in any::<String>()) {
                match ComponentAuthorization::parse(Some(&text)) {
                    Ok(parsed) => prop_assert!((1..=32).contains(&parsed.client.len())),
                    Err(error) => prop_assert_eq!(error, ComponentAuthError::Malformed),
                }
            }

            #[test]
            fn headers_after_the_scheme_never_panic(fields in "[a-z=,0-9A-Za-z_ -]{0,120}") {
                let header = format!("{AUTHORIZATION_SCHEME} {fields}");
                let secret = ComponentSecret::parse(SECRET).unwrap();
                if let Ok(parsed) = ComponentAuthorization::parse(Some(&header)) {
                    // Without the secret no tag verifies.
                    prop_assert_eq!(
                        parsed.verify(&secret, "POST", "/v1/oss/redemptions", b"{}"),
                        Err(ComponentAuthError::BadSignature)
                    );
                }
            }

            #[test]
            fn a_genuine_header_round_trips_and_verifies(
                client in "[A-Za-z0-9-]{1,32}",
                timestamp in any::<i64>(),
                path in "/[a-z/]{0,40}",
                body in proptest::collection::vec(any::<u8>(), 0..200),
            ) {
                let secret = ComponentSecret::parse(SECRET).unwrap();
                let request = ComponentRequest {
                    client: &client,
                    method: "POST",
                    path_and_query: &path,
                    timestamp_unix_seconds: timestamp,
                    body: &body,
                };
                let parsed = ComponentAuthorization::parse(Some(&request.authorization(&secret))).unwrap();
                prop_assert_eq!(&parsed.client, &client);
                prop_assert_eq!(parsed.timestamp_unix_seconds, timestamp);
                prop_assert_eq!(parsed.verify(&secret, "POST", &path, &body), Ok(()));
                prop_assert_eq!(parsed.verify(&secret, "PUT", &path, &body), Err(ComponentAuthError::BadSignature));
            }
        }
    }
}
