//! Arm CCA (`ARM_CCA`): a platform token signed by the platform attestation
//! key (CPAK) and a realm token signed by the realm attestation key (RAK)
//! it carries, bound together by the platform challenge (the hash of the
//! RAK), as one collection (`application/eat-collection;
//! profile="http://arm.com/CCA-SSD/1.0.0"`, tag 399 or the CMW tag 907;
//! parsed by `vouch-cca-token`). Appraised into two EAR submods,
//! `CCA_SSD_PLATFORM` and `CCA_REALM`, against CoRIMs in the current
//! (`tag:arm.com,2025:cca_platform#1.0.0`, `tag:arm.com,2025:cca_realm#1.0.0`)
//! and legacy (`http://arm.com/cca/ssd/1`, `http://arm.com/cca/realm/1`)
//! Veraison encodings.
//!
//! Store layout: the trust anchor (CPAK) of a platform is keyed by its
//! implementation ID and instance ID; platform reference values by
//! `platform:` ‖ implementation ID; realm reference values by `realm:` ‖
//! RIM, so the two never collide. Evidence asks for both sets
//! ([`Evidence::reference_ids`]).
//!
//! Integrity: freshness first (the realm challenge must be the session nonce
//! zero-padded to 64 bytes, as Veraison compares them), then the platform
//! signature with the provisioned CPAK (ES256, ES384 or ES512) and the realm
//! signature with the RAK. A token whose platform challenge is not the hash
//! of the RAK (MANIFEST CCA-06) keeps its platform appraisal, since the
//! platform token itself verified, but its realm is `contraindicated`,
//! every claim 99 (crypto validation failed), never affirming: the realm
//! token is not vouched for by the platform. (Veraison's ccatoken fails the
//! whole token instead; rust-ccatoken reports the split verdict the
//! manifest expects.)

mod appraisal;
mod endorsements;
mod measurement;
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use appraisal::appraise_platform;
pub(crate) use endorsements::{Encoding, check_profile, extract_platform};
pub use measurement::{
    CcaReference, Digest, Hex, MatchRule, PlatformConfig, REM_COUNT, RealmReference,
    SoftwareComponent,
};

use vouch_cca_token::{CcaToken, realm_challenge_for_nonce};
use vouch_ear::{Appraisal, TrustClaim};

use crate::{
    BadEvidence, DecodedReference, EndorsementError, Endorsements, Evidence, ProvisioningMediaType,
    Scheme, TrustAnchorKey, references_of,
};

/// Scheme name and policy suffix (and the submod of failed appraisals).
pub const NAME: &str = "ARM_CCA";
/// EAR submod of the platform appraisal.
pub const PLATFORM_SUBMOD: &str = "CCA_SSD_PLATFORM";
/// EAR submod of the realm appraisal.
pub const REALM_SUBMOD: &str = "CCA_REALM";

/// The evidence media type.
pub const EVIDENCE_MEDIA_TYPE: &str =
    r#"application/eat-collection; profile="http://arm.com/CCA-SSD/1.0.0""#;

/// CoRIM profile of platform endorsements, current encoding.
pub const PROFILE_PLATFORM: &str = "tag:arm.com,2025:cca_platform#1.0.0";
/// CoRIM profile of realm endorsements, current encoding.
pub const PROFILE_REALM: &str = "tag:arm.com,2025:cca_realm#1.0.0";
/// CoRIM profile of platform endorsements, legacy encoding.
pub const PROFILE_PLATFORM_LEGACY: &str = "http://arm.com/cca/ssd/1";
/// CoRIM profile of realm endorsements, legacy encoding.
pub const PROFILE_REALM_LEGACY: &str = "http://arm.com/cca/realm/1";

const EVIDENCE_MEDIA_TYPES: &[&str] = &[EVIDENCE_MEDIA_TYPE];

