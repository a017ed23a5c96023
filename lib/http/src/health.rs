//! Liveness and readiness endpoints.
//!
//! `GET /healthz` answers 200 while the process runs. `GET /readyz` answers
//! 200 only when every dependency check passes and the service is not
//! draining; otherwise 503, so load balancers and autoscalers route around
//! an instance that is starting, stopping or cut off from its backends.
//! Both are unauthenticated, cheap and side-effect free: check results are
//! cached for a short interval so a storm of probes costs one check.
//!
//! Readiness must not flap under load. A load balancer or kubelet gives a
//! probe about a second; an instance whose dependencies are merely busy
//! must still answer in time, or every instance drops out of rotation at
//! the moment traffic peaks (seen with HAProxy in front of three front ends
//! and 1,000 clients on two cores: all three marked down within two
//! seconds). So:
//! - A report up to [`Health`]'s `max_stale` old is answered at once while
//!   a fresh one is computed in the background; only an older one (or
//!   none) makes the probe wait for the checks.
//! - A dependency check that times out still passes when the dependency
//!   answered real traffic recently ([`ReadinessCheck::answered_recently`]):
//!   it is busy, not gone. An explicit answer (trust reports `DOWN`, a
//!   refused connection) is never overridden.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tokio::sync::Mutex;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// One dependency a service needs in order to serve.
#[async_trait::async_trait]
pub trait ReadinessCheck: Send + Sync + 'static {
    /// Short name shown in the readiness report, e.g. `trust`.
    fn name(&self) -> &'static str;
    /// `Ok` when the dependency works; `Err` with a reason otherwise.
    async fn check(&self) -> Result<(), String>;
    /// Whether the dependency answered real requests within the last few
    /// seconds. Consulted only when [`check`](Self::check) times out.
    fn answered_recently(&self) -> bool {
        false
    }
}

/// How long a dependency's last answer to real traffic vouches for it when
/// its probe times out.
pub const ANSWERED_RECENTLY: Duration = Duration::from_secs(5);

/// Readiness state shared by a service's handlers and its lifecycle.
pub struct Health {
    draining: AtomicBool,
    checks: Vec<Arc<dyn ReadinessCheck>>,
    check_timeout: Duration,
    cache_for: Duration,
    max_stale: Duration,
    last: std::sync::Mutex<Option<(Instant, Report)>>,
    /// Held while the checks run, so that concurrent probes share one run.
    refreshing: Arc<Mutex<()>>,
}

#[derive(Clone)]
struct Report {
    ready: bool,
    checks: BTreeMap<&'static str, String>,
}

impl Health {
    /// A health state over the given dependency checks.
    pub fn new(checks: Vec<Arc<dyn ReadinessCheck>>) -> Arc<Self> {
        Self::with_timings(
            checks,
            Duration::from_secs(1),
            Duration::from_millis(250),
            Duration::from_secs(2),
        )
    }

