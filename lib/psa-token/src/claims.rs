//! PSA claims-set decoding and validation (profiles 1 and 2).
//!
//! The rules mirror Veraison's psatoken (`claims_p1.go`, `claims_p2.go`,
//! `claims_common.go`, `iclaims.go`, `swcomponent.go`): which claims each
//! profile requires, their lengths and ranges, the order in which they are
//! checked (the first failure is reported) and the error wording.

use std::fmt;

use minicbor::Decoder;
use minicbor::data::Type;

use crate::TokenError;
use vouch_cose::cbor::{self, describe_minicbor};

/// Profile name of PSA_IOT_PROFILE_1.
pub const PROFILE_1_NAME: &str = "PSA_IOT_PROFILE_1";
/// Profile name of the PSA attestation token 2.0.0 (draft-tschofenig-rats-psa-token).
pub const PROFILE_2_NAME: &str = "http://arm.com/psa/2.0.0";
/// Profile name RFC 9783 gives the TF-M flavour of the PSA token; it carries
/// the same claims, with the same rules, as [`PROFILE_2_NAME`].
pub const PROFILE_2_TFM_NAME: &str = "tag:psacertified.org,2023:psa#tfm";

/// Length of the implementation ID.
pub const IMPLEMENTATION_ID_LEN: usize = 32;
/// Length of the instance ID (a RAND UEID: type byte 0x01 + 32 bytes).
pub const INSTANCE_ID_LEN: usize = 33;

const MISSING_CLAIM: &str = "missing mandatory claim";
const MISSING_FIELD: &str = "missing mandatory field";
const SYNTAX: &str = "wrong syntax";

/// Integer keys of the claims, per profile.
pub mod keys {
    /// `eat_profile` (EAT), profile 2.
    pub const PROFILE: i64 = 265;
    /// `eat_nonce` (EAT), profile 2.
    pub const NONCE: i64 = 10;
    /// `ueid` (EAT), the instance ID, profile 2.
    pub const INSTANCE_ID: i64 = 256;
    /// `psa-client-id`, profile 2.
    pub const CLIENT_ID: i64 = 2394;
    /// `psa-security-lifecycle`, profile 2.
    pub const SECURITY_LIFECYCLE: i64 = 2395;
    /// `psa-implementation-id`, profile 2.
    pub const IMPLEMENTATION_ID: i64 = 2396;
    /// `psa-boot-seed`, profile 2.
    pub const BOOT_SEED: i64 = 2397;
    /// `psa-certification-reference`, profile 2.
    pub const CERTIFICATION_REFERENCE: i64 = 2398;
    /// `psa-software-components`, profile 2.
    pub const SW_COMPONENTS: i64 = 2399;
    /// `psa-verification-service-indicator`, profile 2.
    pub const VSI: i64 = 2400;

    /// `psa-profile`, profile 1.
    pub const P1_PROFILE: i64 = -75000;
    /// `psa-client-id`, profile 1.
    pub const P1_CLIENT_ID: i64 = -75001;
    /// `psa-security-lifecycle`, profile 1.
    pub const P1_SECURITY_LIFECYCLE: i64 = -75002;
    /// `psa-implementation-id`, profile 1.
    pub const P1_IMPLEMENTATION_ID: i64 = -75003;
    /// `psa-boot-seed`, profile 1.
    pub const P1_BOOT_SEED: i64 = -75004;
    /// `psa-hwver` (certification reference), profile 1.
    pub const P1_HARDWARE_VERSION: i64 = -75005;
    /// `psa-software-components`, profile 1.
    pub const P1_SW_COMPONENTS: i64 = -75006;
    /// `psa-no-sw-measurements`, profile 1.
    pub const P1_NO_SW_MEASUREMENTS: i64 = -75007;
    /// `psa-nonce`, profile 1.
    pub const P1_NONCE: i64 = -75008;
    /// `psa-instance-id`, profile 1.
    pub const P1_INSTANCE_ID: i64 = -75009;
    /// `psa-verification-service-indicator`, profile 1.
    pub const P1_VSI: i64 = -75010;

