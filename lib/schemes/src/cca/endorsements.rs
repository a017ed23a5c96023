//! Arm CCA endorsements from CoRIMs in Veraison's encodings.
//!
//! Platform CoRIMs carry the CPAK trust anchors (attest-key triples keyed by
//! implementation ID and instance ID) and the platform reference values
//! (software components and the platform configuration, keyed by
//! implementation ID). Realm CoRIMs carry realm reference values keyed by
//! the realm initial measurement (RIM).
//!
//! Error texts follow Veraison's: the `veraison/corim` CCA profiles for the
//! current encoding (`tag:arm.com,2025:cca_*`), `services@dbf3c3c8` for the
//! legacy one (`http://arm.com/cca/*`), with the position of the offending
//! triple appended, so submitters can find it. The Parsec CCA scheme reuses
//! the platform half ([`extract_platform`]).

use vouch_corim::{
    ClassId, Comid, Corim, CryptoKey, Environment, Instance, MeasurementKey, RegisterId,
};
use vouch_crypto::VerifyingKey;

use super::measurement::{
    CcaReference, Digest, Hex, MatchRule, PlatformConfig, REM_COUNT, RealmReference,
    SoftwareComponent,
};
use super::{
    IMPLEMENTATION_ID_LEN, INSTANCE_ID_LEN, platform_reference_id, realm_reference_id,
    trust_anchor_id,
};
use crate::{EndorsementError, Endorsements, ReferenceValue, TrustAnchor, TrustAnchorKey};

/// The mkey of a platform software component (current encoding).
pub(crate) const SOFTWARE_COMPONENT_MKEY: &str = "cca.software-component";
/// The mkey of the platform configuration (current encoding).
pub(crate) const PLATFORM_CONFIG_MKEY: &str = "cca.platform-config";
/// The mkey of the realm initial measurement.
pub(crate) const RIM_MKEY: &str = "cca.rim";
/// The mkeys of the realm extensible measurements.
pub(crate) const REM_MKEYS: [&str; REM_COUNT] = ["cca.rem0", "cca.rem1", "cca.rem2", "cca.rem3"];
/// The mkey of the realm personalization value.
pub(crate) const RPV_MKEY: &str = "cca.rpv";

/// Which of Veraison's encodings a CoRIM (or one triple) uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `tag:arm.com,2025:cca_*`: tagged-bytes class IDs, text mkeys.
    Current,
    /// `http://arm.com/cca/*`: `psa.impl-id` class IDs, `psa.refval-id`
    /// and `#6.602` mkeys, realm integrity registers.
    Legacy,
    /// One profile for both (Parsec CCA): each triple's class ID says which.
    ByClassId,
}

/// Checks that the CoRIM declares the profile its media type named.
pub(crate) fn check_profile(corim: &Corim, profile: &str) -> Result<(), EndorsementError> {
    match corim.profile.as_ref().and_then(|p| p.as_text()).as_deref() {
        Some(p) if p == profile => Ok(()),
        Some(p) => Err(EndorsementError::new(format!(
            "CoRIM profile {p:?} does not match the media type profile {profile:?}"
        ))),
        None => Err(EndorsementError::new(format!(
            "no profile information set in CoRIM; expected {profile:?}"
        ))),
    }
}

fn at(message: String, comid: usize, what: &str, index: usize) -> EndorsementError {
    EndorsementError::new(format!("{message} (CoMID {comid}, {what} {index})"))
}

fn comids(corim: &Corim) -> impl Iterator<Item = (usize, &Comid)> {
    corim.comids().enumerate()
}

