//! PostgreSQL backend: the production store, shared by many instances, with
//! a change feed over `LISTEN/NOTIFY`.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool};
use sqlx::{Pool, Postgres};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;
use tracing::{debug, warn};

use crate::config::{Backend, redact_url};
use crate::error::Operation;
use crate::feed::{ChangeFeed, TouchedKeys};
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
    Postgres,
    batch_rows: sql::POSTGRES_BATCH_ROWS,
    lock_policies: sql::LOCK_POLICIES_POSTGRES,
    lock_fleet: sql::LOCK_FLEET_POSTGRES
);

/// Attester rows per statement when writing fleet batches: arrays, so one
/// statement serves a whole batch of the recorder's.
const FLEET_ROWS: usize = 10_000;

/// The stored status and last verdict time of `verdicts`' attesters.
async fn previous_verdicts(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    verdicts: &[&FleetVerdict],
) -> Result<Vec<(String, Vec<u8>, String, i64)>, sqlx::Error> {
    let schemes: Vec<&str> = verdicts.iter().map(|v| v.scheme.as_str()).collect();
    let ids: Vec<&[u8]> = verdicts.iter().map(|v| v.attester_id.as_bytes()).collect();
    sqlx::query_as(sql::PREVIOUS_VERDICTS_POSTGRES)
        .bind(schemes)
        .bind(ids)
        .fetch_all(&mut **tx)
        .await
}

/// Writes `verdicts` over their attesters' rows.
async fn write_verdicts(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    verdicts: &[&FleetVerdict],
) -> Result<(), sqlx::Error> {
    let column =
        |f: fn(&FleetVerdict) -> &str| -> Vec<&str> { verdicts.iter().map(|v| f(v)).collect() };
    let ids: Vec<&[u8]> = verdicts.iter().map(|v| v.attester_id.as_bytes()).collect();
    let seen: Vec<i64> = verdicts.iter().map(|v| v.seen_us).collect();
    let appraisals: Vec<i64> = verdicts
        .iter()
        .map(|v| i64::try_from(v.appraisals).unwrap_or(i64::MAX))
        .collect();
    sqlx::query(sql::UPSERT_ATTESTERS_POSTGRES)
        .bind(column(|v| &v.scheme))
        .bind(ids)
        .bind(column(|v| &v.status))
        .bind(column(|v| &v.trust_vector))
        .bind(seen)
        .bind(appraisals)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// The `NOTIFY` channel. A payload is either the lowercase hex SHA-256 of a
/// committed CoRIM (64 bytes), or [`POLICIES_NOTIFY_PREFIX`] followed by the
/// scheme whose active policy changed (at most 138 bytes); both are far below
/// PostgreSQL's 8000-byte limit. A listener that does not know a payload's
/// form (an older version, say) resynchronises, which is always safe.
pub const NOTIFY_CHANNEL: &str = "vouch_endorsements";

/// Prefix of the [`NOTIFY_CHANNEL`] payload announcing
/// [`StoreChange::Policies`]. It contains `:`, which no CoRIM digest does.
pub const POLICIES_NOTIFY_PREFIX: &str = "policies:";

/// `application_name` of the listener connection, so operators (and tests)
/// can tell it from the query pool in `pg_stat_activity`.
pub const LISTENER_APPLICATION_NAME: &str = "vouch-store-listener";

const POOL_APPLICATION_NAME: &str = "vouch-store";
const RECONNECT_INITIAL_DELAY: Duration = Duration::from_millis(100);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(5);

/// The PostgreSQL store.
///
/// Connections: the query pool (at most [`StoreConfig::max_connections`])
/// plus one listener connection held in a separate pool of size one.
#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    listener_pool: PgPool,
    listener_task: AbortHandle,
    feed: ChangeFeed,
    /// Time spent waiting for a query connection (exported as metrics).
    acquire_wait: vouch_metrics::Histogram,
}