    /// Keys of a software component map.
    pub mod sw {
        /// `measurement-type`.
        pub const MEASUREMENT_TYPE: i64 = 1;
        /// `measurement-value`.
        pub const MEASUREMENT_VALUE: i64 = 2;
        /// `version`.
        pub const VERSION: i64 = 4;
        /// `signer-id`.
        pub const SIGNER_ID: i64 = 5;
        /// `measurement-description`.
        pub const MEASUREMENT_DESCRIPTION: i64 = 6;
    }
}

/// The PSA token profile a claims-set follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// PSA_IOT_PROFILE_1 (claim keys -75000...-75010).
    P1,
    /// PSA attestation token 2.0.0 / RFC 9783 (EAT claim keys).
    P2,
}

impl Profile {
    /// The name psatoken uses for the profile.
    pub fn canonical_name(self) -> &'static str {
        match self {
            Self::P1 => PROFILE_1_NAME,
            Self::P2 => PROFILE_2_NAME,
        }
    }
}

/// The PSA security lifecycle state a `psa-security-lifecycle` value falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LifecycleState {
    /// 0x0000-0x00ff.
    Unknown,
    /// 0x1000-0x10ff.
    AssemblyAndTest,
    /// 0x2000-0x20ff.
    PsaRotProvisioning,
    /// 0x3000-0x30ff.
    Secured,
    /// 0x4000-0x40ff.
    NonPsaRotDebug,
    /// 0x5000-0x50ff.
    RecoverablePsaRotDebug,
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
            0x20 => Some(Self::PsaRotProvisioning),
            0x30 => Some(Self::Secured),
            0x40 => Some(Self::NonPsaRotDebug),
            0x50 => Some(Self::RecoverablePsaRotDebug),
            0x60 => Some(Self::Decommissioned),
            _ => None,
        }
    }

    /// psatoken's name for the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::AssemblyAndTest => "assembly-and-test",
            Self::PsaRotProvisioning => "psa-rot-provisioning",
            Self::Secured => "secured",
            Self::NonPsaRotDebug => "non-psa-rot-debug",
            Self::RecoverablePsaRotDebug => "recoverable-psa-rot-debug",
            Self::Decommissioned => "decommissioned",
        }
    }
}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One software component. Those in decoded [`Claims`] have been validated
/// (digest lengths); the fields are public so that appraisal code can be
/// tested with hand-made components.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwComponent {
    /// `measurement-type` (e.g. "BL", "PRoT").
    pub measurement_type: Option<String>,
    /// `measurement-value`: a 32, 48 or 64-byte digest.
    pub measurement_value: Vec<u8>,
    /// `version`.
    pub version: Option<String>,
    /// `signer-id`: a 32, 48 or 64-byte digest of the signing key.
    pub signer_id: Vec<u8>,
    /// `measurement-description` (the hash algorithm, e.g. "SHA256").
    pub measurement_desc: Option<String>,
}

/// A validated PSA claims-set.
///
/// Only [`Claims::decode_map`] and [`crate::Token::decode`] make these, so
/// every value here has passed the profile's checks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// The profile the claims follow.
    pub profile: Profile,
    /// The profile claim exactly as sent: `eat_profile` (265) for profile 2,
    /// `psa-profile` (-75000) for profile 1, `None` when a profile-1 token
    /// omits it.
    pub profile_name: Option<String>,
    /// `psa-client-id`.
    pub client_id: i32,
    /// `psa-security-lifecycle` (raw value; see [`Claims::lifecycle_state`]).
    pub security_lifecycle: u16,
    /// `psa-implementation-id`.
    pub implementation_id: [u8; IMPLEMENTATION_ID_LEN],
    /// `psa-instance-id` / `ueid`: 0x01 followed by 32 bytes.
    pub instance_id: [u8; INSTANCE_ID_LEN],
    /// The (single) nonce: 32, 48 or 64 bytes.
    pub nonce: Vec<u8>,
    /// `psa-boot-seed` (always present in profile 1).
    pub boot_seed: Option<Vec<u8>>,
    /// `psa-certification-reference` (profile 2) / `psa-hwver` (profile 1).
    pub certification_reference: Option<String>,
    /// `psa-software-components`; empty only for a profile-1 token that
    /// asserts `psa-no-sw-measurements`.
    pub sw_components: Vec<SwComponent>,
    /// `psa-no-sw-measurements` (profile 1 only).
    pub no_sw_measurements: Option<u64>,
    /// `psa-verification-service-indicator`.
    pub vsi: Option<String>,
}

