//! SQLite backend: one database file, WAL mode, for single-process deployments.

use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::{Pool, Sqlite};
use tokio::sync::broadcast;

use crate::config::Backend;
use crate::error::Operation;
use crate::feed::ChangeFeed;
use crate::fleet::{check_query, prepare_batch};
use crate::policy::{id_in_use, prepare_policy};
use crate::prepare::Prepared;
use crate::sql::{self, Dialect, PolicySwitch};
use crate::{
    AddPolicyOutcome, AttesterQuery, AttesterRecord, EndorsementStore, FleetBatch, FleetStore,
    FleetVerdict, NewPolicy, PolicyRecord, PolicyStore, ReferenceValueRecord, StatusCount,
    StoreChange, StoreConfig, StoreError, StoreStats, Submission, SubmitOutcome, TrustAnchorRecord,
    VerdictCount,
};

sql::common_queries!(
    Sqlite,
    batch_rows: sql::SQLITE_BATCH_ROWS,
    lock_policies: sql::LOCK_POLICIES_SQLITE,
    lock_fleet: sql::LOCK_FLEET_SQLITE
);

/// Attester rows per statement when writing fleet batches (numbered
/// placeholders; see `sql::SQLITE_BATCH_ROWS`).
const FLEET_ROWS: usize = sql::SQLITE_BATCH_ROWS;

/// The stored status and last verdict time of `verdicts`' attesters.
async fn previous_verdicts(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    verdicts: &[&FleetVerdict],
) -> Result<Vec<(String, Vec<u8>, String, i64)>, sqlx::Error> {
    let mut query = sqlx::query_as(sql::select_previous_verdicts(verdicts.len()));
    for verdict in verdicts {
        query = query
            .bind(verdict.scheme.as_str())
            .bind(verdict.attester_id.as_bytes());
    }
    query.fetch_all(&mut **tx).await
}

/// Writes `verdicts` over their attesters' rows.
async fn write_verdicts(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    verdicts: &[&FleetVerdict],
) -> Result<(), sqlx::Error> {
    let mut query = sqlx::query(sql::upsert_attesters(verdicts.len()));
    for verdict in verdicts {
        query = query
            .bind(verdict.scheme.as_str())
            .bind(verdict.attester_id.as_bytes())
            .bind(verdict.status.as_str())
            .bind(verdict.trust_vector.as_str())
            .bind(verdict.seen_us)
            .bind(i64::try_from(verdict.appraisals).unwrap_or(i64::MAX));
    }
    query.execute(&mut **tx).await.map(drop)
}

/// The SQLite store. Its change feed carries this process's commits only, so
/// a database file must not be shared by several processes that cache.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    feed: ChangeFeed,
    /// Time spent waiting for a connection (exported as metrics).
    acquire_wait: vouch_metrics::Histogram,
}

impl SqliteStore {
    /// Opens (creating if missing) the database named by `config.url` and,
    /// if [`StoreConfig::run_migrations`] is set, migrates it.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        config.validate()?;
        let pool = open_pool(config, config.max_connections).await?;
        if config.run_migrations {
            sql::migrator(Dialect::Sqlite)
                .run(&pool)
                .await
                .map_err(StoreError::from_migrate)?;
        }
        Ok(Self {
            pool,
            feed: ChangeFeed::new(config.change_feed_capacity),
            acquire_wait: vouch_metrics::latency_histogram(),
        })
    }

    async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Sqlite>, sqlx::Error> {
        sql::timed_acquire(&self.pool, &self.acquire_wait).await
    }

    /// The connection pool, for diagnostics and tests (e.g. `EXPLAIN QUERY PLAN`).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The keys the CoRIM with `digest` provisioned, as change events (empty
    /// if no such CoRIM is stored).
    pub async fn keys_touched_by(&self, digest: &[u8; 32]) -> Result<Vec<StoreChange>, StoreError> {
        fetch_touched_keys(&self.pool, digest)
            .await
            .map(crate::feed::TouchedKeys::into_changes)
            .map_err(|e| StoreError::from_sqlx(Operation::Lookup, e))
    }
}

