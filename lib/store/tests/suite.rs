//! The behavioural suite, run against the memory, SQLite and PostgreSQL backends.

// The shared cases are plain async fns called by generated #[test]s, which
// clippy's allow-unwrap-in-tests does not see; a panic here is a failed test.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use vouch_store::{ReferenceValueRecord, StoreChange, StoreError, StoreStats, SubmitOutcome};

suite!(
    submit_then_look_up,
    resubmission_is_idempotent,
    later_corim_replaces_trust_anchor,
    reference_values_are_shared_across_corims,
    repeats_within_one_submission_are_stored_once,
    unknown_keys_find_nothing,
    schemes_are_separate_namespaces,
    stats_count_rows,
    change_feed_reports_each_commit_once,
    concurrent_duplicate_submissions_store_once,
    concurrent_overlapping_submissions_do_not_conflict,
    large_submission_is_fast,
    invalid_submission_stores_nothing,
    batched_lookups_answer_as_single_ones,
);

async fn submit_then_look_up(harness: Harness) {
    let store = harness.store().await;
    store.ping().await.unwrap();
    let submission = submission(
        "a",
        vec![
            ta(b"ta-1", b"impl-1", b"key-1"),
            ta(b"ta-2", b"impl-1", b"key-2"),
        ],
        vec![
            rv(b"impl-1", b"bl-measurement", Some(1_900_000_000)),
            rv(b"impl-1", b"prot-measurement", None),
            rv(b"impl-2", b"other", None),
        ],
    );
    assert_eq!(
        store.submit(&submission).await.unwrap(),
        SubmitOutcome::Stored
    );

    for expected in &submission.trust_anchors {
        let found = store
            .trust_anchor(&expected.scheme, &expected.ta_id)
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(expected));
    }

    let mut expected: Vec<ReferenceValueRecord> = submission.reference_values[..2].to_vec();
    expected.sort_by_key(|rv| digest(&rv.body));
    let found = store.reference_values(SCHEME, b"impl-1").await.unwrap();
    assert_eq!(found, expected, "all bodies, ordered by body digest");
    // Deterministic: the same order every time.
    assert_eq!(
        store.reference_values(SCHEME, b"impl-1").await.unwrap(),
        found
    );
    assert_eq!(
        store.reference_values(SCHEME, b"impl-2").await.unwrap(),
        vec![submission.reference_values[2].clone()]
    );
    store.close().await;
}

async fn resubmission_is_idempotent(harness: Harness) {
    let store = harness.store().await;
    let submission = submission(
        "a",
        vec![ta(b"ta-1", b"impl-1", b"key-1")],
        vec![rv(b"impl-1", b"m", None)],
    );
    assert_eq!(
        store.submit(&submission).await.unwrap(),
        SubmitOutcome::Stored
    );
    let before = store.stats().await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            store.submit(&submission).await.unwrap(),
            SubmitOutcome::AlreadyStored
        );
    }
    assert_eq!(store.stats().await.unwrap(), before);
    assert_eq!(
        before,
        StoreStats {
            corims: 1,
            trust_anchors: 1,
            reference_values: 1,
            reference_value_links: 1
        }
    );
    store.close().await;
}

async fn later_corim_replaces_trust_anchor(harness: Harness) {
    let store = harness.store().await;
    let first = submission("first", vec![ta(b"ta-1", b"impl-1", b"old-key")], vec![]);
    let mut rotated = ta(b"ta-1", b"impl-1", b"new-key");
    rotated.not_after = Some(2_100_000_000);
    let second = submission("second", vec![rotated.clone()], vec![]);

    assert_eq!(store.submit(&first).await.unwrap(), SubmitOutcome::Stored);
    assert_eq!(store.submit(&second).await.unwrap(), SubmitOutcome::Stored);
    assert_eq!(
        store.trust_anchor(SCHEME, b"ta-1").await.unwrap(),
        Some(rotated.clone())
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.corims, stats.trust_anchors), (2, 1));

    // Resubmitting the old CoRIM's bytes is a no-op: it does not roll the key back.
    assert_eq!(
        store.submit(&first).await.unwrap(),
        SubmitOutcome::AlreadyStored
    );
    assert_eq!(
        store.trust_anchor(SCHEME, b"ta-1").await.unwrap(),
        Some(rotated)
    );
    store.close().await;
}

