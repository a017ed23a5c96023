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
/// Seeding an empty fuzz corpus. Every `lib/*/fuzz` target includes this
/// one file with `#[path]` (the fuzz crates are their own workspaces and
/// need not depend on the test kit); it is a module here so that the
/// workspace builds and lints it.
pub mod fuzz_seed;
pub mod keys;
pub mod parsec_tpm;
pub mod psa;
pub mod riot;
pub mod signed_corim;
#[cfg(feature = "tls")]
pub mod tls;
pub mod vectors;
