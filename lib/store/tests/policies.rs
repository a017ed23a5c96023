//! Appraisal policies, run against the memory, SQLite and PostgreSQL backends.

// The shared cases are plain async fns called by generated #[test]s, which
// clippy's allow-unwrap-in-tests does not see; a panic here is a failed test.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tokio::sync::broadcast::error::RecvError;
use vouch_store::{
    AddPolicyOutcome, EndorsementStore, MemoryStore, NewPolicy, PolicyRecord, StoreChange,
    StoreConfig, StoreError,
};

suite!(
    add_then_look_up,
    add_is_idempotent_on_scheme_name_and_rules,
    activation_switches_the_one_active_policy,
    unknown_schemes_and_ids_find_nothing,
    lists_are_ordered_by_a_store_wide_version,
    change_feed_announces_switches_that_change_something,
    concurrent_activations_leave_exactly_one_active,
    concurrent_identical_adds_store_once,
    invalid_policies_store_nothing,
    lagging_subscribers_still_see_lagged,
    endorsement_events_are_unchanged,
);

const RULES_A: &str = "package policy\n\ndefault allow := true\n";
const RULES_B: &str = "package policy\n\ndefault allow := false\n";

fn stored(outcome: AddPolicyOutcome) -> PolicyRecord {
    match outcome {
        AddPolicyOutcome::Stored(record) => record,
        AddPolicyOutcome::AlreadyStored(record) => panic!("expected a new policy, got {record:?}"),
    }
}

async fn add(store: &Arc<dyn EndorsementStore>, policy: &NewPolicy) -> PolicyRecord {
    stored(store.policy_store().add_policy(policy).await.unwrap())
}

async fn add_then_look_up(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    let policy = new_policy(1, "default", RULES_A);
    let record = add(&store, &policy).await;
    assert_eq!(record.id, policy.id);
    assert_eq!(record.scheme, SCHEME);
    assert_eq!(record.name, "default");
    assert_eq!(record.rules, RULES_A);
    assert_eq!(record.created_at_us, policy.created_at_us);
    assert!(!record.active, "new policies start inactive");

    assert_eq!(
        policies.policy(SCHEME, &policy.id).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        policies.policies(SCHEME).await.unwrap(),
        vec![record.clone()]
    );
    assert_eq!(policies.active_policy(SCHEME).await.unwrap(), None);

    // Large rules (up to the limit) round-trip unchanged.
    let big = "# ".repeat(vouch_store::MAX_POLICY_RULES_LEN / 2);
    let big_record = add(&store, &new_policy(2, "big", &big)).await;
    assert_eq!(
        policies
            .policy(SCHEME, &[2; 16])
            .await
            .unwrap()
            .unwrap()
            .rules,
        big
    );
    assert_eq!(big_record.rules.len(), vouch_store::MAX_POLICY_RULES_LEN);
    store.close().await;
}

async fn add_is_idempotent_on_scheme_name_and_rules(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    let first = add(&store, &new_policy(1, "default", RULES_A)).await;

    // A retry (same id) and a second create (new id, new time) of the same
    // content both return the stored policy and store nothing.
    for retry in [
        new_policy(1, "default", RULES_A),
        new_policy(9, "default", RULES_A),
    ] {
        assert_eq!(
            policies.add_policy(&retry).await.unwrap(),
            AddPolicyOutcome::AlreadyStored(first.clone())
        );
    }
    // Idempotency survives activation: the returned record is the current one.
    policies.activate_policy(SCHEME, &first.id).await.unwrap();
    let again = policies
        .add_policy(&new_policy(3, "default", RULES_A))
        .await
        .unwrap();
    assert_eq!(
        again,
        AddPolicyOutcome::AlreadyStored(PolicyRecord {
            active: true,
            ..first.clone()
        })
    );
    assert_eq!(policies.policies(SCHEME).await.unwrap().len(), 1);

    // Other rules, or another name, are other policies.
    let other_rules = add(&store, &new_policy(2, "default", RULES_B)).await;
    let other_name = add(&store, &new_policy(4, "strict", RULES_A)).await;
    assert!(other_rules.version > first.version);
    assert!(other_name.version > other_rules.version);

    // An id taken by a different policy of the scheme is refused.
    let error = policies
        .add_policy(&new_policy(1, "another", RULES_B))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::InvalidSubmission(m) if m.contains("already used")),
        "{error:?}"
    );
    assert_eq!(policies.policies(SCHEME).await.unwrap().len(), 3);

    // Schemes are separate namespaces: the same content and id elsewhere is new.
    let elsewhere = add(
        &store,
        &NewPolicy {
            scheme: "CCA_SSD_PLATFORM".into(),
            ..new_policy(1, "default", RULES_A)
        },
    )
    .await;
    assert_eq!(elsewhere.scheme, "CCA_SSD_PLATFORM");
    assert_eq!(
        policies
            .policy(SCHEME, &[1; 16])
            .await
            .unwrap()
            .unwrap()
            .scheme,
        SCHEME
    );
    store.close().await;
}