async fn reference_values_are_shared_across_corims(harness: Harness) {
    let store = harness.store().await;
    let shared = |not_after| rv(b"impl-1", b"shared-measurement", not_after);
    let submissions = [
        submission("one", vec![], vec![shared(Some(100))]),
        submission(
            "two",
            vec![],
            vec![shared(Some(200)), rv(b"impl-1", b"extra", Some(5))],
        ),
        submission("three", vec![], vec![shared(Some(150))]),
    ];
    for submission in &submissions {
        assert_eq!(
            store.submit(submission).await.unwrap(),
            SubmitOutcome::Stored
        );
    }
    let stats = store.stats().await.unwrap();
    assert_eq!(
        stats.reference_values, 2,
        "one row per distinct (scheme, rv_id, body)"
    );
    assert_eq!(
        stats.reference_value_links, 4,
        "one link per CoRIM that asserted it"
    );

    let found = store.reference_values(SCHEME, b"impl-1").await.unwrap();
    assert_eq!(found.len(), 2);
    let shared_found = found
        .iter()
        .find(|rv| rv.body == b"shared-measurement")
        .unwrap();
    assert_eq!(
        shared_found.not_after,
        Some(200),
        "the latest validity is kept"
    );

    // A CoRIM asserting it without expiry makes it unexpiring.
    store
        .submit(&submission("four", vec![], vec![shared(None)]))
        .await
        .unwrap();
    store
        .submit(&submission("five", vec![], vec![shared(Some(300))]))
        .await
        .unwrap();
    let found = store.reference_values(SCHEME, b"impl-1").await.unwrap();
    let shared_found = found
        .iter()
        .find(|rv| rv.body == b"shared-measurement")
        .unwrap();
    assert_eq!(shared_found.not_after, None);
    assert_eq!(store.stats().await.unwrap().reference_values, 2);
    store.close().await;
}

async fn repeats_within_one_submission_are_stored_once(harness: Harness) {
    let store = harness.store().await;
    let submission = submission(
        "repeats",
        vec![
            ta(b"ta-1", b"impl-1", b"first"),
            ta(b"ta-1", b"impl-1", b"last"),
        ],
        vec![rv(b"impl-1", b"m", Some(1)), rv(b"impl-1", b"m", Some(9))],
    );
    assert_eq!(
        store.submit(&submission).await.unwrap(),
        SubmitOutcome::Stored
    );
    assert_eq!(
        store
            .trust_anchor(SCHEME, b"ta-1")
            .await
            .unwrap()
            .unwrap()
            .key,
        b"last"
    );
    let found = store.reference_values(SCHEME, b"impl-1").await.unwrap();
    assert_eq!(found, vec![rv(b"impl-1", b"m", Some(9))]);
    assert_eq!(
        store.stats().await.unwrap(),
        StoreStats {
            corims: 1,
            trust_anchors: 1,
            reference_values: 1,
            reference_value_links: 1
        }
    );
    store.close().await;
}