impl Claims {
    /// Decodes and validates an unsigned claims-set (the COSE payload).
    pub fn decode_map(bytes: &[u8]) -> Result<Self, TokenError> {
        let (profile, raw) = decode_raw(bytes)?;
        validate(profile, raw)
    }

    /// The lifecycle state of `security_lifecycle`.
    pub fn lifecycle_state(&self) -> LifecycleState {
        // Validation rejected values outside the seven ranges; the fallback
        // is unreachable for a decoded token.
        LifecycleState::from_raw(self.security_lifecycle).unwrap_or(LifecycleState::Unknown)
    }

    /// The profile name as sent, or the profile's canonical name when the
    /// token carries none.
    pub fn profile_str(&self) -> &str {
        self.profile_name
            .as_deref()
            .unwrap_or(self.profile.canonical_name())
    }
}

// ------------------------------------------------------------------ decoding

fn decode_err(msg: impl Into<String>) -> TokenError {
    TokenError::ClaimsDecode(msg.into())
}

/// Claim values as found, before validation.
#[derive(Default)]
struct Raw<'a> {
    profile: Option<String>,
    client_id: Option<i32>,
    lifecycle: Option<u16>,
    implementation_id: Option<&'a [u8]>,
    boot_seed: Option<&'a [u8]>,
    certification_reference: Option<&'a str>,
    sw_components: Option<Vec<RawSw<'a>>>,
    no_sw_measurements: Option<u64>,
    nonces: Option<Vec<&'a [u8]>>,
    instance_id: Option<&'a [u8]>,
    vsi: Option<&'a str>,
}

#[derive(Default)]
struct RawSw<'a> {
    measurement_type: Option<&'a str>,
    measurement_value: Option<&'a [u8]>,
    version: Option<&'a str>,
    signer_id: Option<&'a [u8]>,
    measurement_desc: Option<&'a str>,
}

/// Every claim key either profile knows, indexing the slot table.
const KNOWN_KEYS: [i64; 21] = [
    keys::PROFILE,
    keys::NONCE,
    keys::INSTANCE_ID,
    keys::CLIENT_ID,
    keys::SECURITY_LIFECYCLE,
    keys::IMPLEMENTATION_ID,
    keys::BOOT_SEED,
    keys::CERTIFICATION_REFERENCE,
    keys::SW_COMPONENTS,
    keys::VSI,
    keys::P1_PROFILE,
    keys::P1_CLIENT_ID,
    keys::P1_SECURITY_LIFECYCLE,
    keys::P1_IMPLEMENTATION_ID,
    keys::P1_BOOT_SEED,
    keys::P1_HARDWARE_VERSION,
    keys::P1_SW_COMPONENTS,
    keys::P1_NO_SW_MEASUREMENTS,
    keys::P1_NONCE,
    keys::P1_INSTANCE_ID,
    keys::P1_VSI,
];

/// The encoded value of each known claim, located in one pass over the map.
struct Slots<'a>([Option<&'a [u8]>; KNOWN_KEYS.len()]);

impl<'a> Slots<'a> {
    fn get(&self, key: i64) -> Option<&'a [u8]> {
        KNOWN_KEYS
            .iter()
            .position(|&k| k == key)
            .and_then(|i| self.0.get(i).copied().flatten())
    }
}

/// Walks the claims map once: checks it is well formed, records where each
/// known claim's value is, and rejects duplicate keys. Unknown claims are
/// checked for well-formedness and otherwise ignored, as psatoken does.
fn locate(bytes: &[u8]) -> Result<Slots<'_>, TokenError> {
    if bytes.is_empty() {
        return Err(decode_err("EOF"));
    }
    let mut d = Decoder::new(bytes);
    match d
        .datatype()
        .map_err(|e| decode_err(describe_minicbor(&e)))?
    {
        Type::Map => {}
        Type::MapIndef => return Err(decode_err("indefinite-length claims map is not allowed")),
        _ => {
            return Err(decode_err(format!(
                "claims-set must be a CBOR map, found {}",
                cbor::type_name_at(&d)
            )));
        }
    }
    let n = cbor::definite(d.map().map_err(|e| decode_err(describe_minicbor(&e)))?)
        .map_err(decode_err)?;
    let mut slots = Slots([None; KNOWN_KEYS.len()]);
    for _ in 0..n {
        let key = cbor::integer(&mut d);
        if key.is_none() {
            cbor::skip(&mut d, 2).map_err(decode_err)?;
        }
        let value = cbor::item(&mut d, 2).map_err(decode_err)?;
        let Some(key) = key else { continue };
        let Some(index) = KNOWN_KEYS.iter().position(|&k| i128::from(k) == key) else {
            continue;
        };
        if let Some(slot) = slots.0.get_mut(index) {
            if slot.is_some() {
                return Err(decode_err(format!("duplicate claim key {key}")));
            }
            *slot = Some(value);
        }
    }
    cbor::expect_end(&d).map_err(decode_err)?;
    Ok(slots)
}

