//! The signed token: COSE_Sign1 envelope plus validated claims.

use std::ops::Range;

use vouch_crypto::{Algorithm, VerifyingKey};

use crate::cose::{self, Alg};
use crate::{Claims, TokenError};

/// A decoded and validated PSA attestation token.
///
/// Decoding keeps the COSE `Sig_structure` already serialized, so
/// [`Token::verify_signature`] goes straight to the signature check without
/// re-encoding anything.
#[derive(Clone, Debug)]
pub struct Token {
    /// `["Signature1", protected, h'', payload]`, CBOR-encoded.
    to_be_signed: Vec<u8>,
    protected: Range<usize>,
    payload: Range<usize>,
    signature: Vec<u8>,
    alg: Alg,
    claims: Claims,
}

impl Token {
    /// Decodes a COSE_Sign1 PSA token (tagged or untagged), decodes its
    /// claims and validates them against their profile, as psatoken's
    /// `DecodeAndValidateEvidenceFromCOSE` does. The signature is not
    /// checked: see [`Token::verify_signature`].
    pub fn decode(bytes: &[u8]) -> Result<Self, TokenError> {
        let sign1 = cose::parse(bytes)?;
        let claims = Claims::decode_map(sign1.payload)?;
        let (to_be_signed, protected, payload) =
            cose::sig_structure(sign1.protected, sign1.payload);
        Ok(Self {
            to_be_signed,
            protected,
            payload,
            signature: sign1.signature.to_vec(),
            alg: sign1.alg,
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
        match &self.alg {
            Alg::Int(id) => Algorithm::from_cose(*id)
                .ok_or_else(|| TokenError::UnsupportedAlgorithm(format!("COSE algorithm {id}"))),
            Alg::Other(name) => Err(TokenError::UnsupportedAlgorithm(format!(
                "COSE algorithm {name}"
            ))),
            Alg::Absent => Err(TokenError::UnsupportedAlgorithm(
                "no algorithm in the protected header".to_owned(),
            )),
        }
    }

    /// The serialized protected header.
    pub fn protected_header(&self) -> &[u8] {
        self.to_be_signed
            .get(self.protected.clone())
            .unwrap_or_default()
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
