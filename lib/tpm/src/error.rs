//! Errors for the TPM structures and for signature checks.

use vouch_crypto::CryptoError;

use crate::alg::TpmAlgId;

/// Why a TPM 2.0 structure (TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC) could
/// not be decoded or encoded. The decoding texts follow go-tpm's where it has
/// one, because Veraison places them in attestation results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TpmError {
    /// The input ended inside a field.
    #[error("decoding {field}: {}", if *partial { "unexpected EOF" } else { "EOF" })]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Whether some, but not all, of the field's bytes were present.
        partial: bool,
    },
    /// Bytes follow the end of a structure that must fill its buffer.
    #[error("{structure} has {count} trailing bytes")]
    TrailingBytes {
        /// The structure that was decoded.
        structure: &'static str,
        /// How many bytes were left over.
        count: usize,
    },
    /// A TPMS_ATTEST does not start with TPM_GENERATED_VALUE.
    #[error("incorrect magic value: {0:x}")]
    BadMagic(u32),
    /// A TPMS_ATTEST type is not a TPM_ST_ATTEST_* value.
    #[error("unknown TPMS_ATTEST type {0:#06x}")]
    UnknownAttestType(u16),
    /// A TPM2B_NAME holds neither a handle nor a digest of a known hash.
    #[error("decoding {field}: {reason}")]
    BadName {
        /// The name field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A TPML_PCR_SELECTION does not select exactly one PCR bank (go-tpm's
    /// wording).
    #[error("got {0} TPMS_PCR_SELECTION items in TPML_PCR_SELECTION, expected 1")]
    PcrBankCount(usize),
    /// A TPMT_SIGNATURE uses a signature scheme go-tpm does not decode.
    #[error("unsupported signature algorithm {:#x}", .0.0)]
    UnsupportedSignatureAlgorithm(TpmAlgId),
    /// A TPMT_PUBLIC describes a key other than an ECC key.
    #[error("unsupported public key type {0}")]
    UnsupportedPublicType(TpmAlgId),
    /// A TPMT_PUBLIC names a curve other than NIST P-256, P-384 or P-521.
    #[error("unsupported ECC curve {0:#06x}")]
    UnsupportedCurve(u16),
    /// A TPMT_PUBLIC names a scheme whose parameters this crate cannot lay out.
    #[error("unsupported {field} {alg}")]
    UnsupportedParameter {
        /// The parameter (symmetric, scheme, KDF).
        field: &'static str,
        /// The algorithm it names.
        alg: TpmAlgId,
    },
    /// An ECC point coordinate is longer than the curve's field.
    #[error(
        "ECC point coordinate {coordinate} is {len} bytes, more than the {field_len} of the curve"
    )]
    CoordinateTooLong {
        /// `x` or `y`.
        coordinate: &'static str,
        /// Its length.
        len: usize,
        /// The curve's field length.
        field_len: usize,
    },
    /// The ECC point is not a valid public key on its curve (the message
    /// of the key parser).
    #[error("invalid ECC public key: {0}")]
    InvalidKey(String),
    /// A value is too long for its TPM2B size field (encoding only).
    #[error("{field} is {len} bytes, too long for a TPM2B")]
    TooLarge {
        /// The field being encoded.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

/// Why a TPM signature did not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature is well formed but does not match the data and key
    /// (wording as Veraison's, which ends up in attestation results).
    #[error("Verification failed")]
    Mismatch,
    /// The TPMT_SIGNATURE uses a scheme other than ECDSA (RSASSA, RSAPSS,
    /// ECDAA, SM2, ECSCHNORR): decoded, but not verified by Vouch.
    #[error("unsupported signature scheme {0}: only ECDSA is verified")]
    UnsupportedScheme(TpmAlgId),
    /// The TPMT_SIGNATURE names a hash other than SHA-256, SHA-384 or SHA-512.
    #[error("unsupported signature hash algorithm {0}")]
    UnsupportedHash(TpmAlgId),
    /// An ECDSA scalar is longer than the key's curve allows, or the key
    /// cannot be used with the signature's hash.
    #[error("malformed signature for the key: {0}")]
    Malformed(CryptoError),
}
