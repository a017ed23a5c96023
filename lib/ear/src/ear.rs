//! The attestation result claims set.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::{Appraisal, B64URL, B64URL_PADDED, EarError, TrustTier};

/// The EAT profile of Veraison EARs.
pub const EAR_PROFILE: &str = "tag:github.com,2023:veraison/ear";

/// The Confidential Containers Trustee profile, which Veraison accepts as an
/// alias of [`EAR_PROFILE`].
pub const TRUSTEE_PROFILE: &str = "tag:github.com,2024:confidential-containers/Trustee";

/// Shortest `eat_nonce` allowed by the EAT specification, in characters.
pub const MIN_NONCE_CHARS: usize = 8;
/// Longest `eat_nonce` allowed by the EAT specification, in characters.
pub const MAX_NONCE_CHARS: usize = 88;

/// `ear.verifier-id`: which verifier build produced the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct VerifierId {
    /// The verifier build, e.g. `0.0.2608+6b88102`.
    pub build: String,
    /// Who is responsible for the build, e.g. `Veraison Project`.
    pub developer: String,
}

/// An EAR (EAT Attestation Result) claims set.
///
/// Serialised with the exact claim names (`eat_profile`, `iat`,
/// `ear.verifier-id`, `eat_nonce`, `submods`, and `ear.raw-evidence` when
/// set), keys in the sorted order Veraison emits. Parsing requires
/// `eat_profile`, `iat`, `ear.verifier-id` and `submods`, checks the nonce
/// length, and ignores claims it does not know (such as JWT `exp`);
/// [`validate`](Self::validate) adds the checks made before signing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Ear {
    /// `ear.raw-evidence`: the evidence as received, if echoed.
    #[serde(
        rename = "ear.raw-evidence",
        default,
        skip_serializing_if = "Option::is_none",
        with = "raw_evidence"
    )]
    pub raw_evidence: Option<Vec<u8>>,
    /// `ear.verifier-id`.
    #[serde(rename = "ear.verifier-id")]
    pub verifier_id: VerifierId,
    /// `eat_nonce`: the session nonce as padded base64url text; set it with
    /// [`set_nonce`](Self::set_nonce).
    #[serde(
        rename = "eat_nonce",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_nonce"
    )]
    pub nonce: Option<String>,
    /// `eat_profile`.
    #[serde(rename = "eat_profile")]
    pub profile: String,
    /// `iat`: when the result was produced, in Unix seconds.
    #[serde(rename = "iat", deserialize_with = "deserialize_numeric_date")]
    pub issued_at: i64,
    /// `submods`: one appraisal per attested component, by name.
    pub submods: BTreeMap<String, Appraisal>,
}

serde_map_only!(VerifierId, "a verifier identity object");
serde_map_only!(Ear, "an EAR claims set object");

impl Ear {
    /// A Veraison-profile result with one submod named `submod` (status
    /// none, all-zero trust vector), issued at `issued_at` (Unix seconds).
    pub fn new(submod: impl Into<String>, verifier_id: VerifierId, issued_at: i64) -> Self {
        let mut submods = BTreeMap::new();
        submods.insert(submod.into(), Appraisal::new());
        Self {
            raw_evidence: None,
            verifier_id,
            nonce: None,
            profile: EAR_PROFILE.to_owned(),
            issued_at,
            submods,
        }
    }

    /// Sets `eat_nonce` from the nonce bytes, encoded as padded base64url as
    /// Veraison does. The encoding must be 8 to 88 characters long, so the
    /// nonce must be 4 to 66 bytes.
    pub fn set_nonce(&mut self, nonce: &[u8]) -> Result<(), EarError> {
        let encoded = B64URL_PADDED.encode(nonce);
        check_nonce_len(&encoded)?;
        self.nonce = Some(encoded);
        Ok(())
    }

