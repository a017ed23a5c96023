//! TPMT_PUBLIC (TPM 2.0 Part 2, 12.2.4) for ECC keys: the public area a TPM
//! certifies, and the TPM name derived from it.

use vouch_crypto::VerifyingKey;

use crate::alg::{EccCurve, TpmAlgId};
use crate::attest::TpmName;
use crate::error::TpmError;
use crate::marshal::{Reader, Writer};
use crate::pcr::hash_bytes;

/// TPMA_OBJECT: the attribute bits of a TPM object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ObjectAttributes(pub u32);

impl ObjectAttributes {
    /// fixedTPM: the object cannot be duplicated out of this TPM.
    pub const FIXED_TPM: Self = Self(1 << 1);
    /// stClear.
    pub const ST_CLEAR: Self = Self(1 << 2);
    /// fixedParent.
    pub const FIXED_PARENT: Self = Self(1 << 4);
    /// sensitiveDataOrigin: the TPM generated the private part.
    pub const SENSITIVE_DATA_ORIGIN: Self = Self(1 << 5);
    /// userWithAuth.
    pub const USER_WITH_AUTH: Self = Self(1 << 6);
    /// adminWithPolicy.
    pub const ADMIN_WITH_POLICY: Self = Self(1 << 7);
    /// noDA.
    pub const NO_DA: Self = Self(1 << 10);
    /// encryptedDuplication.
    pub const ENCRYPTED_DUPLICATION: Self = Self(1 << 11);
    /// restricted.
    pub const RESTRICTED: Self = Self(1 << 16);
    /// decrypt.
    pub const DECRYPT: Self = Self(1 << 17);
    /// sign (sign/encrypt).
    pub const SIGN: Self = Self(1 << 18);

    /// Whether every bit of `flags` is set.
    pub fn contains(self, flags: Self) -> bool {
        self.0 & flags.0 == flags.0
    }

    /// The union of two attribute sets.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether the key was generated inside, and cannot leave, a TPM
    /// (fixedTPM and sensitiveDataOrigin): what Parsec requires of an
    /// attested key.
    pub fn tpm_originated(self) -> bool {
        self.contains(Self::FIXED_TPM.union(Self::SENSITIVE_DATA_ORIGIN))
    }
}

/// An algorithm with its hash parameter, as found in TPMT_ECC_SCHEME and
/// TPMT_KDF_SCHEME (`hash` is `None` for TPM_ALG_NULL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scheme {
    /// The scheme (TPM_ALG_NULL when unset).
    pub alg: TpmAlgId,
    /// Its hash algorithm, absent for TPM_ALG_NULL.
    pub hash: Option<TpmAlgId>,
    /// The ECDAA commit counter (only for TPM_ALG_ECDAA).
    pub count: Option<u16>,
}

impl Scheme {
    /// TPM_ALG_NULL: no scheme.
    pub const NULL: Self = Self {
        alg: TpmAlgId::NULL,
        hash: None,
        count: None,
    };
}

/// TPMT_SYM_DEF_OBJECT: the symmetric algorithm of a storage key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SymDef {
    /// The algorithm (TPM_ALG_NULL for signing keys).
    pub alg: TpmAlgId,
    /// Key size in bits and block mode, absent for TPM_ALG_NULL.
    pub key_bits_and_mode: Option<(u16, TpmAlgId)>,
}

impl SymDef {
    /// TPM_ALG_NULL.
    pub const NULL: Self = Self {
        alg: TpmAlgId::NULL,
        key_bits_and_mode: None,
    };
}

/// A decoded ECC TPMT_PUBLIC, with its exact bytes and its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TpmtPublic {
    raw: Vec<u8>,
    name_alg: TpmAlgId,
    attributes: ObjectAttributes,
    auth_policy: Vec<u8>,
    symmetric: SymDef,
    scheme: Scheme,
    curve: EccCurve,
    kdf: Scheme,
    key: VerifyingKey,
}

/// What [`TpmtPublic::encode_ecc`] needs besides the key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EccPublicTemplate {
    /// The name algorithm.
    pub name_alg: TpmAlgId,
    /// The object attributes.
    pub attributes: ObjectAttributes,
    /// The authorisation policy digest (empty for none).
    pub auth_policy: Vec<u8>,
    /// The signing scheme (e.g. ECDSA with SHA-256).
    pub scheme: Scheme,
}

