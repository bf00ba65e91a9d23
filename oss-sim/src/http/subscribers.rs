//! `/v1/subscribers`: create, read, change and list subscribers (full numbers: the operator's own system).

use crate::domain::subscriber::{check_device_limit, Plan, Subscriber, SubscriberStatus};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use numbind_process::clock::now_unix_millis;
use numbind_process::http_api::{ApiJson, ApiPath};
use numbind_wire::Msisdn;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `POST /v1/subscribers` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscriberRequest {
    pub msisdn: Msisdn,
    pub status: SubscriberStatus,
    pub plan: Plan,
    pub device_limit: u32,
    #[serde(default = "billing_allowed_by_default")]
    pub billing_allowed: bool,
    #[serde(default)]
    pub balance_fen: i64,
}

fn billing_allowed_by_default() -> bool {
    true
}

/// `PATCH /v1/subscribers/{msisdn}` body: only the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubscriberRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SubscriberStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_allowed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_fen: Option<i64>,
}

/// `GET /v1/subscribers` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscriberList {
    pub subscribers: Vec<Subscriber>,
}

impl CreateSubscriberRequest {
    fn into_subscriber(self) -> Result<Subscriber, ApiError> {
        let request = self;
        Ok(Subscriber {
            msisdn: request.msisdn,
            status: request.status,
            plan: request.plan,
            device_limit: check_device_limit(request.device_limit).map_err(invalid)?,
            billing_allowed: request.billing_allowed,
            balance_fen: request.balance_fen,
        })
    }
}

impl UpdateSubscriberRequest {
    fn apply_to(self, mut subscriber: Subscriber) -> Result<Subscriber, ApiError> {
        if let Some(status) = self.status {
            subscriber.status = status;
        }
        if let Some(plan) = self.plan {
            subscriber.plan = plan;
        }
        if let Some(device_limit) = self.device_limit {
            subscriber.device_limit = check_device_limit(device_limit).map_err(invalid)?;
        }
        if let Some(billing_allowed) = self.billing_allowed {
            subscriber.billing_allowed = billing_allowed;
        }
        if let Some(balance_fen) = self.balance_fen {
            subscriber.balance_fen = balance_fen;
        }
        Ok(subscriber)
    }
}

fn invalid(error: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidRequest(error.to_string())
}

pub(super) fn parse_msisdn(text: &str) -> Result<Msisdn, ApiError> {
    Msisdn::parse(text).map_err(|error| ApiError::InvalidRequest(format!("msisdn: {error}")))
}

#[tracing::instrument(skip_all, fields(msisdn = %request.msisdn))]
pub(super) async fn create_subscriber(
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<CreateSubscriberRequest>,
) -> Result<(StatusCode, Json<Subscriber>), ApiError> {
    let subscriber = request.into_subscriber()?;
    let stored = subscriber.clone();
    let now = now_unix_millis();
    state.store.call(move |store| store.insert_subscriber(&stored, now)).await?;
    tracing::info!(status = subscriber.status.as_str(), "subscriber created");
    Ok((StatusCode::CREATED, Json(subscriber)))
}

pub(super) async fn get_subscriber(
    State(state): State<Arc<AppState>>,
    ApiPath(msisdn): ApiPath<String>,
) -> Result<Json<Subscriber>, ApiError> {
    let msisdn = parse_msisdn(&msisdn)?;
    let found = state.store.call(move |store| store.get_subscriber(&msisdn)).await?;
    found.map(Json).ok_or(ApiError::SubscriberNotFound)
}

pub(super) async fn update_subscriber(
    State(state): State<Arc<AppState>>,
    ApiPath(msisdn): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateSubscriberRequest>,
) -> Result<Json<Subscriber>, ApiError> {
    let msisdn = parse_msisdn(&msisdn)?;
    tracing::info!(msisdn = %msisdn, "updating subscriber");
    let current = state.store.call(move |store| store.get_subscriber(&msisdn)).await?;
    let updated = request.apply_to(current.ok_or(ApiError::SubscriberNotFound)?)?;
    let stored = updated.clone();
    let now = now_unix_millis();
    if !state.store.call(move |store| store.update_subscriber(&stored, now)).await? {
        return Err(ApiError::SubscriberNotFound);
    }
    Ok(Json(updated))
}

pub(super) async fn list_subscribers(State(state): State<Arc<AppState>>) -> Result<Json<SubscriberList>, ApiError> {
    let subscribers = state.store.call(|store| store.list_subscribers()).await?;
    Ok(Json(SubscriberList { subscribers }))
}
