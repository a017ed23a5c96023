//! The small subset of DER needed for EC keys: SubjectPublicKeyInfo (RFC
//! 5480), PKCS#8 (RFC 5208/5958) and SEC1 `ECPrivateKey` (RFC 5915).
//!
//! aws-lc-rs parses private keys itself, but it reports every failure as the
//! same opaque error; reading the outer structure here first lets us tell
//! "not an EC key", "unsupported curve" and "malformed" apart.

use crate::{CryptoError, Curve};

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
/// `[0]` EXPLICIT, constructed: the `parameters` field of `ECPrivateKey`.
pub(crate) const TAG_CONTEXT_0: u8 = 0xa0;
/// `[1]` EXPLICIT, constructed: the `publicKey` field of `ECPrivateKey`.
pub(crate) const TAG_CONTEXT_1: u8 = 0xa1;

/// 1.2.840.10045.2.1 id-ecPublicKey (content octets only).
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.2.840.10045.3.1.7 prime256v1.
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// 1.3.132.0.34 secp384r1.
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// 1.3.132.0.35 secp521r1.
pub(crate) const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];

/// DER of `AlgorithmIdentifier { id-ecPublicKey, prime256v1 }` wrapped in the
/// SPKI header, up to and including the BIT STRING's unused-bits octet.
const SPKI_PREFIX_P256: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// As [`SPKI_PREFIX_P256`], for secp384r1.
const SPKI_PREFIX_P384: &[u8] = &[
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
];
/// As [`SPKI_PREFIX_P256`], for secp521r1 (lengths above 127 take the long
/// form: 0x9b = 155 for the SPKI, 0x86 = 134 for the BIT STRING).
const SPKI_PREFIX_P521: &[u8] = &[
    0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
    0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00,
];

fn malformed(what: impl Into<String>) -> CryptoError {
    CryptoError::DerDecode(what.into())
}

/// Reads one tag-length-value from the front of `input`, returning the tag and
/// the value and advancing `input` past it. Only definite, minimally encoded
/// lengths below 64 KiB are accepted: no key comes near that.
pub(crate) fn read_tlv<'a>(input: &mut &'a [u8]) -> Result<(u8, &'a [u8]), CryptoError> {
    let (&tag, rest) = input
        .split_first()
        .ok_or_else(|| malformed("unexpected end of data"))?;
    let (&first, rest) = rest
        .split_first()
        .ok_or_else(|| malformed("unexpected end of data"))?;
    let (len, rest) = match first {
        0x00..=0x7f => (usize::from(first), rest),
        0x81 => match rest.split_first() {
            Some((&b, rest)) if b >= 0x80 => (usize::from(b), rest),
            _ => return Err(malformed("non-minimal or truncated length")),
        },
        0x82 => match rest {
            [hi, lo, rest @ ..] if *hi != 0 => ((usize::from(*hi) << 8) | usize::from(*lo), rest),
            _ => return Err(malformed("non-minimal or truncated length")),
        },
        0x80 => return Err(malformed("indefinite length")),
        _ => return Err(malformed("length too large")),
    };
    if rest.len() < len {
        return Err(malformed("value runs past the end of the data"));
    }
    let (value, rest) = rest.split_at(len);
    *input = rest;
    Ok((tag, value))
}

/// Reads a TLV and checks its tag.
pub(crate) fn expect<'a>(
    input: &mut &'a [u8],
    tag: u8,
    what: &str,
) -> Result<&'a [u8], CryptoError> {
    let (got, value) = read_tlv(input)?;
    if got != tag {
        return Err(malformed(format!(
            "expected {what} (tag {tag:#04x}), found tag {got:#04x}"
        )));
    }
    Ok(value)
}

/// Reads a whole DER value that must be a single SEQUENCE with nothing after.
pub(crate) fn outer_sequence<'a>(der: &'a [u8], what: &str) -> Result<&'a [u8], CryptoError> {
    let mut input = der;
    let seq = expect(&mut input, TAG_SEQUENCE, what)?;
    if !input.is_empty() {
        return Err(malformed(format!("trailing data after {what}")));
    }
    Ok(seq)
}