impl TpmtPublic {
    /// Decodes an ECC TPMT_PUBLIC that fills `bytes` exactly and turns its
    /// `unique` point into a key. Other key types are rejected.
    pub fn decode(bytes: &[u8]) -> Result<Self, TpmError> {
        let mut r = Reader::new(bytes);
        let key_type = TpmAlgId(r.u16("TPMT_PUBLIC.type")?);
        let name_alg = TpmAlgId(r.u16("TPMT_PUBLIC.nameAlg")?);
        let attributes = ObjectAttributes(r.u32("TPMT_PUBLIC.objectAttributes")?);
        let auth_policy = r.tpm2b("TPMT_PUBLIC.authPolicy")?.to_vec();
        if key_type != TpmAlgId::ECC {
            return Err(TpmError::UnsupportedPublicType(key_type));
        }
        let symmetric = decode_sym_def(&mut r)?;
        let scheme = decode_scheme(&mut r, "ECC scheme", ecc_scheme_layout)?;
        let curve_id = r.u16("TPMS_ECC_PARMS.curveID")?;
        let kdf = decode_scheme(&mut r, "KDF scheme", kdf_scheme_layout)?;
        let x = r.tpm2b("TPMS_ECC_POINT.x")?;
        let y = r.tpm2b("TPMS_ECC_POINT.y")?;
        r.finish("TPMT_PUBLIC")?;
        let curve = EccCurve::from_tpm(curve_id).ok_or(TpmError::UnsupportedCurve(curve_id))?;
        let key = point_to_key(curve, x, y)?;
        Ok(Self {
            raw: bytes.to_vec(),
            name_alg,
            attributes,
            auth_policy,
            symmetric,
            scheme,
            curve,
            kdf,
            key,
        })
    }

    /// Marshals an ECC signing key's public area as a TPM would create it
    /// (no symmetric algorithm, no KDF, full-length coordinates).
    pub fn encode_ecc(key: &VerifyingKey, template: &EccPublicTemplate) -> Result<Self, TpmError> {
        let curve = EccCurve::from_curve(key.curve());
        let field_len = key.curve().field_len();
        // The SEC1 point is 0x04 || x || y with fixed-length coordinates.
        let point = key.sec1_point();
        let x = point.get(1..1 + field_len).unwrap_or_default();
        let y = point.get(1 + field_len..).unwrap_or_default();
        let mut w = Writer::new();
        w.u16(TpmAlgId::ECC.0)
            .u16(template.name_alg.0)
            .u32(template.attributes.0);
        w.tpm2b("TPMT_PUBLIC.authPolicy", &template.auth_policy)?;
        w.u16(TpmAlgId::NULL.0);
        encode_scheme(&mut w, &template.scheme);
        w.u16(curve.tpm_id());
        w.u16(TpmAlgId::NULL.0);
        w.tpm2b("TPMS_ECC_POINT.x", x)?;
        w.tpm2b("TPMS_ECC_POINT.y", y)?;
        Self::decode(&w.into_bytes())
    }

    /// The exact bytes decoded (what the TPM name is computed over).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// `nameAlg`.
    pub fn name_alg(&self) -> TpmAlgId {
        self.name_alg
    }

    /// `objectAttributes`.
    pub fn attributes(&self) -> ObjectAttributes {
        self.attributes
    }

    /// `authPolicy`.
    pub fn auth_policy(&self) -> &[u8] {
        &self.auth_policy
    }

    /// `parameters.symmetric`.
    pub fn symmetric(&self) -> SymDef {
        self.symmetric
    }

    /// `parameters.scheme`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `parameters.curveID`.
    pub fn curve(&self) -> EccCurve {
        self.curve
    }

    /// `parameters.kdf`.
    pub fn kdf(&self) -> Scheme {
        self.kdf
    }

    /// The public key in `unique`.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The TPM name: `nameAlg || H_nameAlg(TPMT_PUBLIC)`; `None` when the
    /// name algorithm is not SHA-256, SHA-384 or SHA-512.
    pub fn name(&self) -> Option<TpmName> {
        let hash = self.name_alg.hash()?;
        Some(TpmName::Digest {
            alg: self.name_alg,
            digest: hash_bytes(hash, &self.raw),
        })
    }
}

/// How many `u16` parameters follow a scheme identifier; `None` for an
/// identifier whose layout is unknown.
type Layout = fn(TpmAlgId) -> Option<usize>;

