//! The CCA platform claims-set: decoding, validation and encoding.
//!
//! The rules mirror Veraison's ccatoken (`platform/claims.go`,
//! `platform/iclaims.go`) and the psatoken checks it reuses: which claims are
//! mandatory, their lengths and ranges, the order in which they are checked
//! (the first failure is reported) and the error wording.

use std::fmt;

use minicbor::Decoder;
use minicbor::data::Type;

use crate::cbor::{self, Writer, describe_minicbor};
use crate::measurement::hash_len_reason;
use crate::{CcaError, Measurement, keys};

/// Length of the implementation ID.
pub const IMPLEMENTATION_ID_LEN: usize = 32;
/// Length of the instance ID (a RAND UEID: type byte 0x01 + 32 bytes).
pub const INSTANCE_ID_LEN: usize = 33;

/// Hash algorithm names (IANA "Hash Function Textual Names") that psatoken
/// accepts for the platform `hash-algo-id`.
pub const PLATFORM_HASH_ALGS: [&str; 9] = [
    "md2", "md5", "sha-1", "sha-224", "sha-256", "sha-384", "sha-512", "shake128", "shake256",
];

const MISSING_CLAIM: &str = "missing mandatory claim";
const MISSING_FIELD: &str = "missing mandatory field";

/// The profile of a CCA platform claims-set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlatformProfile {
    /// `http://arm.com/CCA-SSD/1.0.0`: the profile of TF-A/TF-RMM tokens
    /// before the CCA token draft (ccatoken's "legacy" profile), still used
    /// by Veraison's own test tokens.
    CcaSsd,
    /// `tag:arm.com,2023:cca_platform#1.0.0` (draft-ffm-rats-cca-token).
    CcaPlatform,
}

impl PlatformProfile {
    /// The legacy profile name.
    pub const CCA_SSD_NAME: &'static str = "http://arm.com/CCA-SSD/1.0.0";
    /// The current profile name.
    pub const CCA_PLATFORM_NAME: &'static str = "tag:arm.com,2023:cca_platform#1.0.0";

    /// The profile a name denotes.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            Self::CCA_SSD_NAME => Some(Self::CcaSsd),
            Self::CCA_PLATFORM_NAME => Some(Self::CcaPlatform),
            _ => None,
        }
    }

    /// The profile's name, as carried in claim 265.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CcaSsd => Self::CCA_SSD_NAME,
            Self::CcaPlatform => Self::CCA_PLATFORM_NAME,
        }
    }
}

impl fmt::Display for PlatformProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The CCA platform lifecycle state a lifecycle claim value falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LifecycleState {
    /// 0x0000-0x00ff.
    Unknown,
    /// 0x1000-0x10ff.
    AssemblyAndTest,
    /// 0x2000-0x20ff.
    CcaRotProvisioning,
    /// 0x3000-0x30ff.
    Secured,
    /// 0x4000-0x40ff.
    NonCcaPlatformDebug,
    /// 0x5000-0x50ff.
    RecoverableCcaPlatformDebug,
    /// 0x6000-0x60ff.
    Decommissioned,
}

impl LifecycleState {
    /// Maps a raw lifecycle value onto its state; values outside the seven
    /// ranges are invalid.
    pub fn from_raw(value: u16) -> Option<Self> {
        // The state is the high byte; the low byte is implementation-defined.
        match value >> 8 {
            0x00 => Some(Self::Unknown),
            0x10 => Some(Self::AssemblyAndTest),
            0x20 => Some(Self::CcaRotProvisioning),
            0x30 => Some(Self::Secured),
            0x40 => Some(Self::NonCcaPlatformDebug),
            0x50 => Some(Self::RecoverableCcaPlatformDebug),
            0x60 => Some(Self::Decommissioned),
            _ => None,
        }
    }

