//! The appraisal of one submodule.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{B64URL, TrustTier, TrustVector};

/// One entry of `submods`: the verdict on one attested component.
///
/// Serialised with the claim names Veraison uses, keys in sorted order as
/// Veraison emits them; optional claims are left out when absent. A missing
/// trust vector parses as all "no claim" (which a relying party must treat
/// the same as an absent vector). Unknown claims are ignored when parsing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Appraisal {
    /// `ear.appraisal-policy-id`: the policy used, e.g. `policy:PSA_IOT`.
    #[serde(
        rename = "ear.appraisal-policy-id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub policy_id: Option<String>,
    /// `ear.status`: the overall verdict.
    #[serde(rename = "ear.status")]
    pub status: TrustTier,
    /// `ear.trustworthiness-vector`.
    #[serde(rename = "ear.trustworthiness-vector", default)]
    pub trust_vector: TrustVector,
    /// `ear.veraison.annotated-evidence`: the claims extracted from the
    /// evidence.
    #[serde(
        rename = "ear.veraison.annotated-evidence",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub annotated_evidence: Option<Map<String, Value>>,
    /// `ear.veraison.key-attestation`: the attested key (PARSEC schemes).
    #[serde(
        rename = "ear.veraison.key-attestation",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_attestation: Option<KeyAttestation>,
    /// `ear.veraison.policy-claims`: claims added by the policy, or
    /// `{"problem": "…"}` on error paths.
    #[serde(
        rename = "ear.veraison.policy-claims",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub policy_claims: Option<Map<String, Value>>,
}

serde_map_only!(Appraisal, "an appraisal object");

impl Appraisal {
    /// An appraisal with status `none` and an all-zero trust vector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the status to the most severe tier in the trust vector, so the
    /// verdict never claims more trust than the individual claims warrant
    /// (it may claim less, if it was set that way).
    pub fn update_status_from_trust_vector(&mut self) {
        self.status = self.status.max(self.trust_vector.max_tier());
    }

    /// Records an error for the relying party in
    /// `ear.veraison.policy-claims` as `{"problem": <text>}`, as Veraison does
    /// on its error paths.
    pub fn set_problem(&mut self, problem: impl Into<String>) {
        let mut claims = Map::new();
        claims.insert("problem".to_owned(), Value::String(problem.into()));
        self.policy_claims = Some(claims);
    }
}

/// `ear.veraison.key-attestation`: `{"akpub": <base64url SPKI DER>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawKeyAttestation")]
pub struct KeyAttestation {
    akpub: String,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Self")]
struct RawKeyAttestation {
    akpub: String,
}

serde_map_only!(RawKeyAttestation, "a key attestation object");

impl TryFrom<RawKeyAttestation> for KeyAttestation {
    type Error = String;

    fn try_from(raw: RawKeyAttestation) -> Result<Self, Self::Error> {
        if raw.akpub.is_empty() || B64URL.decode(&raw.akpub).is_err() {
            return Err("akpub must be non-empty unpadded base64url".to_owned());
        }
        Ok(Self { akpub: raw.akpub })
    }
}

impl KeyAttestation {
    /// Wraps the attested key, given as SubjectPublicKeyInfo DER.
    pub fn from_spki_der(spki_der: &[u8]) -> Self {
        Self {
            akpub: B64URL.encode(spki_der),
        }
    }

    /// The `akpub` member as serialised (base64url without padding).
    pub fn akpub(&self) -> &str {
        &self.akpub
    }

    /// The attested key's SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        // Checked when built, so decoding cannot fail here.
        B64URL.decode(&self.akpub).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrustClaim;
    use serde_json::json;

