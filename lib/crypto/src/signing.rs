//! Private keys and signing.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use serde_json::Value;

use crate::verifying::{jwk_coordinate, jwk_curve};
use crate::{Algorithm, B64URL, CryptoError, Curve, VerifyingKey, der, pem};

/// An ECDSA private key, ready to sign; cheap to clone.
///
/// The AWS-LC key pair, the RNG handle and the public half are built once, so
/// [`SigningKey::sign`] does no per-call setup. `Debug` never prints the
/// private scalar.
#[derive(Clone)]
pub struct SigningKey {
    inner: Arc<Inner>,
}

struct Inner {
    curve: Curve,
    key_pair: EcdsaKeyPair,
    rng: SystemRandom,
    verifying: VerifyingKey,
    /// Big-endian private scalar, read once so that exports cannot fail.
    scalar: Box<[u8]>,
}

impl SigningKey {
    fn from_key_pair(curve: Curve, key_pair: EcdsaKeyPair) -> Result<Self, CryptoError> {
        let verifying = VerifyingKey::from_sec1_point(curve, key_pair.public_key().as_ref())?;
        let scalar: Box<[u8]> = key_pair
            .private_key()
            .as_be_bytes()
            .map_err(|_| CryptoError::InvalidKey("private scalar is not readable".to_owned()))?
            .as_ref()
            .into();
        if scalar.len() != curve.field_len() {
            return Err(CryptoError::InvalidKey(format!(
                "private scalar is {} bytes, expected {}",
                scalar.len(),
                curve.field_len()
            )));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                curve,
                key_pair,
                rng: SystemRandom::new(),
                verifying,
                scalar,
            }),
        })
    }

    /// Generates a fresh random key on `curve`.
    pub fn generate(curve: Curve) -> Result<Self, CryptoError> {
        let key_pair =
            EcdsaKeyPair::generate(curve.signing_alg()).map_err(|_| CryptoError::KeyGeneration)?;
        Self::from_key_pair(curve, key_pair)
    }

    /// Generates a fresh random P-256 (ES256) key.
    pub fn generate_p256() -> Result<Self, CryptoError> {
        Self::generate(Curve::P256)
    }

    /// Builds a key from a big-endian private scalar of exactly the curve's
    /// field length. Fails with [`CryptoError::InvalidKey`] when the scalar is
    /// zero or not below the group order.
    pub fn from_private_scalar(curve: Curve, scalar: &[u8]) -> Result<Self, CryptoError> {
        if scalar.len() != curve.field_len() {
            return Err(CryptoError::InvalidKey(format!(
                "a {curve} private scalar is {} bytes, got {}",
                curve.field_len(),
                scalar.len()
            )));
        }
        if scalar.iter().all(|&b| b == 0) {
            return Err(CryptoError::InvalidKey("private scalar is zero".to_owned()));
        }
        // AWS-LC derives the public point when the SEC1 structure omits it.
        let sec1 = der::encode_sec1_scalar_only(curve, scalar);
        let key_pair = EcdsaKeyPair::from_private_key_der(curve.signing_alg(), &sec1)
            .map_err(|e| CryptoError::InvalidKey(format!("private scalar rejected: {e}")))?;
        Self::from_key_pair(curve, key_pair)
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (RFC 5208) or `OneAsymmetricKey` (RFC
    /// 5958) holding an EC key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let curve = der::pkcs8_curve(der)?;
        let key_pair = EcdsaKeyPair::from_pkcs8(curve.signing_alg(), der)
            .map_err(|e| CryptoError::InvalidKey(format!("PKCS#8 key rejected: {e}")))?;
        Self::from_key_pair(curve, key_pair)
    }

    /// Reads a SEC1 `ECPrivateKey` (RFC 5915).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, CryptoError> {
        let curve = der::sec1_curve(der)?;
        let key_pair = EcdsaKeyPair::from_private_key_der(curve.signing_alg(), der)
            .map_err(|e| CryptoError::InvalidKey(format!("SEC1 key rejected: {e}")))?;
        Self::from_key_pair(curve, key_pair)
    }

    /// Reads a `PRIVATE KEY` (PKCS#8) PEM block.
    pub fn from_pkcs8_pem(pem_text: &str) -> Result<Self, CryptoError> {
        let block = private_block(pem_text)?;
        if block.label != "PRIVATE KEY" {
            return Err(CryptoError::UnsupportedPemLabel(block.label));
        }
        Self::from_pkcs8_der(&block.der)
    }

    /// Reads an `EC PRIVATE KEY` (SEC1) PEM block.
    pub fn from_sec1_pem(pem_text: &str) -> Result<Self, CryptoError> {
        let block = private_block(pem_text)?;
        if block.label != "EC PRIVATE KEY" {
            return Err(CryptoError::UnsupportedPemLabel(block.label));
        }
        Self::from_sec1_der(&block.der)
    }

    /// Reads either a `PRIVATE KEY` or an `EC PRIVATE KEY` PEM block. A
    /// leading `EC PARAMETERS` block (as `openssl ecparam -genkey` writes) is
    /// skipped.
    pub fn from_pem(pem_text: &str) -> Result<Self, CryptoError> {
        let block = private_block(pem_text)?;
        match block.label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.der),
            "EC PRIVATE KEY" => Self::from_sec1_der(&block.der),
            _ => Err(CryptoError::UnsupportedPemLabel(block.label)),
        }
    }

    /// Reads a key file's text: a private JWK (JSON) or PEM (PKCS#8 or
    /// SEC1), the two forms the EAR key and the CLI's keys come in.
    pub fn from_jwk_or_pem(text: &str) -> Result<Self, CryptoError> {
        if text.trim_start().starts_with('{') {
            let jwk: Value = serde_json::from_str(text)
                .map_err(|e| CryptoError::JwkDecode(format!("not JSON: {e}")))?;
            Self::from_jwk(&jwk)
        } else {
            Self::from_pem(text)
        }
    }

    /// Reads a private EC JWK (with `d`). When `x` and `y` are present they
    /// must match `d`.
    pub fn from_jwk(jwk: &Value) -> Result<Self, CryptoError> {
        let curve = jwk_curve(jwk)?;
        let d = jwk_coordinate(jwk, "d", curve)?;
        let has_public = jwk.get("x").is_some() || jwk.get("y").is_some();
        if !has_public {
            return Self::from_private_scalar(curve, &d);
        }
        let public = VerifyingKey::from_jwk(jwk)?;
        let key_pair = EcdsaKeyPair::from_private_key_and_public_key(
            curve.signing_alg(),
            &d,
            public.sec1_point(),
        )
        .map_err(|e| CryptoError::InvalidKey(format!("JWK d does not match x/y: {e}")))?;
        Self::from_key_pair(curve, key_pair)
    }

    /// The key's curve.
    pub fn curve(&self) -> Curve {
        self.inner.curve
    }

    /// The algorithm this key signs with (ES256 on P-256, ES384 on P-384,
    /// ES512 on P-521).
    pub fn algorithm(&self) -> Algorithm {
        self.inner.curve.algorithm()
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.inner.verifying.clone()
    }

    /// PKCS#8 v1 DER (the SEC1 key inside carries the public point).
    pub fn to_pkcs8_der(&self) -> Vec<u8> {
        der::encode_pkcs8(
            self.inner.curve,
            &self.inner.scalar,
            self.inner.verifying.sec1_point(),
        )
    }

    /// `PRIVATE KEY` PEM (PKCS#8 v1).
    pub fn to_pkcs8_pem(&self) -> String {
        pem::encode("PRIVATE KEY", &self.to_pkcs8_der())
    }

    /// The big-endian private scalar, exactly the curve's field length.
    pub fn private_scalar(&self) -> &[u8] {
        &self.inner.scalar
    }

    /// Private EC JWK (`kty`, `crv`, `x`, `y`, `d`).
    pub fn to_jwk(&self) -> Value {
        let mut jwk = self.inner.verifying.to_jwk();
        if let Some(obj) = jwk.as_object_mut() {
            obj.insert(
                "d".to_owned(),
                Value::String(B64URL.encode(&self.inner.scalar)),
            );
        }
        jwk
    }

    /// Signs `message` (hashing it with the curve's hash) and returns the
    /// fixed-size `r || s` signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let sig = self
            .inner
            .key_pair
            .sign(&self.inner.rng, message)
            .map_err(|_| CryptoError::Signing)?;
        Ok(sig.as_ref().to_vec())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("curve", &self.inner.curve)
            .field("public_thumbprint", &self.inner.verifying.thumbprint())
            .finish_non_exhaustive()
    }
}

/// The first PEM block that is not `EC PARAMETERS`.
fn private_block(pem_text: &str) -> Result<pem::Block, CryptoError> {
    pem::decode_all(pem_text)?
        .into_iter()
        .find(|b| b.label != "EC PARAMETERS")
        .ok_or_else(|| CryptoError::PemDecode("no key block found".to_owned()))
}