async fn unknown_keys_find_nothing(harness: Harness) {
    let store = harness.store().await;
    assert_eq!(store.trust_anchor(SCHEME, b"nobody").await.unwrap(), None);
    assert!(
        store
            .reference_values(SCHEME, b"nothing")
            .await
            .unwrap()
            .is_empty()
    );
    store
        .submit(&submission(
            "a",
            vec![ta(b"ta-1", b"impl-1", b"k")],
            vec![rv(b"impl-1", b"m", None)],
        ))
        .await
        .unwrap();
    assert_eq!(store.trust_anchor(SCHEME, b"ta-2").await.unwrap(), None);
    assert_eq!(
        store.trust_anchor(SCHEME, b"ta-").await.unwrap(),
        None,
        "no prefix matching"
    );
    assert!(
        store
            .reference_values(SCHEME, b"impl-")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .reference_values(SCHEME, b"ta-1")
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;
}

async fn schemes_are_separate_namespaces(harness: Harness) {
    let store = harness.store().await;
    let mut cca = ta(b"same-id", b"impl", b"cca-key");
    cca.scheme = "ARM_CCA".into();
    let mut cca_rv = rv(b"impl", b"cca-measurement", None);
    cca_rv.scheme = "ARM_CCA".into();
    store
        .submit(&submission(
            "mixed",
            vec![ta(b"same-id", b"impl", b"psa-key"), cca.clone()],
            vec![rv(b"impl", b"psa-measurement", None), cca_rv.clone()],
        ))
        .await
        .unwrap();
    assert_eq!(
        store
            .trust_anchor(SCHEME, b"same-id")
            .await
            .unwrap()
            .unwrap()
            .key,
        b"psa-key"
    );
    assert_eq!(
        store.trust_anchor("ARM_CCA", b"same-id").await.unwrap(),
        Some(cca)
    );
    assert_eq!(
        store.reference_values("ARM_CCA", b"impl").await.unwrap(),
        vec![cca_rv]
    );
    assert_eq!(
        store
            .trust_anchor("TPM_ENACTTRUST", b"same-id")
            .await
            .unwrap(),
        None
    );
    store.close().await;
}

async fn stats_count_rows(harness: Harness) {
    let store = harness.store().await;
    assert_eq!(store.stats().await.unwrap(), StoreStats::default());
    store.submit(&bulk_submission("a", 1, 25)).await.unwrap();
    store.submit(&bulk_submission("b", 2, 10)).await.unwrap();
    assert_eq!(
        store.stats().await.unwrap(),
        StoreStats {
            corims: 2,
            trust_anchors: 35,
            reference_values: 35,
            reference_value_links: 35
        }
    );
    store.close().await;
}

async fn change_feed_reports_each_commit_once(harness: Harness) {
    let store = harness.store().await;
    let mut receiver = store.subscribe();
    let submission = submission(
        "feed",
        vec![ta(b"ta-2", b"impl-1", b"k"), ta(b"ta-1", b"impl-1", b"k")],
        vec![
            rv(b"impl-1", b"m1", None),
            rv(b"impl-1", b"m2", None),
            rv(b"impl-0", b"m", None),
        ],
    );
    let started = Instant::now();
    store.submit(&submission).await.unwrap();
    let event = next_event(&mut receiver, Duration::from_secs(1)).await;
    eprintln!(
        "{:?}: change event after {:?}",
        store.backend(),
        started.elapsed()
    );
    assert_eq!(
        event,
        StoreChange::Changed {
            scheme: SCHEME.into(),
            ta_ids: vec![b"ta-1".to_vec(), b"ta-2".to_vec()],
            rv_ids: vec![b"impl-0".to_vec(), b"impl-1".to_vec()],
        }
    );
    // Nothing new was stored, so nothing is announced.
    assert_eq!(
        store.submit(&submission).await.unwrap(),
        SubmitOutcome::AlreadyStored
    );
    no_event(&mut receiver, Duration::from_millis(300)).await;
    store.close().await;
}

async fn concurrent_duplicate_submissions_store_once(harness: Harness) {
    let store = harness.store().await;
    let submission = Arc::new(bulk_submission("dup", 7, 200));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            let submission = Arc::clone(&submission);
            tokio::spawn(async move { store.submit(&submission).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().expect("no submission fails"));
    }
    let stored = outcomes
        .iter()
        .filter(|&&o| o == SubmitOutcome::Stored)
        .count();
    assert_eq!(stored, 1, "{outcomes:?}");
    assert_eq!(
        store.stats().await.unwrap(),
        StoreStats {
            corims: 1,
            trust_anchors: 200,
            reference_values: 200,
            reference_value_links: 200
        }
    );
    store.close().await;
}

async fn concurrent_overlapping_submissions_do_not_conflict(harness: Harness) {
    let store = harness.store().await;
    // Different CoRIMs asserting the same trust anchors and reference values,
    // in different orders: no deadlock, no duplicates.
    let tasks: Vec<_> = (0..8u8)
        .map(|n| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut tas: Vec<_> = (0..50u8)
                    .map(|i| ta(&[b't', i], b"impl", &[b'k', n]))
                    .collect();
                let mut rvs: Vec<_> = (0..50u8).map(|i| rv(b"impl", &[b'm', i], None)).collect();
                if n % 2 == 1 {
                    tas.reverse();
                    rvs.reverse();
                }
                store
                    .submit(&submission(&format!("overlap-{n}"), tas, rvs))
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), SubmitOutcome::Stored);
    }
    let stats = store.stats().await.unwrap();
    assert_eq!(
        stats,
        StoreStats {
            corims: 8,
            trust_anchors: 50,
            reference_values: 50,
            reference_value_links: 400
        }
    );
    // Every trust anchor carries the key of one single CoRIM (whole-row replacement).
    let key = store
        .trust_anchor(SCHEME, &[b't', 0])
        .await
        .unwrap()
        .unwrap()
        .key;
    assert_eq!(key.len(), 2);
    assert_eq!(
        store.reference_values(SCHEME, b"impl").await.unwrap().len(),
        50
    );
    store.close().await;
}