async fn activation_switches_the_one_active_policy(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    let one = add(&store, &new_policy(1, "one", RULES_A)).await;
    let two = add(&store, &new_policy(2, "two", RULES_B)).await;

    assert!(policies.activate_policy(SCHEME, &one.id).await.unwrap());
    let active = policies.active_policy(SCHEME).await.unwrap().unwrap();
    assert_eq!(
        active,
        PolicyRecord {
            active: true,
            ..one.clone()
        }
    );

    assert!(policies.activate_policy(SCHEME, &two.id).await.unwrap());
    assert_eq!(
        policies.active_policy(SCHEME).await.unwrap().unwrap().id,
        two.id
    );
    let flags: Vec<bool> = policies
        .policies(SCHEME)
        .await
        .unwrap()
        .iter()
        .map(|p| p.active)
        .collect();
    assert_eq!(flags, vec![false, true], "the other one was deactivated");
    assert!(
        !policies
            .policy(SCHEME, &one.id)
            .await
            .unwrap()
            .unwrap()
            .active,
        "lookup by id sees the flag too"
    );

    // Activating the active one succeeds and changes nothing.
    assert!(policies.activate_policy(SCHEME, &two.id).await.unwrap());
    assert_eq!(
        policies.active_policy(SCHEME).await.unwrap().unwrap().id,
        two.id
    );

    // An unknown id of a known scheme: Ok(false), the active one stays.
    assert!(!policies.activate_policy(SCHEME, &[7; 16]).await.unwrap());
    assert_eq!(
        policies.active_policy(SCHEME).await.unwrap().unwrap().id,
        two.id
    );

    assert!(policies.deactivate_policies(SCHEME).await.unwrap());
    assert_eq!(policies.active_policy(SCHEME).await.unwrap(), None);
    assert!(
        policies
            .policies(SCHEME)
            .await
            .unwrap()
            .iter()
            .all(|p| !p.active)
    );
    // Nothing active is still a scheme with policies.
    assert!(policies.deactivate_policies(SCHEME).await.unwrap());

    // Reactivation after deactivation works.
    assert!(policies.activate_policy(SCHEME, &one.id).await.unwrap());
    assert_eq!(
        policies.active_policy(SCHEME).await.unwrap().unwrap().id,
        one.id
    );
    store.close().await;
}

async fn unknown_schemes_and_ids_find_nothing(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    add(&store, &new_policy(1, "one", RULES_A)).await;
    policies.activate_policy(SCHEME, &[1; 16]).await.unwrap();

    assert_eq!(policies.policy(SCHEME, &[2; 16]).await.unwrap(), None);
    assert_eq!(policies.policy("NOPE", &[1; 16]).await.unwrap(), None);
    assert_eq!(policies.active_policy("NOPE").await.unwrap(), None);
    assert!(policies.policies("NOPE").await.unwrap().is_empty());
    // A policy of one scheme cannot be activated through another.
    assert!(!policies.activate_policy("NOPE", &[1; 16]).await.unwrap());
    assert!(!policies.deactivate_policies("NOPE").await.unwrap());
    assert_eq!(policies.active_policy("NOPE").await.unwrap(), None);
    assert_eq!(
        policies.active_policy(SCHEME).await.unwrap().unwrap().id,
        [1; 16],
        "the other scheme is untouched"
    );
    store.close().await;
}

