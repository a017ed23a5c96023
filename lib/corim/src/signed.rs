//! Signed CoRIMs (draft-ietf-rats-corim §4.2): a COSE_Sign1 whose payload
//! is an unsigned CoRIM and whose protected header carries `corim-meta`
//! (label 8): the signer, and optionally a validity period for the
//! signature.
//!
//! [`SignedCorim::decode`] only reads the envelope; who may sign and when is
//! the verifier's policy (the trust service's `CorimSigners`).
//! [`CorimSignature`] signs the way veraison/corim and `cocli corim sign`
//! do: content type `application/rim+cbor` and a `corim-meta` naming the
//! signer and a validity period (`vouch corim sign`, and the test kit).

use vouch_cose::{ContentType, CoseError, Sign1, Sign1Builder, Value};
use vouch_crypto::SigningKey;

/// COSE header label of `corim-meta`.
pub const HEADER_CORIM_META: i64 = 8;
/// CBOR tag of an epoch-based date/time.
const TAG_EPOCH_TIME: u64 = 1;
/// CBOR tag of a URI.
const TAG_URI: u64 = 32;

/// Why a signed CoRIM's envelope cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedCorimError {
    /// The COSE_Sign1 itself does not decode, or names no usable algorithm.
    #[error("could not decode signed CoRIM: {0}")]
    Cose(String),
    /// The payload is detached: Vouch does not fetch it.
    #[error("signed CoRIM has a detached payload; send it attached")]
    Detached,
    /// The protected header has no `corim-meta`.
    #[error("signed CoRIM has no corim-meta (protected header 8)")]
    NoMeta,
    /// `corim-meta` is malformed.
    #[error("signed CoRIM corim-meta: {0}")]
    Meta(String),
}

/// `corim-meta`: who signed, and when the signature is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorimMeta {
    /// `signer-name`, when it is text.
    pub signer_name: Option<String>,
    /// `signer-uri`.
    pub signer_uri: Option<String>,
    /// `signature-validity` `not-before` (Unix seconds).
    pub not_before: Option<i64>,
    /// `signature-validity` `not-after` (Unix seconds).
    pub not_after: Option<i64>,
}

/// A decoded (not yet verified) signed CoRIM.
#[derive(Debug, Clone)]
pub struct SignedCorim {
    /// The COSE envelope, for signature checks.
    pub sign1: Sign1,
    /// The parsed `corim-meta`.
    pub meta: CorimMeta,
}

impl SignedCorim {
    /// Reads the envelope and `corim-meta`. The payload is not decoded.
    pub fn decode(bytes: &[u8]) -> Result<Self, SignedCorimError> {
        let sign1 = Sign1::decode(bytes).map_err(|e| SignedCorimError::Cose(e.to_string()))?;
        sign1
            .algorithm()
            .map_err(|e| SignedCorimError::Cose(e.to_string()))?;
        if sign1.payload().is_none() {
            return Err(SignedCorimError::Detached);
        }
        let meta = sign1
            .protected_param(HEADER_CORIM_META)
            .ok_or(SignedCorimError::NoMeta)
            .and_then(|v| CorimMeta::parse(v).map_err(SignedCorimError::Meta))?;
        Ok(SignedCorim { sign1, meta })
    }

    /// The unsigned CoRIM inside.
    pub fn payload(&self) -> &[u8] {
        // `decode` refused detached payloads.
        self.sign1.payload().unwrap_or_default()
    }
}

impl CorimMeta {
    /// `corim-meta-map = { 0: corim-signer-map, ? 1: validity-map }`, as a
    /// byte string holding the map (veraison/corim, cocli) or the map
    /// itself.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let owned;
        let map = match value {
            Value::Bytes(bytes) => {
                owned = vouch_cose::ciborium::de::from_reader_with_recursion_limit::<Value, _>(
                    bytes.as_slice(),
                    16,
                )
                .map_err(|e| format!("not CBOR: {e}"))?;
                &owned
            }
            other => other,
        };
        let Value::Map(entries) = map else {
            return Err("expected a map".to_owned());
        };
        let Some(Value::Map(signer)) = entry(entries, 0) else {
            return Err("no signer map (key 0)".to_owned());
        };
        let mut meta = CorimMeta {
            signer_name: match entry(signer, 0) {
                Some(Value::Text(name)) => Some(name.clone()),
                _ => None,
            },
            signer_uri: match entry(signer, 1) {
                Some(Value::Text(uri)) => Some(uri.clone()),
                Some(Value::Tag(TAG_URI, uri)) => match uri.as_ref() {
                    Value::Text(uri) => Some(uri.clone()),
                    _ => None,
                },
                _ => None,
            },
            not_before: None,
            not_after: None,
        };
        if let Some(validity) = entry(entries, 1) {
            let Value::Map(validity) = validity else {
                return Err("signature-validity is not a map".to_owned());
            };
            meta.not_before = entry(validity, 0).map(time).transpose()?;
            meta.not_after = Some(
                entry(validity, 1)
                    .ok_or_else(|| "signature-validity has no not-after".to_owned())
                    .and_then(time)?,
            );
        }
        Ok(meta)
    }
}

fn entry(map: &[(Value, Value)], key: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| matches!(k, Value::Integer(i) if i128::from(*i) == i128::from(key)))
        .map(|(_, v)| v)
}

