//! Overload protection shared by the REST front ends.
//!
//! Every API route sits behind a concurrency limit and a request timeout.
//! Past the limit a latency-sensitive service (verification) sheds: the
//! client gets 503 with `Retry-After` straight away, so latency stays
//! bounded instead of queues growing without limit (the p95 spikes in
//! Veraison's load test). A throughput service (provisioning) may instead
//! queue excess requests, still bounded by the timeout: a waiting request
//! holds no body in memory, since bodies are read only once it runs.

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::response::IntoResponse;
use http::{Method, StatusCode, Uri};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder};

use crate::Problem;
use crate::metrics::Refusal;

/// Bounds for one service's API routes.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests processed at once; more are refused with 503.
    pub max_concurrency: usize,
    /// Longest a request may take before the client gets 503.
    pub request_timeout: Duration,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// Past the concurrency limit, wait for a slot (within the timeout)
    /// instead of answering 503 at once.
    pub queue_when_busy: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_concurrency: 1024,
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 1024 * 1024,
            queue_when_busy: false,
        }
    }
}

/// Wraps API routes with the overload layers and the body size limit.
pub fn apply<S>(router: Router<S>, limits: &Limits) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let timeout = limits.request_timeout;
    // `Router::layer` wraps every route separately; the global layer keeps
    // one semaphore for the whole service, which is what the bound means.
    let concurrency = GlobalConcurrencyLimitLayer::new(limits.max_concurrency.max(1));
    let router = router.layer(DefaultBodyLimit::max(limits.max_body_bytes));
    let errors = HandleErrorLayer::new(move |e: BoxError| overloaded(e, timeout));
    if limits.queue_when_busy {
        // The timeout sits outside the limit, so it covers the wait too.
        router.layer(
            ServiceBuilder::new()
                .layer(errors)
                .timeout(timeout)
                .layer(concurrency),
        )
    } else {
        router.layer(
            ServiceBuilder::new()
                .layer(errors)
                .load_shed()
                .layer(concurrency)
                .timeout(timeout),
        )
    }
}

async fn overloaded(error: BoxError, timeout: Duration) -> axum::response::Response {
    // The refusals carry a marker the request metrics count them by.
    let (problem, refusal) = if error.is::<tower::timeout::error::Elapsed>() {
        tracing::warn!(?timeout, "request timed out");
        (
            Problem::unavailable(
                format!("request did not complete within {} ms", timeout.as_millis()),
                Duration::from_secs(1),
            ),
            Some(Refusal("timeout")),
        )
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        (
            Problem::unavailable("server is at its concurrency limit", Duration::from_secs(1)),
            Some(Refusal("concurrency")),
        )
    } else {
        tracing::error!(%error, "unexpected middleware error");
        (Problem::internal("unexpected middleware error"), None)
    };
    let mut response = problem.into_response();
    if let Some(refusal) = refusal {
        response.extensions_mut().insert(refusal);
    }
    response
}

/// A request body, read whole, whose rejection is a problem document.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(rejection) => {
                let status = rejection.status();
                let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "request body is larger than this service accepts".to_owned()
                } else {
                    format!("could not read the request body: {}", rejection.body_text())
                };
                Err(Problem::new(status, detail))
            }
        }
    }
}

/// Fallback for unknown routes.
pub async fn not_found(method: Method, uri: Uri) -> Problem {
    Problem::not_found(format!("no route for {method} {}", uri.path()))
}

/// Fallback for known routes called with the wrong method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::post;
    use std::sync::Arc;
    use tokio::sync::Semaphore;
    use tower::ServiceExt;

    fn limits(max_concurrency: usize, timeout_ms: u64, queue_when_busy: bool) -> Limits {
        Limits {
            max_concurrency,
            request_timeout: Duration::from_millis(timeout_ms),
            max_body_bytes: 16,
            queue_when_busy,
        }
    }

    /// `POST /gated` answers once it gets a permit from `gate`, and gives
    /// the permit back if `pass_on`, so one release lets every waiter through.
    fn gated(gate: &Arc<Semaphore>, pass_on: bool, limits: &Limits) -> Router {
        let gate = gate.clone();
        apply(
            Router::new().route(
                "/gated",
                post(move || {
                    let gate = gate.clone();
                    async move {
                        let _permit = gate.acquire().await;
                        if pass_on {
                            gate.add_permits(1);
                        }
                        "done"
                    }
                }),
            ),
            limits,
        )
    }

    fn request(path: &str, body: Vec<u8>) -> http::Request<axum::body::Body> {
        http::Request::post(path)
            .body(axum::body::Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn concurrency_beyond_the_limit_is_refused_with_503() {
        let gate = Arc::new(Semaphore::new(0));
        let router = gated(&gate, false, &limits(1, 5_000, false));
        let first = tokio::spawn(router.clone().oneshot(request("/gated", Vec::new())));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = router
            .clone()
            .oneshot(request("/gated", Vec::new()))
            .await
            .unwrap();
        assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(second.headers().contains_key(http::header::RETRY_AFTER));
        gate.add_permits(1);
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_queueing_service_waits_for_a_slot_within_the_timeout() {
        let gate = Arc::new(Semaphore::new(0));
        let router = gated(&gate, true, &limits(1, 500, true));
        let first = tokio::spawn(router.clone().oneshot(request("/gated", Vec::new())));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = tokio::spawn(router.clone().oneshot(request("/gated", Vec::new())));
        tokio::time::sleep(Duration::from_millis(50)).await;
        gate.add_permits(1);
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
        assert_eq!(second.await.unwrap().unwrap().status(), StatusCode::OK);

        // A slot that never frees up ends in 503 at the timeout.
        let never = Arc::new(Semaphore::new(0));
        let router = gated(&never, false, &limits(1, 200, true));
        let first = tokio::spawn(router.clone().oneshot(request("/gated", Vec::new())));
        let waiting = router
            .clone()
            .oneshot(request("/gated", Vec::new()))
            .await
            .unwrap();
        assert_eq!(waiting.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(waiting.headers().contains_key(http::header::RETRY_AFTER));
        assert_eq!(
            first.await.unwrap().unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[tokio::test]
    async fn slow_requests_time_out_with_503() {
        let router = apply(
            Router::new().route(
                "/slow",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            ),
            &limits(4, 50, false),
        );
        let response = router.oneshot(request("/slow", Vec::new())).await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn oversized_bodies_get_413_problems() {
        let router = apply(
            Router::new().route("/echo", post(|Body(b): Body| async move { b })),
            &limits(4, 1_000, false),
        );
        let response = router
            .clone()
            .oneshot(request("/echo", vec![0u8; 17]))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            crate::PROBLEM_JSON
        );
        let ok = router
            .oneshot(request("/echo", vec![0u8; 16]))
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
}
