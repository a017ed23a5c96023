//! EnactTrust TPM (`TPM_ENACTTRUST`): a TPM2_Quote framed as
//! `NODE_ID || SIZE || TPMS_ATTEST || TPMT_SIGNATURE`
//! (`application/vnd.enacttrust.tpm-evidence`, parsed by `vouch-tpm`),
//! appraised against CoRIM endorsements with the profile
//! `https://enacttrust.com/veraison/1.0.0` (current: a tag-32 URI; legacy:
//! untagged text, also as `http://enacttrust.com/veraison/1.0.0`).
//!
//! The trust anchor is the node's attestation key (AK), keyed by the node
//! id; the reference value is the node's golden PCR digest, keyed by the
//! node id too. A quote whose `pcrDigest` is the golden digest has approved
//! executables (AFFIRMING); any other quote, or a node without a golden
//! digest, has unrecognised executables and is CONTRAINDICATED, a status
//! the scheme sets itself, as Veraison does.
//!
//! Where Vouch is stricter than Veraison (`services@6b88102`
//! `scheme/tpm-enacttrust`), on purpose:
//!
//! * **Freshness.** The quote's `extraData` (the TPM2_Quote qualifying data)
//!   must be the session nonce, byte for byte. Veraison main does not
//!   compare them (veraison/services#427; the unmerged PR #432 did, with the
//!   message used here), so a recorded quote verifies forever there. A
//!   quote made without a nonce (empty `extraData`, as Veraison's
//!   `gen-token` makes them) can therefore never be fresh in Vouch.
//! * **The node id is outside the signature.** Nothing in the signed
//!   TPMS_ATTEST names the node (EnactTrust quotes carry an empty
//!   `qualifiedSigner`, and even a TPM name could not be recomputed from
//!   the provisioned SubjectPublicKeyInfo alone), so the node id's only
//!   binding to the AK is the trust-anchor lookup: a quote signed by an AK
//!   verifies under every node id that AK is provisioned for. Provisioning
//!   one AK for two nodes is therefore refused within a CoRIM (see
//!   `endorsements`); across CoRIMs, which a pure scheme cannot see, it
//!   remains a provisioning-side risk that operators must avoid.
//! * **Digest algorithm.** The golden digest matches only when its CoRIM
//!   algorithm is the quote's PCR bank (sha-256 for the SHA-256 bank);
//!   Veraison compares the bytes only.
//! * A quote that is not a TPM2_Quote (`wrong TPMS_ATTEST type`) is
//!   undecodable evidence here (every claim 99), where Veraison reports the
//!   problem with status NONE.

mod endorsements;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use vouch_ear::{Appraisal, TrustClaim, TrustTier};
use vouch_tpm::EnactTrustToken;

use crate::{
    BadEvidence, DecodedReference, EndorsementError, Endorsements, Evidence, ProvisioningMediaType,
    Scheme, TrustAnchorKey, references_of,
};

/// Scheme name, EAR submod name and policy suffix.
pub const NAME: &str = "TPM_ENACTTRUST";

/// The CoRIM profile of EnactTrust endorsements (Veraison HEAD: a tag-32
/// URI; the legacy unit-test CoRIMs: the same text untagged).
pub const PROFILE: &str = "https://enacttrust.com/veraison/1.0.0";

/// The CoRIM profile legacy Veraison's integration tests provisioned with
/// (untagged text).
pub const PROFILE_LEGACY: &str = "http://enacttrust.com/veraison/1.0.0";

/// The evidence media type.
pub const EVIDENCE_MEDIA_TYPE: &str = vouch_tpm::ENACTTRUST_MEDIA_TYPE;

const EVIDENCE_MEDIA_TYPES: &[&str] = &[EVIDENCE_MEDIA_TYPE];

const PROVISIONING_MEDIA_TYPES: &[ProvisioningMediaType] = &[
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="https://enacttrust.com/veraison/1.0.0""#,
        corim_profile: PROFILE,
    },
    ProvisioningMediaType {
        media_type: r#"application/corim-unsigned+cbor; profile="https://enacttrust.com/veraison/1.0.0""#,
        corim_profile: PROFILE,
    },
    ProvisioningMediaType {
        media_type: r#"application/corim-unsigned+cbor; profile="http://enacttrust.com/veraison/1.0.0""#,
        corim_profile: PROFILE_LEGACY,
    },
];

