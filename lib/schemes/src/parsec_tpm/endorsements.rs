//! Parsec TPM endorsements from CoRIMs.
//!
//! * An attest-key triple's environment is `{class: {class-id: 37(uuid)},
//!   instance: 560(kid)}` (legacy: `550(kid)`; Vouch takes either tag in
//!   both encodings, the bytes are the same UEID), with exactly one
//!   `pkix-base64-key`, the AK. The trust anchor is stored under the kid;
//!   its reference id is the class.
//! * A reference triple's environment is `{class: {class-id: 37(uuid)}}`;
//!   each measurement is one PCR: `mkey` the PCR index (uint), `digests` its
//!   value in one or more banks. A triple is one endorsed platform state.
//!
//! Messages follow Veraison's: `services@6b88102`
//! `scheme/parsec-tpm/corim.go` for CoRIMs whose profile is a tag-32 URI
//! (the offending triple's position appended), `services@37fe51d5`
//! `endorsement_handler.go` for legacy ones whose profile is untagged text.
//!
//! Where Vouch is stricter: the CoRIM must be tag 501; the kid must be a
//! valid UEID (evidence with any other kid is refused at decoding, so such a
//! trust anchor could never be used); a reference triple must not name an
//! instance or group (its values apply to the whole class, which such an
//! environment would silently widen); a PCR appears at most once per triple
//! and its digests have their algorithm's length; key-triple conditions,
//! identity, endorsed and other triples are refused rather than ignored;
//! one kid given two different AKs in one CoRIM is refused.

use vouch_corim::{
    ClassId, Comid, ConciseTag, Corim, CryptoKey, DigestAlg, Environment, Instance, MeasurementKey,
    Profile,
};
use vouch_crypto::VerifyingKey;
use vouch_tpm::{MAX_PCR_SELECT_BYTES, Ueid};

use super::{NAME, PROFILE, PcrDigest, PcrReference, PcrValue, class_key, trust_anchor_id};
use crate::{EndorsementError, Endorsements, ReferenceValue, TrustAnchor, TrustAnchorKey};

/// Which of Veraison's message sets applies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Profile as a tag-32 URI (Veraison HEAD).
    Current,
    /// Profile as untagged text (Veraison's KV-store era).
    Legacy,
}

/// The highest PCR index a quote can select.
const MAX_PCR: u64 = (MAX_PCR_SELECT_BYTES as u64) * 8 - 1;

