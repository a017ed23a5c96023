//! In-memory backend for tests: the same semantics as the SQL backends
//! (idempotency, replacement, de-duplication, ordering), nothing persisted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::config::Backend;
use crate::feed::ChangeFeed;
use crate::fleet::{check_query, minute_of, prepare_batch};
use crate::policy::{id_in_use, prepare_policy};
use crate::prepare::{Prepared, later_not_after};
use crate::{
    AddPolicyOutcome, AttesterQuery, AttesterRecord, CorimRecord, EndorsementStore, FleetBatch,
    FleetStore, NewPolicy, PolicyRecord, PolicyStore, ReferenceValueRecord, StatusCount,
    StoreChange, StoreError, StoreStats, Submission, SubmitOutcome, TrustAnchorRecord,
    VerdictCount,
};

/// A store that lives in this process's memory.
#[derive(Debug)]
pub struct MemoryStore {
    state: RwLock<State>,
    feed: ChangeFeed,
}

/// Reference values of one `(scheme, rv_id)` keyed by body digest, which
/// gives the same order as the SQL backends.
type Bodies = BTreeMap<[u8; 32], ReferenceValueRecord>;

#[derive(Debug, Default)]
struct State {
    corims: HashMap<[u8; 32], CorimRecord>,
    /// scheme → ta_id → current trust anchor.
    trust_anchors: HashMap<String, HashMap<Vec<u8>, TrustAnchorRecord>>,
    /// scheme → rv_id → bodies.
    reference_values: HashMap<String, HashMap<Vec<u8>, Bodies>>,
    reference_value_links: u64,
    /// scheme → policies in version order.
    policies: HashMap<String, Vec<PolicyRecord>>,
    /// The last version handed out (the SQL backends' sequence).
    policy_version: i64,
    /// (scheme, attester id) → the attester, in the SQL backends' order.
    attesters: BTreeMap<(String, String), AttesterRecord>,
    /// (minute, scheme, status) → verdicts.
    history: BTreeMap<(i64, String, String), u64>,
}

impl MemoryStore {
    /// An empty store with the default change-feed capacity.
    pub fn new() -> Self {
        Self::with_feed_capacity(crate::StoreConfig::new("memory:").change_feed_capacity)
    }

