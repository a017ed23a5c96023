//! The hot-path queries use indexes: `EXPLAIN QUERY PLAN` (SQLite) and
//! `EXPLAIN` (PostgreSQL) after filling the tables with 100,000 trust
//! anchors, 100,000 reference values and 100,000 CoRIM links, so that the
//! planner's choice is meaningful. The plans are printed (run with
//! `--nocapture`); `docs/store-explain.md` records them.

// The shared cases are plain async fns called by generated #[test]s, which
// clippy's allow-unwrap-in-tests does not see; a panic here is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sqlx::AssertSqlSafe;
use vouch_store::sql::{KEYS_TOUCHED_BY_CORIM, REFERENCE_VALUES_LOOKUP, TRUST_ANCHOR_LOOKUP};
use vouch_store::testing::{TestPostgres, TestSqlite};
use vouch_store::{EndorsementStore, PgStore, SqliteStore, StoreStats};

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
