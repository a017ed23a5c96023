//! Parsec CCA key attestation (`PARSEC_CCA`): a key attestation token (KAT,
//! `601({10: nonce, 8: {1: COSE_Key}})`) bound to a complete CCA token (the
//! platform attestation token, PAT) whose realm challenge is the SHA-512 of
//! the KAT (`application/vnd.parallaxsecond.key-attestation.cca`, parsed by
//! `vouch-cca-token`), appraised against CoRIMs with the profile
//! `tag:github.com/parallaxsecond,2023-03-03:cca` (current encoding as a
//! tag-32 URI, Veraison's legacy encoding as untagged text; each triple's
//! class ID says which encoding it uses).
//!
//! The trust anchor is the CCA platform's CPAK and the platform is appraised
//! exactly as `ARM_CCA` appraises it (the same extraction and appraisal
//! code); the realm is verified (RAK signature, platform binding, KAT
//! binding) but not appraised. The EAR submod `PARSEC_CCA` carries the
//! platform trust vector and, when the platform is affirming, the attested
//! key (`ear.veraison.key-attestation`).
//!
//! Where Vouch is stricter than Veraison (`services@6b88102`
//! `scheme/parsec-cca`), on purpose:
//!
//! * **Freshness.** The KAT nonce must be the session nonce, byte for byte
//!   (sessions accept nonces of 8 to 64 bytes, the KAT's range). Veraison
//!   does not compare it, so recorded evidence verifies forever there.
//! * **Key attestation.** Only a platform in an affirming state attests a
//!   key: with unrecognised software or an unsafe configuration the EAR
//!   says why and carries no key.

use vouch_cca_token::ParsecCcaEvidence;
use vouch_ear::{Appraisal, KeyAttestation, TrustTier};

use crate::cca::{CcaReference, Encoding, appraise_platform, check_profile, extract_platform};
use crate::{
    BadEvidence, DecodedReference, EndorsementError, Endorsements, Evidence, ProvisioningMediaType,
    Scheme, TrustAnchorKey, references_of,
};

/// Scheme name, EAR submod name and policy suffix.
pub const NAME: &str = "PARSEC_CCA";

/// The CoRIM profile of Parsec CCA endorsements.
pub const PROFILE: &str = "tag:github.com/parallaxsecond,2023-03-03:cca";

/// The evidence media type.
pub const EVIDENCE_MEDIA_TYPE: &str = "application/vnd.parallaxsecond.key-attestation.cca";

const EVIDENCE_MEDIA_TYPES: &[&str] = &[EVIDENCE_MEDIA_TYPE];

const PROVISIONING_MEDIA_TYPES: &[ProvisioningMediaType] = &[
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="tag:github.com/parallaxsecond,2023-03-03:cca""#,
        corim_profile: PROFILE,
    },
    ProvisioningMediaType {
        media_type: r#"application/corim-unsigned+cbor; profile="tag:github.com/parallaxsecond,2023-03-03:cca""#,
        corim_profile: PROFILE,
    },
];

/// The Parsec CCA scheme.
#[derive(Debug, Default, Clone, Copy)]
pub struct ParsecCca;

impl Scheme for ParsecCca {
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
        if profile != PROFILE {
            return Err(EndorsementError::new(format!(
                "profile {profile:?} is not a {NAME} profile"
            )));
        }
        check_profile(corim, profile)?;
        extract_platform(corim, Encoding::ByClassId, NAME)
    }

    fn decode_reference_value(&self, body: &[u8]) -> Result<DecodedReference, EndorsementError> {
        crate::decode_reference::<CcaReference>(body)
    }

    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence> {
        Ok(Box::new(ParsecCcaAttestation::decode(evidence)?))
    }
}

/// Decoded Parsec CCA evidence, ready to be verified and appraised.
#[derive(Debug, Clone)]
pub struct ParsecCcaAttestation {
    evidence: ParsecCcaEvidence,
    ta_id: Vec<u8>,
}

impl ParsecCcaAttestation {
    /// Decodes and validates the evidence (KAT and PAT).
    pub fn decode(bytes: &[u8]) -> Result<Self, BadEvidence> {
        let evidence =
            ParsecCcaEvidence::decode(bytes).map_err(|e| BadEvidence::new(e.to_string()))?;
        let claims = evidence.token().platform_claims();
        let ta_id = crate::cca::trust_anchor_id(&claims.implementation_id, &claims.instance_id);
        Ok(Self { evidence, ta_id })
    }

    /// The decoded evidence.
    pub fn evidence(&self) -> &ParsecCcaEvidence {
        &self.evidence
    }
}

impl Evidence for ParsecCcaAttestation {
    fn trust_anchor_id(&self) -> &[u8] {
        &self.ta_id
    }

    fn verify_integrity(&self, nonce: &[u8], anchor: &TrustAnchorKey) -> Result<(), BadEvidence> {
        let kat_nonce = self.evidence.kat_nonce();
        if kat_nonce != nonce {
            return Err(BadEvidence::new(format!(
                "freshness: KAT nonce ({}) does not match session nonce ({})",
                hex::encode(kat_nonce),
                hex::encode(nonce)
            )));
        }
        // Platform signature, realm signature, platform/realm binding, then
        // the KAT binding, in Veraison's words.
        self.evidence
            .verify(anchor.as_key()?)
            .map_err(|e| BadEvidence::new(format!("failed to verify signature: {e}")))
    }

    fn appraise(
        &self,
        reference_values: &[DecodedReference],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence> {
        let references: Vec<&CcaReference> = references_of(reference_values).collect();
        let mut appraisal = appraise_platform(self.evidence.token().platform_claims(), &references);
        if appraisal.status == TrustTier::Affirming {
            appraisal.key_attestation = Some(KeyAttestation::from_spki_der(
                &self.evidence.attested_key_spki(),
            ));
        } else {
            appraisal.set_problem(
                "the platform is not in an endorsed state: the attested key is not vouched for",
            );
        }
        Ok(vec![(NAME.to_owned(), appraisal)])
    }
}

#[cfg(test)]
mod tests;
