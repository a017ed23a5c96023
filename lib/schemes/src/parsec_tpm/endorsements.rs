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
    ClassId, Comid, Corim, CryptoKey, DigestAlg, Environment, Instance, MeasurementKey,
};
use vouch_crypto::VerifyingKey;
use vouch_tpm::{MAX_PCR_SELECT_BYTES, Ueid};

use super::{NAME, PROFILE, PcrDigest, PcrReference, PcrValue, class_key, trust_anchor_id};
use crate::corim_util::{Encoding, Side, collect_comids, reject_other_triples};
use crate::{EndorsementError, Endorsements, ReferenceValue, TrustAnchor, TrustAnchorKey};

/// The highest PCR index a quote can select.
const MAX_PCR: u64 = (MAX_PCR_SELECT_BYTES as u64) * 8 - 1;

pub(super) fn extract(corim: &Corim, profile: &str) -> Result<Endorsements, EndorsementError> {
    if profile != PROFILE {
        return Err(EndorsementError::new(format!(
            "profile {profile:?} is not the {NAME} profile {PROFILE:?}"
        )));
    }
    let encoding = Encoding::of(corim, profile)?;
    let mut anchors: Vec<(Vec<u8>, VerifyingKey)> = Vec::new();
    collect_comids(corim, NAME, |comid, c, out| {
        extract_comid(comid, c, encoding, &mut anchors, out)
    })
}

fn extract_comid(
    comid: &Comid,
    c: usize,
    encoding: Encoding,
    anchors: &mut Vec<(Vec<u8>, VerifyingKey)>,
    out: &mut Endorsements,
) -> Result<(), EndorsementError> {
    let triples = &comid.triples;
    let key_error = |message: String, t: usize| encoding.key_error(message, c, t);
    let rv_error = |message: String, t: usize| encoding.rv_error(message, c, t);

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
    reject_other_triples(
        triples,
        c,
        NAME,
        "the AK from attest-key triples and PCR values from reference triples",
    )
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
