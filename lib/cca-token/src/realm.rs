//! The CCA realm claims-set: decoding, validation, encoding, and the realm
//! attestation key (RAK) it carries.
//!
//! The rules mirror Veraison's ccatoken (`realm/claims.go`,
//! `realm/common.go`): every claim but the profile is mandatory; the
//! challenge and personalization value are 64 bytes; the initial and
//! extensible measurements are 32, 48 or 64 bytes each, whatever the realm
//! hash algorithm says (Veraison's own test tokens carry 64-byte measurements
//! with `sha-256`); the RAK is a COSE_Key when the profile claim is present
//! and a raw uncompressed P-384 point (legacy TF-RMM) when it is absent.

use minicbor::Decoder;
use minicbor::data::Type;
use sha2::Digest as _;
use vouch_crypto::{Curve, VerifyingKey};

use crate::cbor::{self, Writer};
use crate::platform::eat_nonce;
use crate::{CcaError, Measurement, keys};

/// The realm profile name (claim 265, optional).
pub const REALM_PROFILE: &str = "tag:arm.com,2023:realm#1.0.0";
/// Length of the realm challenge.
pub const REALM_CHALLENGE_LEN: usize = 64;
/// Length of the realm personalization value.
pub const PERSONALIZATION_VALUE_LEN: usize = 64;
/// Number of realm extensible measurements (REM0..REM3).
pub const REM_COUNT: usize = 4;
/// Length of a raw (legacy) RAK: an uncompressed P-384 point.
pub const RAW_RAK_LEN: usize = 97;

const MISSING_CLAIM: &str = "missing mandatory claim";

/// How the RAK is carried in claim 44237.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RakForm {
    /// A CBOR-encoded EC2 COSE_Key (tokens with the realm profile claim).
    CoseKey,
    /// A raw uncompressed P-384 point `0x04 || X || Y` (legacy TF-RMM tokens,
    /// which carry no realm profile).
    Raw,
}

/// The realm attestation key (claim 44237): the bytes exactly as carried
/// (the platform challenge is their hash) and the key they encode.
#[derive(Clone, Debug)]
pub struct RealmPublicKey {
    bytes: Vec<u8>,
    form: RakForm,
    key: VerifyingKey,
}

impl PartialEq for RealmPublicKey {
    fn eq(&self, other: &Self) -> bool {
        // The key is a function of the bytes and the form.
        self.bytes == other.bytes && self.form == other.form
    }
}

impl Eq for RealmPublicKey {}

impl RealmPublicKey {
    /// Reads an EC2 COSE_Key (P-256, P-384 or P-521).
    pub fn from_cose_key(bytes: &[u8]) -> Result<Self, CcaError> {
        let key = vouch_cose::key_from_cose_key(bytes).map_err(|e| {
            CcaError::RealmPublicKey(format!(
                "checking realm public key is a CBOR-encoded COSE_Key: {e}"
            ))
        })?;
        Ok(Self {
            bytes: bytes.to_vec(),
            form: RakForm::CoseKey,
            key,
        })
    }

    /// Reads a raw uncompressed P-384 point (97 bytes).
    pub fn from_raw(bytes: &[u8]) -> Result<Self, CcaError> {
        if bytes.len() != RAW_RAK_LEN {
            return Err(CcaError::RealmPublicKey(format!(
                "length {} (realm public key MUST be {RAW_RAK_LEN} bytes)",
                bytes.len()
            )));
        }
        let key = VerifyingKey::from_sec1_point(Curve::P384, bytes).map_err(|e| {
            CcaError::RealmPublicKey(format!(
                "checking raw public key coordinates are on curve P-384: {e}"
            ))
        })?;
        Ok(Self {
            bytes: bytes.to_vec(),
            form: RakForm::Raw,
            key,
        })
    }

    /// Carries `key` as a canonical COSE_Key (`{1: 2, -1: crv, -2: x, -3:
    /// y}`).
    pub fn cose_key(key: &VerifyingKey) -> Self {
        Self {
            bytes: vouch_cose::cose_key_bytes(key),
            form: RakForm::CoseKey,
            key: key.clone(),
        }
    }

