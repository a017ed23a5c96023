//! The hot-path queries use indexes: `EXPLAIN QUERY PLAN` (SQLite) and
//! `EXPLAIN` (PostgreSQL) after filling the tables with 100,000 trust
//! anchors, 100,000 reference values and 100,000 CoRIM links, so that the
//! planner's choice is meaningful. The plans are printed (run with
//! `--nocapture`); `docs/store-explain.md` records them. The policy lookups
//! are planned the same way over 5,000 policies of 200 schemes.

// The shared cases are plain async fns called by generated #[test]s, which
// clippy's allow-unwrap-in-tests does not see; a panic here is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use sqlx::AssertSqlSafe;
use vouch_store::sql::{
    ACTIVE_POLICY_LOOKUP, KEYS_TOUCHED_BY_CORIM, LOCK_POLICIES_POSTGRES, LOCK_POLICIES_SQLITE,
    POLICIES_LIST, POLICY_BY_CONTENT, POLICY_LOOKUP, REFERENCE_VALUES_LOOKUP, TRUST_ANCHOR_LOOKUP,
};
use vouch_store::testing::{TestPostgres, TestSqlite};
use vouch_store::{EndorsementStore, NewPolicy, PgStore, SqliteStore, StoreStats};

const CORIMS: u32 = 10;
const PER_CORIM: u32 = 10_000;

/// Fills the store; returns the probe keys (a trust anchor, a reference
/// value id and a CoRIM digest from the middle of the data).
async fn fill(store: &dyn EndorsementStore) -> (Vec<u8>, Vec<u8>, [u8; 32]) {
    let mut probe = None;
    for seed in 0..CORIMS {
        let submission = bulk_submission(&format!("fill-{seed}"), seed, PER_CORIM);
        store.submit(&submission).await.unwrap();
        if seed == CORIMS / 2 {
            let middle = (PER_CORIM / 2) as usize;
            probe = Some((
                submission.trust_anchors[middle].ta_id.clone(),
                submission.reference_values[middle].rv_id.clone(),
                submission.corim.digest,
            ));
        }
    }
    let stats = store.stats().await.unwrap();
    let rows = u64::from(CORIMS * PER_CORIM);
    assert_eq!(
        stats,
        StoreStats {
            corims: u64::from(CORIMS),
            trust_anchors: rows,
            reference_values: rows,
            reference_value_links: rows
        }
    );
    eprintln!("row counts: {stats:?}");
    probe.unwrap()
}

/// The queries under test, with a human name and the index each must use.
fn queries() -> [(&'static str, &'static str, &'static str, &'static str); 3] {
    [
        (
            "trust_anchor",
            TRUST_ANCHOR_LOOKUP,
            "sqlite_autoindex_trust_anchors_1",
            "trust_anchors_pkey",
        ),
        (
            "reference_values",
            REFERENCE_VALUES_LOOKUP,
            "sqlite_autoindex_reference_values_1",
            "reference_values_pkey",
        ),
        (
            "keys_touched_by_corim",
            KEYS_TOUCHED_BY_CORIM,
            "trust_anchors_by_corim",
            "trust_anchors_by_corim",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_hot_paths_use_indexes() {
    let db = TestSqlite::new().unwrap();
    let store = SqliteStore::connect(&db.config()).await.unwrap();
    let (ta_id, rv_id, digest) = fill(&store).await;
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();

    for (name, sql, index, _) in queries() {
        let query = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {sql}"
        )));
        let query = match name {
            "trust_anchor" => query.bind(SCHEME).bind(ta_id.clone()),
            "reference_values" => query.bind(SCHEME).bind(rv_id.clone()),
            _ => query.bind(digest.to_vec()),
        };
        let plan: Vec<String> = query
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.3)
            .collect();
        eprintln!("SQLite plan for {name}:\n  {}\n", plan.join("\n  "));

        assert!(
            plan.iter().any(|line| line.contains(index)),
            "{name} must use {index}: {plan:?}"
        );
        for line in &plan {
            assert!(!line.starts_with("SCAN "), "{name} scans a table: {plan:?}");
            assert!(!line.contains("TEMP B-TREE"), "{name} sorts: {plan:?}");
            if line.starts_with("SEARCH ") {
                assert!(
                    line.contains(" USING "),
                    "{name} searches without an index: {plan:?}"
                );
            }
        }
        if name == "keys_touched_by_corim" {
            assert!(
                plan.iter()
                    .any(|line| line.contains("sqlite_autoindex_corim_reference_values_1")),
                "links must be found through their primary key: {plan:?}"
            );
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_hot_paths_use_indexes() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    let store = PgStore::connect(&db.config()).await.unwrap();
    let (ta_id, rv_id, digest) = fill(&store).await;
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();

    // Custom plans: what a query gets when planned with its parameter values.
    for (name, sql, _, index) in queries() {
        for explain in ["EXPLAIN", "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)"] {
            let query = sqlx::query_as::<_, (String,)>(AssertSqlSafe(format!("{explain} {sql}")));
            let query = match name {
                "trust_anchor" => query.bind(SCHEME).bind(ta_id.clone()),
                "reference_values" => query.bind(SCHEME).bind(rv_id.clone()),
                _ => query.bind(digest.to_vec()),
            };
            let plan: Vec<String> = query
                .fetch_all(store.pool())
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.0)
                .collect();
            check_pg_plan(&format!("custom plan, `{explain}`"), name, index, &plan);
        }
    }

    // Generic plans: what a cached prepared statement may switch to after a
    // few executions, planned without parameter values.
    let mut connection = store.pool().acquire().await.unwrap();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *connection)
        .await
        .unwrap();
    for (name, sql, _, index) in queries() {
        let arguments = match name {
            "trust_anchor" => format!("'{SCHEME}', '\\x{}'", hex::encode(&ta_id)),
            "reference_values" => format!("'{SCHEME}', '\\x{}'", hex::encode(&rv_id)),
            _ => format!("'\\x{}'", hex::encode(digest)),
        };
        // Test-only SQL from constants and hex digits.
        sqlx::raw_sql(AssertSqlSafe(format!("PREPARE probe_{name} AS {sql}")))
            .execute(&mut *connection)
            .await
            .unwrap();
        let plan: Vec<String> = sqlx::query_as::<_, (String,)>(AssertSqlSafe(format!(
            "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) EXECUTE probe_{name}({arguments})"
        )))
        .fetch_all(&mut *connection)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.0)
        .collect();
        check_pg_plan("generic plan", name, index, &plan);
        assert!(
            plan.join("\n").contains("$1"),
            "a generic plan shows its parameters: {plan:?}"
        );
    }
    drop(connection);
    store.close().await;
}