    /// With explicit timings: each check's deadline, how long a report is
    /// reused as is, and how old a report may be answered while a fresh one
    /// is computed.
    fn with_timings(
        checks: Vec<Arc<dyn ReadinessCheck>>,
        check_timeout: Duration,
        cache_for: Duration,
        max_stale: Duration,
    ) -> Arc<Self> {
        Arc::new(Health {
            draining: AtomicBool::new(false),
            checks,
            check_timeout,
            cache_for,
            max_stale,
            last: std::sync::Mutex::new(None),
            refreshing: Arc::new(Mutex::new(())),
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
    pub async fn is_ready(self: &Arc<Self>) -> bool {
        self.report().await.ready
    }

    fn last(&self) -> Option<(Instant, Report)> {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    async fn report(self: &Arc<Self>) -> Report {
        if self.is_draining() {
            let mut checks = BTreeMap::new();
            checks.insert("lifecycle", "draining".to_owned());
            return Report {
                ready: false,
                checks,
            };
        }
        match self.last() {
            Some((at, report)) if at.elapsed() < self.cache_for => report,
            Some((at, report)) if at.elapsed() < self.max_stale => {
                // Answer now; the next probe sees the fresh result.
                if let Ok(guard) = self.refreshing.clone().try_lock_owned() {
                    let health = self.clone();
                    tokio::spawn(async move {
                        health.refresh().await;
                        drop(guard);
                    });
                }
                report
            }
            _ => {
                let _guard = self.refreshing.lock().await;
                // Another probe may have refreshed while this one waited.
                match self.last() {
                    Some((at, report)) if at.elapsed() < self.cache_for => report,
                    _ => self.refresh().await,
                }
            }
        }
    }

    /// Runs every check and stores the report.
    async fn refresh(&self) -> Report {
        let results = futures::future::join_all(self.checks.iter().map(|c| async move {
            let outcome = match tokio::time::timeout(self.check_timeout, c.check()).await {
                Ok(Ok(())) => Ok("ok"),
                Ok(Err(reason)) => Err(reason),
                Err(_) if c.answered_recently() => {
                    Ok("ok (busy: the probe timed out, traffic is answered)")
                }
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
                Ok(text) => {
                    report.checks.insert(name, text.to_owned());
                }
                Err(reason) => {
                    report.ready = false;
                    report.checks.insert(name, reason);
                }
            }
        }
        *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((Instant::now(), report.clone()));
        report
    }
}

/// The `/healthz` and `/readyz` routes.
pub fn routes(health: Arc<Health>) -> Router {
    documented_routes(health).split_for_parts().0
}

/// The `/healthz` and `/readyz` routes with their OpenAPI entries.
pub fn documented_routes(health: Arc<Health>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .with_state(health)
}

/// A health or readiness report.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used; the handlers build the JSON.
struct HealthReport {
    /// `alive`, `ready` or `not ready`.
    #[schema(example = "ready")]
    status: String,
    /// Readiness only: each check and its outcome (`ok`, or why not).
    checks: Option<BTreeMap<String, String>>,
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

/// Liveness: 200 while the process runs.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    operation_id = "healthz",
    responses((status = 200, description = "The process runs.", body = HealthReport, content_type = "application/json")),
)]
async fn healthz() -> Response {
    json(StatusCode::OK, serde_json::json!({ "status": "alive" }))
}

/// Readiness: 200 when every dependency answers and the process is not
/// draining, else 503 naming the failing check.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve.", body = HealthReport, content_type = "application/json"),
        (status = 503, description = "Not ready: starting, draining or cut off from a dependency.",
            body = HealthReport, content_type = "application/json",
            headers(("retry-after" = u32, description = "Seconds before asking again."))),
    ),
)]
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

    /// Polls `/readyz` until it answers `want` (2 s at most).
    async fn wait_for(router: &Router, want: StatusCode) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while get_status(router, "/readyz").await != want {
            assert!(Instant::now() < deadline, "/readyz never answered {want}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn readyz_body(router: &Router) -> (StatusCode, serde_json::Value) {
        let response = router
            .clone()
            .oneshot(
                http::Request::get("/readyz")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// A check that waits for a permit before answering, so a test decides
    /// when (and whether) a probe finishes.
    struct Gated {
        gate: tokio::sync::Semaphore,
        ok: AtomicBool,
        answered: AtomicBool,
    }

    impl Gated {
        fn new(ok: bool) -> Arc<Self> {
            Arc::new(Gated {
                gate: tokio::sync::Semaphore::new(0),
                ok: AtomicBool::new(ok),
                answered: AtomicBool::new(false),
            })
        }
    }

    #[async_trait::async_trait]
    impl ReadinessCheck for Gated {
        fn name(&self) -> &'static str {
            "gated"
        }
        async fn check(&self) -> Result<(), String> {
            self.gate.acquire().await.expect("gate open").forget();
            if self.ok.load(Ordering::SeqCst) {
                Ok(())
            } else {
                Err("down".into())
            }
        }
        fn answered_recently(&self) -> bool {
            self.answered.load(Ordering::SeqCst)
        }
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
        wait_for(&router, StatusCode::OK).await;
        switch.0.store(false, Ordering::SeqCst);
        wait_for(&router, StatusCode::SERVICE_UNAVAILABLE).await;
        switch.0.store(true, Ordering::SeqCst);
        wait_for(&router, StatusCode::OK).await;
        health.start_draining();
        assert_eq!(
            get_status(&router, "/readyz").await,
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(get_status(&router, "/healthz").await, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_stale_report_is_answered_at_once_while_a_fresh_one_is_computed() {
        let gated = Gated::new(true);
        let health = Health::with_timings(
            vec![gated.clone()],
            Duration::from_secs(30),
            Duration::ZERO,
            Duration::from_secs(60),
        );
        let router = routes(health);
        gated.gate.add_permits(1);
        assert_eq!(get_status(&router, "/readyz").await, StatusCode::OK);

        // The dependency goes down and its probe hangs: the probe in the
        // background does not hold up the answer, which is the last report.
        gated.ok.store(false, Ordering::SeqCst);
        for _ in 0..3 {
            let answered =
                tokio::time::timeout(Duration::from_secs(5), get_status(&router, "/readyz"))
                    .await
                    .expect("a stale report is answered without waiting for the checks");
            assert_eq!(answered, StatusCode::OK);
        }
        // Once the background probe finishes, its result is answered.
        gated.gate.add_permits(1);
        wait_for(&router, StatusCode::SERVICE_UNAVAILABLE).await;
    }

    #[tokio::test]
    async fn a_timed_out_probe_passes_only_while_traffic_is_answered() {
        // The gate stays closed: every probe times out.
        let gated = Gated::new(true);
        let health = Health::with_timings(
            vec![gated.clone()],
            Duration::from_millis(20),
            Duration::ZERO,
            Duration::ZERO,
        );
        let router = routes(health);
        let (status, report) = readyz_body(&router).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{report}");
        assert_eq!(report["checks"]["gated"], "timed out");

        gated.answered.store(true, Ordering::SeqCst);
        let (status, report) = readyz_body(&router).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert!(
            report["checks"]["gated"].as_str().unwrap().contains("busy"),
            "{report}"
        );

        // An explicit failure is never overridden by recent traffic.
        gated.ok.store(false, Ordering::SeqCst);
        gated.gate.add_permits(1);
        let (status, report) = readyz_body(&router).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{report}");
        assert_eq!(report["checks"]["gated"], "down");
    }
}