/// Applies the migrations through a single short-lived connection.
pub(crate) async fn migrate_only(config: &StoreConfig) -> Result<(), StoreError> {
    config.validate()?;
    let pool = open_pool(config, 1).await?;
    let result = sql::migrator(Dialect::Sqlite)
        .run(&pool)
        .await
        .map_err(StoreError::from_migrate);
    pool.close().await;
    result
}

async fn open_pool(config: &StoreConfig, max_connections: u32) -> Result<Pool<Sqlite>, StoreError> {
    let options = SqliteConnectOptions::from_str(config.url.trim())
        .map_err(|e| StoreError::Config(format!("invalid SQLite URL: {e}")))?
        // `mode=rwc` semantics whatever the URL says: a fresh data directory works.
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode and saves
        // an fsync per commit; only an OS crash can lose the last commits.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(config.busy_timeout);
    create_parent_dir(options.get_filename()).await?;
    let min_connections = config.min_connections.min(max_connections);
    sql::pool_options::<Sqlite>(config)
        .max_connections(max_connections)
        .min_connections(min_connections)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::Connect, e))
}

/// Creates the directory holding the database file, so that pointing the
/// store at a fresh data directory works.
async fn create_parent_dir(file: &Path) -> Result<(), StoreError> {
    let name = file.to_string_lossy();
    // In-memory databases have pseudo file names.
    if name.starts_with(':') || name.starts_with("file:") {
        return Ok(());
    }
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::Connect, sqlx::Error::Io(e))),
        _ => Ok(()),
    }
}