    /// An empty store whose change feed buffers `capacity` events per subscriber.
    pub fn with_feed_capacity(capacity: usize) -> Self {
        Self {
            state: RwLock::new(State::default()),
            feed: ChangeFeed::new(capacity),
        }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl State {
    fn apply(&mut self, prepared: &Prepared<'_>) -> bool {
        let corim = &prepared.submission.corim;
        if self.corims.contains_key(&corim.digest) {
            return false;
        }
        self.corims.insert(corim.digest, corim.clone());
        for &ta in &prepared.trust_anchors {
            self.trust_anchors
                .entry(ta.scheme.clone())
                .or_default()
                .insert(ta.ta_id.clone(), ta.clone());
        }
        for rv in &prepared.reference_values {
            let bodies = self
                .reference_values
                .entry(rv.record.scheme.clone())
                .or_default()
                .entry(rv.record.rv_id.clone())
                .or_default();
            bodies
                .entry(rv.body_digest)
                .and_modify(|stored| {
                    stored.not_after = later_not_after(stored.not_after, rv.not_after);
                })
                .or_insert_with(|| ReferenceValueRecord {
                    not_after: rv.not_after,
                    ..rv.record.clone()
                });
            self.reference_value_links += 1;
        }
        true
    }
}

#[async_trait]
impl EndorsementStore for MemoryStore {
    async fn submit(&self, submission: &Submission) -> Result<SubmitOutcome, StoreError> {
        let prepared = Prepared::new(submission)?;
        // Nothing in `apply` can panic half-way, so a poisoned lock still
        // guards consistent data.
        let stored = self
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .apply(&prepared);
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
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        Ok(state
            .trust_anchors
            .get(scheme)
            .and_then(|by_id| by_id.get(ta_id))
            .cloned())
    }

    async fn reference_values(
        &self,
        scheme: &str,
        rv_id: &[u8],
    ) -> Result<Vec<ReferenceValueRecord>, StoreError> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        Ok(state
            .reference_values
            .get(scheme)
            .and_then(|by_id| by_id.get(rv_id))
            .map(|bodies| bodies.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Ok(StoreStats {
            corims: count(state.corims.len()),
            trust_anchors: count(state.trust_anchors.values().map(HashMap::len).sum()),
            reference_values: count(
                state
                    .reference_values
                    .values()
                    .flat_map(HashMap::values)
                    .map(BTreeMap::len)
                    .sum(),
            ),
            reference_value_links: state.reference_value_links,
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<StoreChange> {
        self.feed.subscribe()
    }

    fn backend(&self) -> Backend {
        Backend::Memory
    }

    fn policy_store(&self) -> &dyn PolicyStore {
        self
    }

    fn fleet_store(&self) -> &dyn FleetStore {
        self
    }

    async fn close(&self) {}
}

impl State {
    fn add_policy(&mut self, policy: &NewPolicy) -> Result<AddPolicyOutcome, StoreError> {
        let stored = self.policies.entry(policy.scheme.clone()).or_default();
        // Equal rules stand for equal rule digests, the SQL backends' key.
        if let Some(existing) = stored
            .iter()
            .find(|p| p.name == policy.name && p.rules == policy.rules)
        {
            return Ok(AddPolicyOutcome::AlreadyStored(existing.clone()));
        }
        if stored.iter().any(|p| p.id == policy.id) {
            return Err(id_in_use(policy));
        }
        self.policy_version += 1;
        let record = PolicyRecord {
            id: policy.id,
            scheme: policy.scheme.clone(),
            name: policy.name.clone(),
            rules: policy.rules.clone(),
            active: false,
            created_at_us: policy.created_at_us,
            version: self.policy_version,
        };
        stored.push(record.clone());
        Ok(AddPolicyOutcome::Stored(record))
    }

    /// Activates `id` (or, with `None`, deactivates everything) in `scheme`.
    /// `None` when there is nothing to switch; otherwise whether anything changed.
    fn switch_policies(&mut self, scheme: &str, id: Option<&[u8; 16]>) -> Option<bool> {
        let policies = self.policies.get_mut(scheme)?;
        if let Some(id) = id
            && !policies.iter().any(|p| p.id == *id)
        {
            return None;
        }
        let mut changed = false;
        for policy in policies.iter_mut() {
            let active = id.is_some_and(|id| policy.id == *id);
            changed |= policy.active != active;
            policy.active = active;
        }
        Some(changed)
    }
}

impl MemoryStore {
    fn switch_policies(&self, scheme: &str, id: Option<&[u8; 16]>) -> bool {
        // Nothing in `switch_policies` can panic half-way, so a poisoned lock
        // still guards consistent data.
        let switched = self
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .switch_policies(scheme, id);
        if switched == Some(true) {
            self.feed.publish(StoreChange::Policies {
                scheme: scheme.to_owned(),
            });
        }
        switched.is_some()
    }

    fn read_policies<T>(&self, scheme: &str, read: impl FnOnce(&[PolicyRecord]) -> T) -> T {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        read(state.policies.get(scheme).map_or(&[], Vec::as_slice))
    }
}

#[async_trait]
impl PolicyStore for MemoryStore {
    async fn add_policy(&self, policy: &NewPolicy) -> Result<AddPolicyOutcome, StoreError> {
        prepare_policy(policy)?;
        self.state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .add_policy(policy)
    }

    async fn activate_policy(&self, scheme: &str, id: &[u8; 16]) -> Result<bool, StoreError> {
        Ok(self.switch_policies(scheme, Some(id)))
    }

    async fn deactivate_policies(&self, scheme: &str) -> Result<bool, StoreError> {
        Ok(self.switch_policies(scheme, None))
    }

    async fn active_policy(&self, scheme: &str) -> Result<Option<PolicyRecord>, StoreError> {
        Ok(self.read_policies(scheme, |policies| {
            policies.iter().find(|p| p.active).cloned()
        }))
    }

    async fn policy(
        &self,
        scheme: &str,
        id: &[u8; 16],
    ) -> Result<Option<PolicyRecord>, StoreError> {
        Ok(self.read_policies(scheme, |policies| {
            policies.iter().find(|p| p.id == *id).cloned()
        }))
    }

    async fn policies(&self, scheme: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        Ok(self.read_policies(scheme, <[PolicyRecord]>::to_vec))
    }
}

/// The SQL backends' fleet semantics, computed from the attesters on each
/// read (this backend is for tests), and always to the minute (no
/// compaction).
#[async_trait]
impl FleetStore for MemoryStore {
    async fn record_verdicts(&self, batch: &FleetBatch, _now_us: i64) -> Result<(), StoreError> {
        let verdicts = prepare_batch(batch)?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        for verdict in verdicts {
            let key = (verdict.scheme.clone(), verdict.attester_id.clone());
            match state.attesters.get_mut(&key) {
                Some(stored) if stored.last_seen_us > verdict.seen_us => {
                    stored.appraisals += verdict.appraisals;
                }
                Some(stored) => {
                    stored.status.clone_from(&verdict.status);
                    stored.trust_vector.clone_from(&verdict.trust_vector);
                    stored.last_seen_us = verdict.seen_us;
                    stored.appraisals += verdict.appraisals;
                }
                None => {
                    state.attesters.insert(
                        key,
                        AttesterRecord {
                            scheme: verdict.scheme.clone(),
                            attester_id: verdict.attester_id.clone(),
                            status: verdict.status.clone(),
                            trust_vector: verdict.trust_vector.clone(),
                            first_seen_us: verdict.seen_us,
                            last_seen_us: verdict.seen_us,
                            appraisals: verdict.appraisals,
                        },
                    );
                }
            }
        }
        for count in &batch.history {
            *state
                .history
                .entry((count.minute, count.scheme.clone(), count.status.clone()))
                .or_default() += count.verdicts;
        }
        Ok(())
    }

    async fn fleet_counts(&self, stale_before_minute: i64) -> Result<Vec<StatusCount>, StoreError> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let mut counts: BTreeMap<(&str, &str), (u64, u64)> = BTreeMap::new();
        for attester in state.attesters.values() {
            let (attesters, stale) = counts
                .entry((&attester.scheme, &attester.status))
                .or_default();
            *attesters += 1;
            if minute_of(attester.last_seen_us) < stale_before_minute {
                *stale += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|((scheme, status), (attesters, stale))| StatusCount {
                scheme: scheme.to_owned(),
                status: status.to_owned(),
                attesters,
                stale,
            })
            .collect())
    }

    async fn attesters(&self, query: &AttesterQuery) -> Result<Vec<AttesterRecord>, StoreError> {
        check_query(query)?;
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        Ok(state
            .attesters
            .iter()
            .filter(|((scheme, id), a)| {
                query.scheme.as_ref().is_none_or(|s| s == scheme)
                    && query.status.as_ref().is_none_or(|s| *s == a.status)
                    && query
                        .id_prefix
                        .as_ref()
                        .is_none_or(|p| id.starts_with(p.as_str()))
                    && query.seen_before_us.is_none_or(|t| a.last_seen_us < t)
                    && query
                        .after
                        .as_ref()
                        .is_none_or(|(s, i)| (scheme, id) > (s, i))
            })
            .take(limit)
            .map(|(_, a)| a.clone())
            .collect())
    }

    async fn verdict_history(&self, since_minute: i64) -> Result<Vec<VerdictCount>, StoreError> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        Ok(state
            .history
            .range((since_minute, String::new(), String::new())..)
            .map(|((minute, scheme, status), verdicts)| VerdictCount {
                minute: *minute,
                scheme: scheme.clone(),
                status: status.clone(),
                verdicts: *verdicts,
            })
            .collect())
    }
}
