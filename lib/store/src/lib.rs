//! Endorsement and trust-anchor store: trait, SQL backends (SQLite, PostgreSQL), in-memory backend.
//!
//! Schemes decide what is stored; this crate treats keys (`ta_id`, `rv_id`) and
//! bodies as opaque bytes. The store replaces Veraison's key-value stores,
//! whose failure modes under load shaped the design:
//!
//! * **Indexes.** Every lookup (`trust_anchor`, `reference_values`, the
//!   change feed's "which keys did CoRIM X touch", and every [`PolicyStore`]
//!   lookup) is served by a primary key or an explicit index;
//!   `docs/store-explain.md` records the query plans.
//! * **No duplicates.** A CoRIM is stored once per SHA-256 of its bytes
//!   ([`SubmitOutcome::AlreadyStored`] on resubmission), a trust anchor once
//!   per `(scheme, ta_id)` (the latest provisioned CoRIM wins), and a reference
//!   value once per `(scheme, rv_id, body)` however many CoRIMs assert it.
//!   A policy is stored once per `(scheme, name, SHA-256 of its rules)`
//!   ([`AddPolicyOutcome::AlreadyStored`] on a retried create).
//! * **Bounded connections.** One pool per process, at most
//!   [`StoreConfig::max_connections`] connections. A caller that cannot get a
//!   connection within [`StoreConfig::acquire_timeout`] gets
//!   [`StoreError::Unavailable`], which services turn into `503` with
//!   `Retry-After`, instead of opening ever more connections until PostgreSQL
//!   answers `too many clients`.
//!
//! # Pool sizing
//!
//! * SQLite: at most `max_connections` connections to the database file. Readers
//!   run in parallel (WAL mode); writers take turns, waiting up to
//!   [`StoreConfig::busy_timeout`].
//! * PostgreSQL: at most `max_connections + 1` server connections per process:
//!   the query pool plus **one dedicated connection for the change-feed
//!   listener** (`LISTEN vouch_endorsements`), kept in a separate pool of size
//!   one so that the listener never takes a slot from queries. Size the server's
//!   `max_connections` as `instances × (max_connections + 1)` plus headroom for
//!   administration.
//!
//! # Policies
//!
//! Appraisal policies (Rego rules) live in the same database, reached through
//! [`EndorsementStore::policy_store`] and the [`PolicyStore`] trait, in the
//! `policies` table (migration `0002_policies.sql`). Each carries a
//! store-assigned `version` from one store-wide sequence. At most one policy
//! per scheme is active, which a partial unique index enforces;
//! [`PolicyStore::activate_policy`] switches it in one transaction that first
//! reads the scheme's policies (on PostgreSQL with `FOR UPDATE`, taking the
//! row locks in version order; on SQLite under `BEGIN IMMEDIATE`), so
//! concurrent activations from any number of instances take turns and
//! exactly one policy ends active. Policies use the same pool as endorsements:
//! no extra connections.
//!
//! Indexes on `policies`: `(scheme, id)` unique (lookup by id), `(scheme,
//! name, rules_digest)` unique (idempotency), `(scheme) WHERE active` unique
//! (active lookup, one active per scheme) and `(scheme, version)` (list and
//! lock order).
//!
//! Limits: rules up to [`MAX_POLICY_RULES_LEN`] bytes, names up to
//! [`MAX_POLICY_NAME_CHARS`] characters, schemes up to [`MAX_SCHEME_LEN`]
//! bytes; beyond them [`StoreError::InvalidSubmission`] and nothing is stored.
//!
//! # Fleet status
//!
//! Each attester's last verdict, and counts kept beside it, live in the
//! `attesters`, `fleet_counts`, `fleet_history` and `fleet_meta` tables
//! (migration `0003_fleet.sql`), reached through
//! [`EndorsementStore::fleet_store`]; see [`fleet`] for how the summary
//! stays fast and how batches from several instances take turns.
//!
//! # Change feed
//!
//! [`EndorsementStore::subscribe`] yields [`StoreChange`] events so that caches
//! in every process can be invalidated when provisioning happens anywhere. The
//! SQLite and memory backends publish their own commits (they are meant for a
//! single process). The PostgreSQL backend sends `NOTIFY vouch_endorsements`
//! with the CoRIM digest inside the provisioning transaction, so every
//! instance's listener hears about every commit; the listener then looks up the
//! affected keys with one indexed query.
//!
//! A (de)activation that changes which policy is active publishes
//! [`StoreChange::Policies`] for its scheme (adding a policy does not: new
//! policies start inactive). On PostgreSQL it travels on the same channel,
//! as a `NOTIFY` whose payload is [`POLICIES_NOTIFY_PREFIX`] followed by the
//! scheme, sent inside the switching transaction; a listener of an older
//! version takes the unknown payload for a resync, which is safe.
//!
//! A subscriber that sees [`StoreChange::Resync`], or whose receiver reports
//! [`tokio::sync::broadcast::error::RecvError::Lagged`], must drop everything
//! it has cached (compiled policies included).
//!
//! # Validity
//!
//! Records carry `not_after` (unix seconds) but lookups do not filter on it:
//! the verifier decides what an expired endorsement means.

