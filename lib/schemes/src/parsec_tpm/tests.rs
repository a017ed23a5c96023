#![allow(clippy::unwrap_used)]

use vouch_corim::{
    Class, ClassId, ConciseTag, CryptoKey, Environment, Instance, KeyConditions, MeasurementKey,
    MeasurementValues,
};
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{KeyAttestation, TrustClaim, TrustTier};
use vouch_testkit::parsec_tpm::{ParsecTpmCorim, ParsecTpmDevice, pcr_measurement};
use vouch_testkit::vectors;

use super::*;

const NONCE: [u8; 16] = [0x9c; 16];
/// The nonce (extraData) of Veraison's `evidence.cbor`.
const DEADBEEF: [u8; 8] = [0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef];
/// `ear.veraison.key-attestation.akpub` for `evidence.cbor` (MANIFEST §9.2).
const VECTOR_AKPUB: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqQfDwCEColSchKK4shMOn2lmcZORpMcqNXeVofleg4pFgkit3_P0rN22S9KSj2m4Ef8Nhi4z54igcEtqqClQIA";

fn extract(corim: &[u8]) -> Result<Endorsements, EndorsementError> {
    ParsecTpm.extract_endorsements(&vouch_corim::decode(corim).unwrap(), PROFILE)
}

fn refusal(corim: &[u8]) -> String {
    extract(corim).unwrap_err().to_string()
}

fn refusal_of(corim: &vouch_corim::Corim) -> String {
    ParsecTpm
        .extract_endorsements(corim, PROFILE)
        .unwrap_err()
        .to_string()
}

/// Decodes, verifies and appraises `evidence` against what `corims`
/// provision, as the trust service does (the trust anchor of the evidence's
/// kid, then the reference values of its class); the failure message
/// instead of an appraisal.
fn attest(corims: &[&[u8]], evidence: &[u8], nonce: &[u8]) -> Result<Appraisal, String> {
    let evidence = ParsecTpm
        .decode_evidence(evidence)
        .map_err(|e| e.to_string())?;
    let endorsements: Vec<Endorsements> = corims.iter().map(|c| extract(c).unwrap()).collect();
    let ta = endorsements
        .iter()
        .flat_map(|e| &e.trust_anchors)
        .rfind(|ta| ta.id == evidence.trust_anchor_id())
        .ok_or("no trust anchor for evidence")?;
    let key = TrustAnchorKey::from_bytes(&ta.key.to_bytes()).unwrap();
    evidence
        .verify_integrity(nonce, &key)
        .map_err(|e| e.to_string())?;
    let ids = evidence.reference_ids(&ta.reference_id);
    let rvs: Vec<DecodedReference> = endorsements
        .iter()
        .flat_map(|e| &e.reference_values)
        .filter(|rv| ids.contains(&rv.reference_id))
        .map(|rv| ParsecTpm.decode_reference_value(&rv.body).unwrap())
        .collect();
    let mut submods = evidence.appraise(&rvs).unwrap();
    assert_eq!(submods.len(), 1);
    let (name, appraisal) = submods.pop().unwrap();
    assert_eq!(name, NAME);
    Ok(appraisal)
}

fn tv(appraisal: &Appraisal) -> serde_json::Value {
    serde_json::to_value(appraisal.trust_vector).unwrap()
}

#[test]
fn the_scheme_is_registered_with_its_media_types() {
    let schemes = crate::builtin();
    let scheme = schemes.iter().find(|s| s.name() == NAME).unwrap();
    assert_eq!(
        scheme.evidence_media_types(),
        [vouch_testkit::parsec_tpm::PARSEC_TPM_EVIDENCE_MT]
    );
    let types: Vec<_> = scheme
        .provisioning_media_types()
        .iter()
        .map(|p| (p.media_type, p.corim_profile))
        .collect();
    assert_eq!(
        types,
        [
            (vouch_testkit::parsec_tpm::PARSEC_TPM_CORIM_MT, PROFILE),
            (
                vouch_testkit::parsec_tpm::PARSEC_TPM_CORIM_LEGACY_MT,
                PROFILE
            ),
        ]
    );
}

