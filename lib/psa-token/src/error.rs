//! The crate's error type.

use vouch_crypto::CryptoError;

/// Why a PSA token was rejected. Each variant names the step that failed; the
/// messages follow Veraison's psatoken wording, because they end up in
/// attestation results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The COSE_Sign1 envelope could not be decoded.
    #[error("failed CBOR decoding for CWT: {0}")]
    CoseDecode(String),
    /// The payload is not a decodable PSA claims-set (including an unknown
    /// profile).
    #[error("failed CBOR decoding of PSA claims: {0}")]
    ClaimsDecode(String),
    /// The claims decoded but break the profile's rules.
    #[error("validating {claim}: {reason}")]
    ClaimsValidation {
        /// The claim that failed, in psatoken's words ("nonce",
        /// "software components", ...).
        claim: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The protected header names no algorithm, or one other than ES256, ES384
    /// or ES512.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The signature did not verify with the key given (or the key does not
    /// go with the token's algorithm).
    #[error("signature verification failed: {0}")]
    Signature(CryptoError),
}

impl TokenError {
    pub(crate) fn validation(claim: &'static str, reason: impl Into<String>) -> Self {
        Self::ClaimsValidation {
            claim,
            reason: reason.into(),
        }
    }
}
