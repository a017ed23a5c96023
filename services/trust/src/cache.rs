//! The in-process endorsement cache that keeps the database off the hot path.
//!
//! Trust anchors and reference values only change when something is
//! provisioned, so after the first lookup for a device its answer (including
//! "no such device") is served from memory. Every instance subscribes to the
//! store's change feed and drops the affected entries; a lost event drops
//! everything.
//!
//! A lookup that raced with an invalidation must not put its stale answer
//! back into the cache. Every invalidation bumps a generation counter first;
//! a lookup only caches its result when the generation it saw before going
//! to the database is still current.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use tokio::sync::broadcast::error::RecvError;
use vouch_metrics::{CacheKind, Metrics};
use vouch_schemes::{DecodedReference, Scheme, TrustAnchorKey};
use vouch_store::{EndorsementStore, StoreChange, StoreError};

use crate::loader::{SharedStoreError, TrustAnchorLoader};

/// A cached trust anchor.
#[derive(Debug)]
pub(crate) struct CachedTrustAnchor {
    pub(crate) key: TrustAnchorKey,
    pub(crate) reference_id: Box<[u8]>,
    pub(crate) not_after: Option<i64>,
}

/// A cached reference value, decoded by its scheme.
pub(crate) struct CachedMeasurement {
    pub(crate) measurement: DecodedReference,
    pub(crate) not_after: Option<i64>,
}

/// One scheme's entries. There is one trust-anchor entry per attester, so
/// its bookkeeping is what a fleet pays in memory: `quick_cache` keeps
/// entries inline in its shards' tables, where `moka` spent about 270 bytes
/// of its own per entry, which took trust past 1 KiB per cached attester
/// (docs/performance.md, "Memory per cached attester").
struct SchemeCache {
    trust_anchors: Cache<Box<[u8]>, Option<Arc<CachedTrustAnchor>>>,
    reference_values: Cache<Box<[u8]>, Arc<[CachedMeasurement]>>,
}

/// Sizes of the cache.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    /// Trust anchors (devices) kept per scheme.
    pub trust_anchors: u64,
    /// Reference-value sets (device classes) kept per scheme.
    pub reference_values: u64,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            trust_anchors: 2_000_000,
            reference_values: 100_000,
        }
    }
}

/// Errors the cache passes on from the store or from stored data.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A batched trust-anchor load's error, shared by its batch.
    #[error(transparent)]
    Batch(#[from] SharedStoreError),
    #[error("stored endorsement is corrupt: {0}")]
    Corrupt(String),
}

pub(crate) struct EndorsementCache {
    generation: AtomicU64,
    /// Misses go to the store in batches.
    loader: TrustAnchorLoader,
    schemes: HashMap<&'static str, SchemeCache>,
    metrics: Metrics,
}

impl EndorsementCache {
    /// A cache over `store`. Must be called inside a Tokio runtime: it
    /// starts the task that batches trust-anchor misses.
    pub(crate) fn new(
        store: Arc<dyn EndorsementStore>,
        scheme_names: impl Iterator<Item = &'static str>,
        limits: CacheLimits,
        metrics: Metrics,
    ) -> Self {
        let schemes = scheme_names
            .map(|name| {
                (
                    name,
                    SchemeCache {
                        trust_anchors: Cache::new(capacity(limits.trust_anchors)),
                        reference_values: Cache::new(capacity(limits.reference_values)),
                    },
                )
            })
            .collect();
        EndorsementCache {
            generation: AtomicU64::new(0),
            loader: TrustAnchorLoader::start(store),
            schemes,
            metrics,
        }
    }

