#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use vouch_corim::CryptoKey;
use vouch_ear::{TrustClaim, TrustTier};
use vouch_testkit::riot::{RiotCorim, RiotDevice};
use vouch_testkit::vectors;

use super::*;

const FWID: [u8; 32] = [0x6e; 32];

fn now() -> i64 {
    super::now_unix()
}

fn extract(bytes: &[u8]) -> Result<Endorsements, EndorsementError> {
    let corim = vouch_corim::decode(bytes).unwrap();
    Riot.extract_endorsements(&corim, PROFILE)
}

fn refusal(bytes: &[u8]) -> String {
    extract(bytes).unwrap_err().to_string()
}

/// The trust anchor a CoRIM provisions.
fn anchor_of(corim: &[u8]) -> TrustAnchorKey {
    let endorsements = extract(corim).unwrap();
    assert!(endorsements.reference_values.is_empty());
    let [ta] = endorsements.trust_anchors.as_slice() else {
        panic!("one trust anchor expected");
    };
    assert_eq!(ta.id, TRUST_ANCHOR_ID);
    // What the store round trip gives back.
    TrustAnchorKey::from_bytes(&ta.key.to_bytes()).unwrap()
}

fn decode(evidence: &[u8]) -> RiotEvidence {
    RiotEvidence::decode(evidence).unwrap()
}

fn verify_error(evidence: &[u8], anchor: &TrustAnchorKey) -> String {
    decode(evidence)
        .verify_at(anchor, now())
        .unwrap_err()
        .to_string()
}

#[test]
fn the_trust_anchor_id_is_the_vendor_and_model() {
    assert_eq!(
        TRUST_ANCHOR_ID,
        format!("class:{VENDOR}/{MODEL}").as_bytes()
    );
    let schemes = crate::builtin();
    let riot = schemes.iter().find(|s| s.name() == NAME).unwrap();
    assert_eq!(riot.evidence_media_types(), [EVIDENCE_MEDIA_TYPE]);
    assert_eq!(riot.provisioning_media_types()[0].corim_profile, PROFILE);
    assert_eq!(
        riot.provisioning_media_types()[0].media_type,
        vouch_testkit::riot::RIOT_CORIM_MT
    );
    assert!(riot.decode_reference_value(b"{}").is_err());
}

#[test]
fn a_minted_device_is_affirming_with_its_fwid_and_device_id() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    let TrustAnchorKey::CertPath(certs) = &anchor else {
        panic!("a certificate path expected");
    };
    assert_eq!(certs, &[device.minted().root.cert.der().to_vec()]);

    let evidence = Riot.decode_evidence(&device.evidence()).unwrap();
    assert_eq!(evidence.trust_anchor_id(), TRUST_ANCHOR_ID);
    assert!(evidence.reference_ids(TRUST_ANCHOR_ID).is_empty());
    // No nonce in RIoT evidence: any session nonce will do.
    evidence.verify_integrity(&[1; 32], &anchor).unwrap();
    evidence.verify_integrity(&[], &anchor).unwrap();

    let submods = evidence.appraise(&[]).unwrap();
    let [(name, appraisal)] = submods.as_slice() else {
        panic!("one submod expected");
    };
    assert_eq!(name, NAME);
    assert_eq!(appraisal.status, TrustTier::Affirming);
    let tv = &appraisal.trust_vector;
    assert_eq!(tv.instance_identity, TrustClaim::TRUSTWORTHY_INSTANCE);
    for claim in [
        tv.configuration,
        tv.executables,
        tv.file_system,
        tv.hardware,
        tv.runtime_opaque,
        tv.storage_opaque,
        tv.sourced_data,
    ] {
        assert_eq!(claim, TrustClaim::NO_CLAIM);
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let claims = appraisal.policy_claims.as_ref().unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims["FWID"], b64.encode(FWID));
    assert_eq!(claims["DeviceID"], b64.encode(device.device_id_point()));
    assert!(appraisal.annotated_evidence.is_none());
}

