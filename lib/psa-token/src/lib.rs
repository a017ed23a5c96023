//! PSA attestation tokens (profiles 1 and 2): COSE_Sign1 decoding, claim validation, signature check.
//!
//! A PSA token is a COSE_Sign1 (RFC 9052) whose payload is a CBOR claims-set
//! following either PSA_IOT_PROFILE_1 or the PSA attestation token profile
//! (`http://arm.com/psa/2.0.0`, RFC 9783). This crate follows Veraison's
//! psatoken library: the same claims are mandatory, the same lengths and
//! ranges are enforced, and errors carry the same wording, because Veraison
//! places them in attestation results.
//!
//! ```no_run
//! # fn run(bytes: &[u8], key: &vouch_crypto::VerifyingKey) -> Result<(), vouch_psa_token::TokenError> {
//! use vouch_psa_token::Token;
//!
//! let token = Token::decode(bytes)?;          // envelope + claims + validation
//! token.verify_signature(key)?;               // ES256 / ES384
//! let nonce = &token.claims().nonce;
//! let evidence_json = token.claims().annotated_evidence();
//! # let _ = (nonce, evidence_json); Ok(()) }
//! ```
//!
//! The COSE_Sign1 envelope is decoded by `vouch-cose` (coset), shared with
//! every other COSE reader. Decoding is bounded: the envelope's nesting
//! stops at 64 levels; in the claims, indefinite-length items are rejected
//! and nesting stops at 32 levels; no length read from the input drives an
//! allocation larger than the input itself.

mod claims;
mod error;
mod json;
mod token;

pub use claims::{
    Claims, IMPLEMENTATION_ID_LEN, INSTANCE_ID_LEN, LifecycleState, PROFILE_1_NAME, PROFILE_2_NAME,
    PROFILE_2_TFM_NAME, Profile, SwComponent, keys,
};
pub use error::TokenError;
pub use token::Token;