    /// ccatoken's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::AssemblyAndTest => "assembly-and-test",
            Self::CcaRotProvisioning => "cca-platform-rot-provisioning",
            Self::Secured => "secured",
            Self::NonCcaPlatformDebug => "non-cca-platform-rot-debug",
            Self::RecoverableCcaPlatformDebug => "recoverable-cca-platform-rot-debug",
            Self::Decommissioned => "decommissioned",
        }
    }
}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One platform software component (claim 2399 entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwComponent {
    /// `measurement-type` (1), e.g. "BL", "RMM".
    pub measurement_type: Option<String>,
    /// `measurement-value` (2).
    pub measurement_value: Measurement,
    /// `version` (4).
    pub version: Option<String>,
    /// `signer-id` (5).
    pub signer_id: Measurement,
    /// `hash-algo-id` (6), e.g. "sha-256" (psatoken's
    /// `measurement-description`, the name it has in the JSON view).
    pub hash_algo_id: Option<String>,
}

/// A validated CCA platform claims-set.
///
/// [`PlatformClaims::decode`], [`PlatformClaims::from_json`] and
/// [`crate::CcaToken::decode`] only return claims that passed ccatoken's
/// checks. The fields are public so that minting and appraisal tests can
/// build claims by hand; [`PlatformClaims::validate`] re-checks those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformClaims {
    /// `profile` (265).
    pub profile: PlatformProfile,
    /// `challenge` (10): in a CCA token, the hash of the realm's RAK.
    pub challenge: Measurement,
    /// `implementation-id` (2396).
    pub implementation_id: [u8; IMPLEMENTATION_ID_LEN],
    /// `instance-id` (256): 0x01 followed by 32 bytes.
    pub instance_id: [u8; INSTANCE_ID_LEN],
    /// `config` (2401).
    pub config: Vec<u8>,
    /// `lifecycle` (2395), raw; see [`PlatformClaims::lifecycle_state`].
    pub lifecycle: u16,
    /// `sw-components` (2399): at least one.
    pub sw_components: Vec<SwComponent>,
    /// `verification-service` (2400).
    pub verification_service: Option<String>,
    /// `hash-algo-id` (2402).
    pub hash_algo_id: String,
}

impl PlatformClaims {
    /// Decodes and validates an unsigned platform claims-set (the platform
    /// token's COSE payload).
    pub fn decode(bytes: &[u8]) -> Result<Self, CcaError> {
        RawPlatform::decode(bytes)?.validate()
    }

    /// The lifecycle state of [`PlatformClaims::lifecycle`], `None` when the
    /// value is in none of the seven ranges (decoded claims never are).
    pub fn lifecycle_state(&self) -> Option<LifecycleState> {
        LifecycleState::from_raw(self.lifecycle)
    }

    /// Checks hand-made claims against the rules decoding applies.
    pub fn validate(&self) -> Result<(), CcaError> {
        RawPlatform::from_claims(self).validate().map(drop)
    }

    /// Encodes the claims-set as a CBOR map, keys in ccatoken's order (265,
    /// 10, 2396, 256, 2401, 2395, 2399, 2400, 2402). It does not validate:
    /// see [`PlatformClaims::validate`].
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.map(8 + usize::from(self.verification_service.is_some()));
        w.int(keys::platform::PROFILE).text(self.profile.as_str());
        w.int(keys::platform::CHALLENGE).bytes(&self.challenge);
        w.int(keys::platform::IMPLEMENTATION_ID)
            .bytes(&self.implementation_id);
        w.int(keys::platform::INSTANCE_ID).bytes(&self.instance_id);
        w.int(keys::platform::CONFIG).bytes(&self.config);
        w.int(keys::platform::LIFECYCLE)
            .uint(u64::from(self.lifecycle));
        w.int(keys::platform::SW_COMPONENTS)
            .array(self.sw_components.len());
        for c in &self.sw_components {
            let n = 2
                + usize::from(c.measurement_type.is_some())
                + usize::from(c.version.is_some())
                + usize::from(c.hash_algo_id.is_some());
            w.map(n);
            if let Some(t) = &c.measurement_type {
                w.int(keys::sw::MEASUREMENT_TYPE).text(t);
            }
            w.int(keys::sw::MEASUREMENT_VALUE)
                .bytes(&c.measurement_value);
            if let Some(v) = &c.version {
                w.int(keys::sw::VERSION).text(v);
            }
            w.int(keys::sw::SIGNER_ID).bytes(&c.signer_id);
            if let Some(h) = &c.hash_algo_id {
                w.int(keys::sw::HASH_ALGO_ID).text(h);
            }
        }
        if let Some(vsi) = &self.verification_service {
            w.int(keys::platform::VERIFICATION_SERVICE).text(vsi);
        }
        w.int(keys::platform::HASH_ALGO_ID).text(&self.hash_algo_id);
        w.into_inner()
    }
}