async fn large_submission_is_fast(harness: Harness) {
    let store = harness.store().await;
    let submission = bulk_submission("large", 3, 10_000);
    let started = Instant::now();
    assert_eq!(
        store.submit(&submission).await.unwrap(),
        SubmitOutcome::Stored
    );
    let elapsed = started.elapsed();
    eprintln!(
        "{:?}: 10,000 trust anchors + 10,000 reference values stored in {elapsed:?}",
        store.backend()
    );
    // Generous for unoptimised test builds; row-at-a-time round trips would
    // blow it on PostgreSQL, and quadratic work would blow it everywhere.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");

    let started = Instant::now();
    assert_eq!(
        store.submit(&submission).await.unwrap(),
        SubmitOutcome::AlreadyStored
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "resubmission is a single lookup"
    );

    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.trust_anchors, stats.reference_values),
        (10_000, 10_000)
    );
    for probe in [0usize, 4_999, 9_999] {
        let expected = &submission.trust_anchors[probe];
        assert_eq!(
            store
                .trust_anchor(SCHEME, &expected.ta_id)
                .await
                .unwrap()
                .as_ref(),
            Some(expected)
        );
    }
    store.close().await;
}

async fn invalid_submission_stores_nothing(harness: Harness) {
    let store = harness.store().await;
    let oversized = vec![0u8; vouch_store::MAX_ID_LEN + 1];
    let submission = submission(
        "invalid",
        vec![ta(b"fine", b"impl", b"k"), ta(&oversized, b"impl", b"k")],
        vec![],
    );
    assert!(matches!(
        store.submit(&submission).await,
        Err(StoreError::InvalidSubmission(_))
    ));
    assert_eq!(store.stats().await.unwrap(), StoreStats::default());
    assert_eq!(store.trust_anchor(SCHEME, b"fine").await.unwrap(), None);
    store.close().await;
}

/// Ids seen in `Changed` events until `expected` ta_ids have all been seen.
async fn collect_ta_ids(
    receiver: &mut tokio::sync::broadcast::Receiver<StoreChange>,
    expected: &BTreeSet<Vec<u8>>,
    within: Duration,
) -> BTreeSet<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut seen = BTreeSet::new();
    while !expected.is_subset(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        if let StoreChange::Changed { ta_ids, .. } = next_event(receiver, left).await {
            seen.extend(ta_ids);
        }
    }
    seen
}