/// The platform endorsements of a CoRIM (whose profile the caller checked):
/// CPAK trust anchors and platform reference values. `scheme` names the
/// scheme in the error for a CoRIM with neither.
pub(crate) fn extract_platform(
    corim: &Corim,
    encoding: Encoding,
    scheme: &str,
) -> Result<Endorsements, EndorsementError> {
    let mut out = Endorsements {
        not_after: corim.validity.as_ref().map(|v| v.not_after),
        ..Endorsements::default()
    };
    for (c, comid) in comids(corim) {
        for (t, triple) in comid.triples.attest_key_triples.iter().enumerate() {
            let ta = trust_anchor(&triple.environment, &triple.keys, encoding)
                .map_err(|m| at(m, c, "attest-key triple", t))?;
            out.trust_anchors.push(ta);
        }
        for (t, triple) in comid.triples.reference_triples.iter().enumerate() {
            let env = &triple.environment;
            let encoding = resolve(env, encoding).map_err(|m| at(m, c, "reference triple", t))?;
            let implementation_id =
                implementation_id(env, encoding).map_err(|m| at(m, c, "reference triple", t))?;
            if env.instance.is_some() {
                return Err(at(
                    "instance set for reference value".to_owned(),
                    c,
                    "reference triple",
                    t,
                ));
            }
            for (i, m) in triple.measurements.iter().enumerate() {
                let reference = platform_measurement(m, i, encoding)
                    .map_err(|msg| at(msg, c, "reference triple", t))?;
                out.reference_values.push(ReferenceValue {
                    reference_id: platform_reference_id(&implementation_id),
                    body: crate::encode_reference(&reference),
                });
            }
        }
    }
    if out.trust_anchors.is_empty() && out.reference_values.is_empty() {
        return Err(EndorsementError::new(format!(
            "CoRIM carries no {scheme} platform endorsements (no attest-key or reference-value \
             triples)"
        )));
    }
    Ok(out)
}

/// The realm endorsements of a CoRIM (whose profile the caller checked).
pub(crate) fn extract_realm(
    corim: &Corim,
    encoding: Encoding,
) -> Result<Endorsements, EndorsementError> {
    let mut out = Endorsements {
        not_after: corim.validity.as_ref().map(|v| v.not_after),
        ..Endorsements::default()
    };
    for (c, comid) in comids(corim) {
        if !comid.triples.attest_key_triples.is_empty() {
            return Err(at(
                "a CCA realm CoRIM carries reference values only, not attest-key triples"
                    .to_owned(),
                c,
                "attest-key triple",
                0,
            ));
        }
        for (t, triple) in comid.triples.reference_triples.iter().enumerate() {
            let realms = match encoding {
                Encoding::Legacy => legacy_realm(&triple.environment, &triple.measurements),
                Encoding::Current | Encoding::ByClassId => {
                    current_realm(&triple.environment, &triple.measurements).map(|r| vec![r])
                }
            }
            .map_err(|m| at(m, c, "reference triple", t))?;
            for realm in realms {
                out.reference_values.push(ReferenceValue {
                    reference_id: realm_reference_id(&realm.rim),
                    body: crate::encode_reference(&CcaReference::Realm(realm)),
                });
            }
        }
    }
    if out.reference_values.is_empty() {
        return Err(EndorsementError::new(
            "CoRIM carries no CCA realm reference values",
        ));
    }
    Ok(out)
}

/// The encoding of one platform triple: the CoRIM's, or for
/// [`Encoding::ByClassId`] the one its class ID belongs to.
fn resolve(env: &Environment, encoding: Encoding) -> Result<Encoding, String> {
    if encoding != Encoding::ByClassId {
        return Ok(encoding);
    }
    let class = env
        .class
        .as_ref()
        .ok_or_else(|| "environment.class is required".to_owned())?;
    match &class.class_id {
        Some(ClassId::Bytes(_)) => Ok(Encoding::Current),
        Some(ClassId::PsaImplId(_)) => Ok(Encoding::Legacy),
        Some(other) => Err(format!(
            "implementation-id must be tagged bytes (#6.560) or psa.impl-id (#6.600), got '{}'",
            other.kind()
        )),
        None => Err("environment.class.class-id (implementation-id) is required".to_owned()),
    }
}

