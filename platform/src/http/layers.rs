//! The platform's own per-route tower layers: overload shedding and request counting, with small unboxed futures.
//!
//! A waiting long-poll holds its route's futures for the whole wait, so these replace `HandleErrorLayer` +
//! `load_shed` + `concurrency_limit` (a boxed future holding a clone of the inner services, plus a boxed semaphore
//! future per clone) and `middleware::from_fn` (a boxed future holding the request, the state and the next
//! service): behaviour is unchanged, the per-request state shrinks from ~3.5 KB to a few hundred bytes.

use crate::error::ApiError;
use crate::metrics::RouteLabels;
use axum::extract::{MatchedPath, Request};
use axum::response::{IntoResponse, Response};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

/// Answers 503 `overloaded` at once when `max_concurrent_requests` requests of the wrapped service are in
/// flight (like `load_shed` over `concurrency_limit`: each service this layer wraps gets its own limit).
#[derive(Clone)]
pub(super) struct ShedOverloadLayer {
    max_concurrent_requests: usize,
}

impl ShedOverloadLayer {
    pub(super) fn new(max_concurrent_requests: usize) -> Self {
        ShedOverloadLayer { max_concurrent_requests: max_concurrent_requests.max(1) }
    }
}

impl<S> Layer<S> for ShedOverloadLayer {
    type Service = ShedOverload<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ShedOverload { inner, permits: Arc::new(Semaphore::new(self.max_concurrent_requests)) }
    }
}

/// See [`ShedOverloadLayer`]; clones share the limit.
#[derive(Clone)]
pub(super) struct ShedOverload<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S> Service<Request> for ShedOverload<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ShedOverloadFuture<S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.permits.clone().try_acquire_owned() {
            Ok(permit) => ShedOverloadFuture::Admitted { inner: self.inner.call(request), _permit: permit },
            Err(_) => ShedOverloadFuture::Shed(Some(ApiError::Overloaded.into_response())),
        }
    }
}

/// The inner service's answer, holding a permit until it is ready; or the refusal.
pub(super) enum ShedOverloadFuture<F> {
    Admitted { inner: F, _permit: OwnedSemaphorePermit },
    Shed(Option<Response>),
}

impl<F> Future for ShedOverloadFuture<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            ShedOverloadFuture::Admitted { inner, .. } => Pin::new(inner).poll(context),
            ShedOverloadFuture::Shed(refusal) => {
                Poll::Ready(Ok(refusal.take().unwrap_or_else(|| ApiError::Overloaded.into_response())))
            }
        }
    }
}

/// Counts answered requests in `http_requests` by matched route and status.
#[derive(Clone)]
pub(super) struct CountRequestsLayer {
    requests: Family<RouteLabels, Counter>,
}

impl CountRequestsLayer {
    pub(super) fn new(requests: Family<RouteLabels, Counter>) -> Self {
        CountRequestsLayer { requests }
    }
}

impl<S> Layer<S> for CountRequestsLayer {
    type Service = CountRequests<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountRequests { inner, requests: self.requests.clone() }
    }
}

/// See [`CountRequestsLayer`].
#[derive(Clone)]
pub(super) struct CountRequests<S> {
    inner: S,
    requests: Family<RouteLabels, Counter>,
}

impl<S> Service<Request> for CountRequests<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CountedResponse<S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = request.extensions().get::<MatchedPath>().cloned();
        CountedResponse { inner: self.inner.call(request), route, requests: self.requests.clone() }
    }
}

/// The inner service's answer, counted when ready.
pub(super) struct CountedResponse<F> {
    inner: F,
    /// Shares the router's string (no copy while the request is in flight).
    route: Option<MatchedPath>,
    requests: Family<RouteLabels, Counter>,
}

impl<F> Future for CountedResponse<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Poll::Ready(Ok(response)) = Pin::new(&mut this.inner).poll(context) else {
            return Poll::Pending;
        };
        let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str).to_owned();
        this.requests.get_or_create(&RouteLabels { route, status: response.status().as_u16() }).inc();
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use futures_util::future::BoxFuture;
    use futures_util::FutureExt;

    type HeldFuture = BoxFuture<'static, Result<Response, Infallible>>;

    /// Answers 200 once `gate` has a permit.
    fn gated_service(
        gate: Arc<Semaphore>,
    ) -> impl Service<Request, Response = Response, Error = Infallible, Future = HeldFuture> {
        tower::service_fn(move |_request: Request| {
            let gate = gate.clone();
            Box::pin(async move {
                let _passed = gate.acquire().await;
                Ok(Response::new(Body::empty()))
            }) as HeldFuture
        })
    }

    #[tokio::test]
    async fn a_request_beyond_the_limit_is_shed_as_overloaded_until_one_in_flight_is_answered() {
        let gate = Arc::new(Semaphore::new(0));
        let mut service = ShedOverloadLayer::new(1).layer(gated_service(gate.clone()));
        let mut in_flight = service.call(Request::new(Body::empty()));
        assert!((&mut in_flight).now_or_never().is_none());
        let shed = service.call(Request::new(Body::empty())).await.unwrap();
        assert_eq!(shed.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(shed.headers()["retry-after"], "1");
        gate.add_permits(1);
        assert_eq!(in_flight.await.unwrap().status(), axum::http::StatusCode::OK);
        let admitted = service.call(Request::new(Body::empty())).await.unwrap();
        assert_eq!(admitted.status(), axum::http::StatusCode::OK);
    }

    #[tokio::test]
    async fn an_answer_is_counted_by_route_and_status_when_it_is_ready() {
        let requests = Family::<RouteLabels, Counter>::default();
        let gate = Arc::new(Semaphore::new(0));
        let mut service = CountRequestsLayer::new(requests.clone()).layer(gated_service(gate.clone()));
        let labels = RouteLabels { route: "unmatched".to_owned(), status: 200 };
        let mut answer = service.call(Request::new(Body::empty()));
        assert!((&mut answer).now_or_never().is_none());
        assert_eq!(requests.get_or_create(&labels).get(), 0);
        gate.add_permits(1);
        answer.await.unwrap();
        assert_eq!(requests.get_or_create(&labels).get(), 1);
    }
}
