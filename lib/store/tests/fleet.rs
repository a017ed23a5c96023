//! Fleet status, run against the memory, SQLite and PostgreSQL backends.

// The shared cases are plain async fns called by generated #[test]s, which
// clippy's allow-unwrap-in-tests does not see; a panic here is a failed test.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::fleet::*;
use common::*;
use vouch_store::fleet::minute_of;
use vouch_store::{
    AttesterQuery, AttesterRecord, EndorsementStore, FleetVerdict, StatusCount, StoreError,
};

suite!(
    verdicts_are_recorded_counted_and_listed,
    a_later_verdict_replaces_and_a_late_one_only_counts,
    pages_and_filters_list_in_id_order,
    concurrent_batches_keep_the_counts_exact,
    invalid_batches_store_nothing,
);

fn all() -> AttesterQuery {
    AttesterQuery::all(1000)
}

async fn list(store: &Arc<dyn EndorsementStore>, query: AttesterQuery) -> Vec<AttesterRecord> {
    store.fleet_store().attesters(&query).await.unwrap()
}

fn ids(records: &[AttesterRecord]) -> Vec<&str> {
    records.iter().map(|a| a.attester_id.as_str()).collect()
}

/// The counts recomputed from every attester, as the summary must give them.
async fn recount(store: &Arc<dyn EndorsementStore>, stale_before_minute: i64) -> Vec<StatusCount> {
    let mut counts: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = list(
            store,
            AttesterQuery {
                after: after.clone(),
                ..all()
            },
        )
        .await;
        for a in &page {
            let entry = counts
                .entry((a.scheme.clone(), a.status.clone()))
                .or_default();
            entry.0 += 1;
            entry.1 += u64::from(minute_of(a.last_seen_us) < stale_before_minute);
        }
        match page.last() {
            Some(last) if page.len() == 1000 => {
                after = Some((last.scheme.clone(), last.attester_id.clone()));
            }
            _ => break,
        }
    }
    counts
        .into_iter()
        .map(|((scheme, status), (attesters, stale))| StatusCount {
            scheme,
            status,
            attesters,
            stale,
        })
        .collect()
}

async fn verdicts_are_recorded_counted_and_listed(harness: Harness) {
    let store = harness.store().await;
    let fleet = store.fleet_store();
    assert!(fleet.fleet_counts(minute_of(NOW)).await.unwrap().is_empty());
    fleet
        .record_verdicts(
            &batch(vec![
                verdict("PSA_IOT", "AQ", "affirming", NOW - 90 * MINUTE),
                verdict("PSA_IOT", "Ag", "contraindicated", NOW - 5 * MINUTE),
                verdict("CCA_SSD_PLATFORM", "Aw", "affirming", NOW - 5 * MINUTE),
            ]),
            NOW,
        )
        .await
        .unwrap();
    let counts = fleet.fleet_counts(minute_of(NOW) - 60).await.unwrap();
    let counts: Vec<_> = counts
        .iter()
        .map(|c| (c.scheme.as_str(), c.status.as_str(), c.attesters, c.stale))
        .collect();
    assert_eq!(
        counts,
        [
            ("CCA_SSD_PLATFORM", "affirming", 1, 0),
            ("PSA_IOT", "affirming", 1, 1),
            ("PSA_IOT", "contraindicated", 1, 0),
        ]
    );
    let listed = list(&store, all()).await;
    assert_eq!(ids(&listed), ["Aw", "AQ", "Ag"]);
    let first = &listed[1];
    assert_eq!(first.status, "affirming");
    assert_eq!(first.trust_vector, r#"{"PSA_IOT":{"hardware":2}}"#);
    assert_eq!(first.first_seen_us, NOW - 90 * MINUTE);
    assert_eq!(first.last_seen_us, NOW - 90 * MINUTE);
    assert_eq!(first.appraisals, 1);
    let history = fleet.verdict_history(minute_of(NOW) - 60).await.unwrap();
    let history: Vec<_> = history
        .iter()
        .map(|h| (h.minute, h.scheme.as_str(), h.status.as_str(), h.verdicts))
        .collect();
    let recent = minute_of(NOW) - 5;
    assert_eq!(
        history,
        [
            (recent, "CCA_SSD_PLATFORM", "affirming", 1),
            (recent, "PSA_IOT", "contraindicated", 1)
        ]
    );
}

async fn a_later_verdict_replaces_and_a_late_one_only_counts(harness: Harness) {
    let store = harness.store().await;
    let fleet = store.fleet_store();
    fleet
        .record_verdicts(
            &batch(vec![verdict(
                "PSA_IOT",
                "AQ",
                "affirming",
                NOW - 10 * MINUTE,
            )]),
            NOW,
        )
        .await
        .unwrap();
    // A later verdict replaces the status; first seen stays.
    fleet
        .record_verdicts(
            &batch(vec![verdict("PSA_IOT", "AQ", "warning", NOW - MINUTE)]),
            NOW,
        )
        .await
        .unwrap();
    // A batch that arrives late (an earlier verdict) adds its appraisals
    // but does not roll the attester back.
    let mut late = verdict("PSA_IOT", "AQ", "contraindicated", NOW - 5 * MINUTE);
    late.appraisals = 3;
    fleet
        .record_verdicts(&batch(vec![late]), NOW)
        .await
        .unwrap();
    let listed = list(&store, all()).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "warning");
    assert_eq!(listed[0].first_seen_us, NOW - 10 * MINUTE);
    assert_eq!(listed[0].last_seen_us, NOW - MINUTE);
    assert_eq!(listed[0].appraisals, 5);
    let threshold = minute_of(NOW) - 3;
    assert_eq!(
        fleet.fleet_counts(threshold).await.unwrap(),
        recount(&store, threshold).await
    );
    assert_eq!(
        fleet.fleet_counts(threshold).await.unwrap(),
        [StatusCount {
            scheme: "PSA_IOT".into(),
            status: "warning".into(),
            attesters: 1,
            stale: 0
        }]
    );
    // The history has all five appraisals, each in its own minute.
    let history = fleet.verdict_history(0).await.unwrap();
    assert_eq!(history.iter().map(|h| h.verdicts).sum::<u64>(), 5);
    assert_eq!(history.len(), 3);
}