fn implementation_id(
    env: &Environment,
    encoding: Encoding,
) -> Result<[u8; IMPLEMENTATION_ID_LEN], String> {
    let legacy = encoding == Encoding::Legacy;
    let class = env.class.as_ref().ok_or_else(|| {
        if legacy {
            "class not set".to_owned()
        } else {
            "environment.class is required".to_owned()
        }
    })?;
    let class_id = class.class_id.as_ref().ok_or_else(|| {
        if legacy {
            "class ID not set".to_owned()
        } else {
            "environment.class.class-id (implementation-id) is required".to_owned()
        }
    })?;
    let bytes = match (legacy, class_id) {
        (false, ClassId::Bytes(b)) | (true, ClassId::PsaImplId(b)) => b,
        (false, other) => {
            return Err(format!(
                "implementation-id must be of type 'bytes', got '{}'",
                other.kind()
            ));
        }
        (true, other) => {
            return Err(format!(
                "class ID: expected psa.impl-id, got {}",
                other.kind()
            ));
        }
    };
    <[u8; IMPLEMENTATION_ID_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "implementation-id must be exactly 32 bytes, got {}",
            bytes.len()
        )
    })
}

fn instance_id(env: &Environment, encoding: Encoding) -> Result<[u8; INSTANCE_ID_LEN], String> {
    let legacy = encoding == Encoding::Legacy;
    let ueid = match (legacy, env.instance.as_ref()) {
        (_, Some(Instance::Ueid(b))) => b,
        (false, None) => return Err("environment.instance (instance-id) is required".to_owned()),
        (true, None) => return Err("instance not set for trust anchor".to_owned()),
        (false, Some(other)) => {
            return Err(format!(
                "instance-id must be of type 'ueid', got '{}'",
                other.kind()
            ));
        }
        (true, Some(other)) => {
            return Err(format!("instance: expected UEID, got {}", other.kind()));
        }
    };
    match <[u8; INSTANCE_ID_LEN]>::try_from(ueid.as_slice()) {
        Ok(id) if id[0] == 0x01 => Ok(id),
        _ => Err(format!(
            "instance-id must be a 33-byte random UEID (0x01 followed by 32 bytes), got {} bytes",
            ueid.len()
        )),
    }
}

fn trust_anchor(
    env: &Environment,
    keys: &[CryptoKey],
    encoding: Encoding,
) -> Result<TrustAnchor, String> {
    let encoding = resolve(env, encoding)?;
    let legacy = encoding == Encoding::Legacy;
    let implementation_id = implementation_id(env, encoding)?;
    let instance_id = instance_id(env, encoding)?;
    let [key] = keys else {
        return Err(if legacy {
            "expecting exactly one CPAK public key".to_owned()
        } else {
            "verification-keys must contain exactly one entry".to_owned()
        });
    };
    let CryptoKey::PkixBase64Key(pem) = key else {
        return Err(if legacy {
            format!(
                "trust anchor must be a PKIX base64 key, found: {}",
                key.kind()
            )
        } else {
            format!(
                "verification-key must be of type 'pkix-base64-key', got '{}'",
                key.kind()
            )
        });
    };
    let key = VerifyingKey::from_pem(pem).map_err(|e| format!("verification-key: {e}"))?;
    Ok(TrustAnchor {
        id: trust_anchor_id(&implementation_id, &instance_id),
        reference_id: platform_reference_id(&implementation_id),
        key: TrustAnchorKey::Key(key),
    })
}