impl PgStore {
    /// Connects the query pool, migrates if [`StoreConfig::run_migrations`] is
    /// set, and starts listening on [`NOTIFY_CHANNEL`]. Notifications committed
    /// after this returns reach [`EndorsementStore::subscribe`]rs.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        config.validate()?;
        let options = connect_options(config)?;
        let pool = sql::pool_options::<Postgres>(config)
            .connect_with(query_options(options.clone(), config))
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::Connect, e))?;
        if config.run_migrations {
            sql::migrator(Dialect::Postgres)
                .run(&pool)
                .await
                .map_err(StoreError::from_migrate)?;
        }

        let listener_pool = PoolOptions::<Postgres>::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout.max(Duration::from_secs(5)))
            // The listener holds its connection for good; never recycle it.
            .idle_timeout(None)
            .max_lifetime(None)
            // Reconnection is rare, so make sure a reused connection is alive.
            .test_before_acquire(true)
            .connect_lazy_with(options.application_name(LISTENER_APPLICATION_NAME));
        let listener = open_listener(&listener_pool)
            .await
            .map_err(|e| StoreError::from_sqlx(Operation::Connect, e))?;

        let feed = ChangeFeed::new(config.change_feed_capacity);
        let task = tokio::spawn(run_listener(
            listener,
            listener_pool.clone(),
            pool.clone(),
            feed.clone(),
        ));
        Ok(Self {
            pool,
            listener_pool,
            listener_task: task.abort_handle(),
            feed,
            acquire_wait: vouch_metrics::latency_histogram(),
        })
    }

    async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<Postgres>, sqlx::Error> {
        sql::timed_acquire(&self.pool, &self.acquire_wait).await
    }

    /// The query pool, for diagnostics and tests (e.g. `EXPLAIN`).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The keys the CoRIM with `digest` provisioned, as change events (empty
    /// if no such CoRIM is stored).
    pub async fn keys_touched_by(&self, digest: &[u8; 32]) -> Result<Vec<StoreChange>, StoreError> {
        fetch_touched_keys(&self.pool, digest)
            .await
            .map(TouchedKeys::into_changes)
            .map_err(|e| StoreError::from_sqlx(Operation::Lookup, e))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.listener_task.abort();
    }
}

/// Applies the migrations through a single short-lived connection.
pub(crate) async fn migrate_only(config: &StoreConfig) -> Result<(), StoreError> {
    config.validate()?;
    let pool = PoolOptions::<Postgres>::new()
        .max_connections(1)
        .acquire_timeout(config.acquire_timeout)
        .connect_with(query_options(connect_options(config)?, config))
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::Connect, e))?;
    let result = sql::migrator(Dialect::Postgres)
        .run(&pool)
        .await
        .map_err(StoreError::from_migrate);
    pool.close().await;
    result
}

fn connect_options(config: &StoreConfig) -> Result<PgConnectOptions, StoreError> {
    // The parser's message may quote the URL, password included; report ours.
    PgConnectOptions::from_str(config.url.trim()).map_err(|_| {
        StoreError::Config(format!(
            "invalid PostgreSQL URL {:?}",
            redact_url(&config.url)
        ))
    })
}

fn query_options(options: PgConnectOptions, config: &StoreConfig) -> PgConnectOptions {
    let options = if options.get_application_name().is_none() {
        options.application_name(POOL_APPLICATION_NAME)
    } else {
        options
    };
    match config.statement_timeout {
        // Bounds the time a runaway statement holds one of the few pooled connections.
        Some(timeout) => options.options([("statement_timeout", timeout.as_millis().to_string())]),
        None => options,
    }
}

async fn open_listener(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(NOTIFY_CHANNEL).await?;
    Ok(listener)
}

/// Turns notifications into change events until aborted. Whenever the
/// listening connection is lost, notifications may have been missed, so
/// subscribers are told to resynchronise once listening again.
async fn run_listener(
    mut listener: PgListener,
    listener_pool: PgPool,
    pool: Pool<Postgres>,
    feed: ChangeFeed,
) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                publish_notification(&pool, &feed, notification.payload()).await;
            }
            Ok(None) => {
                warn!("change-feed listener reconnected; subscribers must resynchronise");
                feed.resync();
            }
            Err(error) => {
                warn!(%error, "change-feed listener failed; reconnecting");
                // A fresh listener, rather than retrying this one: after some
                // errors it keeps a connection the server has already closed.
                drop(listener);
                listener = reconnect(&listener_pool).await;
                feed.resync();
            }
        }
    }
}

async fn reconnect(listener_pool: &PgPool) -> PgListener {
    let mut delay = RECONNECT_INITIAL_DELAY;
    loop {
        tokio::time::sleep(delay).await;
        match open_listener(listener_pool).await {
            Ok(listener) => return listener,
            Err(error) => {
                warn!(%error, retry_in = ?delay, "change-feed listener cannot reconnect");
                delay = (delay * 2).min(RECONNECT_MAX_DELAY);
            }
        }
    }
}