async fn pages_and_filters_list_in_id_order(harness: Harness) {
    let store = harness.store().await;
    let fleet = store.fleet_store();
    let statuses = ["affirming", "warning", "contraindicated", "none"];
    let mut verdicts = Vec::new();
    for n in 0..40_i64 {
        // Ids that sort differently as text and as numbers, with both
        // base64url punctuation characters.
        let id = format!("{}{n}", if n % 2 == 0 { "A-" } else { "A_" });
        let scheme = if n % 5 == 0 {
            "TPM_ENACTTRUST"
        } else {
            "PSA_IOT"
        };
        let status = statuses[usize::try_from(n % 4).unwrap()];
        verdicts.push(verdict(scheme, &id, status, NOW - n * MINUTE));
    }
    fleet
        .record_verdicts(&batch(verdicts.clone()), NOW)
        .await
        .unwrap();

    let mut expected: Vec<(String, String)> = verdicts
        .iter()
        .map(|v| (v.scheme.clone(), v.attester_id.clone()))
        .collect();
    expected.sort();
    // Pages of 7 walk the whole list in (scheme, id) byte order.
    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = list(
            &store,
            AttesterQuery {
                after: after.clone(),
                limit: 7,
                ..all()
            },
        )
        .await;
        assert!(page.len() <= 7);
        walked.extend(
            page.iter()
                .map(|a| (a.scheme.clone(), a.attester_id.clone())),
        );
        match page.last() {
            Some(last) => after = Some((last.scheme.clone(), last.attester_id.clone())),
            None => break,
        }
    }
    assert_eq!(walked, expected);

    let filtered = |query: AttesterQuery| {
        let store = store.clone();
        async move {
            list(&store, query)
                .await
                .into_iter()
                .map(|a| a.attester_id)
                .collect::<Vec<_>>()
        }
    };
    let expect = |keep: &dyn Fn(&FleetVerdict) -> bool| {
        let mut kept: Vec<(String, String)> = verdicts
            .iter()
            .filter(|v| keep(v))
            .map(|v| (v.scheme.clone(), v.attester_id.clone()))
            .collect();
        kept.sort();
        kept.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };
    assert_eq!(
        filtered(AttesterQuery {
            status: Some("warning".into()),
            ..all()
        })
        .await,
        expect(&|v| v.status == "warning")
    );
    assert_eq!(
        filtered(AttesterQuery {
            scheme: Some("TPM_ENACTTRUST".into()),
            status: Some("affirming".into()),
            ..all()
        })
        .await,
        expect(&|v| v.scheme == "TPM_ENACTTRUST" && v.status == "affirming")
    );
    assert_eq!(
        filtered(AttesterQuery {
            id_prefix: Some("A_1".into()),
            ..all()
        })
        .await,
        expect(&|v| v.attester_id.starts_with("A_1"))
    );
    assert_eq!(
        filtered(AttesterQuery {
            seen_before_us: Some(NOW - 30 * MINUTE),
            status: Some("none".into()),
            ..all()
        })
        .await,
        expect(&|v| v.seen_us < NOW - 30 * MINUTE && v.status == "none")
    );
    assert!(
        filtered(AttesterQuery {
            id_prefix: Some("B".into()),
            ..all()
        })
        .await
        .is_empty()
    );
    let threshold = minute_of(NOW) - 20;
    assert_eq!(
        fleet.fleet_counts(threshold).await.unwrap(),
        recount(&store, threshold).await
    );
}

