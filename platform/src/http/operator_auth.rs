//! Operator authentication: `authorization: Bearer nbo_...`, looked up by SHA-256, roles checked per handler.

use crate::domain::operator::{hash_operator_token, looks_like_operator_token, Operator, OperatorRole};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// An operator whose live token was presented (auditor or admin).
pub(super) struct AuthenticatedOperator(pub(super) Operator);

impl AuthenticatedOperator {
    /// Refuses with 403 `forbidden` unless the operator is an admin.
    pub(super) fn require_admin(&self) -> Result<(), ApiError> {
        if self.0.role == OperatorRole::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for AuthenticatedOperator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        let token = header.and_then(|text| text.strip_prefix("Bearer ")).map(str::trim);
        let token = token.filter(|token| looks_like_operator_token(token)).ok_or(ApiError::Unauthenticated)?;
        let hash = hash_operator_token(token);
        let operator = state.store.call(move |store| store.operator_by_token_hash(&hash)).await?;
        let operator = operator.ok_or(ApiError::Unauthenticated)?;
        tracing::info!(operator = %operator.name, role = operator.role.as_str(), "operator request");
        Ok(AuthenticatedOperator(operator))
    }
}