fn ecc_scheme_layout(alg: TpmAlgId) -> Option<usize> {
    match alg {
        TpmAlgId::NULL => Some(0),
        TpmAlgId::ECDAA => Some(2),
        // ECDSA, ECDH, SM2, ECSCHNORR, ECMQV (0x001D): TPMS_SCHEME_HASH.
        TpmAlgId::ECDSA | TpmAlgId::ECDH | TpmAlgId::SM2 | TpmAlgId::ECSCHNORR => Some(1),
        TpmAlgId(0x001D) => Some(1),
        _ => None,
    }
}

fn kdf_scheme_layout(alg: TpmAlgId) -> Option<usize> {
    match alg.0 {
        0x0010 => Some(0),
        // MGF1, KDF1_SP800_56A, KDF2, KDF1_SP800_108: TPMS_SCHEME_HASH.
        0x0007 | 0x0020 | 0x0021 | 0x0022 => Some(1),
        _ => None,
    }
}

fn decode_scheme(
    r: &mut Reader<'_>,
    field: &'static str,
    layout: Layout,
) -> Result<Scheme, TpmError> {
    let alg = TpmAlgId(r.u16(field)?);
    match layout(alg) {
        Some(0) => Ok(Scheme {
            alg,
            hash: None,
            count: None,
        }),
        Some(1) => Ok(Scheme {
            alg,
            hash: Some(TpmAlgId(r.u16(field)?)),
            count: None,
        }),
        Some(_) => Ok(Scheme {
            alg,
            hash: Some(TpmAlgId(r.u16(field)?)),
            count: Some(r.u16(field)?),
        }),
        None => Err(TpmError::UnsupportedParameter { field, alg }),
    }
}

fn encode_scheme(w: &mut Writer, scheme: &Scheme) {
    w.u16(scheme.alg.0);
    if let Some(hash) = scheme.hash {
        w.u16(hash.0);
    }
    if let Some(count) = scheme.count {
        w.u16(count);
    }
}

fn decode_sym_def(r: &mut Reader<'_>) -> Result<SymDef, TpmError> {
    let alg = TpmAlgId(r.u16("TPMT_SYM_DEF_OBJECT.algorithm")?);
    if alg == TpmAlgId::NULL {
        return Ok(SymDef::NULL);
    }
    let bits = r.u16("TPMT_SYM_DEF_OBJECT.keyBits")?;
    let mode = TpmAlgId(r.u16("TPMT_SYM_DEF_OBJECT.mode")?);
    Ok(SymDef {
        alg,
        key_bits_and_mode: Some((bits, mode)),
    })
}

/// Builds a key from TPMS_ECC_POINT coordinates, left-padding them to the
/// field length (go-tpm and Go's big.Int.Bytes() write minimal lengths).
fn point_to_key(curve: EccCurve, x: &[u8], y: &[u8]) -> Result<VerifyingKey, TpmError> {
    let field_len = curve.curve().field_len();
    let mut point = Vec::with_capacity(1 + 2 * field_len);
    point.push(0x04);
    for (coordinate, value) in [("x", x), ("y", y)] {
        let value = strip_leading_zeros(value);
        let pad = field_len
            .checked_sub(value.len())
            .ok_or(TpmError::CoordinateTooLong {
                coordinate,
                len: value.len(),
                field_len,
            })?;
        point.resize(point.len() + pad, 0);
        point.extend_from_slice(value);
    }
    VerifyingKey::from_sec1_point(curve.curve(), &point)
        .map_err(|e| TpmError::InvalidKey(e.to_string()))
}

