//! The fleet status at a million attesters, straight on the store: how
//! fast verdicts are recorded in batches of 5,000 (new attesters, then
//! every attester again), and the medians of the summary's counts and of
//! one page of 100 attesters filtered by status. For docs/performance.md:
//!
//! ```sh
//! cargo bench -p vouch-store --bench fleet            # SQLite and PostgreSQL
//! cargo bench -p vouch-store --bench fleet -- sqlite  # one backend
//! ```
//!
//! `VOUCH_MEASURE_ATTESTERS` (default 1,000,000) sets the fleet size.
//! PostgreSQL is the local server the tests use (`VOUCH_TEST_POSTGRES_URL`); the bench
//! stops with an error when it is unreachable.

// A measurement: a failed step ends it with the error.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::Harness;
use common::fleet::{NOW, batch, verdict};
use vouch_store::AttesterQuery;
use vouch_store::fleet::minute_of;

fn main() {
    // `cargo bench` passes `--bench`; any other argument picks backends.
    let picked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |name: &str| picked.is_empty() || picked.iter().any(|p| p == name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        if wants("sqlite") {
            a_million_attesters(&Harness::sqlite(), "SQLite").await;
        }
        if wants("postgres") {
            let harness = Harness::postgres()
                .await
                .expect("PostgreSQL is unreachable: set VOUCH_TEST_POSTGRES_URL");
            a_million_attesters(&harness, "PostgreSQL").await;
        }
    });
}

async fn a_million_attesters(harness: &Harness, backend: &str) {
    let attesters: i64 = std::env::var("VOUCH_MEASURE_ATTESTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let store = harness.store().await;
    let fleet = store.fleet_store();
    let statuses = [
        "affirming",
        "affirming",
        "affirming",
        "warning",
        "contraindicated",
    ];
    let started = Instant::now();
    let batch_size = 5_000;
    for first in (0..attesters).step_by(batch_size) {
        let verdicts = (first..(first + batch_size as i64).min(attesters))
            .map(|n| {
                verdict(
                    "PSA_IOT",
                    &format!("AQ{n:012}"),
                    statuses[usize::try_from(n % 5).unwrap()],
                    // Spread over the last 15 minutes.
                    NOW - (n % 900) * 1_000_000,
                )
            })
            .collect();
        fleet.record_verdicts(&batch(verdicts), NOW).await.unwrap();
    }
    let recorded = started.elapsed();
    let time = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let mut summary = Vec::new();
    let mut counts = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        counts = fleet.fleet_counts(minute_of(NOW) - 5).await.unwrap();
        summary.push(started.elapsed());
    }
    assert_eq!(
        counts.iter().map(|c| c.attesters).sum::<u64>(),
        u64::try_from(attesters).unwrap()
    );
    let mut page = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let listed = fleet
            .attesters(&AttesterQuery {
                status: Some("contraindicated".into()),
                // From the middle of the fleet, whatever its size.
                after: Some(("PSA_IOT".into(), format!("AQ{:012}", attesters / 2))),
                limit: 100,
                ..AttesterQuery::all(100)
            })
            .await
            .unwrap();
        page.push(started.elapsed());
        assert_eq!(listed.len(), 100);
    }
    // A second round: every attester again, each moving bucket.
    let started = Instant::now();
    for first in (0..attesters).step_by(batch_size) {
        let verdicts = (first..(first + batch_size as i64).min(attesters))
            .map(|n| verdict("PSA_IOT", &format!("AQ{n:012}"), "affirming", NOW))
            .collect();
        fleet.record_verdicts(&batch(verdicts), NOW).await.unwrap();
    }
    let rerecorded = started.elapsed();
    eprintln!(
        "MEASURED {backend}: {attesters} attesters recorded in {recorded:.1?} \
         ({:.0}/s, batches of {batch_size}), again in {rerecorded:.1?} ({:.0}/s); \
         summary median {:.2?}; a page of 100 by status median {:.2?}",
        attesters as f64 / recorded.as_secs_f64(),
        attesters as f64 / rerecorded.as_secs_f64(),
        time(&mut summary),
        time(&mut page),
    );
}
