//! The measured run of docs/operations.md: 3 trust, 3 verification and 1
//! provisioning processes, HAProxy in front of the verification processes,
//! memcached sessions, and 1,000 concurrent clients each running full
//! flows with its own device key and fresh nonces (`common::burst`, which
//! `tests/burst.rs` runs for 3 s on every CI run). Prints the numbers.
//!
//! ```sh
//! cargo bench -p vouch --bench burst
//! ```
//!
//! `VOUCH_MEASURE_SECS` (default 30) sets the duration and
//! `VOUCH_MEASURE_CLIENTS` (default 1000) the number of clients. Needs
//! PostgreSQL, memcached and HAProxy, as the topology tests do.

// Helpers panic on failure: a failed step ends the measurement.
#![allow(clippy::unwrap_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let setting = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let secs = setting("VOUCH_MEASURE_SECS", 30);
    let clients = usize::try_from(setting("VOUCH_MEASURE_CLIENTS", 1000)).unwrap();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(common::burst::thousand_clients_run(secs, clients));
}