/// Maps a named-curve OID onto a curve.
pub(crate) fn curve_from_oid(oid: &[u8]) -> Result<Curve, CryptoError> {
    if oid == OID_P256 {
        Ok(Curve::P256)
    } else if oid == OID_P384 {
        Ok(Curve::P384)
    } else if oid == OID_P521 {
        Ok(Curve::P521)
    } else {
        Err(CryptoError::UnsupportedCurve(format!(
            "OID {}",
            oid_to_string(oid)
        )))
    }
}

/// Dotted-decimal rendering of an OID's content octets, for error messages.
pub(crate) fn oid_to_string(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for &b in oid {
        acc = acc.saturating_mul(128).saturating_add(u64::from(b & 0x7f));
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// Parses `AlgorithmIdentifier { id-ecPublicKey, namedCurve }`.
fn ec_algorithm_identifier(alg_id: &[u8]) -> Result<Curve, CryptoError> {
    let mut input = alg_id;
    let oid = expect(&mut input, TAG_OID, "algorithm OID")?;
    if oid != OID_EC_PUBLIC_KEY {
        return Err(CryptoError::UnsupportedKeyType(format!(
            "OID {} is not id-ecPublicKey",
            oid_to_string(oid)
        )));
    }
    let (tag, params) = read_tlv(&mut input)?;
    if tag != TAG_OID {
        return Err(CryptoError::UnsupportedCurve(
            "only named curves are supported".to_owned(),
        ));
    }
    if !input.is_empty() {
        return Err(malformed("trailing data in AlgorithmIdentifier"));
    }
    curve_from_oid(params)
}

/// Parses a SubjectPublicKeyInfo holding an EC key and returns the curve and
/// the SEC1 point (not yet checked to be on the curve).
pub(crate) fn parse_spki(der: &[u8]) -> Result<(Curve, &[u8]), CryptoError> {
    let mut spki = outer_sequence(der, "SubjectPublicKeyInfo")?;
    let alg_id = expect(&mut spki, TAG_SEQUENCE, "AlgorithmIdentifier")?;
    let curve = ec_algorithm_identifier(alg_id)?;
    let bits = expect(&mut spki, TAG_BIT_STRING, "subjectPublicKey BIT STRING")?;
    if !spki.is_empty() {
        return Err(malformed("trailing data in SubjectPublicKeyInfo"));
    }
    match bits.split_first() {
        Some((0, point)) => Ok((curve, point)),
        _ => Err(malformed("subjectPublicKey has unused bits")),
    }
}

/// The named-curve OID of a curve (content octets only).
pub(crate) fn curve_oid(curve: Curve) -> &'static [u8] {
    match curve {
        Curve::P256 => OID_P256,
        Curve::P384 => OID_P384,
        Curve::P521 => OID_P521,
    }
}

/// Encodes an uncompressed SEC1 point as SubjectPublicKeyInfo DER.
pub(crate) fn encode_spki(curve: Curve, point: &[u8]) -> Vec<u8> {
    let prefix = match curve {
        Curve::P256 => SPKI_PREFIX_P256,
        Curve::P384 => SPKI_PREFIX_P384,
        Curve::P521 => SPKI_PREFIX_P521,
    };
    let mut out = Vec::with_capacity(prefix.len() + point.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(point);
    out
}

/// Finds the curve of a PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey`.
pub(crate) fn pkcs8_curve(der: &[u8]) -> Result<Curve, CryptoError> {
    let mut info = outer_sequence(der, "PKCS#8 PrivateKeyInfo")?;
    let version = expect(&mut info, TAG_INTEGER, "PKCS#8 version")?;
    if version != [0] && version != [1] {
        return Err(malformed("unsupported PKCS#8 version"));
    }
    let alg_id = expect(&mut info, TAG_SEQUENCE, "PKCS#8 AlgorithmIdentifier")?;
    let curve = ec_algorithm_identifier(alg_id)?;
    expect(&mut info, TAG_OCTET_STRING, "PKCS#8 privateKey")?;
    Ok(curve)
}

/// Finds the curve of a SEC1 `ECPrivateKey`, from its `parameters` field when
/// present and otherwise from the length of the private scalar.
pub(crate) fn sec1_curve(der: &[u8]) -> Result<Curve, CryptoError> {
    let mut key = outer_sequence(der, "ECPrivateKey")?;
    let version = expect(&mut key, TAG_INTEGER, "ECPrivateKey version")?;
    if version != [1] {
        return Err(malformed("ECPrivateKey version must be 1"));
    }
    let scalar = expect(&mut key, TAG_OCTET_STRING, "ECPrivateKey privateKey")?;
    if !key.is_empty() {
        let (tag, params) = read_tlv(&mut key)?;
        if tag == TAG_CONTEXT_0 {
            let mut params = params;
            let oid = expect(&mut params, TAG_OID, "named curve")?;
            return curve_from_oid(oid);
        }
    }
    match scalar.len() {
        32 => Ok(Curve::P256),
        48 => Ok(Curve::P384),
        66 => Ok(Curve::P521),
        n => Err(CryptoError::UnsupportedCurve(format!(
            "{n}-byte private scalar"
        ))),
    }
}

/// Builds a SEC1 `ECPrivateKey` holding only the scalar and the curve, so that
/// AWS-LC derives the public point itself.
pub(crate) fn encode_sec1_scalar_only(curve: Curve, scalar: &[u8]) -> Vec<u8> {
    let oid = curve_oid(curve);
    // Every length below is < 128 (P-521: 66-byte scalar, body 80 bytes), so
    // single-octet lengths suffice.
    let params_len = 2 + oid.len();
    let body_len = 3 + (2 + scalar.len()) + (2 + params_len);
    let mut out = Vec::with_capacity(2 + body_len);
    out.extend_from_slice(&[TAG_SEQUENCE, body_len as u8, TAG_INTEGER, 1, 1]);
    out.extend_from_slice(&[TAG_OCTET_STRING, scalar.len() as u8]);
    out.extend_from_slice(scalar);
    out.extend_from_slice(&[TAG_CONTEXT_0, params_len as u8, TAG_OID, oid.len() as u8]);
    out.extend_from_slice(oid);
    out
}

/// Appends a DER tag-length-value.
pub(crate) fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    let len_be = len.to_be_bytes();
    match len {
        0..=0x7f => out.push(len_be[len_be.len() - 1]),
        0x80..=0xff => out.extend_from_slice(&[0x81, len_be[len_be.len() - 1]]),
        _ => out.extend_from_slice(&[0x82, len_be[len_be.len() - 2], len_be[len_be.len() - 1]]),
    }
    out.extend_from_slice(content);
}

/// Encodes a PKCS#8 v1 `PrivateKeyInfo` wrapping a SEC1 `ECPrivateKey` that
/// carries the public point and omits the (redundant) curve parameters: the
/// layout OpenSSL writes.
pub(crate) fn encode_pkcs8(curve: Curve, scalar: &[u8], point: &[u8]) -> Vec<u8> {
    let curve_oid = curve_oid(curve);
    let mut bits = Vec::with_capacity(point.len() + 1);
    bits.push(0);
    bits.extend_from_slice(point);
    let mut public = Vec::with_capacity(bits.len() + 3);
    push_tlv(&mut public, TAG_BIT_STRING, &bits);

    let mut ec_key = Vec::with_capacity(scalar.len() + public.len() + 12);
    push_tlv(&mut ec_key, TAG_INTEGER, &[1]);
    push_tlv(&mut ec_key, TAG_OCTET_STRING, scalar);
    push_tlv(&mut ec_key, TAG_CONTEXT_1, &public);
    let mut ec_private_key = Vec::with_capacity(ec_key.len() + 3);
    push_tlv(&mut ec_private_key, TAG_SEQUENCE, &ec_key);

    let mut alg_id = Vec::with_capacity(24);
    push_tlv(&mut alg_id, TAG_OID, OID_EC_PUBLIC_KEY);
    push_tlv(&mut alg_id, TAG_OID, curve_oid);

    let mut info = Vec::with_capacity(ec_private_key.len() + 32);
    push_tlv(&mut info, TAG_INTEGER, &[0]);
    push_tlv(&mut info, TAG_SEQUENCE, &alg_id);
    push_tlv(&mut info, TAG_OCTET_STRING, &ec_private_key);
    let mut out = Vec::with_capacity(info.len() + 3);
    push_tlv(&mut out, TAG_SEQUENCE, &info);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_rendering() {
        assert_eq!(oid_to_string(OID_EC_PUBLIC_KEY), "1.2.840.10045.2.1");
        assert_eq!(oid_to_string(OID_P256), "1.2.840.10045.3.1.7");
        assert_eq!(oid_to_string(OID_P384), "1.3.132.0.34");
        assert_eq!(oid_to_string(OID_P521), "1.3.132.0.35");
    }

    #[test]
    fn tlv_lengths() {
        let mut short: &[u8] = &[0x04, 0x02, 0xaa, 0xbb, 0xcc];
        assert_eq!(read_tlv(&mut short).unwrap(), (0x04, &[0xaa, 0xbb][..]));
        assert_eq!(short, &[0xcc]);

        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(0u8, 0x80));
        let mut input = long.as_slice();
        assert_eq!(read_tlv(&mut input).unwrap().1.len(), 0x80);

        for bad in [
            &[0x04, 0x81, 0x05][..], // non-minimal long form
            &[0x04, 0x80],           // indefinite
            &[0x04, 0x05, 0x00],     // truncated value
            &[0x04],                 // no length
            &[0x04, 0x84, 0, 0, 0, 1],
        ] {
            let mut input = bad;
            assert!(read_tlv(&mut input).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn spki_prefixes_parse_back() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let mut point = vec![0x04];
            point.extend(std::iter::repeat_n(7u8, 2 * curve.field_len()));
            let der = encode_spki(curve, &point);
            // The prefix's outer length must cover exactly what follows.
            let mut whole = der.as_slice();
            let (_, body) = read_tlv(&mut whole).unwrap();
            assert!(whole.is_empty());
            assert_eq!(body.len() + if der[1] == 0x81 { 3 } else { 2 }, der.len());
            let (got_curve, got_point) = parse_spki(&der).unwrap();
            assert_eq!(got_curve, curve);
            assert_eq!(got_point, point.as_slice());
        }
    }

    #[test]
    fn pkcs8_layout_matches_openssl() {
        let der = encode_pkcs8(Curve::P256, &[1; 32], &[4; 65]);
        assert_eq!(der.len(), 138);
        assert_eq!(&der[..7], &[0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30]);
        assert_eq!(pkcs8_curve(&der).unwrap(), Curve::P256);
        let der = encode_pkcs8(Curve::P384, &[1; 48], &[4; 97]);
        assert_eq!(der.len(), 185);
        assert_eq!(pkcs8_curve(&der).unwrap(), Curve::P384);
        let der = encode_pkcs8(Curve::P521, &[1; 66], &[4; 133]);
        assert_eq!(pkcs8_curve(&der).unwrap(), Curve::P521);
    }

    #[test]
    fn sec1_scalar_only_parses_back() {
        let der = encode_sec1_scalar_only(Curve::P384, &[1u8; 48]);
        assert_eq!(sec1_curve(&der).unwrap(), Curve::P384);
        let der = encode_sec1_scalar_only(Curve::P521, &[1u8; 66]);
        assert_eq!(sec1_curve(&der).unwrap(), Curve::P521);
    }
}
