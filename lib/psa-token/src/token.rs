//! The signed token: COSE_Sign1 envelope plus validated claims.

use std::ops::Range;

use vouch_cose::{CoseError, Sign1Ref};
use vouch_crypto::{Algorithm, VerifyingKey};

use crate::{Claims, TokenError};

/// A decoded and validated PSA attestation token.
///
/// The COSE_Sign1 envelope is taken apart by `vouch-cose`'s zero-copy
/// decoder, the one every scheme shares. Decoding keeps the COSE
/// `Sig_structure` already serialized, so [`Token::verify_signature`] goes
/// straight to the signature check without re-encoding anything.
#[derive(Clone, Debug)]
pub struct Token {
    /// `["Signature1", protected, h'', payload]`, CBOR-encoded.
    to_be_signed: Vec<u8>,
    /// Where the payload sits in `to_be_signed` (at its end).
    payload: Range<usize>,
    protected: Vec<u8>,
    signature: Vec<u8>,
    /// The protected `alg`, or the text of the error naming it.
    alg: Result<Algorithm, String>,
    claims: Claims,
}

impl Token {
    /// Decodes a COSE_Sign1 PSA token (tagged or untagged), decodes its
    /// claims and validates them against their profile, as psatoken's
    /// `DecodeAndValidateEvidenceFromCOSE` does. The signature is not
    /// checked: see [`Token::verify_signature`].
    pub fn decode(bytes: &[u8]) -> Result<Self, TokenError> {
        let sign1 = Sign1Ref::decode(bytes).map_err(envelope_error)?;
        // A detached (nil) payload has no claims: decoding them reports EOF,
        // as psatoken does.
        let payload = sign1.payload().unwrap_or_default();
        let claims = Claims::decode_map(payload)?;
        let to_be_signed = sign1.to_be_signed();
        // The Sig_structure ends with the payload's bytes.
        let payload = to_be_signed.len().saturating_sub(payload.len())..to_be_signed.len();
        let alg = sign1.algorithm().map_err(|e| match e {
            CoseError::MissingAlgorithm => "no algorithm in the protected header".to_owned(),
            CoseError::UnsupportedAlgorithm(value) => format!("COSE algorithm {value}"),
            other => other.to_string(),
        });
        Ok(Self {
            payload,
            protected: sign1.protected_bytes().to_vec(),
            signature: sign1.signature().to_vec(),
            to_be_signed,
            alg,
            claims,
        })
    }

    /// The validated claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Consumes the token, keeping the claims.
    pub fn into_claims(self) -> Claims {
        self.claims
    }

    /// The signature algorithm named in the protected header.
    pub fn algorithm(&self) -> Result<Algorithm, TokenError> {
        self.alg.clone().map_err(TokenError::UnsupportedAlgorithm)
    }

    /// The serialized protected header.
    pub fn protected_header(&self) -> &[u8] {
        &self.protected
    }

    /// The payload: the serialized claims-set.
    pub fn payload(&self) -> &[u8] {
        self.to_be_signed
            .get(self.payload.clone())
            .unwrap_or_default()
    }

    /// The signature, fixed-size `r || s`.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The COSE `Sig_structure` the signature covers.
    pub fn to_be_signed(&self) -> &[u8] {
        &self.to_be_signed
    }

    /// Checks the token's signature with `key`.
    ///
    /// A signature that does not verify yields an error whose text is exactly
    /// `signature verification failed: verification error`, as Veraison's.
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), TokenError> {
        let alg = self.algorithm()?;
        key.verify(alg, &self.to_be_signed, &self.signature)
            .map_err(TokenError::Signature)
    }
}

/// Maps an envelope error onto psatoken's wording: everything is "failed
/// CBOR decoding for CWT: <detail>", with the detail alone for CBOR and
/// shape errors (`unexpected EOF`, as Veraison says for a truncated token).
fn envelope_error(e: CoseError) -> TokenError {
    TokenError::CoseDecode(match e {
        CoseError::Decode(detail) => detail,
        CoseError::ProtectedHeader(detail) => format!("protected header: {detail}"),
        CoseError::UnprotectedHeader(detail) => format!("unprotected header: {detail}"),
        other => other.to_string(),
    })
}
