//! Liveness and readiness endpoints.
//!
//! `GET /healthz` answers 200 while the process runs. `GET /readyz` answers
//! 200 only when every dependency check passes and the service is not
//! draining; otherwise 503, so load balancers and autoscalers route around
//! an instance that is starting, stopping or cut off from its backends.
//! Both are unauthenticated, cheap and side-effect free: check results are
//! cached for a short interval so a storm of probes costs one check.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use tokio::sync::Mutex;

/// One dependency a service needs in order to serve.
#[async_trait::async_trait]
pub trait ReadinessCheck: Send + Sync + 'static {
    /// Short name shown in the readiness report, e.g. `trust`.
    fn name(&self) -> &'static str;
    /// `Ok` when the dependency works; `Err` with a reason otherwise.
    async fn check(&self) -> Result<(), String>;
}

/// Readiness state shared by a service's handlers and its lifecycle.
pub struct Health {
    draining: AtomicBool,
    checks: Vec<Arc<dyn ReadinessCheck>>,
    check_timeout: Duration,
    cache_for: Duration,
    last: Mutex<Option<(Instant, Report)>>,
}

#[derive(Clone)]
struct Report {
    ready: bool,
    checks: BTreeMap<&'static str, String>,
}

impl Health {
    /// A health state over the given dependency checks.
    pub fn new(checks: Vec<Arc<dyn ReadinessCheck>>) -> Arc<Self> {
        Arc::new(Health {
            draining: AtomicBool::new(false),
            checks,
            check_timeout: Duration::from_secs(1),
            cache_for: Duration::from_millis(250),
            last: Mutex::new(None),
        })
    }

    /// Marks the service as draining: `/readyz` turns 503 from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether the service is draining.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Runs (or reuses recent results of) every check.
    pub async fn is_ready(&self) -> bool {
        self.report().await.ready
    }

    async fn report(&self) -> Report {
        if self.is_draining() {
            let mut checks = BTreeMap::new();
            checks.insert("lifecycle", "draining".to_owned());
            return Report {
                ready: false,
                checks,
            };
        }
        let mut last = self.last.lock().await;
        if let Some((at, report)) = &*last
            && at.elapsed() < self.cache_for
        {
            return report.clone();
        }
        let results = futures::future::join_all(self.checks.iter().map(|c| async move {
            let outcome = match tokio::time::timeout(self.check_timeout, c.check()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(reason)) => Err(reason),
                Err(_) => Err("timed out".to_owned()),
            };
            (c.name(), outcome)
        }))
        .await;
        let mut report = Report {
            ready: true,
            checks: BTreeMap::new(),
        };
        for (name, outcome) in results {
            match outcome {
                Ok(()) => {
                    report.checks.insert(name, "ok".to_owned());
                }
                Err(reason) => {
                    report.ready = false;
                    report.checks.insert(name, reason);
                }
            }
        }
        *last = Some((Instant::now(), report.clone()));
        report
    }
}

/// The `/healthz` and `/readyz` routes.
pub fn routes(health: Arc<Health>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health)
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn healthz() -> Response {
    json(StatusCode::OK, serde_json::json!({ "status": "alive" }))
}

async fn readyz(State(health): State<Arc<Health>>) -> Response {
    let report = health.report().await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = json(
        status,
        serde_json::json!({
            "status": if report.ready { "ready" } else { "not ready" },
            "checks": report.checks,
        }),
    );
    if !report.ready {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use tower::ServiceExt;

    struct Switch(AtomicBool);

    #[async_trait::async_trait]
    impl ReadinessCheck for Switch {
        fn name(&self) -> &'static str {
            "switch"
        }
        async fn check(&self) -> Result<(), String> {
            if self.0.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("off".into())
            }
        }
    }

    async fn get_status(router: &Router, path: &str) -> StatusCode {
        router
            .clone()
            .oneshot(
                http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
            .status()
    }

    #[tokio::test]
    async fn readiness_follows_checks_and_draining() {
        let switch = Arc::new(Switch(AtomicBool::new(false)));
        let health = Health::new(vec![switch.clone()]);
        let router = routes(health.clone());
        assert_eq!(get_status(&router, "/healthz").await, StatusCode::OK);
        assert_eq!(
            get_status(&router, "/readyz").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        switch.0.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(get_status(&router, "/readyz").await, StatusCode::OK);
        health.start_draining();
        assert_eq!(
            get_status(&router, "/readyz").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(get_status(&router, "/healthz").await, StatusCode::OK);
    }
}