const PROVISIONING_MEDIA_TYPES: &[ProvisioningMediaType] = &[
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="tag:arm.com,2025:cca_platform#1.0.0""#,
        corim_profile: PROFILE_PLATFORM,
    },
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="tag:arm.com,2025:cca_realm#1.0.0""#,
        corim_profile: PROFILE_REALM,
    },
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="http://arm.com/cca/ssd/1""#,
        corim_profile: PROFILE_PLATFORM_LEGACY,
    },
    ProvisioningMediaType {
        media_type: r#"application/rim+cbor; profile="http://arm.com/cca/realm/1""#,
        corim_profile: PROFILE_REALM_LEGACY,
    },
    ProvisioningMediaType {
        media_type: r#"application/corim-unsigned+cbor; profile="http://arm.com/cca/ssd/1""#,
        corim_profile: PROFILE_PLATFORM_LEGACY,
    },
    ProvisioningMediaType {
        media_type: r#"application/corim-unsigned+cbor; profile="http://arm.com/cca/realm/1""#,
        corim_profile: PROFILE_REALM_LEGACY,
    },
];

/// Length of a CCA implementation ID.
pub const IMPLEMENTATION_ID_LEN: usize = vouch_cca_token::IMPLEMENTATION_ID_LEN;
/// Length of a CCA instance ID (a random UEID).
pub const INSTANCE_ID_LEN: usize = vouch_cca_token::INSTANCE_ID_LEN;

/// Prefix of the store key of platform reference values.
pub const PLATFORM_REFERENCE_PREFIX: &[u8] = b"platform:";
/// Prefix of the store key of realm reference values.
pub const REALM_REFERENCE_PREFIX: &[u8] = b"realm:";

/// The store key of a platform trust anchor: implementation ID ‖ instance
/// ID.
pub fn trust_anchor_id(
    implementation_id: &[u8; IMPLEMENTATION_ID_LEN],
    instance_id: &[u8; INSTANCE_ID_LEN],
) -> Vec<u8> {
    let mut id = Vec::with_capacity(IMPLEMENTATION_ID_LEN + INSTANCE_ID_LEN);
    id.extend_from_slice(implementation_id);
    id.extend_from_slice(instance_id);
    id
}

/// The store key of a platform's reference values.
pub fn platform_reference_id(implementation_id: &[u8; IMPLEMENTATION_ID_LEN]) -> Vec<u8> {
    [PLATFORM_REFERENCE_PREFIX, implementation_id.as_slice()].concat()
}

/// The store key of a realm's reference values.
pub fn realm_reference_id(rim: &[u8]) -> Vec<u8> {
    [REALM_REFERENCE_PREFIX, rim].concat()
}

/// The Arm CCA scheme.
#[derive(Debug, Default, Clone, Copy)]
pub struct ArmCca;

impl Scheme for ArmCca {
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
        let (realm, encoding) = match profile {
            PROFILE_PLATFORM => (false, Encoding::Current),
            PROFILE_REALM => (true, Encoding::Current),
            PROFILE_PLATFORM_LEGACY => (false, Encoding::Legacy),
            PROFILE_REALM_LEGACY => (true, Encoding::Legacy),
            other => {
                return Err(EndorsementError::new(format!(
                    "profile {other:?} is not an {NAME} profile"
                )));
            }
        };
        check_profile(corim, profile)?;
        if realm {
            endorsements::extract_realm(corim, encoding)
        } else {
            extract_platform(corim, encoding, NAME)
        }
    }

    fn decode_reference_value(&self, body: &[u8]) -> Result<DecodedReference, EndorsementError> {
        crate::decode_reference::<CcaReference>(body)
    }

    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence> {
        Ok(Box::new(CcaEvidence::decode(evidence)?))
    }
}

/// A decoded CCA token, ready to be verified and appraised.
#[derive(Debug, Clone)]
pub struct CcaEvidence {
    token: CcaToken,
    ta_id: Vec<u8>,
    /// Why the realm token is not bound to the platform token, if it is not
    /// (a property of the token alone, so known from decoding on).
    unbound: Option<String>,
}

