//! What operators see: `/metrics` on every REST listener (and trust's
//! metrics listener when asked for), in a format a Prometheus parser reads,
//! with counters that move when a verification happens; request ids and
//! the access log.

#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;

use common::procs::Vouch;
use common::*;
use prom_text_format_parser::{Metric, Scrape, Type, ValueType};

const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Scrapes `base/metrics` and parses it strictly.
async fn scrape(client: &reqwest::Client, base: &str) -> Vec<Metric> {
    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], PROMETHEUS_TEXT);
    let text = response.text().await.unwrap();
    Scrape::parse(&text)
        .unwrap_or_else(|e| panic!("/metrics does not parse: {e:?}\n{text}"))
        .metrics
}

/// The sum of the samples of family `name` (checked to be of type `kind`)
/// whose labels include `labels`; 0 when there are none yet.
fn total(
    metrics: &[Metric],
    name: &str,
    kind: Type,
    value_type: ValueType,
    labels: &[(&str, &str)],
) -> f64 {
    let Some(family) = metrics.iter().find(|m| m.name == name) else {
        return 0.0;
    };
    assert_eq!(family.kind, kind, "type of {name}");
    family
        .samples
        .iter()
        .filter(|s| {
            s.value.value_type == value_type
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|l| l.key == *k && l.value == *v))
        })
        .map(|s| s.value.value.as_f64())
        .sum()
}

fn counter(metrics: &[Metric], name: &str, labels: &[(&str, &str)]) -> f64 {
    total(metrics, name, Type::Counter, ValueType::Sample, labels)
}

#[tokio::test]
async fn a_verification_moves_the_counters_every_listener_serves() {
    let app = spawn_app().await;
    let before = scrape(&app.client, &app.verification).await;

    let (session, response) = app.verify_new_device().await;
    assert_eq!(response.status(), 200);
    // A path nobody serves, whose id must not become a label.
    let missing = format!("{}/no/such/path-7f3a", app.verification);
    assert_eq!(app.client.get(missing).send().await.unwrap().status(), 404);

    let after = scrape(&app.client, &app.verification).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        counter(&after, name, labels) - counter(&before, name, labels)
    };
    let submit = [
        ("service", "verification"),
        ("method", "POST"),
        ("route", "/challenge-response/v1/session/{id}"),
        ("status_class", "2xx"),
    ];
    assert_eq!(moved("vouch_http_requests_total", &submit), 1.0);
    let new_session = [
        ("route", "/challenge-response/v1/newSession"),
        ("status_class", "2xx"),
    ];
    assert_eq!(moved("vouch_http_requests_total", &new_session), 1.0);
    let unmatched = [("route", "unmatched"), ("status_class", "4xx")];
    assert_eq!(moved("vouch_http_requests_total", &unmatched), 1.0);
    let affirming = [("scheme", "PSA_IOT"), ("status", "affirming")];
    assert_eq!(moved("vouch_verdicts_total", &affirming), 1.0);
    assert_eq!(moved("vouch_sessions_created_total", &[]), 1.0);
    assert_eq!(moved("vouch_sessions_completed_total", &[]), 1.0);
    // The fresh device's key was not cached yet: a miss went to the store.
    let ta_miss = [("kind", "trust_anchor"), ("result", "miss")];
    assert!(moved("vouch_endorsement_cache_lookups_total", &ta_miss) >= 1.0);
    let latency = total(
        &after,
        "vouch_http_request_duration_seconds",
        Type::Histogram,
        ValueType::Count,
        &[("route", "/challenge-response/v1/session/{id}")],
    );
    assert!(latency >= 1.0);

    // The pool of the embedded SQLite store, and the wait for it.
    let gauge = |name: &str, labels: &[(&str, &str)]| {
        total(&after, name, Type::Gauge, ValueType::Sample, labels)
    };
    let max = f64::from(vouch::settings::Settings::default().db.max_connections);
    assert_eq!(gauge("vouch_db_pool_max_connections", &[]), max);
    let open = gauge("vouch_db_pool_connections", &[]);
    assert!(open >= 1.0 && open <= max, "{open} open connections");
    let waits = total(
        &after,
        "vouch_db_pool_acquire_seconds",
        Type::Histogram,
        ValueType::Count,
        &[],
    );
    assert!(waits >= 1.0, "the store lookups waited for connections");
    assert!(
        after
            .iter()
            .any(|m| m.name == "vouch_sessions_expired_total")
    );

    // No label carries a session id, a path or anything else per request.
    for family in &after {
        for sample in &family.samples {
            for label in sample.labels.iter() {
                assert!(
                    !label.value.contains("path-7f3a")
                        && !label.value.contains(&session[session.len() - 12..]),
                    "{}: {}={}",
                    family.name,
                    label.key,
                    label.value
                );
            }
        }
    }

    // The other listeners serve the same process's metrics.
    for base in [app.provisioning.clone(), app.management_url().to_owned()] {
        let there = scrape(&app.client, &base).await;
        assert!(counter(&there, "vouch_verdicts_total", &affirming) >= 1.0);
    }
    let provisioning = scrape(&app.client, &app.provisioning).await;
    let submitted = [
        ("service", "provisioning"),
        ("route", "/endorsement-provisioning/v1/submit"),
        ("status_class", "2xx"),
    ];
    assert_eq!(
        counter(&provisioning, "vouch_http_requests_total", &submitted),
        1.0
    );
    app.stop().await;
}

