//! The shared Veraison vectors: cocli's own templates build the CoRIMs
//! Veraison provisioned from them, and every CoRIM among the vectors
//! survives being written as a template and read back.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use vouch_corim::{Comid, ConciseTag, Corim, decode, signed::SignedCorim};
use vouch_corim_json::{comid_from_json, corim_from_json, corim_to_json};
use vouch_testkit::vectors;

fn build(dir: &Path, corim: &str, comids: &[&str]) -> Corim {
    let comids = comids
        .iter()
        .map(|c| comid_from_json(&vectors::read(dir, c)).unwrap_or_else(|e| panic!("{c}: {e}")))
        .collect();
    corim_from_json(&vectors::read(dir, corim), comids).unwrap_or_else(|e| panic!("{corim}: {e}"))
}

const TEMPLATES: &str = "enacttrust/corim/templates";

#[test]
fn the_legacy_enacttrust_templates_build_the_corim_veraison_provisioned() {
    let Some(dir) = vectors::dir() else { return };
    let built = build(
        &dir,
        &format!("{TEMPLATES}/legacy/corim-enacttrust-mini.json"),
        &[
            &format!("{TEMPLATES}/comid-enacttrust-ta.json"),
            &format!("{TEMPLATES}/legacy/comid-enacttrust-refval.json"),
        ],
    );
    let expected = decode(&vectors::read(
        &dir,
        "enacttrust/derived/corim-enacttrust-mini.legacy-http.cbor",
    ))
    .unwrap();
    assert_eq!(built, expected);
    // And through the encoder: the bytes decode to the same model.
    assert_eq!(decode(&built.encode()).unwrap(), expected);
}

#[test]
fn the_current_enacttrust_templates_carry_what_the_valid_corim_carries() {
    let Some(dir) = vectors::dir() else { return };
    let built = build(
        &dir,
        &format!("{TEMPLATES}/corim-enacttrust-mini.json"),
        &[
            &format!("{TEMPLATES}/comid-enacttrust-ta.json"),
            &format!("{TEMPLATES}/comid-enacttrust-refval.json"),
        ],
    );
    let valid = decode(&vectors::read(
        &dir,
        "enacttrust/corim/current/corim-enacttrust-valid.cbor",
    ))
    .unwrap();
    assert_eq!(built.profile, valid.profile);
    assert!(built.was_tagged);
    // The same triples, whatever the CoMIDs' identities and order.
    let triples = |c: &Corim| {
        let mut reference = Vec::new();
        let mut keys = Vec::new();
        for comid in c.comids() {
            reference.extend(comid.triples.reference_triples.clone());
            keys.extend(comid.triples.attest_key_triples.clone());
        }
        (reference, keys)
    };
    let (reference, keys) = triples(&built);
    assert_eq!((reference.len(), keys.len()), (1, 1));
    assert_eq!(triples(&built), triples(&valid));
}

/// What the template dialect cannot tell apart, made canonical on both
/// sides: a version of 0 and none, a tagged and an untagged CoRIM.
fn canonical(mut c: Corim) -> Corim {
    c.was_tagged = true;
    for t in &mut c.tags {
        if let ConciseTag::Comid(Comid { tag_identity, .. }) = t
            && tag_identity.tag_version == Some(0)
        {
            tag_identity.tag_version = None;
        }
    }
    c
}

#[test]
fn every_corim_among_the_vectors_survives_a_template_round_trip() {
    let Some(dir) = vectors::dir() else { return };
    let mut seen = 0;
    let mut refused = Vec::new();
    for path in vectors::cbor_files(&dir, "") {
        let bytes = std::fs::read(&path).unwrap();
        let payload = match SignedCorim::decode(&bytes) {
            Ok(s) => s.payload().to_vec(),
            Err(_) => bytes,
        };
        let Ok(corim) = decode(&payload) else {
            continue;
        };
        seen += 1;
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let json = serde_json::to_vec(&corim_to_json(&corim)).unwrap();
        match corim_from_json(&json, Vec::new()) {
            Ok(back) => assert_eq!(canonical(back), canonical(corim), "{name}"),
            Err(e) => refused.push(format!("{name}: {e}")),
        }
    }
    assert!(seen >= 40, "only {seen} CoRIMs among the vectors");
    // The one vector a template cannot hold: its digest is a byte short,
    // which a template is refused for (as cocli refuses it).
    assert_eq!(
        refused,
        vec![
            "cca/corim/current/corimlib-cca-platform-invalid-digests.cbor: comids[0].triples.\
             reference-values[0].measurements[0].value.digests[0]: a sha-256 digest is 32 \
             bytes, this is 31"
                .to_owned()
        ]
    );
}
