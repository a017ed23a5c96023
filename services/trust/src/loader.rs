//! Batched trust-anchor loads for the endorsement cache's misses.
//!
//! A fleet calling home after provisioning misses the cache on every
//! attester. One query per miss made the store's connection pool the
//! bottleneck: with 200 attestations in flight and 8 SQLite connections,
//! each lookup waited 46 ms for a connection (`vouch_db_pool_acquire_seconds`)
//! while SQLite itself used 2.5 % of the CPU, and a heavier store (deeper
//! B-trees, more pages to read) lengthened every wait. So misses queue here
//! and go to the store together: one query for all the ids that arrived
//! while the previous queries ran ([`EndorsementStore::trust_anchors`]).
//!
//! When the store is idle a miss goes out at once, alone, so a lone
//! attester waits for nothing; under load the batches grow by themselves,
//! up to [`MAX_BATCH`], and at most [`IN_FLIGHT`] queries run at once.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};
use vouch_store::{EndorsementStore, StoreError, TrustAnchorRecord};

/// Ids per store query at most.
pub(crate) const MAX_BATCH: usize = 256;

/// Store queries running at once: half the default pool, so that the other
/// lookups (reference values, policies, the fleet recorder) always find a
/// connection.
pub(crate) const IN_FLIGHT: usize = 4;

/// Misses that may wait for a batch before a new one waits for room.
const QUEUE: usize = 16 * MAX_BATCH;

/// A store error is shared by every request of the batch that met it.
pub(crate) type SharedStoreError = Arc<StoreError>;

type Reply = oneshot::Sender<Result<Option<TrustAnchorRecord>, SharedStoreError>>;

struct Request {
    scheme: &'static str,
    ta_id: Vec<u8>,
    reply: Reply,
}

/// Loads trust anchors in batches. Cheap to clone.
#[derive(Clone)]
pub(crate) struct TrustAnchorLoader {
    requests: mpsc::Sender<Request>,
}

impl TrustAnchorLoader {
    /// Starts the batching task over `store`. Must be called inside a Tokio
    /// runtime; the task ends when the last loader is dropped.
    pub(crate) fn start(store: Arc<dyn EndorsementStore>) -> Self {
        let (requests, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, receiver));
        TrustAnchorLoader { requests }
    }

    /// The trust anchor of `(scheme, ta_id)`, as
    /// [`EndorsementStore::trust_anchor`] answers it.
    pub(crate) async fn load(
        &self,
        scheme: &'static str,
        ta_id: &[u8],
    ) -> Result<Option<TrustAnchorRecord>, SharedStoreError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            scheme,
            ta_id: ta_id.to_vec(),
            reply,
        };
        self.requests.send(request).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> SharedStoreError {
    Arc::new(StoreError::Config(
        "the trust-anchor loader has stopped".to_owned(),
    ))
}

/// Takes the waiting misses in batches, each as soon as a query slot is
/// free, and runs each batch as its own task.
async fn run(store: Arc<dyn EndorsementStore>, mut receiver: mpsc::Receiver<Request>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = receiver.recv().await {
        // While every slot is busy, misses pile up in the channel: that is
        // what makes the next batch bigger.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        let store = store.clone();
        tokio::spawn(async move {
            answer(store.as_ref(), batch).await;
            drop(permit);
        });
    }
}