// ------------------------------------------------------------------ decoding

fn decode_err(msg: impl Into<String>) -> CcaError {
    CcaError::PlatformClaimsDecode(msg.into())
}

/// Claim values as found, before validation (owned, so that the CBOR and
/// JSON readers share one validator).
#[derive(Debug, Default)]
pub(crate) struct RawPlatform {
    pub(crate) profile: Option<PlatformProfile>,
    pub(crate) nonces: Option<Vec<Vec<u8>>>,
    pub(crate) implementation_id: Option<Vec<u8>>,
    pub(crate) instance_id: Option<Vec<u8>>,
    pub(crate) config: Option<Vec<u8>>,
    pub(crate) lifecycle: Option<u16>,
    pub(crate) sw_components: Option<Vec<RawSw>>,
    pub(crate) vsi: Option<String>,
    pub(crate) hash_algo_id: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct RawSw {
    pub(crate) measurement_type: Option<String>,
    pub(crate) measurement_value: Option<Vec<u8>>,
    pub(crate) version: Option<String>,
    pub(crate) signer_id: Option<Vec<u8>>,
    pub(crate) hash_algo_id: Option<String>,
}

const KNOWN: [i64; 9] = [
    keys::platform::PROFILE,
    keys::platform::CHALLENGE,
    keys::platform::IMPLEMENTATION_ID,
    keys::platform::INSTANCE_ID,
    keys::platform::CONFIG,
    keys::platform::LIFECYCLE,
    keys::platform::SW_COMPONENTS,
    keys::platform::VERIFICATION_SERVICE,
    keys::platform::HASH_ALGO_ID,
];

fn type_err(d: &Decoder<'_>, name: &str, key: i64, expected: &str) -> CcaError {
    decode_err(cbor::claim_type_error(d, name, key, expected))
}

/// The EAT nonce: one byte string, or an array of them.
pub(crate) fn eat_nonce(
    value: Option<&[u8]>,
    key: i64,
    err: fn(String) -> CcaError,
) -> Result<Option<Vec<Vec<u8>>>, CcaError> {
    let Some(value) = value else { return Ok(None) };
    let mut d = Decoder::new(value);
    if let Some(single) = cbor::read_bytes(&mut d) {
        return Ok(Some(vec![single.to_vec()]));
    }
    let type_error = |d: &Decoder<'_>| {
        err(format!(
            "claim challenge ({key}): expected a byte string or an array of them, found {}",
            cbor::type_name_at(d)
        ))
    };
    if d.datatype().ok() != Some(Type::Array) {
        return Err(type_error(&d));
    }
    let n = d.array().ok().flatten().unwrap_or_default();
    // The map walker has checked the structure, so `n` items are present.
    let mut out = Vec::new();
    for _ in 0..n {
        let item = cbor::read_bytes(&mut d).ok_or_else(|| type_error(&d))?;
        out.push(item.to_vec());
    }
    Ok(Some(out))
}