pub(crate) fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_crypto::{Curve, SigningKey};

    /// KAT pubArea of parsec-tpm/tokens/evidence.cbor (MANIFEST §9.2).
    const PUB_AREA: &str = "0023000b00040072000000100018000b000300100020a907c3c02102a2549c84a2b8b2130e9f6966719391a4c72a357795a1f95e838a0020458248addff3f4acddb64bd2928f69b811ff0d862e33e788a0704b6aa8295020";
    /// certify.name from the same evidence's certInfo.
    const NAME: &str = "000b66bcc269216a672b65c5074330e9a890d3ffd2ed78ae12a2986af6290e057ba4";

    #[test]
    fn decodes_the_parsec_pub_area() {
        let raw = hex::decode(PUB_AREA).unwrap();
        let p = TpmtPublic::decode(&raw).unwrap();
        assert_eq!(p.raw(), raw);
        assert_eq!(p.name_alg(), TpmAlgId::SHA256);
        assert_eq!(p.attributes(), ObjectAttributes(0x0004_0072));
        assert!(p.attributes().tpm_originated());
        assert!(p.attributes().contains(ObjectAttributes::SIGN));
        assert!(p.auth_policy().is_empty());
        assert_eq!(p.symmetric(), SymDef::NULL);
        assert_eq!(p.scheme().alg, TpmAlgId::ECDSA);
        assert_eq!(p.scheme().hash, Some(TpmAlgId::SHA256));
        assert_eq!(p.kdf(), Scheme::NULL);
        assert_eq!(p.curve(), EccCurve::NistP256);
        assert_eq!(p.key().curve(), Curve::P256);
        assert_eq!(hex::encode(p.name().unwrap().to_bytes()), NAME);
        // MANIFEST §9.2: ear.veraison.key-attestation.akpub of evidence.cbor.
        use base64::Engine as _;
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(p.key().to_spki_der()),
            "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqQfDwCEColSchKK4shMOn2lmcZORpMcqNXeVofleg4pFgkit3_P0rN22S9KSj2m4Ef8Nhi4z54igcEtqqClQIA"
        );
    }

    #[test]
    fn rejects_what_it_cannot_use() {
        let raw = hex::decode(PUB_AREA).unwrap();
        let mut rsa = raw.clone();
        rsa[1] = 0x01;
        assert_eq!(
            TpmtPublic::decode(&rsa).unwrap_err(),
            TpmError::UnsupportedPublicType(TpmAlgId::RSA)
        );
        let mut curve = raw.clone();
        curve[17] = 0x10; // curveID
        assert_eq!(
            TpmtPublic::decode(&curve).unwrap_err(),
            TpmError::UnsupportedCurve(0x0010)
        );
        let mut off_curve = raw.clone();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 1;
        assert!(matches!(
            TpmtPublic::decode(&off_curve),
            Err(TpmError::InvalidKey(_))
        ));
        let mut trailing = raw.clone();
        trailing.push(0);
        assert!(matches!(
            TpmtPublic::decode(&trailing),
            Err(TpmError::TrailingBytes { .. })
        ));
        for len in 0..raw.len() {
            assert!(TpmtPublic::decode(&raw[..len]).is_err());
        }
    }

    #[test]
    fn short_coordinates_are_padded() {
        // Find a key whose x starts with a zero byte, and write it minimally
        // as Go's big.Int.Bytes() does.
        let key = (1u32..20_000)
            .map(|i| {
                let mut scalar = [0u8; 32];
                scalar[28..].copy_from_slice(&i.to_be_bytes());
                SigningKey::from_private_scalar(Curve::P256, &scalar)
                    .unwrap()
                    .verifying_key()
            })
            .find(|k| k.sec1_point()[1] == 0)
            .unwrap();
        let point = key.sec1_point();
        let mut w = Writer::new();
        w.u16(0x0023).u16(0x000b).u32(0x0004_0072).u16(0);
        w.u16(0x0010)
            .u16(0x0018)
            .u16(0x000b)
            .u16(0x0003)
            .u16(0x0010);
        w.tpm2b("x", strip_leading_zeros(&point[1..33])).unwrap();
        w.tpm2b("y", &point[33..]).unwrap();
        let p = TpmtPublic::decode(&w.into_bytes()).unwrap();
        assert_eq!(p.key(), &key);
    }

    #[test]
    fn encodes_every_curve() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let key = SigningKey::generate(curve).unwrap().verifying_key();
            let template = EccPublicTemplate {
                name_alg: TpmAlgId::SHA256,
                attributes: ObjectAttributes::FIXED_TPM
                    .union(ObjectAttributes::SENSITIVE_DATA_ORIGIN)
                    .union(ObjectAttributes::SIGN),
                auth_policy: vec![],
                scheme: Scheme {
                    alg: TpmAlgId::ECDSA,
                    hash: Some(TpmAlgId::SHA384),
                    count: None,
                },
            };
            let p = TpmtPublic::encode_ecc(&key, &template).unwrap();
            assert_eq!(p.key(), &key);
            assert_eq!(TpmtPublic::decode(p.raw()).unwrap(), p);
            assert_eq!(p.scheme(), template.scheme);
        }
    }
}
