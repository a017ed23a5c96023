#![allow(clippy::unwrap_used)]

use vouch_corim::{
    Class, ClassId, CryptoKey, Digest, DigestAlg, Group, Instance, KeyConditions, Measurement,
    MeasurementValues,
};
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_ear::{TrustClaim, TrustTier};
use vouch_testkit::enacttrust::{
    EnactTrustCorim, EnactTrustDevice, EnactTrustEncoding, golden_measurement,
};
use vouch_testkit::vectors;

use super::*;

const NONCE: [u8; 32] = [0x4e; 32];
const NONCE32: &str = "414a7c174141b3d0e9a1d28af31520f0d42299feac4007ded89d68ae6cd92f19";
/// The node of Veraison's EnactTrust vectors.
const VECTOR_NODE: [u8; 16] = [
    0x7d, 0xf7, 0x71, 0x4e, 0xaa, 0x04, 0x46, 0x38, 0xbc, 0xbf, 0x43, 0x4b, 0x1d, 0xd7, 0x20, 0xf1,
];

fn extract_as(corim: &[u8], profile: &str) -> Result<Endorsements, EndorsementError> {
    EnactTrust.extract_endorsements(&vouch_corim::decode(corim).unwrap(), profile)
}

fn extract(corim: &[u8]) -> Result<Endorsements, EndorsementError> {
    extract_as(corim, PROFILE)
}

fn refusal(corim: &[u8]) -> String {
    extract(corim).unwrap_err().to_string()
}

fn refusal_of(corim: &vouch_corim::Corim) -> String {
    EnactTrust
        .extract_endorsements(corim, PROFILE)
        .unwrap_err()
        .to_string()
}

/// What the trust service would hold after provisioning: the trust anchor
/// of `node` (read back from its stored form) and its decoded reference
/// values.
fn provisioned(
    endorsements: &Endorsements,
    node: [u8; 16],
) -> (Option<TrustAnchorKey>, Vec<DecodedReference>) {
    let key = endorsements
        .trust_anchors
        .iter()
        .find(|ta| ta.id == node_key(&node))
        .map(|ta| {
            assert_eq!(ta.reference_id, node_key(&node));
            TrustAnchorKey::from_bytes(&ta.key.to_bytes()).unwrap()
        });
    let rvs = endorsements
        .reference_values
        .iter()
        .filter(|rv| rv.reference_id == node_key(&node))
        .map(|rv| EnactTrust.decode_reference_value(&rv.body).unwrap())
        .collect();
    (key, rvs)
}

/// Decodes, verifies and appraises `evidence` against `corim` with the
/// session nonce `nonce`, as the trust service does; the verification
/// error, if any, instead of an appraisal.
fn attest(corim: &[u8], evidence: &[u8], nonce: &[u8]) -> Result<Appraisal, String> {
    let evidence = EnactTrust
        .decode_evidence(evidence)
        .map_err(|e| e.to_string())?;
    let endorsements = extract(corim).unwrap();
    let node: [u8; 16] = evidence.trust_anchor_id().try_into().unwrap();
    let (key, rvs) = provisioned(&endorsements, node);
    let key = key.ok_or("no trust anchor for evidence")?;
    evidence
        .verify_integrity(nonce, &key)
        .map_err(|e| e.to_string())?;
    let mut submods = evidence.appraise(&rvs).unwrap();
    assert_eq!(submods.len(), 1);
    let (name, appraisal) = submods.pop().unwrap();
    assert_eq!(name, NAME);
    Ok(appraisal)
}