fn sw_components(value: Option<&[u8]>) -> Result<Option<Vec<RawSw>>, CcaError> {
    let key = keys::platform::SW_COMPONENTS;
    let Some(value) = value else { return Ok(None) };
    let mut d = Decoder::new(value);
    if d.datatype().ok() != Some(Type::Array) {
        return Err(type_err(&d, "sw-components", key, "an array"));
    }
    let n = d.array().ok().flatten().unwrap_or_default();
    let mut out = Vec::new();
    for index in 0..n {
        out.push(sw_component(&mut d, index)?);
    }
    Ok(Some(out))
}

fn sw_component(d: &mut Decoder<'_>, index: u64) -> Result<RawSw, CcaError> {
    let err = |d: &Decoder<'_>, what: &str| {
        decode_err(format!(
            "software component {index}: expected {what}, found {}",
            cbor::type_name_at(d)
        ))
    };
    if d.datatype().ok() != Some(Type::Map) {
        return Err(err(d, "a map"));
    }
    let n = d.map().ok().flatten().unwrap_or_default();
    let mut sw = RawSw::default();
    let mut seen = [false; 7];
    let skip = |d: &mut Decoder<'_>| d.skip().map_err(|e| decode_err(describe_minicbor(&e)));
    for _ in 0..n {
        let key = cbor::integer(d);
        let Some(key) = key.filter(|k| (1..=6).contains(k)) else {
            if key.is_none() {
                skip(d)?;
            }
            skip(d)?;
            continue;
        };
        let idx = usize::try_from(key).unwrap_or_default();
        if let Some(s) = seen.get_mut(idx) {
            if *s {
                return Err(decode_err(format!(
                    "software component {index}: duplicate key {key}"
                )));
            }
            *s = true;
        }
        if cbor::is_nil(d) {
            skip(d)?;
            continue;
        }
        let text = |d: &mut Decoder<'_>| {
            cbor::read_text(d)
                .map(str::to_owned)
                .ok_or_else(|| err(d, "a text string"))
        };
        let bytes = |d: &mut Decoder<'_>| {
            cbor::read_bytes(d)
                .map(<[u8]>::to_vec)
                .ok_or_else(|| err(d, "a byte string"))
        };
        match i64::try_from(key).unwrap_or_default() {
            keys::sw::MEASUREMENT_TYPE => sw.measurement_type = Some(text(d)?),
            keys::sw::MEASUREMENT_VALUE => sw.measurement_value = Some(bytes(d)?),
            keys::sw::VERSION => sw.version = Some(text(d)?),
            keys::sw::SIGNER_ID => sw.signer_id = Some(bytes(d)?),
            keys::sw::HASH_ALGO_ID => sw.hash_algo_id = Some(text(d)?),
            // Key 3 is unused by the CCA (and PSA) token; ccatoken ignores it.
            _ => skip(d)?,
        }
    }
    Ok(sw)
}

