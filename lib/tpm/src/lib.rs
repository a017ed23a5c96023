//! TPM 2.0 attestation structures (TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC) and the EnactTrust and Parsec TPM evidence formats.
//!
//! Everything here is free of I/O: bytes in, typed evidence and signature
//! checks out. Appraisal against reference values (the EnactTrust and
//! Parsec TPM schemes) is built on top, elsewhere.
//!
//! * [`TpmsAttest`], [`TpmtSignature`] and [`TpmtPublic`] are the TPM 2.0
//!   Part 2 structures, big-endian and bounds-checked, each keeping the
//!   exact bytes it was decoded from (what a TPM signs, what a TPM name
//!   hashes).
//! * [`EnactTrustToken`] reads `application/vnd.enacttrust.tpm-evidence`.
//! * [`ParsecTpmEvidence`] reads
//!   `application/vnd.parallaxsecond.key-attestation.tpm`.
//! * [`pcr_digest`] gives the quote digest reference PCR values make.
//! * [`mint`] makes evidence with software keys, for tests and the test kit.
//!
//! ```
//! use vouch_crypto::{Curve, SigningKey};
//! use vouch_tpm::{EnactTrustToken, mint};
//!
//! let ak = SigningKey::generate(Curve::P256)?;
//! let bytes = mint::enacttrust_token(&mint::EnactTrustClaims::basic(), &ak)?.to_bytes();
//!
//! let token = EnactTrustToken::decode(&bytes)?;
//! token.verify(&ak.verifying_key())?;
//! assert_eq!(token.node_id().to_string(), "7df7714e-aa04-4638-bcbf-434b1dd720f1");
//! assert_eq!(token.pcr_selection(), [1, 2, 3, 4]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Decoding never panics and never allocates more than its input: every
//! read is length-checked, sizes come from `u16` fields, PCR bitmaps are
//! capped, and CBOR nesting stops at 32 levels.

mod alg;
mod attest;
mod cbor;
mod enacttrust;
mod error;
mod marshal;
pub mod mint;
mod parsec;
mod pcr;
mod public;
mod signature;

pub use alg::{EccCurve, TpmAlgId};
pub use attest::{
    AttestFields, AttestType, Attested, CertifyInfo, ClockInfo, MAX_PCR_SELECT_BYTES, PcrSelection,
    QuoteInfo, TPM_GENERATED_VALUE, TpmName, TpmsAttest,
};
pub use enacttrust::{ENACTTRUST_MEDIA_TYPE, EnactTrustError, EnactTrustToken};
pub use error::{SignatureError, TpmError};
pub use parsec::{Kat, PARSEC_TPM_MEDIA_TYPE, ParsecTpmError, ParsecTpmEvidence, Pat, Ueid};
pub use pcr::pcr_digest;
pub use public::{EccPublicTemplate, ObjectAttributes, Scheme, SymDef, TpmtPublic};
pub use signature::TpmtSignature;
pub use vouch_crypto::Hash;