#[test]
fn a_minted_device_in_its_endorsed_state_is_affirming_with_its_key() {
    let device = ParsecTpmDevice::generate().unwrap();
    let corim = device.corim();
    let endorsements = extract(&corim).unwrap();
    assert_eq!(endorsements.trust_anchors.len(), 1);
    let ta = &endorsements.trust_anchors[0];
    assert_eq!(ta.id, device.kid());
    assert_eq!(ta.reference_id, device.class_id());
    assert_eq!(ta.key, TrustAnchorKey::Key(device.ak().verifying_key()));
    assert_eq!(endorsements.reference_values.len(), 1, "one state");

    let evidence = device.evidence(&NONCE).unwrap();
    let appraisal = attest(&[&corim], &evidence, &NONCE).unwrap();
    assert_eq!(appraisal.status, TrustTier::Affirming);
    assert_eq!(
        tv(&appraisal),
        serde_json::json!({
            "instance-identity": 2, "configuration": 0, "executables": 2,
            "file-system": 0, "hardware": 2, "runtime-opaque": 0,
            "storage-opaque": 0, "sourced-data": 0
        })
    );
    assert_eq!(
        appraisal.key_attestation,
        Some(KeyAttestation::from_spki_der(
            &device.attested_key().to_spki_der()
        ))
    );
    let decoded = vouch_tpm::ParsecTpmEvidence::decode(&evidence).unwrap();
    assert_eq!(
        serde_json::Value::Object(appraisal.annotated_evidence.unwrap()),
        decoded.annotated_evidence()
    );
    assert!(appraisal.policy_claims.is_none());

    // The legacy encoding endorses the same way.
    let legacy = ParsecTpmCorim::new()
        .legacy()
        .trust_anchor(device.class_id(), device.kid(), &device.ak_pem())
        .reference_values(device.class_id(), device.pcr_measurements())
        .build();
    let legacy_endorsements = ParsecTpm
        .extract_endorsements(&vouch_corim::decode(&legacy).unwrap(), PROFILE)
        .unwrap();
    assert_eq!(legacy_endorsements.trust_anchors[0].id, device.kid());
    assert_eq!(
        legacy_endorsements.reference_values,
        endorsements.reference_values
    );
}

#[test]
fn other_pcr_states_are_not_affirming_and_attest_no_key() {
    let device = ParsecTpmDevice::generate().unwrap();
    let corim = device.corim();
    let ta_only = ParsecTpmCorim::new()
        .trust_anchor(device.class_id(), device.kid(), &device.ak_pem())
        .build();
    // PCR 2 is missing from this state.
    let partial = ParsecTpmCorim::new()
        .reference_values(
            device.class_id(),
            device.pcr_measurements().into_iter().take(2).collect(),
        )
        .build();
    // The right values, but only in the SHA-384 bank.
    let other_bank = ParsecTpmCorim::new()
        .reference_values(
            device.class_id(),
            device
                .pcr_values()
                .iter()
                .map(|(pcr, v)| pcr_measurement(*pcr, &[(7, [v.as_slice(), &[0; 16]].concat())]))
                .collect(),
        )
        .build();
    type Case<'a> = (&'a str, Vec<&'a [u8]>, Vec<u8>);
    let cases: [Case<'_>; 4] = [
        (
            "another PCR state",
            vec![&corim],
            device.evidence_with_pcr_digest(&NONCE, &[7; 32]).unwrap(),
        ),
        (
            "no reference values",
            vec![&ta_only],
            device.evidence(&NONCE).unwrap(),
        ),
        (
            "a state without PCR 2",
            vec![&ta_only, &partial],
            device.evidence(&NONCE).unwrap(),
        ),
        (
            "a state in another bank",
            vec![&ta_only, &other_bank],
            device.evidence(&NONCE).unwrap(),
        ),
    ];
    for (what, corims, evidence) in cases {
        let appraisal = attest(&corims, &evidence, &NONCE).unwrap();
        assert_ne!(appraisal.status, TrustTier::Affirming, "{what}");
        assert_eq!(appraisal.status, TrustTier::Warning, "{what}");
        assert_eq!(
            appraisal.trust_vector.executables,
            TrustClaim::UNRECOGNIZED_RUNTIME,
            "{what}"
        );
        assert_eq!(
            appraisal.trust_vector.hardware,
            TrustClaim::GENUINE_HARDWARE
        );
        assert!(appraisal.key_attestation.is_none(), "{what}");
        let problem = appraisal.policy_claims.unwrap()["problem"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            problem.starts_with("failed to match PCRs"),
            "{what}: {problem}"
        );
    }
}