    /// Carries a P-384 `key` as a raw point (legacy form).
    pub fn raw(key: &VerifyingKey) -> Result<Self, CcaError> {
        if key.curve() != Curve::P384 {
            return Err(CcaError::RealmPublicKey(format!(
                "a raw realm public key must be on P-384, not {}",
                key.curve()
            )));
        }
        Ok(Self {
            bytes: key.sec1_point().to_vec(),
            form: RakForm::Raw,
            key: key.clone(),
        })
    }

    /// The claim's bytes exactly as carried.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How the key is carried.
    pub fn form(&self) -> RakForm {
        self.form
    }

    /// The key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// The hash algorithms the RAK binding can be computed with (ccatoken's
/// `hashStringToID`).
pub(crate) fn binding_digest(alg: &str, data: &[u8]) -> Result<Vec<u8>, CcaError> {
    Ok(match alg {
        "sha-224" => sha2::Sha224::digest(data).to_vec(),
        "sha-256" => sha2::Sha256::digest(data).to_vec(),
        "sha-384" => sha2::Sha384::digest(data).to_vec(),
        "sha-512" => sha2::Sha512::digest(data).to_vec(),
        other => return Err(CcaError::UnsupportedBindingHash(other.to_owned())),
    })
}

/// A validated CCA realm claims-set.
///
/// [`RealmClaims::decode`], [`RealmClaims::from_json`] and
/// [`crate::CcaToken::decode`] only return claims that passed ccatoken's
/// checks; [`RealmClaims::validate`] re-checks hand-made ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealmClaims {
    /// `profile` (265): [`REALM_PROFILE`] or absent (legacy tokens).
    pub profile: Option<String>,
    /// `challenge` (10): the session nonce, or for Parsec CCA the SHA-512 of
    /// the key attestation token.
    pub challenge: [u8; REALM_CHALLENGE_LEN],
    /// `personalization-value` (44235), the RPV.
    pub personalization_value: [u8; PERSONALIZATION_VALUE_LEN],
    /// `initial-measurement` (44238), the RIM.
    pub initial_measurement: Measurement,
    /// `extensible-measurements` (44239), REM0..REM3.
    pub extensible_measurements: [Measurement; REM_COUNT],
    /// `hash-algo-id` (44236): the algorithm of the measurements.
    pub hash_algo_id: String,
    /// `public-key` (44237), the RAK.
    pub public_key: RealmPublicKey,
    /// `public-key-hash-algo-id` (44240): the algorithm of the platform
    /// challenge that binds this realm token to its platform token.
    pub public_key_hash_algo_id: String,
}

impl RealmClaims {
    /// Decodes and validates an unsigned realm claims-set (the realm token's
    /// COSE payload).
    pub fn decode(bytes: &[u8]) -> Result<Self, CcaError> {
        RawRealm::decode(bytes)?.validate()
    }

    /// Checks hand-made claims against the rules decoding applies.
    pub fn validate(&self) -> Result<(), CcaError> {
        RawRealm::from_claims(self).validate().map(drop)
    }

    /// The hash of the RAK claim bytes with the RAK hash algorithm: what the
    /// platform challenge must be.
    pub fn rak_digest(&self) -> Result<Vec<u8>, CcaError> {
        binding_digest(&self.public_key_hash_algo_id, self.public_key.bytes())
    }

    /// Encodes the claims-set as a CBOR map, keys in ccatoken's order (265,
    /// 10, 44235, 44238, 44239, 44236, 44237, 44240). It does not validate:
    /// see [`RealmClaims::validate`].
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.map(7 + usize::from(self.profile.is_some()));
        if let Some(p) = &self.profile {
            w.int(keys::realm::PROFILE).text(p);
        }
        w.int(keys::realm::CHALLENGE).bytes(&self.challenge);
        w.int(keys::realm::PERSONALIZATION_VALUE)
            .bytes(&self.personalization_value);
        w.int(keys::realm::INITIAL_MEASUREMENT)
            .bytes(&self.initial_measurement);
        w.int(keys::realm::EXTENSIBLE_MEASUREMENTS).array(REM_COUNT);
        for rem in &self.extensible_measurements {
            w.bytes(rem);
        }
        w.int(keys::realm::HASH_ALGO_ID).text(&self.hash_algo_id);
        w.int(keys::realm::PUBLIC_KEY)
            .bytes(self.public_key.bytes());
        w.int(keys::realm::PUBLIC_KEY_HASH_ALGO_ID)
            .text(&self.public_key_hash_algo_id);
        w.into_inner()
    }
}

// ------------------------------------------------------------------ decoding