    /// The nonce bytes, decoded from `eat_nonce` (padded or unpadded
    /// base64url); `None` when there is no nonce.
    pub fn nonce_bytes(&self) -> Result<Option<Vec<u8>>, EarError> {
        let Some(nonce) = &self.nonce else {
            return Ok(None);
        };
        let unpadded = nonce.trim_end_matches('=');
        B64URL
            .decode(unpadded)
            .map(Some)
            .map_err(|_| EarError::InvalidNonce("eat_nonce is not base64url".to_owned()))
    }

    /// The result's overall status: the most severe tier of its submods
    /// (`none` when it has none), as trust reports it and counts it.
    pub fn status(&self) -> TrustTier {
        self.submods
            .values()
            .map(|a| a.status)
            .max()
            .unwrap_or_default()
    }

    /// Applies [`Appraisal::update_status_from_trust_vector`] to every submod.
    pub fn update_status_from_trust_vector(&mut self) {
        for appraisal in self.submods.values_mut() {
            appraisal.update_status_from_trust_vector();
        }
    }

    /// The checks made before signing: a known profile, at least one submod
    /// and a nonce of 8 to 88 characters.
    pub fn validate(&self) -> Result<(), EarError> {
        if self.profile != EAR_PROFILE && self.profile != TRUSTEE_PROFILE {
            return Err(EarError::Invalid(format!(
                "unknown eat_profile {:?}",
                self.profile
            )));
        }
        if self.submods.is_empty() {
            return Err(EarError::Invalid(
                "submods: at least one appraisal must be present".to_owned(),
            ));
        }
        if let Some(nonce) = &self.nonce {
            check_nonce_len(nonce)?;
        }
        Ok(())
    }

    /// Serialises the claims set to JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, EarError> {
        serde_json::to_vec(self).map_err(EarError::Serialize)
    }

    /// Parses a claims set from JSON (see the type's parsing rules).
    pub fn from_json(json: &[u8]) -> Result<Self, EarError> {
        if !crate::is_json_object(json) {
            return Err(EarError::Invalid(
                "the claims set is not a JSON object".to_owned(),
            ));
        }
        serde_json::from_slice(json).map_err(EarError::Claims)
    }
}

fn check_nonce_len(nonce: &str) -> Result<(), EarError> {
    if (MIN_NONCE_CHARS..=MAX_NONCE_CHARS).contains(&nonce.len()) {
        Ok(())
    } else {
        Err(EarError::InvalidNonce(format!(
            "eat_nonce must be {MIN_NONCE_CHARS} to {MAX_NONCE_CHARS} characters, got {}",
            nonce.len()
        )))
    }
}

fn deserialize_nonce<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let nonce = String::deserialize(deserializer)?;
    check_nonce_len(&nonce).map_err(de::Error::custom)?;
    Ok(Some(nonce))
}

/// A JWT NumericDate: an integer, or (as some encoders write it) a float
/// with no fractional part.
pub(crate) fn deserialize_numeric_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<i64, D::Error> {
    struct DateVisitor;

    impl Visitor<'_> for DateVisitor {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number of seconds since the Unix epoch")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // ±2^53: every integer in range is exact, and the cast is lossless.
            const LIMIT: f64 = 9_007_199_254_740_992.0;
            if v.is_finite() && v.fract() == 0.0 && v.abs() <= LIMIT {
                #[allow(clippy::cast_possible_truncation)]
                Ok(v as i64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &self))
            }
        }
    }

    deserializer.deserialize_any(DateVisitor)
}