pub(super) fn extract(corim: &Corim, profile: &str) -> Result<Endorsements, EndorsementError> {
    if profile != PROFILE {
        return Err(EndorsementError::new(format!(
            "profile {profile:?} is not the {NAME} profile {PROFILE:?}"
        )));
    }
    if !corim.was_tagged {
        return Err(EndorsementError::new("did not see unsigned CoRIM tag"));
    }
    let encoding = match &corim.profile {
        Some(Profile::Uri(p)) if p == profile => Encoding::Current,
        Some(Profile::Text(p)) if p == profile => Encoding::Legacy,
        Some(other) => {
            return Err(EndorsementError::new(format!(
                "CoRIM profile {:?} does not match the media type profile {profile:?}",
                other.as_text().unwrap_or_default()
            )));
        }
        None => {
            return Err(EndorsementError::new(format!(
                "CoRIM declares no profile; expected {profile:?}"
            )));
        }
    };

    let mut out = Endorsements {
        not_after: corim.validity.as_ref().map(|v| v.not_after),
        ..Endorsements::default()
    };
    let mut anchors: Vec<(Vec<u8>, VerifyingKey)> = Vec::new();
    for (c, tag) in corim.tags.iter().enumerate() {
        let ConciseTag::Comid(comid) = tag else {
            continue;
        };
        extract_comid(comid, c, encoding, &mut anchors, &mut out)?;
    }
    if out.trust_anchors.is_empty() && out.reference_values.is_empty() {
        return Err(EndorsementError::new(format!(
            "CoRIM carries no {NAME} endorsements (no attest-key or reference-value triples)"
        )));
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
    anchors: &mut Vec<(Vec<u8>, VerifyingKey)>,
    out: &mut Endorsements,
) -> Result<(), EndorsementError> {
    let triples = &comid.triples;
    let key_error = |message: String, t: usize| match encoding {
        Encoding::Current => at(message, c, "attest-key triple", t),
        Encoding::Legacy => {
            EndorsementError::new(format!("bad key in CoMID at index {c}: {message}"))
        }
    };
    let rv_error = |message: String, t: usize| match encoding {
        Encoding::Current => at(message, c, "reference triple", t),
        Encoding::Legacy => EndorsementError::new(format!(
            "bad software component in CoMID at index {c}: {message}"
        )),
    };

    for (t, triple) in triples.attest_key_triples.iter().enumerate() {
        let ta = trust_anchor(&triple.environment, &triple.keys, encoding)
            .map_err(|m| key_error(m, t))?;
        if triple.conditions.is_some() {
            return Err(key_error(
                format!("conditions are not supported by the {NAME} scheme"),
                t,
            ));
        }
        let TrustAnchorKey::Key(key) = &ta.key else {
            return Err(key_error("trust anchor is not a key".to_owned(), t));
        };
        if anchors
            .iter()
            .any(|(kid, other)| *kid == ta.id && other != key)
        {
            return Err(key_error(
                format!(
                    "kid {} is given two different attestation keys",
                    hex::encode(&ta.id)
                ),
                t,
            ));
        }
        anchors.push((ta.id.clone(), key.clone()));
        out.trust_anchors.push(ta);
    }
    for (t, triple) in triples.reference_triples.iter().enumerate() {
        let class =
            class_id(&triple.environment, encoding, Side::Reference).map_err(|m| rv_error(m, t))?;
        if triple.environment.instance.is_some() || triple.environment.group.is_some() {
            return Err(rv_error(
                "reference values apply to a whole class: the environment must not name an \
                 instance or group"
                    .to_owned(),
                t,
            ));
        }
        let state = pcr_state(&triple.measurements, encoding).map_err(|m| rv_error(m, t))?;
        out.reference_values.push(ReferenceValue {
            reference_id: class_key(&class),
            body: crate::encode_reference(&state),
        });
    }
    let unsupported = [
        (!triples.identity_triples.is_empty(), "identity"),
        (!triples.endorsed_triples.is_empty(), "endorsed-value"),
    ];
    if let Some((_, kind)) = unsupported.iter().find(|(present, _)| *present) {
        return Err(EndorsementError::new(format!(
            "found {kind} triples, which the {NAME} scheme does not support: it takes the AK \
             from attest-key triples and PCR values from reference triples (CoMID {c})"
        )));
    }
    if let Some(other) = triples.other.first() {
        return Err(EndorsementError::new(format!(
            "found triples of kind {}, which the {NAME} scheme does not support (CoMID {c})",
            other.key
        )));
    }
    Ok(())
}

/// Which kind of triple an environment belongs to (for legacy wording).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Key,
    Reference,
}

/// The UUID class-id of an environment.
fn class_id(env: &Environment, encoding: Encoding, side: Side) -> Result<[u8; 16], String> {
    let legacy = |m: &str| match side {
        Side::Key => format!("could not extract id from AVK environment: {m}"),
        Side::Reference => format!("could not extract id from ref-val environment: {m}"),
    };
    let Some(class) = env.class.as_ref() else {
        return Err(match encoding {
            Encoding::Current => "class not set".to_owned(),
            Encoding::Legacy => legacy("class not found in environment"),
        });
    };
    match (encoding, class.class_id.as_ref()) {
        (_, Some(ClassId::Uuid(u))) => Ok(*u),
        (Encoding::Current, None) => Err("class ID not set".to_owned()),
        (Encoding::Current, Some(other)) => {
            Err(format!("class ID: expected uuid, found {}", other.kind()))
        }
        (Encoding::Legacy, None) => Err(legacy("class-id not found in class")),
        (Encoding::Legacy, Some(_)) => Err(legacy("class-id not in UUID format")),
    }
}

/// The Go type Veraison's legacy messages name for a CoMID value kind.
fn go_type(kind: &str) -> &'static str {
    match kind {
        "uuid" => "*comid.TaggedUUID",
        "bytes" => "*comid.TaggedBytes",
        "ueid" => "*comid.TaggedUEID",
        "oid" => "*comid.TaggedOID",
        "string" => "string",
        "uint" => "uint",
        _ => "unknown",
    }
}

