//! The PSA conformance checks over the shared Veraison vectors
//! (`../shared/vectors`, or `VOUCH_VECTORS`), as functions of how to start
//! a fresh Vouch: `tests/conformance.rs` runs them in-process on SQLite,
//! `tests/topology.rs` with one process per role on PostgreSQL and memcached.
//!
//! Every PSA matching set of MANIFEST.md reaches the verdict it names,
//! compared the way Veraison's integration checker compares; every EAR
//! verifies with the published key; every negative token gets a
//! non-affirming EAR, never a 5xx; every PSA CoRIM is accepted or refused as
//! MANIFEST §6 says.

use std::path::Path;

use base64::Engine as _;
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::vectors;

use super::*;

const NONCE32: &str = "414a7c174141b3d0e9a1d28af31520f0d42299feac4007ded89d68ae6cd92f19";
const CORIM_PSA_VALID: &str = "psa/corim/current/corim-psa-valid.cbor";
const CORIM_LEGACY_2025: &str = "psa/corim/legacy/e2e-psa-endorsements.2025.cbor";
const CORIM_TRANSITIONAL_MT: &str = "application/rim+cbor; profile=\"http://arm.com/psa/iot/1\"";

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Veraison's `checkers.compare_to_expected_result`: for every expected
/// submod, the status, the policy id (if expected), every expected trust
/// vector claim, and the exact annotated evidence and policy claims (if
/// expected).
pub fn compare_to_expected(ear: &vouch_ear::Ear, expected: &serde_json::Value, what: &str) {
    let actual = serde_json::to_value(&ear.submods).unwrap();
    for (name, want) in expected.as_object().unwrap() {
        let got = &actual[name];
        assert!(got.is_object(), "{what}: no submod {name} in {actual}");
        assert_eq!(got["ear.status"], want["ear.status"], "{what}: status");
        if let Some(policy) = want.get("ear.appraisal-policy-id") {
            assert_eq!(&got["ear.appraisal-policy-id"], policy, "{what}: policy id");
        }
        for (claim, value) in want["ear.trustworthiness-vector"].as_object().unwrap() {
            assert_eq!(
                &got["ear.trustworthiness-vector"][claim], value,
                "{what}: trust vector claim {claim}"
            );
        }
        for exact in [
            "ear.veraison.annotated-evidence",
            "ear.veraison.policy-claims",
        ] {
            if let Some(value) = want.get(exact) {
                assert_eq!(&got[exact], value, "{what}: {exact}");
            }
        }
    }
}

fn expected(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&vectors::read(dir, &format!("psa/expected/{name}"))).unwrap()
}

/// Runs one session with `nonce` and returns the verified EAR.
async fn attest(app: &TestApp, nonce: &[u8], token: Vec<u8>) -> vouch_ear::Ear {
    attest_as(app, nonce, PSA_TOKEN_MT, token).await
}

/// Runs one session with `nonce`, submits `evidence` as `media_type`, and
/// returns the verified EAR.
pub async fn attest_as(
    app: &TestApp,
    nonce: &[u8],
    media_type: &str,
    evidence: Vec<u8>,
) -> vouch_ear::Ear {
    let (session, _) = app.session(&format!("?nonce={}", b64url(nonce))).await;
    let response = app.submit(&session, media_type, evidence).await;
    assert!(
        response.status().is_success(),
        "evidence submission failed with {}",
        response.status()
    );
    ear_of(app, response).await
}

/// Provisions `body` under `media_type` and checks the verdict: `None`
/// accepted, `Some(reason)` refused with a failure reason containing it.
/// `what` names the case in assertion messages.
pub async fn expect_provisioning(
    app: &TestApp,
    what: &str,
    media_type: &str,
    body: Vec<u8>,
    refusal: Option<&str>,
) {
    let response = app.provision(media_type, body).await;
    assert_eq!(response.status(), 200, "{what}");
    let body: serde_json::Value = response.json().await.unwrap();
    match refusal {
        None => assert_eq!(body["status"], "success", "{what}: {body}"),
        Some(reason) => {
            assert_eq!(body["status"], "failed", "{what}: {body}");
            let got = body["failure-reason"].as_str().unwrap();
            assert!(got.contains(reason), "{what}: want {reason:?}, got {got:?}");
        }
    }
}

/// [`expect_provisioning`] for a vector file.
pub async fn check_corim(
    app: &TestApp,
    dir: &Path,
    media_type: &str,
    file: &str,
    verdict: Option<&str>,
) {
    expect_provisioning(app, file, media_type, vectors::read(dir, file), verdict).await;
}