impl RawPlatform {
    /// Decodes the claims map without validating it, as ccatoken's
    /// `DecodeClaimsFromCBOR` does: the profile claim selects the claims
    /// type, so an unknown (or missing) profile is a decoding error.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, CcaError> {
        let [
            profile,
            challenge,
            implementation_id,
            instance_id,
            config,
            lifecycle,
            sw,
            vsi,
            hash_algo_id,
        ] = cbor::locate(bytes, &KNOWN).map_err(decode_err)?;
        let profile_name =
            cbor::text_claim(profile, "profile", keys::platform::PROFILE).map_err(decode_err)?;
        let name = profile_name.as_deref().unwrap_or_default();
        let profile = PlatformProfile::from_name(name)
            .ok_or_else(|| decode_err(format!("unknown profile: {name:?}")))?;
        let lifecycle = match lifecycle {
            None => None,
            Some(value) => {
                let mut d = Decoder::new(value);
                let key = keys::platform::LIFECYCLE;
                let v = cbor::integer(&mut d)
                    .ok_or_else(|| type_err(&d, "lifecycle", key, "an unsigned integer"))?;
                Some(u16::try_from(v).map_err(|_| {
                    decode_err(format!(
                        "claim lifecycle ({key}): {v} overflows a 16-bit unsigned integer"
                    ))
                })?)
            }
        };
        Ok(Self {
            profile: Some(profile),
            nonces: eat_nonce(challenge, keys::platform::CHALLENGE, decode_err)?,
            implementation_id: cbor::bytes_claim(
                implementation_id,
                "implementation-id",
                keys::platform::IMPLEMENTATION_ID,
            )
            .map_err(decode_err)?,
            instance_id: cbor::bytes_claim(instance_id, "instance-id", keys::platform::INSTANCE_ID)
                .map_err(decode_err)?,
            config: cbor::bytes_claim(config, "config", keys::platform::CONFIG)
                .map_err(decode_err)?,
            lifecycle,
            sw_components: sw_components(sw)?,
            vsi: cbor::text_claim(
                vsi,
                "verification-service",
                keys::platform::VERIFICATION_SERVICE,
            )
            .map_err(decode_err)?,
            hash_algo_id: cbor::text_claim(
                hash_algo_id,
                "hash-algo-id",
                keys::platform::HASH_ALGO_ID,
            )
            .map_err(decode_err)?,
        })
    }

    fn from_claims(c: &PlatformClaims) -> Self {
        Self {
            profile: Some(c.profile),
            nonces: Some(vec![c.challenge.to_vec()]),
            implementation_id: Some(c.implementation_id.to_vec()),
            instance_id: Some(c.instance_id.to_vec()),
            config: Some(c.config.clone()),
            lifecycle: Some(c.lifecycle),
            sw_components: Some(
                c.sw_components
                    .iter()
                    .map(|s| RawSw {
                        measurement_type: s.measurement_type.clone(),
                        measurement_value: Some(s.measurement_value.to_vec()),
                        version: s.version.clone(),
                        signer_id: Some(s.signer_id.to_vec()),
                        hash_algo_id: s.hash_algo_id.clone(),
                    })
                    .collect(),
            ),
            vsi: c.verification_service.clone(),
            hash_algo_id: Some(c.hash_algo_id.clone()),
        }
    }

    /// Applies ccatoken's `ValidateClaims` (psatoken's checks, then config
    /// and hash-algo-id), in its order, and builds the typed claims.
    pub(crate) fn validate(self) -> Result<PlatformClaims, CcaError> {
        fn invalid(claim: &'static str, reason: impl Into<String>) -> CcaError {
            CcaError::platform_invalid(claim, reason)
        }
        let profile = self
            .profile
            .ok_or_else(|| invalid("profile", MISSING_CLAIM))?;

        let claim = "security lifecycle";
        let lifecycle = self
            .lifecycle
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        if LifecycleState::from_raw(lifecycle).is_none() {
            return Err(invalid(
                claim,
                format!("wrong syntax: value {lifecycle} is invalid"),
            ));
        }

        let claim = "implementation id";
        let implementation_id = self
            .implementation_id
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        let implementation_id: [u8; IMPLEMENTATION_ID_LEN] =
            implementation_id.as_slice().try_into().map_err(|_| {
                invalid(
                    claim,
                    format!(
                        "wrong syntax: invalid length {} (MUST be {IMPLEMENTATION_ID_LEN} bytes)",
                        implementation_id.len()
                    ),
                )
            })?;

        let claim = "software components";
        let raw_sw = self.sw_components.unwrap_or_default();
        if raw_sw.is_empty() {
            return Err(invalid(
                claim,
                format!("{MISSING_CLAIM} (MUST have at least one sw component)"),
            ));
        }
        let mut sw_components = Vec::with_capacity(raw_sw.len());
        for (index, sw) in raw_sw.into_iter().enumerate() {
            let field = |name: &str, value: Option<Vec<u8>>| {
                let value = value.ok_or_else(|| {
                    invalid(
                        claim,
                        format!("failed at index {index}: {name}: {MISSING_FIELD}"),
                    )
                })?;
                let len = value.len();
                Measurement::new(value).ok_or_else(|| {
                    invalid(
                        claim,
                        format!("failed at index {index}: {name}: {}", hash_len_reason(len)),
                    )
                })
            };
            let measurement_value = field("measurement value", sw.measurement_value)?;
            let signer_id = field("signer ID", sw.signer_id)?;
            sw_components.push(SwComponent {
                measurement_type: sw.measurement_type,
                measurement_value,
                version: sw.version,
                signer_id,
                hash_algo_id: sw.hash_algo_id,
            });
        }

        let claim = "nonce";
        let nonces = self.nonces.ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        let [nonce]: [Vec<u8>; 1] = nonces.try_into().map_err(|n: Vec<Vec<u8>>| {
            invalid(
                claim,
                format!("wrong syntax: got {} nonces, want 1", n.len()),
            )
        })?;
        let len = nonce.len();
        let challenge =
            Measurement::new(nonce).ok_or_else(|| invalid(claim, hash_len_reason(len)))?;

        let claim = "instance id";
        let instance_id = self
            .instance_id
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        let instance_id: [u8; INSTANCE_ID_LEN] =
            instance_id.as_slice().try_into().map_err(|_| {
                invalid(
                    claim,
                    format!(
                        "wrong syntax: invalid length {} (MUST be {INSTANCE_ID_LEN} bytes)",
                        instance_id.len()
                    ),
                )
            })?;
        if instance_id[0] != 0x01 {
            return Err(invalid(
                claim,
                "wrong syntax: invalid EUID type (MUST be RAND=0x01)",
            ));
        }

        if self.vsi.as_deref() == Some("") {
            return Err(invalid(
                "verification service indicator",
                "wrong syntax: empty string",
            ));
        }

        let config = self
            .config
            .ok_or_else(|| invalid("platform config", MISSING_CLAIM))?;

        let claim = "platform hash algo id";
        let hash_algo_id = self
            .hash_algo_id
            .ok_or_else(|| invalid(claim, MISSING_CLAIM))?;
        if hash_algo_id.is_empty() {
            return Err(invalid(claim, "wrong syntax: empty string"));
        }
        if !PLATFORM_HASH_ALGS.contains(&hash_algo_id.as_str()) {
            return Err(invalid(claim, "wrong syntax: wrong syntax"));
        }

        Ok(PlatformClaims {
            profile,
            challenge,
            implementation_id,
            instance_id,
            config,
            lifecycle,
            sw_components,
            verification_service: self.vsi,
            hash_algo_id,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn sample() -> PlatformClaims {
        PlatformClaims {
            profile: PlatformProfile::CcaPlatform,
            challenge: Measurement::new([1u8; 32]).unwrap(),
            implementation_id: [0; 32],
            instance_id: {
                let mut id = [2u8; 33];
                id[0] = 1;
                id
            },
            config: vec![1, 2, 3],
            lifecycle: 0x3000,
            sw_components: vec![SwComponent {
                measurement_type: Some("BL".into()),
                measurement_value: Measurement::new([3u8; 32]).unwrap(),
                version: Some("1.0".into()),
                signer_id: Measurement::new([4u8; 48]).unwrap(),
                hash_algo_id: Some("sha-256".into()),
            }],
            verification_service: Some("https://veraison.example".into()),
            hash_algo_id: "sha-256".into(),
        }
    }

    fn reason(c: &PlatformClaims) -> String {
        c.validate().unwrap_err().to_string()
    }

    #[test]
    fn round_trips_through_cbor() {
        let claims = sample();
        claims.validate().unwrap();
        assert_eq!(PlatformClaims::decode(&claims.to_cbor()).unwrap(), claims);
        let mut minimal = sample();
        minimal.verification_service = None;
        minimal.sw_components[0].measurement_type = None;
        minimal.sw_components[0].version = None;
        minimal.sw_components[0].hash_algo_id = None;
        assert_eq!(PlatformClaims::decode(&minimal.to_cbor()).unwrap(), minimal);
    }

    #[test]
    fn validation_follows_ccatoken() {
        let mut c = sample();
        c.lifecycle = 0x7f35;
        assert!(
            reason(&c)
                .ends_with("validating security lifecycle: wrong syntax: value 32565 is invalid")
        );
        let mut c = sample();
        c.sw_components.clear();
        assert!(reason(&c).ends_with(
            "validating software components: missing mandatory claim (MUST have at least one sw component)"
        ));
        let mut c = sample();
        c.instance_id[0] = 2;
        assert!(reason(&c).ends_with("invalid EUID type (MUST be RAND=0x01)"));
        let mut c = sample();
        c.verification_service = Some(String::new());
        assert!(
            reason(&c)
                .ends_with("validating verification service indicator: wrong syntax: empty string")
        );
        let mut c = sample();
        c.hash_algo_id = "none".into();
        assert!(
            reason(&c).ends_with("validating platform hash algo id: wrong syntax: wrong syntax")
        );
        let mut c = sample();
        c.hash_algo_id = String::new();
        assert!(
            reason(&c).ends_with("validating platform hash algo id: wrong syntax: empty string")
        );
        // An empty config is accepted (ccatoken only checks presence).
        let mut c = sample();
        c.config.clear();
        c.validate().unwrap();
    }

    #[test]
    fn decoding_errors() {
        // Unknown and missing profiles are decoding errors, as in psatoken.
        let mut w = Writer::new();
        w.map(1).int(265).text("http://arm.com/psa/2.0.0");
        let e = PlatformClaims::decode(&w.into_inner()).unwrap_err();
        assert!(matches!(e, CcaError::PlatformClaimsDecode(_)), "{e}");
        assert!(
            e.to_string()
                .ends_with("unknown profile: \"http://arm.com/psa/2.0.0\"")
        );
        let e = PlatformClaims::decode(&[0xa0]).unwrap_err();
        assert!(e.to_string().ends_with("unknown profile: \"\""), "{e}");
        // Wrong types.
        let mut w = Writer::new();
        w.map(2)
            .int(265)
            .text(PlatformProfile::CCA_SSD_NAME)
            .int(2395)
            .int(-1);
        let e = PlatformClaims::decode(&w.into_inner()).unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
        let mut w = Writer::new();
        w.map(2)
            .int(265)
            .text(PlatformProfile::CCA_SSD_NAME)
            .int(10)
            .text("x");
        let e = PlatformClaims::decode(&w.into_inner()).unwrap_err();
        assert!(e.to_string().contains("claim challenge (10)"), "{e}");
        // Multiple nonces decode, then fail validation.
        let mut claims = sample().to_cbor();
        let mut w = Writer::new();
        w.array(2).bytes(&[1; 32]).bytes(&[2; 32]);
        let one = {
            let mut w = Writer::new();
            w.bytes(&[1; 32]);
            w.into_inner()
        };
        let pos = claims
            .windows(one.len())
            .position(|win| win == one)
            .unwrap();
        claims.splice(pos..pos + one.len(), w.into_inner());
        let e = PlatformClaims::decode(&claims).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("validating nonce: wrong syntax: got 2 nonces, want 1"),
            "{e}"
        );
    }

    #[test]
    fn lifecycle_states() {
        assert_eq!(
            LifecycleState::from_raw(0x3003),
            Some(LifecycleState::Secured)
        );
        assert_eq!(
            LifecycleState::from_raw(0x30ff),
            Some(LifecycleState::Secured)
        );
        assert_eq!(LifecycleState::from_raw(0x3100), None);
        assert_eq!(
            LifecycleState::from_raw(0x00ff).map(|s| s.as_str()),
            Some("unknown")
        );
        assert_eq!(sample().lifecycle_state(), Some(LifecycleState::Secured));
    }
}
