//! The crate's error type.

use vouch_crypto::{Algorithm, CryptoError, Curve};

/// Why an EAR could not be built, signed or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EarError {
    /// Setting or checking `eat_nonce` failed: it must be 8 to 88
    /// characters of base64url.
    #[error("invalid eat_nonce: {0}")]
    InvalidNonce(String),
    /// Validating the claims set before signing failed.
    #[error("invalid EAR: {0}")]
    Invalid(String),
    /// Serialising the claims set failed.
    #[error("serialising EAR claims: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The signing primitive failed.
    #[error("signing EAR: {0}")]
    Sign(#[source] CryptoError),
    /// Splitting or decoding the JWS compact serialisation failed.
    #[error("malformed JWT: {0}")]
    Malformed(&'static str),
    /// Parsing the JOSE header failed.
    #[error("invalid JWT header: {0}")]
    Header(String),
    /// The header names an algorithm other than ES256/ES384 (including
    /// `none` and the HMAC family).
    #[error("unsupported JWT algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The header's algorithm does not go with the verification key.
    #[error("JWT algorithm {alg} does not match the {curve} verification key")]
    AlgorithmMismatch {
        /// The algorithm in the header.
        alg: Algorithm,
        /// The curve of the verification key.
        curve: Curve,
    },
    /// Checking the signature failed.
    #[error("EAR signature verification failed: {0}")]
    Signature(#[source] CryptoError),
    /// Parsing the (verified) payload as an EAR claims set failed.
    #[error("invalid EAR claims: {0}")]
    Claims(#[source] serde_json::Error),
    /// The JWT `exp` claim is not after the verification time.
    #[error("EAR expired at {exp} (verification time {now})")]
    Expired {
        /// The `exp` claim, Unix seconds.
        exp: i64,
        /// The verification time, Unix seconds.
        now: i64,
    },
    /// The JWT `nbf` claim is after the verification time.
    #[error("EAR not valid before {nbf} (verification time {now})")]
    NotYetValid {
        /// The `nbf` claim, Unix seconds.
        nbf: i64,
        /// The verification time, Unix seconds.
        now: i64,
    },
}