#[tokio::test]
async fn prometheus_gets_openmetrics_when_it_asks() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/metrics", app.verification))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("# TYPE vouch_sessions_created counter\n"),
        "{text}"
    );
    assert!(text.contains("vouch_sessions_created_total 0\n"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn disabled_metrics_are_not_served() {
    let app = spawn_app_with(|s| s.metrics.enabled = false).await;
    let response = app
        .client
        .get(format!("{}/metrics", app.verification))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    app.stop().await;
}

#[tokio::test]
async fn trust_serves_its_metrics_on_its_own_listener() {
    let data = tempfile::tempdir().unwrap();
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let settings = vouch::settings::Settings {
        role: vec![vouch::settings::Role::Trust],
        data_dir: data.path().to_owned(),
        trust_addr: any,
        metrics: vouch::settings::MetricsSettings {
            enabled: true,
            trust_addr: Some(any),
        },
        ..vouch::settings::Settings::default()
    };
    let running = vouch::app::start(&settings).await.unwrap();
    assert!(running.verification.is_none());
    let base = format!("http://{}", running.trust_metrics.unwrap());
    let stop = running.shutdown_token();
    let done = tokio::spawn(running.wait());

    let client = reqwest::Client::new();
    let metrics = scrape(&client, &base).await;
    // The store's pool, which only trust holds. (Labelled families appear
    // with their first series.)
    assert!(
        metrics
            .iter()
            .any(|m| m.name == "vouch_db_pool_max_connections")
    );
    assert!(
        metrics
            .iter()
            .any(|m| m.name == "vouch_db_pool_acquire_seconds")
    );
    let other = client
        .get(format!("{base}/healthz-not"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    stop.cancel();
    done.await.unwrap().unwrap();
}

#[tokio::test]
async fn each_request_gets_an_id_and_a_json_access_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let any = "127.0.0.1:0".to_owned();
    let mut args: Vec<String> = [
        "--data-dir",
        &dir.path().join("data").display().to_string(),
        "--log-format",
        "json",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for flag in [
        "--verification-addr",
        "--provisioning-addr",
        "--management-addr",
        "--trust-addr",
    ] {
        args.push(flag.into());
        args.push(any.clone());
    }
    let proc = Vouch::spawn(
        "json-log",
        dir.path(),
        &args,
        &[("VOUCH_LOG", "warn,vouch::access=info")],
    );
    let mut vouch = Vouch::listening_of(proc, &["verification"]).await;
    let base = format!("http://{}", vouch.verification.unwrap());
    let client = reqwest::Client::new();

    let chosen = client
        .post(format!("{base}/challenge-response/v1/newSession"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 201);
    assert_eq!(chosen.headers()["x-request-id"], "trace-me-42");
    let generated = client
        .get(format!("{base}/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_eq!(generated.status(), 404);
    let generated_id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&generated_id).is_ok(),
        "{generated_id}"
    );

    // The lines are written as the responses go; give the writer a moment.
    let mut lines = Vec::new();
    for _ in 0..50 {
        lines = vouch
            .proc()
            .log_tail()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|l| l["target"] == "vouch::access")
            .collect();
        if lines.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let line = |id: &str| {
        lines
            .iter()
            .find(|l| l["fields"]["request_id"] == id)
            .unwrap_or_else(|| panic!("no access line for {id}: {lines:?}"))
            .clone()
    };
    let created = line("trace-me-42");
    assert_eq!(created["fields"]["service"], "verification");
    assert_eq!(created["fields"]["method"], "POST");
    assert_eq!(
        created["fields"]["route"],
        "/challenge-response/v1/newSession"
    );
    assert_eq!(created["fields"]["status"], 201);
    assert!(created["fields"]["latency_ms"].as_f64().unwrap() >= 0.0);
    let missing = line(&generated_id);
    assert_eq!(missing["fields"]["route"], "unmatched");
    assert_eq!(missing["fields"]["path"], "/no/such/route");
    assert_eq!(missing["fields"]["status"], 404);
    vouch.stop(std::time::Duration::from_secs(10)).await;
}