#[test]
fn the_scheme_is_registered_with_its_media_types() {
    let schemes = crate::builtin();
    let scheme = schemes.iter().find(|s| s.name() == NAME).unwrap();
    assert_eq!(
        scheme.evidence_media_types(),
        ["application/vnd.enacttrust.tpm-evidence"]
    );
    let types: Vec<_> = scheme
        .provisioning_media_types()
        .iter()
        .map(|p| (p.media_type, p.corim_profile))
        .collect();
    for encoding in [
        EnactTrustEncoding::Current,
        EnactTrustEncoding::LegacyHttp,
        EnactTrustEncoding::LegacyHttps,
    ] {
        assert!(
            types.iter().any(|(mt, _)| *mt == encoding.media_type()),
            "{encoding:?}"
        );
    }
    assert!(types.contains(&(vouch_testkit::enacttrust::ENACTTRUST_CORIM_MT, PROFILE)));
    assert!(types.contains(&(
        vouch_testkit::enacttrust::ENACTTRUST_CORIM_LEGACY_MT,
        PROFILE_LEGACY
    )));
}

#[test]
fn a_minted_node_with_its_golden_digest_is_affirming() {
    let node = EnactTrustDevice::generate().unwrap();
    let endorsements = extract(&node.corim()).unwrap();
    assert_eq!(endorsements.trust_anchors.len(), 1);
    assert_eq!(endorsements.reference_values.len(), 1);
    assert_eq!(endorsements.trust_anchors[0].id, node.node_id());
    assert_eq!(
        endorsements.trust_anchors[0].key,
        TrustAnchorKey::Key(node.ak().verifying_key())
    );

    let appraisal = attest(&node.corim(), &node.evidence(&NONCE).unwrap(), &NONCE).unwrap();
    assert_eq!(appraisal.status, TrustTier::Affirming);
    let tv = serde_json::to_value(appraisal.trust_vector).unwrap();
    assert_eq!(
        tv,
        serde_json::json!({
            "instance-identity": 0, "configuration": 0, "executables": 2,
            "file-system": 0, "hardware": 0, "runtime-opaque": 0,
            "storage-opaque": 0, "sourced-data": 0
        })
    );
    use base64::Engine as _;
    assert_eq!(
        serde_json::Value::Object(appraisal.annotated_evidence.unwrap()),
        serde_json::json!({
            "node-id": node.node_id_text(),
            "firmware-version": node.firmware_version(),
            "pcr-selection": node.pcrs(),
            "hash-algorithm": 11,
            "pcr-digest": base64::engine::general_purpose::STANDARD.encode(node.golden_digest()),
        })
    );
    assert!(appraisal.policy_claims.is_none());
    assert!(appraisal.key_attestation.is_none());
}

#[test]
fn unknown_pcr_states_are_contraindicated() {
    let node = EnactTrustDevice::generate().unwrap();
    let other_state = node.evidence_with_pcr_digest(&NONCE, &[0x02; 32]).unwrap();
    let ta_only = EnactTrustCorim::new()
        .trust_anchor(node.node_id(), &node.ak_pem())
        .build();
    // A sha-384 label on the right bytes is not the SHA-256 bank's digest.
    let wrong_alg = EnactTrustCorim::new()
        .trust_anchor(node.node_id(), &node.ak_pem())
        .reference_measurements(
            node.node_id(),
            vec![Measurement {
                values: MeasurementValues {
                    digests: Some(vec![Digest {
                        alg: DigestAlg::Int(vouch_corim::alg::SHA384),
                        value: [node.golden_digest(), &[0; 16]].concat(),
                    }]),
                    ..MeasurementValues::default()
                },
                ..golden_measurement(&[])
            }],
        )
        .build();
    let good = node.evidence(&NONCE).unwrap();
    for (what, corim, evidence) in [
        ("another PCR state", node.corim(), other_state),
        ("no golden digest", ta_only, good.clone()),
        ("a golden digest of another bank", wrong_alg, good),
    ] {
        let appraisal = attest(&corim, &evidence, &NONCE).unwrap();
        assert_eq!(appraisal.status, TrustTier::Contraindicated, "{what}");
        assert_eq!(
            appraisal.trust_vector.executables,
            TrustClaim::UNRECOGNIZED_RUNTIME,
            "{what}"
        );
        assert_eq!(appraisal.trust_vector.hardware, TrustClaim::NO_CLAIM);
        assert!(appraisal.annotated_evidence.is_some(), "{what}");
    }
    // Golden digests accumulate: any one of them matches.
    let second = EnactTrustCorim::new()
        .reference_value(node.node_id(), &[0x02; 32])
        .build();
    let mut endorsements = extract(&node.corim()).unwrap();
    endorsements
        .reference_values
        .extend(extract(&second).unwrap().reference_values);
    let (_, rvs) = provisioned(&endorsements, node.node_id());
    assert_eq!(rvs.len(), 2);
    let evidence = EnactTrust
        .decode_evidence(&node.evidence_with_pcr_digest(&NONCE, &[0x02; 32]).unwrap())
        .unwrap();
    assert_eq!(
        evidence.appraise(&rvs).unwrap()[0].1.status,
        TrustTier::Affirming
    );
}

