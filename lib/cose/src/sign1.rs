//! COSE_Sign1 (RFC 9052 §4.2): decoding, header access, the Sig_structure,
//! verification and signing.

use ciborium::Value;
use coset::iana::EnumI64 as _;
use coset::{
    AsCborValue as _, CborSerializable as _, CoseSign1, Header, Label, ProtectedHeader,
    RegisteredLabel, TaggedCborSerializable as _,
};
use vouch_crypto::{Algorithm, SigningKey, VerifyingKey};

use crate::cbor::{self, describe_coset, type_name};
use crate::envelope::AlgParam;
use crate::{CoseError, Sign1Ref};

/// CBOR tag of COSE_Sign1.
pub const TAG_SIGN1: u64 = 18;
/// CBOR tag of COSE_Mac0, which some attesters (TF-M) can emit instead.
pub const TAG_MAC0: u64 = 17;
/// Header label of `x5chain` (RFC 9360).
pub const HEADER_X5CHAIN: i64 = 33;
/// Header labels coset models as typed fields (alg, crit, content type, kid,
/// IV, partial IV, counter signature): read through their accessors, set
/// through [`Sign1Builder`]'s methods.
const MODELLED_LABELS: std::ops::RangeInclusive<i64> = 1..=7;

/// A COSE `content type` header value (label 3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// A CoAP Content-Format number (RFC 7252 §12.3), e.g. 60 for
    /// `application/cbor`.
    CoapFormat(u16),
    /// A media type, e.g. `application/rim+cbor`.
    Text(String),
}

impl ContentType {
    fn from_coset(ct: &coset::ContentType) -> Option<Self> {
        match ct {
            RegisteredLabel::Assigned(format) => {
                u16::try_from(format.to_i64()).ok().map(Self::CoapFormat)
            }
            RegisteredLabel::Text(text) => Some(Self::Text(text.clone())),
        }
    }

    fn to_coset(&self) -> Result<coset::ContentType, CoseError> {
        match self {
            Self::CoapFormat(n) => coset::iana::CoapContentFormat::from_i64(i64::from(*n))
                .map(RegisteredLabel::Assigned)
                .ok_or_else(|| {
                    CoseError::Encode(format!("CoAP content format {n} is not registered"))
                }),
            Self::Text(text) => Ok(RegisteredLabel::Text(text.clone())),
        }
    }
}

/// A decoded COSE_Sign1, owning its parts.
///
/// The envelope is taken apart by [`Sign1Ref`] (the one COSE_Sign1 decoder);
/// both header maps are then interpreted by coset, which checks the standard
/// parameters' types (a non-empty `kid`, a `content type` that is a
/// registered CoAP format or `type/subtype` text, ...). The protected header
/// is kept byte-for-byte as received, because the signature covers those
/// exact bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Sign1 {
    inner: CoseSign1,
    alg: OwnedAlg,
    tagged: bool,
}

/// The protected `alg` as found, kept apart from coset's typed field so that
/// an unregistered value is reported by [`Sign1::algorithm`] rather than
/// refused at decoding.
#[derive(Clone, Debug, PartialEq)]
enum OwnedAlg {
    Absent,
    Int(i128),
    Text(String),
}

impl Sign1 {
    /// Decodes a tagged (tag 18) or untagged COSE_Sign1.
    ///
    /// A COSE_Mac0 (tag 17) fails with [`CoseError::Mac0`], any other tag
    /// with [`CoseError::UnexpectedTag`], bytes after the structure, bad
    /// CBOR, indefinite lengths and the wrong shape with
    /// [`CoseError::Decode`], and bad header maps (duplicate labels, wrongly
    /// typed standard parameters) with [`CoseError::ProtectedHeader`] /
    /// [`CoseError::UnprotectedHeader`]. Nesting is bounded (32 levels), so
    /// no input exhausts the stack.
    pub fn decode(bytes: &[u8]) -> Result<Self, CoseError> {
        Sign1Ref::decode(bytes)?.to_sign1()
    }

    pub(crate) fn from_parts(parts: &Sign1Ref<'_>) -> Result<Self, CoseError> {
        let protected_bytes = parts.protected_bytes();
        let protected = if protected_bytes.is_empty() {
            Header::default()
        } else {
            coset_header(protected_bytes).map_err(CoseError::ProtectedHeader)?
        };
        let unprotected =
            coset_header(parts.unprotected_bytes()).map_err(CoseError::UnprotectedHeader)?;
        let alg = match parts.alg_param() {
            AlgParam::Absent => OwnedAlg::Absent,
            AlgParam::Int(id) => OwnedAlg::Int(id),
            AlgParam::Text(name) => OwnedAlg::Text(name.to_owned()),
        };
        Ok(Self {
            inner: CoseSign1 {
                protected: ProtectedHeader {
                    original_data: Some(protected_bytes.to_vec()),
                    header: protected,
                },
                unprotected,
                payload: parts.payload().map(<[u8]>::to_vec),
                signature: parts.signature().to_vec(),
            },
            alg,
            tagged: parts.is_tagged(),
        })
    }