mod config;
mod error;
mod feed;
pub mod fleet;
mod memory;
mod policy;
mod postgres;
mod prepare;
pub mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast;

pub use config::{Backend, StoreConfig};
pub use error::{Operation, StoreError};
pub use fleet::{
    AttesterQuery, AttesterRecord, FLEET_STATUSES, FleetBatch, FleetStore, FleetVerdict,
    StatusCount, VerdictCount,
};
pub use memory::MemoryStore;
pub use policy::{
    AddPolicyOutcome, MAX_POLICY_NAME_CHARS, MAX_POLICY_RULES_LEN, NewPolicy, PolicyRecord,
    PolicyStore,
};
pub use postgres::{LISTENER_APPLICATION_NAME, NOTIFY_CHANNEL, POLICIES_NOTIFY_PREFIX, PgStore};
pub use prepare::{MAX_ID_LEN, MAX_RECORDS_PER_KIND, MAX_SCHEME_LEN};
pub use sqlite::SqliteStore;

/// A CoRIM as accepted by provisioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorimRecord {
    /// SHA-256 of the submitted bytes: the idempotency key.
    pub digest: [u8; 32],
    /// Attestation scheme, e.g. `"PSA_IOT"`.
    pub scheme: String,
    /// Media type the CoRIM was submitted with.
    pub media_type: String,
    /// CoRIM profile.
    pub profile: String,
    /// The CoRIM's own identifier.
    pub corim_id: String,
    /// End of the CoRIM's validity (unix seconds), if it has one.
    pub not_after: Option<i64>,
    /// The raw CoRIM, kept for audit.
    pub body: Vec<u8>,
}

/// A verification key for one attester.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchorRecord {
    /// Attestation scheme.
    pub scheme: String,
    /// Scheme-defined trust-anchor identifier (PSA: implementation-id ‖ instance-id).
    pub ta_id: Vec<u8>,
    /// Identifier of the reference values that apply to this attester (PSA: implementation-id).
    pub rv_id: Vec<u8>,
    /// The public key, SubjectPublicKeyInfo DER.
    pub key: Vec<u8>,
    /// End of validity (unix seconds), if any.
    pub not_after: Option<i64>,
}

/// One scheme-encoded reference value (measurement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceValueRecord {
    /// Attestation scheme.
    pub scheme: String,
    /// Scheme-defined reference-value identifier (PSA: implementation-id).
    pub rv_id: Vec<u8>,
    /// Scheme-encoded measurement.
    pub body: Vec<u8>,
    /// End of validity (unix seconds), if any. When several CoRIMs assert the
    /// same reference value, the latest end of validity is kept (`None`, no
    /// expiry, outlasts any date).
    pub not_after: Option<i64>,
}

/// Everything one CoRIM provisions, stored in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The CoRIM itself.
    pub corim: CorimRecord,
    /// Trust anchors it provisions. A repeated `(scheme, ta_id)` keeps the last one.
    pub trust_anchors: Vec<TrustAnchorRecord>,
    /// Reference values it provisions. Repeats are stored once.
    pub reference_values: Vec<ReferenceValueRecord>,
}

/// What [`EndorsementStore::submit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// The CoRIM was new and everything in it is now stored.
    Stored,
    /// A CoRIM with the same digest was stored before; nothing changed.
    AlreadyStored,
}

/// Row counts, for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Stored CoRIMs.
    pub corims: u64,
    /// Current trust anchors (one per `(scheme, ta_id)`).
    pub trust_anchors: u64,
    /// Distinct reference values (one per `(scheme, rv_id, body)`).
    pub reference_values: u64,
    /// CoRIM → reference-value links (one per reference value per CoRIM that asserted it).
    pub reference_value_links: u64,
}

