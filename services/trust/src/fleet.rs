//! Recording each attester's last verdict, off the hot path.
//!
//! An appraisal hands its verdict to [`FleetRecorder::record`], which only
//! takes a mutex to put it in a map (one entry per attester, the latest
//! winning) and counts it for the history; nothing on the verification path
//! waits for the store. A background task writes what gathered as one
//! batch every [`FleetConfig::flush_interval`], or sooner once
//! [`FleetConfig::batch_size`] attesters wait. A batch the store refuses
//! goes back into the map (newer verdicts keep winning) and is retried on
//! the next tick. Past [`FleetConfig::max_pending`] attesters waiting (the
//! store down for long), verdicts on new attesters are dropped and counted
//! in the log, so memory stays bounded; the attesters already waiting keep
//! their latest verdict.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use vouch_ear::{Ear, TrustVector};
use vouch_store::fleet::minute_of;
use vouch_store::{EndorsementStore, FleetBatch, FleetVerdict, VerdictCount};

use crate::service::now_micros as now_us;

/// Tuning of the fleet recorder.
#[derive(Debug, Clone, Copy)]
pub struct FleetConfig {
    /// How often waiting verdicts are written.
    pub flush_interval: Duration,
    /// Waiting attesters that start a write before the interval is up.
    pub batch_size: usize,
    /// Most attesters waiting; verdicts on others are dropped beyond it.
    pub max_pending: usize,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            flush_interval: Duration::from_secs(1),
            batch_size: 5_000,
            max_pending: 200_000,
        }
    }
}

/// One attester's latest verdict, as kept until written.
struct Pending {
    scheme: &'static str,
    status: &'static str,
    /// The EAR's trust vectors by submod; serialised when written, not
    /// on the appraisal path.
    vectors: Vec<(String, TrustVector)>,
    seen_us: i64,
    appraisals: u64,
}

#[derive(Default)]
struct Waiting {
    /// (scheme, attester id) → latest verdict.
    attesters: HashMap<(&'static str, String), Pending>,
    /// (minute, scheme, status) → verdicts.
    history: HashMap<(i64, &'static str, &'static str), u64>,
    /// Verdicts dropped since the last report.
    dropped: u64,
}

/// Gathers verdicts and writes them to the store in batches. Public for
/// the bench of what noting a verdict costs (`benches/fleet_record.rs`).
pub struct FleetRecorder {
    waiting: Mutex<Waiting>,
    wake: Notify,
    /// One write at a time (the background task, or a final flush).
    writing: tokio::sync::Mutex<()>,
    config: FleetConfig,
}

/// An attester's id as the fleet status shows it: base64url of the
/// scheme's trust-anchor id, the key it was provisioned under.
pub(crate) fn attester_id(trust_anchor_id: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(trust_anchor_id)
}

impl FleetRecorder {
    /// A recorder with nothing waiting; the trust service runs the task
    /// that writes.
    pub fn new(config: FleetConfig) -> Arc<Self> {
        Arc::new(FleetRecorder {
            waiting: Mutex::new(Waiting::default()),
            wake: Notify::new(),
            writing: tokio::sync::Mutex::new(()),
            config,
        })
    }

    /// Notes `ear`, the verdict on the attester whose trust anchor is
    /// `trust_anchor_id`. Cheap: no I/O, no serialisation.
    pub fn record(&self, scheme: &'static str, trust_anchor_id: &[u8], ear: &Ear) {
        let seen_us = now_us();
        let status = ear.status().as_str();
        let vectors = ear
            .submods
            .iter()
            .map(|(name, appraisal)| (name.clone(), appraisal.trust_vector))
            .collect();
        let key = (scheme, attester_id(trust_anchor_id));
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        *waiting
            .history
            .entry((minute_of(seen_us), scheme, status))
            .or_default() += 1;
        let waiting_now = waiting.attesters.len();
        match waiting.attesters.get_mut(&key) {
            Some(pending) => {
                pending.status = status;
                pending.vectors = vectors;
                pending.seen_us = pending.seen_us.max(seen_us);
                pending.appraisals += 1;
            }
            None if waiting_now >= self.config.max_pending => waiting.dropped += 1,
            None => {
                waiting.attesters.insert(
                    key,
                    Pending {
                        scheme,
                        status,
                        vectors,
                        seen_us,
                        appraisals: 1,
                    },
                );
                if waiting_now + 1 == self.config.batch_size {
                    self.wake.notify_one();
                }
            }
        }
    }