/// Decodes the claims map and picks the profile, without validating.
fn decode_raw(bytes: &[u8]) -> Result<(Profile, Raw<'_>), TokenError> {
    let slots = locate(bytes)?;
    // As psatoken: the profile comes from claim 265; without it the claims
    // are taken to be profile 1 (whose own profile claim is optional).
    let selector = match slots.get(keys::PROFILE) {
        Some(value) => decode_profile(value)?,
        None => None,
    };
    let profile = match selector.as_deref() {
        None | Some("" | PROFILE_1_NAME) => Profile::P1,
        Some(PROFILE_2_NAME | PROFILE_2_TFM_NAME) => Profile::P2,
        Some(other) => return Err(decode_err(format!("unknown profile: {other:?}"))),
    };
    let raw = match profile {
        Profile::P1 => Raw {
            profile: text(&slots, keys::P1_PROFILE, "psa-profile")?.map(str::to_owned),
            client_id: int32(&slots, keys::P1_CLIENT_ID, "psa-client-id")?,
            lifecycle: uint16(
                &slots,
                keys::P1_SECURITY_LIFECYCLE,
                "psa-security-lifecycle",
            )?,
            implementation_id: bytes_claim(
                &slots,
                keys::P1_IMPLEMENTATION_ID,
                "psa-implementation-id",
            )?,
            boot_seed: bytes_claim(&slots, keys::P1_BOOT_SEED, "psa-boot-seed")?,
            certification_reference: text(&slots, keys::P1_HARDWARE_VERSION, "psa-hwver")?,
            sw_components: sw_components(&slots, keys::P1_SW_COMPONENTS)?,
            no_sw_measurements: uint(
                &slots,
                keys::P1_NO_SW_MEASUREMENTS,
                "psa-no-sw-measurements",
            )?,
            nonces: bytes_claim(&slots, keys::P1_NONCE, "psa-nonce")?.map(|n| vec![n]),
            instance_id: bytes_claim(&slots, keys::P1_INSTANCE_ID, "psa-instance-id")?,
            vsi: text(&slots, keys::P1_VSI, "psa-verification-service-indicator")?,
        },
        Profile::P2 => Raw {
            profile: selector,
            client_id: int32(&slots, keys::CLIENT_ID, "psa-client-id")?,
            lifecycle: uint16(&slots, keys::SECURITY_LIFECYCLE, "psa-security-lifecycle")?,
            implementation_id: bytes_claim(
                &slots,
                keys::IMPLEMENTATION_ID,
                "psa-implementation-id",
            )?,
            boot_seed: bytes_claim(&slots, keys::BOOT_SEED, "psa-boot-seed")?,
            certification_reference: text(
                &slots,
                keys::CERTIFICATION_REFERENCE,
                "psa-certification-reference",
            )?,
            sw_components: sw_components(&slots, keys::SW_COMPONENTS)?,
            no_sw_measurements: None,
            nonces: eat_nonce(&slots)?,
            instance_id: bytes_claim(&slots, keys::INSTANCE_ID, "ueid")?,
            vsi: text(&slots, keys::VSI, "psa-verification-service-indicator")?,
        },
    };
    Ok((profile, raw))
}

/// A decoder positioned on a claim's value, or `None` when the claim is
/// absent or nil.
fn value_of<'a>(slots: &Slots<'a>, key: i64) -> Option<Decoder<'a>> {
    let d = Decoder::new(slots.get(key)?);
    (!cbor::is_nil(&d)).then_some(d)
}

