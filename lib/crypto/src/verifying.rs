//! Public keys and signature verification.

use std::fmt;
use std::hash::{Hash as StdHash, Hasher};
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{ParsedPublicKey, UnparsedPublicKey};
use base64::Engine as _;
use serde_json::Value;

use crate::{Algorithm, B64URL, CryptoError, Curve, Hash, der, pem};

/// An ECDSA public key, parsed once and cheap to clone.
///
/// Equality and hashing compare the curve and the public point, whatever
/// encoding the key was read from.
#[derive(Clone)]
pub struct VerifyingKey {
    inner: Arc<Inner>,
}

struct Inner {
    curve: Curve,
    /// Also keeps the bytes it was parsed from, the uncompressed SEC1 point
    /// (`0x04 || x || y`), which [`Inner::point`] reads back. A second copy
    /// here cost 80 bytes per key, and trust caches one key per attester
    /// (docs/performance.md, "Memory per cached attester").
    parsed: ParsedPublicKey,
}

impl Inner {
    /// The uncompressed SEC1 point the key was read from: `ParsedPublicKey`
    /// hands back exactly the bytes it was given.
    fn point(&self) -> &[u8] {
        self.parsed.as_ref()
    }
}

impl VerifyingKey {
    /// Reads a key from an uncompressed SEC1 point (`0x04 || x || y`), as
    /// carried by CCA tokens and COSE_Key conversions. Compressed points are
    /// not accepted: nothing in the attestation formats we read uses them.
    pub fn from_sec1_point(curve: Curve, point: &[u8]) -> Result<Self, CryptoError> {
        if point.first() != Some(&0x04) {
            return Err(CryptoError::InvalidKey(
                "only uncompressed SEC1 points (0x04 || x || y) are supported".to_owned(),
            ));
        }
        if point.len() != curve.point_len() {
            return Err(CryptoError::InvalidKey(format!(
                "a {curve} point is {} bytes, got {}",
                curve.point_len(),
                point.len()
            )));
        }
        let parsed = ParsedPublicKey::new(curve.verification_alg(), point)
            .map_err(|e| CryptoError::InvalidKey(format!("point is not on {curve}: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner { curve, parsed }),
        })
    }

    /// Reads a key from SubjectPublicKeyInfo DER (RFC 5480).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let (curve, point) = der::parse_spki(der)?;
        Self::from_sec1_point(curve, point)
    }

    /// Reads a key from a `PUBLIC KEY` PEM block. Any other label (a private
    /// key, a certificate) is rejected with
    /// [`CryptoError::UnsupportedPemLabel`].
    pub fn from_pem(pem_text: &str) -> Result<Self, CryptoError> {
        let blocks = pem::decode_all(pem_text)?;
        match blocks.first() {
            Some(block) if block.label == "PUBLIC KEY" => Self::from_spki_der(&block.der),
            Some(block) => Err(CryptoError::UnsupportedPemLabel(block.label.clone())),
            None => Err(CryptoError::PemDecode("no PEM block found".to_owned())),
        }
    }

    /// Reads an EC JWK (RFC 7518 §6.2) on P-256, P-384 or P-521. Private members
    /// (`d`) are ignored, so a private JWK yields its public half.
    pub fn from_jwk(jwk: &Value) -> Result<Self, CryptoError> {
        let curve = jwk_curve(jwk)?;
        let x = jwk_coordinate(jwk, "x", curve)?;
        let y = jwk_coordinate(jwk, "y", curve)?;
        let mut point = Vec::with_capacity(curve.point_len());
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Self::from_sec1_point(curve, &point)
    }

    /// The key's curve.
    pub fn curve(&self) -> Curve {
        self.inner.curve
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.inner.curve.algorithm()
    }

    /// The uncompressed SEC1 point, `0x04 || x || y`.
    pub fn sec1_point(&self) -> &[u8] {
        self.inner.point()
    }

    /// SubjectPublicKeyInfo DER.
    pub fn to_spki_der(&self) -> Vec<u8> {
        der::encode_spki(self.inner.curve, self.inner.point())
    }

