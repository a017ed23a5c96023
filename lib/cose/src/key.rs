//! COSE_Key (RFC 9052 §7, RFC 9053 §7.1) for EC2 public keys.

use ciborium::Value;
use coset::iana::EnumI64 as _;
use coset::{
    AsCborValue as _, CoseKey, KeyType, Label, RegisteredLabel, RegisteredLabelWithPrivate,
};
use vouch_crypto::{Algorithm, Curve, VerifyingKey};

use crate::CoseError;
use crate::cbor::{self, describe_coset, type_name};

/// COSE_Key label of the EC2 curve (`crv`).
const EC2_CRV: i64 = -1;
/// COSE_Key label of the EC2 x coordinate.
const EC2_X: i64 = -2;
/// COSE_Key label of the EC2 y coordinate (or its sign, for a compressed
/// point).
const EC2_Y: i64 = -3;
/// `kty` value for EC2 keys.
const KTY_EC2: i64 = 2;

/// The COSE `crv` number of a curve (RFC 9053 §7.1: 1, 2, 3).
pub fn cose_curve_id(curve: Curve) -> i64 {
    match curve {
        Curve::P256 => 1,
        Curve::P384 => 2,
        Curve::P521 => 3,
    }
}

/// The curve of a COSE `crv` number.
pub fn curve_from_cose_id(id: i64) -> Option<Curve> {
    match id {
        1 => Some(Curve::P256),
        2 => Some(Curve::P384),
        3 => Some(Curve::P521),
        _ => None,
    }
}

/// Reads an EC2 COSE_Key holding a public key on P-256, P-384 or P-521
/// (`crv` 1, 2 or 3, with `x` and `y` coordinates).
///
/// Other key types and curves fail with [`CoseError::UnsupportedKey`] (as do
/// compressed points: a boolean `y`), malformed CBOR or parameters with
/// [`CoseError::KeyDecode`], and coordinates off the curve with
/// [`CoseError::InvalidKey`]. A private `d`, when present, is ignored. An
/// `alg` that does not go with the curve is refused.
pub fn key_from_cose_key(bytes: &[u8]) -> Result<VerifyingKey, CoseError> {
    let value = cbor::decode_value(bytes).map_err(CoseError::KeyDecode)?;
    if !matches!(value, Value::Map(_)) {
        return Err(CoseError::KeyDecode(format!(
            "expected a map, found {}",
            type_name(&value)
        )));
    }
    let key =
        CoseKey::from_cbor_value(value).map_err(|e| CoseError::KeyDecode(describe_coset(&e)))?;
    match &key.kty {
        KeyType::Assigned(kty) if kty.to_i64() == KTY_EC2 => {}
        KeyType::Assigned(kty) => {
            return Err(CoseError::UnsupportedKey(format!(
                "kty {} ({kty:?}); only EC2 (2) keys are supported",
                kty.to_i64()
            )));
        }
        RegisteredLabel::Text(kty) => {
            return Err(CoseError::UnsupportedKey(format!(
                "kty {kty:?}; only EC2 (2) keys are supported"
            )));
        }
    }
    let param = |label: i64| {
        key.params
            .iter()
            .find(|(l, _)| *l == Label::Int(label))
            .map(|(_, v)| v)
    };
    let curve = match param(EC2_CRV) {
        None => return Err(CoseError::KeyDecode("missing crv (-1)".to_owned())),
        Some(Value::Integer(id)) => {
            let id = i128::from(*id);
            i64::try_from(id)
                .ok()
                .and_then(curve_from_cose_id)
                .ok_or_else(|| {
                    CoseError::UnsupportedKey(format!(
                        "crv {id}; only P-256 (1), P-384 (2) and P-521 (3) are supported"
                    ))
                })?
        }
        Some(Value::Text(name)) => {
            return Err(CoseError::UnsupportedKey(format!(
                "crv {name:?}; only P-256 (1), P-384 (2) and P-521 (3) are supported"
            )));
        }
        Some(other) => {
            return Err(CoseError::KeyDecode(format!(
                "crv: expected an integer, found {}",
                type_name(other)
            )));
        }
    };
    if let Some(alg) = &key.alg {
        let ok = match alg {
            RegisteredLabelWithPrivate::Assigned(a) => {
                Algorithm::from_cose(a.to_i64()).is_some_and(|a| a.curve() == curve)
            }
            _ => false,
        };
        if !ok {
            return Err(CoseError::UnsupportedKey(format!(
                "alg {} cannot be used with a {curve} key",
                describe_label(alg)
            )));
        }
    }
    let coordinate = |label: i64, name: &str| -> Result<&[u8], CoseError> {
        match param(label) {
            None => Err(CoseError::KeyDecode(format!("missing {name} ({label})"))),
            Some(Value::Bytes(b)) if b.len() == curve.field_len() => Ok(b),
            Some(Value::Bytes(b)) => Err(CoseError::KeyDecode(format!(
                "{name} must be {} bytes for {curve}, got {}",
                curve.field_len(),
                b.len()
            ))),
            Some(Value::Bool(_)) => Err(CoseError::UnsupportedKey(
                "compressed points (boolean y) are not supported".to_owned(),
            )),
            Some(other) => Err(CoseError::KeyDecode(format!(
                "{name}: expected a byte string, found {}",
                type_name(other)
            ))),
        }
    };
    let x = coordinate(EC2_X, "x")?;
    let y = coordinate(EC2_Y, "y")?;
    let mut point = Vec::with_capacity(curve.point_len());
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    VerifyingKey::from_sec1_point(curve, &point).map_err(CoseError::InvalidKey)
}