    /// Writes what is waiting every interval (or when a batch fills) until
    /// `stop`, then once more.
    pub(crate) async fn run(
        self: Arc<Self>,
        store: Arc<dyn EndorsementStore>,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(self.config.flush_interval) => {}
                () = self.wake.notified() => {}
            }
            self.flush(store.as_ref()).await;
        }
        self.flush(store.as_ref()).await;
    }

    /// Writes everything waiting as one batch; on failure puts it back.
    /// Returns whether nothing is left waiting.
    pub(crate) async fn flush(&self, store: &dyn EndorsementStore) -> bool {
        let _writing = self.writing.lock().await;
        let taken =
            std::mem::take(&mut *self.waiting.lock().unwrap_or_else(PoisonError::into_inner));
        if taken.dropped > 0 {
            tracing::warn!(
                dropped = taken.dropped,
                max_pending = self.config.max_pending,
                "fleet status: verdicts dropped while the store was not taking them"
            );
        }
        if taken.attesters.is_empty() && taken.history.is_empty() {
            return true;
        }
        let batch = batch_of(&taken);
        match store.fleet_store().record_verdicts(&batch, now_us()).await {
            Ok(()) => {
                tracing::debug!(attesters = batch.attesters.len(), "fleet status written");
                true
            }
            Err(error) => {
                tracing::warn!(%error, attesters = batch.attesters.len(), "writing fleet status failed; retrying");
                self.put_back(taken);
                false
            }
        }
    }

    /// Merges a batch that could not be written back into what is waiting:
    /// a verdict reached since keeps winning; appraisals and history add up.
    fn put_back(&self, taken: Waiting) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, count) in taken.history {
            *waiting.history.entry(key).or_default() += count;
        }
        for (key, older) in taken.attesters {
            let waiting_now = waiting.attesters.len();
            match waiting.attesters.get_mut(&key) {
                Some(newer) => newer.appraisals += older.appraisals,
                None if waiting_now >= self.config.max_pending => waiting.dropped += 1,
                None => {
                    waiting.attesters.insert(key, older);
                }
            }
        }
    }
}

fn batch_of(taken: &Waiting) -> FleetBatch {
    FleetBatch {
        attesters: taken
            .attesters
            .iter()
            .map(|((_, id), pending)| FleetVerdict {
                scheme: pending.scheme.to_owned(),
                attester_id: id.clone(),
                status: pending.status.to_owned(),
                trust_vector: trust_vectors_json(&pending.vectors),
                seen_us: pending.seen_us,
                appraisals: pending.appraisals,
            })
            .collect(),
        history: taken
            .history
            .iter()
            .map(|(&(minute, scheme, status), &verdicts)| VerdictCount {
                minute,
                scheme: scheme.to_owned(),
                status: status.to_owned(),
                verdicts,
            })
            .collect(),
    }
}

