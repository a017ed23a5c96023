//! The crate's error type.

use vouch_crypto::CryptoError;

/// Why a COSE structure could not be read, written or verified. Each variant
/// names the step that failed; the texts reach users in attestation results
/// and problem details, so they say what was found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoseError {
    /// The bytes are not a well-formed COSE_Sign1: bad CBOR, truncated, the
    /// wrong shape, or bytes left over after it. The text is the detail only
    /// (`unexpected EOF`, `invalid COSE_Sign1 object: ...`).
    #[error("malformed COSE_Sign1: {0}")]
    Decode(String),
    /// A COSE_Mac0 (tag 17) where a COSE_Sign1 was expected.
    #[error("COSE_Mac0 (tag 17) is not supported: expected a COSE_Sign1 (tag 18)")]
    Mac0,
    /// A CBOR tag other than COSE_Sign1's 18 (or COSE_Mac0's 17) in front.
    #[error("invalid COSE_Sign1_Tagged object: found tag {0}, expected 18")]
    UnexpectedTag(u64),
    /// The protected header is not a well-formed header map.
    #[error("malformed protected header: {0}")]
    ProtectedHeader(String),
    /// The unprotected header is not a well-formed header map.
    #[error("malformed unprotected header: {0}")]
    UnprotectedHeader(String),
    /// The protected header has no `alg` (label 1).
    #[error("no algorithm in the protected header")]
    MissingAlgorithm,
    /// The protected `alg` names an algorithm other than ES256, ES384 or
    /// ES512; the text is the value found.
    #[error("unsupported COSE algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// The `x5chain` header (label 33) is neither a byte string nor a
    /// non-empty array of byte strings, or is in both headers.
    #[error("malformed x5chain header: {0}")]
    X5Chain(String),
    /// The COSE_Sign1 has a detached (`nil`) payload, so it cannot be
    /// verified without the payload being supplied.
    #[error("the COSE_Sign1 payload is detached")]
    DetachedPayload,
    /// The signature does not verify, or the key cannot be used with the
    /// header's algorithm ([`CryptoError::AlgorithmMismatch`]).
    #[error("signature verification failed: {0}")]
    Signature(CryptoError),
    /// The bytes are not a well-formed COSE_Key.
    #[error("malformed COSE_Key: {0}")]
    KeyDecode(String),
    /// A well-formed COSE_Key of a type or curve we do not verify with.
    #[error("unsupported COSE_Key: {0}")]
    UnsupportedKey(String),
    /// The COSE_Key's coordinates are not a point on its curve.
    #[error("invalid COSE_Key: {0}")]
    InvalidKey(CryptoError),
    /// A COSE structure could not be built from the parameters given.
    #[error("COSE encoding failed: {0}")]
    Encode(String),
    /// The signing key failed to sign.
    #[error("COSE signing failed: {0}")]
    Signing(CryptoError),
}
