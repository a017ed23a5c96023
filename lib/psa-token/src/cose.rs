//! COSE_Sign1 (RFC 9052 §4.2) envelope decoding and the Sig_structure.

use minicbor::Decoder;
use minicbor::data::Type;

use crate::TokenError;
use crate::cbor::{self, describe};

/// CBOR tag of COSE_Sign1.
const TAG_SIGN1: u64 = 18;
/// CBOR tag of COSE_Mac0, which TF-M can emit but PSA verifiers do not accept.
const TAG_MAC0: u64 = 17;
/// COSE header label of `alg`.
const HEADER_ALG: i128 = 1;

/// The parts of a COSE_Sign1, borrowed from the input.
pub(crate) struct Sign1<'a> {
    /// The serialized protected header (the bstr's content).
    pub(crate) protected: &'a [u8],
    /// The payload (the bstr's content); empty when the payload is `nil`.
    pub(crate) payload: &'a [u8],
    pub(crate) signature: &'a [u8],
    /// The protected `alg` parameter.
    pub(crate) alg: Alg,
}

/// The protected `alg` header parameter as found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Alg {
    Absent,
    Int(i64),
    /// A text or out-of-range algorithm name.
    Other(String),
}

fn cose_err(msg: impl Into<String>) -> TokenError {
    TokenError::CoseDecode(msg.into())
}

fn cbor_err(e: &minicbor::decode::Error) -> TokenError {
    TokenError::CoseDecode(describe(e))
}

/// Decodes a tagged (tag 18) or untagged COSE_Sign1.
pub(crate) fn parse(bytes: &[u8]) -> Result<Sign1<'_>, TokenError> {
    if bytes.is_empty() {
        return Err(cose_err("EOF"));
    }
    let mut d = Decoder::new(bytes);
    let mut depth = 1;
    match d.datatype().map_err(|e| cbor_err(&e))? {
        Type::Tag => {
            let tag = d.tag().map_err(|e| cbor_err(&e))?.as_u64();
            if tag == TAG_MAC0 {
                return Err(cose_err(
                    "COSE_Mac0 (tag 17) is not supported: PSA tokens must be COSE_Sign1",
                ));
            }
            if tag != TAG_SIGN1 {
                return Err(cose_err(format!(
                    "invalid COSE_Sign1_Tagged object: found tag {tag}, expected 18"
                )));
            }
            depth += 1;
        }
        Type::Array => {}
        _ => {
            return Err(cose_err(format!(
                "invalid COSE_Sign1 object: expected a 4-element array, found {}",
                cbor::type_name(&d)
            )));
        }
    }
    match d.datatype().map_err(|e| cbor_err(&e))? {
        Type::Array => {}
        Type::ArrayIndef => return Err(cose_err("indefinite-length COSE_Sign1 array")),
        _ => {
            return Err(cose_err(format!(
                "invalid COSE_Sign1 object: expected a 4-element array, found {}",
                cbor::type_name(&d)
            )));
        }
    }
    let len = d.array().map_err(|e| cbor_err(&e))?;
    if len != Some(4) {
        return Err(cose_err(format!(
            "invalid COSE_Sign1 object: array has {} elements, expected 4",
            len.unwrap_or_default()
        )));
    }

    let protected = bstr(&mut d, "protected header")?;
    let alg = protected_alg(protected, depth + 1)?;

    if !matches!(
        d.datatype().map_err(|e| cbor_err(&e))?,
        Type::Map | Type::MapIndef
    ) {
        return Err(cose_err(format!(
            "unprotected header: expected a map, found {}",
            cbor::type_name(&d)
        )));
    }
    cbor::skip(&mut d, depth + 1).map_err(|e| cose_err(format!("unprotected header: {e}")))?;

    let payload = if cbor::is_nil(&d) {
        // A detached payload: nothing to decode claims from.
        d.skip().map_err(|e| cbor_err(&e))?;
        &[][..]
    } else {
        bstr(&mut d, "payload")?
    };
    let signature = bstr(&mut d, "signature")?;

    let consumed = d.position();
    if consumed != bytes.len() {
        return Err(cose_err(format!(
            "{} bytes of extraneous data starting at index {consumed}",
            bytes.len() - consumed
        )));
    }
    Ok(Sign1 {
        protected,
        payload,
        signature,
        alg,
    })
}

fn bstr<'a>(d: &mut Decoder<'a>, what: &str) -> Result<&'a [u8], TokenError> {
    match d.datatype().map_err(|e| cbor_err(&e))? {
        Type::Bytes => d.bytes().map_err(|e| cbor_err(&e)),
        _ => Err(cose_err(format!(
            "{what}: expected a byte string, found {}",
            cbor::type_name(d)
        ))),
    }
}