/// A change-feed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChange {
    /// These keys of `scheme` were (re)provisioned; cached entries for them are stale.
    Changed {
        /// Attestation scheme of all the keys below.
        scheme: String,
        /// Trust-anchor identifiers, sorted, without repeats.
        ta_ids: Vec<Vec<u8>>,
        /// Reference-value identifiers, sorted, without repeats.
        rv_ids: Vec<Vec<u8>>,
    },
    /// The active policy of `scheme` changed (a policy was activated, or all
    /// were deactivated); a cached compiled policy for it is stale.
    Policies {
        /// Attestation scheme whose policies changed.
        scheme: String,
    },
    /// Events may have been lost; drop everything cached.
    Resync,
}

/// The endorsement and trust-anchor store, shared as `Arc<dyn EndorsementStore>`.
#[async_trait]
pub trait EndorsementStore: Send + Sync + 'static {
    /// Stores a CoRIM and everything it provisions in one transaction.
    ///
    /// Idempotent on `submission.corim.digest`: resubmitting the same bytes
    /// stores nothing and returns [`SubmitOutcome::AlreadyStored`].
    async fn submit(&self, submission: &Submission) -> Result<SubmitOutcome, StoreError>;

    /// The current trust anchor for `(scheme, ta_id)`, if any.
    async fn trust_anchor(
        &self,
        scheme: &str,
        ta_id: &[u8],
    ) -> Result<Option<TrustAnchorRecord>, StoreError>;

    /// The current trust anchors of `ta_ids` under `scheme`, in as few
    /// round trips as the backend allows (the trust cache sends its misses
    /// here in batches). Ids without a trust anchor are left out; the order
    /// of the records is unspecified.
    async fn trust_anchors(
        &self,
        scheme: &str,
        ta_ids: &[Vec<u8>],
    ) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        let mut found = Vec::with_capacity(ta_ids.len());
        for ta_id in ta_ids {
            if let Some(record) = self.trust_anchor(scheme, ta_id).await? {
                found.push(record);
            }
        }
        Ok(found)
    }

    /// All reference values for `(scheme, rv_id)`, ordered by the SHA-256 of
    /// their bodies (the same order on every backend).
    async fn reference_values(
        &self,
        scheme: &str,
        rv_id: &[u8],
    ) -> Result<Vec<ReferenceValueRecord>, StoreError>;

    /// Readiness: succeeds when a connection can be had and answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Row counts.
    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// Subscribes to the change feed (see the crate docs for the `Resync` and
    /// `Lagged` rules).
    fn subscribe(&self) -> broadcast::Receiver<StoreChange>;

    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// The appraisal policies kept in the same store (every backend returns
    /// itself).
    fn policy_store(&self) -> &dyn PolicyStore;

    /// The fleet status in this store ([`fleet`]).
    fn fleet_store(&self) -> &dyn FleetStore;

    /// Exports the connection pool (size, use, acquire wait) to `metrics`;
    /// nothing for stores without one.
    fn register_metrics(&self, _metrics: &vouch_metrics::Metrics) {}

    /// Stops background work and closes all connections. On the SQL backends
    /// later calls fail with [`StoreError::Unavailable`].
    async fn close(&self);
}

/// Connects to the store named by `config.url` (`sqlite:`, `postgres://`,
/// `postgresql://` or `memory:`), running the embedded migrations first when
/// [`StoreConfig::run_migrations`] is set.
pub async fn connect(config: &StoreConfig) -> Result<Arc<dyn EndorsementStore>, StoreError> {
    config.validate()?;
    Ok(match config.backend()? {
        Backend::Memory => Arc::new(MemoryStore::with_feed_capacity(config.change_feed_capacity)),
        Backend::Sqlite => Arc::new(SqliteStore::connect(config).await?),
        Backend::Postgres => Arc::new(PgStore::connect(config).await?),
    })
}

/// Applies the embedded migrations to the database named by `config.url`
/// (a no-op for `memory:`). Safe to run concurrently from several processes
/// on PostgreSQL (the migrator takes an advisory lock).
pub async fn migrate(config: &StoreConfig) -> Result<(), StoreError> {
    match config.backend()? {
        Backend::Memory => Ok(()),
        Backend::Sqlite => sqlite::migrate_only(config).await,
        Backend::Postgres => postgres::migrate_only(config).await,
    }
}