/// A fresh Vouch with `corims` (media type, vector file) provisioned.
pub async fn app_with(
    spawn: &impl AsyncFn() -> TestApp,
    dir: &Path,
    corims: &[(&str, &str)],
) -> TestApp {
    let app = spawn().await;
    for (media_type, file) in corims {
        app.provision_ok(media_type, vectors::read(dir, file)).await;
    }
    app
}

pub async fn psa_01_good_tokens_are_affirming_with_current_and_legacy_corims(
    dir: &Path,
    spawn: &impl AsyncFn() -> TestApp,
) {
    let nonce = hex::decode(NONCE32).unwrap();
    let want = expected(dir, "psa.good.json");
    for (media_type, corim) in [
        (CORIM_CURRENT_MT, CORIM_PSA_VALID),
        (CORIM_LEGACY_MT, CORIM_LEGACY_2025),
    ] {
        let app = app_with(spawn, dir, &[(media_type, corim)]).await;
        for token in [
            "psa/tokens/acme-p2-good.services-scheme.cbor",
            "psa/tokens/acme-p2-good.services-e2e.cbor",
            "psa/derived/acme-p2-good.integration.cbor",
        ] {
            let ear = attest(&app, &nonce, vectors::read(dir, token)).await;
            compare_to_expected(&ear, &want, &format!("{token} with {corim}"));
        }
        app.stop().await;
    }
}

pub async fn psa_02_nonce_mismatch_fails_freshness(dir: &Path, spawn: &impl AsyncFn() -> TestApp) {
    let app = app_with(spawn, dir, &[(CORIM_CURRENT_MT, CORIM_PSA_VALID)]).await;
    // Veraison's value has stray bits after the last byte; Go ignores them.
    let session_nonce =
        vouch_trust_api::Nonce::from_base64url("deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdea=")
            .unwrap()
            .as_bytes()
            .to_vec();
    let token = vectors::read(dir, "psa/tokens/acme-p2-good.services-scheme.cbor");
    let ear = attest(&app, &session_nonce, token).await;
    compare_to_expected(&ear, &expected(dir, "psa.freshness-fail.json"), "PSA-02");
    app.stop().await;
}

pub async fn psa_03_wrong_key_fails_signature_verification(
    dir: &Path,
    spawn: &impl AsyncFn() -> TestApp,
) {
    let nonce = hex::decode(NONCE32).unwrap();
    let want = expected(dir, "psa.badcrypto.json");
    let app = app_with(spawn, dir, &[(CORIM_CURRENT_MT, CORIM_PSA_VALID)]).await;
    let token = vectors::read(dir, "psa/derived/acme-p2-badcrypto.integration.cbor");
    compare_to_expected(&attest(&app, &nonce, token).await, &want, "PSA-03 derived");
    app.stop().await;

    // Real bytes: the good token against a trust anchor with another key.
    let app = app_with(
        spawn,
        dir,
        &[(
            CORIM_LEGACY_MT,
            "psa/corim/legacy/unsignedCorimMiniComidPsaIakPubOne.cbor",
        )],
    )
    .await;
    let token = vectors::read(dir, "psa/tokens/acme-p2-good.services-scheme.cbor");
    compare_to_expected(
        &attest(&app, &nonce, token).await,
        &want,
        "PSA-03 real bytes",
    );
    app.stop().await;
}

pub async fn psa_04_unknown_instances_have_no_trust_anchor(
    dir: &Path,
    spawn: &impl AsyncFn() -> TestApp,
) {
    let want = expected(dir, "psa.badinstance.json");
    let app = app_with(spawn, dir, &[(CORIM_CURRENT_MT, CORIM_PSA_VALID)]).await;
    let cases = [
        (
            "psa/derived/acme-p2-badinstance.integration.cbor",
            hex::decode(NONCE32).unwrap(),
        ),
        ("psa/tokens/tfm-p2-sign1.cbor", vec![0u8; 64]),
        (
            "psa/tokens/p1-unit-legacy.cbor",
            hex::decode("07060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918")
                .unwrap(),
        ),
    ];
    for (token, nonce) in cases {
        let ear = attest(&app, &nonce, vectors::read(dir, token)).await;
        compare_to_expected(&ear, &want, token);
    }
    app.stop().await;
}

