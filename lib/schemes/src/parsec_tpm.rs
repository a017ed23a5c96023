//! Parsec TPM key attestation (`PARSEC_TPM`): a key attestation token
//! (TPM2_Certify of a key by the attestation key) and a platform attestation
//! token (TPM2_Quote by the same AK), as CBOR
//! (`application/vnd.parallaxsecond.key-attestation.tpm`, parsed by
//! `vouch-tpm`), appraised against CoRIM endorsements with the profile
//! `tag:github.com/parallaxsecond,2023-03-03:tpm` (a tag-32 URI in the
//! current encoding, untagged text in the legacy one).
//!
//! The trust anchor is the AK, keyed by the `kid` both tokens carry (the
//! CoRIM instance, `560(kid)`, legacy `550(kid)`); its environment's class
//! (a UUID) names the platform class whose reference values apply: PCR
//! digests keyed by PCR index, per digest algorithm. The quote's
//! `pcrDigest` must be the hash, in the quote's PCR bank, of the reference
//! values of the quoted PCRs in ascending order, all taken from one
//! reference triple. Then hardware, executables and instance identity are
//! approved (AFFIRMING) and the EAR attests the certified key
//! (`ear.veraison.key-attestation`).
//!
//! Where Vouch is stricter than Veraison (`services@6b88102`
//! `scheme/parsec-tpm`), on purpose:
//!
//! * **Freshness.** Both tokens' `extraData` (the TPM2_Certify and
//!   TPM2_Quote qualifying data) must be the session nonce, byte for byte.
//!   Veraison compares neither (veraison/services#447), so recorded
//!   evidence verifies forever there.
//! * **One consistent PCR state.** The endorsed digest is computed from the
//!   values of a single reference triple (one endorsed platform state), never
//!   from PCR values mixed across triples or CoRIMs.
//! * **PCR mismatch.** Veraison's appraisal error is dropped by its VTS (the
//!   EAR says status NONE, all claims 0, no reason). Vouch reports what it
//!   checked: hardware and instance identity approved (both signatures
//!   verified with the provisioned AK), executables unrecognised (33, so
//!   WARNING), the reason as a `problem` policy claim, and no key
//!   attestation: a relying party must not take a key from a platform in
//!   an unrecognised state.

mod endorsements;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use vouch_ear::{Appraisal, KeyAttestation, TrustClaim};
use vouch_tpm::ParsecTpmEvidence;

use crate::{
    BadEvidence, DecodedReference, EndorsementError, Endorsements, Evidence, ProvisioningMediaType,
    Scheme, TrustAnchorKey, references_of,
};

/// Scheme name, EAR submod name and policy suffix.
pub const NAME: &str = "PARSEC_TPM";

/// The CoRIM profile of Parsec TPM endorsements.
pub const PROFILE: &str = "tag:github.com/parallaxsecond,2023-03-03:tpm";

/// The evidence media type.
pub const EVIDENCE_MEDIA_TYPE: &str = vouch_tpm::PARSEC_TPM_MEDIA_TYPE;

const EVIDENCE_MEDIA_TYPES: &[&str] = &[EVIDENCE_MEDIA_TYPE];

const PROVISIONING_MEDIA_TYPES: &[ProvisioningMediaType] = &[
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="tag:github.com/parallaxsecond,2023-03-03:tpm""#,
        corim_profile: PROFILE,
    },
    ProvisioningMediaType {
        media_type: r#"application/corim-unsigned+cbor; profile="tag:github.com/parallaxsecond,2023-03-03:tpm""#,
        corim_profile: PROFILE,
    },
];

/// One PCR's reference value: its index and its digest in each bank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PcrValue {
    /// The PCR index.
    pub pcr: u32,
    /// The PCR's value per bank.
    pub digests: Vec<PcrDigest>,
}

/// A PCR value in one bank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PcrDigest {
    /// The bank's hash (named-information id: 1 sha-256, 7 sha-384,
    /// 8 sha-512).
    pub alg: i64,
    /// The PCR value (hex in JSON).
    #[serde(with = "crate::hex_bytes")]
    pub value: Vec<u8>,
}

/// The reference values of one reference triple: one endorsed platform
/// state of a class, stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PcrReference {
    /// The PCRs, each at most once.
    pub pcrs: Vec<PcrValue>,
}

impl PcrReference {
    /// The `pcrDigest` a quote of `pcrs` (ascending) in the bank `bank`
    /// would carry in this state; `None` when the bank is not one Vouch
    /// computes or a quoted PCR has no value in that bank here.
    pub fn quote_digest(&self, bank: vouch_tpm::TpmAlgId, pcrs: &[u32]) -> Option<Vec<u8>> {
        let hash = bank.hash()?;
        let alg = i64::try_from(bank.named_info_id()?).ok()?;
        let values = pcrs
            .iter()
            .map(|pcr| {
                let value = self.pcrs.iter().find(|v| v.pcr == *pcr)?;
                value
                    .digests
                    .iter()
                    .find(|d| d.alg == alg)
                    .map(|d| d.value.as_slice())
            })
            .collect::<Option<Vec<&[u8]>>>()?;
        Some(vouch_tpm::pcr_digest(hash, &values))
    }
}