async fn publish_notification(pool: &Pool<Postgres>, feed: &ChangeFeed, payload: &str) {
    if let Some(scheme) = payload.strip_prefix(POLICIES_NOTIFY_PREFIX) {
        if scheme.is_empty() {
            warn!(
                payload,
                "policy notification without a scheme; resynchronising"
            );
            feed.resync();
        } else {
            debug!(scheme, "policies changed");
            feed.publish(StoreChange::Policies {
                scheme: scheme.to_owned(),
            });
        }
        return;
    }
    let mut digest = [0u8; 32];
    if hex::decode_to_slice(payload, &mut digest).is_err() {
        warn!(
            payload,
            "unexpected payload on {NOTIFY_CHANNEL}; resynchronising"
        );
        feed.resync();
        return;
    }
    match fetch_touched_keys(pool, &digest).await {
        Ok(touched) => {
            debug!(corim = payload, "endorsements changed");
            feed.publish_all(touched);
        }
        Err(error) => {
            // Without the key list, only a full resync is safe.
            warn!(%error, corim = payload, "cannot resolve changed keys; resynchronising");
            feed.resync();
        }
    }
}

#[async_trait]
impl EndorsementStore for PgStore {
    async fn submit(&self, submission: &Submission) -> Result<SubmitOutcome, StoreError> {
        let prepared = Prepared::new(submission)?;
        let stored = async {
            let mut connection = self.acquire().await?;
            let mut tx = sqlx::Connection::begin(&mut *connection).await?;
            if !insert_submission(&mut tx, &prepared).await? {
                tx.rollback().await?;
                return Ok(false);
            }
            // Queued inside the transaction, delivered to every listener
            // (this process's included) only if and when it commits.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(NOTIFY_CHANNEL)
                .bind(hex::encode(submission.corim.digest))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await
        .map_err(|e| StoreError::from_sqlx(Operation::Submit, e))?;
        Ok(if stored {
            SubmitOutcome::Stored
        } else {
            SubmitOutcome::AlreadyStored
        })
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
            let rows: Vec<sql::TrustAnchorRow> = sqlx::query_as(sql::TRUST_ANCHORS_LOOKUP_POSTGRES)
                .bind(scheme)
                .bind(ta_ids)
                .fetch_all(&mut *connection)
                .await?;
            Ok(sql::trust_anchor_records(scheme, rows).collect())
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
        Backend::Postgres
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
        self.listener_task.abort();
        self.listener_pool.close().await;
        self.pool.close().await;
    }
}

impl PgStore {
    /// Runs a policy switch in one transaction; a change is announced to
    /// every instance by a `NOTIFY` that is delivered only if it commits.
    async fn switch_policies(
        &self,
        operation: Operation,
        scheme: &str,
        id: Option<&[u8; 16]>,
    ) -> Result<bool, StoreError> {
        let plan = async {
            let mut tx = self.pool.begin().await?;
            let plan = match id {
                Some(id) => switch_policy_on(&mut tx, scheme, id).await?,
                None => switch_policies_off(&mut tx, scheme).await?,
            };
            if plan == PolicySwitch::Changed {
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(NOTIFY_CHANNEL)
                    .bind(format!("{POLICIES_NOTIFY_PREFIX}{scheme}"))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(plan)
        }
        .await
        .map_err(|e| StoreError::from_sqlx(operation, e))?;
        Ok(plan != PolicySwitch::NotFound)
    }
}

#[async_trait]
impl PolicyStore for PgStore {
    async fn add_policy(&self, policy: &NewPolicy) -> Result<AddPolicyOutcome, StoreError> {
        let rules_digest = prepare_policy(policy)?;
        let outcome = async {
            let mut tx = self.pool.begin().await?;
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
impl FleetStore for PgStore {
    async fn record_verdicts(&self, batch: &FleetBatch, now_us: i64) -> Result<(), StoreError> {
        let verdicts = prepare_batch(batch)?;
        if verdicts.is_empty() && batch.history.is_empty() {
            return Ok(());
        }
        async {
            // The batch's first statement locks `fleet_meta`.
            let mut tx = self.pool.begin().await?;
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
