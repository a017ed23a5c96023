//! The crate's error type.

/// Why a CoRIM or CoMID could not be decoded.
///
/// `path` names where decoding failed, outermost first, e.g.
/// `comid 1: triples: attest-key-triples[0]: environment: class: class-id`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorimError {
    /// The input is larger than [`crate::Limits::max_bytes`].
    #[error("decoding CoRIM: input is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// Input size in bytes.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The input is a signed CoRIM (COSE_Sign1, CBOR tag 18); only unsigned
    /// CoRIMs are supported.
    #[error("decoding CoRIM: signed CoRIMs (COSE_Sign1, CBOR tag 18) are not supported")]
    SignedNotSupported,
    /// The input is not a well-formed CoRIM / CoMID.
    #[error("decoding CoRIM: {path}: {reason}")]
    Malformed {
        /// Where decoding failed.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The input nests deeper, or holds more elements, than [`crate::Limits`]
    /// allows.
    #[error("decoding CoRIM: {path}: {reason}")]
    LimitExceeded {
        /// Where decoding stopped.
        path: String,
        /// Which limit was hit.
        reason: String,
    },
}
