//! HTTP pieces shared by the Vouch REST front ends.
//!
//! - [`Problem`]: RFC 7807 `application/problem+json` errors, shaped like
//!   Veraison's so existing clients can read them.
//! - [`negotiate`]: `Accept` header matching.
//! - [`health`]: `/healthz` and `/readyz`, with pluggable dependency checks
//!   and a draining flag for graceful shutdown.
//! - [`limits`]: the Tower layers that bound concurrency, time and body size,
//!   answering 503 + `Retry-After` or 413 instead of letting queues grow.
//! - [`metrics`]: serving `GET /metrics`.
//! - [`observe`]: request ids, the access log and per-route request metrics;
//!   [`observe::listener`] assembles a listener's whole router.
//! - [`openapi`]: the OpenAPI 3.1 document each listener serves.
//! - [`serve`]: running a router with a bounded graceful shutdown.
//! - [`trust`]: trust-service errors as problems, and its readiness check.
//! - [`typed_response`]: a body in one of the front ends' media types.

pub mod health;
pub mod limits;
pub mod metrics;
pub mod negotiate;
pub mod observe;
pub mod openapi;
mod problem;
pub mod serve;
pub mod trust;

pub use problem::{PROBLEM_JSON, Problem};

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// A response with `status`, `body` and the Veraison media type
/// `content_type` (every front end answers in its own JSON media types).
pub fn typed_response(
    status: StatusCode,
    content_type: &'static str,
    body: impl IntoResponse,
) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
