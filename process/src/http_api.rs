//! What every numbind HTTP API shares in front of its handlers: the JSON error body (wire's [`ErrorBody`]) with
//! its `Retry-After`, extractors whose rejections answer in that body, the request-body limit, and `/metrics`.
//!
//! Each service keeps one `ApiError` enum (its refusals and their statuses, in one place) and renders it with
//! [`error_response`]; refusals that happen before a handler runs render themselves as [`RequestRejected`].

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use numbind_wire::api::{ApiErrorCode, ErrorBody};
use serde::de::DeserializeOwned;

/// `{"code": ..., "message": ...}` with `status`, and `Retry-After` when the client should come back later.
pub fn error_response(
    status: StatusCode,
    code: ApiErrorCode,
    message: impl Into<String>,
    retry_after_seconds: Option<u64>,
) -> Response {
    let mut response = (status, Json(ErrorBody { code, message: message.into() })).into_response();
    if let Some(seconds) = retry_after_seconds {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A request refused before its handler ran: a body, path segment or query that does not parse, or a body over
/// the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRejected {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the request body is larger than {max_body_bytes} bytes")]
    PayloadTooLarge { max_body_bytes: usize },
}

impl IntoResponse for RequestRejected {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            RequestRejected::InvalidRequest(_) => (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidRequest),
            RequestRejected::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, ApiErrorCode::PayloadTooLarge),
        };
        error_response(status, code, self.to_string(), None)
    }
}

/// `Json<T>` whose rejection is a JSON 400 `invalid_request` (or 413 `payload_too_large`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = RequestRejected;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(RequestRejected::PayloadTooLarge { max_body_bytes: MAX_BODY_BYTES })
            }
            Err(rejection) => Err(RequestRejected::InvalidRequest(rejection.body_text())),
        }
    }
}

/// `Path<T>` whose rejection is a JSON 400 `invalid_request`.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = RequestRejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(RequestRejected::InvalidRequest(rejection.body_text())),
        }
    }
}

/// `Query<T>` whose rejection is a JSON 400 `invalid_request`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = RequestRejected;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(RequestRejected::InvalidRequest(rejection.body_text())),
        }
    }
}

/// Parses a raw body (read whole because its signature covers its bytes) as JSON `T`.
pub fn parse_json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestRejected> {
    serde_json::from_slice(body)
        .map_err(|error| RequestRejected::InvalidRequest(format!("malformed json body: {error}")))
}

/// The largest request body a numbind API reads: every body is small JSON.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Middleware every service wraps its router in, as
/// `axum::middleware::from_fn_with_state(MAX_BODY_BYTES, refuse_oversized_bodies)`: a body over the limit is a
/// JSON 413, before authentication when `content-length` says so, and in place of the plain-text 413 that axum's
/// body extractors give when a chunked body runs over.
pub async fn refuse_oversized_bodies(State(max_body_bytes): State<usize>, request: Request, next: Next) -> Response {
    let too_large = || RequestRejected::PayloadTooLarge { max_body_bytes }.into_response();
    let declared_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > max_body_bytes as u64) {
        return too_large();
    }
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return too_large();
    }
    response
}

/// `GET /metrics`: the registry in the OpenMetrics text format (a 500 if it cannot be encoded).
pub fn metrics_response(registry: &prometheus_client::registry::Registry) -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, registry) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
            .into_response(),
        Err(_) => {
            error_response(StatusCode::INTERNAL_SERVER_ERROR, ApiErrorCode::Internal, "cannot encode metrics", None)
        }
    }
}

/// The request ID header every service sets (a new UUID unless the client sent one) and echoes.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Wraps a service's router in the layers every numbind API has outermost: a request ID set and echoed, and a
/// `tracing` span per request with the method, the matched route and the request ID.
pub fn with_request_ids_and_tracing(router: axum::Router) -> axum::Router {
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    let request_id = header::HeaderName::from_static(REQUEST_ID_HEADER);
    let trace = tower_http::trace::TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
        let path = request.extensions().get::<axum::extract::MatchedPath>().map_or("unmatched", |path| path.as_str());
        let request_id = request.headers().get(REQUEST_ID_HEADER).and_then(|value| value.to_str().ok()).unwrap_or("-");
        tracing::info_span!("http", method = %request.method(), path, request_id)
    });
    router
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(trace)
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// `GET /openapi.json`: a service's OpenAPI document, served as it is written in the repository.
pub fn openapi_response(document: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], document).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use axum::Router;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn answer(app: Router, request: Request) -> (StatusCode, Option<String>, ErrorBody) {
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let retry_after = response.headers().get(header::RETRY_AFTER).map(|value| value.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("{status} {bytes:?}: {error}"));
        (status, retry_after, body)
    }

    fn app() -> Router {
        async fn echo(ApiJson(value): ApiJson<serde_json::Value>) -> Json<serde_json::Value> {
            Json(value)
        }
        Router::new()
            .route("/echo", post(echo))
            .layer(axum::middleware::from_fn_with_state(16usize, refuse_oversized_bodies))
    }

    #[tokio::test]
    async fn malformed_and_oversized_bodies_answer_the_shared_error_body() {
        let garbage = Request::post("/echo").header("content-type", "application/json").body(Body::from("{")).unwrap();
        let (status, _, body) = answer(app(), garbage).await;
        assert_eq!((status, body.code), (StatusCode::BAD_REQUEST, ApiErrorCode::InvalidRequest));
        let big = Request::post("/echo")
            .header("content-type", "application/json")
            .header("content-length", "19")
            .body(Body::from("[1,2,3,4,5,6,7,8,9]"))
            .unwrap();
        let (status, _, body) = answer(app(), big).await;
        assert_eq!((status, body.code), (StatusCode::PAYLOAD_TOO_LARGE, ApiErrorCode::PayloadTooLarge));
    }

    #[tokio::test]
    async fn an_error_response_carries_its_retry_after() {
        let app = Router::new().route(
            "/busy",
            post(|| async {
                error_response(StatusCode::SERVICE_UNAVAILABLE, ApiErrorCode::QueueFull, "full", Some(3))
            }),
        );
        let (status, retry_after, body) = answer(app, Request::post("/busy").body(Body::empty()).unwrap()).await;
        assert_eq!(
            (status, retry_after.as_deref(), body.code),
            (StatusCode::SERVICE_UNAVAILABLE, Some("3"), ApiErrorCode::QueueFull)
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_an_invalid_request() {
        assert!(matches!(parse_json_body::<serde_json::Value>(b"{\"a\":"), Err(RequestRejected::InvalidRequest(_))));
    }
}