fn trust_anchor(
    env: &Environment,
    keys: &[CryptoKey],
    encoding: Encoding,
) -> Result<TrustAnchor, String> {
    let class = class_id(env, encoding, Side::Key)?;
    let kid = match (encoding, env.instance.as_ref()) {
        (_, Some(Instance::Bytes(kid) | Instance::Ueid(kid))) => Some(kid),
        (_, None) => None,
        (Encoding::Current, Some(other)) => {
            return Err(format!("instance: expected bytes, found {}", other.kind()));
        }
        (Encoding::Legacy, Some(other)) => {
            return Err(format!(
                "could not extract id from AVK environment: could not extract instance-id \
                 (UEID) from instance: instance-id type is: {}",
                go_type(other.kind())
            ));
        }
    };
    let Some(kid) = kid else {
        return Err(match encoding {
            Encoding::Current => "instance not set in trust anchor environment".to_owned(),
            Encoding::Legacy => {
                "failed to create trust anchor raw public key: instance not found in ID".to_owned()
            }
        });
    };
    if env.group.is_some() {
        return Err("group set in trust anchor environment".to_owned());
    }
    let kid = Ueid::new(kid).map_err(|e| format!("instance: the kid is not a valid UEID: {e}"))?;
    let [key] = keys else {
        return Err(match encoding {
            Encoding::Current => format!("expected exactly one key but got {}", keys.len()),
            Encoding::Legacy => "expecting exactly one AK public key".to_owned(),
        });
    };
    let CryptoKey::PkixBase64Key(pem) = key else {
        return Err(format!(
            "trust anchor key must be a pkix-base64-key (an ECDSA SubjectPublicKeyInfo PEM), \
             found {}",
            key.kind()
        ));
    };
    let key = VerifyingKey::from_pem(pem).map_err(|e| format!("trust anchor key: {e}"))?;
    Ok(TrustAnchor {
        id: trust_anchor_id(kid.as_bytes()),
        reference_id: class_key(&class),
        key: TrustAnchorKey::Key(key),
    })
}

/// The PCR values of one reference triple.
fn pcr_state(
    measurements: &[vouch_corim::Measurement],
    encoding: Encoding,
) -> Result<PcrReference, String> {
    let mut pcrs: Vec<PcrValue> = Vec::with_capacity(measurements.len());
    for (i, m) in measurements.iter().enumerate() {
        let pcr = match (encoding, m.key.as_ref()) {
            (_, Some(MeasurementKey::Uint(pcr))) => *pcr,
            (Encoding::Current, None) => return Err(format!("measurement {i} has no key")),
            (Encoding::Current, Some(other)) => {
                return Err(format!(
                    "measurement {i} key: expected uint, found {}",
                    other.kind()
                ));
            }
            (Encoding::Legacy, None) => {
                return Err("could not extract PCR: measurement key is not present".to_owned());
            }
            (Encoding::Legacy, Some(other)) => {
                return Err(format!(
                    "could not extract PCR: measurement key is not uint: measurement-key type \
                     is: {}",
                    go_type(other.kind())
                ));
            }
        };
        if pcr > MAX_PCR {
            return Err(format!(
                "measurement {i}: PCR {pcr} is beyond the highest PCR a quote can select \
                 ({MAX_PCR})"
            ));
        }
        // In range by the check above.
        let pcr = u32::try_from(pcr).unwrap_or(u32::MAX);
        if pcrs.iter().any(|p| p.pcr == pcr) {
            return Err(format!("measurement {i}: PCR {pcr} appears more than once"));
        }
        let digests = match m.values.digests.as_deref() {
            Some(digests) if !digests.is_empty() => digests,
            _ => {
                return Err(match encoding {
                    Encoding::Current => format!("measurement {i} does not contain digests"),
                    Encoding::Legacy => {
                        format!("measurement[{i}]: measurement value does not contain digests")
                    }
                });
            }
        };
        let mut values = Vec::with_capacity(digests.len());
        for d in digests {
            let alg = match &d.alg {
                DigestAlg::Int(a) => *a,
                DigestAlg::Text(t) => named_hash_alg(t)
                    .ok_or_else(|| format!("measurement {i}: unknown digest algorithm {t:?}"))?,
            };
            if let Some(len) = digest_len(alg)
                && len != d.value.len()
            {
                return Err(format!(
                    "measurement {i}: digest algorithm {alg} has {len}-byte digests, found {} \
                     bytes",
                    d.value.len()
                ));
            }
            values.push(PcrDigest {
                alg,
                value: d.value.clone(),
            });
        }
        pcrs.push(PcrValue {
            pcr,
            digests: values,
        });
    }
    Ok(PcrReference { pcrs })
}

/// Digest length of the named-information algorithms a PCR bank uses.
fn digest_len(alg: i64) -> Option<usize> {
    match alg {
        1 | 10 => Some(32),
        7 | 11 => Some(48),
        8 | 12 => Some(64),
        _ => None,
    }
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