/// The trust vectors by submod as one JSON object, each as the EAR writes
/// it (claim names, integer values).
fn trust_vectors_json(vectors: &[(String, TrustVector)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = vectors
        .iter()
        .map(|(name, vector)| {
            (
                name.clone(),
                serde_json::to_value(vector).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use vouch_ear::{Appraisal, TrustClaim, TrustTier, VerifierId};
    use vouch_store::{AttesterQuery, MemoryStore};

    fn ear(tier: TrustTier) -> Ear {
        let mut ear = Ear::new(
            "",
            VerifierId {
                build: "test".into(),
                developer: "Vouch".into(),
            },
            0,
        );
        ear.submods.clear();
        let mut appraisal = Appraisal::new();
        appraisal.trust_vector.hardware = TrustClaim(2);
        appraisal.status = tier;
        ear.submods.insert("PSA_IOT".into(), appraisal);
        ear
    }

    fn all() -> AttesterQuery {
        AttesterQuery::all(100)
    }

    #[tokio::test]
    async fn verdicts_gather_per_attester_and_are_written_in_one_batch() {
        let store = Arc::new(MemoryStore::new());
        let recorder = FleetRecorder::new(FleetConfig::default());
        recorder.record("PSA_IOT", &[1, 2, 3], &ear(TrustTier::Affirming));
        recorder.record("PSA_IOT", &[1, 2, 3], &ear(TrustTier::Warning));
        recorder.record("PSA_IOT", &[4], &ear(TrustTier::Contraindicated));
        assert!(
            store
                .fleet_store()
                .attesters(&all())
                .await
                .unwrap()
                .is_empty()
        );
        assert!(recorder.flush(store.as_ref()).await);
        let listed = store.fleet_store().attesters(&all()).await.unwrap();
        let seen: Vec<_> = listed
            .iter()
            .map(|a| (a.attester_id.as_str(), a.status.as_str(), a.appraisals))
            .collect();
        assert_eq!(seen, [("AQID", "warning", 2), ("BA", "contraindicated", 1)]);
        let vectors: serde_json::Value = serde_json::from_str(&listed[0].trust_vector).unwrap();
        assert_eq!(vectors["PSA_IOT"]["hardware"], 2);
        let history = store.fleet_store().verdict_history(0).await.unwrap();
        assert_eq!(history.iter().map(|h| h.verdicts).sum::<u64>(), 3);
        // Nothing left to write.
        assert!(recorder.flush(store.as_ref()).await);
        assert_eq!(
            store.fleet_store().verdict_history(0).await.unwrap(),
            history
        );
    }

    #[tokio::test]
    async fn past_the_bound_new_attesters_are_dropped_and_known_ones_kept() {
        let store = Arc::new(MemoryStore::new());
        let recorder = FleetRecorder::new(FleetConfig {
            max_pending: 2,
            ..FleetConfig::default()
        });
        recorder.record("PSA_IOT", &[1], &ear(TrustTier::Affirming));
        recorder.record("PSA_IOT", &[2], &ear(TrustTier::Affirming));
        recorder.record("PSA_IOT", &[3], &ear(TrustTier::Affirming));
        recorder.record("PSA_IOT", &[1], &ear(TrustTier::Warning));
        assert!(recorder.flush(store.as_ref()).await);
        let listed = store.fleet_store().attesters(&all()).await.unwrap();
        let seen: Vec<_> = listed
            .iter()
            .map(|a| (a.attester_id.as_str(), a.status.as_str()))
            .collect();
        assert_eq!(seen, [("AQ", "warning"), ("Ag", "affirming")]);
    }

    #[test]
    fn a_batch_put_back_yields_to_newer_verdicts_and_adds_up() {
        let recorder = FleetRecorder::new(FleetConfig::default());
        recorder.record("PSA_IOT", &[1], &ear(TrustTier::Affirming));
        let taken = std::mem::take(&mut *recorder.waiting.lock().unwrap());
        recorder.record("PSA_IOT", &[1], &ear(TrustTier::Warning));
        recorder.put_back(taken);
        let waiting = recorder.waiting.lock().unwrap();
        let pending = &waiting.attesters[&("PSA_IOT", "AQ".to_owned())];
        assert_eq!((pending.status, pending.appraisals), ("warning", 2));
        assert_eq!(waiting.history.values().sum::<u64>(), 2);
    }

    #[tokio::test]
    async fn the_background_task_writes_on_its_interval() {
        let store: Arc<dyn EndorsementStore> = Arc::new(MemoryStore::new());
        let recorder = FleetRecorder::new(FleetConfig {
            flush_interval: Duration::from_millis(20),
            ..FleetConfig::default()
        });
        let stop = CancellationToken::new();
        let task = tokio::spawn(recorder.clone().run(store.clone(), stop.clone()));
        recorder.record("PSA_IOT", &[1], &ear(TrustTier::Affirming));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while store
            .fleet_store()
            .attesters(&all())
            .await
            .unwrap()
            .is_empty()
        {
            assert!(tokio::time::Instant::now() < deadline, "never written");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.cancel();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn the_background_task_writes_what_waits_when_stopped() {
        let store: Arc<dyn EndorsementStore> = Arc::new(MemoryStore::new());
        let recorder = FleetRecorder::new(FleetConfig {
            flush_interval: Duration::from_secs(3600),
            ..FleetConfig::default()
        });
        let stop = CancellationToken::new();
        let task = tokio::spawn(recorder.clone().run(store.clone(), stop.clone()));
        recorder.record("PSA_IOT", &[2], &ear(TrustTier::Affirming));
        stop.cancel();
        task.await.unwrap();
        assert_eq!(
            store.fleet_store().attesters(&all()).await.unwrap().len(),
            1
        );
    }
}
