//! Attestation schemes: how to read a scheme's evidence, how to appraise it,
//! and which endorsements its CoRIMs carry.
//!
//! A scheme is a pure function of (evidence bytes, session nonce, stored
//! endorsements) → appraisal. Nothing here does I/O, so every scheme can be
//! tested and fuzzed without a server. The trust service drives the
//! pipeline: it asks the scheme to decode the evidence, looks up the trust
//! anchor the evidence names, asks the evidence to check integrity and
//! freshness against it, looks up the reference values the evidence asks
//! for, and asks the evidence to appraise itself against them.
//!
//! Each scheme is one module behind one cargo feature, registered in
//! [`builtin`]. A scheme owns its measurement and match-rule types: the
//! store keeps reference values as opaque bodies the scheme encodes, and
//! the trust service caches them decoded ([`DecodedReference`]) so the hot
//! path never parses a stored body twice. `docs/schemes.md` says how to add
//! one.

#[cfg(feature = "cca")]
pub mod cca;
#[cfg(feature = "enacttrust")]
pub mod enacttrust;
#[cfg(feature = "parsec-cca")]
pub mod parsec_cca;
#[cfg(feature = "parsec-tpm")]
pub mod parsec_tpm;
#[cfg(feature = "psa")]
pub mod psa;
#[cfg(feature = "riot")]
pub mod riot;

#[cfg(any(feature = "enacttrust", feature = "parsec-tpm"))]
mod corim_util;

use std::any::Any;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use vouch_crypto::VerifyingKey;
use vouch_ear::Appraisal;

/// The schemes this build of Vouch supports: one line per scheme, each
/// behind its cargo feature.
// One `push` per scheme feature: the list cannot be a `vec![]`.
#[allow(clippy::vec_init_then_push)]
pub fn builtin() -> Vec<Arc<dyn Scheme>> {
    #[allow(unused_mut)] // Empty when every scheme feature is off.
    let mut schemes: Vec<Arc<dyn Scheme>> = Vec::new();
    #[cfg(feature = "psa")]
    schemes.push(Arc::new(psa::PsaIot));
    #[cfg(feature = "riot")]
    schemes.push(Arc::new(riot::Riot));
    #[cfg(feature = "enacttrust")]
    schemes.push(Arc::new(enacttrust::EnactTrust));
    #[cfg(feature = "parsec-tpm")]
    schemes.push(Arc::new(parsec_tpm::ParsecTpm));
    #[cfg(feature = "cca")]
    schemes.push(Arc::new(cca::ArmCca));
    #[cfg(feature = "parsec-cca")]
    schemes.push(Arc::new(parsec_cca::ParsecCca));
    schemes
}

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
    /// What verifies the evidence.
    pub key: TrustAnchorKey,
}

/// What a trust anchor holds: a public key (most schemes), or a
/// certificate path that evidence must chain to (RIoT/DICE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustAnchorKey {
    /// A public key that signs evidence.
    Key(VerifyingKey),
    /// DER certificates: self-signed ones are roots, the rest
    /// intermediates.
    CertPath(Vec<Vec<u8>>),
}

/// First byte of a stored certificate path. A stored key is SPKI DER,
/// which always starts with a SEQUENCE (0x30), so the two never collide
/// and rows written before certificate paths existed still read back.
const CERT_PATH_MARKER: u8 = 0x01;

impl TrustAnchorKey {
    /// The stored form: SPKI DER for a key; for a certificate path, a
    /// marker byte and each certificate as a 4-byte big-endian length and
    /// its DER.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            TrustAnchorKey::Key(key) => key.to_spki_der(),
            TrustAnchorKey::CertPath(certs) => {
                let mut out = vec![CERT_PATH_MARKER];
                for cert in certs {
                    let len = u32::try_from(cert.len()).unwrap_or(u32::MAX);
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(cert);
                }
                out
            }
        }
    }

    /// Reads the stored form back.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        match bytes.split_first() {
            Some((&CERT_PATH_MARKER, mut rest)) => {
                let mut certs = Vec::new();
                while !rest.is_empty() {
                    let (len, tail) = rest
                        .split_first_chunk::<4>()
                        .ok_or("truncated certificate path")?;
                    let len = usize::try_from(u32::from_be_bytes(*len))
                        .map_err(|_| "certificate length overflows")?;
                    if tail.len() < len {
                        return Err("truncated certificate in path".to_owned());
                    }
                    let (cert, tail) = tail.split_at(len);
                    certs.push(cert.to_vec());
                    rest = tail;
                }
                if certs.is_empty() {
                    return Err("empty certificate path".to_owned());
                }
                Ok(TrustAnchorKey::CertPath(certs))
            }
            _ => VerifyingKey::from_spki_der(bytes)
                .map(TrustAnchorKey::Key)
                .map_err(|e| format!("trust anchor key: {e}")),
        }
    }

    /// The key, for schemes whose trust anchors are keys.
    pub fn as_key(&self) -> Result<&VerifyingKey, BadEvidence> {
        match self {
            TrustAnchorKey::Key(key) => Ok(key),
            TrustAnchorKey::CertPath(_) => Err(BadEvidence::new(
                "trust anchor is a certificate path, not a key",
            )),
        }
    }
}

/// One expected measurement, encoded by its scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceValue {
    /// Store key (for PSA, the implementation-id).
    pub reference_id: Vec<u8>,
    /// The scheme's encoding of the measurement ([`encode_reference`]).
    pub body: Vec<u8>,
}