fn decode_err(msg: impl Into<String>) -> CcaError {
    CcaError::RealmClaimsDecode(msg.into())
}

/// Claim values as found, before validation.
#[derive(Debug, Default)]
pub(crate) struct RawRealm {
    pub(crate) profile: Option<String>,
    pub(crate) nonces: Option<Vec<Vec<u8>>>,
    pub(crate) personalization_value: Option<Vec<u8>>,
    pub(crate) initial_measurement: Option<Vec<u8>>,
    pub(crate) extensible_measurements: Option<Vec<Vec<u8>>>,
    pub(crate) hash_algo_id: Option<String>,
    pub(crate) public_key: Option<Vec<u8>>,
    pub(crate) public_key_hash_algo_id: Option<String>,
}

const KNOWN: [i64; 8] = [
    keys::realm::PROFILE,
    keys::realm::CHALLENGE,
    keys::realm::PERSONALIZATION_VALUE,
    keys::realm::INITIAL_MEASUREMENT,
    keys::realm::EXTENSIBLE_MEASUREMENTS,
    keys::realm::HASH_ALGO_ID,
    keys::realm::PUBLIC_KEY,
    keys::realm::PUBLIC_KEY_HASH_ALGO_ID,
];

fn type_err(d: &Decoder<'_>, name: &str, key: i64, expected: &str) -> CcaError {
    decode_err(cbor::claim_type_error(d, name, key, expected))
}

fn rems(value: Option<&[u8]>) -> Result<Option<Vec<Vec<u8>>>, CcaError> {
    let key = keys::realm::EXTENSIBLE_MEASUREMENTS;
    let name = "extensible-measurements";
    let Some(value) = value else { return Ok(None) };
    let mut d = Decoder::new(value);
    if d.datatype().ok() != Some(Type::Array) {
        return Err(type_err(&d, name, key, "an array"));
    }
    let n = d.array().ok().flatten().unwrap_or_default();
    let mut out = Vec::new();
    for _ in 0..n {
        let item =
            cbor::read_bytes(&mut d).ok_or_else(|| type_err(&d, name, key, "byte strings"))?;
        out.push(item.to_vec());
    }
    Ok(Some(out))
}

fn measurement_reason(len: usize) -> String {
    format!("wrong syntax: length {len} (realm measurement MUST be 32, 48 or 64 bytes)")
}