#[test]
fn integrity_checks_the_signature_then_the_nonce() {
    let node = EnactTrustDevice::generate().unwrap();
    let corim = node.corim();
    let stranger = SigningKey::generate(Curve::P256).unwrap();
    assert_eq!(
        attest(
            &corim,
            &node.evidence_signed_by(&NONCE, &stranger).unwrap(),
            &NONCE
        )
        .unwrap_err(),
        "bad evidence: could not verify evidence signature: failed to verify signature"
    );
    assert_eq!(
        attest(&corim, &node.evidence(&[1; 32]).unwrap(), &NONCE).unwrap_err(),
        format!(
            "bad evidence: freshness: quote nonce ({}) does not match session nonce ({})",
            hex::encode([1; 32]),
            hex::encode(NONCE)
        )
    );
    // A quote made without a nonce is never fresh.
    assert!(
        attest(&corim, &node.evidence(&[]).unwrap(), &NONCE)
            .unwrap_err()
            .contains("quote nonce () does not match")
    );
    // A shorter nonce is not a prefix match.
    assert!(attest(&corim, &node.evidence(&NONCE[..16]).unwrap(), &NONCE).is_err());
    // A wrong key AND a wrong nonce: the signature is reported.
    assert!(
        attest(
            &corim,
            &node.evidence_signed_by(&[1; 32], &stranger).unwrap(),
            &NONCE
        )
        .unwrap_err()
        .contains("could not verify evidence signature")
    );
    // A certificate-path trust anchor cannot verify a quote.
    let evidence = EnactTrust
        .decode_evidence(&node.evidence(&NONCE).unwrap())
        .unwrap();
    assert!(
        evidence
            .verify_integrity(&NONCE, &TrustAnchorKey::CertPath(vec![vec![0x30]]))
            .is_err()
    );
}

#[test]
fn the_node_id_selects_the_trust_anchor() {
    let node = EnactTrustDevice::generate().unwrap();
    let spliced = node.evidence_as_node(&NONCE, [0x11; 16]).unwrap();
    assert_eq!(
        attest(&node.corim(), &spliced, &NONCE).unwrap_err(),
        "no trust anchor for evidence"
    );
    let evidence = EnactTrust.decode_evidence(&spliced).unwrap();
    assert_eq!(evidence.trust_anchor_id(), [0x11; 16]);
    assert_eq!(evidence.reference_ids(&[0x11; 16]), [vec![0x11; 16]]);
}

#[test]
fn undecodable_evidence_is_bad_evidence() {
    let node = EnactTrustDevice::generate().unwrap();
    let good = node.evidence(&NONCE).unwrap();
    for (bytes, message) in [
        (
            &good[..17],
            "token too small: found 17 bytes, need at least 18",
        ),
        (&good[..40], "TPMS_ATTEST appears truncated"),
        (&[][..], "token too small: found 0 bytes"),
    ] {
        let err = EnactTrust.decode_evidence(bytes).err().unwrap().to_string();
        assert!(err.contains(message), "{err}");
    }
}

/// A current-encoding CoRIM model with one TA and one RV for `node`.
fn model(node: &EnactTrustDevice) -> vouch_corim::Corim {
    EnactTrustCorim::new()
        .trust_anchor(node.node_id(), &node.ak_pem())
        .reference_value(node.node_id(), node.golden_digest())
        .to_corim()
}