fn check_pg_plan(kind: &str, name: &str, index: &str, plan: &[String]) {
    let text = plan.join("\n");
    eprintln!("PostgreSQL {kind} for {name}:\n{text}\n");
    assert!(text.contains(index), "{name} must use {index}: {text}");
    assert!(!text.contains("Seq Scan"), "{name} scans a table: {text}");
    assert!(!text.contains("Sort"), "{name} sorts: {text}");
    if name == "keys_touched_by_corim" {
        assert!(text.contains("corim_reference_values_pkey"), "{text}");
    }
}

const POLICY_SCHEMES: u32 = 200;
const POLICIES_PER_SCHEME: u32 = 25;

fn policy_scheme(n: u32) -> String {
    format!("SCHEME_{n:03}")
}

/// Stores `POLICY_SCHEMES × POLICIES_PER_SCHEME` policies through the store,
/// one active per scheme; returns the probe (a scheme, one of its ids, that
/// policy's name and rules digest).
async fn fill_policies(store: &Arc<dyn EndorsementStore>) -> (String, [u8; 16], String, [u8; 32]) {
    let tasks: Vec<_> = (0..4u32)
        .map(|worker| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                for n in (0..POLICY_SCHEMES).filter(|n| n % 4 == worker) {
                    let scheme = policy_scheme(n);
                    for p in 0..POLICIES_PER_SCHEME {
                        let mut id = [0u8; 16];
                        id[..4].copy_from_slice(&n.to_be_bytes());
                        id[4..8].copy_from_slice(&p.to_be_bytes());
                        let policy = NewPolicy {
                            id,
                            scheme: scheme.clone(),
                            name: format!("policy-{p}"),
                            rules: format!("package policy\n# {n} {p}\n{}", "x := 1\n".repeat(30)),
                            created_at_us: i64::from(p),
                        };
                        store.policy_store().add_policy(&policy).await.unwrap();
                    }
                    let mut active = [0u8; 16];
                    active[..4].copy_from_slice(&n.to_be_bytes());
                    active[4..8].copy_from_slice(&(POLICIES_PER_SCHEME / 2).to_be_bytes());
                    assert!(
                        store
                            .policy_store()
                            .activate_policy(&scheme, &active)
                            .await
                            .unwrap()
                    );
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let scheme = policy_scheme(POLICY_SCHEMES / 2);
    let record = store
        .policy_store()
        .active_policy(&scheme)
        .await
        .unwrap()
        .unwrap();
    let digest = digest(record.rules.as_bytes());
    (scheme, record.id, record.name, digest)
}

/// The policy queries, with the index each must use (the same name on both
/// backends: all are secondary indexes).
fn policy_queries() -> [(&'static str, &'static str, &'static str); 5] {
    [
        ("policy", POLICY_LOOKUP, "policies_by_id"),
        ("active_policy", ACTIVE_POLICY_LOOKUP, "policies_active"),
        ("policies", POLICIES_LIST, "policies_by_version"),
        (
            "policy_by_content",
            POLICY_BY_CONTENT,
            "policies_by_content",
        ),
        ("lock_policies", "", "policies_by_version"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_policy_lookups_use_indexes() {
    let db = TestSqlite::new().unwrap();
    let sqlite = SqliteStore::connect(&db.config()).await.unwrap();
    let pool = sqlite.pool().clone();
    let store: Arc<dyn EndorsementStore> = Arc::new(sqlite);
    let (scheme, id, name, rules_digest) = fill_policies(&store).await;
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();

    for (name_of_query, sql, index) in policy_queries() {
        let sql = if sql.is_empty() {
            LOCK_POLICIES_SQLITE
        } else {
            sql
        };
        let query = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {sql}"
        )))
        .bind(scheme.clone());
        let query = match name_of_query {
            "policy" => query.bind(id.to_vec()),
            "policy_by_content" => query.bind(name.clone()).bind(rules_digest.to_vec()),
            _ => query,
        };
        let plan: Vec<String> = query
            .fetch_all(&pool)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.3)
            .collect();
        eprintln!(
            "SQLite plan for {name_of_query}:\n  {}\n",
            plan.join("\n  ")
        );
        assert!(
            plan.iter().any(|line| line.contains(index)),
            "{name_of_query} must use {index}: {plan:?}"
        );
        for line in &plan {
            assert!(
                !line.starts_with("SCAN "),
                "{name_of_query} scans a table: {plan:?}"
            );
            assert!(
                !line.contains("TEMP B-TREE"),
                "{name_of_query} sorts: {plan:?}"
            );
        }
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_policy_lookups_use_indexes() {
    let Some(db) = TestPostgres::create().await else {
        return;
    };
    let pg = PgStore::connect(&db.config()).await.unwrap();
    let pool = pg.pool().clone();
    let store: Arc<dyn EndorsementStore> = Arc::new(pg);
    let (scheme, id, name, rules_digest) = fill_policies(&store).await;
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();

    for (name_of_query, sql, index) in policy_queries() {
        let sql = if sql.is_empty() {
            LOCK_POLICIES_POSTGRES
        } else {
            sql
        };
        // Custom plans, with the parameter values.
        for explain in ["EXPLAIN", "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)"] {
            let query = sqlx::query_as::<_, (String,)>(AssertSqlSafe(format!("{explain} {sql}")))
                .bind(scheme.clone());
            let query = match name_of_query {
                "policy" => query.bind(id.to_vec()),
                "policy_by_content" => query.bind(name.clone()).bind(rules_digest.to_vec()),
                _ => query,
            };
            let plan: Vec<String> = query
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.0)
                .collect();
            check_pg_plan(
                &format!("custom plan, `{explain}`"),
                name_of_query,
                index,
                &plan,
            );
        }
        // Generic plans, as a cached prepared statement may use.
        let mut connection = pool.acquire().await.unwrap();
        sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
            .execute(&mut *connection)
            .await
            .unwrap();
        let arguments = match name_of_query {
            "policy" => format!("'{scheme}', '\\x{}'", hex::encode(id)),
            "policy_by_content" => {
                format!("'{scheme}', '{name}', '\\x{}'", hex::encode(rules_digest))
            }
            _ => format!("'{scheme}'"),
        };
        // Test-only SQL from constants, generated names and hex digits.
        sqlx::raw_sql(AssertSqlSafe(format!(
            "PREPARE probe_{name_of_query} AS {sql}"
        )))
        .execute(&mut *connection)
        .await
        .unwrap();
        let plan: Vec<String> = sqlx::query_as::<_, (String,)>(AssertSqlSafe(format!(
            "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) EXECUTE probe_{name_of_query}({arguments})"
        )))
        .fetch_all(&mut *connection)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.0)
        .collect();
        check_pg_plan("generic plan", name_of_query, index, &plan);
        assert!(
            plan.join("\n").contains("$1"),
            "a generic plan shows its parameters: {plan:?}"
        );
        sqlx::raw_sql("RESET plan_cache_mode; DEALLOCATE ALL")
            .execute(&mut *connection)
            .await
            .unwrap();
    }
    store.close().await;
}