pub async fn psa_05_unknown_software_is_a_warning(dir: &Path, spawn: &impl AsyncFn() -> TestApp) {
    let app = app_with(spawn, dir, &[(CORIM_CURRENT_MT, CORIM_PSA_VALID)]).await;
    let token = vectors::read(dir, "psa/derived/acme-p2-badswcomp.integration.cbor");
    let ear = attest(&app, &hex::decode(NONCE32).unwrap(), token).await;
    compare_to_expected(&ear, &expected(dir, "psa.badswcomp.json"), "PSA-05");
    app.stop().await;
}

pub async fn psa_06_missing_claims_and_multiple_nonces_establish_no_identity(
    dir: &Path,
    spawn: &impl AsyncFn() -> TestApp,
) {
    let app = app_with(spawn, dir, &[(CORIM_CURRENT_MT, CORIM_PSA_VALID)]).await;
    let want = expected(dir, "psa.noident.json");
    for token in [
        "psa/derived/acme-p2-missingclaims.integration.cbor",
        "psa/derived/acme-p2-multinonce.integration.cbor",
    ] {
        let ear = attest(
            &app,
            &hex::decode(NONCE32).unwrap(),
            vectors::read(dir, token),
        )
        .await;
        compare_to_expected(&ear, &want, token);
    }
    app.stop().await;
}

pub async fn psa_07_components_without_version(dir: &Path, spawn: &impl AsyncFn() -> TestApp) {
    let nonce = hex::decode(NONCE32).unwrap();
    let token = "psa/tokens/acme-p2-integ-noversion.cbor";

    // Current encoding: a missing version is bad evidence (contraindicated).
    let app = app_with(spawn, dir, &[(CORIM_CURRENT_MT, CORIM_PSA_VALID)]).await;
    let ear = attest(&app, &nonce, vectors::read(dir, token)).await;
    let want = serde_json::json!({"PSA_IOT": {
        "ear.status": "contraindicated",
        "ear.appraisal-policy-id": "policy:PSA_IOT",
        "ear.trustworthiness-vector": {"instance-identity": 99, "executables": 99, "hardware": 99},
        "ear.veraison.policy-claims": {"problem": "bad evidence: S/W comp. 0 version: missing optional field"}
    }});
    compare_to_expected(&ear, &want, "PSA-07 current");
    app.stop().await;

    // Legacy encoding: reference values pin versions the token lacks.
    let app = app_with(spawn, dir, &[(CORIM_LEGACY_MT, CORIM_LEGACY_2025)]).await;
    let ear = attest(&app, &nonce, vectors::read(dir, token)).await;
    let want = serde_json::json!({"PSA_IOT": {
        "ear.status": "warning",
        "ear.trustworthiness-vector": {
            "instance-identity": 2, "configuration": 0, "executables": 33, "file-system": 0,
            "hardware": 2, "runtime-opaque": 2, "storage-opaque": 2, "sourced-data": 0
        }
    }});
    compare_to_expected(&ear, &want, "PSA-07 legacy");
    app.stop().await;
}

/// The attributes of a legacy KV-store record.
fn legacy_record(dir: &Path, file: &str) -> serde_json::Value {
    let record: serde_json::Value =
        serde_json::from_slice(&vectors::read(dir, &format!("psa/legacy-kvstore/{file}"))).unwrap();
    record["attributes"].clone()
}

pub async fn psa_08_profile_1_token_against_its_legacy_trust_anchor(
    dir: &Path,
    spawn: &impl AsyncFn() -> TestApp,
) {
    let token = vectors::read(dir, "psa/tokens/p1-unit-legacy.cbor");
    let claims = vouch_psa_token::Token::decode(&token)
        .unwrap()
        .into_claims();
    let nonce = claims.nonce.clone();

    // The legacy records become a legacy-encoded CoRIM for the token's ids.
    let ta = legacy_record(dir, "ta-endorsements.json");
    let rv = legacy_record(dir, "endorsements.json");
    let std = base64::engine::general_purpose::STANDARD;
    let mut corim = PsaCorim::new(PsaCorimEncoding::Legacy);
    corim
        .trust_anchor(
            claims.implementation_id,
            claims.instance_id,
            ta["iak-pub"].as_str().unwrap(),
        )
        .reference_value(
            claims.implementation_id,
            PsaRefValue::new(
                rv["measurement-type"].as_str().unwrap(),
                std.decode(rv["signer-id"].as_str().unwrap()).unwrap(),
                std.decode(rv["measurement-value"].as_str().unwrap())
                    .unwrap(),
            )
            .version(rv["version"].as_str().unwrap()),
        );
    let app = spawn().await;
    app.provision_ok(CORIM_LEGACY_MT, corim.build()).await;
    let ear = attest(&app, &nonce, token).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.status, vouch_ear::TrustTier::Affirming, "{submod:?}");
    let evidence = submod.annotated_evidence.as_ref().unwrap();
    assert_eq!(evidence["psa-profile"], "PSA_IOT_PROFILE_1");
    assert_eq!(
        evidence["psa-software-components"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // The broken legacy trust anchors are refused at provisioning.
    for (file, reason) in [
        ("ta-bad-key.json", "verification-key"),
        ("ta-bad-key-header.json", "verification-key"),
        (
            "ta-bad-key-private-key.json",
            "unsupported key type: \"PRIVATE KEY\"",
        ),
    ] {
        let bad = legacy_record(dir, file);
        let mut corim = PsaCorim::new(PsaCorimEncoding::Legacy);
        corim.trust_anchor(
            claims.implementation_id,
            claims.instance_id,
            bad["iak-pub"].as_str().unwrap(),
        );
        let response = app.provision(CORIM_LEGACY_MT, corim.build()).await;
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "failed", "{file}");
        assert!(
            body["failure-reason"].as_str().unwrap().contains(reason),
            "{file}: {body}"
        );
    }
    app.stop().await;
}