    /// The signature algorithm, from the protected header only (an `alg` in
    /// the unprotected header is not covered by the signature and is ignored).
    ///
    /// Fails with [`CoseError::MissingAlgorithm`] when there is none and with
    /// [`CoseError::UnsupportedAlgorithm`] (naming the value) for anything
    /// but ES256, ES384 and ES512.
    pub fn algorithm(&self) -> Result<Algorithm, CoseError> {
        match &self.alg {
            OwnedAlg::Absent => AlgParam::Absent,
            OwnedAlg::Int(id) => AlgParam::Int(*id),
            OwnedAlg::Text(name) => AlgParam::Text(name),
        }
        .algorithm()
    }

    /// The payload, or `None` when it is detached (`nil`).
    pub fn payload(&self) -> Option<&[u8]> {
        self.inner.payload.as_deref()
    }

    /// The serialized protected header exactly as received (empty for an
    /// empty header).
    pub fn protected_bytes(&self) -> &[u8] {
        self.inner
            .protected
            .original_data
            .as_deref()
            .unwrap_or_default()
    }

    /// The signature bytes (fixed-size `r || s` for ECDSA).
    pub fn signature(&self) -> &[u8] {
        &self.inner.signature
    }

    /// Whether the input carried the COSE_Sign1 tag (18).
    pub fn is_tagged(&self) -> bool {
        self.tagged
    }

    /// The key identifier (`kid`, label 4): the protected one if present,
    /// otherwise the unprotected one.
    pub fn key_id(&self) -> Option<&[u8]> {
        [&self.inner.protected.header, &self.inner.unprotected]
            .into_iter()
            .map(|h| h.key_id.as_slice())
            .find(|kid| !kid.is_empty())
    }

    /// The content type (label 3): the protected one if present, otherwise
    /// the unprotected one.
    pub fn content_type(&self) -> Option<ContentType> {
        [&self.inner.protected.header, &self.inner.unprotected]
            .into_iter()
            .find_map(|h| h.content_type.as_ref())
            .and_then(ContentType::from_coset)
    }

    /// The certificates of the `x5chain` header (label 33, RFC 9360), leaf
    /// first, from whichever header carries it; empty when absent.
    ///
    /// Fails with [`CoseError::X5Chain`] when the value is neither a byte
    /// string nor a non-empty array of byte strings, or when both headers
    /// carry one (which chain is meant would be ambiguous).
    pub fn x5chain(&self) -> Result<Vec<Vec<u8>>, CoseError> {
        let protected = self.protected_param(HEADER_X5CHAIN);
        let unprotected = self.unprotected_param(HEADER_X5CHAIN);
        let value = match (protected, unprotected) {
            (None, None) => return Ok(Vec::new()),
            (Some(_), Some(_)) => {
                return Err(CoseError::X5Chain(
                    "present in both the protected and the unprotected header".to_owned(),
                ));
            }
            (Some(v), None) | (None, Some(v)) => v,
        };
        match value {
            Value::Bytes(cert) => Ok(vec![cert.clone()]),
            Value::Array(items) if items.is_empty() => {
                Err(CoseError::X5Chain("empty array".to_owned()))
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Bytes(cert) => Ok(cert.clone()),
                    other => Err(CoseError::X5Chain(format!(
                        "entry {i}: expected a byte string, found {}",
                        type_name(other)
                    ))),
                })
                .collect(),
            other => Err(CoseError::X5Chain(format!(
                "expected a byte string or an array of byte strings, found {}",
                type_name(other)
            ))),
        }
    }

    /// A protected header parameter by integer label, for every label but
    /// those coset models with typed fields (1 to 7: alg, crit, content
    /// type, kid, IV, partial IV, counter signature), which have their own
    /// accessors (see also [`Sign1::protected_header`]). A signed CoRIM's
    /// `corim-meta` is label 8; `x5chain` is 33.
    pub fn protected_param(&self, label: i64) -> Option<&Value> {
        find_param(&self.inner.protected.header, label)
    }

    /// An unprotected header parameter by integer label (as
    /// [`Sign1::protected_param`]). Remember that nothing in the unprotected
    /// header is covered by the signature.
    pub fn unprotected_param(&self, label: i64) -> Option<&Value> {
        find_param(&self.inner.unprotected, label)
    }

    /// The protected header as coset interpreted it.
    pub fn protected_header(&self) -> &Header {
        &self.inner.protected.header
    }

    /// The unprotected header as coset interpreted it.
    pub fn unprotected_header(&self) -> &Header {
        &self.inner.unprotected
    }

    /// The underlying coset structure.
    pub fn as_coset(&self) -> &CoseSign1 {
        &self.inner
    }

    /// The `Sig_structure` the signature covers: `["Signature1", protected,
    /// h'', payload]` with an empty external AAD. A detached payload counts
    /// as empty here; use [`Sign1::to_be_signed_detached`] to supply it.
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(self.protected_bytes(), self.payload().unwrap_or_default())
    }

    /// The `Sig_structure` over a payload supplied by the caller (for a
    /// detached payload).
    pub fn to_be_signed_detached(&self, payload: &[u8]) -> Vec<u8> {
        sig_structure(self.protected_bytes(), payload)
    }

    /// Checks the signature with `key`.
    ///
    /// The protected `alg` must be one `key` can do (ES256 with P-256, ES384
    /// with P-384, ES512 with P-521): otherwise [`CoseError::Signature`]
    /// wraps [`vouch_crypto::CryptoError::AlgorithmMismatch`]. A signature
    /// that does not verify wraps [`vouch_crypto::CryptoError::Verification`]
    /// (text: `signature verification failed: verification error`). A
    /// detached payload fails with [`CoseError::DetachedPayload`].
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), CoseError> {
        let payload = self.payload().ok_or(CoseError::DetachedPayload)?;
        self.verify_detached(key, payload)
    }

    /// Checks the signature over a payload supplied by the caller (for a
    /// detached payload), as [`Sign1::verify`] does.
    pub fn verify_detached(&self, key: &VerifyingKey, payload: &[u8]) -> Result<(), CoseError> {
        let alg = self.algorithm()?;
        let tbs = sig_structure(self.protected_bytes(), payload);
        key.verify(alg, &tbs, self.signature())
            .map_err(CoseError::Signature)
    }
}