async fn lists_are_ordered_by_a_store_wide_version(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    let mut versions = Vec::new();
    let mut ids = Vec::new();
    // Ids deliberately out of order: the list follows the version, not the id.
    for (n, id) in [5u8, 3, 9, 1, 7].into_iter().enumerate() {
        let record = add(&store, &new_policy(id, &format!("p{n}"), RULES_A)).await;
        versions.push(record.version);
        ids.push(record.id);
        // Interleave another scheme: the sequence is shared by the store.
        let other = add(
            &store,
            &NewPolicy {
                scheme: "OTHER".into(),
                ..new_policy(id, &format!("p{n}"), RULES_A)
            },
        )
        .await;
        assert!(other.version > record.version);
        versions.push(other.version);
    }
    assert!(
        versions.windows(2).all(|pair| pair[0] < pair[1]),
        "{versions:?}"
    );
    let listed = policies.policies(SCHEME).await.unwrap();
    assert_eq!(listed.iter().map(|p| p.id).collect::<Vec<_>>(), ids);
    assert!(
        listed
            .windows(2)
            .all(|pair| pair[0].version < pair[1].version)
    );
    // Activation does not reorder.
    policies.activate_policy(SCHEME, &[9; 16]).await.unwrap();
    let relisted = policies.policies(SCHEME).await.unwrap();
    assert_eq!(relisted.iter().map(|p| p.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        relisted.iter().map(|p| p.version).collect::<Vec<_>>(),
        listed.iter().map(|p| p.version).collect::<Vec<_>>()
    );
    store.close().await;
}

async fn change_feed_announces_switches_that_change_something(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    let mut receiver = store.subscribe();
    let expected = StoreChange::Policies {
        scheme: SCHEME.into(),
    };

    // New policies start inactive: nothing to announce.
    add(&store, &new_policy(1, "one", RULES_A)).await;
    add(&store, &new_policy(2, "two", RULES_B)).await;
    no_event(&mut receiver, Duration::from_millis(200)).await;

    policies.activate_policy(SCHEME, &[1; 16]).await.unwrap();
    assert_eq!(
        next_event(&mut receiver, Duration::from_secs(2)).await,
        expected
    );
    policies.activate_policy(SCHEME, &[2; 16]).await.unwrap();
    assert_eq!(
        next_event(&mut receiver, Duration::from_secs(2)).await,
        expected
    );
    // Nothing changes, nothing is announced.
    policies.activate_policy(SCHEME, &[2; 16]).await.unwrap();
    policies.activate_policy(SCHEME, &[8; 16]).await.unwrap();
    policies.activate_policy("NOPE", &[1; 16]).await.unwrap();
    policies.deactivate_policies("NOPE").await.unwrap();
    no_event(&mut receiver, Duration::from_millis(300)).await;

    policies.deactivate_policies(SCHEME).await.unwrap();
    assert_eq!(
        next_event(&mut receiver, Duration::from_secs(2)).await,
        expected
    );
    policies.deactivate_policies(SCHEME).await.unwrap();
    // The event names its scheme, and each commit is announced once.
    policies
        .add_policy(&NewPolicy {
            scheme: "PSA:IOT v2".into(),
            ..new_policy(3, "three", RULES_A)
        })
        .await
        .unwrap();
    policies
        .activate_policy("PSA:IOT v2", &[3; 16])
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut receiver, Duration::from_secs(2)).await,
        StoreChange::Policies {
            scheme: "PSA:IOT v2".into()
        }
    );
    no_event(&mut receiver, Duration::from_millis(300)).await;
    store.close().await;
}