pub async fn psa_09_genuine_tf_m_tokens(dir: &Path, spawn: &impl AsyncFn() -> TestApp) {
    let tokens = [
        "psa/tokens/tfm-p2-sign1.cbor",
        "psa/tokens/tfm-p1-sign1.cbor",
        "psa/tokens/tfm-p1-sign1.psatoken-gotest.cbor",
    ];
    let tfm_key = String::from_utf8(vectors::read(dir, "psa/keys/tfm-public.pem")).unwrap();
    let acme_key =
        String::from_utf8(vectors::read(dir, "psa/keys/derived/ec.p256.pub.pem")).unwrap();
    let decoded: Vec<_> = tokens
        .iter()
        .map(|t| {
            vouch_psa_token::Token::decode(&vectors::read(dir, t))
                .unwrap()
                .into_claims()
        })
        .collect();
    let first = &decoded[0];
    for (key, affirming) in [(&tfm_key, true), (&acme_key, false)] {
        let mut corim = PsaCorim::new(PsaCorimEncoding::Current);
        corim.trust_anchor(first.implementation_id, first.instance_id, key);
        for claims in &decoded {
            for c in &claims.sw_components {
                corim.reference_value(
                    claims.implementation_id,
                    PsaRefValue::new(
                        c.measurement_type.clone().unwrap(),
                        c.signer_id.clone(),
                        c.measurement_value.clone(),
                    ),
                );
            }
        }
        let app = spawn().await;
        app.provision_ok(CORIM_CURRENT_MT, corim.build()).await;
        for token in tokens {
            let ear = attest(&app, &[0u8; 64], vectors::read(dir, token)).await;
            let submod = &ear.submods["PSA_IOT"];
            if affirming {
                assert_eq!(
                    submod.status,
                    vouch_ear::TrustTier::Affirming,
                    "{token}: {submod:?}"
                );
            } else {
                assert_eq!(
                    submod.policy_claims.as_ref().unwrap()["problem"],
                    "integrity validation failed: bad evidence: signature verification failed: verification error",
                    "{token}"
                );
            }
        }
        app.stop().await;
    }
}