#[test]
fn current_corims_are_refused_with_veraisons_reasons() {
    let node = EnactTrustDevice::generate().unwrap();
    let id = node.node_id();
    let pem = node.ak_pem();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            EnactTrustCorim::new()
                .reference_value(id, &[1; 32])
                .with_class()
                .build(),
            "class set in environment (CoMID 0, reference triple 0)",
        ),
        (
            EnactTrustCorim::new()
                .trust_anchor_keys(
                    id,
                    vec![
                        CryptoKey::PkixBase64Key(pem.clone()),
                        CryptoKey::PkixBase64Key(pem.clone()),
                    ],
                )
                .build(),
            "expected trust anchor to contain exactly one key; found 2 (CoMID 0, attest-key triple 0)",
        ),
        (
            EnactTrustCorim::new()
                .reference_measurements(
                    id,
                    vec![golden_measurement(&[1; 32]), golden_measurement(&[2; 32])],
                )
                .build(),
            "expected exactly one measurement, found 2",
        ),
        (
            EnactTrustCorim::new()
                .reference_measurements(
                    id,
                    vec![Measurement {
                        values: MeasurementValues {
                            serial_number: Some("1234".to_owned()),
                            ..MeasurementValues::default()
                        },
                        ..golden_measurement(&[])
                    }],
                )
                .build(),
            "no digests in measurement",
        ),
        (
            EnactTrustCorim::new()
                .reference_measurements(
                    id,
                    vec![Measurement {
                        values: MeasurementValues {
                            digests: Some(vec![
                                Digest {
                                    alg: DigestAlg::Int(1),
                                    value: vec![1; 32],
                                },
                                Digest {
                                    alg: DigestAlg::Int(1),
                                    value: vec![2; 32],
                                },
                            ]),
                            ..MeasurementValues::default()
                        },
                        ..golden_measurement(&[])
                    }],
                )
                .build(),
            "expected exactly one digest in measurement, found 2",
        ),
        (
            EnactTrustCorim::new().reference_value(id, &[1; 31]).build(),
            "digest algorithm 1 has 32-byte digests, but the golden digest has 31 bytes",
        ),
        (
            EnactTrustCorim::new()
                .trust_anchor_keys(id, vec![CryptoKey::PkixBase64Cert(pem.clone())])
                .build(),
            "trust anchor key must be a pkix-base64-key",
        ),
        (
            EnactTrustCorim::new().trust_anchor(id, "not a key").build(),
            "trust anchor key: ",
        ),
        (
            EnactTrustCorim::new().build(),
            "CoRIM carries no TPM_ENACTTRUST endorsements",
        ),
    ];
    for (corim, reason) in cases {
        let got = refusal(&corim);
        assert!(got.contains(reason), "want {reason:?}, got {got:?}");
    }

    // Environment shapes the builder does not make.
    let mut m = model(&node);
    m.tags.reverse(); // The attest-key CoMID first.
    let set_env = |m: &mut vouch_corim::Corim, f: &dyn Fn(&mut vouch_corim::Environment)| {
        let vouch_corim::ConciseTag::Comid(c) = &mut m.tags[0] else {
            panic!()
        };
        f(&mut c.triples.attest_key_triples[0].environment);
    };
    let mut no_instance = m.clone();
    set_env(&mut no_instance, &|e| e.instance = None);
    assert!(
        refusal_of(&no_instance)
            .starts_with("instance not set in environment (CoMID 0, attest-key triple 0)")
    );
    let mut ueid = m.clone();
    set_env(&mut ueid, &|e| {
        e.instance = Some(Instance::Ueid(vec![1; 33]))
    });
    assert!(refusal_of(&ueid).starts_with("instance: expected uuid, found ueid"));
    let mut class_only = m.clone();
    set_env(&mut class_only, &|e| {
        e.instance = None;
        e.class = Some(Class {
            class_id: Some(ClassId::Bytes(vec![1; 32])),
            ..Class::default()
        });
    });
    // Veraison reports the missing instance before the class.
    assert!(refusal_of(&class_only).starts_with("instance not set in environment"));
    let mut group = m.clone();
    set_env(&mut group, &|e| e.group = Some(Group::Uuid([3; 16])));
    assert!(refusal_of(&group).starts_with("group set in environment"));

    let mut conditions = m.clone();
    let vouch_corim::ConciseTag::Comid(c) = &mut conditions.tags[0] else {
        panic!()
    };
    c.triples.attest_key_triples[0].conditions = Some(KeyConditions {
        mkey: None,
        authorized_by: None,
    });
    assert!(refusal_of(&conditions).contains("conditions are not supported"));

    let mut identity = m.clone();
    let vouch_corim::ConciseTag::Comid(c) = &mut identity.tags[0] else {
        panic!()
    };
    c.triples.identity_triples = c.triples.attest_key_triples.clone();
    assert!(refusal_of(&identity).contains("found identity triples"));

    let mut untagged = m.clone();
    untagged.was_tagged = false;
    assert_eq!(refusal_of(&untagged), "did not see unsigned CoRIM tag");

    let mut no_profile = m.clone();
    no_profile.profile = None;
    assert!(refusal_of(&no_profile).contains("declares no profile"));
    let mut other_profile = m.clone();
    other_profile.profile = Some(vouch_corim::Profile::Uri(PROFILE_LEGACY.to_owned()));
    assert!(refusal_of(&other_profile).contains("does not match the media type profile"));
    assert!(
        EnactTrust
            .extract_endorsements(&m, "tag:arm.com,2025:psa#1.0.0")
            .unwrap_err()
            .to_string()
            .contains("is not a TPM_ENACTTRUST profile")
    );
}

