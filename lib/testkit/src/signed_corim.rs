//! Signs CoRIMs the way veraison/corim and `cocli corim sign` do: a
//! COSE_Sign1 with content type `application/rim+cbor` and `corim-meta`
//! (protected header 8) naming the signer and a validity period.

use vouch_cose::{ContentType, CoseError, Sign1Builder, Value};
use vouch_crypto::SigningKey;

/// COSE header label of `corim-meta`.
pub const HEADER_CORIM_META: i64 = 8;

/// How to sign a CoRIM.
#[derive(Debug, Clone, Default)]
pub struct CorimSignature {
    /// `signer-name` in `corim-meta`.
    pub signer_name: String,
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
        let mut map = vec![(
            Value::from(0),
            Value::Map(vec![(
                Value::from(0),
                Value::Text(self.signer_name.clone()),
            )]),
        )];
        let mut validity = Vec::new();
        if let Some(t) = self.not_before {
            validity.push((Value::from(0), Value::Tag(1, Box::new(Value::from(t)))));
        }
        if let Some(t) = self.not_after {
            validity.push((Value::from(1), Value::Tag(1, Box::new(Value::from(t)))));
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
