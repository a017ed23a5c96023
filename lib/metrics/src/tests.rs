use std::sync::Arc;
use std::time::Duration;

use prom_text_format_parser::{Metric, Scrape, Type, ValueType};

use super::http_method::Method;
use super::*;

/// Parses `text` strictly: a line out of format, or samples that do not
/// belong to their family, fail.
pub(crate) fn parse(text: &str) -> Vec<Metric> {
    Scrape::parse(text)
        .unwrap_or_else(|e| panic!("the exposition does not parse: {e:?}\n{text}"))
        .metrics
}

/// The value of the sample of family `name` (of type `kind`) whose labels
/// include `labels`, of the given value type (bucket counts are `Sample`s
/// with an `le` label).
pub(crate) fn value(
    metrics: &[Metric],
    name: &str,
    kind: Type,
    value_type: ValueType,
    labels: &[(&str, &str)],
) -> Option<f64> {
    let family = metrics.iter().find(|m| m.name == name)?;
    assert_eq!(family.kind, kind, "type of {name}");
    family
        .samples
        .iter()
        .find(|s| {
            s.value.value_type == value_type
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|l| l.key == *k && l.value == *v))
        })
        .map(|s| s.value.value.as_f64())
}

struct FixedPool;

impl PoolGauge for FixedPool {
    fn max_connections(&self) -> u32 {
        8
    }
    fn open_connections(&self) -> u32 {
        3
    }
    fn idle_connections(&self) -> u32 {
        1
    }
}

#[test]
fn recorded_values_come_out_in_prometheus_text_with_their_types() {
    let metrics = Metrics::new();
    let route = "/challenge-response/v1/session/{id}";
    metrics.http_request(
        "verification",
        &Method::Post,
        route,
        200,
        Duration::from_millis(3),
    );
    metrics.http_request(
        "verification",
        &Method::Post,
        route,
        200,
        Duration::from_millis(30),
    );
    metrics.http_request(
        "verification",
        &Method::Post,
        route,
        409,
        Duration::from_millis(1),
    );
    metrics.overload_refusal("verification", "concurrency");
    metrics.verdict("PSA_IOT", Verdict::Affirming);
    metrics.cache_lookup(CacheKind::TrustAnchor, true);
    metrics.cache_lookup(CacheKind::TrustAnchor, false);
    metrics.session_created();
    metrics.session_completed();
    metrics.register_sessions_expired(|| 5);
    let wait = latency_histogram();
    wait.observe(0.002);
    metrics.register_pool(Arc::new(FixedPool), wait);

    let exposition = metrics.expose(None).unwrap();
    assert_eq!(exposition.content_type, PROMETHEUS_TEXT);
    assert!(!exposition.body.contains("# EOF"));
    let scrape = parse(&exposition.body);
    let counter = |name: &str, labels: &[(&str, &str)]| {
        value(&scrape, name, Type::Counter, ValueType::Sample, labels)
    };

    let ok = [
        ("service", "verification"),
        ("route", route),
        ("status_class", "2xx"),
    ];
    assert_eq!(counter("vouch_http_requests_total", &ok), Some(2.0));
    assert_eq!(
        counter("vouch_http_requests_total", &[("status_class", "4xx")]),
        Some(1.0)
    );
    let latency = "vouch_http_request_duration_seconds";
    let bucket = |le: &str| {
        value(
            &scrape,
            latency,
            Type::Histogram,
            ValueType::Sample,
            &[("le", le), ("method", "POST")],
        )
    };
    assert_eq!(bucket("0.0025"), Some(1.0));
    assert_eq!(bucket("0.005"), Some(2.0));
    assert_eq!(bucket("+Inf"), Some(3.0));
    assert_eq!(
        value(&scrape, latency, Type::Histogram, ValueType::Count, &[]),
        Some(3.0)
    );
    let counters = [
        (
            "vouch_overload_refusals_total",
            vec![("reason", "concurrency")],
            1.0,
        ),
        (
            "vouch_verdicts_total",
            vec![("scheme", "PSA_IOT"), ("status", "affirming")],
            1.0,
        ),
        (
            "vouch_endorsement_cache_lookups_total",
            vec![("result", "hit")],
            1.0,
        ),
        (
            "vouch_endorsement_cache_lookups_total",
            vec![("result", "miss")],
            1.0,
        ),
        ("vouch_sessions_created_total", vec![], 1.0),
        ("vouch_sessions_completed_total", vec![], 1.0),
        ("vouch_sessions_expired_total", vec![], 5.0),
    ];
    for (name, labels, expected) in counters {
        assert_eq!(counter(name, &labels), Some(expected), "{name} {labels:?}");
    }
    let gauge = |name: &str, labels: &[(&str, &str)]| {
        value(&scrape, name, Type::Gauge, ValueType::Sample, labels)
    };
    assert_eq!(
        gauge("vouch_db_pool_connections", &[("state", "in_use")]),
        Some(2.0)
    );
    assert_eq!(
        gauge("vouch_db_pool_connections", &[("state", "idle")]),
        Some(1.0)
    );
    assert_eq!(gauge("vouch_db_pool_max_connections", &[]), Some(8.0));
    assert_eq!(
        value(
            &scrape,
            "vouch_db_pool_acquire_seconds",
            Type::Histogram,
            ValueType::Count,
            &[]
        ),
        Some(1.0)
    );
}

#[test]
fn openmetrics_is_served_to_scrapers_that_ask_for_it() {
    let metrics = Metrics::new();
    metrics.session_created();
    let prometheus = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let exposition = metrics.expose(Some(prometheus)).unwrap();
    assert_eq!(exposition.content_type, OPENMETRICS);
    assert!(exposition.body.ends_with("# EOF\n"));
    assert!(
        exposition
            .body
            .contains("# TYPE vouch_sessions_created counter\n")
    );
    assert!(exposition.body.contains("vouch_sessions_created_total 1\n"));

    let refused = metrics.expose(Some("application/openmetrics-text;q=0, text/plain"));
    assert_eq!(refused.unwrap().content_type, PROMETHEUS_TEXT);
}

#[test]
fn disabled_metrics_record_and_serve_nothing() {
    let metrics = Metrics::disabled();
    metrics.session_created();
    metrics.http_request("verification", &Method::Get, "/x", 200, Duration::ZERO);
    metrics.register_sessions_expired(|| 1);
    assert!(!metrics.is_enabled());
    assert!(metrics.expose(None).is_none());
}

#[test]
fn counter_families_take_their_sample_name_in_prometheus_text() {
    let openmetrics = "# HELP a_seconds Time.\n# TYPE a_seconds histogram\n# UNIT a_seconds seconds\n\
        a_seconds_sum 1.0\n# HELP b Things.\n# TYPE b counter\nb_total{x=\"y\"} 2\n\
        # HELP c Odd.\n# TYPE c unknown\nc 3\n# EOF\n";
    assert_eq!(
        exposition::to_prometheus_text(openmetrics),
        "# HELP a_seconds Time.\n# TYPE a_seconds histogram\na_seconds_sum 1.0\n\
         # HELP b_total Things.\n# TYPE b_total counter\nb_total{x=\"y\"} 2\n\
         # HELP c Odd.\n# TYPE c untyped\nc 3\n"
    );
}

#[test]
fn unusual_methods_and_statuses_map_to_bounded_labels() {
    assert_eq!(Method::from_name("BREW"), Method::Other);
    assert_eq!(Method::from_name("DELETE"), Method::Delete);
    assert_eq!(status_class(503), "5xx");
    assert_eq!(status_class(1000), "5xx");
    assert_eq!(status_class(101), "1xx");
}