impl RawRealm {
    /// Decodes the claims map without validating it.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, CcaError> {
        let [profile, challenge, rpv, rim, rem, hash, rak, rak_hash] =
            cbor::locate(bytes, &KNOWN).map_err(decode_err)?;
        Ok(Self {
            profile: cbor::text_claim(profile, "profile", keys::realm::PROFILE)
                .map_err(decode_err)?,
            nonces: eat_nonce(challenge, keys::realm::CHALLENGE, decode_err)?,
            personalization_value: cbor::bytes_claim(
                rpv,
                "personalization-value",
                keys::realm::PERSONALIZATION_VALUE,
            )
            .map_err(decode_err)?,
            initial_measurement: cbor::bytes_claim(
                rim,
                "initial-measurement",
                keys::realm::INITIAL_MEASUREMENT,
            )
            .map_err(decode_err)?,
            extensible_measurements: rems(rem)?,
            hash_algo_id: cbor::text_claim(hash, "hash-algo-id", keys::realm::HASH_ALGO_ID)
                .map_err(decode_err)?,
            public_key: cbor::bytes_claim(rak, "public-key", keys::realm::PUBLIC_KEY)
                .map_err(decode_err)?,
            public_key_hash_algo_id: cbor::text_claim(
                rak_hash,
                "public-key-hash-algo-id",
                keys::realm::PUBLIC_KEY_HASH_ALGO_ID,
            )
            .map_err(decode_err)?,
        })
    }

    fn from_claims(c: &RealmClaims) -> Self {
        Self {
            profile: c.profile.clone(),
            nonces: Some(vec![c.challenge.to_vec()]),
            personalization_value: Some(c.personalization_value.to_vec()),
            initial_measurement: Some(c.initial_measurement.to_vec()),
            extensible_measurements: Some(
                c.extensible_measurements
                    .iter()
                    .map(|m| m.to_vec())
                    .collect(),
            ),
            hash_algo_id: Some(c.hash_algo_id.clone()),
            public_key: Some(c.public_key.bytes().to_vec()),
            public_key_hash_algo_id: Some(c.public_key_hash_algo_id.clone()),
        }
    }

    /// Applies ccatoken's realm `ValidateClaims`, in its order (after the
    /// profile, which decides how the RAK is read), and builds the typed
    /// claims.
    pub(crate) fn validate(self) -> Result<RealmClaims, CcaError> {
        fn invalid(claim: &'static str, reason: impl Into<String>) -> CcaError {
            CcaError::realm_invalid(claim, reason)
        }

        if let Some(p) = &self.profile
            && p != REALM_PROFILE
        {
            return Err(invalid(
                "realm profile claim",
                format!("wrong profile: expecting {REALM_PROFILE:?}, got {p:?}"),
            ));
        }

        let claim = "realm challenge claim";
        let nonces = self.nonces.ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        let [nonce]: [Vec<u8>; 1] = nonces.try_into().map_err(|n: Vec<Vec<u8>>| {
            invalid(
                claim,
                format!("wrong syntax: got {} nonces, want 1", n.len()),
            )
        })?;
        let challenge: [u8; REALM_CHALLENGE_LEN] = nonce.as_slice().try_into().map_err(|_| {
            invalid(
                claim,
                format!(
                    "wrong syntax: length {} (hash MUST be {REALM_CHALLENGE_LEN} bytes)",
                    nonce.len()
                ),
            )
        })?;

        let claim = "realm personalization value claim";
        let rpv = self
            .personalization_value
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        let personalization_value: [u8; PERSONALIZATION_VALUE_LEN] =
            rpv.as_slice().try_into().map_err(|_| {
                invalid(
                    claim,
                    format!(
                        "wrong syntax: length {} (personalization value MUST be \
                         {PERSONALIZATION_VALUE_LEN} bytes)",
                        rpv.len()
                    ),
                )
            })?;

        let claim = "realm initial measurements claim";
        let rim = self
            .initial_measurement
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        let len = rim.len();
        let initial_measurement =
            Measurement::new(rim).ok_or_else(|| invalid(claim, measurement_reason(len)))?;

        let claim = "realm extended measurements claim";
        let raw_rems = self
            .extensible_measurements
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        if raw_rems.is_empty() {
            return Err(invalid(
                claim,
                format!("{MISSING_CLAIM} realm extended measurements"),
            ));
        }
        let mut measured = Vec::with_capacity(REM_COUNT);
        for (i, rem) in raw_rems.into_iter().enumerate() {
            let len = rem.len();
            measured.push(Measurement::new(rem).ok_or_else(|| {
                invalid(
                    claim,
                    format!(
                        "incorrect realm extended measurement at index {i}: {}",
                        measurement_reason(len)
                    ),
                )
            })?);
        }
        // The RMM specification (and rust-ccatoken) fix the count at four;
        // Veraison's Go library only requires at least one.
        let extensible_measurements: [Measurement; REM_COUNT] =
            measured.try_into().map_err(|m: Vec<Measurement>| {
                invalid(
                    claim,
                    format!(
                        "wrong syntax: got {} extensible measurements, want {REM_COUNT}",
                        m.len()
                    ),
                )
            })?;

        let claim = "realm hash alg ID claim";
        let hash_algo_id = self
            .hash_algo_id
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        if hash_algo_id.is_empty() {
            return Err(invalid(claim, "wrong syntax: empty string"));
        }

        let claim = "realm public key claim";
        let rak = self
            .public_key
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        let public_key = if self.profile.is_some() {
            RealmPublicKey::from_cose_key(&rak)
        } else {
            RealmPublicKey::from_raw(&rak)
        }
        .map_err(|e| match e {
            CcaError::RealmPublicKey(reason) => invalid(claim, format!("wrong syntax: {reason}")),
            other => other,
        })?;

        let public_key_hash_algo_id = self
            .public_key_hash_algo_id
            .ok_or_else(|| invalid("realm public key hash alg ID claim", MISSING_CLAIM))?;

        Ok(RealmClaims {
            profile: self.profile,
            challenge,
            personalization_value,
            initial_measurement,
            extensible_measurements,
            hash_algo_id,
            public_key,
            public_key_hash_algo_id,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use vouch_crypto::SigningKey;

    use super::*;

    fn m(b: u8, len: usize) -> Measurement {
        Measurement::new(vec![b; len]).unwrap()
    }

    fn sample(rak: &VerifyingKey) -> RealmClaims {
        RealmClaims {
            profile: Some(REALM_PROFILE.into()),
            challenge: [0x41; 64],
            personalization_value: [0x44; 64],
            initial_measurement: m(0x43, 64),
            extensible_measurements: [m(1, 32), m(2, 48), m(3, 64), m(4, 32)],
            hash_algo_id: "sha-256".into(),
            public_key: RealmPublicKey::cose_key(rak),
            public_key_hash_algo_id: "sha-512".into(),
        }
    }

    fn reason(c: &RealmClaims) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn round_trips_both_rak_forms() {
        let rak = SigningKey::generate(Curve::P384).unwrap().verifying_key();
        let claims = sample(&rak);
        assert_eq!(RealmClaims::decode(&claims.to_cbor()).unwrap(), claims);
        let mut legacy = sample(&rak);
        legacy.profile = None;
        legacy.public_key = RealmPublicKey::raw(&rak).unwrap();
        let decoded = RealmClaims::decode(&legacy.to_cbor()).unwrap();
        assert_eq!(decoded, legacy);
        assert_eq!(decoded.public_key.form(), RakForm::Raw);
        assert_eq!(decoded.public_key.key().to_spki_der(), rak.to_spki_der());
        assert_eq!(
            claims.rak_digest().unwrap(),
            sha2::Sha512::digest(claims.public_key.bytes()).to_vec()
        );
    }

    #[test]
    fn rak_form_follows_the_profile() {
        let rak = SigningKey::generate(Curve::P384).unwrap().verifying_key();
        let mut c = sample(&rak);
        c.profile = None;
        assert!(
            reason(&c).contains("validating realm public key claim: wrong syntax: length 107"),
            "{}",
            reason(&c)
        );
        let mut c = sample(&rak);
        c.public_key = RealmPublicKey::raw(&rak).unwrap();
        assert!(
            reason(&c).contains("CBOR-encoded COSE_Key"),
            "{}",
            reason(&c)
        );
        let p256 = SigningKey::generate(Curve::P256).unwrap().verifying_key();
        assert!(RealmPublicKey::raw(&p256).is_err());
        // A COSE_Key on another curve is accepted (ccatoken checks only EC2).
        let c = sample(&p256);
        c.validate().unwrap();
        // Off-curve raw point.
        let mut bad = vec![0x04];
        bad.extend([0x11; 96]);
        assert!(
            RealmPublicKey::from_raw(&bad)
                .unwrap_err()
                .to_string()
                .contains("P-384")
        );
    }

    #[test]
    fn validation_follows_ccatoken() {
        let rak = SigningKey::generate(Curve::P384).unwrap().verifying_key();
        let mut c = sample(&rak);
        c.profile = Some("tag:arm.com,2023:realm#2.0.0".into());
        assert!(reason(&c).contains("validating realm profile claim: wrong profile"));
        let mut c = sample(&rak);
        c.hash_algo_id = String::new();
        assert!(
            reason(&c).ends_with("validating realm hash alg ID claim: wrong syntax: empty string")
        );
        // Any RAK hash algorithm name decodes; the binding rejects unknown ones.
        let mut c = sample(&rak);
        c.public_key_hash_algo_id = "md5".into();
        c.validate().unwrap();
        assert!(matches!(
            c.rak_digest(),
            Err(CcaError::UnsupportedBindingHash(ref a)) if a == "md5"
        ));
    }

    #[test]
    fn rem_rules() {
        let rak = SigningKey::generate(Curve::P384).unwrap().verifying_key();
        let base = sample(&rak).to_cbor();
        let rebuild = |rems: &[&[u8]]| {
            let mut raw = RawRealm::decode(&base).unwrap();
            raw.extensible_measurements = Some(rems.iter().map(|r| r.to_vec()).collect());
            raw.validate().unwrap_err().to_string()
        };
        assert!(rebuild(&[]).ends_with("missing mandatory claim realm extended measurements"));
        let ok = [0u8; 32];
        let e = rebuild(&[&ok, &ok, &[0u8; 31], &ok]);
        assert!(
            e.contains("incorrect realm extended measurement at index 2"),
            "{e}"
        );
        let e = rebuild(&[&ok, &ok, &ok]);
        assert!(e.ends_with("got 3 extensible measurements, want 4"), "{e}");
    }
}