/// Reads the protected header map (an empty bstr stands for an empty map) and
/// returns its `alg` parameter. Duplicate labels are rejected, as go-cose does.
fn protected_alg(protected: &[u8], depth: usize) -> Result<Alg, TokenError> {
    if protected.is_empty() {
        return Ok(Alg::Absent);
    }
    let err = |msg: String| cose_err(format!("protected header: {msg}"));
    let mut d = Decoder::new(protected);
    if d.datatype().map_err(|e| err(describe(&e)))? != Type::Map {
        return Err(err(format!(
            "expected a map, found {}",
            cbor::type_name(&d)
        )));
    }
    let n = cbor::definite(d.map().map_err(|e| err(describe(&e)))?).map_err(err)?;
    let mut alg = Alg::Absent;
    let mut seen: Vec<HeaderLabel<'_>> = Vec::new();
    for _ in 0..n {
        let label = if let Some(i) = cbor::integer(&mut d) {
            HeaderLabel::Int(i)
        } else if d.datatype().map_err(|e| err(describe(&e)))? == Type::String {
            HeaderLabel::Text(d.str().map_err(|e| err(describe(&e)))?)
        } else {
            return Err(err(format!(
                "header label must be an integer or text, found {}",
                cbor::type_name(&d)
            )));
        };
        if seen.contains(&label) {
            return Err(err(format!("duplicate header label {label}")));
        }
        if label == HeaderLabel::Int(HEADER_ALG) {
            alg = if let Some(id) = cbor::integer(&mut d) {
                i64::try_from(id).map_or_else(|_| Alg::Other(id.to_string()), Alg::Int)
            } else if d.datatype().map_err(|e| err(describe(&e)))? == Type::String {
                Alg::Other(format!("{:?}", d.str().map_err(|e| err(describe(&e)))?))
            } else {
                return Err(err(format!(
                    "alg must be an integer or text, found {}",
                    cbor::type_name(&d)
                )));
            };
        } else {
            cbor::skip(&mut d, depth + 1).map_err(err)?;
        }
        seen.push(label);
    }
    if d.position() != protected.len() {
        return Err(err("trailing data after the header map".to_owned()));
    }
    Ok(alg)
}

#[derive(PartialEq, Eq)]
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

/// Encodes `Sig_structure = ["Signature1", protected, external_aad = h'', payload]`
/// and returns it with the byte ranges of the protected header and payload
/// inside it, so the token can keep one buffer for both.
pub(crate) fn sig_structure(
    protected: &[u8],
    payload: &[u8],
) -> (Vec<u8>, std::ops::Range<usize>, std::ops::Range<usize>) {
    const CONTEXT: &[u8] = b"Signature1";
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 32);
    out.push(0x84);
    cbor::push_head(&mut out, 3, CONTEXT.len() as u64);
    out.extend_from_slice(CONTEXT);
    cbor::push_head(&mut out, 2, protected.len() as u64);
    let protected_range = out.len()..out.len() + protected.len();
    out.extend_from_slice(protected);
    cbor::push_bytes(&mut out, &[]);
    cbor::push_head(&mut out, 2, payload.len() as u64);
    let payload_range = out.len()..out.len() + payload.len();
    out.extend_from_slice(payload);
    (out, protected_range, payload_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 18([h'A10126', {}, h'A0', h'0102'])
    const MINIMAL: &[u8] = &[
        0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x41, 0xa0, 0x42, 0x01, 0x02,
    ];

    #[test]
    fn parses_tagged_and_untagged() {
        for bytes in [MINIMAL, &MINIMAL[1..]] {
            let s = parse(bytes).unwrap();
            assert_eq!(s.protected, &[0xa1, 0x01, 0x26]);
            assert_eq!(s.payload, &[0xa0]);
            assert_eq!(s.signature, &[0x01, 0x02]);
            assert_eq!(s.alg, Alg::Int(-7));
        }
    }

    #[test]
    fn rejects_other_envelopes() {
        let cases: &[(&[u8], &str)] = &[
            (&[], "EOF"),
            (&[0x00], "invalid COSE_Sign1 object"),
            (&[0xd2, 0x84], "unexpected EOF"),
            (&[0xd1, 0x84, 0x40, 0xa0, 0x40, 0x40], "COSE_Mac0"),
            (&[0xd3, 0x84, 0x40, 0xa0, 0x40, 0x40], "found tag 19"),
            (&[0xd2, 0x83, 0x40, 0xa0, 0x40], "3 elements"),
            (&[0xd2, 0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff], "indefinite"),
            (&[0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40, 0x00], "extraneous"),
            (&[0xd2, 0x84, 0x40, 0x80, 0x40, 0x40], "unprotected header"),
            (&[0xd2, 0x84, 0x40, 0xbf, 0xff, 0x40, 0x40], "indefinite"),
            (
                &[0xd2, 0x84, 0x41, 0x80, 0xa0, 0x40, 0x40],
                "protected header",
            ),
            (
                &[
                    0xd2, 0x84, 0x45, 0xa2, 0x01, 0x26, 0x01, 0x26, 0xa0, 0x40, 0x40,
                ],
                "duplicate",
            ),
            (&[0xd2, 0x84, 0x40, 0xa0, 0x60, 0x40], "payload"),
        ];
        for (bytes, needle) in cases {
            let err = parse(bytes).err().unwrap().to_string();
            assert!(err.contains(needle), "{bytes:02x?}: {err}");
            assert!(err.starts_with("failed CBOR decoding for CWT: "), "{err}");
        }
    }

    #[test]
    fn reads_alg_variants() {
        // Absent alg, text alg and nil (detached) payload.
        let s = parse(&[0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40]).unwrap();
        assert_eq!(s.alg, Alg::Absent);
        assert!(s.payload.is_empty());
        let s = parse(&[
            0xd2, 0x84, 0x47, 0xa1, 0x01, 0x64, 0x45, 0x53, 0x32, 0x35, 0xa0, 0x40, 0x40,
        ])
        .unwrap();
        assert_eq!(s.alg, Alg::Other("\"ES25\"".to_owned()));
    }

    #[test]
    fn sig_structure_layout() {
        let (tbs, p, q) = sig_structure(&[0xa1, 0x01, 0x26], &[0xa0]);
        let mut expect = vec![0x84, 0x6a];
        expect.extend_from_slice(b"Signature1");
        expect.extend_from_slice(&[0x43, 0xa1, 0x01, 0x26, 0x40, 0x41, 0xa0]);
        assert_eq!(tbs, expect);
        assert_eq!(&tbs[p], &[0xa1, 0x01, 0x26]);
        assert_eq!(&tbs[q], &[0xa0]);
    }
}
