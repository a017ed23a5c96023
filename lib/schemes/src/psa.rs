//! PSA IoT (`PSA_IOT`): Arm Platform Security Architecture attestation
//! tokens, profiles 1 and 2, appraised against CoRIM endorsements in the
//! current (`tag:arm.com,2025:psa#1.0.0`) and legacy
//! (`http://arm.com/psa/iot/1`) encodings.

mod endorsements;
mod matching;
mod measurement;

pub use measurement::{Digest, MatchRule, Measurement};

use vouch_ear::{Appraisal, TrustClaim};
use vouch_psa_token::{LifecycleState, Token};

use crate::{
    BadEvidence, DecodedReference, EndorsementError, Endorsements, Evidence, ProvisioningMediaType,
    Scheme, TrustAnchorKey, references_of,
};

/// Scheme name, EAR submod name and policy suffix.
pub const NAME: &str = "PSA_IOT";

/// CoRIM profile of the current Veraison encoding.
pub const PROFILE_CURRENT: &str = "tag:arm.com,2025:psa#1.0.0";

/// CoRIM profile of the legacy (pre-2026) Veraison encoding.
pub const PROFILE_LEGACY: &str = "http://arm.com/psa/iot/1";

const EVIDENCE_MEDIA_TYPES: &[&str] = &[
    "application/psa-attestation-token",
    r#"application/eat-cwt; profile="http://arm.com/psa/2.0.0""#,
    r#"application/eat+cwt; eat_profile="tag:psacertified.org,2023:psa#tfm""#,
    r#"application/eat+cwt; eat_profile="tag:psacertified.org,2019:psa#legacy""#,
];

const PROVISIONING_MEDIA_TYPES: &[ProvisioningMediaType] = &[
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="tag:arm.com,2025:psa#1.0.0""#,
        corim_profile: PROFILE_CURRENT,
    },
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="http://arm.com/psa/iot/1""#,
        corim_profile: PROFILE_LEGACY,
    },
    ProvisioningMediaType {
        media_type: r#"application/corim-unsigned+cbor; profile="http://arm.com/psa/iot/1""#,
        corim_profile: PROFILE_LEGACY,
    },
];

/// Length of a PSA trust-anchor id: implementation-id ‖ instance-id.
pub const TRUST_ANCHOR_ID_LEN: usize = 32 + 33;

/// The store key of a PSA trust anchor.
pub fn trust_anchor_id(implementation_id: &[u8; 32], instance_id: &[u8; 33]) -> Vec<u8> {
    let mut id = Vec::with_capacity(TRUST_ANCHOR_ID_LEN);
    id.extend_from_slice(implementation_id);
    id.extend_from_slice(instance_id);
    id
}

/// The PSA IoT scheme.
#[derive(Debug, Default, Clone, Copy)]
pub struct PsaIot;

impl Scheme for PsaIot {
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
        crate::decode_reference::<Measurement>(body)
    }

    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence> {
        let token = Token::decode(evidence).map_err(|e| BadEvidence::new(e.to_string()))?;
        let claims = token.claims();
        let ta_id = trust_anchor_id(&claims.implementation_id, &claims.instance_id);
        Ok(Box::new(PsaEvidence { token, ta_id }))
    }
}

struct PsaEvidence {
    token: Token,
    ta_id: Vec<u8>,
}

impl Evidence for PsaEvidence {
    fn trust_anchor_id(&self) -> &[u8] {
        &self.ta_id
    }

    fn verify_integrity(&self, nonce: &[u8], anchor: &TrustAnchorKey) -> Result<(), BadEvidence> {
        // Freshness first, as Veraison does: a replayed token is reported
        // as stale even when its signature is also wrong.
        let token_nonce = &self.token.claims().nonce;
        if token_nonce.as_slice() != nonce {
            return Err(BadEvidence::new(format!(
                "freshness: psa-nonce ({}) does not match session nonce ({})",
                hex::encode(token_nonce),
                hex::encode(nonce)
            )));
        }
        self.token
            .verify_signature(anchor.as_key()?)
            .map_err(|e| BadEvidence::new(e.to_string()))
    }

    fn appraise(
        &self,
        reference_values: &[DecodedReference],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence> {
        let reference_values: Vec<&Measurement> = references_of(reference_values).collect();
        let claims = self.token.claims();
        let mut appraisal = Appraisal::new();
        let tv = &mut appraisal.trust_vector;
        // The signature checked out with the provisioned key, so the
        // hardware is what it claims to be.
        tv.hardware = TrustClaim::GENUINE_HARDWARE;
        match claims.lifecycle_state() {
            LifecycleState::Secured | LifecycleState::NonPsaRotDebug => {
                tv.instance_identity = TrustClaim::TRUSTWORTHY_INSTANCE;
                tv.runtime_opaque = TrustClaim::APPROVED_RUNTIME;
                tv.storage_opaque = TrustClaim::HW_KEYS_ENCRYPTED_SECRETS;
            }
            _ => {
                tv.instance_identity = TrustClaim::UNTRUSTWORTHY_INSTANCE;
                tv.runtime_opaque = TrustClaim::VISIBLE_MEMORY_RUNTIME;
                tv.storage_opaque = TrustClaim::UNENCRYPTED_SECRETS;
            }
        }
        tv.executables = if matching::software_matches(&claims.sw_components, &reference_values)? {
            TrustClaim::APPROVED_RUNTIME
        } else {
            TrustClaim::UNRECOGNIZED_RUNTIME
        };
        appraisal.annotated_evidence = match claims.annotated_evidence() {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        };
        appraisal.update_status_from_trust_vector();
        Ok(vec![(NAME.to_owned(), appraisal)])
    }
}
