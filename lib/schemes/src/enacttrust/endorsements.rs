//! EnactTrust endorsements from CoRIMs.
//!
//! Every triple's environment is exactly `{instance: 37(node-id UUID)}`: no
//! class, no group. An attest-key triple holds exactly one
//! `pkix-base64-key` (an ECDSA SubjectPublicKeyInfo PEM), the node's AK; a
//! reference triple holds exactly one measurement with exactly one digest,
//! the node's golden PCR digest.
//!
//! Messages follow Veraison's: `services@6b88102`
//! `scheme/tpm-enacttrust/corim.go` for CoRIMs whose profile is a tag-32 URI
//! (the position of the offending triple appended), and `services@37fe51d5`
//! `endorsement_handler.go` for the legacy ones whose profile is untagged
//! text (which name the CoMID themselves).
//!
//! Where Vouch is stricter:
//!
//! * the CoRIM must be tag 501 whatever its profile (Veraison's decoder
//!   requires it too, before looking at anything else);
//! * a class in a legacy environment, a group, key-triple conditions,
//!   identity, endorsed and other triples are refused, not ignored: each
//!   would change what the endorsement applies to in ways the scheme cannot
//!   honour;
//! * one AK provisioned for two different nodes, or one node given two
//!   different AKs, in the same CoRIM is refused: the node id is not signed,
//!   so an AK shared by two nodes lets each node's quotes pass as the
//!   other's (MANIFEST ENACT-05).

use vouch_corim::{Comid, ConciseTag, Corim, CryptoKey, Environment, Instance, Profile};
use vouch_crypto::VerifyingKey;

use super::{GoldenDigest, NAME, PROFILE, PROFILE_LEGACY, node_key};
use crate::{EndorsementError, Endorsements, ReferenceValue, TrustAnchor, TrustAnchorKey};

/// Which of Veraison's message sets applies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Profile as a tag-32 URI (Veraison HEAD).
    Current,
    /// Profile as untagged text (Veraison's KV-store era).
    Legacy,
}