#[test]
fn one_corim_endorses_every_device_of_its_vendor() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let sibling = device.sibling(&[0x11; 32]).unwrap();
    let anchor = anchor_of(&device.corim());
    let evidence = decode(&sibling.evidence());
    evidence.verify_at(&anchor, now()).unwrap();
    assert_eq!(evidence.claims().fwid(), [0x11; 32]);
}

#[test]
fn a_device_of_another_vendor_is_refused() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let stranger = RiotDevice::generate(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    assert_eq!(
        verify_error(&stranger.evidence(), &anchor),
        "bad evidence: failed to verify alias cert: x509: certificate signed by unknown authority"
    );
}

#[test]
fn a_chain_missing_its_intermediate_is_refused() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    let error = verify_error(&device.evidence_without_intermediate(), &anchor);
    assert!(
        error.starts_with(
            "bad evidence: failed to verify alias cert: x509: certificate signed by unknown authority"
        ),
        "{error}"
    );
}

#[test]
fn an_expired_alias_certificate_is_refused() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    let error = verify_error(&device.evidence_with_expired_alias().unwrap(), &anchor);
    assert!(
        error.contains("failed to verify alias cert: x509: certificate has expired"),
        "{error}"
    );
    // And the whole chain once the clock passes the certificates' end.
    let later = now() + 11 * 365 * 24 * 3600;
    let error = decode(&device.evidence())
        .verify_at(&anchor, later)
        .unwrap_err()
        .to_string();
    assert!(error.contains("expired"), "{error}");
}

#[test]
fn an_alias_naming_another_device_id_is_refused() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    let error = verify_error(
        &device.evidence_with_mismatched_device_id().unwrap(),
        &anchor,
    );
    assert!(
        error.contains("is not the key of the DeviceID certificate"),
        "{error}"
    );
}

#[test]
fn a_self_signed_device_id_does_not_vouch_for_itself() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    let error = verify_error(&device.evidence_self_signed().unwrap(), &anchor);
    assert!(
        error
            .contains("failed to verify alias cert: x509: certificate signed by unknown authority"),
        "{error}"
    );
}

#[test]
fn the_alias_must_be_issued_by_the_second_certificate() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let other = device.sibling(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    // Alias of `device`, then the DeviceID of `other`, then `device`'s
    // DeviceID and intermediate: the path is fine, the layout is not.
    let m = device.minted();
    let evidence = [
        m.alias.cert.to_pem(),
        other.minted().device_id.cert.to_pem(),
        m.device_id.cert.to_pem(),
        m.intermediate.cert.to_pem(),
    ]
    .concat();
    let error = verify_error(evidence.as_bytes(), &anchor);
    assert!(error.contains("not by the DeviceID certificate"), "{error}");
}

#[test]
fn a_key_trust_anchor_is_refused() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let key = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P256)
        .unwrap()
        .verifying_key();
    let error = verify_error(&device.evidence(), &TrustAnchorKey::Key(key));
    assert!(error.contains("not a certificate path"), "{error}");
    let error = verify_error(
        &device.evidence(),
        &TrustAnchorKey::CertPath(vec![vec![0x30, 0x00]]),
    );
    assert!(error.contains("stored RIOT trust anchor"), "{error}");
}

#[test]
fn evidence_without_alias_and_device_id_establishes_no_identity() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let error = RiotEvidence::decode(&device.evidence_alias_only()).unwrap_err();
    assert!(
        error
            .0
            .starts_with("problem extracting token cert PEM block"),
        "{error}"
    );
    for bad in [
        &b""[..],
        b"not PEM",
        &[0xff, 0xfe, 0x00],
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        assert!(RiotEvidence::decode(bad).is_err(), "{bad:?}");
    }
    // The DeviceID certificate first: no CompositeDeviceID in it.
    let m = device.minted();
    let swapped = [m.device_id.cert.to_pem(), m.alias.cert.to_pem()].concat();
    let error = RiotEvidence::decode(swapped.as_bytes()).unwrap_err();
    assert!(error.0.starts_with("alias certificate: RIoT"), "{error}");
}