fn describe_label(alg: &coset::Algorithm) -> String {
    match alg {
        RegisteredLabelWithPrivate::Assigned(a) => a.to_i64().to_string(),
        RegisteredLabelWithPrivate::PrivateUse(a) => a.to_string(),
        RegisteredLabelWithPrivate::Text(t) => format!("{t:?}"),
    }
}

/// Reads a public key given either as an EC2 COSE_Key or as a raw
/// uncompressed SEC1 point (`0x04 || x || y`, as legacy CCA realm tokens
/// carry it; the curve follows from the length: 65, 97 or 133 bytes).
pub fn key_from_cose_key_or_raw(bytes: &[u8]) -> Result<VerifyingKey, CoseError> {
    if bytes.first() == Some(&0x04) {
        // A COSE_Key is a CBOR map (major type 5, first byte 0xa0..=0xbf),
        // so a leading 0x04 (the CBOR integer 4) can only be a raw point.
        let curve = [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.point_len() == bytes.len())
            .ok_or_else(|| {
                CoseError::UnsupportedKey(format!(
                    "a raw SEC1 point of {} bytes (expected 65, 97 or 133)",
                    bytes.len()
                ))
            })?;
        return VerifyingKey::from_sec1_point(curve, bytes).map_err(CoseError::InvalidKey);
    }
    key_from_cose_key(bytes)
}

/// Encodes a public key as a canonical EC2 COSE_Key: `{1: 2, -1: crv, -2: x,
/// -3: y}`, in RFC 8949 core deterministic order.
pub fn cose_key_bytes(key: &VerifyingKey) -> Vec<u8> {
    let curve = key.curve();
    let n = curve.field_len();
    let coords = key.sec1_point().get(1..).unwrap_or_default();
    let (x, y) = coords.split_at(n.min(coords.len()));
    let mut out = Vec::with_capacity(2 * n + 12);
    out.push(0xa4);
    cbor::push_int(&mut out, 1);
    cbor::push_int(&mut out, KTY_EC2);
    cbor::push_int(&mut out, EC2_CRV);
    cbor::push_int(&mut out, cose_curve_id(curve));
    cbor::push_int(&mut out, EC2_X);
    cbor::push_bytes(&mut out, x);
    cbor::push_int(&mut out, EC2_Y);
    cbor::push_bytes(&mut out, y);
    out
}
