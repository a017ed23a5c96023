//! The CCA token: the collection of a platform and a realm COSE_Sign1, and
//! the three verification steps (platform signature, realm signature,
//! platform/realm binding).

use minicbor::Decoder;
use minicbor::data::Type;
use vouch_cose::{CoseError, Sign1};
use vouch_crypto::{Algorithm, VerifyingKey};

use crate::cbor::{self, describe_minicbor};
use crate::platform::RawPlatform;
use crate::realm::{REALM_CHALLENGE_LEN, RawRealm};
use crate::{CcaError, PlatformClaims, RealmClaims, keys};

/// How the two tokens are wrapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Framing {
    /// The original EAT collection: tag 399 `{44234: bstr, 44241: bstr}`.
    EatCollection,
    /// The CMW collection (draft-ietf-rats-msg-wrap): tag 907 `{44234:
    /// [type, bstr], 44241: [type, bstr]}`, which current ccatoken emits.
    #[default]
    CmwCollection,
}

impl Framing {
    /// The CBOR tag of the framing.
    pub fn tag(self) -> u64 {
        match self {
            Self::EatCollection => keys::TAG_EAT_COLLECTION,
            Self::CmwCollection => keys::TAG_CMW_COLLECTION,
        }
    }
}

/// The type of a CMW collection entry (its first element).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CmwType {
    /// A CoAP Content-Format number (Veraison's tokens use 263).
    ContentFormat(u64),
    /// A media type.
    MediaType(String),
}

/// A decoded CCA attestation token whose claims passed validation; its
/// signatures and binding have not been checked yet (see
/// [`CcaToken::verify`] and the individual steps).
#[derive(Clone, Debug)]
pub struct CcaToken {
    framing: Framing,
    platform_type: Option<CmwType>,
    realm_type: Option<CmwType>,
    platform_token: Vec<u8>,
    realm_token: Vec<u8>,
    platform_sign1: Sign1,
    realm_sign1: Sign1,
    platform: PlatformClaims,
    realm: RealmClaims,
}

/// One collection entry as found.
struct Entry<'a> {
    ty: Option<CmwType>,
    token: &'a [u8],
}

fn collection_err(msg: impl Into<String>) -> CcaError {
    CcaError::Collection(msg.into())
}

/// Reads a collection entry's value: a bstr (tag 399) or a CMW record
/// `[type, bstr, ?indicator]` (tag 907). `None` for `null`, which Go decodes
/// as an absent token.
fn entry<'a>(
    d: &mut Decoder<'a>,
    framing: Framing,
    key: i64,
) -> Result<Option<Entry<'a>>, CcaError> {
    // Check the whole value first (definite lengths, depth), so the reads
    // below cannot run past it.
    let value = cbor::item(d, 2).map_err(collection_err)?;
    let mut v = Decoder::new(value);
    if cbor::is_nil(&v) {
        return Ok(None);
    }
    let found = |v: &Decoder<'_>| cbor::type_name_at(v);
    match framing {
        Framing::EatCollection => {
            let token = cbor::read_bytes(&mut v).ok_or_else(|| {
                collection_err(format!(
                    "entry {key}: expected a byte string, found {}",
                    found(&v)
                ))
            })?;
            Ok(Some(Entry { ty: None, token }))
        }
        Framing::CmwCollection => {
            let n = match v.datatype() {
                Ok(Type::Array) => v.array().ok().flatten().unwrap_or_default(),
                _ => {
                    return Err(collection_err(format!(
                        "entry {key}: expected a CMW record [type, bstr], found {}",
                        found(&v)
                    )));
                }
            };
            if !(2..=3).contains(&n) {
                return Err(collection_err(format!(
                    "entry {key}: a CMW record has 2 or 3 elements, found {n}"
                )));
            }
            let ty = if let Some(format) = cbor::integer(&mut v) {
                CmwType::ContentFormat(u64::try_from(format).map_err(|_| {
                    collection_err(format!("entry {key}: content format {format} is negative"))
                })?)
            } else if let Some(text) = cbor::read_text(&mut v) {
                CmwType::MediaType(text.to_owned())
            } else {
                return Err(collection_err(format!(
                    "entry {key}: CMW record type: expected an unsigned integer or a text \
                     string, found {}",
                    found(&v)
                )));
            };
            let token = cbor::read_bytes(&mut v).ok_or_else(|| {
                collection_err(format!(
                    "entry {key}: CMW record value: expected a byte string, found {}",
                    found(&v)
                ))
            })?;
            if n == 3 && cbor::integer(&mut v).is_none_or(|ind| ind < 0) {
                return Err(collection_err(format!(
                    "entry {key}: CMW record indicator: expected an unsigned integer, found {}",
                    found(&v)
                )));
            }
            Ok(Some(Entry {
                ty: Some(ty),
                token,
            }))
        }
    }
}