fn type_err(d: &Decoder<'_>, name: &str, key: i64, expected: &str) -> TokenError {
    decode_err(format!(
        "claim {name} ({key}): expected {expected}, found {}",
        cbor::type_name_at(d)
    ))
}

fn bytes_claim<'a>(
    slots: &Slots<'a>,
    key: i64,
    name: &str,
) -> Result<Option<&'a [u8]>, TokenError> {
    let Some(mut d) = value_of(slots, key) else {
        return Ok(None);
    };
    cbor::read_bytes(&mut d)
        .map(Some)
        .ok_or_else(|| type_err(&d, name, key, "a byte string"))
}

fn text<'a>(slots: &Slots<'a>, key: i64, name: &str) -> Result<Option<&'a str>, TokenError> {
    let Some(mut d) = value_of(slots, key) else {
        return Ok(None);
    };
    cbor::read_text(&mut d)
        .map(Some)
        .ok_or_else(|| type_err(&d, name, key, "a text string"))
}

fn integer_in<T: TryFrom<i128>>(
    slots: &Slots<'_>,
    key: i64,
    name: &str,
    expected: &str,
) -> Result<Option<T>, TokenError> {
    let Some(mut d) = value_of(slots, key) else {
        return Ok(None);
    };
    let Some(value) = cbor::integer(&mut d) else {
        return Err(type_err(&d, name, key, expected));
    };
    T::try_from(value).map(Some).map_err(|_| {
        decode_err(format!(
            "claim {name} ({key}): {value} overflows {expected}"
        ))
    })
}

fn int32(slots: &Slots<'_>, key: i64, name: &str) -> Result<Option<i32>, TokenError> {
    integer_in(slots, key, name, "a 32-bit signed integer")
}

fn uint16(slots: &Slots<'_>, key: i64, name: &str) -> Result<Option<u16>, TokenError> {
    integer_in(slots, key, name, "a 16-bit unsigned integer")
}

fn uint(slots: &Slots<'_>, key: i64, name: &str) -> Result<Option<u64>, TokenError> {
    integer_in(slots, key, name, "an unsigned integer")
}

/// The EAT nonce: one byte string, or an array of them.
fn eat_nonce<'a>(slots: &Slots<'a>) -> Result<Option<Vec<&'a [u8]>>, TokenError> {
    let key = keys::NONCE;
    let Some(mut d) = value_of(slots, key) else {
        return Ok(None);
    };
    if let Some(single) = cbor::read_bytes(&mut d) {
        return Ok(Some(vec![single]));
    }
    if d.datatype().ok() != Some(Type::Array) {
        return Err(type_err(
            &d,
            "nonce",
            key,
            "a byte string or an array of them",
        ));
    }
    let n = d.array().ok().flatten().unwrap_or_default();
    // `locate` has checked the structure, so `n` is no larger than the input.
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or_default().min(16));
    for _ in 0..n {
        let item =
            cbor::read_bytes(&mut d).ok_or_else(|| type_err(&d, "nonce", key, "a byte string"))?;
        out.push(item);
    }
    Ok(Some(out))
}

fn sw_components<'a>(slots: &Slots<'a>, key: i64) -> Result<Option<Vec<RawSw<'a>>>, TokenError> {
    let name = "psa-software-components";
    let Some(mut d) = value_of(slots, key) else {
        return Ok(None);
    };
    if d.datatype().ok() != Some(Type::Array) {
        return Err(type_err(&d, name, key, "an array"));
    }
    let n = d.array().ok().flatten().unwrap_or_default();
    let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or_default().min(16));
    for index in 0..n {
        out.push(sw_component(&mut d, index)?);
    }
    Ok(Some(out))
}

