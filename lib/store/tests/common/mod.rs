//! Builders shared by the integration tests.

#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod fleet;

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::broadcast;
use vouch_store::testing::{TestPostgres, TestSqlite};
use vouch_store::{
    CorimRecord, EndorsementStore, MemoryStore, ReferenceValueRecord, StoreChange, StoreConfig,
    Submission, TrustAnchorRecord,
};

/// Generates one test per case and backend: `memory::case`, `sqlite::case`,
/// `postgres::case`. Each case is an `async fn(Harness)` of the test file.
#[macro_export]
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Harness::memory()).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(super::Harness::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(harness) = super::Harness::postgres().await else { return };
                    super::$case(harness).await;
                }
            )*
        }
    };
}

pub const SCHEME: &str = "PSA_IOT";

/// One backend under test.
pub enum Harness {
    Memory(Arc<MemoryStore>),
    Sqlite(TestSqlite),
    Postgres(TestPostgres),
}

impl Harness {
    pub fn memory() -> Self {
        Self::Memory(Arc::new(MemoryStore::new()))
    }

    pub fn sqlite() -> Self {
        Self::Sqlite(TestSqlite::new().expect("temporary directory"))
    }

    /// `None` when PostgreSQL is unreachable outside CI (the helper says so).
    pub async fn postgres() -> Option<Self> {
        TestPostgres::create().await.map(Self::Postgres)
    }

    pub fn config(&self) -> StoreConfig {
        match self {
            Self::Memory(_) => StoreConfig::new("memory:"),
            Self::Sqlite(db) => db.config(),
            Self::Postgres(db) => db.config(),
        }
    }

    /// A store instance (for SQL backends, a new pool on the same database).
    pub async fn store(&self) -> Arc<dyn EndorsementStore> {
        self.store_with(self.config()).await
    }

    pub async fn store_with(&self, config: StoreConfig) -> Arc<dyn EndorsementStore> {
        match self {
            Self::Memory(store) => store.clone(),
            _ => vouch_store::connect(&config).await.expect("connect"),
        }
    }
}

pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// A CoRIM whose bytes (and so digest) are determined by `tag`.
pub fn corim(tag: &str) -> CorimRecord {
    let body = format!("corim bytes for {tag}").into_bytes();
    CorimRecord {
        digest: digest(&body),
        scheme: SCHEME.into(),
        media_type: "application/corim-unsigned+cbor; profile=\"http://arm.com/psa/iot/1\"".into(),
        profile: "http://arm.com/psa/iot/1".into(),
        corim_id: format!("corim-{tag}"),
        not_after: Some(2_000_000_000),
        body,
    }
}

pub fn ta(ta_id: &[u8], rv_id: &[u8], key: &[u8]) -> TrustAnchorRecord {
    TrustAnchorRecord {
        scheme: SCHEME.into(),
        ta_id: ta_id.to_vec(),
        rv_id: rv_id.to_vec(),
        key: key.to_vec(),
        not_after: None,
    }
}

pub fn rv(rv_id: &[u8], body: &[u8], not_after: Option<i64>) -> ReferenceValueRecord {
    ReferenceValueRecord {
        scheme: SCHEME.into(),
        rv_id: rv_id.to_vec(),
        body: body.to_vec(),
        not_after,
    }
}

pub fn submission(
    tag: &str,
    trust_anchors: Vec<TrustAnchorRecord>,
    reference_values: Vec<ReferenceValueRecord>,
) -> Submission {
    Submission {
        corim: corim(tag),
        trust_anchors,
        reference_values,
    }
}

/// `count` trust anchors and as many reference values, ids derived from `seed`.
pub fn bulk_submission(tag: &str, seed: u32, count: u32) -> Submission {
    let id = |kind: &[u8], i: u32| {
        let mut id = kind.to_vec();
        id.extend_from_slice(&seed.to_be_bytes());
        id.extend_from_slice(&i.to_be_bytes());
        id
    };
    submission(
        tag,
        (0..count)
            .map(|i| ta(&id(b"ta", i), &id(b"rv", i), &[0x30; 91]))
            .collect(),
        (0..count)
            .map(|i| rv(&id(b"rv", i), &id(b"measurement", i), None))
            .collect(),
    )
}

/// The next event, failing the test if none arrives within `within`.
pub async fn next_event(
    receiver: &mut broadcast::Receiver<StoreChange>,
    within: Duration,
) -> StoreChange {
    tokio::time::timeout(within, receiver.recv())
        .await
        .unwrap_or_else(|_| panic!("no change event within {within:?}"))
        .expect("change feed open and not lagging")
}

/// Asserts that no event arrives within `within`.
pub async fn no_event(receiver: &mut broadcast::Receiver<StoreChange>, within: Duration) {
    if let Ok(event) = tokio::time::timeout(within, receiver.recv()).await {
        panic!("unexpected change event {event:?}");
    }
}

/// A policy of `SCHEME` whose id is `[id; 16]`.
pub fn new_policy(id: u8, name: &str, rules: &str) -> vouch_store::NewPolicy {
    vouch_store::NewPolicy {
        id: [id; 16],
        scheme: SCHEME.into(),
        name: name.into(),
        rules: rules.into(),
        created_at_us: 1_700_000_000_000_000 + i64::from(id),
    }
}
