//! Arm CCA and Parsec CCA conformance over the shared Veraison vectors
//! (`../shared/vectors`, or `VOUCH_VECTORS`; MANIFEST §1, §3 CCA-01…07,
//! §4b, §5b, §6 `cca/corim`, §7, §9.3, §9.6 PCCA-01…06, §9.7c, §9.8c, §9.9,
//! §9.10), with the whole of Vouch in-process on SQLite, through the REST
//! APIs.
//!
//! Where Vouch deliberately differs from Veraison, the test says so and
//! checks Vouch's verdict:
//! * Veraison's legacy CCA CoRIMs (and the legacy Parsec CCA ones) carry a
//!   `rim-validity` that ended on 2025-12-31: Vouch refuses them as expired,
//!   so their content is replayed re-encoded without the validity;
//! * a token whose realm is not bound to its platform (CCA-06) keeps its
//!   platform appraisal and gets a contraindicated realm (all 99), as the
//!   manifest expects, where Veraison fails the whole token;
//! * the legacy KV-store records of CCA-03b are expressed as CoRIMs; realm
//!   reference values are looked up by RIM, so a realm record for another
//!   RIM (`realm-rim-mismatch`) simply does not apply (executables 33)
//!   instead of Veraison's verifier malfunction (-1);
//! * Parsec CCA: the KAT nonce must be the session nonce (Veraison does not
//!   compare it), so the vector evidence is affirming only in a session
//!   opened with its nonce `0001020304050607`; the key attestation is given
//!   only with an affirming platform.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use base64::Engine as _;
use common::conformance::{app_with, attest_as, check_corim, compare_to_expected};
use common::{TestApp, spawn_app};
use vouch_ear::{Ear, TrustTier};
use vouch_testkit::cca::{
    CCA_EVIDENCE_MT, CCA_PLATFORM_CORIM_LEGACY_MT, CCA_PLATFORM_CORIM_MT,
    CCA_PLATFORM_CORIM_UNSIGNED_MT, CCA_REALM_CORIM_LEGACY_MT, CCA_REALM_CORIM_MT,
    CCA_REALM_CORIM_UNSIGNED_MT, CcaCorimEncoding, CcaPlatformCorim, CcaRealmCorim, CcaRealmRef,
    CcaSwRef, CcaToken, PARSEC_CCA_CORIM_LEGACY_MT, PARSEC_CCA_CORIM_MT, PARSEC_CCA_EVIDENCE_MT,
    ParsecCcaEvidence, without_validity,
};
use vouch_testkit::vectors;

const PLATFORM_VALID: &str = "cca/corim/current/corim-cca-platform-valid.cbor";
const REALM_VALID: &str = "cca/corim/current/corim-cca-realm-valid.cbor";
const PLATFORM_TRANSITIONAL: &str = "cca/corim/transitional/corim-cca-platform-valid.cbor";
const REALM_TRANSITIONAL: &str = "cca/corim/transitional/corim-cca-realm-valid.cbor";

/// The integration `nonce64` (CCA-01).
const NONCE64: &str = "6f24d6b9635a2c8bbf58e908b94e04c1bfb3ae80cdebe832424578499fe31761e7f5e1d8bce0121844f54abdfa5286da88f53a657b15335c9396b4329254bc5c";

const CCA: &str = "ARM_CCA";
const PLATFORM: &str = "CCA_SSD_PLATFORM";
const REALM: &str = "CCA_REALM";

fn nonce64() -> Vec<u8> {
    hex::decode(NONCE64).unwrap()
}

/// The 'ABAB…' nonce of Veraison's unit and end-to-end tokens.
fn abab() -> Vec<u8> {
    b"AB".repeat(32)
}

fn expected(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&vectors::read(dir, &format!("cca/expected/{name}"))).unwrap()
}

async fn attest(app: &TestApp, dir: &Path, token: &str, nonce: &[u8]) -> Ear {
    attest_as(app, nonce, CCA_EVIDENCE_MT, vectors::read(dir, token)).await
}

fn tv(ear: &Ear, submod: &str) -> serde_json::Value {
    serde_json::to_value(ear.submods[submod].trust_vector).unwrap()
}

/// A trust vector: instance-identity, configuration, executables,
/// file-system, hardware, runtime-opaque, storage-opaque, sourced-data.
fn vector([ii, cfg, exe, fs, hw, ro, so, sd]: [i64; 8]) -> serde_json::Value {
    serde_json::json!({
        "instance-identity": ii, "configuration": cfg, "executables": exe,
        "file-system": fs, "hardware": hw, "runtime-opaque": ro,
        "storage-opaque": so, "sourced-data": sd
    })
}

fn platform_good() -> serde_json::Value {
    vector([2, 2, 2, 0, 2, 2, 2, 0])
}

fn realm_good() -> serde_json::Value {
    vector([2, 0, 2, 0, 0, 0, 0, 0])
}

fn problem_of(ear: &Ear, submod: &str) -> String {
    ear.submods[submod]
        .policy_claims
        .as_ref()
        .and_then(|c| c.get("problem"))
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts the platform and realm verdicts (trust vector and status).
fn assert_verdict(
    ear: &Ear,
    what: &str,
    platform: (serde_json::Value, TrustTier),
    realm: (serde_json::Value, TrustTier),
) {
    assert_eq!(ear.submods.len(), 2, "{what}: {:?}", ear.submods.keys());
    assert_eq!(tv(ear, PLATFORM), platform.0, "{what}: platform");
    assert_eq!(ear.submods[PLATFORM].status, platform.1, "{what}: platform");
    assert_eq!(tv(ear, REALM), realm.0, "{what}: realm");
    assert_eq!(ear.submods[REALM].status, realm.1, "{what}: realm");
    for submod in [PLATFORM, REALM] {
        assert_eq!(
            ear.submods[submod].policy_id.as_deref(),
            Some("policy:ARM_CCA")
        );
    }
}

/// The vector legacy CoRIMs re-encoded without their expired validity, as
/// (media type, bytes) to provision.
fn legacy_corims(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            CCA_PLATFORM_CORIM_UNSIGNED_MT,
            without_validity(&vectors::read(
                dir,
                "cca/corim/legacy/e2e-cca-endorsements.cbor",
            ))
            .unwrap(),
        ),
        (
            CCA_REALM_CORIM_UNSIGNED_MT,
            without_validity(&vectors::read(
                dir,
                "cca/corim/legacy/e2e-cca-realm-endorsements.2025.cbor",
            ))
            .unwrap(),
        ),
    ]
}