fn platform_measurement(
    m: &vouch_corim::Measurement,
    index: usize,
    encoding: Encoding,
) -> Result<CcaReference, String> {
    let legacy = encoding == Encoding::Legacy;
    match (legacy, m.key.as_ref()) {
        (false, Some(MeasurementKey::Text(mkey))) if mkey == SOFTWARE_COMPONENT_MKEY => {
            let digests = digests(m, index, false)?;
            let mut signer_id = None;
            for key in m.values.cryptokeys.iter().flatten() {
                let CryptoKey::Bytes(b) = key else {
                    return Err(format!(
                        "measurement {index}: cryptokeys (signer-id) must be of type 'bytes', \
                         got '{}'",
                        key.kind()
                    ));
                };
                signer_id.get_or_insert_with(|| b.clone());
            }
            Ok(CcaReference::SoftwareComponent(SoftwareComponent {
                rule: MatchRule::CcaComponent,
                name: m.values.name.clone(),
                version: m.values.version.as_ref().map(|v| v.version.clone()),
                signer_id,
                digests,
            }))
        }
        (false, Some(MeasurementKey::Text(mkey))) if mkey == PLATFORM_CONFIG_MKEY => {
            let value = m.values.raw_value.as_ref().ok_or_else(|| {
                format!("measurement {index}: raw-value is mandatory for {PLATFORM_CONFIG_MKEY}")
            })?;
            Ok(CcaReference::PlatformConfig(PlatformConfig {
                label: None,
                value: value.bytes().to_vec(),
            }))
        }
        (false, Some(MeasurementKey::Text(mkey))) => {
            Err(format!("measurement {index}: invalid mkey {mkey:?}"))
        }
        (false, Some(other)) => Err(format!(
            "measurement {index}: mkey must be of type 'string', got '{}'",
            other.kind()
        )),
        (false, None) => Err(format!(
            "measurement {index}: mkey is mandatory but not set"
        )),
        (true, Some(MeasurementKey::PsaRefValId(id))) => {
            Ok(CcaReference::SoftwareComponent(SoftwareComponent {
                rule: MatchRule::PsaRefValId,
                name: id.label.clone(),
                version: id.version.clone(),
                signer_id: id.signer_id.clone(),
                digests: digests(m, index, true)?,
            }))
        }
        (true, Some(MeasurementKey::CcaPlatformConfigId(label))) => {
            let value = m
                .values
                .raw_value
                .as_ref()
                .ok_or_else(|| format!("measurement {index} value: no raw value"))?;
            Ok(CcaReference::PlatformConfig(PlatformConfig {
                label: Some(label.clone()),
                value: value.bytes().to_vec(),
            }))
        }
        (true, Some(other)) => Err(format!(
            "measurement {index} key: unexpected type {}",
            other.kind()
        )),
        (true, None) => Err(format!("measurement {index} key not set")),
    }
}

/// A measurement's digests, checked (the legacy encoding wants exactly one).
fn digests(
    m: &vouch_corim::Measurement,
    index: usize,
    legacy: bool,
) -> Result<Vec<Digest>, String> {
    let found = match m.values.digests.as_deref() {
        None | Some([]) if legacy => return Err(format!("measurement {index} value: no digests")),
        None | Some([]) => {
            return Err(format!(
                "measurement {index}: digests field is mandatory but not set"
            ));
        }
        Some(found) => found,
    };
    if legacy && found.len() != 1 {
        return Err(format!(
            "measurement {index}: expecting exactly one digest, found {}",
            found.len()
        ));
    }
    found
        .iter()
        .map(|d| digest(d).map_err(|e| format!("measurement {index}: {e}")))
        .collect()
}

/// The one digest of a realm measurement or register.
fn single_digest(what: &str, digests: Option<&[vouch_corim::Digest]>) -> Result<Vec<u8>, String> {
    match digests {
        None | Some([]) => Err(format!("{what}: digests field is mandatory but not set")),
        Some([d]) => digest(d)
            .map(|d| d.value)
            .map_err(|e| format!("{what}: {e}")),
        Some(many) => Err(format!(
            "{what}: expected exactly 1 digest in measurement; found {}",
            many.len()
        )),
    }
}

