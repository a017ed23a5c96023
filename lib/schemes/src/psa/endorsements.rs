//! PSA endorsements from CoRIMs in Veraison's two encodings.
//!
//! Error texts follow Veraison's (HEAD `veraison/corim` PSA profile for the
//! current encoding, `services@dbf3c3c8` for the legacy one), with the
//! position of the offending triple appended, so submitters can find it.

use vouch_corim::{
    ClassId, Comid, ConciseTag, Corim, CryptoKey, Environment, Instance, MeasurementKey,
};
use vouch_crypto::VerifyingKey;

use super::{Digest, MatchRule, Measurement};
use super::{PROFILE_CURRENT, PROFILE_LEGACY, trust_anchor_id};
use crate::{EndorsementError, Endorsements, ReferenceValue, TrustAnchor, TrustAnchorKey};

/// The mkey of a reference value in the current encoding.
const SOFTWARE_COMPONENT_MKEY: &str = "psa.software-component";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Current,
    Legacy,
}

pub(super) fn extract(corim: &Corim, profile: &str) -> Result<Endorsements, EndorsementError> {
    let encoding = match profile {
        PROFILE_CURRENT => Encoding::Current,
        PROFILE_LEGACY => Encoding::Legacy,
        other => {
            return Err(EndorsementError::new(format!(
                "profile {other:?} is not a PSA_IOT profile"
            )));
        }
    };
    let declared = corim.profile.as_ref().and_then(|p| p.as_text());
    match declared.as_deref() {
        Some(p) if p == profile => {}
        Some(p) => {
            return Err(EndorsementError::new(format!(
                "CoRIM profile {p:?} does not match the media type profile {profile:?}"
            )));
        }
        None => {
            return Err(EndorsementError::new(format!(
                "CoRIM declares no profile; expected {profile:?}"
            )));
        }
    }

    let mut out = Endorsements {
        not_after: corim.validity.as_ref().map(|v| v.not_after),
        ..Endorsements::default()
    };
    for (c, tag) in corim.tags.iter().enumerate() {
        let ConciseTag::Comid(comid) = tag else {
            continue;
        };
        extract_comid(comid, c, encoding, &mut out)?;
    }
    if out.trust_anchors.is_empty() && out.reference_values.is_empty() {
        return Err(EndorsementError::new(
            "CoRIM carries no PSA_IOT endorsements (no attest-key or reference-value triples)",
        ));
    }
    Ok(out)
}

fn at(message: String, comid: usize, what: &str, index: usize) -> EndorsementError {
    EndorsementError::new(format!("{message} (CoMID {comid}, {what} {index})"))
}

fn extract_comid(
    comid: &Comid,
    c: usize,
    encoding: Encoding,
    out: &mut Endorsements,
) -> Result<(), EndorsementError> {
    for (t, triple) in comid.triples.attest_key_triples.iter().enumerate() {
        let ta = trust_anchor(&triple.environment, &triple.keys, encoding)
            .map_err(|m| at(m, c, "attest-key triple", t))?;
        out.trust_anchors.push(ta);
    }
    for (t, triple) in comid.triples.reference_triples.iter().enumerate() {
        let implementation_id = implementation_id(&triple.environment, encoding)
            .map_err(|m| at(m, c, "reference triple", t))?;
        if triple.environment.instance.is_some() {
            return Err(at(
                "instance set for reference value".to_owned(),
                c,
                "reference triple",
                t,
            ));
        }
        for (i, m) in triple.measurements.iter().enumerate() {
            let measurement =
                measurement(m, i, encoding).map_err(|msg| at(msg, c, "reference triple", t))?;
            out.reference_values.push(ReferenceValue {
                reference_id: implementation_id.to_vec(),
                body: crate::encode_reference(&measurement),
            });
        }
    }
    Ok(())
}

fn implementation_id(env: &Environment, encoding: Encoding) -> Result<[u8; 32], String> {
    let class_id = env
        .class
        .as_ref()
        .and_then(|c| c.class_id.as_ref())
        .ok_or_else(|| "environment.class.class-id (implementation-id) is required".to_owned())?;
    let bytes = match (encoding, class_id) {
        (Encoding::Current, ClassId::Bytes(b)) | (Encoding::Legacy, ClassId::PsaImplId(b)) => b,
        (Encoding::Current, other) => {
            return Err(format!(
                "implementation-id must be of type 'bytes', got '{}'",
                other.kind()
            ));
        }
        (Encoding::Legacy, other) => {
            return Err(format!(
                "class ID: expected psa.impl-id, got {}",
                other.kind()
            ));
        }
    };
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| "implementation-id must be exactly 32 bytes".to_owned())
}

