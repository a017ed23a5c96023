//! Trust-anchor and reference-value lookups on SQLite with 10,000 trust
//! anchors (and 10,000 reference values) stored: hit and miss.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vouch_store::testing::TestSqlite;
use vouch_store::{
    CorimRecord, EndorsementStore, ReferenceValueRecord, SqliteStore, Submission, SubmitOutcome,
    TrustAnchorRecord,
};

const ROWS: u32 = 10_000;
const SCHEME: &str = "PSA_IOT";

fn ta_id(i: u32) -> Vec<u8> {
    let mut id = b"implementation-id-0000000000001".to_vec();
    id.extend_from_slice(&i.to_be_bytes());
    id
}

fn rv_id(i: u32) -> Vec<u8> {
    let mut id = b"implementation-".to_vec();
    id.extend_from_slice(&i.to_be_bytes());
    id
}

fn submission() -> Submission {
    Submission {
        corim: CorimRecord {
            digest: [0x42; 32],
            scheme: SCHEME.into(),
            media_type: "application/corim-unsigned+cbor; profile=\"http://arm.com/psa/iot/1\""
                .into(),
            profile: "http://arm.com/psa/iot/1".into(),
            corim_id: "bench".into(),
            not_after: None,
            body: vec![0xa0; 64],
        },
        trust_anchors: (0..ROWS)
            .map(|i| TrustAnchorRecord {
                scheme: SCHEME.into(),
                ta_id: ta_id(i),
                rv_id: rv_id(i),
                key: vec![0x30; 91],
                not_after: None,
            })
            .collect(),
        reference_values: (0..ROWS)
            .map(|i| ReferenceValueRecord {
                scheme: SCHEME.into(),
                rv_id: rv_id(i),
                body: i.to_le_bytes().repeat(16),
                not_after: None,
            })
            .collect(),
    }
}

fn lookups(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let db = TestSqlite::new().expect("temporary directory");
    let store = runtime.block_on(async {
        let store = SqliteStore::connect(&db.config()).await.expect("connect");
        assert_eq!(
            store.submit(&submission()).await.expect("submit"),
            SubmitOutcome::Stored
        );
        store
    });

    let mut group = c.benchmark_group("sqlite_10k");
    let mut i = 0u32;
    group.bench_function("trust_anchor_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % ROWS;
            let found = runtime
                .block_on(store.trust_anchor(SCHEME, &ta_id(i)))
                .expect("lookup");
            black_box(found.expect("stored"))
        })
    });
    group.bench_function("trust_anchor_miss", |b| {
        b.iter(|| {
            i = (i + 7919) % ROWS;
            let found = runtime
                .block_on(store.trust_anchor(SCHEME, &ta_id(ROWS + i)))
                .expect("lookup");
            assert!(found.is_none());
            black_box(found)
        })
    });
    group.bench_function("reference_values_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % ROWS;
            let found = runtime
                .block_on(store.reference_values(SCHEME, &rv_id(i)))
                .expect("lookup");
            black_box(found)
        })
    });
    group.finish();
    runtime.block_on(store.close());
}

criterion_group!(benches, lookups);
criterion_main!(benches);