#[test]
fn truncated_or_corrupted_evidence_never_panics() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let anchor = anchor_of(&device.corim());
    let good = device.evidence();
    for len in (0..good.len()).step_by(7) {
        if let Ok(e) = RiotEvidence::decode(&good[..len]) {
            let _ = e.verify_at(&anchor, now());
        }
    }
    // Change one character of the PEM text at a time: whether it still
    // decodes or not, no altered certificate may verify. (A change can
    // leave the DER as it was, in base64 padding bits: those are skipped.)
    let good_chain = decode(&good).chain().to_vec();
    for at in (28..good.len()).step_by(11) {
        let mut bad = good.clone();
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        if let Ok(e) = RiotEvidence::decode(&bad)
            && e.chain() != good_chain.as_slice()
        {
            assert!(e.verify_at(&anchor, now()).is_err(), "character {at}");
        }
    }
}

#[test]
fn corims_with_the_veraison_rules() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let root = device.trust_anchor_pem();
    let intermediate = device.minted().intermediate.cert.to_pem();
    let good = || RiotCorim::new().cert_path(&root);

    // Accepted: a path, a single cert, both, an identity triple.
    anchor_of(&good().build());
    anchor_of(&RiotCorim::new().cert(&root).build());
    let TrustAnchorKey::CertPath(both) =
        anchor_of(&good().cert_path(&format!("{intermediate}{root}")).build())
    else {
        panic!()
    };
    assert_eq!(both.len(), 2, "duplicates are dropped");
    anchor_of(&good().as_identity_triple().build());

    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good().with_reference_value().build(),
            "found reference values (disallowed by scheme)",
        ),
        (
            good().vendor(None).build(),
            "trust anchor 0 environment: missing vendor (CoMID 0, attest-key triple 0)",
        ),
        (
            good().vendor(Some("ACME")).build(),
            r#"vendor must be "Veraison Project""#,
        ),
        (good().model(None).build(), "missing model"),
        (
            good().model(Some("RoadRunner")).build(),
            r#"model must be "RIOT""#,
        ),
        (
            good().instance([1; 33].to_vec()).build(),
            "unexpected instance",
        ),
        (
            good()
                .key(CryptoKey::PkixBase64Key(
                    device.minted().root.key.verifying_key().to_pem(),
                ))
                .build(),
            "key must be a cert or a cert path, found: pkix-base64-key",
        ),
        (
            RiotCorim::new().cert_path("not a certificate").build(),
            "pkix-base64-cert-path: problem extracting certificate PEM block",
        ),
        (
            RiotCorim::new()
                .cert(&format!("{intermediate}{root}"))
                .build(),
            "a pkix-base64-cert holds exactly one certificate, found 2",
        ),
        (
            RiotCorim::new().cert_path(&intermediate).build(),
            "holds no self-signed root",
        ),
        (RiotCorim::new().build(), "no RIOT trust anchor"),
        (good().profile(None).build(), "declares no profile"),
        (
            good().profile(Some("tag:arm.com,2025:psa#1.0.0")).build(),
            "does not match the media type profile",
        ),
        (
            good().vendor(None).as_identity_triple().build(),
            "missing vendor (CoMID 0, identity triple 0)",
        ),
    ];
    for (corim, want) in cases {
        let got = refusal(&corim);
        assert!(got.contains(want), "{want:?} not in {got:?}");
    }
    let corim = vouch_corim::decode(&good().build()).unwrap();
    assert!(
        Riot.extract_endorsements(&corim, "tag:arm.com,2025:psa#1.0.0")
            .is_err()
    );
}

#[test]
fn too_many_certificates_are_refused() {
    let device = RiotDevice::generate(&FWID).unwrap();
    let mut corim = RiotCorim::new().cert_path(&device.trust_anchor_pem());
    for _ in 0..=vouch_x509::MAX_PRESENTED_CERTS {
        let other = RiotDevice::generate(&FWID).unwrap();
        corim = corim.cert(&other.trust_anchor_pem());
    }
    assert!(refusal(&corim.build()).contains("more than 32 certificates"));
}

