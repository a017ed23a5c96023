//! A store for trust's unit tests: the memory store, with failures that can
//! be switched on and trust-anchor lookups that are counted and slowed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use vouch_store::{
    Backend, EndorsementStore, FleetStore, MemoryStore, PolicyStore, ReferenceValueRecord,
    StoreChange, StoreError, StoreStats, Submission, SubmitOutcome, TrustAnchorRecord,
};

/// The memory store, except that while `down` is set its readiness ping
/// and trust-anchor lookups fail, and that each trust-anchor query waits
/// `pause` first (so that misses pile up as they do behind a busy database).
pub(crate) struct FaultyStore {
    pub(crate) inner: MemoryStore,
    pub(crate) down: AtomicBool,
    pause: Duration,
    /// Trust-anchor queries so far (single or batched).
    pub(crate) queries: AtomicUsize,
    /// The most ids one trust-anchor query asked for.
    pub(crate) largest_batch: AtomicUsize,
}

impl FaultyStore {
    pub(crate) fn new(inner: MemoryStore, pause: Duration) -> Self {
        FaultyStore {
            inner,
            down: AtomicBool::new(false),
            pause,
            queries: AtomicUsize::new(0),
            largest_batch: AtomicUsize::new(0),
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Config("switched off".to_owned()));
        }
        Ok(())
    }

    async fn count_and_pause(&self, ids: usize) -> Result<(), StoreError> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        self.largest_batch.fetch_max(ids, Ordering::SeqCst);
        tokio::time::sleep(self.pause).await;
        self.check()
    }
}

#[async_trait]
impl EndorsementStore for FaultyStore {
    async fn submit(&self, submission: &Submission) -> Result<SubmitOutcome, StoreError> {
        self.inner.submit(submission).await
    }
    async fn trust_anchor(
        &self,
        scheme: &str,
        ta_id: &[u8],
    ) -> Result<Option<TrustAnchorRecord>, StoreError> {
        self.count_and_pause(1).await?;
        self.inner.trust_anchor(scheme, ta_id).await
    }
    async fn trust_anchors(
        &self,
        scheme: &str,
        ta_ids: &[Vec<u8>],
    ) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        self.count_and_pause(ta_ids.len()).await?;
        self.inner.trust_anchors(scheme, ta_ids).await
    }
    async fn reference_values(
        &self,
        scheme: &str,
        rv_id: &[u8],
    ) -> Result<Vec<ReferenceValueRecord>, StoreError> {
        self.inner.reference_values(scheme, rv_id).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.check()?;
        self.inner.ping().await
    }
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats().await
    }
    fn subscribe(&self) -> broadcast::Receiver<StoreChange> {
        self.inner.subscribe()
    }
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
    fn policy_store(&self) -> &dyn PolicyStore {
        self.inner.policy_store()
    }
    fn fleet_store(&self) -> &dyn FleetStore {
        self.inner.fleet_store()
    }
    async fn close(&self) {
        self.inner.close().await;
    }
}