async fn concurrent_activations_leave_exactly_one_active(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    const N: u8 = 8;
    for id in 0..N {
        add(&store, &new_policy(id, &format!("p{id}"), RULES_A)).await;
    }
    for round in 0..5 {
        let tasks: Vec<_> = (0..N)
            .map(|id| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let policies = store.policy_store();
                    // One task per round deactivates instead, mixing both
                    // kinds of switch.
                    if round % 2 == 1 && id == round {
                        policies.deactivate_policies(SCHEME).await
                    } else {
                        policies.activate_policy(SCHEME, &[id; 16]).await
                    }
                })
            })
            .collect();
        for task in tasks {
            assert!(
                task.await.unwrap().expect("no switch fails"),
                "round {round}"
            );
        }
        let listed = policies.policies(SCHEME).await.unwrap();
        let active: Vec<_> = listed.iter().filter(|p| p.active).collect();
        let found = policies.active_policy(SCHEME).await.unwrap();
        // A deactivation that ran last leaves none active; never more than one.
        assert!(active.len() <= 1, "round {round}: {active:?}");
        assert_eq!(found.as_ref(), active.first().copied(), "round {round}");
        if round % 2 == 0 {
            assert_eq!(active.len(), 1, "round {round}: exactly one ends active");
        }
    }
    store.close().await;
}

async fn concurrent_identical_adds_store_once(harness: Harness) {
    let store = harness.store().await;
    // The same content under different ids and times: one row, and every
    // caller gets that row back.
    let tasks: Vec<_> = (0..8u8)
        .map(|id| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .policy_store()
                    .add_policy(&new_policy(id, "default", RULES_A))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap().expect("no add fails"));
    }
    let stored: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, AddPolicyOutcome::Stored(_)))
        .collect();
    assert_eq!(stored.len(), 1, "{outcomes:?}");
    let record = stored[0].record().clone();
    assert!(
        outcomes.iter().all(|o| *o.record() == record),
        "{outcomes:?}"
    );
    assert_eq!(
        store.policy_store().policies(SCHEME).await.unwrap(),
        vec![record]
    );
    store.close().await;
}

async fn invalid_policies_store_nothing(harness: Harness) {
    let store = harness.store().await;
    let policies = store.policy_store();
    let cases = [
        new_policy(1, "", RULES_A),
        new_policy(
            1,
            &"n".repeat(vouch_store::MAX_POLICY_NAME_CHARS + 1),
            RULES_A,
        ),
        new_policy(1, "empty", ""),
        new_policy(
            1,
            "huge",
            &"x".repeat(vouch_store::MAX_POLICY_RULES_LEN + 1),
        ),
        NewPolicy {
            scheme: String::new(),
            ..new_policy(1, "no scheme", RULES_A)
        },
        NewPolicy {
            scheme: "S".repeat(vouch_store::MAX_SCHEME_LEN + 1),
            ..new_policy(1, "long scheme", RULES_A)
        },
    ];
    for case in &cases {
        let error = policies.add_policy(case).await.unwrap_err();
        assert!(
            matches!(error, StoreError::InvalidSubmission(_)),
            "{}: {error:?}",
            case.name
        );
    }
    assert!(policies.policies(SCHEME).await.unwrap().is_empty());
    assert!(policies.policies("").await.unwrap().is_empty());
    store.close().await;
}

async fn lagging_subscribers_still_see_lagged(harness: Harness) {
    let store: Arc<dyn EndorsementStore> = match &harness {
        Harness::Memory(_) => Arc::new(MemoryStore::with_feed_capacity(2)),
        _ => {
            harness
                .store_with(StoreConfig {
                    change_feed_capacity: 2,
                    ..harness.config()
                })
                .await
        }
    };
    let policies = store.policy_store();
    let mut receiver = store.subscribe();
    add(&store, &new_policy(1, "one", RULES_A)).await;
    add(&store, &new_policy(2, "two", RULES_B)).await;
    for round in 0..6u8 {
        policies
            .activate_policy(SCHEME, &[1 + round % 2; 16])
            .await
            .unwrap();
    }
    // PostgreSQL delivers through the listener, a little later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    match receiver.recv().await {
        Err(RecvError::Lagged(missed)) => assert_eq!(missed, 4),
        other => panic!("expected Lagged, got {other:?}"),
    }
    // The newest events are still there after the lag.
    let expected = StoreChange::Policies {
        scheme: SCHEME.into(),
    };
    for _ in 0..2 {
        assert_eq!(
            next_event(&mut receiver, Duration::from_secs(1)).await,
            expected
        );
    }
    store.close().await;
}