#[test]
fn one_ak_for_two_nodes_is_refused() {
    // The node id is not signed: an AK shared by two nodes would let each
    // node's quotes pass as the other's (MANIFEST ENACT-05).
    let node = EnactTrustDevice::generate().unwrap();
    let other = EnactTrustDevice::generate().unwrap();
    let shared = EnactTrustCorim::new()
        .trust_anchor(node.node_id(), &node.ak_pem())
        .trust_anchor(other.node_id(), &node.ak_pem())
        .build();
    let got = refusal(&shared);
    assert!(
        got.contains(&format!(
            "the same attestation key is provisioned for nodes {} and {}",
            node.node_id_text(),
            other.node_id_text()
        )),
        "{got}"
    );
    let two_keys = EnactTrustCorim::new()
        .trust_anchor(node.node_id(), &node.ak_pem())
        .trust_anchor(node.node_id(), &other.ak_pem())
        .build();
    assert!(refusal(&two_keys).contains("is given two different attestation keys"));
    // The same statement twice is harmless.
    let twice = EnactTrustCorim::new()
        .trust_anchor(node.node_id(), &node.ak_pem())
        .trust_anchor(node.node_id(), &node.ak_pem())
        .build();
    assert_eq!(extract(&twice).unwrap().trust_anchors.len(), 2);
    // Two nodes with their own keys are fine.
    let both = EnactTrustCorim::new()
        .trust_anchor(node.node_id(), &node.ak_pem())
        .trust_anchor(other.node_id(), &other.ak_pem())
        .build();
    assert_eq!(extract(&both).unwrap().trust_anchors.len(), 2);
}