/// Converts and checks one digest: a known algorithm's digest must have its
/// length; any digest must be 32, 48 or 64 bytes (the CCA hash sizes).
fn digest(d: &vouch_corim::Digest) -> Result<Digest, String> {
    let alg = match &d.alg {
        vouch_corim::DigestAlg::Int(i) => *i,
        vouch_corim::DigestAlg::Text(t) => {
            named_hash_alg(t).ok_or_else(|| format!("unknown digest algorithm {t:?}"))?
        }
    };
    let len = d.value.len();
    if let Some((name, want)) = hash_len(alg)
        && want != len
    {
        return Err(format!(
            "digest length mismatch: {name} digests are {want} bytes, got {len}"
        ));
    }
    if ![32, 48, 64].contains(&len) {
        return Err(format!("digests must be 32, 48, or 64 bytes, got {len}"));
    }
    Ok(Digest {
        alg,
        value: d.value.clone(),
    })
}

/// Named Information Hash Algorithm Registry ids for the names CoRIMs use.
fn named_hash_alg(name: &str) -> Option<i64> {
    Some(match name {
        "sha-256" => 1,
        "sha-384" => 7,
        "sha-512" => 8,
        "sha3-256" => 10,
        "sha3-384" => 11,
        "sha3-512" => 12,
        _ => return None,
    })
}

/// The digest length of the full-length algorithms of the registry.
fn hash_len(alg: i64) -> Option<(&'static str, usize)> {
    Some(match alg {
        1 => ("sha-256", 32),
        7 => ("sha-384", 48),
        8 => ("sha-512", 64),
        10 => ("sha3-256", 32),
        11 => ("sha3-384", 48),
        12 => ("sha3-512", 64),
        _ => return None,
    })
}

fn check_rim_len(rim: &[u8]) -> Result<(), String> {
    if [32, 48, 64].contains(&rim.len()) {
        Ok(())
    } else {
        Err(format!(
            "RIM must be 32, 48, or 64 bytes, got {}",
            rim.len()
        ))
    }
}

/// `tag:arm.com,2025:cca_realm#1.0.0`: the RIM is the class ID, the
/// measurements are `cca.rim`, `cca.rem0..3` (one digest each) and
/// `cca.rpv` (a raw value).
fn current_realm(
    env: &Environment,
    measurements: &[vouch_corim::Measurement],
) -> Result<RealmReference, String> {
    let class = env
        .class
        .as_ref()
        .ok_or_else(|| "environment.class is required for CCA Realm profile".to_owned())?;
    let rim = match &class.class_id {
        Some(ClassId::Bytes(b)) => b.clone(),
        Some(other) => {
            return Err(format!(
                "RIM must be of type 'bytes', got '{}'",
                other.kind()
            ));
        }
        None => return Err("environment.class.class-id (RIM) is required".to_owned()),
    };
    check_rim_len(&rim)?;
    if env.instance.is_some() {
        return Err("instance must not be set for a CCA realm reference value".to_owned());
    }
    let mut found_rim = None;
    let mut rems: [Option<Hex>; REM_COUNT] = Default::default();
    let mut rpv = None;
    for (i, m) in measurements.iter().enumerate() {
        let mkey = match &m.key {
            Some(MeasurementKey::Text(t)) => t.as_str(),
            Some(other) => {
                return Err(format!(
                    "measurement {i}: mkey must be of type 'string', got '{}'",
                    other.kind()
                ));
            }
            None => return Err(format!("measurement {i}: mkey is mandatory but not set")),
        };
        let duplicate = || format!("measurement {i}: duplicate {mkey}");
        if mkey == RIM_MKEY {
            let value = single_digest(&format!("measurement {i}"), m.values.digests.as_deref())?;
            if found_rim.replace(value).is_some() {
                return Err(duplicate());
            }
        } else if let Some(n) = REM_MKEYS.iter().position(|k| *k == mkey) {
            let value = single_digest(&format!("measurement {i}"), m.values.digests.as_deref())?;
            let slot = rems
                .get_mut(n)
                .ok_or_else(|| format!("measurement {i}: no REM {n}"))?;
            if slot.replace(Hex(value)).is_some() {
                return Err(duplicate());
            }
        } else if mkey == RPV_MKEY {
            let value =
                m.values.raw_value.as_ref().ok_or_else(|| {
                    format!("measurement {i}: raw-value is mandatory for {RPV_MKEY}")
                })?;
            if rpv.replace(Hex(value.bytes().to_vec())).is_some() {
                return Err(duplicate());
            }
        } else {
            return Err(format!("measurement {i}: invalid mkey {mkey:?}"));
        }
    }
    let Some(measured) = found_rim else {
        return Err(format!(
            "RIM ({RIM_MKEY}) measurement is mandatory but not found"
        ));
    };
    if measured != rim {
        // The class ID is what evidence is looked up by, the measurement what
        // it is compared with: they must be one value.
        return Err(format!(
            "the {RIM_MKEY} digest ({}) does not match the RIM in environment.class.class-id ({})",
            hex::encode(&measured),
            hex::encode(&rim)
        ));
    }
    Ok(RealmReference { rim, rems, rpv })
}