#[test]
fn pcr_values_are_never_mixed_across_states() {
    // Two endorsed states that differ in PCR 0 and PCR 1: a quote of PCR 0
    // from the first and PCR 1 from the second matches neither.
    let device = ParsecTpmDevice::generate().unwrap();
    let values = device.pcr_values();
    let state = |pcr0: &[u8], pcr1: &[u8]| {
        vec![
            pcr_measurement(0, &[(1, pcr0.to_vec())]),
            pcr_measurement(1, &[(1, pcr1.to_vec())]),
            pcr_measurement(2, &[(1, values[2].1.clone())]),
        ]
    };
    let two_states = ParsecTpmCorim::new()
        .trust_anchor(device.class_id(), device.kid(), &device.ak_pem())
        .reference_values(device.class_id(), state(&values[0].1, &[0xaa; 32]))
        .reference_values(device.class_id(), state(&[0xbb; 32], &values[1].1))
        .build();
    let appraisal = attest(&[&two_states], &device.evidence(&NONCE).unwrap(), &NONCE).unwrap();
    assert_eq!(appraisal.status, TrustTier::Warning);
    // Adding the device's own state makes it affirming.
    let own = ParsecTpmCorim::new()
        .reference_values(device.class_id(), device.pcr_measurements())
        .build();
    let appraisal = attest(
        &[&two_states, &own],
        &device.evidence(&NONCE).unwrap(),
        &NONCE,
    )
    .unwrap();
    assert_eq!(appraisal.status, TrustTier::Affirming);
}

#[test]
fn integrity_checks_both_signatures_then_both_nonces() {
    let device = ParsecTpmDevice::generate().unwrap();
    let corim = device.corim();
    let stranger = SigningKey::generate(Curve::P256).unwrap();
    assert_eq!(
        attest(
            &[&corim],
            &device.evidence_signed_by(&NONCE, &stranger).unwrap(),
            &NONCE
        )
        .unwrap_err(),
        "bad evidence: failed to verify signature on key attestation token: failed to verify signature: Verification failed"
    );
    assert_eq!(
        attest(&[&corim], &device.evidence(&[1; 16]).unwrap(), &NONCE).unwrap_err(),
        format!(
            "bad evidence: freshness: key attestation token nonce ({}) does not match session nonce ({})",
            hex::encode([1; 16]),
            hex::encode(NONCE)
        )
    );
    // Only the quote is stale.
    let mut claims = device.claims(&NONCE);
    let quote = vouch_tpm::mint::parsec_tpm_evidence(&claims, device.ak()).unwrap();
    claims.nonce = vec![2; 16];
    let stale = vouch_tpm::mint::parsec_tpm_evidence(&claims, device.ak()).unwrap();
    let spliced = vouch_tpm::ParsecTpmEvidence::decode(&splice(&quote, &stale)).unwrap();
    assert_eq!(spliced.kat_nonce(), NONCE);
    assert_eq!(spliced.pat_nonce(), [2; 16]);
    assert_eq!(
        attest(&[&corim], &spliced.to_cbor(), &NONCE).unwrap_err(),
        format!(
            "bad evidence: freshness: platform attestation token nonce ({}) does not match session nonce ({})",
            hex::encode([2; 16]),
            hex::encode(NONCE)
        )
    );
    // An unknown kid has no trust anchor.
    let stranger_device = ParsecTpmDevice::generate().unwrap();
    assert_eq!(
        attest(
            &[&corim],
            &stranger_device.evidence(&NONCE).unwrap(),
            &NONCE
        )
        .unwrap_err(),
        "no trust anchor for evidence"
    );
}

/// The KAT of `kat_from` with the PAT of `pat_from` (same kid and AK).
fn splice(
    kat_from: &vouch_tpm::ParsecTpmEvidence,
    pat_from: &vouch_tpm::ParsecTpmEvidence,
) -> Vec<u8> {
    let kat = kat_from.to_cbor();
    let pat = pat_from.to_cbor();
    // Both encode `{"kat": {...}, "pat": {...}}` with the same layout: the
    // "pat" entry starts at the same text key in both.
    let needle = [0x63, b'p', b'a', b't'];
    let at = |b: &[u8]| b.windows(4).position(|w| w == needle).unwrap();
    [&kat[..at(&kat)], &pat[at(&pat)..]].concat()
}