    /// `PUBLIC KEY` PEM (SubjectPublicKeyInfo).
    pub fn to_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.to_spki_der())
    }

    /// Public EC JWK with members `kty`, `crv`, `x` and `y`.
    pub fn to_jwk(&self) -> Value {
        let (x, y) = self.coordinates_b64();
        serde_json::json!({
            "kty": "EC",
            "crv": self.inner.curve.jwk_name(),
            "x": x,
            "y": y,
        })
    }

    /// RFC 7638 JWK thumbprint: base64url SHA-256 of the canonical JWK.
    pub fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates_b64();
        // RFC 7638 §3.2: required members only, lexicographic order, no
        // whitespace. Every value here is base64url or a fixed name, so no
        // JSON escaping is needed.
        let canonical = format!(
            r#"{{"crv":"{}","kty":"EC","x":"{x}","y":"{y}"}}"#,
            self.inner.curve.jwk_name()
        );
        B64URL.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    }

    /// Checks a fixed-size `r || s` signature over `message`.
    ///
    /// Fails with [`CryptoError::AlgorithmMismatch`] when `alg` does not go
    /// with the key's curve, and with [`CryptoError::Verification`] when the
    /// signature is malformed or does not verify.
    pub fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let curve = self.inner.curve;
        if alg.curve() != curve {
            return Err(CryptoError::AlgorithmMismatch { alg, curve });
        }
        if signature.len() != alg.signature_len() {
            return Err(CryptoError::Verification);
        }
        self.inner
            .parsed
            .verify_sig(message, signature)
            .map_err(|_| CryptoError::Verification)
    }

    /// Checks a DER `ECDSA-Sig-Value` signature (the encoding X.509
    /// certificates and CMS use) over `message` hashed with `hash`.
    ///
    /// Any SHA-2 hash goes with any curve (certificates are often signed
    /// `ecdsa-with-SHA384` by a P-256 key). Fails with
    /// [`CryptoError::UnsupportedHash`] when AWS-LC cannot do the pair and with
    /// [`CryptoError::Verification`] when the signature is malformed or does
    /// not verify.
    pub fn verify_asn1(
        &self,
        hash: Hash,
        message: &[u8],
        der_signature: &[u8],
    ) -> Result<(), CryptoError> {
        let curve = self.inner.curve;
        let alg = curve
            .asn1_verification_alg(hash)
            .ok_or(CryptoError::UnsupportedHash { curve, hash })?;
        UnparsedPublicKey::new(alg, self.inner.point())
            .verify(message, der_signature)
            .map_err(|_| CryptoError::Verification)
    }

    /// Checks a fixed-size `r || s` signature over `message` hashed with an
    /// explicit `hash` rather than the curve's own (TPM quotes name their
    /// hash). With the curve's own hash this is [`VerifyingKey::verify`].
    ///
    /// Fails with [`CryptoError::Verification`] when the signature is not
    /// twice the field length or does not verify.
    pub fn verify_with_hash(
        &self,
        hash: Hash,
        message: &[u8],
        fixed_signature: &[u8],
    ) -> Result<(), CryptoError> {
        let curve = self.inner.curve;
        if fixed_signature.len() != 2 * curve.field_len() {
            return Err(CryptoError::Verification);
        }
        if hash == curve.algorithm().hash() {
            return self.verify(curve.algorithm(), message, fixed_signature);
        }
        if let Some(alg) = curve.fixed_verification_alg(hash) {
            return UnparsedPublicKey::new(alg, self.inner.point())
                .verify(message, fixed_signature)
                .map_err(|_| CryptoError::Verification);
        }
        // AWS-LC only has some (curve, hash) pairs in fixed form, but all of
        // them in DER form: re-encode rather than refuse.
        let der = fixed_signature_to_der(curve, fixed_signature)
            .map_err(|_| CryptoError::Verification)?;
        self.verify_asn1(hash, message, &der)
    }

    fn coordinates_b64(&self) -> (String, String) {
        let n = self.inner.curve.field_len();
        let coords = self.inner.point().get(1..).unwrap_or_default();
        let (x, y) = coords.split_at(n.min(coords.len()));
        (B64URL.encode(x), B64URL.encode(y))
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner.curve == other.inner.curve && self.inner.point() == other.inner.point()
    }
}

impl Eq for VerifyingKey {}

impl StdHash for VerifyingKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.curve.hash(state);
        self.inner.point().hash(state);
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("curve", &self.inner.curve)
            .field("thumbprint", &self.thumbprint())
            .finish()
    }
}