/// A stored reference value decoded by its scheme, as the trust service
/// caches it. Only the scheme that decoded it knows the concrete type;
/// [`references_of`] gets it back.
pub type DecodedReference = Arc<dyn Any + Send + Sync>;

/// Encodes a scheme's measurement type for the store (JSON, so a stored
/// row stays readable in `psql`).
pub fn encode_reference<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain data to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Decodes a stored body written by [`encode_reference`].
pub fn decode_reference<T: DeserializeOwned + Send + Sync + 'static>(
    body: &[u8],
) -> Result<DecodedReference, EndorsementError> {
    let value: T = serde_json::from_slice(body)
        .map_err(|e| EndorsementError::new(format!("stored reference value: {e}")))?;
    Ok(Arc::new(value))
}

/// The reference values of type `T` among decoded ones.
pub fn references_of<T: 'static>(references: &[DecodedReference]) -> impl Iterator<Item = &T> {
    references.iter().filter_map(|r| r.downcast_ref::<T>())
}

#[cfg_attr(not(feature = "psa"), allow(dead_code))]
pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <&str>::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

#[cfg_attr(not(feature = "psa"), allow(dead_code))]
pub(crate) mod hex_opt {
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

    /// Decodes a reference-value body this scheme stored, once per cache
    /// fill ([`decode_reference`] for JSON-encoded measurement types).
    fn decode_reference_value(&self, body: &[u8]) -> Result<DecodedReference, EndorsementError>;

    /// Decodes and syntactically validates evidence.
    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence>;
}

/// Decoded evidence, ready to be checked and appraised.
pub trait Evidence: Send + Sync {
    /// The trust-anchor store key this evidence claims.
    fn trust_anchor_id(&self) -> &[u8];

    /// Checks freshness against the session nonce, then the signature(s)
    /// against the trust anchor.
    fn verify_integrity(&self, nonce: &[u8], anchor: &TrustAnchorKey) -> Result<(), BadEvidence>;

    /// The reference-value sets to look up once integrity holds: by
    /// default the one the trust anchor names. A scheme whose evidence
    /// names further sets (a CCA realm's initial measurement) adds them.
    fn reference_ids(&self, anchor_reference_id: &[u8]) -> Vec<Vec<u8>> {
        vec![anchor_reference_id.to_vec()]
    }

    /// Appraises the (verified) evidence against the reference values of
    /// every set [`Evidence::reference_ids`] named, giving one appraisal
    /// per EAR submod, each with its status set.
    fn appraise(
        &self,
        reference_values: &[DecodedReference],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence>;

    /// What an appraisal policy sees as `input.evidence` when it runs for
    /// `submod`, given every submod [`Evidence::appraise`] produced. By
    /// default the submod's annotated evidence, as Veraison passes a
    /// single-submod scheme's claims. A scheme whose evidence spans several
    /// submods (CCA: `{"platform": …, "realm": …}`) overrides it so that
    /// policies written for Veraison find the claims where they expect them.
    fn policy_evidence(&self, submod: &str, submods: &[(String, Appraisal)]) -> serde_json::Value {
        submods
            .iter()
            .find(|(name, _)| name == submod)
            .and_then(|(_, appraisal)| appraisal.annotated_evidence.clone())
            .map_or_else(
                || serde_json::Value::Object(serde_json::Map::new()),
                serde_json::Value::Object,
            )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn trust_anchor_keys_round_trip_through_their_stored_form() {
        let key = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P256)
            .unwrap()
            .verifying_key();
        let stored = TrustAnchorKey::Key(key.clone()).to_bytes();
        assert_eq!(stored, key.to_spki_der(), "keys stay plain SPKI DER");
        assert_eq!(
            TrustAnchorKey::from_bytes(&stored).unwrap(),
            TrustAnchorKey::Key(key)
        );

        let path = TrustAnchorKey::CertPath(vec![vec![0x30, 1, 2], vec![0x30; 300]]);
        assert_eq!(TrustAnchorKey::from_bytes(&path.to_bytes()).unwrap(), path);
    }

    #[test]
    fn corrupt_stored_trust_anchors_are_errors() {
        for bad in [
            &[][..],
            &[CERT_PATH_MARKER][..],
            &[CERT_PATH_MARKER, 0, 0][..],
            &[CERT_PATH_MARKER, 0, 0, 0, 9, 1][..],
            &[0x30, 0x03, 1, 2, 3][..],
        ] {
            assert!(TrustAnchorKey::from_bytes(bad).is_err(), "{bad:?}");
        }
        let path = TrustAnchorKey::CertPath(vec![vec![1]]);
        assert!(path.as_key().is_err());
    }

    #[test]
    fn references_come_back_as_their_scheme_type() {
        #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Rv {
            value: u8,
        }
        let decoded = decode_reference::<Rv>(&encode_reference(&Rv { value: 7 })).unwrap();
        let other: DecodedReference = Arc::new(1_u32);
        let refs = [decoded, other];
        let found: Vec<&Rv> = references_of(&refs).collect();
        assert_eq!(found, [&Rv { value: 7 }]);
        assert!(decode_reference::<Rv>(b"{").is_err());
    }

    #[test]
    fn the_builtin_schemes_have_distinct_names() {
        let schemes = builtin();
        let mut names: Vec<_> = schemes.iter().map(|s| s.name()).collect();
        assert!(!names.is_empty());
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), schemes.len());
    }
}