/// A CoRIM `time`: `#6.1(int)`, or a bare integer as some tools write it.
fn time(value: &Value) -> Result<i64, String> {
    let inner = match value {
        Value::Tag(TAG_EPOCH_TIME, inner) => inner.as_ref(),
        Value::Tag(tag, _) => return Err(format!("time with unexpected tag {tag}")),
        other => other,
    };
    match inner {
        Value::Integer(i) => {
            i64::try_from(i128::from(*i)).map_err(|_| "time out of range".to_owned())
        }
        _ => Err("time is not an integer".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cbor(value: &Value) -> Value {
        let mut bytes = Vec::new();
        vouch_cose::ciborium::ser::into_writer(value, &mut bytes).unwrap();
        Value::Bytes(bytes)
    }

    #[test]
    fn meta_is_read_wrapped_or_bare() {
        let map = Value::Map(vec![
            (
                Value::from(0),
                Value::Map(vec![
                    (Value::from(0), Value::Text("ACME".into())),
                    (
                        Value::from(1),
                        Value::Tag(32, Box::new(Value::Text("https://acme.example".into()))),
                    ),
                ]),
            ),
            (
                Value::from(1),
                Value::Map(vec![
                    (Value::from(0), Value::Tag(1, Box::new(Value::from(10)))),
                    (Value::from(1), Value::from(20)),
                ]),
            ),
        ]);
        let want = CorimMeta {
            signer_name: Some("ACME".into()),
            signer_uri: Some("https://acme.example".into()),
            not_before: Some(10),
            not_after: Some(20),
        };
        assert_eq!(CorimMeta::parse(&map).unwrap(), want);
        assert_eq!(CorimMeta::parse(&cbor(&map)).unwrap(), want);
    }

    #[test]
    fn malformed_meta_is_an_error() {
        for bad in [
            Value::Text("x".into()),
            Value::Map(vec![]),
            Value::Bytes(vec![0xff]),
            Value::Map(vec![(Value::from(0), Value::from(1))]),
            Value::Map(vec![
                (Value::from(0), Value::Map(vec![])),
                (Value::from(1), Value::Map(vec![])),
            ]),
            Value::Map(vec![
                (Value::from(0), Value::Map(vec![])),
                (
                    Value::from(1),
                    Value::Map(vec![(
                        Value::from(1),
                        Value::Tag(0, Box::new(Value::from(1))),
                    )]),
                ),
            ]),
        ] {
            assert!(CorimMeta::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn envelopes_without_payload_or_meta_are_refused() {
        let key = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P256).unwrap();
        let no_meta = vouch_cose::sign1(&key, &[], None, b"x", true).unwrap();
        assert_eq!(
            SignedCorim::decode(&no_meta).unwrap_err(),
            SignedCorimError::NoMeta
        );
        assert!(matches!(
            SignedCorim::decode(b"\x00"),
            Err(SignedCorimError::Cose(_))
        ));
        let meta = Value::Map(vec![(Value::from(0), Value::Map(vec![]))]);
        let ok = vouch_cose::sign1(&key, &[(8, cbor(&meta))], None, b"payload", true).unwrap();
        assert_eq!(SignedCorim::decode(&ok).unwrap().payload(), b"payload");
    }
}

/// How to sign a CoRIM.
#[derive(Debug, Clone, Default)]
pub struct CorimSignature {
    /// `signer-name` in `corim-meta`.
    pub signer_name: String,
    /// `signer-uri` in `corim-meta`, if any.
    pub signer_uri: Option<String>,
    /// Start of the signature validity (Unix seconds), if any.
    pub not_before: Option<i64>,
    /// End of the signature validity (Unix seconds), if any.
    pub not_after: Option<i64>,
    /// DER certificates, leaf first, for the protected `x5chain`.
    pub x5chain: Vec<Vec<u8>>,
    /// Protected `kid`.
    pub key_id: Option<Vec<u8>>,
}

impl CorimSignature {
    /// Valid from an hour ago for a year, as "Test signer".
    pub fn valid_now() -> Self {
        let now = time_now();
        CorimSignature {
            signer_name: "Test signer".to_owned(),
            not_before: Some(now - 3_600),
            not_after: Some(now + 365 * 86_400),
            ..CorimSignature::default()
        }
    }

    /// The `corim-meta` map, as the byte string veraison/corim writes.
    pub fn meta(&self) -> Value {
        let mut signer = vec![(Value::from(0), Value::Text(self.signer_name.clone()))];
        if let Some(uri) = &self.signer_uri {
            signer.push((
                Value::from(1),
                Value::Tag(TAG_URI, Box::new(Value::Text(uri.clone()))),
            ));
        }
        let mut map = vec![(Value::from(0), Value::Map(signer))];
        let mut validity = Vec::new();
        if let Some(t) = self.not_before {
            validity.push((
                Value::from(0),
                Value::Tag(TAG_EPOCH_TIME, Box::new(Value::from(t))),
            ));
        }
        if let Some(t) = self.not_after {
            validity.push((
                Value::from(1),
                Value::Tag(TAG_EPOCH_TIME, Box::new(Value::from(t))),
            ));
        }
        if !validity.is_empty() {
            map.push((Value::from(1), Value::Map(validity)));
        }
        let mut bytes = Vec::new();
        // Writing a Value into a Vec cannot fail.
        let _ = vouch_cose::ciborium::ser::into_writer(&Value::Map(map), &mut bytes);
        Value::Bytes(bytes)
    }

    /// Signs `corim` (an unsigned CoRIM) with `key`.
    pub fn sign(&self, corim: &[u8], key: &SigningKey) -> Result<Vec<u8>, CoseError> {
        let mut builder = Sign1Builder::new()
            .content_type(ContentType::Text("application/rim+cbor".to_owned()))
            .protected_param(HEADER_CORIM_META, self.meta());
        if !self.x5chain.is_empty() {
            builder = builder.x5chain(&self.x5chain);
        }
        if let Some(kid) = &self.key_id {
            builder = builder.key_id(kid.clone());
        }
        builder.sign(key, corim)
    }
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