// The shared Veraison vectors (MANIFEST §9.4, §9.8d, §9.9).

const EXPECTED_FWID: &str = "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=";
const EXPECTED_DEVICE_ID: &str =
    "BJ80ZiWLcQYjf+tkjd/VVri5OMMHamGJQJdfIJidYfN5nQSC9GyMSpS6XgA92maPWMKQym9j2uXNWlpUzAwHL64=";

/// Inside the vectors' validity (2020-10-21 … 2030-10-19), whatever the
/// date the tests run on.
const VECTOR_TIME: i64 = 1_750_000_000;

#[test]
fn riot_01_the_vector_chain_validates_with_veraisons_claims() {
    let Some(dir) = vectors::dir() else { return };
    let anchor = anchor_of(&vectors::read(
        &dir,
        "riot/corim/current/corim-riot-valid.cbor",
    ));
    let TrustAnchorKey::CertPath(certs) = &anchor else {
        panic!()
    };
    assert_eq!(certs.len(), 3, "CA1, CA2 and the root");
    // The legacy TrustAnchor.pem holds the same three certificates.
    let legacy = vouch_x509::parse_pem_chain(
        std::str::from_utf8(&vectors::read(&dir, "riot/trust-anchors/TrustAnchor.pem")).unwrap(),
    )
    .unwrap();
    let legacy: Vec<Vec<u8>> = legacy.iter().map(|c| c.der().to_vec()).collect();
    assert_eq!(&legacy, certs);

    let evidence = decode(&vectors::read(&dir, "riot/evidence/evidence.pem"));
    evidence.verify_at(&anchor, VECTOR_TIME).unwrap();
    let submods = evidence.appraise(&[]).unwrap();
    let appraisal = &submods[0].1;
    assert_eq!(appraisal.status, TrustTier::Affirming);
    let claims = appraisal.policy_claims.as_ref().unwrap();
    assert_eq!(claims["FWID"], EXPECTED_FWID);
    assert_eq!(claims["DeviceID"], EXPECTED_DEVICE_ID);
}

#[test]
fn riot_02_broken_vector_chains_are_refused() {
    let Some(dir) = vectors::dir() else { return };
    let anchor = anchor_of(&vectors::read(
        &dir,
        "riot/corim/current/corim-riot-valid.cbor",
    ));
    let no_ca0 = decode(&vectors::read(
        &dir,
        "riot/derived/riot-evidence-no-ca0.pem",
    ));
    let error = no_ca0.verify_at(&anchor, VECTOR_TIME).unwrap_err().0;
    assert!(
        error.starts_with(
            "failed to verify alias cert: x509: certificate signed by unknown authority"
        ),
        "{error}"
    );
    let error = RiotEvidence::decode(&vectors::read(
        &dir,
        "riot/derived/riot-evidence-alias-only.pem",
    ))
    .unwrap_err()
    .0;
    assert!(
        error.starts_with("problem extracting token cert PEM block"),
        "{error}"
    );
}

#[test]
fn riot_03_vector_corims_are_accepted_or_refused() {
    let Some(dir) = vectors::dir() else { return };
    let read = |f: &str| vectors::read(&dir, &format!("riot/corim/current/{f}"));
    anchor_of(&read("corim-riot-valid.cbor"));
    for (file, want) in [
        (
            "corim-riot-bad-refvals.cbor",
            "found reference values (disallowed by scheme)",
        ),
        ("corim-riot-bad-no-vendor.cbor", "missing vendor"),
        (
            "corim-riot-bad-wrong-vendor.cbor",
            r#"vendor must be "Veraison Project""#,
        ),
        ("corim-riot-bad-wrong-key-type.cbor", "key must be a cert"),
    ] {
        let got = refusal(&read(file));
        assert!(got.contains(want), "{file}: {got}");
    }
}
