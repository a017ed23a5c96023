//! Memory session store: one put followed by one get, the per-request cost of
//! the challenge-response flow.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use vouch_sessions::{MemorySessionStore, SessionStore};

fn put_get(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let store = MemorySessionStore::new();
    // A session body as the verification service stores it (~400 bytes).
    let body = Bytes::from(format!(
        "{{\"status\":\"waiting\",\"nonce\":\"{}\",\"expiry\":\"2030-01-01T00:00:00Z\",\
         \"accept\":[\"application/eat-collection; profile=\\\"http://arm.com/CCA-SSD/1.0.0\\\"\",\
         \"application/psa-attestation-token\",\"application/vnd.parallaxsecond.key-attestation.tpm\"]}}",
        "A".repeat(44)
    ));
    let ids: Vec<String> = (0..10_000)
        .map(|i| format!("{i:08x}-7d3a-11ee-b962-0242ac120002"))
        .collect();
    let mut next = 0usize;
    c.bench_function("memory_put_get", |b| {
        b.iter(|| {
            let id = &ids[next % ids.len()];
            next = next.wrapping_add(1);
            let expires = SystemTime::now() + Duration::from_secs(150);
            runtime.block_on(async {
                store.put(id, body.clone(), expires).await.expect("put");
                black_box(store.get(id).await.expect("get"));
            });
        });
    });
}

criterion_group!(benches, put_get);
criterion_main!(benches);
