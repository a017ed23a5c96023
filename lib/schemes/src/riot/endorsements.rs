//! The RIOT trust anchor from CoRIMs with the profile
//! `tag:veraison-project.com,2026:riot`.
//!
//! Rules and messages follow Veraison's (`services@6b88102`
//! `scheme/riot/corim.go` with `scheme/common/corim.go`): every key
//! triple's environment is `{class: {vendor: "Veraison Project", model:
//! "RIOT"}}`, every key is a PEM certificate (`pkix-base64-cert`, 555) or
//! certificate path (`pkix-base64-cert-path`, 556), and reference values
//! are refused. The position of the offending triple is appended.
//!
//! Where Vouch differs:
//!
//! * a missing or wrong model reads `missing model` / `model must be
//!   "RIOT"` (Veraison says `missing vendor` / `vendor must be "RIOT"`);
//! * the environment must be exactly that class: an instance, group,
//!   class-id, layer or index would narrow the trust anchor to some devices,
//!   which a single scheme-wide trust anchor cannot honour, so it is refused
//!   rather than silently widened;
//! * every PEM must parse as certificates, a `pkix-base64-cert` holds exactly
//!   one, and the path must hold a self-signed root (without one nothing
//!   could ever validate); Veraison finds such errors only at verification;
//! * endorsed-value and other triples are refused (RIOT has no use for
//!   them); identity triples are read like attest-key triples.
//!
//! All certificates of one CoRIM form one trust anchor, stored under
//! [`TRUST_ANCHOR_ID`]. A later RIOT CoRIM replaces it (the store keeps one
//! trust anchor per id): Veraison instead trusts the union of every RIOT
//! CoRIM it holds. Vouch does not merge; to trust several vendor roots,
//! provision them together in one CoRIM.

use vouch_corim::{Comid, ConciseTag, Corim, CryptoKey, Environment, KeyTriple};
use vouch_x509::{Certificate, MAX_PRESENTED_CERTS, parse_pem_chain};

use super::{MODEL, PROFILE, TRUST_ANCHOR_ID, VENDOR};
use crate::{EndorsementError, Endorsements, TrustAnchor, TrustAnchorKey};

/// At most this many certificates in one RIOT trust anchor: they are all
/// candidates in every path build.
const MAX_TRUST_ANCHOR_CERTS: usize = MAX_PRESENTED_CERTS;