fn instance_id(env: &Environment, encoding: Encoding) -> Result<[u8; 33], String> {
    let ueid = match (encoding, env.instance.as_ref()) {
        (_, Some(Instance::Ueid(b))) => b,
        (Encoding::Current, None) => {
            return Err("environment.instance (instance-id) is required".to_owned());
        }
        (Encoding::Legacy, None) => return Err("instance not set for trust anchor".to_owned()),
        (Encoding::Current, Some(other)) => {
            return Err(format!(
                "instance-id must be of type 'ueid', got '{}'",
                other.kind()
            ));
        }
        (Encoding::Legacy, Some(other)) => {
            return Err(format!("instance: expected UEID, got {}", other.kind()));
        }
    };
    match <[u8; 33]>::try_from(ueid.as_slice()) {
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
    let implementation_id = implementation_id(env, encoding)?;
    let instance_id = instance_id(env, encoding)?;
    let [key] = keys else {
        return Err(match encoding {
            Encoding::Current => "verification-keys must contain exactly one entry".to_owned(),
            Encoding::Legacy => "expecting exactly one IAK public key".to_owned(),
        });
    };
    let CryptoKey::PkixBase64Key(pem) = key else {
        return Err(match encoding {
            Encoding::Current => format!(
                "verification-key must be of type 'pkix-base64-key', got '{}'",
                key.kind()
            ),
            Encoding::Legacy => format!(
                "trust anchor must be a PKIX base64 key, found: {}",
                key.kind()
            ),
        });
    };
    let key = VerifyingKey::from_pem(pem).map_err(|e| format!("verification-key: {e}"))?;
    Ok(TrustAnchor {
        id: trust_anchor_id(&implementation_id, &instance_id),
        reference_id: implementation_id.to_vec(),
        key: TrustAnchorKey::Key(key),
    })
}

fn measurement(
    m: &vouch_corim::Measurement,
    index: usize,
    encoding: Encoding,
) -> Result<Measurement, String> {
    let (rule, name, version, signer_id) = match (encoding, m.key.as_ref()) {
        (Encoding::Current, Some(MeasurementKey::Text(mkey))) => {
            if mkey != SOFTWARE_COMPONENT_MKEY {
                return Err(format!(
                    "measurement {index}: mkey must be {SOFTWARE_COMPONENT_MKEY:?}, got {mkey:?}"
                ));
            }
            let signer_id = m.values.cryptokeys.as_ref().and_then(|keys| {
                keys.iter().find_map(|k| match k {
                    CryptoKey::Bytes(b) => Some(b.clone()),
                    _ => None,
                })
            });
            (
                MatchRule::PsaComponent,
                m.values.name.clone(),
                m.values.version.as_ref().map(|v| v.version.clone()),
                signer_id,
            )
        }
        (Encoding::Current, Some(other)) => {
            return Err(format!(
                "mkey must be of type 'string', got '{}'",
                other.kind()
            ));
        }
        (Encoding::Legacy, Some(MeasurementKey::PsaRefValId(id))) => (
            MatchRule::PsaRefValId,
            id.label.clone(),
            id.version.clone(),
            id.signer_id.clone(),
        ),
        (Encoding::Legacy, Some(other)) => {
            return Err(format!(
                "measurement {index} key: expected psa.refval-id, got {}",
                other.kind()
            ));
        }
        (_, None) => return Err("measurement key is not present".to_owned()),
    };
    let digests = match m.values.digests.as_deref() {
        None | Some([]) => return Err(format!("measurement {index} value: no digests")),
        Some([d]) => vec![Digest {
            alg: match &d.alg {
                vouch_corim::DigestAlg::Int(i) => *i,
                vouch_corim::DigestAlg::Text(t) => named_hash_alg(t).ok_or_else(|| {
                    format!("measurement {index}: unknown digest algorithm {t:?}")
                })?,
            },
            value: d.value.clone(),
        }],
        Some(many) => {
            return Err(format!(
                "measurement {index}: expecting exactly one digest, found {}",
                many.len()
            ));
        }
    };
    Ok(Measurement {
        rule,
        name,
        version,
        signer_id,
        digests,
    })
}

/// Named Information Hash Algorithm Registry ids for the names CoRIMs use.
fn named_hash_alg(name: &str) -> Option<i64> {
    Some(match name {
        "sha-256" => 1,
        "sha-256-128" => 2,
        "sha-256-120" => 3,
        "sha-256-96" => 4,
        "sha-256-64" => 5,
        "sha-256-32" => 6,
        "sha-384" => 7,
        "sha-512" => 8,
        "sha3-224" => 9,
        "sha3-256" => 10,
        "sha3-384" => 11,
        "sha3-512" => 12,
        _ => return None,
    })
}