/// Splits a collection into its framing and its two entries.
fn decode_collection(
    bytes: &[u8],
) -> Result<(Framing, Option<Entry<'_>>, Option<Entry<'_>>), CcaError> {
    if bytes.is_empty() {
        return Err(collection_err("EOF"));
    }
    let mut d = Decoder::new(bytes);
    if d.datatype()
        .map_err(|e| collection_err(describe_minicbor(&e)))?
        != Type::Tag
    {
        return Err(collection_err(format!(
            "expected a CBOR tag ({} or {}), found {}",
            keys::TAG_CMW_COLLECTION,
            keys::TAG_EAT_COLLECTION,
            cbor::type_name_at(&d)
        )));
    }
    let tag = d
        .tag()
        .map_err(|e| collection_err(describe_minicbor(&e)))?
        .as_u64();
    let framing = match tag {
        keys::TAG_EAT_COLLECTION => Framing::EatCollection,
        keys::TAG_CMW_COLLECTION => Framing::CmwCollection,
        other => {
            return Err(collection_err(format!(
                "cbor: wrong tag number for a CCA collection, got [{other}], expected [{}] or [{}]",
                keys::TAG_CMW_COLLECTION,
                keys::TAG_EAT_COLLECTION
            )));
        }
    };
    let n = match d
        .datatype()
        .map_err(|e| collection_err(describe_minicbor(&e)))?
    {
        Type::Map => cbor::definite(d.map().map_err(|e| collection_err(describe_minicbor(&e)))?)
            .map_err(collection_err)?,
        Type::MapIndef => {
            return Err(collection_err("indefinite-length map is not allowed"));
        }
        _ => {
            return Err(collection_err(format!(
                "tag {tag} must wrap a map, found {}",
                cbor::type_name_at(&d)
            )));
        }
    };
    let mut platform = None;
    let mut realm = None;
    let (mut seen_platform, mut seen_realm) = (false, false);
    for _ in 0..n {
        let key = cbor::integer(&mut d);
        let (seen, slot, k) = match key {
            Some(k) if k == i128::from(keys::PLATFORM_TOKEN) => {
                (&mut seen_platform, &mut platform, keys::PLATFORM_TOKEN)
            }
            Some(k) if k == i128::from(keys::REALM_TOKEN) => {
                (&mut seen_realm, &mut realm, keys::REALM_TOKEN)
            }
            _ => {
                // Other entries are ignored, as ccatoken does.
                if key.is_none() {
                    cbor::skip(&mut d, 2).map_err(collection_err)?;
                }
                cbor::skip(&mut d, 2).map_err(collection_err)?;
                continue;
            }
        };
        if *seen {
            return Err(collection_err(format!("duplicate entry {k}")));
        }
        *seen = true;
        *slot = entry(&mut d, framing, k)?;
    }
    cbor::expect_end(&d).map_err(collection_err)?;
    Ok((framing, platform, realm))
}

/// Decodes a COSE_Sign1_Tagged, in ccatoken's wording.
fn decode_sign1(bytes: &[u8], err: fn(String) -> CcaError) -> Result<Sign1, CcaError> {
    let sign1 = Sign1::decode(bytes).map_err(|e| {
        err(match e {
            CoseError::Decode(detail) => detail,
            CoseError::ProtectedHeader(detail) => format!("protected header: {detail}"),
            CoseError::UnprotectedHeader(detail) => format!("unprotected header: {detail}"),
            other => other.to_string(),
        })
    })?;
    // The CCA token's CDDL (and go-cose's Sign1Message) require the tag.
    if !sign1.is_tagged() {
        return Err(err(
            "invalid COSE_Sign1_Tagged object: missing tag 18".to_owned()
        ));
    }
    Ok(sign1)
}

impl CcaToken {
    /// Decodes a CCA token in either framing (tag 399 or tag 907), decodes
    /// both claims-sets and validates them, as ccatoken's
    /// `DecodeAndValidateEvidenceFromCBOR` does. Signatures and the binding
    /// are not checked: see [`CcaToken::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CcaError> {
        let (framing, platform, realm) = decode_collection(bytes)?;
        let platform = platform.ok_or(CcaError::PlatformTokenNotSet)?;
        let realm = realm.ok_or(CcaError::RealmTokenNotSet)?;

