#![allow(clippy::unwrap_used)]

use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Appraisal, TrustTier};
use vouch_testkit::cca::{
    CcaCorimEncoding, CcaDevice, MintOptions, ParsecCcaEvidence, ParsecMintOptions,
};
use vouch_testkit::vectors;

use super::*;
use crate::cca::tests::Store;

const KAT_NONCE: [u8; 16] = [0x33; 16];

fn tv(a: &Appraisal) -> [i8; 8] {
    let t = &a.trust_vector;
    [
        t.instance_identity.0,
        t.configuration.0,
        t.executables.0,
        t.file_system.0,
        t.hardware.0,
        t.runtime_opaque.0,
        t.storage_opaque.0,
        t.sourced_data.0,
    ]
}

const PLATFORM_GOOD: [i8; 8] = [2, 2, 2, 0, 2, 2, 2, 0];

fn provisioned(device: &CcaDevice) -> Store {
    let mut store = Store::default();
    store
        .provision(&ParsecCca, PROFILE, &device.parsec_corim().build())
        .unwrap();
    store
}

fn one(result: &[(String, Appraisal)]) -> &Appraisal {
    assert_eq!(result.len(), 1);
    assert_eq!(result[0].0, NAME);
    &result[0].1
}

#[test]
fn minted_evidence_attests_its_key_in_its_own_session() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let device = CcaDevice::generate(curve).unwrap();
        let store = provisioned(&device);
        let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
        let evidence = device
            .parsec_evidence(&KAT_NONCE, &attested, &ParsecMintOptions::default())
            .unwrap();
        let result = store.attest(&ParsecCca, &evidence, &KAT_NONCE).unwrap();
        let appraisal = one(&result);
        assert_eq!(tv(appraisal), PLATFORM_GOOD, "{curve:?}");
        assert_eq!(appraisal.status, TrustTier::Affirming);
        assert_eq!(
            appraisal.key_attestation.as_ref().unwrap().spki_der(),
            attested.to_spki_der()
        );
        assert!(appraisal.annotated_evidence.is_some());

        // Any other session: stale.
        let e = store
            .attest(&ParsecCca, &evidence, &[0x34; 16])
            .unwrap_err();
        assert!(
            e.starts_with("integrity validation failed: bad evidence: freshness: KAT nonce"),
            "{e}"
        );
    }
}

#[test]
fn broken_bindings_and_wrong_keys_fail_integrity() {
    let device = CcaDevice::generate(Curve::P384).unwrap();
    let store = provisioned(&device);
    let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
    let mint = |options: ParsecMintOptions| {
        device
            .parsec_evidence(&KAT_NONCE, &attested, &options)
            .unwrap()
    };
    let cases = [
        (
            ParsecMintOptions {
                break_kat_binding: true,
                ..Default::default()
            },
            "failed to verify signature: PAT-KAT binding check failed: want ",
        ),
        (
            ParsecMintOptions {
                token: MintOptions {
                    platform_signer: Some(SigningKey::generate(Curve::P384).unwrap()),
                    ..Default::default()
                },
                ..Default::default()
            },
            "failed to verify signature: PAT validation failed: unable to verify platform token",
        ),
        (
            ParsecMintOptions {
                token: MintOptions {
                    break_binding: true,
                    ..Default::default()
                },
                ..Default::default()
            },
            "failed to verify signature: PAT validation failed: binding verification failed",
        ),
    ];
    for (options, want) in cases {
        let e = store
            .attest(&ParsecCca, &mint(options), &KAT_NONCE)
            .unwrap_err();
        assert!(
            e.starts_with(&format!(
                "integrity validation failed: bad evidence: {want}"
            )),
            "{e}"
        );
    }
}

#[test]
fn an_unendorsed_platform_attests_no_key() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
    let mut corim = device.parsec_corim();
    // Another configuration than the device's.
    corim.config(device.implementation_id(), vec![0xcf; 4]);
    let mut platform = device.platform_claims().clone();
    platform.config = vec![0x01; 4];
    let mut store = Store::default();
    store
        .provision(&ParsecCca, PROFILE, &corim.build())
        .unwrap();
    let keys = vouch_cca_token::mint::CcaDevice::new(device.cpak().clone(), device.rak().clone());
    let evidence = keys
        .parsec_evidence(
            &platform,
            device.realm_claims(),
            &KAT_NONCE,
            &attested,
            &ParsecMintOptions::default(),
        )
        .unwrap();
    let result = store.attest(&ParsecCca, &evidence, &KAT_NONCE).unwrap();
    let appraisal = one(&result);
    assert_eq!(tv(appraisal), [2, 32, 2, 0, 2, 2, 2, 0]);
    assert_eq!(appraisal.status, TrustTier::Warning);
    assert!(appraisal.key_attestation.is_none());
    assert!(appraisal.policy_claims.is_some());
}

