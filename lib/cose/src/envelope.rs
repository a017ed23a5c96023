//! The zero-copy COSE_Sign1 decoder: one pass over the input, borrowing
//! every part, validating the envelope and both header maps.
//!
//! This is the one place Vouch takes a COSE_Sign1 apart. [`Sign1Ref`] serves
//! hot paths that need only the algorithm, payload and signature: for a PSA
//! token it takes 0.11–0.18 µs, where coset, which decodes the whole
//! envelope into a `ciborium::Value` tree first, takes 0.9–1.4 µs (docs/
//! performance.md, "COSE decoding: coset vs borrowed"). [`crate::Sign1`]
//! builds on it and interprets only the header maps with coset.

use minicbor::Decoder;
use minicbor::data::Type;
use vouch_crypto::{Algorithm, VerifyingKey};

use crate::cbor::{self, describe_minicbor, type_name_at};
use crate::sign1::{TAG_MAC0, TAG_SIGN1, sig_structure};
use crate::{CoseError, Sign1};

/// COSE header label of `alg`.
const HEADER_ALG: i128 = 1;

/// A COSE_Sign1 borrowed from its input, decoded without copying.
///
/// [`Sign1Ref::decode`] checks everything [`crate::Sign1::decode`] checks
/// about the envelope: the tag, the 4-element array, byte strings where
/// they belong, well-formed definite-length CBOR with valid UTF-8 and at
/// most 32 levels of nesting, header maps with integer or text labels and no
/// duplicates, an `alg` that is an integer or text, nothing after the
/// structure. It does not interpret the other header parameters: use
/// [`Sign1Ref::to_sign1`] (coset) for those.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sign1Ref<'a> {
    protected: &'a [u8],
    unprotected: &'a [u8],
    payload: Option<&'a [u8]>,
    signature: &'a [u8],
    alg: AlgParam<'a>,
    tagged: bool,
}

/// The protected `alg` parameter as found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AlgParam<'a> {
    Absent,
    Int(i128),
    Text(&'a str),
}

impl AlgParam<'_> {
    /// Maps the parameter onto a supported algorithm.
    pub(crate) fn algorithm(self) -> Result<Algorithm, CoseError> {
        match self {
            Self::Absent => Err(CoseError::MissingAlgorithm),
            Self::Int(id) => i64::try_from(id)
                .ok()
                .and_then(Algorithm::from_cose)
                .ok_or_else(|| CoseError::UnsupportedAlgorithm(id.to_string())),
            Self::Text(name) => Err(CoseError::UnsupportedAlgorithm(format!("{name:?}"))),
        }
    }
}

fn decode_err(msg: impl Into<String>) -> CoseError {
    CoseError::Decode(msg.into())
}

fn cbor_err(e: &minicbor::decode::Error) -> CoseError {
    CoseError::Decode(describe_minicbor(e))
}

impl<'a> Sign1Ref<'a> {
    /// Decodes a tagged (tag 18) or untagged COSE_Sign1, borrowing from
    /// `bytes`. Errors are as for [`crate::Sign1::decode`].
    pub fn decode(bytes: &'a [u8]) -> Result<Self, CoseError> {
        if bytes.is_empty() {
            // go's encoding/cbor says "EOF" for empty input, and Veraison's
            // messages carry that text.
            return Err(decode_err("EOF"));
        }
        let mut d = Decoder::new(bytes);
        let mut depth = 1;
        let mut tagged = false;
        if d.datatype().map_err(|e| cbor_err(&e))? == Type::Tag {
            let tag = d.tag().map_err(|e| cbor_err(&e))?.as_u64();
            match tag {
                TAG_SIGN1 => {}
                TAG_MAC0 => return Err(CoseError::Mac0),
                other => return Err(CoseError::UnexpectedTag(other)),
            }
            tagged = true;
            depth += 1;
        }
        match d.datatype().map_err(|e| cbor_err(&e))? {
            Type::Array => {}
            Type::ArrayIndef => return Err(decode_err("indefinite-length COSE_Sign1 array")),
            _ => {
                return Err(decode_err(format!(
                    "invalid COSE_Sign1 object: expected a 4-element array, found {}",
                    type_name_at(&d)
                )));
            }
        }
        let len = d.array().map_err(|e| cbor_err(&e))?;
        if len != Some(4) {
            return Err(decode_err(format!(
                "invalid COSE_Sign1 object: array has {} elements, expected 4",
                len.unwrap_or_default()
            )));
        }

        let protected = match d.datatype().map_err(|e| cbor_err(&e))? {
            Type::Bytes => d.bytes().map_err(|e| cbor_err(&e))?,
            _ => {
                return Err(CoseError::ProtectedHeader(format!(
                    "expected a byte string, found {}",
                    type_name_at(&d)
                )));
            }
        };
        let alg = if protected.is_empty() {
            // An empty byte string stands for an empty map.
            AlgParam::Absent
        } else {
            let mut p = Decoder::new(protected);
            let alg = walk_header(&mut p, depth + 1).map_err(CoseError::ProtectedHeader)?;
            if p.position() != protected.len() {
                return Err(CoseError::ProtectedHeader(
                    "trailing data after the header map".to_owned(),
                ));
            }
            alg
        };

        let start = d.position();
        walk_header(&mut d, depth + 1).map_err(CoseError::UnprotectedHeader)?;
        let unprotected = bytes.get(start..d.position()).unwrap_or_default();

        let payload = if matches!(d.datatype(), Ok(Type::Null | Type::Undefined)) {
            // A detached payload (go decodes undefined to nil as well).
            d.skip().map_err(|e| cbor_err(&e))?;
            None
        } else {
            match d.datatype().map_err(|e| cbor_err(&e))? {
                Type::Bytes => Some(d.bytes().map_err(|e| cbor_err(&e))?),
                _ => {
                    return Err(decode_err(format!(
                        "payload: expected a byte string or nil, found {}",
                        type_name_at(&d)
                    )));
                }
            }
        };
        let signature = match d.datatype().map_err(|e| cbor_err(&e))? {
            Type::Bytes => d.bytes().map_err(|e| cbor_err(&e))?,
            _ => {
                return Err(decode_err(format!(
                    "signature: expected a byte string, found {}",
                    type_name_at(&d)
                )));
            }
        };

        let consumed = d.position();
        if consumed != bytes.len() {
            return Err(decode_err(format!(
                "{} bytes of extraneous data starting at index {consumed}",
                bytes.len().saturating_sub(consumed)
            )));
        }
        Ok(Self {
            protected,
            unprotected,
            payload,
            signature,
            alg,
            tagged,
        })
    }