async fn concurrent_batches_keep_the_counts_exact(harness: Harness) {
    // Several instances (separate pools) record overlapping attesters at
    // once: each batch moves counts from the rows it replaces, so batches
    // that overlapped without taking turns would count an attester twice.
    let mut tasks = Vec::new();
    for instance in 0..4_i64 {
        let store = harness.store().await;
        tasks.push(tokio::spawn(async move {
            for round in 0..10_i64 {
                let attesters = (0..30_i64)
                    .map(|n| {
                        let status = ["affirming", "warning"][usize::from((n + round) % 2 == 0)];
                        verdict(
                            "PSA_IOT",
                            &format!("id{n}"),
                            status,
                            NOW - (instance * 7 + round * 3 + n) % 50 * MINUTE,
                        )
                    })
                    .collect();
                store
                    .fleet_store()
                    .record_verdicts(&batch(attesters), NOW)
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let store = harness.store().await;
    let threshold = minute_of(NOW) - 25;
    let counts = store.fleet_store().fleet_counts(threshold).await.unwrap();
    assert_eq!(counts, recount(&store, threshold).await);
    assert_eq!(counts.iter().map(|c| c.attesters).sum::<u64>(), 30);
    let listed = list(&store, all()).await;
    assert_eq!(
        listed.iter().map(|a| a.appraisals).sum::<u64>(),
        4 * 10 * 30
    );
    let history = store.fleet_store().verdict_history(0).await.unwrap();
    assert_eq!(history.iter().map(|h| h.verdicts).sum::<u64>(), 4 * 10 * 30);
}

async fn invalid_batches_store_nothing(harness: Harness) {
    let store = harness.store().await;
    let fleet = store.fleet_store();
    let good = verdict("PSA_IOT", "AQ", "affirming", NOW);
    for bad in [
        verdict("PSA_IOT", "A/Q", "affirming", NOW),
        verdict("PSA_IOT", "AQ", "trusted", NOW),
        verdict("", "AQ", "affirming", NOW),
    ] {
        let error = fleet
            .record_verdicts(&batch(vec![good.clone(), bad]), NOW)
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::InvalidSubmission(_)),
            "{error:?}"
        );
    }
    assert!(list(&store, all()).await.is_empty());
    assert!(fleet.verdict_history(0).await.unwrap().is_empty());
    let error = fleet
        .attesters(&AttesterQuery { limit: 0, ..all() })
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidSubmission(_)),
        "{error:?}"
    );
}

/// The SQL backends keep last-verdict counts older than a day by the hour.
mod compaction {
    use super::*;

    async fn old_minutes_are_kept_by_the_hour(harness: Harness) {
        let store = harness.store().await;
        let fleet = store.fleet_store();
        let hour = minute_of(NOW) - 3 * 24 * 60; // on an hour boundary
        let at = |minute: i64| minute * MINUTE;
        // Three days ago, three attesters at :05, :10 and :59 of one hour.
        fleet
            .record_verdicts(
                &batch(vec![
                    verdict("PSA_IOT", "a", "affirming", at(hour + 5)),
                    verdict("PSA_IOT", "b", "affirming", at(hour + 10)),
                    verdict("PSA_IOT", "c", "affirming", at(hour + 59)),
                ]),
                at(hour + 60),
            )
            .await
            .unwrap();
        // A batch now compacts them into their hour.
        fleet
            .record_verdicts(
                &batch(vec![verdict("PSA_IOT", "d", "warning", NOW - MINUTE)]),
                NOW,
            )
            .await
            .unwrap();
        let counts = |stale: u64| {
            vec![
                StatusCount {
                    scheme: "PSA_IOT".into(),
                    status: "affirming".into(),
                    attesters: 3,
                    stale,
                },
                StatusCount {
                    scheme: "PSA_IOT".into(),
                    status: "warning".into(),
                    attesters: 1,
                    stale: 0,
                },
            ]
        };
        // Stale for an hour: all three. A threshold inside their hour: the
        // hour counts only once it is all before the threshold.
        assert_eq!(
            fleet.fleet_counts(minute_of(NOW) - 60).await.unwrap(),
            counts(3)
        );
        assert_eq!(fleet.fleet_counts(hour + 30).await.unwrap(), counts(0));
        assert_eq!(fleet.fleet_counts(hour + 60).await.unwrap(), counts(3));
        // Moving one out of the compacted hour takes it from the hour.
        fleet
            .record_verdicts(&batch(vec![verdict("PSA_IOT", "b", "warning", NOW)]), NOW)
            .await
            .unwrap();
        let threshold = minute_of(NOW) - 60;
        let now = fleet.fleet_counts(threshold).await.unwrap();
        assert_eq!(now, recount(&store, threshold).await);
        assert_eq!(now[0].attesters, 2);
        assert_eq!(now[1].attesters, 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        old_minutes_are_kept_by_the_hour(Harness::sqlite()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(harness) = Harness::postgres().await else {
            return;
        };
        old_minutes_are_kept_by_the_hour(harness).await;
    }
}
