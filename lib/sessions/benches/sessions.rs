//! Session stores: one put followed by one get, the per-request cost of the
//! challenge-response flow, in process and against a real memcached over
//! loopback (the split topology's store).

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use vouch_sessions::{MemcachedOptions, MemcachedSessionStore, MemorySessionStore, SessionStore};

#[path = "../tests/support/mod.rs"]
mod support;

/// A session body as the verification service stores it (~400 bytes).
fn session_body() -> Bytes {
    Bytes::from(format!(
        "{{\"status\":\"waiting\",\"nonce\":\"{}\",\"expiry\":\"2030-01-01T00:00:00Z\",\
         \"accept\":[\"application/eat-collection; profile=\\\"http://arm.com/CCA-SSD/1.0.0\\\"\",\
         \"application/psa-attestation-token\",\"application/vnd.parallaxsecond.key-attestation.tpm\"]}}",
        "A".repeat(44)
    ))
}

/// Benchmarks a put then a get of one session in `store`.
fn bench_put_get(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    store: &dyn SessionStore,
) {
    let body = session_body();
    let ids: Vec<String> = (0..10_000)
        .map(|i| format!("{i:08x}-7d3a-11ee-b962-0242ac120002"))
        .collect();
    let mut next = 0usize;
    c.bench_function(name, |b| {
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

fn put_get(c: &mut Criterion) {
    // The memcached store's connections belong to the runtime that opened them.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    bench_put_get(c, &runtime, "memory_put_get", &MemorySessionStore::new());

    let Some(binary) = support::memcached_binary() else {
        return;
    };
    let server = support::Memcached::start(&binary);
    let store = runtime
        .block_on(MemcachedSessionStore::connect(
            &[server.addr()],
            MemcachedOptions::default(),
        ))
        .expect("connecting to memcached");
    bench_put_get(c, &runtime, "memcached_put_get", &store);
}

criterion_group!(benches, put_get);
criterion_main!(benches);