/// Builds a fixed-size `r || s` signature from big-endian `r` and `s` of any
/// length (as TPM `TPMS_SIGNATURE_ECC` carries them): each is left-padded
/// with zeros to the curve's field length, after dropping leading zero bytes
/// beyond it.
///
/// Fails with [`CryptoError::MalformedSignature`] when a value, once its
/// leading zeros are dropped, is longer than the field.
pub fn fixed_signature_from_scalars(
    curve: Curve,
    r: &[u8],
    s: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let n = curve.field_len();
    let mut out = Vec::with_capacity(2 * n);
    for (name, value) in [("r", r), ("s", s)] {
        let first_nonzero = value.iter().position(|&b| b != 0).unwrap_or(value.len());
        let digits = value.get(first_nonzero..).unwrap_or_default();
        if digits.len() > n {
            return Err(CryptoError::MalformedSignature(format!(
                "{name} is {} bytes, longer than the {n}-byte {curve} field",
                digits.len()
            )));
        }
        out.resize(out.len() + (n - digits.len()), 0);
        out.extend_from_slice(digits);
    }
    Ok(out)
}

/// Re-encodes a fixed-size `r || s` signature on `curve` as a DER
/// `ECDSA-Sig-Value` (`SEQUENCE { r INTEGER, s INTEGER }`), the form X.509
/// certificates carry.
///
/// Fails with [`CryptoError::MalformedSignature`] when the signature is not
/// exactly twice the field length.
pub fn fixed_signature_to_der(curve: Curve, fixed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let n = curve.field_len();
    if fixed.len() != 2 * n {
        return Err(CryptoError::MalformedSignature(format!(
            "a fixed {curve} signature is {} bytes, got {}",
            2 * n,
            fixed.len()
        )));
    }
    let (r, s) = fixed.split_at(n);
    let mut body = Vec::with_capacity(2 * n + 8);
    for value in [r, s] {
        // DER INTEGERs are minimal and signed: drop leading zeros (keeping
        // one for zero itself) and prefix 0x00 when the top bit is set.
        let first_nonzero = value
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(value.len().saturating_sub(1));
        let digits = value.get(first_nonzero..).unwrap_or_default();
        let mut int = Vec::with_capacity(digits.len() + 1);
        if digits.first().is_some_and(|&b| b & 0x80 != 0) {
            int.push(0);
        }
        int.extend_from_slice(digits);
        der::push_tlv(&mut body, der::TAG_INTEGER, &int);
    }
    let mut out = Vec::with_capacity(body.len() + 3);
    der::push_tlv(&mut out, der::TAG_SEQUENCE, &body);
    Ok(out)
}

/// Reads `kty` and `crv` of an EC JWK.
pub(crate) fn jwk_curve(jwk: &Value) -> Result<Curve, CryptoError> {
    let obj = jwk
        .as_object()
        .ok_or_else(|| CryptoError::JwkDecode("not a JSON object".to_owned()))?;
    match obj.get("kty").and_then(Value::as_str) {
        Some("EC") => {}
        Some(other) => {
            return Err(CryptoError::UnsupportedKeyType(format!(
                "JWK kty {other:?} (expected \"EC\")"
            )));
        }
        None => return Err(CryptoError::JwkDecode("missing kty".to_owned())),
    }
    let crv = obj
        .get("crv")
        .and_then(Value::as_str)
        .ok_or_else(|| CryptoError::JwkDecode("missing crv".to_owned()))?;
    Curve::from_jwk_name(crv)
        .ok_or_else(|| CryptoError::UnsupportedCurve(format!("JWK crv {crv:?}")))
}

/// Reads one base64url field element (`x`, `y` or `d`) of an EC JWK; RFC 7518
/// requires it to be exactly the field length.
pub(crate) fn jwk_coordinate(
    jwk: &Value,
    name: &str,
    curve: Curve,
) -> Result<Vec<u8>, CryptoError> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| CryptoError::JwkDecode(format!("missing {name}")))?;
    let bytes = B64URL
        .decode(text)
        .map_err(|e| CryptoError::JwkDecode(format!("{name} is not base64url: {e}")))?;
    if bytes.len() != curve.field_len() {
        return Err(CryptoError::JwkDecode(format!(
            "{name} must be {} bytes for {curve}, got {}",
            curve.field_len(),
            bytes.len()
        )));
    }
    Ok(bytes)
}
