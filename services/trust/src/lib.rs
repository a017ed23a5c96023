//! The Vouch trust service (Veraison calls it VTS).
//!
//! It owns the endorsement and trust-anchor stores, decodes and validates
//! CoRIMs, verifies and appraises evidence, and signs the EAR. The
//! [`TrustService`] implements [`vouch_trust_api::Trust`] directly, so the
//! all-in-one binary hands it to the front ends with no network hop;
//! [`grpc`] serves the same object to front ends in other processes.
//!
//! Verification does no database query for a device it has already seen:
//! trust anchors and reference values (and their absence) are cached in
//! memory and invalidated when anything is provisioned, on every instance,
//! through the store's change feed.
//!
//! Each verdict on a provisioned attester is also noted for the fleet
//! status and written to the store in batches, off the appraisal path
//! (`fleet`).

mod cache;
mod fleet;
mod fleet_admin;
pub mod grpc;
mod keys;
mod loader;
mod policies;
mod registry;
mod service;
mod signed_corim;
#[cfg(test)]
mod test_store;

pub use cache::CacheLimits;
pub use fleet::{FleetConfig, FleetRecorder};
pub use keys::{GENERATED_KEY_FILE, KeyError, load_or_create_signing_key, load_signing_key};
pub use registry::advertised_media_types;
pub use service::{TrustBuildError, TrustConfig, TrustService, default_schemes};
pub use signed_corim::CorimSigners;