    #[test]
    fn status_never_exceeds_the_vector() {
        let mut a = Appraisal::new();
        a.status = TrustTier::Affirming;
        a.trust_vector.executables = TrustClaim::UNRECOGNIZED_RUNTIME;
        a.update_status_from_trust_vector();
        assert_eq!(a.status, TrustTier::Warning);

        a.trust_vector.instance_identity = TrustClaim::UNTRUSTWORTHY_INSTANCE;
        a.update_status_from_trust_vector();
        assert_eq!(a.status, TrustTier::Contraindicated);

        // A status set more severe than the vector is kept.
        let mut b = Appraisal::new();
        b.status = TrustTier::Contraindicated;
        b.trust_vector = TrustVector::all(TrustClaim(2));
        b.update_status_from_trust_vector();
        assert_eq!(b.status, TrustTier::Contraindicated);

        // Malfunction (-1) and no claim (0) are tier none: status unchanged.
        let mut c = Appraisal::new();
        c.trust_vector = TrustVector::all(TrustClaim::VERIFIER_MALFUNCTION);
        c.update_status_from_trust_vector();
        assert_eq!(c.status, TrustTier::None);

        // All 99 (crypto failed) is contraindicated.
        let mut d = Appraisal::new();
        d.trust_vector = TrustVector::all(TrustClaim::CRYPTO_VALIDATION_FAILED);
        d.update_status_from_trust_vector();
        assert_eq!(d.status, TrustTier::Contraindicated);

        // An affirming vector lifts "none" to affirming.
        let mut e = Appraisal::new();
        e.trust_vector.hardware = TrustClaim::GENUINE_HARDWARE;
        e.update_status_from_trust_vector();
        assert_eq!(e.status, TrustTier::Affirming);
    }

    #[test]
    fn json_shape() {
        let mut a = Appraisal::new();
        a.status = TrustTier::Affirming;
        a.policy_id = Some("policy:PSA_IOT".to_owned());
        a.trust_vector.hardware = TrustClaim(2);
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(
            v,
            json!({
                "ear.appraisal-policy-id": "policy:PSA_IOT",
                "ear.status": "affirming",
                "ear.trustworthiness-vector": {
                    "configuration": 0, "executables": 0, "file-system": 0, "hardware": 2,
                    "instance-identity": 0, "runtime-opaque": 0, "sourced-data": 0, "storage-opaque": 0
                }
            })
        );

        a.set_problem("no trust anchor for evidence");
        a.annotated_evidence = Some(Map::new());
        a.key_attestation = Some(KeyAttestation::from_spki_der(&[0x30, 0x59, 0xfb]));
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(
            v["ear.veraison.policy-claims"],
            json!({"problem": "no trust anchor for evidence"})
        );
        assert_eq!(v["ear.veraison.annotated-evidence"], json!({}));
        assert_eq!(v["ear.veraison.key-attestation"], json!({"akpub": "MFn7"}));
        let back: Appraisal = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
        assert_eq!(back.key_attestation.unwrap().spki_der(), [0x30, 0x59, 0xfb]);
    }

    #[test]
    fn parsing_rules() {
        // Only the status is mandatory; unknown claims are ignored.
        let a: Appraisal =
            serde_json::from_value(json!({"ear.status": "warning", "x-other": 1})).unwrap();
        assert_eq!(a.status, TrustTier::Warning);
        assert_eq!(a.trust_vector, TrustVector::default());
        assert!(
            serde_json::from_value::<Appraisal>(json!({"ear.appraisal-policy-id": "p"})).is_err()
        );
        assert!(serde_json::from_value::<Appraisal>(json!({"ear.status": "good"})).is_err());
        assert!(
            serde_json::from_value::<Appraisal>(
                json!({"ear.status": "none", "ear.veraison.policy-claims": []})
            )
            .is_err()
        );
        // Serde would take a JSON array of field values for a struct.
        assert!(serde_json::from_value::<Appraisal>(json!(["none"])).is_err());
        assert!(
            serde_json::from_value::<Appraisal>(
                json!({"ear.status": "none", "ear.trustworthiness-vector": [2]})
            )
            .is_err()
        );
        for bad in [
            json!({}),
            json!(["YWtwdWIK"]),
            json!({"akpub": ""}),
            json!({"akpub": "a+b/"}),
            json!({"akpub": "YQ=="}),
            json!({"akpub": 1}),
        ] {
            assert!(
                serde_json::from_value::<Appraisal>(
                    json!({"ear.status": "none", "ear.veraison.key-attestation": bad})
                )
                .is_err(),
                "{bad}"
            );
        }
    }
}
