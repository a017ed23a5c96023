//! COSE_Sign1 and COSE_Key on coset, verified with vouch-crypto keys; shared by every token and signed-CoRIM reader.
//!
//! Every COSE envelope Vouch reads (PSA and CCA tokens, signed CoRIMs) goes
//! through this crate, so there is one decoder to harden and fuzz. The
//! envelope is taken apart by one borrowed, zero-copy decoder
//! ([`Sign1Ref`]: coset's whole-`Value` decoding measured about 1 µs more
//! per PSA token, see docs/performance.md), the header maps and COSE_Key
//! are interpreted by `coset`, and signatures are checked with
//! [`vouch_crypto`].
//!
//! # API
//!
//! COSE_Sign1, zero-copy ([`Sign1Ref`]`<'a>`, `Copy`, for hot paths that
//! need only the algorithm, payload and signature):
//! [`Sign1Ref::decode`]`(&'a [u8]) -> Result<Sign1Ref<'a>, CoseError>` with
//! the same envelope checks and errors as [`Sign1::decode`];
//! `algorithm()`, `payload() -> Option<&'a [u8]>`, `protected_bytes()`,
//! `unprotected_bytes()`, `signature()`, `is_tagged()`, `to_be_signed()`,
//! `verify(&VerifyingKey)`, `verify_detached(&VerifyingKey, payload)`, and
//! [`Sign1Ref::to_sign1`]`() -> Result<Sign1, CoseError>`.
//!
//! COSE_Sign1, owned ([`Sign1`]; `Sign1::decode` = `Sign1Ref::decode` +
//! coset on the two header maps, which also checks the standard
//! parameters' types):
//!
//! * [`Sign1::decode`]`(bytes) -> Result<Sign1, CoseError>`: tagged (18) or
//!   untagged; COSE_Mac0 (tag 17) is [`CoseError::Mac0`], any other tag
//!   [`CoseError::UnexpectedTag`], trailing bytes / bad CBOR / wrong shape
//!   [`CoseError::Decode`] (its text is only the detail, e.g.
//!   `unexpected EOF`);
//! * [`Sign1::algorithm`]`() -> Result<vouch_crypto::Algorithm, CoseError>`
//!   from the protected header only: [`CoseError::MissingAlgorithm`] or
//!   [`CoseError::UnsupportedAlgorithm`] (naming the value);
//! * [`Sign1::payload`]`() -> Option<&[u8]>` (`None` when detached),
//!   [`Sign1::protected_bytes`]`() -> &[u8]`, [`Sign1::signature`]`() ->
//!   &[u8]`, [`Sign1::is_tagged`]`() -> bool`;
//! * [`Sign1::key_id`]`() -> Option<&[u8]>` (protected, else unprotected
//!   `kid`), [`Sign1::content_type`]`() -> Option<ContentType>` (likewise);
//! * [`Sign1::x5chain`]`() -> Result<Vec<Vec<u8>>, CoseError>`: label 33, a
//!   bstr or an array of bstr, in either header; empty when absent;
//! * [`Sign1::protected_param`]`(label: i64) -> Option<&ciborium::Value>` and
//!   [`Sign1::unprotected_param`]: any parameter outside labels 1–7 (which
//!   coset types; see [`Sign1::protected_header`] /
//!   [`Sign1::unprotected_header`] -> `&coset::Header`), e.g. `corim-meta`
//!   (8); [`Sign1::as_coset`] gives the whole `coset::CoseSign1`;
//! * [`Sign1::to_be_signed`]`() -> Vec<u8>`: the `Sig_structure`
//!   (`"Signature1"`, empty external AAD), also [`Sign1::to_be_signed_detached`]
//!   and the free [`sig_structure`]`(protected, payload)`;
//! * [`Sign1::verify`]`(&VerifyingKey) -> Result<(), CoseError>`: the alg must
//!   go with the key's curve (ES256/P-256, ES384/P-384, ES512/P-521), then the
//!   fixed-size `r || s` signature is checked; failures are
//!   [`CoseError::Signature`] wrapping the [`vouch_crypto::CryptoError`]
//!   (`AlgorithmMismatch` or `Verification`); also [`Sign1::verify_detached`].
//!
//! Writing: [`sign1`]`(key, protected_extra: &[(i64, Value)], content_type:
//! Option<ContentType>, payload, tagged) -> Result<Vec<u8>, CoseError>` (alg
//! from the key's curve), or [`Sign1Builder`] for a `kid`, `x5chain`,
//! unprotected parameters and a forced `alg` (negative tests).
//!
//! COSE_Key: [`key_from_cose_key`]`(bytes) -> Result<VerifyingKey, CoseError>`
//! (EC2, `crv` 1/2/3 = P-256/P-384/P-521), [`key_from_cose_key_or_raw`] (also
//! a raw SEC1 point, as legacy CCA realm tokens carry), [`cose_key_bytes`]`(key)
//! -> Vec<u8>` (canonical `{1: 2, -1: crv, -2: x, -3: y}`), and the
//! [`cose_curve_id`] / [`curve_from_cose_id`] mapping.
//!
//! Bounded CBOR walking: the [`cbor`] module's helpers (skip an item within
//! Veraison's limits, read integers, strings and definite lengths, check the
//! end of input, word minicbor errors as Go does) are the ones the envelope
//! decoder uses, public so that the PSA and CCA claims readers share them
//! rather than keep copies.
//!
//! `coset`, `ciborium` and `minicbor` are re-exported so that callers use the
//! same versions ([`Value`] is `ciborium::Value`).
//!
//! ```
//! use vouch_cose::{Sign1, Value, sign1};
//! use vouch_crypto::{Curve, SigningKey};
//!
//! let key = SigningKey::generate(Curve::P384)?;
//! let bytes = sign1(&key, &[(8, Value::Text("meta".into()))], None, b"claims", true)?;
//! let token = Sign1::decode(&bytes)?;
//! token.verify(&key.verifying_key())?;
//! assert_eq!(token.payload(), Some(&b"claims"[..]));
//! assert_eq!(token.protected_param(8), Some(&Value::Text("meta".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits
//!
//! Indefinite-length items are refused, nesting deeper than 32 levels is
//! refused (fxamacker/cbor's default, which go-cose and so Veraison use;
//! ciborium's recursive decoder would otherwise go to 256), and no length
//! read from the input allocates ahead of the bytes actually present.

pub mod cbor;
mod envelope;
mod error;
mod key;
mod sign1;

pub use ciborium;
pub use ciborium::Value;
pub use coset;
pub use envelope::Sign1Ref;
pub use error::CoseError;
pub use key::{
    cose_curve_id, cose_key_bytes, curve_from_cose_id, key_from_cose_key, key_from_cose_key_or_raw,
};
pub use minicbor;
pub use sign1::{
    ContentType, HEADER_X5CHAIN, Sign1, Sign1Builder, TAG_MAC0, TAG_SIGN1, sig_structure, sign1,
};