fn sw_component<'a>(d: &mut Decoder<'a>, index: u64) -> Result<RawSw<'a>, TokenError> {
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
    for _ in 0..n {
        let key = cbor::integer(d);
        let Some(key) = key.filter(|k| (1..=6).contains(k)) else {
            if key.is_none() {
                d.skip().map_err(|e| decode_err(describe_minicbor(&e)))?;
            }
            d.skip().map_err(|e| decode_err(describe_minicbor(&e)))?;
            continue;
        };
        let idx = usize::try_from(key).unwrap_or_default();
        if seen.get(idx).copied().unwrap_or_default() {
            return Err(decode_err(format!(
                "software component {index}: duplicate key {key}"
            )));
        }
        if let Some(s) = seen.get_mut(idx) {
            *s = true;
        }
        if cbor::is_nil(d) {
            d.skip().map_err(|e| decode_err(describe_minicbor(&e)))?;
            continue;
        }
        match i64::try_from(key).unwrap_or_default() {
            keys::sw::MEASUREMENT_TYPE => {
                sw.measurement_type =
                    Some(cbor::read_text(d).ok_or_else(|| err(d, "a text string"))?);
            }
            keys::sw::MEASUREMENT_VALUE => {
                sw.measurement_value =
                    Some(cbor::read_bytes(d).ok_or_else(|| err(d, "a byte string"))?);
            }
            keys::sw::VERSION => {
                sw.version = Some(cbor::read_text(d).ok_or_else(|| err(d, "a text string"))?);
            }
            keys::sw::SIGNER_ID => {
                sw.signer_id = Some(cbor::read_bytes(d).ok_or_else(|| err(d, "a byte string"))?);
            }
            keys::sw::MEASUREMENT_DESCRIPTION => {
                sw.measurement_desc =
                    Some(cbor::read_text(d).ok_or_else(|| err(d, "a text string"))?);
            }
            // Key 3 is reserved by the PSA token spec; psatoken ignores it.
            _ => d.skip().map_err(|e| decode_err(describe_minicbor(&e)))?,
        }
    }
    Ok(sw)
}

/// Reads the `eat_profile` claim: a text URI (optionally tag 32) or an OID
/// (a byte string, optionally tag 111) rendered in dotted-decimal form.
/// Returns `None` for a nil value.
fn decode_profile(value: &[u8]) -> Result<Option<String>, TokenError> {
    let mut d = Decoder::new(value);
    if cbor::is_nil(&d) {
        return Ok(None);
    }
    let mut tag = None;
    if d.datatype().ok() == Some(Type::Tag) {
        tag = d.tag().ok().map(|t| t.as_u64());
    }
    let err = |d: &Decoder<'_>| {
        decode_err(format!(
            "claim eat_profile (265): expected a URI or an OID, found {}",
            cbor::type_name_at(d)
        ))
    };
    match (tag, d.datatype().ok()) {
        (None | Some(32), Some(Type::String)) => Ok(Some(
            cbor::read_text(&mut d).ok_or_else(|| err(&d))?.to_owned(),
        )),
        (None | Some(111), Some(Type::Bytes)) => {
            let oid = cbor::read_bytes(&mut d).ok_or_else(|| err(&d))?;
            oid_to_string(oid)
                .map(Some)
                .ok_or_else(|| decode_err("claim eat_profile (265): malformed OID"))
        }
        _ => Err(err(&d)),
    }
}