#[test]
fn legacy_corims_are_read_with_legacy_reasons() {
    let node = EnactTrustDevice::generate().unwrap();
    let id = node.node_id();
    for encoding in [
        EnactTrustEncoding::LegacyHttp,
        EnactTrustEncoding::LegacyHttps,
    ] {
        let profile = match encoding {
            EnactTrustEncoding::LegacyHttp => PROFILE_LEGACY,
            _ => PROFILE,
        };
        let good = EnactTrustCorim::new()
            .encoding(encoding)
            .trust_anchor(id, &node.ak_pem())
            .reference_value(id, node.golden_digest())
            .build();
        let endorsements = extract_as(&good, profile).unwrap();
        assert_eq!(endorsements.trust_anchors.len(), 1);
        assert_eq!(endorsements.reference_values.len(), 1);

        let two_measurements = EnactTrustCorim::new()
            .encoding(encoding)
            .reference_measurements(
                id,
                vec![golden_measurement(&[1; 32]), golden_measurement(&[2; 32])],
            )
            .build();
        assert_eq!(
            extract_as(&two_measurements, profile)
                .unwrap_err()
                .to_string(),
            "bad software component in CoMID at index 0: expecting one measurement only"
        );
        let two_keys = EnactTrustCorim::new()
            .encoding(encoding)
            .trust_anchor_keys(
                id,
                vec![
                    CryptoKey::PkixBase64Key(node.ak_pem()),
                    CryptoKey::PkixBase64Key(node.ak_pem()),
                ],
            )
            .build();
        assert_eq!(
            extract_as(&two_keys, profile).unwrap_err().to_string(),
            "bad key in CoMID at index 0: expecting exactly one AK public key"
        );
    }
    // The http:// profile only under its own media type.
    let http = EnactTrustCorim::new()
        .encoding(EnactTrustEncoding::LegacyHttp)
        .reference_value(id, node.golden_digest())
        .build();
    assert!(extract_as(&http, PROFILE).is_err());
}

/// Every EnactTrust CoRIM of the vectors that decodes, with the verdict of
/// MANIFEST §9.9 (the ones that do not decode are refused before the scheme
/// sees them; the conformance tests check that).
#[test]
fn vector_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    let cases: &[(&str, &str, Option<&str>)] = &[
        (PROFILE, "current/corim-enacttrust-valid.cbor", None),
        (
            PROFILE,
            "current/corim-enacttrust-bad-class.cbor",
            Some("class set in environment"),
        ),
        (
            PROFILE,
            "current/corim-enacttrust-bad-instance.cbor",
            Some("instance: expected uuid, found ueid"),
        ),
        (
            PROFILE,
            "current/corim-enacttrust-bad-multiple-digests.cbor",
            Some("expected exactly one digest in measurement, found 2"),
        ),
        (
            PROFILE,
            "current/corim-enacttrust-bad-multiple-keys.cbor",
            Some("expected trust anchor to contain exactly one key; found 2"),
        ),
        (
            PROFILE,
            "current/corim-enacttrust-bad-multiple-measurements.cbor",
            Some("expected exactly one measurement, found 2"),
        ),
        (
            PROFILE,
            "current/corim-enacttrust-bad-no-digest.cbor",
            Some("no digests in measurement"),
        ),
        (
            PROFILE,
            "current/corim-enacttrust-bad-no-instance.cbor",
            Some("instance not set in environment"),
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustAKOne.cbor",
            None,
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustGoldenOne.cbor",
            None,
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustAKMult.cbor",
            Some("bad key in CoMID at index 0: expecting exactly one AK public key"),
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustAKBadInst.cbor",
            Some(
                "bad key in CoMID at index 0: could not extract node id: could not extract node-id (UUID) from instance-id",
            ),
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustBadInst.cbor",
            Some(
                "bad software component in CoMID at index 0: could not extract instance attributes: could not extract node-id (UUID) from instance-id",
            ),
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustGoldenTwo.cbor",
            Some("bad software component in CoMID at index 0: expecting one measurement only"),
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustMultDigest.cbor",
            Some(
                "bad software component in CoMID at index 0: extracting measurement: expecting exactly one digest",
            ),
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustNoDigest.cbor",
            Some(
                "bad software component in CoMID at index 0: extracting measurement: measurement value has no digests",
            ),
        ),
        (
            PROFILE,
            "legacy/unsignedCorimMiniComidTpmEnactTrustNoInst.cbor",
            Some(
                "bad software component in CoMID at index 0: could not extract instance attributes: expecting instance in environment",
            ),
        ),
    ];
    for (profile, file, verdict) in cases {
        let bytes = vectors::read(&dir, &format!("enacttrust/corim/{file}"));
        match (extract_as(&bytes, profile), verdict) {
            (Ok(_), None) => {}
            (Err(e), Some(reason)) => {
                let e = e.to_string();
                assert!(e.contains(reason), "{file}: {e}");
            }
            (got, want) => panic!("{file}: got {got:?}, want {want:?}"),
        }
    }
    let mini = vectors::read(
        &dir,
        "enacttrust/derived/corim-enacttrust-mini.legacy-http.cbor",
    );
    let (key, rvs) = provisioned(&extract_as(&mini, PROFILE_LEGACY).unwrap(), VECTOR_NODE);
    assert!(key.is_some());
    assert_eq!(rvs.len(), 1);
    assert!(extract_as(&mini, PROFILE).is_err());
}

