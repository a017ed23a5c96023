//! `GET /metrics`, and the marker the limits put on their refusals.
//!
//! Requests are recorded by [`crate::observe::instrument`].

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_metrics::Metrics;

/// Marks a 503 given because a limit was reached (`concurrency`,
/// `timeout`), for the overload refusal count.
#[derive(Debug, Clone, Copy)]
pub struct Refusal(pub &'static str);

/// The path metrics are served on.
pub const METRICS_PATH: &str = "/metrics";

/// `GET /metrics` alone, for a listener that serves nothing else (trust's).
pub fn metrics_routes(metrics: &Metrics) -> Router {
    documented_metrics_routes(metrics).split_for_parts().0
}

/// `GET /metrics` with its OpenAPI entry.
pub fn documented_metrics_routes(metrics: &Metrics) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(serve_metrics))
        .with_state(metrics.clone())
}

/// The whole process's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    description = "Prometheus text format 0.0.4, or OpenMetrics 1.0 when `Accept` asks for \
        `application/openmetrics-text`. docs/operations.md lists the metrics.",
    responses((status = 200, description = "The metrics.", content(
        (String = "text/plain; version=0.0.4"),
        (String = "application/openmetrics-text; version=1.0.0"),
    ))),
)]
async fn serve_metrics(State(metrics): State<Metrics>, headers: HeaderMap) -> Response {
    scrape(&metrics, &headers)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{Observe, instrument};
    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;

    fn observe(metrics: &Metrics) -> Observe {
        Observe {
            metrics: metrics.clone(),
        }
    }

    fn app(metrics: &Metrics) -> Router {
        let api = Router::new().route("/things/{id}", post(|| async { "ok" }));
        instrument(api, &observe(metrics), "test")
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
        let router = instrument(api, &observe(&metrics), "test");
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