/// Dotted-decimal form of a BER-encoded OID body.
fn oid_to_string(oid: &[u8]) -> Option<String> {
    if oid.is_empty() || oid.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let mut arcs: Vec<u128> = Vec::new();
    let mut acc: u128 = 0;
    for &b in oid {
        acc = acc.checked_mul(128)?.checked_add(u128::from(b & 0x7f))?;
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
    Some(
        arcs.iter()
            .map(u128::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

// ---------------------------------------------------------------- validation

fn missing(claim: &'static str) -> TokenError {
    TokenError::validation(claim, MISSING_CLAIM)
}

fn syntax(claim: &'static str, detail: impl fmt::Display) -> TokenError {
    TokenError::validation(claim, format!("{SYNTAX}: {detail}"))
}

/// psatoken's `ValidatePSAHashType`.
fn check_hash(len: usize) -> Result<(), String> {
    if matches!(len, 32 | 48 | 64) {
        Ok(())
    } else {
        Err(format!(
            "{SYNTAX}: length {len} (hash MUST be 32, 48 or 64 bytes)"
        ))
    }
}

/// EAN-13 (`\d{13}`).
fn is_ean13(s: &str) -> bool {
    s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit())
}

/// EAN-13+5 (`\d{13}-\d{5}`).
fn is_ean13_5(s: &str) -> bool {
    s.len() == 19
        && s.get(..13).is_some_and(is_ean13)
        && s.as_bytes().get(13) == Some(&b'-')
        && s.bytes().skip(14).all(|b| b.is_ascii_digit())
}

/// Applies psatoken's `ValidateClaims`, in its order, and builds the typed
/// claims.
fn validate(profile: Profile, raw: Raw<'_>) -> Result<Claims, TokenError> {
    // Profile. Profile 2 was selected by its name, so only profile 1's own
    // (optional) claim can disagree.
    if profile == Profile::P1
        && let Some(p) = raw.profile.as_deref().filter(|p| *p != PROFILE_1_NAME)
    {
        return Err(TokenError::validation(
            "profile",
            format!("wrong profile: expecting {PROFILE_1_NAME:?}, got {p:?}"),
        ));
    }

    let lifecycle = raw.lifecycle.ok_or_else(|| missing("security lifecycle"))?;
    if LifecycleState::from_raw(lifecycle).is_none() {
        return Err(syntax(
            "security lifecycle",
            format_args!("value {lifecycle} is invalid"),
        ));
    }

    let implementation_id: [u8; IMPLEMENTATION_ID_LEN] = {
        let v = raw
            .implementation_id
            .ok_or_else(|| missing("implementation id"))?;
        v.try_into().map_err(|_| {
            syntax(
                "implementation id",
                format_args!(
                    "invalid length {} (MUST be {IMPLEMENTATION_ID_LEN} bytes)",
                    v.len()
                ),
            )
        })?
    };

    let sw_components = validate_sw_components(profile, &raw)?;

    let nonce = match raw.nonces.as_deref() {
        None => return Err(missing("nonce")),
        Some([single]) => {
            check_hash(single.len()).map_err(|e| TokenError::validation("nonce", e))?;
            single.to_vec()
        }
        // Only an EAT (profile 2) nonce can hold several values.
        Some(several) => {
            return Err(syntax(
                "nonce",
                format_args!("got {} nonces, want 1", several.len()),
            ));
        }
    };

    let instance_id: [u8; INSTANCE_ID_LEN] = {
        let v = raw.instance_id.ok_or_else(|| missing("instance id"))?;
        let arr: [u8; INSTANCE_ID_LEN] = v.try_into().map_err(|_| {
            syntax(
                "instance id",
                format_args!(
                    "invalid length {} (MUST be {INSTANCE_ID_LEN} bytes)",
                    v.len()
                ),
            )
        })?;
        if arr[0] != 0x01 {
            return Err(syntax(
                "instance id",
                "invalid EUID type (MUST be RAND=0x01)",
            ));
        }
        arr
    };

    if raw.vsi == Some("") {
        return Err(syntax("verification service indicator", "empty string"));
    }

    let client_id = raw.client_id.ok_or_else(|| missing("client id"))?;

    match (profile, raw.boot_seed) {
        (Profile::P1, None) => return Err(missing("boot seed")),
        (Profile::P1, Some(seed)) if seed.len() != 32 => {
            return Err(syntax(
                "boot seed",
                format_args!("invalid length {} (MUST be 32 bytes)", seed.len()),
            ));
        }
        (Profile::P2, Some(seed)) if !(8..=32).contains(&seed.len()) => {
            return Err(syntax(
                "boot seed",
                format_args!(
                    "invalid length {} (MUST be between 8 and 32 bytes)",
                    seed.len()
                ),
            ));
        }
        _ => {}
    }

    if let Some(cr) = raw.certification_reference {
        match profile {
            Profile::P1 if !is_ean13(cr) && !is_ean13_5(cr) => {
                return Err(syntax(
                    "certification reference",
                    "MUST be in EAN-13 or EAN-13+5 format",
                ));
            }
            Profile::P2 if !is_ean13_5(cr) => {
                return Err(syntax(
                    "certification reference",
                    "MUST be in EAN-13+5 format",
                ));
            }
            _ => {}
        }
    }

    Ok(Claims {
        profile,
        profile_name: raw.profile,
        client_id,
        security_lifecycle: lifecycle,
        implementation_id,
        instance_id,
        nonce,
        boot_seed: raw.boot_seed.map(<[u8]>::to_vec),
        certification_reference: raw.certification_reference.map(str::to_owned),
        sw_components,
        no_sw_measurements: raw.no_sw_measurements,
        vsi: raw.vsi.map(str::to_owned),
    })
}

fn validate_sw_components(profile: Profile, raw: &Raw<'_>) -> Result<Vec<SwComponent>, TokenError> {
    const CLAIM: &str = "software components";
    let comps = raw.sw_components.as_deref().unwrap_or_default();
    if comps.is_empty() {
        return match (profile, raw.no_sw_measurements) {
            (Profile::P1, Some(_)) => Ok(Vec::new()),
            (Profile::P1, None) => Err(TokenError::validation(
                CLAIM,
                format!(
                    "{MISSING_CLAIM} (MUST have at least one sw component or no-sw-measurements set)"
                ),
            )),
            (Profile::P2, _) => Err(TokenError::validation(
                CLAIM,
                format!("{MISSING_CLAIM} (MUST have at least one sw component)"),
            )),
        };
    }
    if raw.no_sw_measurements.is_some() {
        return Err(syntax(
            CLAIM,
            "psa-no-sw-measurement and psa-software-components cannot be present at the same time",
        ));
    }
    comps
        .iter()
        .enumerate()
        .map(|(i, sw)| {
            let fail = |field: &str, why: String| {
                TokenError::validation(CLAIM, format!("failed at index {i}: {field}: {why}"))
            };
            let value = sw
                .measurement_value
                .ok_or_else(|| fail("measurement value", MISSING_FIELD.to_owned()))?;
            check_hash(value.len()).map_err(|e| fail("measurement value", e))?;
            let signer = sw
                .signer_id
                .ok_or_else(|| fail("signer ID", MISSING_FIELD.to_owned()))?;
            check_hash(signer.len()).map_err(|e| fail("signer ID", e))?;
            Ok(SwComponent {
                measurement_type: sw.measurement_type.map(str::to_owned),
                measurement_value: value.to_vec(),
                version: sw.version.map(str::to_owned),
                signer_id: signer.to_vec(),
                measurement_desc: sw.measurement_desc.map(str::to_owned),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_ranges() {
        assert_eq!(
            LifecycleState::from_raw(0x0000),
            Some(LifecycleState::Unknown)
        );
        assert_eq!(
            LifecycleState::from_raw(0x00ff),
            Some(LifecycleState::Unknown)
        );
        assert_eq!(LifecycleState::from_raw(0x0100), None);
        assert_eq!(
            LifecycleState::from_raw(0x10ab),
            Some(LifecycleState::AssemblyAndTest)
        );
        assert_eq!(
            LifecycleState::from_raw(0x2000),
            Some(LifecycleState::PsaRotProvisioning)
        );
        assert_eq!(
            LifecycleState::from_raw(0x3000),
            Some(LifecycleState::Secured)
        );
        assert_eq!(
            LifecycleState::from_raw(12288),
            Some(LifecycleState::Secured)
        );
        assert_eq!(
            LifecycleState::from_raw(0x40ff),
            Some(LifecycleState::NonPsaRotDebug)
        );
        assert_eq!(
            LifecycleState::from_raw(0x5001),
            Some(LifecycleState::RecoverablePsaRotDebug)
        );
        assert_eq!(
            LifecycleState::from_raw(0x60ff),
            Some(LifecycleState::Decommissioned)
        );
        assert_eq!(LifecycleState::from_raw(0x6100), None);
        assert_eq!(LifecycleState::from_raw(0x7000), None);
        assert_eq!(LifecycleState::from_raw(0xffff), None);
        assert_eq!(LifecycleState::Secured.to_string(), "secured");
    }

    #[test]
    fn certification_reference_formats() {
        assert!(is_ean13("1234567890123"));
        assert!(!is_ean13("123456789012"));
        assert!(!is_ean13("123456789012a"));
        assert!(is_ean13_5("1234567890123-12345"));
        assert!(!is_ean13_5("1234567890123-1234"));
        assert!(!is_ean13_5("1234567890123+12345"));
        assert!(!is_ean13_5("1234567890123-1234a"));
        // Non-ASCII digits do not count (Go's \d is ASCII-only).
        assert!(!is_ean13("١٢٣٤٥٦٧٨٩٠١٢٣"));
    }

    #[test]
    fn oids_render_dotted() {
        assert_eq!(
            oid_to_string(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37]).as_deref(),
            Some("1.3.6.1.4.1.311")
        );
        assert_eq!(oid_to_string(&[]), None);
        assert_eq!(oid_to_string(&[0x2b, 0x86]), None);
    }
}
