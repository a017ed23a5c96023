//! A scheme's whole share of a verification, as the trust service drives
//! it: CoRIMs provisioned (decoded, endorsements extracted, trust anchors
//! and reference values through their stored forms), then evidence decoded,
//! its trust anchor looked up by the id it claims, its integrity checked
//! against the session nonce and that anchor, and its appraisal against the
//! reference values it names.
//!
//! Input: a scheme selector byte, a CoRIM count byte (0–3), that many CoRIMs
//! each prefixed by a 2-byte big-endian length, then the evidence. The
//! seeds carry a testkit device's CoRIMs and evidence for each built-in
//! scheme, so mutations start from inputs that reach the appraisal.
//!
//! Besides "never panic":
//! - what a scheme extracts survives its stored form: a trust anchor reads
//!   back as itself, and every reference value body decodes;
//! - no evidence verifies against a fixed key that signed nothing;
//! - an appraisal names at least one submod, and the EAR made of it is
//!   valid and reads back unchanged from its JSON; what a policy is shown
//!   of each submod is a JSON object.

#![no_main]

mod minted;
use vouch_testkit::fuzz_seed as seed;

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Ear, VerifierId};
use vouch_schemes::{DecodedReference, Scheme, TrustAnchor, TrustAnchorKey};

use minted::NONCE;

const MAX_CORIMS: u8 = 4;

struct Fixture {
    schemes: Vec<Arc<dyn Scheme>>,
    /// A key that signed no evidence and no CoRIM.
    stranger: TrustAnchorKey,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| Fixture {
        schemes: vouch_schemes::builtin(),
        stranger: TrustAnchorKey::Key(
            SigningKey::from_private_scalar(Curve::P256, &[0x11; 32])
                .expect("fixed fuzz key")
                .verifying_key(),
        ),
    })
}

/// The input's parts: scheme selector, CoRIMs, evidence.
struct Parts<'a> {
    selector: u8,
    corims: Vec<&'a [u8]>,
    evidence: &'a [u8],
}

fn split(data: &[u8]) -> Option<Parts<'_>> {
    let (&selector, rest) = data.split_first()?;
    let (&count, mut rest) = rest.split_first()?;
    let mut corims = Vec::new();
    for _ in 0..count % MAX_CORIMS {
        let (len, tail) = rest.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (corim, tail) = tail.split_at(len);
        corims.push(corim);
        rest = tail;
    }
    Some(Parts {
        selector,
        corims,
        evidence: rest,
    })
}

fn join(selector: u8, corims: &[Vec<u8>], evidence: &[u8]) -> Vec<u8> {
    let mut out = vec![selector, u8::try_from(corims.len()).expect("few CoRIMs")];
    for corim in corims {
        out.extend_from_slice(
            &u16::try_from(corim.len())
                .expect("CoRIM under 64 KiB")
                .to_be_bytes(),
        );
        out.extend_from_slice(corim);
    }
    out.extend_from_slice(evidence);
    out
}

/// What provisioning `corims` under every profile of `scheme` stores.
fn provision(
    scheme: &dyn Scheme,
    corims: &[&[u8]],
) -> (Vec<TrustAnchor>, Vec<(Vec<u8>, DecodedReference)>) {
    let mut profiles: Vec<&str> = scheme
        .provisioning_media_types()
        .iter()
        .map(|m| m.corim_profile)
        .collect();
    profiles.dedup();
    let mut anchors = Vec::new();
    let mut references = Vec::new();
    for bytes in corims {
        let Ok(corim) = vouch_corim::decode(bytes) else {
            continue;
        };
        for profile in &profiles {
            let Ok(endorsements) = scheme.extract_endorsements(&corim, profile) else {
                continue;
            };
            for mut anchor in endorsements.trust_anchors {
                let stored = TrustAnchorKey::from_bytes(&anchor.key.to_bytes())
                    .expect("a stored trust anchor reads back");
                assert_eq!(
                    stored, anchor.key,
                    "a trust anchor changed through its stored form"
                );
                anchor.key = stored;
                anchors.push(anchor);
            }
            for rv in endorsements.reference_values {
                let decoded = scheme.decode_reference_value(&rv.body).unwrap_or_else(|e| {
                    panic!(
                        "{}: a reference value it stored does not decode: {e}",
                        scheme.name()
                    )
                });
                references.push((rv.reference_id, decoded));
            }
        }
    }
    (anchors, references)
}

fn check_appraisal(
    scheme: &dyn Scheme,
    evidence: &dyn vouch_schemes::Evidence,
    submods: Vec<(String, vouch_ear::Appraisal)>,
) {
    assert!(
        !submods.is_empty(),
        "{}: an appraisal without submods",
        scheme.name()
    );
    for (name, _) in &submods {
        assert!(
            evidence.policy_evidence(name, &submods).is_object(),
            "{}: policy evidence of {name}",
            scheme.name()
        );
    }
    let id = VerifierId {
        build: "fuzz".to_owned(),
        developer: "Vouch".to_owned(),
    };
    let mut ear = Ear::new(scheme.name(), id, 1_800_000_000);
    ear.submods.clear();
    ear.set_nonce(&NONCE).expect("nonce");
    ear.submods.extend(submods);
    ear.validate().expect("the EAR of an appraisal is valid");
    let json = ear.to_json().expect("the EAR of an appraisal serialises");
    let again = Ear::from_json(&json).expect("the EAR of an appraisal parses back");
    assert_eq!(
        again,
        ear,
        "{}: the EAR changed through JSON",
        scheme.name()
    );
}

fn seeds() -> Vec<Vec<u8>> {
    let schemes = vouch_schemes::builtin();
    let mut out = Vec::new();
    for minted in minted::all() {
        let Some(index) = schemes.iter().position(|s| s.name() == minted.scheme) else {
            continue;
        };
        let selector = u8::try_from(index).expect("few schemes");
        for evidence in &minted.evidence {
            out.push(join(
                selector,
                &minted.corims[..minted.corims.len().min(3)],
                evidence,
            ));
        }
        // Each CoRIM alone, with the good evidence; and evidence alone.
        for corim in &minted.corims {
            out.push(join(
                selector,
                std::slice::from_ref(corim),
                &minted.evidence[0],
            ));
        }
        out.push(join(selector, &[], &minted.evidence[0]));
    }
    out
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        let Some(Parts {
            selector,
            corims,
            evidence,
        }) = split(data)
        else {
            return;
        };
        let f = fixture();
        let scheme = f.schemes[usize::from(selector) % f.schemes.len()].as_ref();
        let (anchors, references) = provision(scheme, &corims);
        let Ok(decoded) = scheme.decode_evidence(evidence) else {
            return;
        };
        assert!(
            decoded.verify_integrity(&NONCE, &f.stranger).is_err(),
            "{}: evidence verified against a key that signed nothing",
            scheme.name()
        );
        let Some(anchor) = anchors.iter().rfind(|ta| ta.id == decoded.trust_anchor_id()) else {
            return;
        };
        if decoded.verify_integrity(&NONCE, &anchor.key).is_err() {
            return;
        }
        let mut named = Vec::new();
        for rv_id in decoded.reference_ids(&anchor.reference_id) {
            named.extend(references.iter().filter(|(id, _)| *id == rv_id).map(|(_, rv)| rv.clone()));
        }
        if let Ok(submods) = decoded.appraise(&named) {
            check_appraisal(scheme, decoded.as_ref(), submods);
        }
    }
);