    pub(crate) async fn trust_anchor(
        &self,
        scheme: &'static str,
        ta_id: &[u8],
    ) -> Result<Option<Arc<CachedTrustAnchor>>, LookupError> {
        let cache = self.schemes.get(scheme);
        if let Some(hit) = cache.and_then(|c| c.trust_anchors.get(ta_id)) {
            self.metrics.cache_lookup(CacheKind::TrustAnchor, true);
            return Ok(hit);
        }
        self.metrics.cache_lookup(CacheKind::TrustAnchor, false);
        let seen = self.generation.load(Ordering::SeqCst);
        let record = self.loader.load(scheme, ta_id).await?;
        let value = match record {
            Some(r) => Some(Arc::new(CachedTrustAnchor {
                key: TrustAnchorKey::from_bytes(&r.key).map_err(LookupError::Corrupt)?,
                reference_id: r.rv_id.into_boxed_slice(),
                not_after: r.not_after,
            })),
            None => None,
        };
        if let Some(cache) = cache
            && self.generation.load(Ordering::SeqCst) == seen
        {
            cache.trust_anchors.insert(ta_id.into(), value.clone());
        }
        Ok(value)
    }

    pub(crate) async fn reference_values(
        &self,
        store: &dyn EndorsementStore,
        scheme: &dyn Scheme,
        rv_id: &[u8],
    ) -> Result<Arc<[CachedMeasurement]>, LookupError> {
        let cache = self.schemes.get(scheme.name());
        if let Some(hit) = cache.and_then(|c| c.reference_values.get(rv_id)) {
            self.metrics.cache_lookup(CacheKind::ReferenceValues, true);
            return Ok(hit);
        }
        self.metrics.cache_lookup(CacheKind::ReferenceValues, false);
        let seen = self.generation.load(Ordering::SeqCst);
        let records = store.reference_values(scheme.name(), rv_id).await?;
        let value = records
            .iter()
            .map(|r| {
                Ok(CachedMeasurement {
                    measurement: scheme
                        .decode_reference_value(&r.body)
                        .map_err(|e| LookupError::Corrupt(e.to_string()))?,
                    not_after: r.not_after,
                })
            })
            .collect::<Result<Arc<[_]>, LookupError>>()?;
        if let Some(cache) = cache
            && self.generation.load(Ordering::SeqCst) == seen
        {
            cache.reference_values.insert(rv_id.into(), value.clone());
        }
        Ok(value)
    }

    /// Drops the entries a provisioning touched.
    pub(crate) fn invalidate(&self, scheme: &str, ta_ids: &[Vec<u8>], rv_ids: &[Vec<u8>]) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        match self.schemes.get(scheme) {
            Some(cache) => {
                for id in ta_ids {
                    cache.trust_anchors.remove(id.as_slice());
                }
                for id in rv_ids {
                    cache.reference_values.remove(id.as_slice());
                }
            }
            None => self.invalidate_all(),
        }
    }

    /// Drops everything.
    pub(crate) fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for cache in self.schemes.values() {
            cache.trust_anchors.clear();
            cache.reference_values.clear();
        }
    }

    /// Applies the store's change feed until the store closes it.
    pub(crate) async fn follow(self: Arc<Self>, store: Arc<dyn EndorsementStore>) {
        let mut feed = store.subscribe();
        loop {
            match feed.recv().await {
                Ok(StoreChange::Changed {
                    scheme,
                    ta_ids,
                    rv_ids,
                }) => self.invalidate(&scheme, &ta_ids, &rv_ids),
                // Policies are not endorsements; the policy cache follows those.
                Ok(StoreChange::Policies { .. }) => {}
                Ok(StoreChange::Resync) => {
                    tracing::info!("store asked for a resync; dropping the endorsement cache");
                    self.invalidate_all();
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "endorsement change feed lagged; dropping the cache");
                    self.invalidate_all();
                }
                Err(RecvError::Closed) => return,
            }
        }
    }

    pub(crate) fn entry_count(&self) -> u64 {
        self.schemes
            .values()
            .map(|c| c.trust_anchors.len() + c.reference_values.len())
            .map(|n| u64::try_from(n).unwrap_or(u64::MAX))
            .sum()
    }
}

/// A configured entry count as `quick_cache` takes it (saturating where
/// `usize` is narrower than the configuration's `u64`).
fn capacity(entries: u64) -> usize {
    usize::try_from(entries).unwrap_or(usize::MAX)
}