/// The store key of the trust anchor for a `kid`: the kid's bytes.
pub fn trust_anchor_id(kid: &[u8]) -> Vec<u8> {
    kid.to_vec()
}

/// The store key of a class's reference values: the class UUID's bytes.
pub fn class_key(class_id: &[u8; 16]) -> Vec<u8> {
    class_id.to_vec()
}

/// The Parsec TPM scheme.
#[derive(Debug, Default, Clone, Copy)]
pub struct ParsecTpm;

impl Scheme for ParsecTpm {
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
        crate::decode_reference::<PcrReference>(body)
    }

    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence> {
        Ok(Box::new(ParsecTpmAttestation::decode(evidence)?))
    }
}

/// Decoded and validated Parsec TPM evidence.
#[derive(Debug, Clone)]
pub struct ParsecTpmAttestation {
    evidence: ParsecTpmEvidence,
    ta_id: Vec<u8>,
}

impl ParsecTpmAttestation {
    /// Decodes and validates the evidence (the Parsec library's checks and
    /// texts).
    pub fn decode(bytes: &[u8]) -> Result<Self, BadEvidence> {
        let evidence =
            ParsecTpmEvidence::decode(bytes).map_err(|e| BadEvidence::new(e.to_string()))?;
        let ta_id = trust_anchor_id(evidence.kid());
        Ok(Self { evidence, ta_id })
    }

    /// The decoded evidence.
    pub fn evidence(&self) -> &ParsecTpmEvidence {
        &self.evidence
    }
}

/// Checks one token's qualifying data against the session nonce.
fn check_nonce(token: &str, quoted: &[u8], nonce: &[u8]) -> Result<(), BadEvidence> {
    if quoted == nonce {
        return Ok(());
    }
    Err(BadEvidence::new(format!(
        "freshness: {token} nonce ({}) does not match session nonce ({})",
        hex::encode(quoted),
        hex::encode(nonce)
    )))
}

impl Evidence for ParsecTpmAttestation {
    fn trust_anchor_id(&self) -> &[u8] {
        &self.ta_id
    }

    fn verify_integrity(&self, nonce: &[u8], anchor: &TrustAnchorKey) -> Result<(), BadEvidence> {
        // Both signatures first (Veraison's order and texts), then
        // freshness, which Veraison skips (see the module docs).
        self.evidence
            .verify(anchor.as_key()?)
            .map_err(|e| BadEvidence::new(e.to_string()))?;
        check_nonce("key attestation token", self.evidence.kat_nonce(), nonce)?;
        check_nonce(
            "platform attestation token",
            self.evidence.pat_nonce(),
            nonce,
        )
    }

    fn appraise(
        &self,
        reference_values: &[DecodedReference],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence> {
        let bank = self.evidence.pcr_bank();
        let pcrs = self.evidence.pcrs();
        let quoted = self.evidence.pcr_digest();
        let mut states = 0_usize;
        let matched = references_of::<PcrReference>(reference_values).any(|state| {
            states += 1;
            state.quote_digest(bank, pcrs).as_deref() == Some(quoted)
        });

        let mut appraisal = Appraisal::new();
        let tv = &mut appraisal.trust_vector;
        // Both tokens verified with the AK the CoRIM provisioned for this
        // kid: a genuine TPM, and the instance it claims to be.
        tv.hardware = TrustClaim::GENUINE_HARDWARE;
        tv.instance_identity = TrustClaim::TRUSTWORTHY_INSTANCE;
        if matched {
            tv.executables = TrustClaim::APPROVED_RUNTIME;
            appraisal.key_attestation = Some(KeyAttestation::from_spki_der(
                &self.evidence.attested_key_spki_der(),
            ));
        } else {
            tv.executables = TrustClaim::UNRECOGNIZED_RUNTIME;
            let pcr_list = pcrs
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            appraisal.set_problem(format!(
                "failed to match PCRs: the quote of PCRs [{pcr_list}] in bank {bank} has digest \
                 {}, which none of the {states} endorsed PCR state(s) of the platform class \
                 gives",
                hex::encode(quoted)
            ));
        }
        appraisal.annotated_evidence = match self.evidence.annotated_evidence() {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        };
        appraisal.update_status_from_trust_vector();
        Ok(vec![(NAME.to_owned(), appraisal)])
    }
}
