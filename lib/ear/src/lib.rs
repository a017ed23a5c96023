//! EAR attestation results: claims, trust vectors, and ES256 JWT signing.
//!
//! An EAR (EAT Attestation Result, draft-fv-rats-ear, as produced by
//! Veraison) tells a relying party what the verifier concluded about the
//! evidence: one [`Appraisal`] per attested component, each with an AR4SI
//! [`TrustVector`] of [`TrustClaim`]s and an overall [`TrustTier`].
//!
//! The verifier signs one EAR per request, so [`EarSigner`] does the
//! per-key work (JOSE header, key id) once and each
//! [`sign`](EarSigner::sign) costs one JSON serialisation, one signature and
//! the base64url encoding. [`verify`] is the relying-party side, used by
//! tests and the conformance suite.
//!
//! ```
//! use vouch_crypto::{Curve, SigningKey};
//! use vouch_ear::{Ear, EarSigner, TrustClaim, VerifierId};
//!
//! let signer = EarSigner::new(SigningKey::generate(Curve::P256)?);
//! let verifier_id = VerifierId { build: "0.1.0".into(), developer: "Vouch".into() };
//! let mut ear = Ear::new("PSA_IOT", verifier_id, 1_700_000_000);
//! ear.set_nonce(b"0123456789abcdef")?;
//! let appraisal = ear.submods.get_mut("PSA_IOT").expect("submod");
//! appraisal.trust_vector.hardware = TrustClaim::GENUINE_HARDWARE;
//! ear.update_status_from_trust_vector();
//!
//! let jwt = signer.sign(&ear)?;
//! let back = vouch_ear::verify(&jwt, &signer.verifying_key())?;
//! assert_eq!(back, ear);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// Implements `Serialize`/`Deserialize` for a type whose derives are
/// `#[serde(remote = "Self")]`, accepting only JSON objects: serde's derived
/// struct visitor would also take a JSON array of the field values.
macro_rules! serde_map_only {
    ($ty:ty, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                <$ty>::serialize(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct MapOnly;

                impl<'de> serde::de::Visitor<'de> for MapOnly {
                    type Value = $ty;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<$ty, A::Error> {
                        <$ty>::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }

                deserializer.deserialize_map(MapOnly)
            }
        }
    };
}

mod appraisal;
mod claim;
mod ear;
mod error;
mod jwt;
mod vector;

pub use appraisal::{Appraisal, KeyAttestation};
pub use claim::{Status, TrustClaim, TrustTier};
pub use ear::{EAR_PROFILE, Ear, MAX_NONCE_CHARS, MIN_NONCE_CHARS, TRUSTEE_PROFILE, VerifierId};
pub use error::EarError;
pub use jwt::{EarSigner, MAX_JWT_LEN, verify, verify_at};
pub use vector::TrustVector;

/// Base64url without padding (JWS, `ear.raw-evidence`, `akpub`).
pub(crate) const B64URL: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Base64url with padding: Veraison's `eat_nonce` encoding.
pub(crate) const B64URL_PADDED: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE;

/// Whether `json` is UTF-8 and starts (after whitespace) with `{`. serde
/// would otherwise accept a JSON array for a struct, and serde_json does
/// not check the UTF-8 of members a struct ignores, while JSON (RFC 8259
/// §8.1) and a JWS header (RFC 7515 §5.2) must be UTF-8 throughout.
pub(crate) fn is_json_object(json: &[u8]) -> bool {
    std::str::from_utf8(json).is_ok()
        && json
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{')
}
