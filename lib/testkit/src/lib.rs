//! Test kit for Vouch: mints keys, PSA tokens and CoRIMs for the repo's own
//! tests, the CLI and the load test, and locates the shared conformance
//! vectors.
//!
//! Nothing here is used on a production path. Everything it mints is built
//! from first principles (our own keys and claims), so tests never depend on
//! files copied from elsewhere.

pub mod cca;
pub mod corim;
pub mod enacttrust;
/// Seeding an empty fuzz corpus, shared by every fuzz target (the `fuzz/`
/// package depends on the test kit).
pub mod fuzz_seed;
pub mod keys;
pub mod parsec_tpm;
pub mod psa;
pub mod riot;
#[cfg(feature = "tls")]
pub mod tls;
pub mod vectors;