#[test]
fn legacy_encoded_reference_values_apply_too() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let mut legacy = device.platform_corim_in(CcaCorimEncoding::Legacy);
    legacy.parsec();
    let mut store = Store::default();
    store
        .provision(&ParsecCca, PROFILE, &legacy.build())
        .unwrap();
    let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
    let evidence = device
        .parsec_evidence(&KAT_NONCE, &attested, &ParsecMintOptions::default())
        .unwrap();
    let result = store.attest(&ParsecCca, &evidence, &KAT_NONCE).unwrap();
    assert_eq!(tv(one(&result)), PLATFORM_GOOD);

    // A CCA platform CoRIM is not a Parsec CCA one.
    let cca = vouch_corim::decode(&device.platform_corim().build()).unwrap();
    let e = ParsecCca.extract_endorsements(&cca, PROFILE).unwrap_err();
    assert!(e.0.contains("does not match the media type profile"), "{e}");
    assert!(
        ParsecCca
            .extract_endorsements(&cca, crate::cca::PROFILE_PLATFORM)
            .is_err()
    );
}

#[test]
fn a_class_id_of_neither_encoding_is_refused() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let mut corim = device.parsec_corim().to_corim();
    if let vouch_corim::ConciseTag::Comid(c) = &mut corim.tags[0] {
        c.triples.reference_triples[0].environment.class = Some(vouch_corim::Class {
            class_id: Some(vouch_corim::ClassId::Uuid([7; 16])),
            vendor: None,
            model: None,
            layer: None,
            index: None,
        });
    }
    let e = ParsecCca.extract_endorsements(&corim, PROFILE).unwrap_err();
    assert!(e.0.contains("got 'uuid'"), "{e}");
}

#[test]
fn vector_evidence_reaches_the_manifest_verdicts() {
    let Some(dir) = vectors::dir() else { return };
    let mut store = Store::default();
    store
        .provision(
            &ParsecCca,
            PROFILE,
            &vectors::read(&dir, "parsec-cca/corim/current/corim-parsec-cca-valid.cbor"),
        )
        .unwrap();
    let read = |f: &str| vectors::read(&dir, f);
    let nonce = |bytes: &[u8]| {
        ParsecCcaEvidence::decode(bytes)
            .unwrap()
            .kat_nonce()
            .to_vec()
    };

    // PCCA-01.
    let good = read("parsec-cca/tokens/evidence.cbor");
    let result = store.attest(&ParsecCca, &good, &nonce(&good)).unwrap();
    let appraisal = one(&result);
    assert_eq!(tv(appraisal), PLATFORM_GOOD);
    assert_eq!(
        appraisal.key_attestation.as_ref().unwrap().akpub(),
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEm__bpnUzLJu7XeKy2gn4GEdKmJrCACP4KMFiC6gPYdjIOcJyMN8BmEDTpFyWGG-NBxk-vEOoQeDd4sRj9kxKFQ"
    );
    // PCCA-02.
    let bad = read("parsec-cca/derived/parsec-cca-badbinding.cbor");
    let e = store.attest(&ParsecCca, &bad, &nonce(&bad)).unwrap_err();
    assert!(
        e.contains("PAT-KAT binding check failed: want ") && e.contains("got 72a25793"),
        "{e}"
    );
    // PCCA-03.
    let bad = read("parsec-cca/derived/parsec-cca-badswcomp.cbor");
    let result = store.attest(&ParsecCca, &bad, &nonce(&bad)).unwrap();
    assert_eq!(tv(one(&result)), [2, 2, 33, 0, 2, 2, 2, 0]);
    assert_eq!(one(&result).status, TrustTier::Warning);
    // PCCA-04.
    let bad = read("parsec-cca/derived/parsec-cca-wrongcpak.cbor");
    let e = store.attest(&ParsecCca, &bad, &nonce(&bad)).unwrap_err();
    assert!(
        e.contains("failed to verify signature: PAT validation failed: "),
        "{e}"
    );
    // PCCA-05: no trust anchor for the TF-RMM platform.
    let legacy = read("parsec-cca/tokens/evidence.legacy-p384cpak.cbor");
    assert_eq!(
        store
            .attest(&ParsecCca, &legacy, &nonce(&legacy))
            .unwrap_err(),
        "no trust anchor for evidence"
    );
    // PCCA-06.
    assert_eq!(
        store
            .attest(
                &ParsecCca,
                &read("parsec-cca/negative/bad_evidence.cbor"),
                &[0; 8]
            )
            .unwrap_err(),
        "could not establish identity from evidence"
    );
}
