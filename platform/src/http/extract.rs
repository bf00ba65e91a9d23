//! Extractor wrappers whose rejections answer in the API's JSON error format (400 `invalid_request`).

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Largest request body read (all bodies are small JSON).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// `Path<T>` answering `invalid_request` when a segment does not parse.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await.map_err(ApiError::invalid_request)?;
        Ok(ApiPath(value))
    }
}

/// `Query<T>` answering `invalid_request` when the query string does not parse.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await.map_err(ApiError::invalid_request)?;
        Ok(ApiQuery(value))
    }
}

/// Parses an authenticated raw body as JSON `T`.
pub fn parse_json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError::invalid_request(format!("malformed json body: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::api::RedeemCodeRequest;

    #[test]
    fn a_malformed_body_is_an_invalid_request() {
        let refused = parse_json_body::<RedeemCodeRequest>(b"{\"code\": 1}").err().unwrap();
        assert!(matches!(refused, ApiError::InvalidRequest(_)));
    }
}