#[test]
fn vector_tokens_reach_veraisons_verdicts_with_vouchs_freshness() {
    let Some(dir) = vectors::dir() else { return };
    let nonce32 = hex::decode(NONCE32).unwrap();
    let corim = vectors::read(&dir, "enacttrust/corim/current/corim-enacttrust-valid.cbor");
    let token = |name: &str| vectors::read(&dir, &format!("enacttrust/{name}"));

    let good = attest(
        &corim,
        &token("derived/enacttrust-good-nonce32.token"),
        &nonce32,
    )
    .unwrap();
    assert_eq!(good.status, TrustTier::Affirming);
    let expected: serde_json::Value = serde_json::from_slice(&vectors::read(
        &dir,
        "enacttrust/expected/enacttrust.good.json",
    ))
    .unwrap();
    assert_eq!(
        serde_json::Value::Object(good.annotated_evidence.unwrap()),
        expected["TPM_ENACTTRUST"]["ear.veraison.annotated-evidence"]
    );

    // basic.token is signed by the provisioned AK but carries no nonce.
    let basic = attest(&corim, &token("tokens/basic.token"), &nonce32).unwrap_err();
    assert_eq!(
        basic,
        format!("bad evidence: freshness: quote nonce () does not match session nonce ({NONCE32})")
    );
    let basic_key = VerifyingKey::from_pem(
        std::str::from_utf8(&vectors::read(&dir, "enacttrust/keys/basic.pem.pub")).unwrap(),
    )
    .unwrap();
    let basic_evidence = EnactTrust
        .decode_evidence(&token("tokens/basic.token"))
        .unwrap();
    assert_eq!(basic_evidence.trust_anchor_id(), VECTOR_NODE);
    // Its only failure is freshness: with an empty "session nonce" it
    // verifies (Vouch never issues one, sessions carry 8 to 64 bytes).
    basic_evidence
        .verify_integrity(&[], &TrustAnchorKey::Key(basic_key))
        .unwrap();

    assert_eq!(
        attest(
            &corim,
            &token("derived/enacttrust-badcrypto.token"),
            &nonce32
        )
        .unwrap_err(),
        "bad evidence: could not verify evidence signature: failed to verify signature"
    );
    assert_eq!(
        attest(
            &corim,
            &token("derived/enacttrust-unknown-node.token"),
            &nonce32
        )
        .unwrap_err(),
        "no trust anchor for evidence"
    );
    for (file, reason) in [
        (
            "derived/enacttrust-badnode.integration.token",
            "TPMS_ATTEST appears truncated; expected 13112, but got 173 bytes",
        ),
        (
            "derived/enacttrust-truncated-17B.token",
            "token too small: found 17 bytes, need at least 18",
        ),
        (
            "tokens/basic.pre-2023-02-format.token",
            "TPMS_ATTEST appears truncated; expected 43524, but got 153 bytes",
        ),
        (
            "derived/enacttrust-wrong-type-certify.token",
            "wrong TPMS_ATTEST type: want 32792, got 32791",
        ),
    ] {
        let got = attest(&corim, &token(file), &nonce32).unwrap_err();
        assert_eq!(got, format!("bad evidence: {reason}"), "{file}");
    }
}