pub async fn psa_10_and_every_negative_token_is_refused_without_a_server_error(
    dir: &Path,
    spawn: &impl AsyncFn() -> TestApp,
) {
    let app = app_with(spawn, dir, &[(CORIM_CURRENT_MT, CORIM_PSA_VALID)]).await;
    let mut files: Vec<_> = std::fs::read_dir(dir.join("psa/negative"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let (session, _) = app.session("").await;
        let response = app
            .submit(&session, PSA_TOKEN_MT, std::fs::read(&file).unwrap())
            .await;
        let status = response.status();
        assert!(!status.is_server_error(), "{}: {status}", file.display());
        if status.is_success() {
            let ear = ear_of(&app, response).await;
            let submod = &ear.submods["PSA_IOT"];
            assert_ne!(
                submod.status,
                vouch_ear::TrustTier::Affirming,
                "{}",
                file.display()
            );
        } else {
            assert!(status.is_client_error(), "{}: {status}", file.display());
        }
    }
    app.stop().await;
}

pub async fn psa_corims_are_accepted_or_refused_as_the_manifest_says(
    dir: &Path,
    spawn: &impl AsyncFn() -> TestApp,
) {
    let app = spawn().await;
    // (media type, file, None = accept / Some(reason fragment) = refuse)
    let cases: &[(&str, &str, Option<&str>)] = &[
        (CORIM_CURRENT_MT, "current/corim-psa-valid.cbor", None),
        (CORIM_CURRENT_MT, "current/corimlib-psa-valid.cbor", None),
        (
            CORIM_CURRENT_MT,
            "current/corim-psa-bad-class.cbor",
            Some("implementation-id must be of type 'bytes', got 'uuid'"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corim-psa-bad-instance.cbor",
            Some("instance-id must be of type 'ueid', got 'uuid'"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corim-psa-bad-refval-instance.cbor",
            Some("instance set for reference value"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corim-psa-bad-refval-mkey.cbor",
            Some("mkey must be of type 'string', got 'uint'"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corim-psa-bad-refval-mval.cbor",
            Some("no digests"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corim-psa-bad-ta-cert.cbor",
            Some("verification-key must be of type 'pkix-base64-key', got 'pkix-base64-cert'"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corim-psa-bad-ta-no-instance.cbor",
            Some("environment.instance (instance-id) is required"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corimlib-psa-invalid-impl-id.cbor",
            Some("implementation-id must be exactly 32 bytes"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corimlib-psa-invalid-attest-key.cbor",
            Some("verification-keys must contain exactly one entry"),
        ),
        (
            CORIM_CURRENT_MT,
            "current/corimlib-no-profile.cbor",
            Some("declares no profile"),
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-valid.cbor",
            None,
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-bad-class.cbor",
            Some("class ID: expected psa.impl-id, got uuid"),
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-bad-instance.cbor",
            Some("instance: expected UEID, got uuid"),
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-bad-refval-instance.cbor",
            Some("instance set for reference value"),
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-bad-refval-mkey.cbor",
            Some("measurement 1 key: expected psa.refval-id, got uint"),
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-bad-refval-mval.cbor",
            Some("measurement 0 value: no digests"),
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-bad-ta-cert.cbor",
            Some("trust anchor must be a PKIX base64 key, found: pkix-base64-cert"),
        ),
        (
            CORIM_TRANSITIONAL_MT,
            "transitional/corim-psa-bad-ta-no-instance.cbor",
            Some("instance not set for trust anchor"),
        ),
        (CORIM_LEGACY_MT, "legacy/e2e-psa-endorsements.cbor", None),
        (
            CORIM_LEGACY_MT,
            "legacy/e2e-psa-endorsements.2025.cbor",
            None,
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/perf-corim-psa-full.untagged.cbor",
            Some("could not decode CoRIM"),
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaIakPubOne.cbor",
            None,
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaIakPubTwo.cbor",
            None,
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaIakPubNoImplID.cbor",
            Some("class ID: expected psa.impl-id, got uuid"),
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaIakPubNoUeID.cbor",
            Some("instance not set for trust anchor"),
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaMultIak.cbor",
            Some("expecting exactly one IAK public key"),
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaRefValOne.cbor",
            None,
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaRefValThree.cbor",
            None,
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaRefValMultDigest.cbor",
            Some("expecting exactly one digest"),
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaRefValNoImplID.cbor",
            Some("class ID: expected psa.impl-id, got uuid"),
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaRefValNoMkey.cbor",
            Some("measurement key is not present"),
        ),
        (
            CORIM_LEGACY_MT,
            "legacy/unsignedCorimMiniComidPsaRefValOnlyMandIDAttr.cbor",
            None,
        ),
    ];
    for (media_type, file, refusal) in cases {
        let response = app
            .provision(media_type, vectors::read(dir, &format!("psa/corim/{file}")))
            .await;
        assert_eq!(response.status(), 200, "{file}");
        let body: serde_json::Value = response.json().await.unwrap();
        match refusal {
            None => assert_eq!(body["status"], "success", "{file}: {body}"),
            Some(reason) => {
                assert_eq!(body["status"], "failed", "{file}: {body}");
                let got = body["failure-reason"].as_str().unwrap();
                assert!(got.contains(reason), "{file}: {got}");
            }
        }
    }
    // The historic pre-standard drafts are refused, not crashed on.
    for file in std::fs::read_dir(dir.join("psa/corim/historic-draft")).unwrap() {
        let path = file.unwrap().path();
        let response = app
            .provision(CORIM_LEGACY_MT, std::fs::read(&path).unwrap())
            .await;
        assert_eq!(response.status(), 200, "{}", path.display());
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "failed", "{}", path.display());
    }
    app.stop().await;
}