impl CcaEvidence {
    /// Decodes and validates a CCA token (either framing).
    pub fn decode(bytes: &[u8]) -> Result<Self, BadEvidence> {
        let token = CcaToken::decode(bytes).map_err(|e| BadEvidence::new(e.to_string()))?;
        let claims = token.platform_claims();
        let ta_id = trust_anchor_id(&claims.implementation_id, &claims.instance_id);
        let unbound = token.verify_binding().err().map(|e| e.to_string());
        Ok(Self {
            token,
            ta_id,
            unbound,
        })
    }

    /// The decoded token.
    pub fn token(&self) -> &CcaToken {
        &self.token
    }
}

/// Checks that the realm challenge is the session nonce zero-padded to 64
/// bytes (Veraison's freshness rule for CCA), in Veraison's words.
pub(crate) fn check_realm_freshness(token: &CcaToken, nonce: &[u8]) -> Result<(), BadEvidence> {
    let challenge = token.realm_challenge();
    let expected = realm_challenge_for_nonce(nonce)
        .map_err(|e| BadEvidence::new(format!("freshness: {e}")))?;
    if challenge == &expected {
        return Ok(());
    }
    Err(BadEvidence::new(format!(
        "freshness: realm challenge ({}) does not match session nonce ({})",
        hex::encode(challenge),
        hex::encode(nonce)
    )))
}

impl Evidence for CcaEvidence {
    fn trust_anchor_id(&self) -> &[u8] {
        &self.ta_id
    }

    fn verify_integrity(&self, nonce: &[u8], anchor: &TrustAnchorKey) -> Result<(), BadEvidence> {
        // Freshness first, as Veraison does: a replayed token is reported as
        // stale even when its signatures are also wrong.
        check_realm_freshness(&self.token, nonce)?;
        let bad = |e: vouch_cca_token::CcaError| BadEvidence::new(e.to_string());
        self.token.verify_platform(anchor.as_key()?).map_err(bad)?;
        self.token.verify_realm().map_err(bad)
    }

    fn reference_ids(&self, anchor_reference_id: &[u8]) -> Vec<Vec<u8>> {
        vec![
            anchor_reference_id.to_vec(),
            realm_reference_id(self.token.realm_claims().initial_measurement.as_bytes()),
        ]
    }

    fn appraise(
        &self,
        reference_values: &[DecodedReference],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence> {
        let references: Vec<&CcaReference> = references_of(reference_values).collect();
        let platform = appraise_platform(self.token.platform_claims(), &references);
        let realm_claims = self.token.realm_claims();
        let realm = match &self.unbound {
            None => {
                let realms: Vec<&RealmReference> = references
                    .iter()
                    .filter_map(|r| match r {
                        CcaReference::Realm(realm) => Some(realm),
                        _ => None,
                    })
                    .collect();
                appraisal::appraise_realm(realm_claims, &realms)
            }
            Some(reason) => {
                let mut realm = Appraisal::new();
                realm
                    .trust_vector
                    .set_all(TrustClaim::CRYPTO_VALIDATION_FAILED);
                realm.set_problem(format!(
                    "the realm token is not bound to the platform token: {reason}"
                ));
                realm.annotated_evidence = match realm_claims.annotated_evidence() {
                    serde_json::Value::Object(map) => Some(map),
                    _ => None,
                };
                realm.update_status_from_trust_vector();
                realm
            }
        };
        Ok(vec![
            (PLATFORM_SUBMOD.to_owned(), platform),
            (REALM_SUBMOD.to_owned(), realm),
        ])
    }

    /// Veraison hands CCA policies the whole token, platform and realm
    /// claims side by side, whichever submod is being appraised (a realm
    /// policy checks `evidence.realm["cca-realm-challenge"]`).
    fn policy_evidence(
        &self,
        _submod: &str,
        _submods: &[(String, Appraisal)],
    ) -> serde_json::Value {
        serde_json::json!({
            "platform": self.token.platform_claims().annotated_evidence(),
            "realm": self.token.realm_claims().annotated_evidence(),
        })
    }
}