fn model(device: &ParsecTpmDevice) -> vouch_corim::Corim {
    ParsecTpmCorim::new()
        .trust_anchor(device.class_id(), device.kid(), &device.ak_pem())
        .reference_values(device.class_id(), device.pcr_measurements())
        .to_corim()
}

/// Applies `f` to the first attest-key triple's environment of CoMID 1.
fn with_ta_env(m: &vouch_corim::Corim, f: impl Fn(&mut Environment)) -> vouch_corim::Corim {
    let mut m = m.clone();
    let ConciseTag::Comid(c) = &mut m.tags[1] else {
        panic!()
    };
    f(&mut c.triples.attest_key_triples[0].environment);
    m
}

/// Applies `f` to the first reference triple of CoMID 0.
fn with_rv(
    m: &vouch_corim::Corim,
    f: impl Fn(&mut vouch_corim::ReferenceTriple),
) -> vouch_corim::Corim {
    let mut m = m.clone();
    let ConciseTag::Comid(c) = &mut m.tags[0] else {
        panic!()
    };
    f(&mut c.triples.reference_triples[0]);
    m
}

#[test]
fn current_corims_are_refused_with_veraisons_reasons() {
    let device = ParsecTpmDevice::generate().unwrap();
    let m = model(&device);
    let cases = [
        (
            with_ta_env(&m, |e| e.class = None),
            "class not set (CoMID 1, attest-key triple 0)",
        ),
        (
            with_ta_env(&m, |e| {
                e.class = Some(Class {
                    vendor: Some("ACME".into()),
                    ..Class::default()
                })
            }),
            "class ID not set",
        ),
        (
            with_ta_env(&m, |e| {
                e.class = Some(Class {
                    class_id: Some(ClassId::Oid(vec![0x2a, 3, 4])),
                    ..Class::default()
                })
            }),
            "class ID: expected uuid, found oid",
        ),
        (
            with_ta_env(&m, |e| e.instance = Some(Instance::Uuid([1; 16]))),
            "instance: expected bytes, found uuid",
        ),
        (
            with_ta_env(&m, |e| e.instance = None),
            "instance not set in trust anchor environment",
        ),
        (
            with_ta_env(&m, |e| e.instance = Some(Instance::Bytes(vec![1; 10]))),
            "instance: the kid is not a valid UEID",
        ),
        (
            with_rv(&m, |t| {
                t.environment.instance = Some(Instance::Bytes(device.kid().to_vec()))
            }),
            "reference values apply to a whole class",
        ),
        (
            with_rv(&m, |t| t.measurements[0].key = None),
            "measurement 0 has no key (CoMID 0, reference triple 0)",
        ),
        (
            with_rv(&m, |t| {
                t.measurements[1].key = Some(MeasurementKey::Uuid([5; 16]))
            }),
            "measurement 1 key: expected uint, found uuid",
        ),
        (
            with_rv(&m, |t| {
                t.measurements[0].values = MeasurementValues {
                    serial_number: Some("1234".into()),
                    ..MeasurementValues::default()
                }
            }),
            "measurement 0 does not contain digests",
        ),
        (
            with_rv(&m, |t| {
                t.measurements[2].key = Some(MeasurementKey::Uint(0))
            }),
            "measurement 2: PCR 0 appears more than once",
        ),
        (
            with_rv(&m, |t| {
                t.measurements[0].key = Some(MeasurementKey::Uint(1 << 40))
            }),
            "is beyond the highest PCR a quote can select",
        ),
        (
            with_rv(&m, |t| {
                t.measurements[0] = pcr_measurement(0, &[(1, vec![0; 20])])
            }),
            "measurement 0: digest algorithm 1 has 32-byte digests, found 20 bytes",
        ),
    ];
    for (corim, reason) in cases {
        let got = refusal_of(&corim);
        assert!(got.contains(reason), "want {reason:?}, got {got:?}");
    }

    let two_keys = ParsecTpmCorim::new()
        .trust_anchor_keys(
            device.class_id(),
            device.kid(),
            vec![
                CryptoKey::PkixBase64Key(device.ak_pem()),
                CryptoKey::PkixBase64Key(device.ak_pem()),
            ],
        )
        .build();
    assert!(refusal(&two_keys).contains("expected exactly one key but got 2"));
    let cert = ParsecTpmCorim::new()
        .trust_anchor_keys(
            device.class_id(),
            device.kid(),
            vec![CryptoKey::PkixBase64Cert(device.ak_pem())],
        )
        .build();
    assert!(refusal(&cert).contains("trust anchor key must be a pkix-base64-key"));
    let other = ParsecTpmDevice::generate().unwrap();
    let rekeyed = ParsecTpmCorim::new()
        .trust_anchor(device.class_id(), device.kid(), &device.ak_pem())
        .trust_anchor(device.class_id(), device.kid(), &other.ak_pem())
        .build();
    assert!(refusal(&rekeyed).contains("is given two different attestation keys"));
    assert!(refusal(&ParsecTpmCorim::new().build()).contains("carries no PARSEC_TPM endorsements"));

    let mut conditions = m.clone();
    let ConciseTag::Comid(c) = &mut conditions.tags[1] else {
        panic!()
    };
    c.triples.attest_key_triples[0].conditions = Some(KeyConditions {
        mkey: None,
        authorized_by: None,
    });
    assert!(refusal_of(&conditions).contains("conditions are not supported"));
    let mut untagged = m.clone();
    untagged.was_tagged = false;
    assert_eq!(refusal_of(&untagged), "did not see unsigned CoRIM tag");
    let mut no_profile = m.clone();
    no_profile.profile = None;
    assert!(refusal_of(&no_profile).contains("declares no profile"));
}

