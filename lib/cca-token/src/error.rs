//! The crate's error type.

use vouch_cose::CoseError;

/// Why CCA evidence was rejected, or a verification step failed.
///
/// Each variant names the step that failed, so that a scheme can tell a
/// platform-signature failure from a realm-signature or binding failure. The
/// texts follow Veraison's ccatoken and parsec wording where it has one
/// (decoding errors start `CBOR decoding of CCA evidence failed` or
/// `decoding of CCA evidence failed`, validation errors `validation of
/// cca-…-claims failed: validating …`), because they reach users in
/// attestation results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CcaError {
    /// The collection is not well-formed CBOR, not tagged 399 or 907, or an
    /// entry has the wrong shape.
    #[error("CBOR decoding of CCA evidence failed: {0}")]
    Collection(String),
    /// The collection has no platform token (key 44234).
    #[error("CCA platform token not set")]
    PlatformTokenNotSet,
    /// The collection has no realm token (key 44241).
    #[error("CCA realm token not set")]
    RealmTokenNotSet,
    /// The platform token is not a well-formed COSE_Sign1_Tagged.
    #[error("decoding of CCA evidence failed: platform token: failed CBOR decoding for CWT: {0}")]
    PlatformEnvelope(String),
    /// The realm token is not a well-formed COSE_Sign1_Tagged.
    #[error("decoding of CCA evidence failed: realm token: failed CBOR decoding for CWT: {0}")]
    RealmEnvelope(String),
    /// The platform payload is not a decodable CCA platform claims-set
    /// (including an unknown profile).
    #[error("decoding of CCA evidence failed: failed CBOR decoding of CCA platform claims: {0}")]
    PlatformClaimsDecode(String),
    /// The realm payload is not a decodable CCA realm claims-set.
    #[error("decoding of CCA evidence failed: failed CBOR decoding of CCA realm claims: {0}")]
    RealmClaimsDecode(String),
    /// The platform claims decoded but break the profile's rules.
    #[error("validation of cca-platform-claims failed: validating {claim}: {reason}")]
    PlatformClaimsInvalid {
        /// The claim that failed, in ccatoken's words (`nonce`, `instance
        /// id`, `platform config`, …).
        claim: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The realm claims decoded but break the profile's rules.
    #[error("validation of cca-realm-claims failed: validating {claim}: {reason}")]
    RealmClaimsInvalid {
        /// The claim that failed, in ccatoken's words (`realm challenge
        /// claim`, `realm public key claim`, …).
        claim: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The platform token's signature does not verify with the CPAK given,
    /// or its algorithm does not go with the CPAK's curve.
    #[error("unable to verify platform token: {0}")]
    PlatformSignature(CoseError),
    /// The realm token's signature does not verify with the RAK it carries.
    #[error("unable to verify realm token: {0}")]
    RealmSignature(CoseError),
    /// The platform challenge is not the hash of the RAK claim: the realm
    /// token is not bound to this platform token.
    #[error(
        "binding verification failed: platform nonce does not match RAK hash \
         (platform challenge {found}, {hash} of the RAK {expected})"
    )]
    Binding {
        /// The RAK hash algorithm (`sha-256`, …).
        hash: String,
        /// Hex of the hash of the RAK claim.
        expected: String,
        /// Hex of the platform challenge.
        found: String,
    },
    /// The realm's RAK hash algorithm is not one the binding can be computed
    /// with (sha-224, sha-256, sha-384, sha-512).
    #[error("binding verification failed: RAK hash algorithm {0:?} not known")]
    UnsupportedBindingHash(String),
    /// A realm public key could not be built (minting, or a hand-made claim).
    #[error("invalid realm public key: {0}")]
    RealmPublicKey(String),
    /// JSON claims could not be read (wrong shape or type, bad base64).
    #[error("decoding JSON claims failed: {0}")]
    Json(String),
    /// Parsec CCA evidence is not well-formed CBOR or not a `{"kat", "pat"}`
    /// map.
    #[error("CBOR decoding: {0}")]
    ParsecDecode(String),
    /// Parsec CCA evidence without a `kat`.
    #[error("nil KAT")]
    KatMissing,
    /// The key attestation token is malformed or invalid.
    #[error("KAT validation: {0}")]
    Kat(String),
    /// Parsec CCA evidence without a `pat`.
    #[error("nil PAT")]
    PatMissing,
    /// The platform attestation token (a CCA token) does not decode or
    /// validate.
    #[error("PAT validation: {0}")]
    Pat(Box<CcaError>),
    /// The platform attestation token does not verify (platform signature,
    /// realm signature or platform/realm binding: see the inner error).
    #[error("PAT validation failed: {0}")]
    PatVerification(Box<CcaError>),
    /// The realm challenge is not the SHA-512 of the KAT.
    #[error("PAT-KAT binding check failed: want {want}, got {got}")]
    KatBinding {
        /// Hex of SHA-512 of the KAT bytes.
        want: String,
        /// Hex of the realm challenge.
        got: String,
    },
    /// A session nonce longer than the 64-byte realm challenge.
    #[error("a session nonce of {0} bytes does not fit the 64-byte realm challenge")]
    NonceTooLong(usize),
    /// A token could not be minted.
    #[error("minting a CCA token failed: {0}")]
    Mint(String),
}

impl CcaError {
    pub(crate) fn platform_invalid(claim: &'static str, reason: impl Into<String>) -> Self {
        Self::PlatformClaimsInvalid {
            claim,
            reason: reason.into(),
        }
    }

    pub(crate) fn realm_invalid(claim: &'static str, reason: impl Into<String>) -> Self {
        Self::RealmClaimsInvalid {
            claim,
            reason: reason.into(),
        }
    }
}
