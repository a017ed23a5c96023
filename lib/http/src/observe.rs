//! What every REST listener records about each request: a request id, an
//! access log line and the request metrics.
//!
//! [`instrument`] wraps a service's whole router (API, health and
//! fallbacks), so every answer is seen: 404s for unknown paths, 413s, and
//! the 503s the limits give, which carry a [`Refusal`] marker so they are
//! also counted as overload refusals.
//!
//! - **Request id.** A client's `x-request-id` is kept when it is short
//!   printable ASCII, otherwise one is generated (a UUID); either way it is
//!   returned in the response's `x-request-id` and named in the access log.
//! - **Access log.** One `info` event per request on the `vouch::access`
//!   target: service, method, route template, path, status, latency and
//!   request id. It follows `--log-format` (JSON lines with `json`); turn it
//!   off with `VOUCH_LOG=info,vouch::access=off`.
//! - **Metrics.** The route label is the matched route template
//!   (`/challenge-response/v1/session/{id}`), or `unmatched`, never the
//!   path itself.

use std::time::Instant;

use tracing::Instrument as _;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use http::HeaderValue;
use vouch_metrics::Metrics;
use vouch_metrics::http_method::Method;

use crate::metrics::{Refusal, documented_metrics_routes};
use crate::openapi::{self, Documented};

/// The request id header, as most proxies and tracing tools name it.
pub const REQUEST_ID: &str = "x-request-id";

/// Longest client-chosen request id kept; longer ones are replaced.
const MAX_REQUEST_ID: usize = 128;

/// What a listener records.
#[derive(Debug, Clone)]
pub struct Observe {
    /// The process's metrics (`/metrics` is served when enabled).
    pub metrics: Metrics,
}

#[derive(Clone)]
struct Instrumented {
    observe: Observe,
    service: &'static str,
}

/// The id of the request being answered, for handlers that log.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

/// A listener's whole router: the service's documented routes, `GET
/// /metrics` (when metrics are on) and `GET /openapi.json` describing all
/// of them, every request recorded under `service`.
pub fn listener(documented: Documented, observe: &Observe, service: &'static str) -> Router {
    let Documented {
        mut router,
        mut api,
    } = documented;
    if observe.metrics.is_enabled() {
        let (routes, doc) = documented_metrics_routes(&observe.metrics).split_for_parts();
        router = router.merge(routes);
        api = api.merge_from(doc);
    }
    let state = Instrumented {
        observe: observe.clone(),
        service,
    };
    router
        .merge(openapi::serve(api, service))
        .layer(middleware::from_fn_with_state(state, record))
}

/// [`listener`] for a router without a document of its own.
#[cfg(test)]
pub(crate) fn instrument(router: Router, observe: &Observe, service: &'static str) -> Router {
    listener(
        Documented {
            router,
            api: utoipa::openapi::OpenApi::default(),
        },
        observe,
        service,
    )
}

/// The client's request id when it is usable, or a new one.
fn request_id(request: &Request) -> HeaderValue {
    request
        .headers()
        .get(REQUEST_ID)
        .filter(|v| {
            let bytes = v.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_REQUEST_ID
                && bytes.iter().all(|b| b.is_ascii_graphic())
        })
        .cloned()
        .unwrap_or_else(|| {
            let id = uuid::Uuid::new_v4().hyphenated().to_string();
            // A hyphenated UUID is always a valid header value.
            HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("-"))
        })
}

async fn record(State(state): State<Instrumented>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = Method::from_name(request.method().as_str());
    // Taken before the request moves on; the extension is an Arc'd string.
    let route = request.extensions().get::<MatchedPath>().cloned();
    // Asked per request (a cached callsite check), so a filter such as
    // `vouch::access=off` also saves the path's copy.
    let path = tracing::enabled!(target: "vouch::access", tracing::Level::INFO)
        .then(|| request.uri().path().to_owned());
    // The request's span, exported when traces are on (disabled, and free,
    // otherwise); it continues the client's `traceparent`.
    let span = tracing::debug_span!(
        target: vouch_telemetry::SPAN_TARGET,
        "request",
        otel.name = tracing::field::Empty,
        otel.kind = "server",
        http.request.method = method.as_str(),
        http.route = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        vouch.service = state.service,
        vouch.request_id = id.to_str().unwrap_or("-"),
    );
    if !span.is_disabled() {
        let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
        span.record("otel.name", format!("{} {route}", method.as_str()));
        span.record("http.route", route);
        vouch_telemetry::set_parent_from_headers(&span, request.headers());
    }
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    state
        .observe
        .metrics
        .http_request(state.service, &method, route, status, elapsed);
    if let Some(Refusal(reason)) = response.extensions().get::<Refusal>() {
        state
            .observe
            .metrics
            .overload_refusal(state.service, reason);
    }
    if let Some(path) = path {
        tracing::info!(
            target: "vouch::access",
            service = state.service,
            method = method.as_str(),
            route,
            path,
            status,
            latency_ms = elapsed.as_secs_f64() * 1e3,
            request_id = id.to_str().unwrap_or("-"),
            "request"
        );
    }
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    fn app() -> Router {
        let observe = Observe {
            metrics: Metrics::disabled(),
        };
        instrument(
            Router::new().route("/x", get(|| async { "ok" })),
            &observe,
            "test",
        )
    }

    async fn id_for(header: Option<&[u8]>) -> String {
        let mut request = http::Request::get("/x");
        if let Some(value) = header {
            request = request.header(REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
        }
        let response = app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        response.headers()[REQUEST_ID].to_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn a_usable_client_request_id_is_returned_as_it_came() {
        assert_eq!(id_for(Some(b"abc-123_XYZ")).await, "abc-123_XYZ");
    }

    #[tokio::test]
    async fn a_missing_or_unusable_request_id_is_replaced_by_a_uuid() {
        let long = [b'a'; MAX_REQUEST_ID + 1];
        for header in [
            None,
            Some(&b"has space"[..]),
            Some(&long[..]),
            Some(&b"\xff"[..]),
        ] {
            let id = id_for(header).await;
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{header:?} -> {id}");
        }
        assert_ne!(id_for(None).await, id_for(None).await);
    }
}
