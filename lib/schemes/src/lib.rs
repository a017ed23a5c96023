//! Attestation schemes: how to read a scheme's evidence, how to appraise it,
//! and which endorsements its CoRIMs carry.
//!
//! A scheme is a pure function of (evidence bytes, session nonce, stored
//! endorsements) → appraisal. Nothing here does I/O, so every scheme can be
//! tested and fuzzed without a server. The trust service drives the
//! pipeline: it asks the scheme to decode the evidence, looks up the trust
//! anchor the evidence names, asks the scheme to check integrity and
//! freshness, looks up reference values, and asks the scheme to appraise.
//!
//! PSA IoT ([`psa::PsaIot`]) is the first scheme.

pub mod psa;

use serde::{Deserialize, Serialize};
use vouch_crypto::VerifyingKey;
use vouch_ear::Appraisal;

/// A provisioning media type a scheme accepts, and the CoRIM profile a CoRIM
/// sent under it must declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvisioningMediaType {
    /// The media type, as advertised (before normalisation).
    pub media_type: &'static str,
    /// The CoRIM `profile` the document must carry.
    pub corim_profile: &'static str,
}

/// Endorsements a scheme extracted from one CoRIM, ready to store.
#[derive(Debug, Clone, Default)]
pub struct Endorsements {
    /// Keys that verify evidence, by the identity the evidence claims.
    pub trust_anchors: Vec<TrustAnchor>,
    /// Expected measurements, by reference-value id.
    pub reference_values: Vec<ReferenceValue>,
    /// Unix time after which these endorsements stop applying, if the CoRIM
    /// says so.
    pub not_after: Option<i64>,
}

/// A key that verifies the evidence of one attester.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    /// Store key: what evidence names (for PSA, implementation-id ‖
    /// instance-id).
    pub id: Vec<u8>,
    /// Store key of the reference values that apply to this attester (for
    /// PSA, the implementation-id).
    pub reference_id: Vec<u8>,
    /// The verification key.
    pub key: VerifyingKey,
}

/// One expected measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceValue {
    /// Store key (for PSA, the implementation-id).
    pub reference_id: Vec<u8>,
    /// The measurement.
    pub measurement: Measurement,
}

/// How a reference measurement is matched against evidence. Veraison's
/// CoRIM encodings come with different matching semantics, and a
/// measurement remembers which one it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchRule {
    /// `tag:arm.com,2025:psa#1.0.0`: every software component in the
    /// evidence must be among the reference values.
    PsaComponent,
    /// `http://arm.com/psa/iot/1`: every reference value must be found in
    /// the evidence.
    PsaRefValId,
}

/// A reference measurement, stored as JSON (`body` in the store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Measurement {
    /// Matching semantics.
    pub rule: MatchRule,
    /// Measurement type / component name (e.g. `BL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Component version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Signer id (hex in JSON).
    #[serde(default, with = "hex_opt", skip_serializing_if = "Option::is_none")]
    pub signer_id: Option<Vec<u8>>,
    /// Digests as (COSE/named-information algorithm id, value).
    pub digests: Vec<Digest>,
}

/// One digest of a measurement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest {
    /// Hash algorithm id (named-information registry; 1 = sha-256).
    pub alg: i64,
    /// Digest value (hex in JSON).
    #[serde(with = "hex_bytes")]
    pub value: Vec<u8>,
}

impl Measurement {
    /// Serialises for storage.
    pub fn to_body(&self) -> Vec<u8> {
        // Serialising plain data to JSON cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a stored body.
    pub fn from_body(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <&str>::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

mod hex_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&hex::encode(v)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let s = Option::<&str>::deserialize(d)?;
        s.map(|s| hex::decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Evidence that cannot be appraised because of what it contains. The
/// trust service reports it inside the EAR, never as a service failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad evidence: {0}")]
pub struct BadEvidence(pub String);

impl BadEvidence {
    /// Wraps a detail message.
    pub fn new(detail: impl Into<String>) -> Self {
        BadEvidence(detail.into())
    }
}

/// A CoRIM the scheme cannot accept. The message is shown to the submitter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndorsementError(pub String);

impl EndorsementError {
    /// Wraps a message.
    pub fn new(message: impl Into<String>) -> Self {
        EndorsementError(message.into())
    }
}

/// An attestation scheme.
pub trait Scheme: Send + Sync + 'static {
    /// Scheme name; also the EAR submod name and the policy id suffix.
    fn name(&self) -> &'static str;

    /// Evidence media types, as advertised.
    fn evidence_media_types(&self) -> &'static [&'static str];

    /// CoRIM media types and the profiles they require.
    fn provisioning_media_types(&self) -> &'static [ProvisioningMediaType];

    /// Extracts and validates this scheme's endorsements from a CoRIM that
    /// declared `profile`.
    fn extract_endorsements(
        &self,
        corim: &vouch_corim::Corim,
        profile: &str,
    ) -> Result<Endorsements, EndorsementError>;

    /// Decodes and syntactically validates evidence.
    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence>;
}

/// Decoded evidence, ready to be checked and appraised.
pub trait Evidence: Send + Sync {
    /// The trust-anchor store key this evidence claims.
    fn trust_anchor_id(&self) -> &[u8];

    /// Checks freshness against the session nonce, then the signature.
    fn verify_integrity(&self, nonce: &[u8], key: &VerifyingKey) -> Result<(), BadEvidence>;

    /// Appraises the (verified) evidence against reference values, giving
    /// one appraisal per EAR submod.
    fn appraise(
        &self,
        reference_values: &[Measurement],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence>;
}
