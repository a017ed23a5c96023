//! `/metrics` and the request metrics of a REST listener.
//!
//! [`instrument`] wraps a service's whole router (API, health and
//! fallbacks), so every answer is counted: 404s for unknown paths, 413s,
//! and the 503s the limits give, which carry a [`Refusal`] marker so they
//! are also counted as overload refusals. The route label is the matched
//! route template (`/challenge-response/v1/session/{id}`), or `unmatched`,
//! never the path itself.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use vouch_metrics::Metrics;
use vouch_metrics::http_method::Method;

/// Marks a 503 given because a limit was reached (`concurrency`,
/// `timeout`), for the overload refusal count.
#[derive(Debug, Clone, Copy)]
pub struct Refusal(pub &'static str);

/// The path metrics are served on.
pub const METRICS_PATH: &str = "/metrics";

#[derive(Clone)]
struct Instrumented {
    metrics: Metrics,
    service: &'static str,
}

/// Adds `GET /metrics` to `router` and records every request it answers
/// under `service`. With disabled metrics, `router` is returned unchanged.
pub fn instrument(router: Router, metrics: &Metrics, service: &'static str) -> Router {
    if !metrics.is_enabled() {
        return router;
    }
    let state = Instrumented {
        metrics: metrics.clone(),
        service,
    };
    router
        .merge(metrics_routes(metrics))
        .layer(middleware::from_fn_with_state(state, record))
}

/// `GET /metrics` alone, for a listener that serves nothing else (trust's).
pub fn metrics_routes(metrics: &Metrics) -> Router {
    let metrics = metrics.clone();
    Router::new().route(
        METRICS_PATH,
        get(move |headers: HeaderMap| {
            let metrics = metrics.clone();
            async move { scrape(&metrics, &headers) }
        }),
    )
}

fn scrape(metrics: &Metrics, headers: &HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    match metrics.expose(accept) {
        Some(exposition) => {
            let mut response = (StatusCode::OK, exposition.body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(exposition.content_type),
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        None => crate::Problem::not_found("metrics are disabled on this server").into_response(),
    }
}

async fn record(State(state): State<Instrumented>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = Method::from_name(request.method().as_str());
    // Taken before the request moves on; the extension is an Arc'd string.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.http_request(
        state.service,
        &method,
        route,
        response.status().as_u16(),
        started.elapsed(),
    );
    if let Some(Refusal(reason)) = response.extensions().get::<Refusal>() {
        state.metrics.overload_refusal(state.service, reason);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    fn app(metrics: &Metrics) -> Router {
        let api = Router::new().route("/things/{id}", post(|| async { "ok" }));
        instrument(api, metrics, "test")
    }

    async fn call(router: &Router, method: &str, path: &str) -> Response {
        router
            .clone()
            .oneshot(
                http::Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn requests_are_counted_by_route_template_not_path() {
        let metrics = Metrics::new();
        let router = app(&metrics);
        for id in ["a", "b", "c"] {
            assert_eq!(
                call(&router, "POST", &format!("/things/{id}"))
                    .await
                    .status(),
                200
            );
        }
        assert_eq!(call(&router, "GET", "/nowhere/42").await.status(), 404);
        let scrape = call(&router, "GET", METRICS_PATH).await;
        assert_eq!(scrape.status(), 200);
        assert_eq!(
            scrape.headers()[header::CONTENT_TYPE],
            vouch_metrics::PROMETHEUS_TEXT
        );
        let text = body(scrape).await;
        assert!(
            text.contains(
                "vouch_http_requests_total{service=\"test\",method=\"POST\",route=\"/things/{id}\",status_class=\"2xx\"} 3\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("route=\"unmatched\",status_class=\"4xx\"} 1\n"),
            "{text}"
        );
        assert!(
            !text.contains("/things/a"),
            "a path leaked into a label: {text}"
        );
        assert!(
            !text.contains("/nowhere"),
            "a path leaked into a label: {text}"
        );
    }

    #[tokio::test]
    async fn refusals_marked_by_the_limits_are_counted() {
        let metrics = Metrics::new();
        let api = Router::new().route(
            "/busy",
            post(|| async {
                let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
                response.extensions_mut().insert(Refusal("concurrency"));
                response
            }),
        );
        let router = instrument(api, &metrics, "test");
        assert_eq!(call(&router, "POST", "/busy").await.status(), 503);
        let text = body(call(&router, "GET", METRICS_PATH).await).await;
        assert!(
            text.contains(
                "vouch_overload_refusals_total{service=\"test\",reason=\"concurrency\"} 1\n"
            ),
            "{text}"
        );
    }

    #[tokio::test]
    async fn disabled_metrics_add_no_route() {
        let router = app(&Metrics::disabled());
        assert_eq!(call(&router, "GET", METRICS_PATH).await.status(), 404);
    }
}