    /// The signature algorithm, from the protected header only; errors as
    /// for [`crate::Sign1::algorithm`].
    pub fn algorithm(&self) -> Result<Algorithm, CoseError> {
        self.alg.algorithm()
    }

    /// The payload, or `None` when it is detached (`nil`).
    pub fn payload(&self) -> Option<&'a [u8]> {
        self.payload
    }

    /// The serialized protected header exactly as received.
    pub fn protected_bytes(&self) -> &'a [u8] {
        self.protected
    }

    /// The serialized unprotected header map exactly as received.
    pub fn unprotected_bytes(&self) -> &'a [u8] {
        self.unprotected
    }

    /// The signature bytes.
    pub fn signature(&self) -> &'a [u8] {
        self.signature
    }

    /// Whether the input carried the COSE_Sign1 tag (18).
    pub fn is_tagged(&self) -> bool {
        self.tagged
    }

    /// The `Sig_structure` the signature covers (a detached payload counts
    /// as empty; see [`Sign1Ref::verify_detached`]).
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(self.protected, self.payload.unwrap_or_default())
    }

    /// Checks the signature with `key`, as [`crate::Sign1::verify`] does.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), CoseError> {
        let payload = self.payload.ok_or(CoseError::DetachedPayload)?;
        self.verify_detached(key, payload)
    }

    /// Checks the signature over a payload supplied by the caller.
    pub fn verify_detached(&self, key: &VerifyingKey, payload: &[u8]) -> Result<(), CoseError> {
        let alg = self.algorithm()?;
        key.verify(alg, &sig_structure(self.protected, payload), self.signature)
            .map_err(CoseError::Signature)
    }

    /// The owned [`Sign1`], with both header maps interpreted by coset.
    pub fn to_sign1(&self) -> Result<Sign1, CoseError> {
        Sign1::from_parts(self)
    }

    pub(crate) fn alg_param(&self) -> AlgParam<'a> {
        self.alg
    }
}

/// A header label as found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum HeaderLabel<'a> {
    Int(i128),
    Text(&'a str),
}

impl std::fmt::Display for HeaderLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// Walks a header map at the decoder's position (`depth` is its nesting
/// level): definite length, integer or text labels, no duplicate label (as
/// RFC 9052 §3 requires and go-cose checks), every value well formed.
/// Returns the `alg` parameter.
fn walk_header<'b>(d: &mut Decoder<'b>, depth: usize) -> Result<AlgParam<'b>, String> {
    match d.datatype().map_err(|e| describe_minicbor(&e))? {
        Type::Map => {}
        Type::MapIndef => return Err("indefinite-length map is not allowed".to_owned()),
        _ => return Err(format!("expected a map, found {}", type_name_at(d))),
    }
    let n = cbor::definite(d.map().map_err(|e| describe_minicbor(&e))?)?;
    let mut alg = AlgParam::Absent;
    let mut labels: Vec<HeaderLabel<'b>> = Vec::new();
    for _ in 0..n {
        let label = if let Some(i) = cbor::integer(d) {
            HeaderLabel::Int(i)
        } else if d.datatype().map_err(|e| describe_minicbor(&e))? == Type::String {
            HeaderLabel::Text(d.str().map_err(|e| describe_minicbor(&e))?)
        } else {
            return Err(format!(
                "header label must be an integer or text, found {}",
                type_name_at(d)
            ));
        };
        if label == HeaderLabel::Int(HEADER_ALG) {
            alg = if let Some(id) = cbor::integer(d) {
                AlgParam::Int(id)
            } else if d.datatype().map_err(|e| describe_minicbor(&e))? == Type::String {
                AlgParam::Text(d.str().map_err(|e| describe_minicbor(&e))?)
            } else {
                return Err(format!(
                    "alg must be an integer or text, found {}",
                    type_name_at(d)
                ));
            };
        } else {
            cbor::skip(d, depth + 1)?;
        }
        labels.push(label);
    }
    // Sorting rather than a pairwise scan keeps a header with many labels
    // (an attacker's) at n log n.
    labels.sort_unstable();
    if let Some(label) = labels
        .windows(2)
        .find(|w| w.first() == w.get(1))
        .and_then(<[_]>::first)
    {
        return Err(format!("duplicate header label {label}"));
    }
    Ok(alg)
}