        let platform_sign1 = decode_sign1(platform.token, CcaError::PlatformEnvelope)?;
        // A detached (nil) payload has no claims: decoding them reports EOF.
        let raw_platform = RawPlatform::decode(platform_sign1.payload().unwrap_or_default())?;
        let realm_sign1 = decode_sign1(realm.token, CcaError::RealmEnvelope)?;
        let raw_realm = RawRealm::decode(realm_sign1.payload().unwrap_or_default())?;

        let platform_claims = raw_platform.validate()?;
        let realm_claims = raw_realm.validate()?;
        Ok(Self {
            framing,
            platform_type: platform.ty,
            realm_type: realm.ty,
            platform_token: platform.token.to_vec(),
            realm_token: realm.token.to_vec(),
            platform_sign1,
            realm_sign1,
            platform: platform_claims,
            realm: realm_claims,
        })
    }

    /// How the tokens were wrapped.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The CMW types of the platform and realm entries (tag 907 only).
    pub fn cmw_types(&self) -> Option<(&CmwType, &CmwType)> {
        self.platform_type.as_ref().zip(self.realm_type.as_ref())
    }

    /// The validated platform claims.
    pub fn platform_claims(&self) -> &PlatformClaims {
        &self.platform
    }

    /// The validated realm claims.
    pub fn realm_claims(&self) -> &RealmClaims {
        &self.realm
    }

    /// The realm challenge: the session nonce zero-padded to 64 bytes (see
    /// [`crate::realm_challenge_for_nonce`]), or for Parsec CCA the SHA-512
    /// of the key attestation token.
    pub fn realm_challenge(&self) -> &[u8; REALM_CHALLENGE_LEN] {
        &self.realm.challenge
    }

    /// The platform token (a COSE_Sign1_Tagged) exactly as carried.
    pub fn platform_token(&self) -> &[u8] {
        &self.platform_token
    }

    /// The realm token (a COSE_Sign1_Tagged) exactly as carried.
    pub fn realm_token(&self) -> &[u8] {
        &self.realm_token
    }

    /// The decoded platform COSE_Sign1.
    pub fn platform_sign1(&self) -> &Sign1 {
        &self.platform_sign1
    }

    /// The decoded realm COSE_Sign1.
    pub fn realm_sign1(&self) -> &Sign1 {
        &self.realm_sign1
    }

    /// The platform token's signature algorithm.
    pub fn platform_algorithm(&self) -> Result<Algorithm, CoseError> {
        self.platform_sign1.algorithm()
    }

    /// The realm token's signature algorithm.
    pub fn realm_algorithm(&self) -> Result<Algorithm, CoseError> {
        self.realm_sign1.algorithm()
    }

    /// Checks the platform token's signature with the CPAK. The token's
    /// algorithm must go with the key's curve (ES256/P-256, ES384/P-384,
    /// ES512/P-521). Fails with [`CcaError::PlatformSignature`].
    pub fn verify_platform(&self, cpak: &VerifyingKey) -> Result<(), CcaError> {
        self.platform_sign1
            .verify(cpak)
            .map_err(CcaError::PlatformSignature)
    }

    /// Checks the realm token's signature with the RAK its own claims carry.
    /// This proves only that the realm token is self-consistent; it is
    /// [`CcaToken::verify_binding`] that ties the RAK to the platform. Fails
    /// with [`CcaError::RealmSignature`].
    pub fn verify_realm(&self) -> Result<(), CcaError> {
        self.realm_sign1
            .verify(self.realm.public_key.key())
            .map_err(CcaError::RealmSignature)
    }

    /// Checks that the platform challenge is the hash (with the realm's
    /// `public-key-hash-algo-id`) of the RAK claim bytes exactly as carried.
    /// Fails with [`CcaError::Binding`], or
    /// [`CcaError::UnsupportedBindingHash`] for an algorithm other than
    /// sha-224, sha-256, sha-384 and sha-512.
    pub fn verify_binding(&self) -> Result<(), CcaError> {
        let expected = self.realm.rak_digest()?;
        let found = self.platform.challenge.as_bytes();
        if expected == found {
            Ok(())
        } else {
            Err(CcaError::Binding {
                hash: self.realm.public_key_hash_algo_id.clone(),
                expected: hex::encode(&expected),
                found: hex::encode(found),
            })
        }
    }

    /// All three steps, in ccatoken's order: platform signature (CPAK),
    /// realm signature (RAK), binding. The error variant says which failed.
    pub fn verify(&self, cpak: &VerifyingKey) -> Result<(), CcaError> {
        self.verify_platform(cpak)?;
        self.verify_realm()?;
        self.verify_binding()
    }
}