/// Looks a batch up, one query per scheme, and answers every request.
async fn answer(store: &dyn EndorsementStore, batch: Vec<Request>) {
    let mut by_scheme: HashMap<&'static str, (Vec<Vec<u8>>, Vec<Reply>)> = HashMap::new();
    for request in batch {
        let (ids, replies) = by_scheme.entry(request.scheme).or_default();
        ids.push(request.ta_id);
        replies.push(request.reply);
    }
    for (scheme, (ids, replies)) in by_scheme {
        let result = if let [only] = ids.as_slice() {
            // Alone, the single-row query is the cheaper one.
            store
                .trust_anchor(scheme, only)
                .await
                .map(|found| found.into_iter().collect())
        } else {
            store.trust_anchors(scheme, &ids).await
        };
        match result {
            Ok(records) => {
                let found: HashMap<&[u8], &TrustAnchorRecord> = records
                    .iter()
                    .map(|record| (record.ta_id.as_slice(), record))
                    .collect();
                for (id, reply) in ids.iter().zip(replies) {
                    let _ = reply.send(Ok(found.get(id.as_slice()).map(|r| (*r).clone())));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use vouch_store::{CorimRecord, MemoryStore, Submission};

    use super::*;
    use crate::test_store::FaultyStore;

    const DEVICES: usize = 600;

    async fn provisioned() -> Arc<FaultyStore> {
        let inner = MemoryStore::new();
        let trust_anchors = (0..DEVICES)
            .map(|i| TrustAnchorRecord {
                scheme: "PSA_IOT".to_owned(),
                ta_id: format!("device-{i}").into_bytes(),
                rv_id: b"impl".to_vec(),
                key: format!("key-{i}").into_bytes(),
                not_after: None,
            })
            .collect();
        let submission = Submission {
            corim: CorimRecord {
                digest: [7; 32],
                scheme: "PSA_IOT".to_owned(),
                media_type: "application/corim-unsigned+cbor".to_owned(),
                profile: "http://arm.com/psa/iot/1".to_owned(),
                corim_id: "loader".to_owned(),
                not_after: None,
                body: vec![0],
            },
            trust_anchors,
            reference_values: Vec::new(),
        };
        inner.submit(&submission).await.unwrap();
        Arc::new(FaultyStore::new(inner, Duration::from_millis(20)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_share_queries_and_each_gets_its_own_answer() {
        let store = provisioned().await;
        let loader = TrustAnchorLoader::start(store.clone());
        let mut tasks = tokio::task::JoinSet::new();
        // Every device, a stranger per ten, all at once.
        for i in 0..DEVICES + DEVICES / 10 {
            let loader = loader.clone();
            tasks.spawn(async move {
                let id = if i < DEVICES {
                    format!("device-{i}")
                } else {
                    format!("stranger-{i}")
                };
                (i, loader.load("PSA_IOT", id.as_bytes()).await.unwrap())
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (i, found) = joined.unwrap();
            match found {
                Some(record) if i < DEVICES => {
                    assert_eq!(record.ta_id, format!("device-{i}").into_bytes());
                    assert_eq!(record.key, format!("key-{i}").into_bytes());
                }
                None if i >= DEVICES => {}
                other => panic!("request {i} got {other:?}"),
            }
        }
        let queries = store.queries.load(Ordering::SeqCst);
        let largest = store.largest_batch.load(Ordering::SeqCst);
        assert!(
            queries < 60,
            "660 concurrent misses took {queries} queries (largest batch {largest})"
        );
        assert!(
            largest > 1 && largest <= MAX_BATCH,
            "largest batch {largest}"
        );
    }

    #[tokio::test]
    async fn a_lone_miss_is_one_single_row_query() {
        let store = provisioned().await;
        let loader = TrustAnchorLoader::start(store.clone());
        let found = loader.load("PSA_IOT", b"device-3").await.unwrap();
        assert_eq!(found.unwrap().key, b"key-3");
        assert_eq!(loader.load("PSA_IOT", b"nobody").await.unwrap(), None);
        assert_eq!(store.queries.load(Ordering::SeqCst), 2);
        assert_eq!(store.largest_batch.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_query_fails_every_miss_of_its_batch_and_no_other() {
        let store = provisioned().await;
        let loader = TrustAnchorLoader::start(store.clone());
        store.down.store(true, Ordering::SeqCst);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..50 {
            let loader = loader.clone();
            tasks.spawn(async move {
                loader
                    .load("PSA_IOT", format!("device-{i}").as_bytes())
                    .await
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let error = joined.unwrap().unwrap_err();
            assert!(error.to_string().contains("switched off"), "{error}");
        }
        store.down.store(false, Ordering::SeqCst);
        assert!(loader.load("PSA_IOT", b"device-1").await.unwrap().is_some());
    }
}
