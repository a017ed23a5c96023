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

use vouch_corim::{Comid, Corim, CryptoKey, Environment, Instance};
use vouch_crypto::VerifyingKey;

use super::{GoldenDigest, NAME, PROFILE, PROFILE_LEGACY, node_key};
use crate::corim_util::{Encoding, Side, collect_comids, reject_other_triples};
use crate::{EndorsementError, Endorsements, ReferenceValue, TrustAnchor, TrustAnchorKey};

pub(super) fn extract(corim: &Corim, profile: &str) -> Result<Endorsements, EndorsementError> {
    if profile != PROFILE && profile != PROFILE_LEGACY {
        return Err(EndorsementError::new(format!(
            "profile {profile:?} is not a {NAME} profile"
        )));
    }
    let encoding = Encoding::of(corim, profile)?;
    // (node id, AK) of every trust anchor so far, for the cross checks.
    let mut anchors: Vec<([u8; 16], VerifyingKey)> = Vec::new();
    collect_comids(corim, NAME, |comid, c, out| {
        extract_comid(comid, c, encoding, &mut anchors, out)
    })
}

fn extract_comid(
    comid: &Comid,
    c: usize,
    encoding: Encoding,
    anchors: &mut Vec<([u8; 16], VerifyingKey)>,
    out: &mut Endorsements,
) -> Result<(), EndorsementError> {
    let triples = &comid.triples;
    let key_error = |message: String, t: usize| encoding.key_error(message, c, t);
    let rv_error = |message: String, t: usize| encoding.rv_error(message, c, t);

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
    reject_other_triples(
        triples,
        c,
        NAME,
        "the node's AK from attest-key triples and its golden PCR digest from reference triples",
    )
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