#[async_trait]
impl EndorsementStore for SqliteStore {
    async fn submit(&self, submission: &Submission) -> Result<SubmitOutcome, StoreError> {
        let prepared = Prepared::new(submission)?;
        let stored = async {
            // IMMEDIATE takes the write lock up front (waiting up to the busy
            // timeout), so a transaction never fails half-way when upgrading
            // from a read snapshot that another writer has moved past.
            let mut connection = self.acquire().await?;
            let mut tx = sqlx::Connection::begin_with(&mut *connection, "BEGIN IMMEDIATE").await?;
            if !insert_submission(&mut tx, &prepared).await? {
                tx.rollback().await?;
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        }
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::Submit, e))?;
        if !stored {
            return Ok(SubmitOutcome::AlreadyStored);
        }
        self.feed.publish_all(prepared.touched_keys());
        Ok(SubmitOutcome::Stored)
    }

    async fn trust_anchor(
        &self,
        scheme: &str,
        ta_id: &[u8],
    ) -> Result<Option<TrustAnchorRecord>, StoreError> {
        async {
            let mut connection = self.acquire().await?;
            fetch_trust_anchor(&mut connection, scheme, ta_id).await
        }
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::Lookup, e))
    }

    async fn trust_anchors(
        &self,
        scheme: &str,
        ta_ids: &[Vec<u8>],
    ) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        async {
            let mut connection = self.acquire().await?;
            let mut found = Vec::with_capacity(ta_ids.len());
            let largest = sql::SQLITE_TRUST_ANCHOR_LISTS[sql::SQLITE_TRUST_ANCHOR_LISTS.len() - 1];
            for chunk in ta_ids.chunks(largest) {
                let Some(last) = chunk.last() else {
                    continue;
                };
                let size = sql::SQLITE_TRUST_ANCHOR_LISTS
                    .into_iter()
                    .find(|&size| size >= chunk.len())
                    .unwrap_or(largest);
                let mut query = sqlx::query_as::<_, sql::TrustAnchorRow>(
                    sql::trust_anchors_lookup_sqlite(size),
                )
                .bind(scheme);
                // Padding repeats the last id: `IN` ignores the repeats.
                for ta_id in chunk.iter().chain(std::iter::repeat(last)).take(size) {
                    query = query.bind(ta_id.as_slice());
                }
                let rows = query.fetch_all(&mut *connection).await?;
                found.extend(sql::trust_anchor_records(scheme, rows));
            }
            Ok(found)
        }
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::Lookup, e))
    }

    async fn reference_values(
        &self,
        scheme: &str,
        rv_id: &[u8],
    ) -> Result<Vec<ReferenceValueRecord>, StoreError> {
        async {
            let mut connection = self.acquire().await?;
            fetch_reference_values(&mut connection, scheme, rv_id).await
        }
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::Lookup, e))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        run_ping(&self.pool)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::Ping, e))
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        fetch_stats(&self.pool)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::Stats, e))
    }

    fn subscribe(&self) -> broadcast::Receiver<StoreChange> {
        self.feed.subscribe()
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn policy_store(&self) -> &dyn PolicyStore {
        self
    }

    fn fleet_store(&self) -> &dyn FleetStore {
        self
    }

    fn register_metrics(&self, metrics: &vouch_metrics::Metrics) {
        metrics.register_pool(
            std::sync::Arc::new(sql::PoolView(self.pool.clone())),
            self.acquire_wait.clone(),
        );
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

impl SqliteStore {
    /// Runs a policy switch in a write transaction and announces a change
    /// once it is committed.
    async fn switch_policies(
        &self,
        operation: Operation,
        scheme: &str,
        id: Option<&[u8; 16]>,
    ) -> Result<bool, StoreError> {
        let plan = async {
            // IMMEDIATE: the read that plans the switch must see the state
            // the writes apply to, so concurrent switches take turns.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let plan = match id {
                Some(id) => switch_policy_on(&mut tx, scheme, id).await?,
                None => switch_policies_off(&mut tx, scheme).await?,
            };
            tx.commit().await?;
            Ok(plan)
        }
        .await
        .map_err(|e| StoreError::from_sqlx(operation, e))?;
        if plan == PolicySwitch::Changed {
            self.feed.publish(StoreChange::Policies {
                scheme: scheme.to_owned(),
            });
        }
        Ok(plan != PolicySwitch::NotFound)
    }
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn add_policy(&self, policy: &NewPolicy) -> Result<AddPolicyOutcome, StoreError> {
        let rules_digest = prepare_policy(policy)?;
        let outcome = async {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            let outcome = insert_policy(&mut tx, policy, &rules_digest).await?;
            tx.commit().await?;
            Ok(outcome)
        }
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::AddPolicy, e))?;
        outcome.ok_or_else(|| id_in_use(policy))
    }

    async fn activate_policy(&self, scheme: &str, id: &[u8; 16]) -> Result<bool, StoreError> {
        self.switch_policies(Operation::ActivatePolicy, scheme, Some(id))
            .await
    }

    async fn deactivate_policies(&self, scheme: &str) -> Result<bool, StoreError> {
        self.switch_policies(Operation::DeactivatePolicies, scheme, None)
            .await
    }

    async fn active_policy(&self, scheme: &str) -> Result<Option<PolicyRecord>, StoreError> {
        fetch_policy(&self.pool, sql::ACTIVE_POLICY_LOOKUP, scheme, None)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::PolicyLookup, e))
    }

    async fn policy(
        &self,
        scheme: &str,
        id: &[u8; 16],
    ) -> Result<Option<PolicyRecord>, StoreError> {
        fetch_policy(&self.pool, sql::POLICY_LOOKUP, scheme, Some(id))
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::PolicyLookup, e))
    }

    async fn policies(&self, scheme: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        fetch_policies(&self.pool, scheme)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::PolicyLookup, e))
    }
}

#[async_trait]
impl FleetStore for SqliteStore {
    async fn record_verdicts(&self, batch: &FleetBatch, now_us: i64) -> Result<(), StoreError> {
        let verdicts = prepare_batch(batch)?;
        if verdicts.is_empty() && batch.history.is_empty() {
            return Ok(());
        }
        async {
            // IMMEDIATE: the batch reads the rows it replaces, and must
            // write before anyone else does.
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            write_fleet_batch(&mut tx, batch, &verdicts, now_us).await?;
            tx.commit().await
        }
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::RecordVerdicts, e))
    }

    async fn fleet_counts(&self, stale_before_minute: i64) -> Result<Vec<StatusCount>, StoreError> {
        fetch_fleet_counts(&self.pool, stale_before_minute)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::FleetLookup, e))
    }

    async fn attesters(&self, query: &AttesterQuery) -> Result<Vec<AttesterRecord>, StoreError> {
        check_query(query)?;
        fetch_attesters(&self.pool, query)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::FleetLookup, e))
    }

    async fn verdict_history(&self, since_minute: i64) -> Result<Vec<VerdictCount>, StoreError> {
        fetch_fleet_history(&self.pool, since_minute)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::FleetLookup, e))
    }
}
