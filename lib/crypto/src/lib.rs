//! ECDSA keys in the encodings evidence, CoRIMs and operators use; fast verify and sign.
//!
//! Vouch verifies one device signature (PSA/CCA token) and signs one EAR per
//! request, so both operations sit on the hot path. The arithmetic is done by
//! `aws-lc-rs`; keys are parsed once, when a [`VerifyingKey`] or
//! [`SigningKey`] is built, and every later `verify`/`sign` call goes straight
//! to the pre-parsed key.
//!
//! Keys can be read from and written to the encodings the attestation world
//! uses:
//!
//! * public keys: SubjectPublicKeyInfo DER and `PUBLIC KEY` PEM, EC JWK, and
//!   raw SEC1 uncompressed points (as found in COSE_Key and CCA tokens);
//! * private keys: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`), EC JWK
//!   with `d`, and raw scalars (for deterministic test keys).
//!
//! Curves are P-256, P-384 and P-521, each signing with its own SHA-2
//! ([`Algorithm::Es256`], [`Algorithm::Es384`], [`Algorithm::Es512`]).
//!
//! Signatures come in two forms:
//!
//! * the fixed-size `r || s` form that COSE and JWS use:
//!   [`VerifyingKey::verify`] (the curve's own hash, the hot path) and
//!   [`VerifyingKey::verify_with_hash`] (an explicit [`Hash`](enum@Hash), as TPM quotes
//!   name theirs); [`fixed_signature_from_scalars`] builds it from separate
//!   big-endian `r` and `s` of any length;
//! * the DER `ECDSA-Sig-Value` form X.509 uses: [`VerifyingKey::verify_asn1`]
//!   with any curve and any SHA-2 hash; [`fixed_signature_to_der`] converts.
//!
//! [`SigningKey::sign`] always produces the fixed form with the curve's hash.
//!
//! ```
//! use vouch_crypto::{Algorithm, Curve, SigningKey};
//!
//! let key = SigningKey::generate(Curve::P256)?;
//! let sig = key.sign(b"hello")?;
//! key.verifying_key().verify(Algorithm::Es256, b"hello", &sig)?;
//! # Ok::<(), vouch_crypto::CryptoError>(())
//! ```

mod algorithm;
mod der;
mod error;
mod pem;
mod signing;
mod verifying;

pub use algorithm::{Algorithm, Curve, Hash};
pub use error::CryptoError;
pub use signing::SigningKey;
pub use verifying::{VerifyingKey, fixed_signature_from_scalars, fixed_signature_to_der};

/// Standard base64url without padding, accepting padded input too: JWKs in
/// the wild occasionally carry `=` even though RFC 7515 forbids it.
pub(crate) const B64URL: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);