async fn endorsement_events_are_unchanged(harness: Harness) {
    let store = harness.store().await;
    let mut receiver = store.subscribe();
    add(&store, &new_policy(1, "one", RULES_A)).await;
    store
        .policy_store()
        .activate_policy(SCHEME, &[1; 16])
        .await
        .unwrap();
    store
        .submit(&submission("mixed", vec![ta(b"ta", b"impl", b"k")], vec![]))
        .await
        .unwrap();
    // Commit order is event order, on one feed.
    assert_eq!(
        next_event(&mut receiver, Duration::from_secs(2)).await,
        StoreChange::Policies {
            scheme: SCHEME.into()
        }
    );
    assert_eq!(
        next_event(&mut receiver, Duration::from_secs(2)).await,
        StoreChange::Changed {
            scheme: SCHEME.into(),
            ta_ids: vec![b"ta".to_vec()],
            rv_ids: vec![],
        }
    );
    store.close().await;
}

mod postgres_feed {
    //! Policy switches reach every instance over LISTEN/NOTIFY.

    use std::time::{Duration, Instant};

    use super::common::*;
    use super::{RULES_A, RULES_B, add};
    use vouch_store::{
        EndorsementStore, NOTIFY_CHANNEL, POLICIES_NOTIFY_PREFIX, PgStore, StoreChange,
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_switch_through_one_instance_reaches_the_other() {
        let Some(harness) = Harness::postgres().await else {
            return;
        };
        // Two independent pools and listeners on one database: two processes' worth.
        let management = harness.store().await;
        let trust = harness.store().await;
        let mut remote = trust.subscribe();
        let mut local = management.subscribe();
        let expected = StoreChange::Policies {
            scheme: SCHEME.into(),
        };

        add(&management, &new_policy(1, "one", RULES_A)).await;
        add(&management, &new_policy(2, "two", RULES_B)).await;
        let started = Instant::now();
        assert!(
            management
                .policy_store()
                .activate_policy(SCHEME, &[2; 16])
                .await
                .unwrap()
        );
        assert_eq!(
            next_event(&mut remote, Duration::from_secs(2)).await,
            expected
        );
        eprintln!(
            "postgres: cross-instance policy event {:?} after activate began",
            started.elapsed()
        );
        // The local instance hears it through its own listener, once.
        assert_eq!(
            next_event(&mut local, Duration::from_secs(2)).await,
            expected
        );
        // What the other instance now reads is the new active policy.
        assert_eq!(
            trust
                .policy_store()
                .active_policy(SCHEME)
                .await
                .unwrap()
                .unwrap()
                .id,
            [2; 16]
        );

        management
            .policy_store()
            .deactivate_policies(SCHEME)
            .await
            .unwrap();
        assert_eq!(
            next_event(&mut remote, Duration::from_secs(2)).await,
            expected
        );
        assert_eq!(
            trust.policy_store().active_policy(SCHEME).await.unwrap(),
            None
        );
        assert_eq!(
            next_event(&mut local, Duration::from_secs(2)).await,
            expected
        );
        no_event(&mut local, Duration::from_millis(300)).await;
        no_event(&mut remote, Duration::from_millis(100)).await;
        management.close().await;
        trust.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_activations_from_two_instances_leave_one_active() {
        let Some(harness) = Harness::postgres().await else {
            return;
        };
        let first = harness.store().await;
        let second = harness.store().await;
        for id in 0..6u8 {
            add(&first, &new_policy(id, &format!("p{id}"), RULES_A)).await;
        }
        for _ in 0..5 {
            let tasks: Vec<_> = (0..6u8)
                .map(|id| {
                    let store = if id % 2 == 0 {
                        first.clone()
                    } else {
                        second.clone()
                    };
                    tokio::spawn(async move {
                        store
                            .policy_store()
                            .activate_policy(SCHEME, &[id; 16])
                            .await
                    })
                })
                .collect();
            for task in tasks {
                assert!(task.await.unwrap().unwrap());
            }
            let active = second
                .policy_store()
                .policies(SCHEME)
                .await
                .unwrap()
                .into_iter()
                .filter(|p| p.active)
                .count();
            assert_eq!(active, 1);
        }
        first.close().await;
        second.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn policy_payloads_are_parsed_and_bad_ones_resync() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        let store = PgStore::connect(&db.config()).await.unwrap();
        let mut receiver = store.subscribe();
        let notify = |payload: String| {
            let pool = store.pool().clone();
            async move {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(NOTIFY_CHANNEL)
                    .bind(payload)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
        };
        // The scheme is everything after the prefix, colons included.
        notify(format!("{POLICIES_NOTIFY_PREFIX}A:B")).await;
        assert_eq!(
            next_event(&mut receiver, Duration::from_secs(1)).await,
            StoreChange::Policies {
                scheme: "A:B".into()
            }
        );
        notify(POLICIES_NOTIFY_PREFIX.to_owned()).await;
        assert_eq!(
            next_event(&mut receiver, Duration::from_secs(1)).await,
            StoreChange::Resync
        );
        // Payloads of a future version that this one does not know: resync.
        notify("templates:PSA_IOT".to_owned()).await;
        assert_eq!(
            next_event(&mut receiver, Duration::from_secs(1)).await,
            StoreChange::Resync
        );
        store.close().await;
    }
}

mod upgrade {
    //! A database migrated before policies existed gains them on connect.

    use super::common::*;
    use super::{RULES_A, add};
    use vouch_store::testing::TestSqlite;
    use vouch_store::{Operation, StoreConfig, StoreError};

    /// Rolls the database back to schema version 1 (as an older release left
    /// it), checks that the policy store then fails cleanly, and reconnects.
    async fn upgrade_from_version_1(config: StoreConfig, rollback: &'static str) {
        let store = vouch_store::connect(&config).await.unwrap();
        store
            .submit(&submission("old", vec![ta(b"ta", b"impl", b"k")], vec![]))
            .await
            .unwrap();
        store.close().await;

        let unmigrated = StoreConfig {
            run_migrations: false,
            ..config.clone()
        };
        let store = vouch_store::connect(&unmigrated).await.unwrap();
        raw(&config, rollback).await;
        let error = store.policy_store().policies(SCHEME).await.unwrap_err();
        assert!(
            matches!(
                error,
                StoreError::Policy {
                    operation: Operation::PolicyLookup,
                    ..
                }
            ),
            "missing table: {error:?}"
        );
        store.close().await;

        let store = vouch_store::connect(&config).await.unwrap();
        let record = add(&store, &new_policy(1, "after upgrade", RULES_A)).await;
        assert!(
            store
                .policy_store()
                .activate_policy(SCHEME, &record.id)
                .await
                .unwrap()
        );
        // The endorsements stored before the upgrade are still there.
        assert!(store.trust_anchor(SCHEME, b"ta").await.unwrap().is_some());
        store.close().await;
    }

    async fn raw(config: &StoreConfig, sql: &'static str) {
        if config.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&config.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&config.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }

    const ROLLBACK: &str = "DROP TABLE policies; DROP TABLE attesters; DROP TABLE fleet_counts; \
         DROP TABLE fleet_history; DROP TABLE fleet_meta; \
         DELETE FROM vouch_store_migrations WHERE version >= 2";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_databases_from_before_policies_are_upgraded() {
        let db = TestSqlite::new().unwrap();
        upgrade_from_version_1(db.config(), ROLLBACK).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_databases_from_before_policies_are_upgraded() {
        let Some(Harness::Postgres(db)) = Harness::postgres().await else {
            return;
        };
        upgrade_from_version_1(db.config(), ROLLBACK).await;
    }
}
