//! Prometheus metrics of a Vouch process.
//!
//! One [`Metrics`] per process holds a typed `prometheus-client` registry
//! and the families every service records into; there is no global state,
//! so each test app (and each role of the embedded default) sees exactly
//! what it recorded. [`Metrics::disabled`] records nothing and serves
//! nothing, for operators who do not scrape and for measuring the cost.
//!
//! Names follow Prometheus conventions: a `vouch_` prefix, base units
//! (`_seconds`), `_total` on counters. Labels take a small, fixed set of
//! values (service, route template, method, status class, scheme, verdict):
//! never a session, nonce, device or instance id, so the number of series
//! stays bounded whatever the fleet size.
//!
//! | Family | Type | Labels |
//! |---|---|---|
//! | `vouch_http_requests_total` | counter | `service`, `method`, `route`, `status_class` |
//! | `vouch_http_request_duration_seconds` | histogram | `service`, `method`, `route` |
//! | `vouch_overload_refusals_total` | counter | `service`, `reason` |
//! | `vouch_verdicts_total` | counter | `scheme`, `status` |
//! | `vouch_endorsement_cache_lookups_total` | counter | `kind`, `result` |
//! | `vouch_sessions_created_total`, `vouch_sessions_completed_total` | counter | |
//! | `vouch_sessions_expired_total` | counter (in-process session store) | |
//! | `vouch_db_pool_connections` | gauge | `state` (`idle`, `in_use`) |
//! | `vouch_db_pool_max_connections` | gauge | |
//! | `vouch_db_pool_acquire_seconds` | histogram | |

mod exposition;

use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

pub use exposition::{Exposition, OPENMETRICS, PROMETHEUS_TEXT};
pub use prometheus_client::metrics::histogram::Histogram;

/// Latency buckets, in seconds: from half a millisecond (a cached
/// verification) to ten seconds (the default request timeout).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A histogram of durations in seconds with Vouch's latency buckets.
pub fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    service: &'static str,
    method: &'static str,
    route: String,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    service: &'static str,
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    service: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    scheme: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    kind: &'static str,
    result: &'static str,
}

/// What is recorded when metrics are on.
struct Families {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    refusals: Family<RefusalLabels, Counter>,
    verdicts: Family<VerdictLabels, Counter>,
    cache: Family<CacheLabels, Counter>,
    sessions_created: Counter,
    sessions_completed: Counter,
    // Encoding needs the registry exclusively; collectors are added while
    // the process starts.
    registry: Mutex<Registry>,
}

/// The metrics of one process: cheap to clone, shared by every service in it.
#[derive(Clone)]
pub struct Metrics(Option<Arc<Families>>);

impl Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl Default for Metrics {
    /// Disabled: a service built without a process's metrics records nothing.
    fn default() -> Self {
        Metrics::disabled()
    }
}

/// The verdict of an appraisal, as the `status` label spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No claim could be made.
    None,
    /// Affirming.
    Affirming,
    /// Warning.
    Warning,
    /// Contraindicated.
    Contraindicated,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::None => "none",
            Verdict::Affirming => "affirming",
            Verdict::Warning => "warning",
            Verdict::Contraindicated => "contraindicated",
        }
    }
}

/// Which endorsement cache a lookup went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheKind {
    /// Trust anchors (device keys).
    TrustAnchor,
    /// Reference values (expected measurements).
    ReferenceValues,
}

/// The pool of a SQL store, read at each scrape.
pub trait PoolGauge: Send + Sync + 'static {
    /// The pool's upper bound on connections.
    fn max_connections(&self) -> u32;
    /// Connections open now (idle and in use).
    fn open_connections(&self) -> u32;
    /// Open connections nobody is using.
    fn idle_connections(&self) -> u32;
}

impl Metrics {
    /// Metrics that record and serve.
    pub fn new() -> Self {
        let families = Families {
            requests: Family::default(),
            durations: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            refusals: Family::default(),
            verdicts: Family::default(),
            cache: Family::default(),
            sessions_created: Counter::default(),
            sessions_completed: Counter::default(),
            registry: Mutex::new(Registry::with_prefix("vouch")),
        };
        {
            let mut r = families
                .registry
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            r.register(
                "http_requests",
                "REST requests answered, by route template and status class",
                families.requests.clone(),
            );
            r.register_with_unit(
                "http_request_duration",
                "Time from a REST request's arrival to its response's headers",
                Unit::Seconds,
                families.durations.clone(),
            );
            r.register(
                "overload_refusals",
                "Requests refused with 503 because a concurrency limit or a timeout was reached",
                families.refusals.clone(),
            );
            r.register(
                "verdicts",
                "Appraisals completed, by scheme and overall EAR status",
                families.verdicts.clone(),
            );
            r.register(
                "endorsement_cache_lookups",
                "Endorsement cache lookups on the appraisal path, by kind and hit or miss",
                families.cache.clone(),
            );
            r.register(
                "sessions_created",
                "Challenge-response sessions created",
                families.sessions_created.clone(),
            );
            r.register(
                "sessions_completed",
                "Challenge-response sessions whose evidence was appraised",
                families.sessions_completed.clone(),
            );
        }
        Metrics(Some(Arc::new(families)))
    }

    /// Metrics that record nothing; `/metrics` is not served.
    pub fn disabled() -> Self {
        Metrics(None)
    }

    /// Whether anything is recorded.
    pub fn is_enabled(&self) -> bool {
        self.0.is_some()
    }