/// Interprets a header map (already checked by the envelope walker) with
/// coset. `alg` is taken out first and put back only when coset can type it,
/// so an unregistered algorithm is reported by [`Sign1::algorithm`] (naming
/// it) rather than refused here.
fn coset_header(bytes: &[u8]) -> Result<Header, String> {
    let Value::Map(mut entries) = cbor::decode_value(bytes)? else {
        return Err("expected a map".to_owned());
    };
    let alg = entries
        .iter()
        .position(|(label, _)| *label == Value::from(1))
        .map(|i| entries.swap_remove(i).1);
    let mut header =
        Header::from_cbor_value(Value::Map(entries)).map_err(|e| describe_coset(&e))?;
    header.alg = alg.and_then(|v| coset::Algorithm::from_cbor_value(v).ok());
    Ok(header)
}

fn find_param(header: &Header, label: i64) -> Option<&Value> {
    header
        .rest
        .iter()
        .find(|(l, _)| *l == Label::Int(label))
        .map(|(_, v)| v)
}

/// Encodes `Sig_structure = ["Signature1", protected, external_aad = h'',
/// payload]` (RFC 9052 §4.4).
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    const CONTEXT: &[u8] = b"Signature1";
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 32);
    out.push(0x84);
    cbor::push_head(&mut out, 3, CONTEXT.len() as u64);
    out.extend_from_slice(CONTEXT);
    cbor::push_bytes(&mut out, protected);
    cbor::push_bytes(&mut out, &[]);
    cbor::push_bytes(&mut out, payload);
    out
}

/// Signs `payload` into a COSE_Sign1 with `key`; the algorithm follows the
/// key's curve (ES256, ES384 or ES512) and goes in the protected header with
/// `content_type` and the `protected_extra` parameters (labels outside 1 to
/// 7, e.g. 8 for `corim-meta`, 33 for `x5chain`). `tagged` adds tag 18.
///
/// The shorthand for [`Sign1Builder`], which can also set a `kid`,
/// unprotected parameters and (for negative tests) another `alg`.
pub fn sign1(
    key: &SigningKey,
    protected_extra: &[(i64, Value)],
    content_type: Option<ContentType>,
    payload: &[u8],
    tagged: bool,
) -> Result<Vec<u8>, CoseError> {
    let mut builder = Sign1Builder::new().tagged(tagged);
    for (label, value) in protected_extra {
        builder = builder.protected_param(*label, value.clone());
    }
    if let Some(ct) = content_type {
        builder = builder.content_type(ct);
    }
    builder.sign(key, payload)
}