mod sql_only {
    //! Behaviour only the SQL backends have: pools, migrations, files.

    use std::time::{Duration, Instant};

    use super::common::*;
    use vouch_store::testing::TestSqlite;
    use vouch_store::{
        EndorsementStore, Operation, PgStore, SqliteStore, StoreConfig, StoreError, SubmitOutcome,
    };

    fn exhaustion_config(base: StoreConfig) -> StoreConfig {
        StoreConfig {
            max_connections: 2,
            acquire_timeout: Duration::from_millis(300),
            ..base
        }
    }

    async fn assert_unavailable_then_recovers<S: EndorsementStore>(
        store: &S,
        hold: impl std::future::Future<Output = Vec<Box<dyn Send>>>,
    ) {
        store
            .submit(&submission("x", vec![ta(b"ta-1", b"impl", b"k")], vec![]))
            .await
            .unwrap();
        let held = hold.await;

        let started = Instant::now();
        let error = store.trust_anchor(SCHEME, b"ta-1").await.unwrap_err();
        let waited = started.elapsed();
        assert!(
            matches!(
                error,
                StoreError::Unavailable {
                    operation: Operation::Lookup,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.is_unavailable());
        assert!(
            waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
        let error = store
            .submit(&submission("y", vec![], vec![]))
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            StoreError::Unavailable {
                operation: Operation::Submit,
                ..
            }
        ));
        assert!(matches!(
            store.ping().await,
            Err(StoreError::Unavailable { .. })
        ));

        drop(held);
        assert!(store.trust_anchor(SCHEME, b"ta-1").await.unwrap().is_some());
        store.ping().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_pool_exhaustion_is_unavailable_and_recovers() {
        let db = TestSqlite::new().unwrap();
        let store = SqliteStore::connect(&exhaustion_config(db.config()))
            .await
            .unwrap();
        assert_unavailable_then_recovers(&store, async {
            let mut held: Vec<Box<dyn Send>> = Vec::new();
            for _ in 0..2 {
                held.push(Box::new(store.pool().acquire().await.unwrap()));
            }
            held
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_pool_exhaustion_is_unavailable_and_recovers() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        let store = PgStore::connect(&exhaustion_config(db.config()))
            .await
            .unwrap();
        assert_unavailable_then_recovers(&store, async {
            let mut held: Vec<Box<dyn Send>> = Vec::new();
            for _ in 0..2 {
                held.push(Box::new(store.pool().acquire().await.unwrap()));
            }
            held
        })
        .await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_connections_stay_bounded_under_load() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        let config = StoreConfig {
            max_connections: 3,
            ..db.config()
        };
        let store = std::sync::Arc::new(PgStore::connect(&config).await.unwrap());
        store
            .submit(&bulk_submission("load", 1, 100))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..64u32)
            .map(|i| {
                let store = std::sync::Arc::clone(&store);
                tokio::spawn(async move {
                    let mut ta_id = b"ta".to_vec();
                    ta_id.extend_from_slice(&1u32.to_be_bytes());
                    ta_id.extend_from_slice(&(i % 100).to_be_bytes());
                    for _ in 0..20 {
                        store
                            .trust_anchor(SCHEME, &ta_id)
                            .await
                            .unwrap()
                            .expect("stored");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let (connections,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert!(
            connections <= 3 + 1,
            "{connections} connections: pool (3) + listener (1) at most"
        );
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_sessions_have_a_statement_timeout() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        let config = StoreConfig {
            statement_timeout: Some(Duration::from_millis(1500)),
            ..db.config()
        };
        let store = PgStore::connect(&config).await.unwrap();
        let (timeout,): (String,) = sqlx::query_as("SHOW statement_timeout")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(timeout, "1500ms");
        let (application,): (String,) = sqlx::query_as("SHOW application_name")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(application, "vouch-store");
        // A statement over the limit is cancelled, and that counts as transient.
        let error = sqlx::query("SELECT pg_sleep(3)")
            .execute(store.pool())
            .await
            .unwrap_err();
        assert_eq!(
            error.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("57014"),
            "{error:?}"
        );
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closed_stores_are_unavailable() {
        let db = TestSqlite::new().unwrap();
        let store = vouch_store::connect(&db.config()).await.unwrap();
        store.close().await;
        assert!(matches!(
            store.trust_anchor(SCHEME, b"x").await,
            Err(StoreError::Unavailable {
                operation: Operation::Lookup,
                ..
            })
        ));
        if let Some(Harness::Postgres(db)) = Harness::postgres().await {
            let store = vouch_store::connect(&db.config()).await.unwrap();
            store.close().await;
            assert!(matches!(
                store.ping().await,
                Err(StoreError::Unavailable { .. })
            ));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unreachable_postgres_is_unavailable_at_connect() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = StoreConfig {
            acquire_timeout: Duration::from_millis(500),
            ..StoreConfig::new(format!("postgres://postgres@127.0.0.1:{port}/vouch"))
        };
        let started = Instant::now();
        let error = vouch_store::connect(&config)
            .await
            .err()
            .expect("nothing listens");
        assert!(
            matches!(
                error,
                StoreError::Unavailable {
                    operation: Operation::Connect,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_urls_are_configuration_errors() {
        for url in ["mysql://localhost/vouch", "redis://x", "postgres://[::1"] {
            let error = vouch_store::connect(&StoreConfig::new(url))
                .await
                .err()
                .expect(url);
            assert!(matches!(error, StoreError::Config(_)), "{url}: {error:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_creates_a_fresh_data_directory() {
        let db = TestSqlite::new().unwrap();
        let path = db.dir().join("fresh").join("data").join("vouch.db");
        let config = StoreConfig::new(format!("sqlite:{}", path.display()));
        let store = vouch_store::connect(&config).await.unwrap();
        store
            .submit(&submission("a", vec![ta(b"t", b"i", b"k")], vec![]))
            .await
            .unwrap();
        store.close().await;
        assert!(path.is_file());
        // Data survives a reconnect (and the migration is not re-applied).
        let store = vouch_store::connect(&config).await.unwrap();
        assert!(store.trust_anchor(SCHEME, b"t").await.unwrap().is_some());
        store.close().await;
    }

    async fn migrations_run_once_and_can_be_skipped(config: StoreConfig) {
        let unmigrated = StoreConfig {
            run_migrations: false,
            ..config.clone()
        };
        let store = vouch_store::connect(&unmigrated).await.unwrap();
        let error = store.trust_anchor(SCHEME, b"x").await.unwrap_err();
        assert!(
            matches!(error, StoreError::Lookup(_)),
            "missing tables: {error:?}"
        );
        store.close().await;

        vouch_store::migrate(&config).await.unwrap();
        vouch_store::migrate(&config).await.unwrap();
        let store = vouch_store::connect(&unmigrated).await.unwrap();
        assert_eq!(
            store
                .submit(&submission("m", vec![], vec![]))
                .await
                .unwrap(),
            SubmitOutcome::Stored
        );
        store.close().await;
        // connect() migrating an already migrated database is a no-op.
        let store = vouch_store::connect(&config).await.unwrap();
        assert_eq!(store.stats().await.unwrap().corims, 1);
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_migrations_run_once_and_can_be_skipped() {
        let db = TestSqlite::new().unwrap();
        migrations_run_once_and_can_be_skipped(db.config()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_migrations_run_once_and_can_be_skipped() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        migrations_run_once_and_can_be_skipped(db.config()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_touched_by_a_corim() {
        let db = TestSqlite::new().unwrap();
        let store = SqliteStore::connect(&db.config()).await.unwrap();
        let first = submission(
            "first",
            vec![ta(b"ta-1", b"impl", b"k"), ta(b"ta-2", b"impl", b"k")],
            vec![rv(b"impl", b"m1", None), rv(b"impl", b"m2", None)],
        );
        let second = submission(
            "second",
            vec![ta(b"ta-2", b"impl", b"k2")],
            vec![rv(b"impl", b"m1", None)],
        );
        store.submit(&first).await.unwrap();
        store.submit(&second).await.unwrap();
        let changes = store.keys_touched_by(&first.corim.digest).await.unwrap();
        // ta-2 now belongs to the second CoRIM; the shared RV id appears once.
        assert_eq!(
            changes,
            vec![vouch_store::StoreChange::Changed {
                scheme: SCHEME.into(),
                ta_ids: vec![b"ta-1".to_vec()],
                rv_ids: vec![b"impl".to_vec()],
            }]
        );
        assert!(store.keys_touched_by(&[0; 32]).await.unwrap().is_empty());
    }
}

mod postgres_feed {
    //! The cross-instance change feed over LISTEN/NOTIFY.

    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    use super::collect_ta_ids;
    use super::common::*;
    use vouch_store::{
        EndorsementStore, LISTENER_APPLICATION_NAME, NOTIFY_CHANNEL, PgStore, StoreChange,
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn provisioning_through_one_instance_reaches_the_other() {
        let Some(harness) = Harness::postgres().await else {
            return;
        };
        // Two independent pools and listeners on one database: two processes' worth.
        let provisioning = harness.store().await;
        let verification = harness.store().await;
        let mut remote = verification.subscribe();
        let mut local = provisioning.subscribe();

        let submission = submission(
            "rotate",
            vec![ta(b"ta-1", b"impl", b"k1"), ta(b"ta-2", b"impl", b"k1")],
            vec![rv(b"impl", b"m", None)],
        );
        let started = Instant::now();
        provisioning.submit(&submission).await.unwrap();
        let event = next_event(&mut remote, Duration::from_secs(1)).await;
        let latency = started.elapsed();
        eprintln!("postgres: cross-instance change event {latency:?} after submit began");
        let expected = StoreChange::Changed {
            scheme: SCHEME.into(),
            ta_ids: vec![b"ta-1".to_vec(), b"ta-2".to_vec()],
            rv_ids: vec![b"impl".to_vec()],
        };
        assert_eq!(event, expected);
        assert_eq!(
            next_event(&mut local, Duration::from_secs(1)).await,
            expected
        );

        // The new key is what the other instance now reads.
        let rotated = submission_with_key("rotate-2", b"k2");
        provisioning.submit(&rotated).await.unwrap();
        let want: BTreeSet<Vec<u8>> = [b"ta-1".to_vec()].into();
        collect_ta_ids(&mut remote, &want, Duration::from_secs(1)).await;
        assert_eq!(
            verification
                .trust_anchor(SCHEME, b"ta-1")
                .await
                .unwrap()
                .unwrap()
                .key,
            b"k2"
        );

        provisioning.close().await;
        verification.close().await;
    }

    fn submission_with_key(tag: &str, key: &[u8]) -> vouch_store::Submission {
        submission(tag, vec![ta(b"ta-1", b"impl", key)], vec![])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_commits_are_all_announced() {
        let Some(harness) = Harness::postgres().await else {
            return;
        };
        let writer = harness.store().await;
        let reader = harness.store().await;
        let mut receiver = reader.subscribe();
        let mut expected = BTreeSet::new();
        for n in 0..50u8 {
            let ta_id = vec![b't', n];
            expected.insert(ta_id.clone());
            writer
                .submit(&submission(
                    &format!("many-{n}"),
                    vec![ta(&ta_id, b"i", b"k")],
                    vec![],
                ))
                .await
                .unwrap();
        }
        let seen = collect_ta_ids(&mut receiver, &expected, Duration::from_secs(2)).await;
        assert_eq!(seen, expected);
        writer.close().await;
        reader.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn listener_reconnect_signals_resync() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        let store = PgStore::connect(&db.config()).await.unwrap();
        let mut receiver = store.subscribe();

        let (terminated,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = $1) AS t",
        )
        .bind(LISTENER_APPLICATION_NAME)
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(terminated, 1, "exactly one listener connection");

        let started = Instant::now();
        assert_eq!(
            next_event(&mut receiver, Duration::from_secs(10)).await,
            StoreChange::Resync
        );
        eprintln!(
            "postgres: resync {:?} after the listener was killed",
            started.elapsed()
        );

        // Listening again: new commits are announced.
        store
            .submit(&submission("after", vec![ta(b"ta-9", b"i", b"k")], vec![]))
            .await
            .unwrap();
        let want: BTreeSet<Vec<u8>> = [b"ta-9".to_vec()].into();
        collect_ta_ids(&mut receiver, &want, Duration::from_secs(1)).await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn foreign_notifications_cause_a_resync() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        let store = PgStore::connect(&db.config()).await.unwrap();
        let mut receiver = store.subscribe();
        sqlx::query("SELECT pg_notify($1, 'not a digest')")
            .bind(NOTIFY_CHANNEL)
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(
            next_event(&mut receiver, Duration::from_secs(1)).await,
            StoreChange::Resync
        );
        // A digest of a CoRIM that is not stored announces nothing.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(hex::encode([9u8; 32]))
            .execute(store.pool())
            .await
            .unwrap();
        no_event(&mut receiver, Duration::from_millis(300)).await;
        store.close().await;
    }
}

/// `trust_anchors` finds what `trust_anchor` finds, for every batch length
/// around SQLite's padded list sizes and past the largest (several
/// statements), with repeats, strangers and another scheme's ids mixed in.
async fn batched_lookups_answer_as_single_ones(harness: Harness) {
    let store = harness.store().await;
    let stored: Vec<Vec<u8>> = (0..300u32)
        .map(|i| format!("ta-{i}").into_bytes())
        .collect();
    let submission = submission(
        "batch",
        stored
            .iter()
            .map(|id| ta(id, b"impl-1", &[id.as_slice(), b"-key"].concat()))
            .collect(),
        vec![],
    );
    store.submit(&submission).await.unwrap();
    let mut other = ta(b"ta-1", b"impl-9", b"other-scheme-key");
    other.scheme = "OTHER".to_owned();
    store
        .submit(&common::submission("other", vec![other], vec![]))
        .await
        .unwrap();

    for len in [0usize, 1, 2, 3, 4, 5, 15, 16, 17, 64, 65, 256, 257, 300] {
        // Every third id is a stranger; the batch asks for one id twice.
        let mut ids: Vec<Vec<u8>> = (0..len)
            .map(|i| {
                if i % 3 == 2 {
                    format!("stranger-{i}").into_bytes()
                } else {
                    stored[i].clone()
                }
            })
            .collect();
        if let Some(first) = ids.first().cloned() {
            ids.push(first);
        }
        let mut expected = Vec::new();
        for id in ids.iter().collect::<BTreeSet<_>>() {
            if let Some(record) = store.trust_anchor(SCHEME, id).await.unwrap() {
                expected.push(record);
            }
        }
        let mut found = store.trust_anchors(SCHEME, &ids).await.unwrap();
        found.sort_by(|a, b| a.ta_id.cmp(&b.ta_id));
        found.dedup();
        expected.sort_by(|a, b| a.ta_id.cmp(&b.ta_id));
        assert_eq!(found, expected, "batch of {len}");
        assert!(
            found
                .iter()
                .all(|r| r.scheme == SCHEME && r.rv_id == b"impl-1")
        );
    }
    store.close().await;
}