/// A fresh Vouch with the CoRIMs of one generation provisioned: 0 current,
/// 1 transitional, 2 legacy (re-encoded without validity).
async fn app_with_generation(dir: &Path, generation: usize) -> TestApp {
    match generation {
        0 => {
            app_with(
                &spawn_app,
                dir,
                &[
                    (CCA_PLATFORM_CORIM_MT, PLATFORM_VALID),
                    (CCA_REALM_CORIM_MT, REALM_VALID),
                ],
            )
            .await
        }
        1 => {
            app_with(
                &spawn_app,
                dir,
                &[
                    (CCA_PLATFORM_CORIM_LEGACY_MT, PLATFORM_TRANSITIONAL),
                    (CCA_REALM_CORIM_LEGACY_MT, REALM_TRANSITIONAL),
                ],
            )
            .await
        }
        _ => {
            let app = spawn_app().await;
            for (media_type, corim) in legacy_corims(dir) {
                app.provision_ok(media_type, corim).await;
            }
            app
        }
    }
}

#[tokio::test]
async fn cca_01_the_good_tokens_are_affirming_as_veraison_expects() {
    let Some(dir) = vectors::dir() else { return };
    let nonce = nonce64();
    let app = app_with_generation(&dir, 0).await;
    // The integration token in both framings: Veraison's exact results.
    for token in [
        "cca/derived/cca-good.integration.cbor",
        "cca/derived/cca-good.integration.cmw907.cbor",
    ] {
        let ear = attest(&app, &dir, token, &nonce).await;
        compare_to_expected(&ear, &expected(&dir, "cca.good.json"), token);
        compare_to_expected(&ear, &expected(&dir, "cca.verify-challenge.json"), token);
        assert_eq!(ear.submods.len(), 2);
    }
    // The scheme unit-test token (platform profile CCA-SSD): the end-to-end
    // result, annotated evidence included.
    let token = "cca/tokens/veraison-cca-good.services-scheme.cbor";
    let ear = attest(&app, &dir, token, &nonce).await;
    compare_to_expected(&ear, &expected(&dir, "cca.end-to-end.json"), token);
    app.stop().await;

    // The same verdicts from the transitional and legacy encodings.
    for generation in [1, 2] {
        let app = app_with_generation(&dir, generation).await;
        for token in [
            "cca/derived/cca-good.integration.cbor",
            "cca/derived/cca-good.integration.cmw907.cbor",
            "cca/tokens/veraison-cca-good.services-scheme.cbor",
        ] {
            let ear = attest(&app, &dir, token, &nonce).await;
            assert_verdict(
                &ear,
                &format!("{token} (generation {generation})"),
                (platform_good(), TrustTier::Affirming),
                (realm_good(), TrustTier::Affirming),
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn cca_02_a_token_for_another_session_fails_freshness() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with_generation(&dir, 0).await;
    // Veraison's 'deadbeef…' session nonce, decoded.
    let bad: Vec<u8> = [0x75, 0xe6, 0x9d, 0x6d, 0xe7, 0x9f]
        .into_iter()
        .cycle()
        .take(64)
        .collect();
    for token in [
        "cca/derived/cca-good.integration.cbor",
        "cca/tokens/veraison-cca-good.services-scheme.cbor",
    ] {
        let ear = attest(&app, &dir, token, &bad).await;
        compare_to_expected(&ear, &expected(&dir, "cca.freshness-fail.json"), token);
        assert_eq!(ear.submods.len(), 1);
    }
    // A short nonce is compared zero-padded, and still does not match.
    let ear = attest(
        &app,
        &dir,
        "cca/derived/cca-good.integration.cbor",
        b"wrongnonce",
    )
    .await;
    assert_eq!(tv(&ear, CCA), vector([99, 99, 99, 99, 99, 99, 99, 99]));
    assert!(
        problem_of(&ear, CCA).ends_with(&format!(
            "does not match session nonce ({})",
            hex::encode(b"wrongnonce")
        )),
        "{}",
        problem_of(&ear, CCA)
    );
    app.stop().await;
}

#[tokio::test]
async fn cca_03_the_end_to_end_tokens_are_affirming_with_every_corim_generation() {
    let Some(dir) = vectors::dir() else { return };
    for generation in [0, 1, 2] {
        let app = app_with_generation(&dir, generation).await;
        for token in [
            "cca/tokens/veraison-cca.services-e2e.cbor",
            "cca/tokens/veraison-cca.services-e2e.2025.cbor",
            "cca/tokens/veraison-cca-rawrak.services-unit.2025.cbor",
        ] {
            let ear = attest(&app, &dir, token, &abab()).await;
            assert_verdict(
                &ear,
                &format!("{token} (generation {generation})"),
                (platform_good(), TrustTier::Affirming),
                (realm_good(), TrustTier::Affirming),
            );
        }
        app.stop().await;
    }
}

/// The records of a legacy KV-store file (a JSON array of JSON strings):
/// each one's subType and attributes.
fn records(dir: &Path, file: &str) -> Vec<(String, serde_json::Value)> {
    let list: Vec<String> = serde_json::from_slice(&vectors::read(dir, file)).unwrap();
    list.iter()
        .map(|s| {
            let record: serde_json::Value = serde_json::from_str(s).unwrap();
            (
                record["subType"].as_str().unwrap().to_owned(),
                record["attributes"].clone(),
            )
        })
        .collect()
}

/// Go's lenient standard base64 (padding required, stray bits ignored).
fn b64(value: &serde_json::Value) -> Vec<u8> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    engine.decode(value.as_str().unwrap()).unwrap()
}

/// Legacy KV-store records as CoRIMs (current encoding) for the platform
/// `implementation_id`, with `trust_anchor` (instance ID, PEM) if given:
/// the platform CoRIM, and the realm CoRIM if there is a realm record.
fn corims_from_records(
    dir: &Path,
    file: &str,
    implementation_id: [u8; 32],
    trust_anchor: Option<([u8; 33], &str)>,
    parsec: bool,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut platform = CcaPlatformCorim::new(CcaCorimEncoding::Current);
    if parsec {
        platform.parsec();
    }
    if let Some((instance_id, pem)) = trust_anchor {
        platform.trust_anchor(implementation_id, instance_id, pem);
    }
    let mut realm = None;
    for (sub_type, a) in records(dir, file) {
        match sub_type.as_str() {
            "platform.sw-component" => {
                platform.software_component(
                    implementation_id,
                    CcaSwRef {
                        mtype: a["measurement-type"].as_str().unwrap().to_owned(),
                        version: a["version"].as_str().map(str::to_owned),
                        signer_id: b64(&a["signer-id"]),
                        digest: b64(&a["measurement-value"]),
                    },
                );
            }
            "platform.config" => {
                // Two of Veraison's files misspell the attribute; the
                // configuration is then not endorsed.
                if let Some(config) = a.get("platform-config-id") {
                    platform.config(implementation_id, b64(config));
                }
            }
            "realm.reference-value" => {
                let rem = |k: &str| a.get(k).map(b64);
                let mut corim = CcaRealmCorim::new(CcaCorimEncoding::Current);
                corim.realm(CcaRealmRef {
                    rim: b64(&a["realm-initial-measurement"]),
                    rems: [rem("rem0"), rem("rem1"), rem("rem2"), rem("rem3")],
                    rpv: a.get("realm-personalization-value").map(b64),
                });
                realm = Some(corim.build());
            }
            other => panic!("{file}: unexpected record {other}"),
        }
    }
    (platform.build(), realm)
}

/// The CCA-03b records as CoRIMs for the rawrak token's platform (all-zero
/// implementation ID, instance `01 02…02`, the CCA-01 CPAK).
fn cca_corims_from_records(dir: &Path, file: &str) -> (Vec<u8>, Option<Vec<u8>>) {
    let cpak = String::from_utf8(vectors::read(dir, "psa/keys/derived/ec.p256.pub.pem")).unwrap();
    let mut instance_id = [0x02u8; 33];
    instance_id[0] = 0x01;
    corims_from_records(
        dir,
        &format!("cca/legacy-kvstore/{file}"),
        [0; 32],
        Some((instance_id, &cpak)),
        false,
    )
}

#[tokio::test]
async fn cca_03b_the_legacy_appraisal_rules_hold_for_equivalent_corims() {
    let Some(dir) = vectors::dir() else { return };
    let token = "cca/tokens/veraison-cca-rawrak.services-unit.2025.cbor";
    // (file, platform (cfg, exe, status), realm (exe, status))
    let cases = [
        (
            "platform-endorsements.json",
            (2, 2, TrustTier::Affirming),
            None,
        ),
        (
            "platform-mismatch-refval-endorsements.json",
            (2, 33, TrustTier::Warning),
            None,
        ),
        (
            "platform-mismatch-cfg-endorsements.json",
            (32, 2, TrustTier::Warning),
            None,
        ),
        (
            "realm-no-realm-endorsements.json",
            (2, 2, TrustTier::Affirming),
            Some((33, TrustTier::Warning)),
        ),
        (
            "realm-no-rem-endorsements.json",
            (32, 2, TrustTier::Warning),
            Some((3, TrustTier::Affirming)),
        ),
        (
            "realm-no-rpv-endorsements.json",
            (32, 2, TrustTier::Warning),
            Some((2, TrustTier::Affirming)),
        ),
        (
            "realm-match-endorsements.json",
            (2, 2, TrustTier::Affirming),
            Some((2, TrustTier::Affirming)),
        ),
    ];
    for (file, (cfg, exe, platform_status), realm) in cases {
        let app = spawn_app().await;
        let (platform, realm_corim) = cca_corims_from_records(&dir, file);
        app.provision_ok(CCA_PLATFORM_CORIM_MT, platform).await;
        if let Some(corim) = realm_corim {
            app.provision_ok(CCA_REALM_CORIM_MT, corim).await;
        }
        let ear = attest(&app, &dir, token, &abab()).await;
        assert_eq!(
            tv(&ear, PLATFORM),
            vector([2, cfg, exe, 0, 2, 2, 2, 0]),
            "{file}"
        );
        assert_eq!(ear.submods[PLATFORM].status, platform_status, "{file}");
        if let Some((exe, status)) = realm {
            assert_eq!(
                tv(&ear, REALM),
                vector([2, 0, exe, 0, 0, 0, 0, 0]),
                "{file}"
            );
            assert_eq!(ear.submods[REALM].status, status, "{file}");
        }
        app.stop().await;
    }

    // realm-rim-mismatch: its REMs are not digests, so the CoRIM is refused;
    // and a realm endorsed for another RIM does not apply to this one.
    let app = spawn_app().await;
    let (platform, realm) = cca_corims_from_records(&dir, "realm-rim-mismatch-endorsements.json");
    app.provision_ok(CCA_PLATFORM_CORIM_MT, platform).await;
    let response = app.provision(CCA_REALM_CORIM_MT, realm.unwrap()).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "failed", "{body}");
    assert!(
        body["failure-reason"]
            .as_str()
            .unwrap()
            .contains("digest length mismatch"),
        "{body}"
    );
    let mut other = CcaRealmCorim::new(CcaCorimEncoding::Current);
    let mut rim = vec![0x43; 64];
    rim[63] = 0x42;
    other.realm(CcaRealmRef {
        rim,
        rems: [None, None, None, None],
        rpv: None,
    });
    app.provision_ok(CCA_REALM_CORIM_MT, other.build()).await;
    let ear = attest(&app, &dir, token, &abab()).await;
    assert_eq!(tv(&ear, REALM), vector([2, 0, 33, 0, 0, 0, 0, 0]));
    assert_eq!(ear.submods[REALM].status, TrustTier::Warning);
    app.stop().await;

    // The legacy trust-anchor records: the CCA-01 key verifies the token;
    // a private key is no trust anchor.
    for (file, refusal) in [
        ("platform-ta-endorsements.json", None),
        ("platform-ta-integ-endorsements.json", None),
        (
            "platform-invalid-key-ta-endorsements.json",
            Some("unsupported key type: \"PRIVATE KEY\""),
        ),
    ] {
        let record: serde_json::Value =
            serde_json::from_slice(&vectors::read(&dir, &format!("cca/legacy-kvstore/{file}")))
                .unwrap();
        let pem = record["attributes"]["iak-pub"].as_str().unwrap();
        let mut instance_id = [0x02u8; 33];
        instance_id[0] = 0x01;
        let mut corim = CcaPlatformCorim::new(CcaCorimEncoding::Current);
        corim.trust_anchor([0; 32], instance_id, pem);
        let app = spawn_app().await;
        let response = app.provision(CCA_PLATFORM_CORIM_MT, corim.build()).await;
        let body: serde_json::Value = response.json().await.unwrap();
        match refusal {
            None => {
                assert_eq!(body["status"], "success", "{file}: {body}");
                let ear = attest(&app, &dir, token, &abab()).await;
                // Integrity holds; nothing else is endorsed.
                assert_eq!(
                    tv(&ear, PLATFORM),
                    vector([2, 32, 33, 0, 2, 2, 2, 0]),
                    "{file}"
                );
            }
            Some(reason) => {
                assert_eq!(body["status"], "failed", "{file}: {body}");
                let got = body["failure-reason"].as_str().unwrap();
                assert!(got.contains(reason), "{file}: {got}");
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn cca_04_real_tokens_with_unknown_software_are_a_platform_warning() {
    let Some(dir) = vectors::dir() else { return };
    for generation in [0, 1, 2] {
        let app = app_with_generation(&dir, generation).await;
        for token in [
            "cca/tokens/evcli-cca-token.cbor",
            "cca/tokens/rust-cca-token-02.cbor",
            "cca/tokens/ccatoken-gotest-good.cmw907.cbor",
            "cca/tokens/ccatoken-gotest-good.legacy399.cbor",
        ] {
            let ear = attest(&app, &dir, token, &abab()).await;
            assert_verdict(
                &ear,
                &format!("{token} (generation {generation})"),
                (vector([2, 2, 33, 0, 2, 2, 2, 0]), TrustTier::Warning),
                (realm_good(), TrustTier::Affirming),
            );
        }
        app.stop().await;
    }
}

/// The TF-RMM CPAK (`ta-tfa.json`) as PEM.
fn tfrmm_cpak(dir: &Path) -> String {
    let tas: serde_json::Value =
        serde_json::from_slice(&vectors::read(dir, "cca/rust-ccatoken-stores/ta-tfa.json"))
            .unwrap();
    vouch_crypto::VerifyingKey::from_jwk(&tas[0]["pkey"])
        .unwrap()
        .to_pem()
}

/// rust-ccatoken's stores (`ta-tfa.json`, `rv.json`) as CoRIMs: the TF-RMM
/// platform's CPAK, software and configuration, and the TF-RMM realm.
fn tfrmm_corims(dir: &Path, with_reference_values: bool) -> (Vec<u8>, Vec<u8>) {
    let tas: serde_json::Value =
        serde_json::from_slice(&vectors::read(dir, "cca/rust-ccatoken-stores/ta-tfa.json"))
            .unwrap();
    let ta = &tas[0];
    let h = |v: &serde_json::Value| hex::decode(v.as_str().unwrap()).unwrap();
    let implementation_id: [u8; 32] = h(&ta["implementation-id"]).try_into().unwrap();
    let instance_id: [u8; 33] = h(&ta["instance-id"]).try_into().unwrap();
    let mut platform = CcaPlatformCorim::new(CcaCorimEncoding::Current);
    platform.trust_anchor(implementation_id, instance_id, &tfrmm_cpak(dir));
    let rv: serde_json::Value =
        serde_json::from_slice(&vectors::read(dir, "cca/rust-ccatoken-stores/rv.json")).unwrap();
    let mut realm = CcaRealmCorim::new(CcaCorimEncoding::Current);
    if with_reference_values {
        // The platform entry in hex is the TF-RMM one.
        let entry = rv["platform"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["implementation-id"].as_str().unwrap().starts_with("7F45"))
            .unwrap();
        for c in entry["sw-components"].as_array().unwrap() {
            platform.software_component(
                implementation_id,
                CcaSwRef {
                    mtype: c["component-type"].as_str().unwrap().to_owned(),
                    version: c["version"].as_str().map(str::to_owned),
                    signer_id: h(&c["signer-id"]),
                    digest: h(&c["measurement-value"]),
                },
            );
        }
        platform.config(implementation_id, h(&entry["platform-configuration"]));
        let r = &rv["realm"][0];
        let rems: Vec<Option<Vec<u8>>> = r["extensible-measurements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| Some(h(m)))
            .collect();
        realm.realm(CcaRealmRef {
            rim: h(&r["initial-measurement"]),
            rems: rems.try_into().unwrap(),
            rpv: Some(h(&r["personalization-value"])),
        });
    }
    (platform.build(), realm.build())
}

async fn tfrmm_app(dir: &Path, with_reference_values: bool) -> TestApp {
    let app = spawn_app().await;
    let (platform, realm) = tfrmm_corims(dir, with_reference_values);
    app.provision_ok(CCA_PLATFORM_CORIM_MT, platform).await;
    if with_reference_values {
        app.provision_ok(CCA_REALM_CORIM_MT, realm).await;
    }
    app
}

/// The realm challenge a vector token carries (its session nonce).
fn realm_challenge(dir: &Path, token: &str) -> Vec<u8> {
    CcaToken::decode(&vectors::read(dir, token))
        .unwrap()
        .realm_challenge()
        .to_vec()
}

#[tokio::test]
async fn cca_05_genuine_tf_rmm_tokens_verify_with_their_p384_cpak() {
    let Some(dir) = vectors::dir() else { return };
    let app = tfrmm_app(&dir, true).await;
    // The TF-RMM token appraises as rust-ccatoken's stores say, in both
    // framings.
    for token in [
        "cca/tokens/tfrmm-cca-token.cbor",
        "cca/tokens/ccatoken-gotest-rmm.cmw907.cbor",
    ] {
        let nonce = realm_challenge(&dir, token);
        assert_eq!(nonce, vec![0xab; 64]);
        let ear = attest(&app, &dir, token, &nonce).await;
        assert_verdict(
            &ear,
            token,
            (platform_good(), TrustTier::Affirming),
            (realm_good(), TrustTier::Affirming),
        );
    }
    // The draft-ffm-00 token verifies (both instances trustworthy); its
    // software, configuration and realm are not in those stores.
    let token = "cca/tokens/tfa-cca-token-draft-ffm-00.cbor";
    let ear = attest(&app, &dir, token, &realm_challenge(&dir, token)).await;
    assert_verdict(
        &ear,
        token,
        (vector([2, 32, 33, 0, 2, 2, 2, 0]), TrustTier::Warning),
        (vector([2, 0, 33, 0, 0, 0, 0, 0]), TrustTier::Warning),
    );
    app.stop().await;
}

#[tokio::test]
async fn cca_06_a_realm_not_bound_to_its_platform_is_never_affirming() {
    let Some(dir) = vectors::dir() else { return };
    let app = tfrmm_app(&dir, false).await;
    let token = "cca/tokens/tfa-cca-bug-33-repro.cbor";
    let ear = attest(&app, &dir, token, &realm_challenge(&dir, token)).await;
    // The platform token verified with its CPAK; the realm is not vouched
    // for.
    assert_eq!(tv(&ear, PLATFORM)["instance-identity"], 2);
    assert_eq!(tv(&ear, REALM), vector([99, 99, 99, 99, 99, 99, 99, 99]));
    assert_eq!(ear.submods[REALM].status, TrustTier::Contraindicated);
    let problem = problem_of(&ear, REALM);
    assert!(
        problem.contains("not bound to the platform token"),
        "{problem}"
    );
    app.stop().await;
}

#[tokio::test]
async fn cca_07_malformed_evidence_establishes_no_identity() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with_generation(&dir, 0).await;
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cca/negative"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 6);
    for file in files {
        let (session, _) = app.session("").await;
        let response = app
            .submit(&session, CCA_EVIDENCE_MT, std::fs::read(&file).unwrap())
            .await;
        let status = response.status();
        assert!(!status.is_server_error(), "{}: {status}", file.display());
        if status.is_success() {
            let ear = common::ear_of(&app, response).await;
            assert_eq!(
                tv(&ear, CCA),
                vector([99, 99, 99, 99, 99, 99, 99, 99]),
                "{}",
                file.display()
            );
            assert_eq!(ear.submods[CCA].status, TrustTier::Contraindicated);
            assert_eq!(
                problem_of(&ear, CCA),
                "could not establish identity from evidence"
            );
        } else {
            assert!(status.is_client_error(), "{}: {status}", file.display());
        }
    }
    // Nor do the other schemes' tokens, or nothing at all.
    for bytes in [
        vectors::read(&dir, "psa/tokens/acme-p2-good.services-scheme.cbor"),
        vectors::read(&dir, "parsec-cca/tokens/evidence.cbor"),
    ] {
        let ear = attest_as(&app, &nonce64(), CCA_EVIDENCE_MT, bytes).await;
        assert_eq!(ear.submods[CCA].status, TrustTier::Contraindicated);
    }
    app.stop().await;
}

#[tokio::test]
async fn every_cca_token_gets_a_result_never_a_server_error() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with_generation(&dir, 0).await;
    for folder in ["cca/tokens", "cca/derived", "cca/negative"] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let (session, _) = app.session("").await;
            let response = app
                .submit(&session, CCA_EVIDENCE_MT, std::fs::read(&path).unwrap())
                .await;
            let status = response.status();
            assert!(!status.is_server_error(), "{}: {status}", path.display());
            if status.is_success() {
                // A server-chosen nonce: none of them is fresh.
                let ear = common::ear_of(&app, response).await;
                for (name, submod) in &ear.submods {
                    assert_ne!(
                        submod.status,
                        TrustTier::Affirming,
                        "{}: {name}",
                        path.display()
                    );
                }
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn cca_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    let app = spawn_app().await;
    let p = CCA_PLATFORM_CORIM_MT;
    let r = CCA_REALM_CORIM_MT;
    let pl = CCA_PLATFORM_CORIM_LEGACY_MT;
    let rl = CCA_REALM_CORIM_LEGACY_MT;
    let cases: &[(&str, &str, Option<&str>)] = &[
        (p, "current/corim-cca-platform-valid.cbor", None),
        (
            p,
            "current/corim-cca-platform-bad-no-class.cbor",
            Some("environment.class is required"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-refval-cryptokeys.cbor",
            Some("cryptokeys (signer-id) must be of type 'bytes'"),
        ),
        // A legacy-encoded file among the current ones: refused under either
        // media type.
        (
            p,
            "current/corim-cca-platform-bad-refval-instance.cbor",
            Some("does not match the media type profile"),
        ),
        (
            pl,
            "current/corim-cca-platform-bad-refval-instance.cbor",
            Some("instance set for reference value"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-refval-mkey-string.cbor",
            Some("invalid mkey \"cca.bad-component\""),
        ),
        (
            p,
            "current/corim-cca-platform-bad-refval-mkey.cbor",
            Some("mkey must be of type 'string', got 'uint'"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-refval-no-digests.cbor",
            Some("digests field is mandatory but not set"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-refval-no-mkey.cbor",
            Some("mkey is mandatory but not set"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-refval-no-raw-value.cbor",
            Some("raw-value is mandatory for cca.platform-config"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-ta-cert.cbor",
            Some("verification-key must be of type 'pkix-base64-key', got 'pkix-base64-cert'"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-ta-instance.cbor",
            Some("instance-id must be of type 'ueid', got 'bytes'"),
        ),
        (
            p,
            "current/corim-cca-platform-bad-ta-no-instance.cbor",
            Some("environment.instance (instance-id) is required"),
        ),
        (r, "current/corim-cca-realm-valid.cbor", None),
        (
            r,
            "current/corim-cca-realm-bad-instance.cbor",
            Some("RIM must be of type 'bytes', got 'uuid'"),
        ),
        (
            r,
            "current/corim-cca-realm-bad-no-instance.cbor",
            Some("environment.class is required for CCA Realm profile"),
        ),
        (
            r,
            "current/corim-cca-realm-bad-no-integ-regs.cbor",
            Some("digests field is mandatory but not set"),
        ),
        (
            r,
            "current/corim-cca-realm-bad-no-raw-value.cbor",
            Some("raw-value is mandatory for cca.rpv"),
        ),
        (
            r,
            "current/corim-cca-realm-bad-no-rim.cbor",
            Some("RIM (cca.rim) measurement is mandatory but not found"),
        ),
        (p, "current/corimlib-cca-platform-valid.cbor", None),
        (
            p,
            "current/corimlib-cca-platform-invalid-digests.cbor",
            Some("length mismatch"),
        ),
        (
            p,
            "current/corimlib-cca-platform-invalid-impl-id.cbor",
            Some("implementation-id must be exactly 32 bytes"),
        ),
        (r, "current/corimlib-cca-realm-valid.cbor", None),
        (
            r,
            "current/corimlib-cca-realm-invalid-missing-rim.cbor",
            Some("RIM (cca.rim) measurement is mandatory"),
        ),
        (
            r,
            "current/corimlib-cca-realm-invalid-rim-size.cbor",
            Some("RIM must be 32, 48, or 64 bytes"),
        ),
        (
            p,
            "current/corimlib-no-profile.cbor",
            Some("no profile information set in CoRIM"),
        ),
        (pl, "transitional/corim-cca-platform-valid.cbor", None),
        (
            pl,
            "transitional/corim-cca-platform-bad-no-class.cbor",
            Some("class not set"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-refval-instance.cbor",
            Some("instance set for reference value"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-refval-mkey.cbor",
            Some("measurement 0 key: unexpected type uint"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-refval-no-digests.cbor",
            Some("measurement 0 value: no digests"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-refval-no-mkey.cbor",
            Some("measurement 0 key not set"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-refval-no-raw-value.cbor",
            Some("measurement 0 value: no raw value"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-ta-cert.cbor",
            Some("trust anchor must be a PKIX base64 key, found: pkix-base64-cert"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-ta-instance.cbor",
            Some("instance: expected UEID, got bytes"),
        ),
        (
            pl,
            "transitional/corim-cca-platform-bad-ta-no-instance.cbor",
            Some("instance not set for trust anchor"),
        ),
        (rl, "transitional/corim-cca-realm-valid.cbor", None),
        (
            rl,
            "transitional/corim-cca-realm-bad-instance.cbor",
            Some("instance: expected bytes, got ueid"),
        ),
        (
            rl,
            "transitional/corim-cca-realm-bad-no-instance.cbor",
            Some("instance not set"),
        ),
        (
            rl,
            "transitional/corim-cca-realm-bad-no-integ-regs.cbor",
            Some("integrity registers not set"),
        ),
        (
            rl,
            "transitional/corim-cca-realm-bad-no-raw-value.cbor",
            Some("personalization (raw value) not set"),
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (media_type, file, verdict) in cases {
        seen.insert(*file);
        check_corim(
            &app,
            &dir,
            media_type,
            &format!("cca/corim/{file}"),
            *verdict,
        )
        .await;
    }
    // Every legacy CoRIM expired on 2025-12-31: refused under Veraison's
    // pre-2026 media types, whatever its content.
    for entry in std::fs::read_dir(dir.join("cca/corim/legacy")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let media_type = if name.contains("Realm") || name.contains("realm") {
            CCA_REALM_CORIM_UNSIGNED_MT
        } else {
            CCA_PLATFORM_CORIM_UNSIGNED_MT
        };
        let file = format!("legacy/{name}");
        check_corim(
            &app,
            &dir,
            media_type,
            &format!("cca/corim/{file}"),
            Some("validity ended"),
        )
        .await;
        seen.insert(Box::leak(file.into_boxed_str()));
    }
    for sub in ["current", "transitional"] {
        for entry in std::fs::read_dir(dir.join("cca/corim").join(sub)).unwrap() {
            let name = format!("{sub}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(seen.contains(name.as_str()), "{name} not covered");
        }
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Parsec CCA (MANIFEST §9.3, §9.6 PCCA-01…06, §9.7c, §9.8c, §9.9, §9.10).

const PARSEC: &str = "PARSEC_CCA";
const PARSEC_VALID: &str = "parsec-cca/corim/current/corim-parsec-cca-valid.cbor";
/// The attested key of the vector evidence, as Veraison reports it.
const PARSEC_AKPUB: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEm__bpnUzLJu7XeKy2gn4GEdKmJrCACP4KMFiC6gPYdjIOcJyMN8BmEDTpFyWGG-NBxk-vEOoQeDd4sRj9kxKFQ";

/// The KAT nonce of a vector evidence file: the only session it is fresh
/// for.
fn kat_nonce(dir: &Path, file: &str) -> Vec<u8> {
    ParsecCcaEvidence::decode(&vectors::read(dir, file))
        .unwrap()
        .kat_nonce()
        .to_vec()
}

async fn parsec(app: &TestApp, dir: &Path, file: &str, nonce: &[u8]) -> Ear {
    attest_as(app, nonce, PARSEC_CCA_EVIDENCE_MT, vectors::read(dir, file)).await
}

async fn parsec_app(dir: &Path) -> TestApp {
    app_with(&spawn_app, dir, &[(PARSEC_CCA_CORIM_MT, PARSEC_VALID)]).await
}

fn all_99() -> serde_json::Value {
    vector([99, 99, 99, 99, 99, 99, 99, 99])
}

#[tokio::test]
async fn pcca_01_the_vector_evidence_attests_its_key_in_its_own_session() {
    let Some(dir) = vectors::dir() else { return };
    let app = parsec_app(&dir).await;
    let file = "parsec-cca/tokens/evidence.cbor";
    let nonce = kat_nonce(&dir, file);
    assert_eq!(nonce, hex::decode("0001020304050607").unwrap());
    let ear = parsec(&app, &dir, file, &nonce).await;
    let want = serde_json::json!({"PARSEC_CCA": {
        "ear.status": "affirming",
        "ear.appraisal-policy-id": "policy:PARSEC_CCA",
        "ear.trustworthiness-vector": {
            "configuration": 2, "executables": 2, "file-system": 0, "hardware": 2,
            "instance-identity": 2, "runtime-opaque": 2, "sourced-data": 0, "storage-opaque": 2
        }
    }});
    compare_to_expected(&ear, &want, "PCCA-01");
    assert_eq!(ear.submods.len(), 1);
    let submod = &ear.submods[PARSEC];
    assert_eq!(
        submod.key_attestation.as_ref().unwrap().akpub(),
        PARSEC_AKPUB
    );
    // The annotated evidence is the platform's claims.
    let evidence = submod.annotated_evidence.as_ref().unwrap();
    assert_eq!(
        evidence["cca-platform-implementation-id"],
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
    assert_eq!(evidence["cca-platform-config"], "AQID");

    // SECURE DEVIATION: in any other session the evidence is stale.
    let ear = parsec(&app, &dir, file, &nonce64()).await;
    assert_eq!(tv(&ear, PARSEC), all_99());
    assert_eq!(ear.submods[PARSEC].status, TrustTier::Contraindicated);
    assert_eq!(
        problem_of(&ear, PARSEC),
        format!(
            "integrity validation failed: bad evidence: freshness: KAT nonce (0001020304050607) \
             does not match session nonce ({NONCE64})"
        )
    );
    assert!(ear.submods[PARSEC].key_attestation.is_none());
    app.stop().await;
}

#[tokio::test]
async fn pcca_02_a_kat_not_bound_to_the_pat_fails_integrity() {
    let Some(dir) = vectors::dir() else { return };
    let app = parsec_app(&dir).await;
    let file = "parsec-cca/derived/parsec-cca-badbinding.cbor";
    let ear = parsec(&app, &dir, file, &kat_nonce(&dir, file)).await;
    assert_eq!(tv(&ear, PARSEC), all_99());
    assert_eq!(ear.submods[PARSEC].status, TrustTier::Contraindicated);
    let problem = problem_of(&ear, PARSEC);
    assert!(
        problem.starts_with(
            "integrity validation failed: bad evidence: failed to verify signature: \
             PAT-KAT binding check failed: want "
        ) && problem.contains(", got 72a25793"),
        "{problem}"
    );
    assert!(ear.submods[PARSEC].key_attestation.is_none());
    app.stop().await;
}

#[tokio::test]
async fn pcca_03_unknown_platform_software_is_a_warning_without_a_key() {
    let Some(dir) = vectors::dir() else { return };
    let app = parsec_app(&dir).await;
    let file = "parsec-cca/derived/parsec-cca-badswcomp.cbor";
    let ear = parsec(&app, &dir, file, &kat_nonce(&dir, file)).await;
    assert_eq!(tv(&ear, PARSEC), vector([2, 2, 33, 0, 2, 2, 2, 0]));
    assert_eq!(ear.submods[PARSEC].status, TrustTier::Warning);
    assert!(ear.submods[PARSEC].key_attestation.is_none());
    app.stop().await;
}

#[tokio::test]
async fn pcca_04_a_pat_signed_by_another_key_fails_integrity() {
    let Some(dir) = vectors::dir() else { return };
    let app = parsec_app(&dir).await;
    let file = "parsec-cca/derived/parsec-cca-wrongcpak.cbor";
    let ear = parsec(&app, &dir, file, &kat_nonce(&dir, file)).await;
    assert_eq!(tv(&ear, PARSEC), all_99());
    let problem = problem_of(&ear, PARSEC);
    assert!(
        problem.starts_with(
            "integrity validation failed: bad evidence: failed to verify signature: \
             PAT validation failed: unable to verify platform token"
        ),
        "{problem}"
    );
    app.stop().await;
}

#[tokio::test]
async fn pcca_05_the_legacy_p384_evidence_with_its_legacy_endorsements() {
    let Some(dir) = vectors::dir() else { return };
    let file = "parsec-cca/tokens/evidence.legacy-p384cpak.cbor";
    let nonce = kat_nonce(&dir, file);
    // Services HEAD's CoRIMs have no trust anchor for this platform.
    let app = parsec_app(&dir).await;
    let ear = parsec(&app, &dir, file, &nonce).await;
    assert_eq!(tv(&ear, PARSEC), all_99());
    assert_eq!(problem_of(&ear, PARSEC), "no trust anchor for evidence");
    app.stop().await;

    // The legacy records as CoRIMs: the TF-RMM CPAK for the token's own
    // platform (the legacy unit test hands the record over directly), and
    // the reference values.
    let evidence = ParsecCcaEvidence::decode(&vectors::read(&dir, file)).unwrap();
    let claims = evidence.token().platform_claims();
    let record = |f: &str| -> serde_json::Value {
        serde_json::from_slice(&vectors::read(
            &dir,
            &format!("parsec-cca/legacy-kvstore/{f}"),
        ))
        .unwrap()
    };
    let ta = record("ta_endorsements.json");
    let pem = ta["attributes"]["iak-pub"].as_str().unwrap();
    for (refvals, cfg, exe, status) in [
        ("refval_endorsements.json", 2, 2, TrustTier::Affirming),
        (
            "mismatch_cfg_refval_endorsements.json",
            32,
            2,
            TrustTier::Warning,
        ),
        (
            "mismatch_swcomp_refval_endorsements.json",
            2,
            33,
            TrustTier::Warning,
        ),
    ] {
        let (corim, _) = corims_from_records(
            &dir,
            &format!("parsec-cca/legacy-kvstore/{refvals}"),
            claims.implementation_id,
            Some((claims.instance_id, pem)),
            true,
        );
        let app = spawn_app().await;
        app.provision_ok(PARSEC_CCA_CORIM_MT, corim).await;
        let ear = parsec(&app, &dir, file, &nonce).await;
        // Lifecycle 0x3003: secured.
        assert_eq!(
            tv(&ear, PARSEC),
            vector([2, cfg, exe, 0, 2, 2, 2, 0]),
            "{refvals}"
        );
        assert_eq!(ear.submods[PARSEC].status, status, "{refvals}");
        assert_eq!(
            ear.submods[PARSEC].key_attestation.is_some(),
            status == TrustTier::Affirming
        );
        app.stop().await;
    }

    // The legacy CoRIM's reference values (re-encoded without their expired
    // validity) with the same trust anchor.
    let app = spawn_app().await;
    let mut corim = CcaPlatformCorim::new(CcaCorimEncoding::Current);
    corim
        .parsec()
        .trust_anchor(claims.implementation_id, claims.instance_id, pem);
    app.provision_ok(PARSEC_CCA_CORIM_MT, corim.build()).await;
    let legacy = without_validity(&vectors::read(
        &dir,
        "parsec-cca/corim/legacy/unsignedCorimParsecCcaComidParsecCcaMultRefVal.cbor",
    ))
    .unwrap();
    app.provision_ok(PARSEC_CCA_CORIM_LEGACY_MT, legacy).await;
    let ear = parsec(&app, &dir, file, &nonce).await;
    assert_eq!(tv(&ear, PARSEC), vector([2, 2, 2, 0, 2, 2, 2, 0]));
    assert_eq!(ear.submods[PARSEC].status, TrustTier::Affirming);
    app.stop().await;

    // The legacy trust-anchor records that must not verify it.
    let app = spawn_app().await;
    let unmatched = record("unmatched_endorsements.json");
    let mut corim = CcaPlatformCorim::new(CcaCorimEncoding::Current);
    corim.parsec().trust_anchor(
        claims.implementation_id,
        claims.instance_id,
        unmatched["attributes"]["iak-pub"].as_str().unwrap(),
    );
    app.provision_ok(PARSEC_CCA_CORIM_MT, corim.build()).await;
    let ear = parsec(&app, &dir, file, &nonce).await;
    assert!(
        problem_of(&ear, PARSEC).contains(
            "failed to verify signature: PAT validation failed: unable to verify platform token"
        ),
        "{}",
        problem_of(&ear, PARSEC)
    );
    for (bad, reason) in [
        ("bad_key_endorsements.json", "verification-key"),
        ("bad_key_header_endorsements.json", "verification-key"),
        (
            "bad_key_private_key.json",
            "unsupported key type: \"PRIVATE KEY\"",
        ),
    ] {
        let bad_record = record(bad);
        let mut corim = CcaPlatformCorim::new(CcaCorimEncoding::Current);
        corim.parsec().trust_anchor(
            claims.implementation_id,
            claims.instance_id,
            bad_record["attributes"]["iak-pub"].as_str().unwrap(),
        );
        let response = app.provision(PARSEC_CCA_CORIM_MT, corim.build()).await;
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "failed", "{bad}: {body}");
        let got = body["failure-reason"].as_str().unwrap();
        assert!(got.contains(reason), "{bad}: {got}");
    }
    app.stop().await;
}

#[tokio::test]
async fn pcca_06_malformed_evidence_establishes_no_identity() {
    let Some(dir) = vectors::dir() else { return };
    let app = parsec_app(&dir).await;
    let mut files: Vec<_> = std::fs::read_dir(dir.join("parsec-cca/negative"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    // Plus a CCA token, which is no Parsec CCA evidence.
    files.push(dir.join("cca/derived/cca-good.integration.cbor"));
    for file in files {
        let (session, _) = app.session("").await;
        let response = app
            .submit(
                &session,
                PARSEC_CCA_EVIDENCE_MT,
                std::fs::read(&file).unwrap(),
            )
            .await;
        let status = response.status();
        assert!(!status.is_server_error(), "{}: {status}", file.display());
        if status.is_success() {
            let ear = common::ear_of(&app, response).await;
            assert_eq!(tv(&ear, PARSEC), all_99(), "{}", file.display());
            assert_eq!(
                problem_of(&ear, PARSEC),
                "could not establish identity from evidence"
            );
        } else {
            assert!(status.is_client_error(), "{}: {status}", file.display());
        }
    }
    // Every Parsec CCA file in a server-chosen session: never affirming.
    for folder in ["parsec-cca/tokens", "parsec-cca/derived"] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let (session, _) = app.session("").await;
            let response = app
                .submit(
                    &session,
                    PARSEC_CCA_EVIDENCE_MT,
                    std::fs::read(&path).unwrap(),
                )
                .await;
            assert!(!response.status().is_server_error(), "{}", path.display());
            let ear = common::ear_of(&app, response).await;
            assert_ne!(ear.submods[PARSEC].status, TrustTier::Affirming);
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn parsec_cca_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    let app = spawn_app().await;
    check_corim(&app, &dir, PARSEC_CCA_CORIM_MT, PARSEC_VALID, None).await;
    let legacy = [
        "parsec-cca/corim/legacy/unsignedCorimParsecCcaComidParsecCcaRefValOne.cbor",
        "parsec-cca/corim/legacy/unsignedCorimParsecCcaComidParsecCcaMultRefVal.cbor",
    ];
    for file in legacy {
        // Expired on 2025-12-31 ...
        check_corim(
            &app,
            &dir,
            PARSEC_CCA_CORIM_LEGACY_MT,
            file,
            Some("validity ended"),
        )
        .await;
        // ... and otherwise accepted (MANIFEST §9.9).
        let response = app
            .provision(
                PARSEC_CCA_CORIM_LEGACY_MT,
                without_validity(&vectors::read(&dir, file)).unwrap(),
            )
            .await;
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "success", "{file}: {body}");
    }
    // Every file in the folder is covered.
    let mut count = 0;
    for sub in ["current", "legacy"] {
        count += std::fs::read_dir(dir.join("parsec-cca/corim").join(sub))
            .unwrap()
            .count();
    }
    assert_eq!(count, 1 + legacy.len());
    // A CCA platform CoRIM is not a Parsec CCA one.
    check_corim(
        &app,
        &dir,
        PARSEC_CCA_CORIM_MT,
        PLATFORM_VALID,
        Some("does not match the media type profile"),
    )
    .await;
    app.stop().await;
}