/// The store key of a node's trust anchor and of its golden digests: the
/// node id's 16 bytes (RFC 4122 order, as the token carries them).
pub fn node_key(node_id: &[u8; 16]) -> Vec<u8> {
    node_id.to_vec()
}

/// A node's golden PCR digest, stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GoldenDigest {
    /// The CoRIM digest algorithm (named-information id: 1 sha-256,
    /// 7 sha-384, 8 sha-512).
    pub alg: i64,
    /// The expected `pcrDigest` of the node's quotes (hex in JSON).
    #[serde(with = "crate::hex_bytes")]
    pub digest: Vec<u8>,
}

impl GoldenDigest {
    /// Whether a quote over the PCR bank `bank` with `pcr_digest` matches.
    pub fn matches(&self, bank: vouch_tpm::TpmAlgId, pcr_digest: &[u8]) -> bool {
        let bank_alg = bank.named_info_id().and_then(|id| i64::try_from(id).ok());
        bank_alg == Some(self.alg) && self.digest == pcr_digest
    }
}

/// The EnactTrust TPM scheme.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnactTrust;

impl Scheme for EnactTrust {
    fn name(&self) -> &'static str {
        NAME
    }

    fn evidence_media_types(&self) -> &'static [&'static str] {
        EVIDENCE_MEDIA_TYPES
    }

    fn provisioning_media_types(&self) -> &'static [ProvisioningMediaType] {
        PROVISIONING_MEDIA_TYPES
    }

    fn extract_endorsements(
        &self,
        corim: &vouch_corim::Corim,
        profile: &str,
    ) -> Result<Endorsements, EndorsementError> {
        endorsements::extract(corim, profile)
    }

    fn decode_reference_value(&self, body: &[u8]) -> Result<DecodedReference, EndorsementError> {
        crate::decode_reference::<GoldenDigest>(body)
    }

    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence> {
        Ok(Box::new(EnactTrustEvidence::decode(evidence)?))
    }
}

/// A decoded EnactTrust quote.
#[derive(Debug, Clone)]
pub struct EnactTrustEvidence {
    token: EnactTrustToken,
    node: Vec<u8>,
}

impl EnactTrustEvidence {
    /// Decodes a token (Veraison's framing checks and texts).
    pub fn decode(evidence: &[u8]) -> Result<Self, BadEvidence> {
        let token =
            EnactTrustToken::decode(evidence).map_err(|e| BadEvidence::new(e.to_string()))?;
        let node = node_key(token.node_id().as_bytes());
        Ok(Self { token, node })
    }

    /// The decoded token.
    pub fn token(&self) -> &EnactTrustToken {
        &self.token
    }
}

impl Evidence for EnactTrustEvidence {
    fn trust_anchor_id(&self) -> &[u8] {
        &self.node
    }

    fn verify_integrity(&self, nonce: &[u8], anchor: &TrustAnchorKey) -> Result<(), BadEvidence> {
        // The signature first, so a quote from the wrong key reads as such
        // whatever nonce it carries.
        self.token
            .verify(anchor.as_key()?)
            .map_err(|e| BadEvidence::new(format!("could not verify evidence signature: {e}")))?;
        // Freshness: the TPM2_Quote qualifying data must be this session's
        // nonce (Veraison main skips this; see the module docs).
        let quoted = self.token.extra_data();
        if quoted != nonce {
            return Err(BadEvidence::new(format!(
                "freshness: quote nonce ({}) does not match session nonce ({})",
                hex::encode(quoted),
                hex::encode(nonce)
            )));
        }
        Ok(())
    }

    fn appraise(
        &self,
        reference_values: &[DecodedReference],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence> {
        let bank = self.token.hash_algorithm();
        let matched = references_of::<GoldenDigest>(reference_values)
            .any(|golden| golden.matches(bank, self.token.pcr_digest()));
        let mut appraisal = Appraisal::new();
        // Only the executables claim is appraised: the quote says nothing
        // about hardware, configuration or storage that Veraison (or Vouch)
        // could check.
        if matched {
            appraisal.trust_vector.executables = TrustClaim::APPROVED_RUNTIME;
            appraisal.update_status_from_trust_vector();
        } else {
            appraisal.trust_vector.executables = TrustClaim::UNRECOGNIZED_RUNTIME;
            // Veraison states this tier explicitly: an unknown PCR state is
            // not merely a warning.
            appraisal.status = TrustTier::Contraindicated;
        }
        appraisal.annotated_evidence = match self.token.annotated_evidence() {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        };
        Ok(vec![(NAME.to_owned(), appraisal)])
    }
}
