//! The crate's error type.

use crate::{Algorithm, Curve, Hash};

/// Why a key could not be read or written, or a signature made or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The text is not a well-formed PEM block.
    #[error("could not extract PEM block: {0}")]
    PemDecode(String),
    /// The PEM block is well formed but holds the wrong kind of key (for
    /// example a private key where a public key is expected).
    #[error("unsupported key type: {0:?}")]
    UnsupportedPemLabel(String),
    /// The DER structure (SPKI, PKCS#8 or SEC1) is malformed.
    #[error("malformed key encoding: {0}")]
    DerDecode(String),
    /// The JWK is malformed or is not an EC key.
    #[error("malformed JWK: {0}")]
    JwkDecode(String),
    /// The key is not an elliptic-curve key.
    #[error("unsupported key algorithm: {0}")]
    UnsupportedKeyType(String),
    /// The key is on a curve other than P-256, P-384 or P-521.
    #[error("unsupported curve: {0}")]
    UnsupportedCurve(String),
    /// The key material is well formed but not a valid key (a point off the
    /// curve, a scalar out of range, halves that do not match).
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The algorithm requested does not go with the key's curve.
    #[error("algorithm {alg} cannot be used with a {curve} key")]
    AlgorithmMismatch {
        /// The algorithm requested.
        alg: Algorithm,
        /// The curve of the key.
        curve: Curve,
    },
    /// ECDSA on this curve with this hash is not available.
    #[error("ECDSA on {curve} with {hash} is not supported")]
    UnsupportedHash {
        /// The curve of the key.
        curve: Curve,
        /// The hash requested.
        hash: Hash,
    },
    /// A signature could not be re-encoded (wrong length, a value longer than
    /// the curve's field).
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    /// The signature does not verify (wording as go-cose's `ErrVerification`,
    /// which ends up in attestation results).
    #[error("verification error")]
    Verification,
    /// The signing primitive failed.
    #[error("signing failed")]
    Signing,
    /// Key generation failed.
    #[error("key generation failed")]
    KeyGeneration,
}