/// Builds and signs a COSE_Sign1 (tagged unless told otherwise).
///
/// ```
/// use vouch_cose::{ContentType, Sign1, Sign1Builder};
/// use vouch_crypto::{Curve, SigningKey};
///
/// let key = SigningKey::generate(Curve::P256)?;
/// let bytes = Sign1Builder::new()
///     .content_type(ContentType::Text("application/rim+cbor".into()))
///     .key_id(b"key-1".to_vec())
///     .sign(&key, b"payload")?;
/// let sign1 = Sign1::decode(&bytes)?;
/// sign1.verify(&key.verifying_key())?;
/// assert_eq!(sign1.key_id(), Some(&b"key-1"[..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sign1Builder {
    protected: Vec<(i64, Value)>,
    unprotected: Vec<(i64, Value)>,
    content_type: Option<ContentType>,
    key_id: Option<Vec<u8>>,
    alg: Option<i64>,
    tagged: bool,
}

impl Default for Sign1Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Sign1Builder {
    /// An empty builder producing a tagged COSE_Sign1.
    pub fn new() -> Self {
        Self {
            protected: Vec::new(),
            unprotected: Vec::new(),
            content_type: None,
            key_id: None,
            alg: None,
            tagged: true,
        }
    }

    /// Adds a protected header parameter. Labels 1 to 7 are refused at
    /// signing time: use the dedicated methods.
    pub fn protected_param(mut self, label: i64, value: Value) -> Self {
        self.protected.push((label, value));
        self
    }

    /// Adds an unprotected header parameter (labels 1 to 7 refused, as for
    /// [`Sign1Builder::protected_param`]).
    pub fn unprotected_param(mut self, label: i64, value: Value) -> Self {
        self.unprotected.push((label, value));
        self
    }

    /// Sets the protected content type.
    pub fn content_type(mut self, content_type: ContentType) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// Sets the protected key identifier (must not be empty).
    pub fn key_id(mut self, kid: Vec<u8>) -> Self {
        self.key_id = Some(kid);
        self
    }

    /// Puts certificates (DER, leaf first) in the protected `x5chain`: a
    /// byte string for one, an array for several.
    pub fn x5chain(self, certs: &[Vec<u8>]) -> Self {
        let value = match certs {
            [one] => Value::Bytes(one.clone()),
            many => Value::Array(many.iter().cloned().map(Value::Bytes).collect()),
        };
        self.protected_param(HEADER_X5CHAIN, value)
    }

    /// Writes `alg` = `id` instead of the key's own algorithm: for negative
    /// tests (a header that lies about its algorithm). The id must be an
    /// IANA-registered or private-use COSE algorithm.
    pub fn algorithm_id(mut self, id: i64) -> Self {
        self.alg = Some(id);
        self
    }

    /// Whether to add tag 18 (default true).
    pub fn tagged(mut self, tagged: bool) -> Self {
        self.tagged = tagged;
        self
    }

    /// Signs `payload` with `key` and encodes the COSE_Sign1.
    pub fn sign(&self, key: &SigningKey, payload: &[u8]) -> Result<Vec<u8>, CoseError> {
        let alg_id = self.alg.unwrap_or_else(|| key.algorithm().cose_id());
        let mut protected = Header {
            alg: Some(
                coset::Algorithm::from_cbor_value(Value::from(alg_id)).map_err(|e| {
                    CoseError::Encode(format!("alg {alg_id}: {}", describe_coset(&e)))
                })?,
            ),
            ..Header::default()
        };
        if let Some(ct) = &self.content_type {
            protected.content_type = Some(ct.to_coset()?);
        }
        if let Some(kid) = &self.key_id {
            if kid.is_empty() {
                return Err(CoseError::Encode("kid must not be empty".to_owned()));
            }
            protected.key_id = kid.clone();
        }
        add_params(&mut protected, &self.protected, "protected")?;
        let mut unprotected = Header::default();
        add_params(&mut unprotected, &self.unprotected, "unprotected")?;

        let protected_bytes = protected
            .clone()
            .to_vec()
            .map_err(|e| CoseError::Encode(format!("protected header: {}", describe_coset(&e))))?;
        let signature = key
            .sign(&sig_structure(&protected_bytes, payload))
            .map_err(CoseError::Signing)?;
        let sign1 = CoseSign1 {
            protected: ProtectedHeader {
                original_data: Some(protected_bytes),
                header: protected,
            },
            unprotected,
            payload: Some(payload.to_vec()),
            signature,
        };
        let encoded = if self.tagged {
            sign1.to_tagged_vec()
        } else {
            sign1.to_vec()
        };
        encoded.map_err(|e| CoseError::Encode(describe_coset(&e)))
    }
}

fn add_params(header: &mut Header, params: &[(i64, Value)], which: &str) -> Result<(), CoseError> {
    for (label, value) in params {
        if MODELLED_LABELS.contains(label) {
            return Err(CoseError::Encode(format!(
                "{which} header label {label} has its own builder method"
            )));
        }
        if header.rest.iter().any(|(l, _)| *l == Label::Int(*label)) {
            return Err(CoseError::Encode(format!(
                "{which} header label {label} given twice"
            )));
        }
        header.rest.push((Label::Int(*label), value.clone()));
    }
    Ok(())
}