/// The realm challenge a session nonce stands for: the nonce zero-padded to
/// 64 bytes (as Veraison compares them). Fails with [`CcaError::NonceTooLong`]
/// for a nonce over 64 bytes.
pub fn realm_challenge_for_nonce(nonce: &[u8]) -> Result<[u8; REALM_CHALLENGE_LEN], CcaError> {
    let mut challenge = [0u8; REALM_CHALLENGE_LEN];
    challenge
        .get_mut(..nonce.len())
        .ok_or(CcaError::NonceTooLong(nonce.len()))?
        .copy_from_slice(nonce);
    Ok(challenge)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::cbor::Writer;

    #[test]
    fn pads_nonces() {
        let c = realm_challenge_for_nonce(&[1, 2, 3]).unwrap();
        assert_eq!(&c[..3], &[1, 2, 3]);
        assert!(c[3..].iter().all(|b| *b == 0));
        assert_eq!(realm_challenge_for_nonce(&[9; 64]).unwrap(), [9; 64]);
        assert!(matches!(
            realm_challenge_for_nonce(&[0; 65]),
            Err(CcaError::NonceTooLong(65))
        ));
    }

    fn err(bytes: &[u8]) -> String {
        CcaToken::decode(bytes).unwrap_err().to_string()
    }

    #[test]
    fn collection_shapes() {
        assert_eq!(err(&[]), "CBOR decoding of CCA evidence failed: EOF");
        assert!(err(&[0xa0]).contains("expected a CBOR tag"));
        assert!(err(&[0xd2, 0x80]).contains("got [18]"));
        assert!(err(&[0xd9, 0x03, 0x8b, 0x80]).contains("must wrap a map"));
        assert!(err(&[0xd9, 0x03, 0x8b, 0xbf, 0xff]).contains("indefinite"));
        assert_eq!(err(&[0xd9, 0x03, 0x8b, 0xa0]), "CCA platform token not set");
        assert_eq!(err(&[0xd9, 0x01, 0x8f, 0xa0]), "CCA platform token not set");
        // Trailing bytes.
        assert!(err(&[0xd9, 0x01, 0x8f, 0xa0, 0x00]).contains("extraneous"));

        let mut w = Writer::new();
        w.tag(399)
            .map(2)
            .int(44234)
            .bytes(&[0xa0])
            .int(44234)
            .bytes(&[0xa0]);
        assert!(err(&w.into_inner()).contains("duplicate entry 44234"));

        // Null entries count as absent; unknown keys are ignored.
        let mut w = Writer::new();
        w.tag(399).map(3).int(1).text("x").int(44234).bytes(&[0xa0]);
        w.int(44241);
        let mut bytes = w.into_inner();
        bytes.push(0xf6);
        assert_eq!(err(&bytes), "CCA realm token not set");

        // CMW records.
        let mut w = Writer::new();
        w.tag(907).map(1).int(44234).array(1).uint(263);
        assert!(err(&w.into_inner()).contains("2 or 3 elements, found 1"));
        let mut w = Writer::new();
        w.tag(907).map(1).int(44234).array(2).int(-1).bytes(&[]);
        assert!(err(&w.into_inner()).contains("negative"));
        let mut w = Writer::new();
        w.tag(907).map(1).int(44234).array(2).bytes(&[]).bytes(&[]);
        assert!(err(&w.into_inner()).contains("CMW record type"));
        let mut w = Writer::new();
        w.tag(907)
            .map(1)
            .int(44234)
            .array(3)
            .uint(263)
            .bytes(&[])
            .text("x");
        assert!(err(&w.into_inner()).contains("indicator"));
        let mut w = Writer::new();
        w.tag(907).map(1).int(44234).bytes(&[]);
        assert!(err(&w.into_inner()).contains("expected a CMW record"));
        // An EAT-collection entry that is not a byte string.
        let mut w = Writer::new();
        w.tag(399).map(1).int(44234).array(0);
        assert!(err(&w.into_inner()).contains("entry 44234: expected a byte string, found array"));
    }

    #[test]
    fn envelopes_must_be_tagged_sign1() {
        // A well-formed but untagged COSE_Sign1 with an empty-map payload.
        let untagged = [0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x41, 0xa0, 0x40];
        let mut w = Writer::new();
        w.tag(399)
            .map(2)
            .int(44234)
            .bytes(&untagged)
            .int(44241)
            .bytes(&untagged);
        let e = CcaToken::decode(&w.into_inner()).unwrap_err();
        assert!(matches!(e, CcaError::PlatformEnvelope(_)), "{e}");
        assert!(e.to_string().contains("missing tag 18"));
    }
}