#[test]
fn legacy_corims_are_refused_with_legacy_reasons() {
    let device = ParsecTpmDevice::generate().unwrap();
    let mut m = model(&device);
    m.profile = Some(vouch_corim::Profile::Text(PROFILE.to_owned()));
    let cases = [
        (
            with_ta_env(&m, |e| e.class = None),
            "bad key in CoMID at index 1: could not extract id from AVK environment: class not found in environment",
        ),
        (
            with_ta_env(&m, |e| e.instance = Some(Instance::Uuid([1; 16]))),
            "bad key in CoMID at index 1: could not extract id from AVK environment: could not extract instance-id (UEID) from instance: instance-id type is: *comid.TaggedUUID",
        ),
        (
            with_ta_env(&m, |e| e.instance = None),
            "bad key in CoMID at index 1: failed to create trust anchor raw public key: instance not found in ID",
        ),
        (
            with_rv(&m, |t| t.environment.class = None),
            "bad software component in CoMID at index 0: could not extract id from ref-val environment: class not found in environment",
        ),
        (
            with_rv(&m, |t| t.measurements[0].key = None),
            "bad software component in CoMID at index 0: could not extract PCR: measurement key is not present",
        ),
    ];
    for (corim, reason) in cases {
        assert_eq!(refusal_of(&corim), reason);
    }
    // A legacy UEID instance is the same kid as a current tagged-bytes one.
    let ueid = with_ta_env(&m, |e| {
        e.instance = Some(Instance::Ueid(device.kid().to_vec()))
    });
    let endorsements = ParsecTpm.extract_endorsements(&ueid, PROFILE).unwrap();
    assert_eq!(endorsements.trust_anchors[0].id, device.kid());
}