mod raw_evidence {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer, de};

    use crate::B64URL;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_str(&B64URL.encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text = String::deserialize(deserializer)?;
        B64URL.decode(text.as_bytes()).map(Some).map_err(|e| {
            de::Error::custom(format!("ear.raw-evidence is not unpadded base64url: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrustClaim;
    use serde_json::json;

    #[test]
    fn the_overall_status_is_the_most_severe_submod_tier() {
        let mut ear = Ear::new("a", verifier(), 0);
        assert_eq!(ear.status(), TrustTier::None);
        ear.submods.get_mut("a").unwrap().status = TrustTier::Affirming;
        assert_eq!(ear.status(), TrustTier::Affirming);
        let mut warning = Appraisal::new();
        warning.status = TrustTier::Warning;
        ear.submods.insert("b".to_owned(), warning);
        assert_eq!(ear.status(), TrustTier::Warning);
        ear.submods.clear();
        assert_eq!(ear.status(), TrustTier::None);
    }

    /// Found by fuzzing (`verify_ear`): without serde_json's exact float
    /// parsing, a number in the annotated evidence read back one unit in
    /// the last place off, so an EAR re-serialised by a relying party no
    /// longer said what trust signed.
    #[test]
    fn numbers_in_annotated_evidence_survive_json_exactly() {
        let text = "2.2222222222222222e104";
        let first: serde_json::Value = serde_json::from_str(text).unwrap();
        let again: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
        assert_eq!(first, again);
        assert_eq!(first.as_f64(), text.parse::<f64>().ok());
    }

    fn verifier() -> VerifierId {
        VerifierId {
            build: "0.0.2608+6b88102".to_owned(),
            developer: "Veraison Project".to_owned(),
        }
    }

    #[test]
    fn claim_names_and_shape() {
        let mut ear = Ear::new("PSA_IOT", verifier(), 1_706_023_979);
        ear.set_nonce(&[0x15, 0xe8, 0x81, 0x2f, 0x46, 0x2c, 0xd3, 0x2b])
            .unwrap();
        let a = ear.submods.get_mut("PSA_IOT").unwrap();
        a.policy_id = Some("policy:PSA_IOT".to_owned());
        a.trust_vector.hardware = TrustClaim::GENUINE_HARDWARE;
        a.update_status_from_trust_vector();
        let text = String::from_utf8(ear.to_json().unwrap()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"ear.verifier-id":{"build":"0.0.2608+6b88102","developer":"Veraison Project"},"#,
                r#""eat_nonce":"FeiBL0Ys0ys=","eat_profile":"tag:github.com,2023:veraison/ear","#,
                r#""iat":1706023979,"submods":{"PSA_IOT":{"ear.appraisal-policy-id":"policy:PSA_IOT","#,
                r#""ear.status":"affirming","ear.trustworthiness-vector":{"configuration":0,"executables":0,"#,
                r#""file-system":0,"hardware":2,"instance-identity":0,"runtime-opaque":0,"sourced-data":0,"#,
                r#""storage-opaque":0}}}}"#
            )
        );
        assert_eq!(Ear::from_json(text.as_bytes()).unwrap(), ear);
    }

    #[test]
    fn nonce_is_padded_base64url_within_limits() {
        let mut ear = Ear::new("x", verifier(), 0);
        // 0xfb 0xff encodes to '+' and '/' in standard base64.
        ear.set_nonce(&[0xfb, 0xff, 0xfe, 0x01, 0x02]).unwrap();
        assert_eq!(ear.nonce.as_deref(), Some("-__-AQI="));
        assert_eq!(
            ear.nonce_bytes().unwrap().unwrap(),
            [0xfb, 0xff, 0xfe, 0x01, 0x02]
        );
        ear.set_nonce(&[7; 4]).unwrap();
        assert_eq!(ear.nonce.as_deref().map(str::len), Some(8));
        ear.set_nonce(&[7; 64]).unwrap();
        assert_eq!(ear.nonce.as_deref().map(str::len), Some(88));
        ear.set_nonce(&[7; 66]).unwrap();
        assert!(matches!(
            ear.set_nonce(&[7; 3]),
            Err(EarError::InvalidNonce(_))
        ));
        assert!(matches!(
            ear.set_nonce(&[7; 67]),
            Err(EarError::InvalidNonce(_))
        ));
        assert!(ear.set_nonce(&[]).is_err());
        // A failed set leaves the previous nonce alone.
        assert_eq!(ear.nonce_bytes().unwrap().unwrap(), [7; 66]);
    }

    #[test]
    fn parsing_requires_the_mandatory_claims() {
        let good = json!({
            "eat_profile": EAR_PROFILE,
            "iat": 1,
            "ear.verifier-id": {"build": "b", "developer": "d"},
            "submods": {"s": {"ear.status": "none"}}
        });
        assert!(serde_json::from_value::<Ear>(good.clone()).is_ok());
        for missing in ["eat_profile", "iat", "ear.verifier-id", "submods"] {
            let mut v = good.clone();
            v.as_object_mut().unwrap().remove(missing);
            assert!(
                serde_json::from_value::<Ear>(v).is_err(),
                "{missing} accepted as optional"
            );
        }
        let with = |key: &str, value: serde_json::Value| {
            let mut v = good.clone();
            v[key] = value;
            serde_json::from_value::<Ear>(v)
        };
        assert!(with("ear.verifier-id", json!({"build": "b"})).is_err());
        assert!(with("ear.verifier-id", json!(["b", "d"])).is_err());
        assert!(with("submods", json!({"s": ["none"]})).is_err());
        assert!(
            serde_json::from_value::<Ear>(
                json!([null, {"build": "b", "developer": "d"}, null, "p", 1, {}])
            )
            .is_err()
        );
        assert!(with("eat_nonce", json!("short")).is_err());
        assert!(with("eat_nonce", json!("x".repeat(89))).is_err());
        assert!(with("eat_nonce", json!("x".repeat(88))).is_ok());
        assert!(with("iat", json!("1")).is_err());
        assert!(with("iat", json!(1.5)).is_err());
        assert_eq!(
            with("iat", json!(1_666_091_373.0)).unwrap().issued_at,
            1_666_091_373
        );
        assert!(with("submods", json!({"s": {}})).is_err());
        assert!(with("submods", json!([])).is_err());
        assert!(with("ear.raw-evidence", json!("3q2+7w==")).is_err());
        assert_eq!(
            with("ear.raw-evidence", json!("3q2-7w"))
                .unwrap()
                .raw_evidence
                .unwrap(),
            [0xde, 0xad, 0xbe, 0xef]
        );
        // Unknown claims (JWT exp, Trustee extensions) are ignored.
        assert!(with("exp", json!(5)).is_ok());
        // Duplicate claims are refused rather than resolved silently.
        let dup = br#"{"eat_profile":"a","eat_profile":"b","iat":1,"ear.verifier-id":{"build":"b","developer":"d"},"submods":{}}"#;
        assert!(Ear::from_json(dup).is_err());
    }

    #[test]
    fn validation_before_signing() {
        let mut ear = Ear::new("s", verifier(), 0);
        assert!(ear.validate().is_ok());
        ear.profile = TRUSTEE_PROFILE.to_owned();
        assert!(ear.validate().is_ok());
        ear.profile = "test".to_owned();
        assert!(matches!(ear.validate(), Err(EarError::Invalid(_))));
        ear.profile = EAR_PROFILE.to_owned();
        ear.nonce = Some("abc".to_owned());
        assert!(matches!(ear.validate(), Err(EarError::InvalidNonce(_))));
        ear.nonce = None;
        ear.submods.clear();
        assert!(matches!(ear.validate(), Err(EarError::Invalid(_))));
    }

    #[test]
    fn status_update_covers_every_submod() {
        let mut ear = Ear::new("CCA_REALM", verifier(), 0);
        ear.submods
            .insert("CCA_SSD_PLATFORM".to_owned(), Appraisal::new());
        ear.submods
            .get_mut("CCA_REALM")
            .unwrap()
            .trust_vector
            .executables = TrustClaim::UNRECOGNIZED_RUNTIME;
        ear.submods
            .get_mut("CCA_SSD_PLATFORM")
            .unwrap()
            .trust_vector = crate::TrustVector::all(TrustClaim::CRYPTO_VALIDATION_FAILED);
        ear.update_status_from_trust_vector();
        assert_eq!(ear.submods["CCA_REALM"].status, TrustTier::Warning);
        assert_eq!(
            ear.submods["CCA_SSD_PLATFORM"].status,
            TrustTier::Contraindicated
        );
    }
}