    /// Records a REST request: `route` is the route template (never the
    /// concrete path, whose ids would make a series per session).
    pub fn http_request(
        &self,
        service: &'static str,
        method: &http_method::Method,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let Some(f) = &self.0 else { return };
        let method = method.as_str();
        f.requests
            .get_or_create(&RequestLabels {
                service,
                method,
                route: route.to_owned(),
                status_class: status_class(status),
            })
            .inc();
        f.durations
            .get_or_create(&RouteLabels {
                service,
                method,
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Records a 503 given because of a limit (`reason`: `concurrency`,
    /// `timeout`).
    pub fn overload_refusal(&self, service: &'static str, reason: &'static str) {
        if let Some(f) = &self.0 {
            f.refusals
                .get_or_create(&RefusalLabels { service, reason })
                .inc();
        }
    }

    /// Records an appraisal's verdict.
    pub fn verdict(&self, scheme: &str, verdict: Verdict) {
        if let Some(f) = &self.0 {
            f.verdicts
                .get_or_create(&VerdictLabels {
                    scheme: scheme.to_owned(),
                    status: verdict.label(),
                })
                .inc();
        }
    }

    /// Records an endorsement cache lookup.
    pub fn cache_lookup(&self, kind: CacheKind, hit: bool) {
        if let Some(f) = &self.0 {
            f.cache
                .get_or_create(&CacheLabels {
                    kind: match kind {
                        CacheKind::TrustAnchor => "trust_anchor",
                        CacheKind::ReferenceValues => "reference_values",
                    },
                    result: if hit { "hit" } else { "miss" },
                })
                .inc();
        }
    }

    /// Records a new session.
    pub fn session_created(&self) {
        if let Some(f) = &self.0 {
            f.sessions_created.inc();
        }
    }

    /// Records a session whose evidence was appraised.
    pub fn session_completed(&self) {
        if let Some(f) = &self.0 {
            f.sessions_completed.inc();
        }
    }

    /// Exports a cumulative count of expired sessions, read at each scrape
    /// (the in-process store counts its expiries; memcached's are its own).
    pub fn register_sessions_expired(&self, read: impl Fn() -> u64 + Send + Sync + 'static) {
        self.register_collector(SessionsExpired(Box::new(read)));
    }

    /// Exports a SQL pool: its size and use, read at each scrape, and the
    /// time callers waited for a connection (`wait`, observed by the store).
    pub fn register_pool(&self, pool: Arc<dyn PoolGauge>, wait: Histogram) {
        self.register_collector(PoolCollector { pool, wait });
    }

    fn register_collector(&self, collector: impl Collector) {
        if let Some(f) = &self.0 {
            f.registry
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .register_collector(Box::new(collector));
        }
    }

    /// The current values in the format `accept` asks for, or `None` when
    /// metrics are disabled.
    pub fn expose(&self, accept: Option<&str>) -> Option<Exposition> {
        let f = self.0.as_ref()?;
        let registry = f.registry.lock().unwrap_or_else(PoisonError::into_inner);
        Some(exposition::encode(&registry, accept))
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// HTTP methods as bounded label values, without depending on `http`.
pub mod http_method {
    /// A request method.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Method {
        /// GET
        Get,
        /// HEAD
        Head,
        /// POST
        Post,
        /// PUT
        Put,
        /// PATCH
        Patch,
        /// DELETE
        Delete,
        /// OPTIONS
        Options,
        /// Anything else: one label value, so a client cannot mint series.
        Other,
    }

    impl Method {
        /// From the method's name.
        pub fn from_name(name: &str) -> Self {
            match name {
                "GET" => Method::Get,
                "HEAD" => Method::Head,
                "POST" => Method::Post,
                "PUT" => Method::Put,
                "PATCH" => Method::Patch,
                "DELETE" => Method::Delete,
                "OPTIONS" => Method::Options,
                _ => Method::Other,
            }
        }

        /// The method's name, or `other`.
        pub fn as_str(self) -> &'static str {
            match self {
                Method::Get => "GET",
                Method::Head => "HEAD",
                Method::Post => "POST",
                Method::Put => "PUT",
                Method::Patch => "PATCH",
                Method::Delete => "DELETE",
                Method::Options => "OPTIONS",
                Method::Other => "other",
            }
        }
    }
}

struct SessionsExpired(Box<dyn Fn() -> u64 + Send + Sync>);

impl Debug for SessionsExpired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionsExpired")
    }
}

impl Collector for SessionsExpired {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let counter = ConstCounter::new((self.0)());
        let metric = encoder.encode_descriptor(
            "sessions_expired",
            "Challenge-response sessions that expired in the in-process session store",
            None,
            counter.metric_type(),
        )?;
        counter.encode(metric)
    }
}

struct PoolCollector {
    pool: Arc<dyn PoolGauge>,
    wait: Histogram,
}

impl Debug for PoolCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolCollector")
    }
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        let open = self.pool.open_connections();
        let idle = self.pool.idle_connections().min(open);
        {
            let max = ConstGauge::new(i64::from(self.pool.max_connections()));
            let metric = encoder.encode_descriptor(
                "db_pool_max_connections",
                "Upper bound on this process's database pool",
                None,
                max.metric_type(),
            )?;
            max.encode(metric)?;
        }
        {
            let mut metric = encoder.encode_descriptor(
                "db_pool_connections",
                "Open connections of this process's database pool, idle or in use",
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for (state, value) in [("idle", idle), ("in_use", open - idle)] {
                let labels = [("state", state)];
                let family = metric.encode_family(&labels)?;
                ConstGauge::new(i64::from(value)).encode(family)?;
            }
        }
        let metric = encoder.encode_descriptor(
            "db_pool_acquire",
            "Time a query waited for a pooled database connection",
            Some(&Unit::Seconds),
            self.wait.metric_type(),
        )?;
        self.wait.encode(metric)
    }
}

#[cfg(test)]
mod tests;