/// Every Parsec TPM CoRIM of the vectors that decodes, with the verdict of
/// MANIFEST §9.9.
#[test]
fn vector_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    let cases: &[(&str, Option<&str>)] = &[
        ("corim/current/corim-parsec-tpm-valid.cbor", None),
        (
            "corim/current/corim-parsec-tpm-bad-class-id.cbor",
            Some("class ID: expected uuid, found oid"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-instance.cbor",
            Some("instance: expected bytes, found uuid"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-multiple-keys.cbor",
            Some("expected exactly one key but got 2"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-no-class-id.cbor",
            Some("class ID not set"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-no-class.cbor",
            Some("class not set"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-no-digests.cbor",
            Some("measurement 0 does not contain digests"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-no-instance.cbor",
            Some("instance not set in trust anchor environment"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-no-pcr.cbor",
            Some("measurement 0 has no key"),
        ),
        (
            "corim/current/corim-parsec-tpm-bad-pcr.cbor",
            Some("measurement 0 key: expected uint, found uuid"),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmKeyGood.cbor",
            None,
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmPcrsGood.cbor",
            None,
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmKeyManyKeys.cbor",
            Some("bad key in CoMID at index 0: expecting exactly one AK public key"),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmKeyNoClass.cbor",
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: class not found in environment",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmKeyNoClassId.cbor",
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: class-id not found in class",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmKeyNoInstance.cbor",
            Some(
                "bad key in CoMID at index 0: failed to create trust anchor raw public key: instance not found in ID",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmKeyUnknownClassIdType.cbor",
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: class-id not in UUID format",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmKeyUnknownInstanceType.cbor",
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: could not extract instance-id (UEID) from instance: instance-id type is: *comid.TaggedUUID",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmPcrsNoClass.cbor",
            Some(
                "bad software component in CoMID at index 0: could not extract id from ref-val environment: class not found in environment",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmPcrsNoDigests.cbor",
            Some(
                "bad software component in CoMID at index 0: measurement[0]: measurement value does not contain digests",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmPcrsNoPCR.cbor",
            Some(
                "bad software component in CoMID at index 0: could not extract PCR: measurement key is not present",
            ),
        ),
        (
            "corim/legacy/unsignedCorimMiniComidParsecTpmPcrsUnknownPCRType.cbor",
            Some(
                "bad software component in CoMID at index 0: could not extract PCR: measurement key is not uint: measurement-key type is: *comid.TaggedUUID",
            ),
        ),
        ("derived/corim-parsec-tpm-badpcr.cbor", None),
        ("derived/corim-parsec-tpm-wrongkey.cbor", None),
    ];
    for (file, verdict) in cases {
        let bytes = vectors::read(&dir, &format!("parsec-tpm/{file}"));
        match (extract(&bytes), verdict) {
            (Ok(_), None) => {}
            (Err(e), Some(reason)) => {
                let e = e.to_string();
                assert!(e.contains(reason), "{file}: {e}");
            }
            (got, want) => panic!("{file}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn vector_evidence_reaches_the_manifests_verdicts() {
    let Some(dir) = vectors::dir() else { return };
    let read = |f: &str| vectors::read(&dir, &format!("parsec-tpm/{f}"));
    let valid = read("corim/current/corim-parsec-tpm-valid.cbor");
    let evidence = read("tokens/evidence.cbor");

    // PTPM-01: with the session nonce the evidence was made for.
    let appraisal = attest(&[&valid], &evidence, &DEADBEEF).unwrap();
    assert_eq!(appraisal.status, TrustTier::Affirming);
    assert_eq!(
        tv(&appraisal),
        serde_json::json!({
            "instance-identity": 2, "configuration": 0, "executables": 2,
            "file-system": 0, "hardware": 2, "runtime-opaque": 0,
            "storage-opaque": 0, "sourced-data": 0
        })
    );
    assert_eq!(appraisal.key_attestation.unwrap().akpub(), VECTOR_AKPUB);
    let annotated = serde_json::Value::Object(appraisal.annotated_evidence.unwrap());
    assert_eq!(annotated["kat"]["tpmVer"], "2.0");
    assert!(annotated["pat"]["attestInfo"].is_string());

    // PTPM-05: any other nonce is stale.
    assert_eq!(
        attest(&[&valid], &evidence, &[0xdd; 8]).unwrap_err(),
        "bad evidence: freshness: key attestation token nonce (deadbeefdeadbeef) does not match session nonce (dddddddddddddddd)"
    );
    // PTPM-02: PCR 2 endorsed as 01…01.
    let badpcr = read("derived/corim-parsec-tpm-badpcr.cbor");
    let appraisal = attest(&[&badpcr], &evidence, &DEADBEEF).unwrap();
    assert_ne!(appraisal.status, TrustTier::Affirming);
    assert!(appraisal.key_attestation.is_none());
    // PTPM-03: the same kid with another key.
    let wrongkey = read("derived/corim-parsec-tpm-wrongkey.cbor");
    assert_eq!(
        attest(&[&wrongkey], &evidence, &DEADBEEF).unwrap_err(),
        "bad evidence: failed to verify signature on key attestation token: failed to verify signature: Verification failed"
    );
    assert_eq!(
        attest(&[&valid], &read("negative/evidence1.cbor"), &[0x30; 4]).unwrap_err(),
        "no trust anchor for evidence"
    );
    // PTPM-04: malformed evidence.
    for file in [
        "negative/bad_evidence.cbor",
        "parsec-lib/evidence_invalid.cbor",
        "parsec-lib/evidence_bad_kat.cbor",
    ] {
        let got = attest(&[&valid], &read(file), &DEADBEEF).unwrap_err();
        assert!(got.starts_with("bad evidence: "), "{file}: {got}");
    }
}