pub(super) fn extract(corim: &Corim, profile: &str) -> Result<Endorsements, EndorsementError> {
    if profile != PROFILE {
        return Err(EndorsementError::new(format!(
            "profile {profile:?} is not the RIOT profile {PROFILE:?}"
        )));
    }
    match corim.profile.as_ref().and_then(|p| p.as_text()).as_deref() {
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

    let mut certs: Vec<Certificate> = Vec::new();
    for (c, tag) in corim.tags.iter().enumerate() {
        if let ConciseTag::Comid(comid) = tag {
            extract_comid(comid, c, &mut certs)?;
        }
    }
    if certs.is_empty() {
        return Err(EndorsementError::new(
            "CoRIM carries no RIOT trust anchor (no attest-key or identity triples)",
        ));
    }
    if !certs.iter().any(Certificate::is_self_issued) {
        return Err(EndorsementError::new(
            "the RIOT certificate path holds no self-signed root certificate, so no chain \
             could validate against it",
        ));
    }
    Ok(Endorsements {
        trust_anchors: vec![TrustAnchor {
            id: TRUST_ANCHOR_ID.to_vec(),
            reference_id: TRUST_ANCHOR_ID.to_vec(),
            key: TrustAnchorKey::CertPath(certs.iter().map(|c| c.der().to_vec()).collect()),
        }],
        reference_values: Vec::new(),
        not_after: corim.validity.as_ref().map(|v| v.not_after),
    })
}

fn at(message: String, comid: usize, what: &str, index: usize) -> EndorsementError {
    EndorsementError::new(format!("{message} (CoMID {comid}, {what} {index})"))
}

fn extract_comid(
    comid: &Comid,
    c: usize,
    certs: &mut Vec<Certificate>,
) -> Result<(), EndorsementError> {
    let triples = &comid.triples;
    let key_triples = triples
        .attest_key_triples
        .iter()
        .enumerate()
        .map(|(t, triple)| ("attest-key triple", t, triple))
        .chain(
            triples
                .identity_triples
                .iter()
                .enumerate()
                .map(|(t, triple)| ("identity triple", t, triple)),
        );
    for (what, t, triple) in key_triples {
        trust_anchor_certs(triple, t, certs).map_err(|m| at(m, c, what, t))?;
    }
    if !triples.reference_triples.is_empty() {
        return Err(at(
            "found reference values (disallowed by scheme)".to_owned(),
            c,
            "reference triple",
            0,
        ));
    }
    if !triples.endorsed_triples.is_empty() {
        return Err(at(
            "found endorsed values (disallowed by scheme)".to_owned(),
            c,
            "endorsed triple",
            0,
        ));
    }
    if let Some(other) = triples.other.first() {
        return Err(EndorsementError::new(format!(
            "found triples of kind {} (disallowed by scheme: RIOT CoRIMs carry only \
             attest-key or identity triples) (CoMID {c})",
            other.key
        )));
    }
    Ok(())
}

/// Checks one key triple and adds its certificates. `index` is the triple's
/// position, for Veraison's `trust anchor N …` wording.
fn trust_anchor_certs(
    triple: &KeyTriple,
    index: usize,
    certs: &mut Vec<Certificate>,
) -> Result<(), String> {
    validate_environment(&triple.environment)
        .map_err(|e| format!("trust anchor {index} environment: {e}"))?;
    if triple.conditions.is_some() {
        return Err(format!(
            "trust anchor {index}: conditions are not supported by the RIOT scheme"
        ));
    }
    for key in &triple.keys {
        let (pem, single) = match key {
            CryptoKey::PkixBase64CertPath(pem) => (pem, false),
            CryptoKey::PkixBase64Cert(pem) => (pem, true),
            other => {
                return Err(format!(
                    "trust anchor {index} verif. keys: key must be a cert or a cert path, \
                     found: {}",
                    other.kind()
                ));
            }
        };
        let parsed = parse_pem_chain(pem)
            .map_err(|e| format!("trust anchor {index} verif. keys: {}: {e}", key.kind()))?;
        if single && parsed.len() != 1 {
            return Err(format!(
                "trust anchor {index} verif. keys: a pkix-base64-cert holds exactly one \
                 certificate, found {}",
                parsed.len()
            ));
        }
        for cert in parsed {
            if !certs.contains(&cert) {
                certs.push(cert);
            }
        }
        if certs.len() > MAX_TRUST_ANCHOR_CERTS {
            return Err(format!(
                "trust anchor {index} verif. keys: more than {MAX_TRUST_ANCHOR_CERTS} \
                 certificates in the RIOT trust anchor"
            ));
        }
    }
    Ok(())
}

fn validate_environment(env: &Environment) -> Result<(), String> {
    let class = env.class.as_ref();
    match class.and_then(|c| c.vendor.as_deref()) {
        None => return Err("missing vendor".to_owned()),
        Some(VENDOR) => {}
        Some(_) => return Err(format!("vendor must be {VENDOR:?}")),
    }
    match class.and_then(|c| c.model.as_deref()) {
        None => return Err("missing model".to_owned()),
        Some(MODEL) => {}
        Some(_) => return Err(format!("model must be {MODEL:?}")),
    }
    let narrowing = [
        (class.is_some_and(|c| c.class_id.is_some()), "class-id"),
        (class.is_some_and(|c| c.layer.is_some()), "layer"),
        (class.is_some_and(|c| c.index.is_some()), "index"),
        (env.instance.is_some(), "instance"),
        (env.group.is_some(), "group"),
    ];
    if let Some((_, field)) = narrowing.iter().find(|(present, _)| *present) {
        return Err(format!(
            "unexpected {field}: the RIOT trust anchor applies to every RIoT device, so the \
             environment is exactly {{class: {{vendor: {VENDOR:?}, model: {MODEL:?}}}}}"
        ));
    }
    Ok(())
}
