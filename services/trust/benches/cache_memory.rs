//! What one cached attester costs trust, and what a cache hit costs, for
//! the endorsement cache's choice of crate (docs/performance.md, "Memory
//! per cached attester"): `quick_cache`, which the cache uses, against
//! `moka`, which it used before, each holding N trust anchors shaped as
//! `cache.rs` holds them (a 65-byte PSA id as the key; a parsed P-256 key,
//! a 32-byte reference id and an expiry behind an `Arc` as the value).
//!
//! ```sh
//! cargo bench -p vouch-trust --bench cache_memory            # 1,000,000
//! cargo bench -p vouch-trust --bench cache_memory -- 100000
//! ```
//!
//! Memory is the growth of the process's resident set while one cache
//! fills, on the `vouch` binary's allocator (mimalloc; AWS-LC allocates
//! with the C library's). Hits are timed in a scattered order over the
//! whole cache, on one thread.

#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use vouch_crypto::{SigningKey, VerifyingKey};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The value's shape: `cache::CachedTrustAnchor`.
struct Entry {
    _key: VerifyingKey,
    _reference_id: Box<[u8]>,
    _not_after: Option<i64>,
}

type Value = Option<Arc<Entry>>;

trait Probe {
    fn insert(&self, id: Box<[u8]>, value: Value);
    fn hit(&self, id: &[u8]) -> bool;
}

impl Probe for quick_cache::sync::Cache<Box<[u8]>, Value> {
    fn insert(&self, id: Box<[u8]>, value: Value) {
        quick_cache::sync::Cache::insert(self, id, value);
    }
    fn hit(&self, id: &[u8]) -> bool {
        self.get(id).is_some()
    }
}

impl Probe for moka::sync::Cache<Box<[u8]>, Value> {
    fn insert(&self, id: Box<[u8]>, value: Value) {
        moka::sync::Cache::insert(self, id, value);
        self.run_pending_tasks();
    }
    fn hit(&self, id: &[u8]) -> bool {
        self.get(id).is_some()
    }
}

fn resident_bytes() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: f64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096.0
}

fn id(n: usize) -> Box<[u8]> {
    let mut id = vec![0x5a; 65];
    id[..8].copy_from_slice(&(n as u64).to_be_bytes());
    id.into()
}

fn measure(name: &str, cache: &dyn Probe, keys: &[VerifyingKey], n: usize) {
    let before = resident_bytes();
    for i in 0..n {
        let value = Some(Arc::new(Entry {
            // A key parsed per entry, as the cache parses each stored one.
            _key: VerifyingKey::from_sec1_point(
                keys[i % keys.len()].curve(),
                keys[i % keys.len()].sec1_point(),
            )
            .unwrap(),
            _reference_id: vec![7; 32].into(),
            _not_after: None,
        }));
        cache.insert(id(i), value);
    }
    let per_entry = (resident_bytes() - before) / n as f64;
    let ids: Vec<Box<[u8]>> = (0..n).map(id).collect();
    let gets: usize = 2_000_000;
    let started = Instant::now();
    for j in 0..gets {
        // A multiplicative hash walks the ids in a scattered order.
        let i = j.wrapping_mul(2_654_435_761) % n;
        assert!(black_box(cache.hit(&ids[i])));
    }
    let hit_ns = started.elapsed().as_nanos() as f64 / gets as f64;
    println!("{name}: {n} entries, {per_entry:.0} bytes each (resident), hit {hit_ns:.0} ns");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let keys = || -> Vec<VerifyingKey> {
        (0..64)
            .map(|_| SigningKey::generate_p256().unwrap().verifying_key())
            .collect()
    };
    if args.iter().any(|a| a == "quick_cache") {
        let cache = quick_cache::sync::Cache::<Box<[u8]>, Value>::new(2 * n);
        measure("quick_cache", &cache, &keys(), n);
    } else if args.iter().any(|a| a == "moka") {
        let cache = moka::sync::Cache::<Box<[u8]>, Value>::new(2 * n as u64);
        measure("moka", &cache, &keys(), n);
    } else {
        // Each crate in a process of its own: memory one cache freed would
        // otherwise be reused by the next, and its growth not seen.
        for crate_name in ["quick_cache", "moka"] {
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .arg(crate_name)
                .arg(n.to_string())
                .status()
                .unwrap();
            assert!(status.success(), "{crate_name}: {status}");
        }
    }
}