/// `http://arm.com/cca/realm/1`: the RIM is the instance (tagged bytes), each
/// measurement holds integrity registers `rim`, `rem0..3` and the
/// personalization value as its raw value.
fn legacy_realm(
    env: &Environment,
    measurements: &[vouch_corim::Measurement],
) -> Result<Vec<RealmReference>, String> {
    let rim = match &env.instance {
        Some(Instance::Bytes(b)) => b.clone(),
        Some(other) => return Err(format!("instance: expected bytes, got {}", other.kind())),
        None => return Err("instance not set".to_owned()),
    };
    if let Some(class_id) = env.class.as_ref().and_then(|c| c.class_id.as_ref())
        && !matches!(class_id, ClassId::Uuid(_))
    {
        return Err(format!("class ID: expected uuid, got {}", class_id.kind()));
    }
    check_rim_len(&rim)?;
    if measurements.is_empty() {
        return Err("no measurements".to_owned());
    }
    let mut realms = Vec::with_capacity(measurements.len());
    for (i, m) in measurements.iter().enumerate() {
        let registers = match m.values.integrity_registers.as_deref() {
            None | Some([]) => return Err(format!("measurement {i}: integrity registers not set")),
            Some(r) => r,
        };
        let rpv = m
            .values
            .raw_value
            .as_ref()
            .ok_or_else(|| format!("measurement {i}: personalization (raw value) not set"))?;
        let mut found_rim = None;
        let mut rems: [Option<Hex>; REM_COUNT] = Default::default();
        for register in registers {
            let label = match &register.id {
                RegisterId::Label(l) => l.as_str(),
                RegisterId::Index(n) => {
                    return Err(format!(
                        "measurement {i}: integrity register {n}: expected a label (rim, \
                         rem0..rem3)"
                    ));
                }
            };
            let what = format!("measurement {i}: integrity register {label}");
            let value = single_digest(&what, Some(&register.digests))?;
            let index = match label {
                "rim" => None,
                "rem0" => Some(0),
                "rem1" => Some(1),
                "rem2" => Some(2),
                "rem3" => Some(3),
                other => {
                    return Err(format!(
                        "measurement {i}: unknown integrity register {other:?}"
                    ));
                }
            };
            let taken = match index {
                None => found_rim.replace(value).is_some(),
                Some(n) => rems
                    .get_mut(n)
                    .ok_or_else(|| format!("{what}: no such register"))?
                    .replace(Hex(value))
                    .is_some(),
            };
            if taken {
                return Err(format!("{what}: duplicate"));
            }
        }
        let measured =
            found_rim.ok_or_else(|| format!("measurement {i}: integrity register rim not set"))?;
        if measured != rim {
            return Err(format!(
                "measurement {i}: integrity register rim ({}) does not match the instance (RIM {})",
                hex::encode(&measured),
                hex::encode(&rim)
            ));
        }
        realms.push(RealmReference {
            rim: rim.clone(),
            rems,
            rpv: Some(Hex(rpv.bytes().to_vec())),
        });
    }
    Ok(realms)
}
