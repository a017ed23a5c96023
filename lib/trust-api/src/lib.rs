//! The interface between the Vouch front ends and the trust service.
//!
//! Front ends (verification, provisioning) validate HTTP and hand bytes to a
//! [`Trust`]. Between processes the implementation is [`GrpcTrust`], a tonic
//! client; inside the all-in-one binary it is the trust service itself,
//! called directly, so the embedded default pays no loopback hop.
//!
//! The domain values that cross this boundary are parsed once into
//! newtypes: [`Nonce`] (8 to 64 bytes) and [`MediaType`] (parsed and
//! normalised the way Veraison's front ends compare media types).

mod error;
mod fleet;
mod fleet_grpc;
mod grpc;
mod media_type;
mod nonce;
mod policy;

use std::sync::Arc;

pub use bytes::Bytes;
pub use error::TrustError;
pub use fleet::{
    Attester, AttesterFilter, AttesterPage, FleetAdmin, FleetCount, FleetSummary, HistoryPoint,
    MAX_ATTESTERS_PAGE, MAX_HISTORY_MINUTES, MAX_STALE_MINUTES, VerdictHistory, check_filter,
    check_history_minutes, check_stale_minutes, rfc3339_seconds,
};
pub use fleet_grpc::{
    attester_filter_from_message, attester_filter_to_message, attester_page_from_message,
    attester_page_to_message, fleet_summary_from_message, fleet_summary_to_message,
    verdict_history_from_message, verdict_history_to_message,
};
pub use grpc::{
    GrpcTrust, GrpcTrustOptions, RETRY_AFTER_METADATA, TrustTls, from_status, policy_from_message,
    policy_to_message, to_status,
};
pub use media_type::{MediaType, MediaTypeError};
pub use nonce::{Nonce, NonceError};
pub use policy::{
    CreatedPolicy, DEFAULT_POLICY_NAME, MAX_POLICY_NAME_LEN, POLICY_TYPE_OPA, Policy, PolicyAdmin,
    PolicyId, PolicyName,
};

/// Veraison hard-codes tenant "0"; Vouch keeps the field for wire
/// compatibility and uses the same value.
pub const DEFAULT_TENANT: &str = "0";

/// Evidence to appraise, with the session nonce it must be fresh against.
#[derive(Debug, Clone)]
pub struct AttestationRequest {
    /// The media type the attester declared, parsed.
    pub media_type: MediaType,
    /// The evidence bytes.
    pub evidence: Bytes,
    /// The challenge-response session nonce.
    pub nonce: Nonce,
}

/// The outcome of an appraisal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationOutcome {
    /// The signed EAR (JWS compact serialisation).
    pub ear: String,
    /// The scheme that appraised the evidence, e.g. `PSA_IOT`.
    pub scheme: String,
    /// The overall status across submods.
    pub status: AttestationStatus,
}

/// The overall verdict of an appraisal: the EAR trust tier of its least
/// trustworthy submod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum AttestationStatus {
    /// Nothing could be said.
    #[default]
    None,
    /// The attester is trustworthy.
    Affirming,
    /// The attester is trustworthy with reservations.
    Warning,
    /// The attester is not trustworthy.
    Contraindicated,
}

impl AttestationStatus {
    /// The EAR name (`none`, `affirming`, `warning`, `contraindicated`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationStatus::None => "none",
            AttestationStatus::Affirming => "affirming",
            AttestationStatus::Warning => "warning",
            AttestationStatus::Contraindicated => "contraindicated",
        }
    }

    /// Parses an EAR status name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "none" => AttestationStatus::None,
            "affirming" => AttestationStatus::Affirming,
            "warning" => AttestationStatus::Warning,
            "contraindicated" => AttestationStatus::Contraindicated,
            _ => return None,
        })
    }
}

impl std::fmt::Display for AttestationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a submitted CoRIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Decoded, validated and stored.
    Stored,
    /// Identical bytes were stored before; nothing changed.
    AlreadyStored,
    /// The CoRIM is not acceptable; the reason is meant for the submitter.
    Rejected(String),
}

/// Lifecycle state of the trust service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    /// Not serving.
    Down,
    /// Starting up.
    Initializing,
    /// Serving.
    Ready,
    /// Draining before exit.
    Terminating,
}

impl ServiceStatus {
    /// The name Veraison's discovery documents use (`READY`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Down => "DOWN",
            ServiceStatus::Initializing => "INITIALIZING",
            ServiceStatus::Ready => "READY",
            ServiceStatus::Terminating => "TERMINATING",
        }
    }
}

/// State and version of the trust service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    /// Lifecycle state.
    pub status: ServiceStatus,
    /// Server version string.
    pub version: String,
}

/// The trust service as the front ends see it.
#[async_trait::async_trait]
pub trait Trust: Send + Sync + 'static {
    /// State and version of the trust service.
    async fn service_state(&self) -> Result<ServiceState, TrustError>;

    /// Whether trust answered a call from this client within `window`.
    /// Readiness consults it when a probe times out: a trust that keeps
    /// answering real traffic is busy, not gone. A client that does not
    /// keep track (an in-process trust, whose probe cannot time out) says
    /// `false`.
    fn answered_within(&self, _window: std::time::Duration) -> bool {
        false
    }

    /// Appraises evidence and returns a signed EAR. Bad evidence is not an
    /// error: it yields a non-affirming EAR. Errors mean the service could
    /// not do its job (store down, overload, internal fault).
    async fn attest(&self, request: AttestationRequest) -> Result<AttestationOutcome, TrustError>;

    /// Evidence media types, normalised.
    async fn verification_media_types(&self) -> Result<Arc<[MediaType]>, TrustError>;

    /// CoRIM media types, normalised.
    async fn provisioning_media_types(&self) -> Result<Arc<[MediaType]>, TrustError>;

    /// Decodes, validates and stores a CoRIM.
    async fn submit_endorsements(
        &self,
        media_type: &MediaType,
        data: Bytes,
    ) -> Result<SubmitOutcome, TrustError>;

    /// The public JWK that verifies EARs (with `alg`).
    async fn ear_public_key(&self) -> Result<Arc<serde_json::Value>, TrustError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attestation_statuses_round_trip_and_order_by_severity() {
        for status in [
            AttestationStatus::None,
            AttestationStatus::Affirming,
            AttestationStatus::Warning,
            AttestationStatus::Contraindicated,
        ] {
            assert_eq!(AttestationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AttestationStatus::parse("AFFIRMING"), None);
        assert!(AttestationStatus::Contraindicated > AttestationStatus::Warning);
        assert!(AttestationStatus::Warning > AttestationStatus::Affirming);
    }
}