pub(super) fn extract(corim: &Corim, profile: &str) -> Result<Endorsements, EndorsementError> {
    if profile != PROFILE && profile != PROFILE_LEGACY {
        return Err(EndorsementError::new(format!(
            "profile {profile:?} is not a {NAME} profile"
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
    // (node id, AK) of every trust anchor so far, for the cross checks.
    let mut anchors: Vec<([u8; 16], VerifyingKey)> = Vec::new();
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

/// Where a current-encoding message points.
fn at(message: String, comid: usize, what: &str, index: usize) -> EndorsementError {
    EndorsementError::new(format!("{message} (CoMID {comid}, {what} {index})"))
}

fn extract_comid(
    comid: &Comid,
    c: usize,
    encoding: Encoding,
    anchors: &mut Vec<([u8; 16], VerifyingKey)>,
    out: &mut Endorsements,
) -> Result<(), EndorsementError> {
    let triples = &comid.triples;
    // Legacy messages name the CoMID ("bad key in CoMID at index 0: …");
    // current ones get the triple's position appended.
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
        let node =
            node_id(&triple.environment, encoding, Side::Key).map_err(|m| key_error(m, t))?;
        if triple.conditions.is_some() {
            return Err(key_error(
                "conditions are not supported by the TPM_ENACTTRUST scheme".to_owned(),
                t,
            ));
        }
        let key = attestation_key(&triple.keys, encoding).map_err(|m| key_error(m, t))?;
        check_unique(anchors, node, &key).map_err(|m| key_error(m, t))?;
        anchors.push((node, key.clone()));
        out.trust_anchors.push(TrustAnchor {
            id: node_key(&node),
            reference_id: node_key(&node),
            key: TrustAnchorKey::Key(key),
        });
    }
    for (t, triple) in triples.reference_triples.iter().enumerate() {
        let node =
            node_id(&triple.environment, encoding, Side::Reference).map_err(|m| rv_error(m, t))?;
        let golden = golden_digest(&triple.measurements, encoding).map_err(|m| rv_error(m, t))?;
        out.reference_values.push(ReferenceValue {
            reference_id: node_key(&node),
            body: crate::encode_reference(&golden),
        });
    }
    let unsupported = [
        (!triples.identity_triples.is_empty(), "identity"),
        (!triples.endorsed_triples.is_empty(), "endorsed-value"),
    ];
    if let Some((_, kind)) = unsupported.iter().find(|(present, _)| *present) {
        return Err(EndorsementError::new(format!(
            "found {kind} triples, which the {NAME} scheme does not support: it takes the \
             node's AK from attest-key triples and its golden PCR digest from reference \
             triples (CoMID {c})"
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

/// The node id an environment names: `{instance: 37(uuid)}` and nothing
/// else.
fn node_id(env: &Environment, encoding: Encoding, side: Side) -> Result<[u8; 16], String> {
    // Legacy Veraison's wording differs between the two triple kinds.
    let legacy_prefix = match side {
        Side::Key => "could not extract node id",
        Side::Reference => "could not extract instance attributes",
    };
    let node = match (encoding, env.instance.as_ref()) {
        (_, Some(Instance::Uuid(u))) => *u,
        (Encoding::Current, None) => return Err("instance not set in environment".to_owned()),
        (Encoding::Current, Some(other)) => {
            return Err(format!("instance: expected uuid, found {}", other.kind()));
        }
        (Encoding::Legacy, None) => {
            return Err(format!(
                "{legacy_prefix}: expecting instance in environment"
            ));
        }
        (Encoding::Legacy, Some(_)) => {
            return Err(format!(
                "{legacy_prefix}: could not extract node-id (UUID) from instance-id"
            ));
        }
    };
    if env.class.is_some() {
        return Err("class set in environment".to_owned());
    }
    if env.group.is_some() {
        return Err("group set in environment".to_owned());
    }
    Ok(node)
}

/// The one AK of an attest-key triple.
fn attestation_key(keys: &[CryptoKey], encoding: Encoding) -> Result<VerifyingKey, String> {
    let [key] = keys else {
        return Err(match encoding {
            Encoding::Current => format!(
                "expected trust anchor to contain exactly one key; found {}",
                keys.len()
            ),
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
    VerifyingKey::from_pem(pem).map_err(|e| format!("trust anchor key: {e}"))
}

/// Refuses a node given two different AKs, and an AK given to two nodes.
fn check_unique(
    anchors: &[([u8; 16], VerifyingKey)],
    node: [u8; 16],
    key: &VerifyingKey,
) -> Result<(), String> {
    for (other_node, other_key) in anchors {
        if *other_node == node && other_key != key {
            return Err(format!(
                "node {} is given two different attestation keys",
                uuid_text(&node)
            ));
        }
        if *other_node != node && other_key == key {
            return Err(format!(
                "the same attestation key is provisioned for nodes {} and {}: the node id is \
                 not covered by the quote signature, so each node's quotes would pass as the \
                 other's",
                uuid_text(other_node),
                uuid_text(&node)
            ));
        }
    }
    Ok(())
}

fn uuid_text(u: &[u8; 16]) -> String {
    vouch_corim::TagId::Uuid(*u).to_string()
}

/// The one digest of the one measurement of a reference triple.
fn golden_digest(
    measurements: &[vouch_corim::Measurement],
    encoding: Encoding,
) -> Result<GoldenDigest, String> {
    let [m] = measurements else {
        return Err(match encoding {
            Encoding::Current => format!(
                "expected exactly one measurement, found {}",
                measurements.len()
            ),
            Encoding::Legacy => "expecting one measurement only".to_owned(),
        });
    };
    let digest = match (encoding, m.values.digests.as_deref()) {
        (_, Some([d])) => d,
        (Encoding::Current, None | Some([])) => return Err("no digests in measurement".to_owned()),
        (Encoding::Current, Some(many)) => {
            return Err(format!(
                "expected exactly one digest in measurement, found {}",
                many.len()
            ));
        }
        (Encoding::Legacy, None | Some([])) => {
            return Err("extracting measurement: measurement value has no digests".to_owned());
        }
        (Encoding::Legacy, Some(_)) => {
            return Err("extracting measurement: expecting exactly one digest".to_owned());
        }
    };
    let alg = match &digest.alg {
        vouch_corim::DigestAlg::Int(i) => *i,
        vouch_corim::DigestAlg::Text(t) => {
            named_hash_alg(t).ok_or_else(|| format!("unknown digest algorithm {t:?}"))?
        }
    };
    if let Some(len) = digest_len(alg)
        && len != digest.value.len()
    {
        return Err(format!(
            "digest algorithm {alg} has {len}-byte digests, but the golden digest has {} bytes",
            digest.value.len()
        ));
    }
    Ok(GoldenDigest {
        alg,
        digest: digest.value.clone(),
    })
}

/// Digest length of the named-information algorithms a TPM PCR bank uses.
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
