//! EnactTrust TPM and Parsec TPM conformance over the shared Veraison
//! vectors (`../shared/vectors`, or `VOUCH_VECTORS`; MANIFEST §9.1, §9.2,
//! §9.6 ENACT-01…08 and PTPM-01…05, §9.7a/b, §9.8a/b, §9.9, §9.10), with the
//! whole of Vouch in-process on SQLite, through the REST APIs.
//!
//! Where Vouch deliberately differs from Veraison, the test says so and
//! checks Vouch's verdict:
//! * freshness: the quote's (EnactTrust) or both tokens' (Parsec) extraData
//!   must be the session nonce, so Veraison's `basic.token` (no nonce) is
//!   never fresh, the positive EnactTrust set uses
//!   `derived/enacttrust-good-nonce32.token` with NONCE32, and Parsec's
//!   `evidence.cbor` is affirming only in a session whose nonce is its
//!   `deadbeefdeadbeef`;
//! * a wrong TPMS_ATTEST type is undecodable evidence (all 99) rather than
//!   Veraison's status NONE;
//! * a Parsec PCR mismatch is reported (executables 33, WARNING, a
//!   problem claim) rather than dropped (Veraison: NONE, all 0).

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use base64::Engine as _;
use common::conformance::{app_with, attest_as, check_corim, compare_to_expected};
use common::spawn_app;
use vouch_ear::{Ear, TrustTier};
use vouch_testkit::enacttrust::{
    ENACTTRUST_CORIM_LEGACY_HTTPS_MT, ENACTTRUST_CORIM_LEGACY_MT, ENACTTRUST_CORIM_MT,
    ENACTTRUST_EVIDENCE_MT, EnactTrustCorim, EnactTrustDevice,
};
use vouch_testkit::parsec_tpm::{
    PARSEC_TPM_CORIM_LEGACY_MT, PARSEC_TPM_CORIM_MT, PARSEC_TPM_EVIDENCE_MT, ParsecTpmCorim,
};
use vouch_testkit::vectors;

/// The 32-byte integration nonce (`nonce32`).
const NONCE32: &str = "414a7c174141b3d0e9a1d28af31520f0d42299feac4007ded89d68ae6cd92f19";
/// Veraison's integration "bad" nonce32, decoded (MANIFEST ENACT-07).
const BAD_NONCE32: &str = "75e69d6de79f75e69d6de79f75e69d6de79f75e69d6de79f75e69d6de79f75e6";
/// The node of the EnactTrust vectors.
const VECTOR_NODE: [u8; 16] = [
    0x7d, 0xf7, 0x71, 0x4e, 0xaa, 0x04, 0x46, 0x38, 0xbc, 0xbf, 0x43, 0x4b, 0x1d, 0xd7, 0x20, 0xf1,
];
/// The node-id `enacttrust-unknown-node.token` claims.
const UNKNOWN_NODE: [u8; 16] = [
    0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x43, 0x33, 0x84, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
];
/// `pcrDigest` of the good EnactTrust quotes (the golden digest).
const GOOD_PCR_DIGEST: &str = "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";
/// `pcrDigest` of `enacttrust-badpcr.token`.
const BAD_PCR_DIGEST: &str = "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f";
const ENACT_VALID: &str = "enacttrust/corim/current/corim-enacttrust-valid.cbor";
const ENACT_MINI_LEGACY: &str = "enacttrust/derived/corim-enacttrust-mini.legacy-http.cbor";

/// The nonce (extraData) of Parsec's `evidence.cbor`.
const DEADBEEF: [u8; 8] = [0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef];
/// The kid of `evidence.cbor`.
const PARSEC_KID: &str = "0188855459eeb9e9b34a46eb48cb39f2f6aa69da04522a326d123d5c501fce210c";
/// The platform class of the Parsec TPM vectors.
const PARSEC_CLASS: [u8; 16] = [
    0xcd, 0x1f, 0x0e, 0x55, 0x26, 0xf9, 0x46, 0x0d, 0xb9, 0xd8, 0xf7, 0xfd, 0xe1, 0x71, 0x78, 0x7c,
];
/// `ear.veraison.key-attestation.akpub` of `evidence.cbor` (MANIFEST §9.2).
const PARSEC_AKPUB: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqQfDwCEColSchKK4shMOn2lmcZORpMcqNXeVofleg4pFgkit3_P0rN22S9KSj2m4Ef8Nhi4z54igcEtqqClQIA";
const PARSEC_VALID: &str = "parsec-tpm/corim/current/corim-parsec-tpm-valid.cbor";
const PARSEC_EVIDENCE: &str = "parsec-tpm/tokens/evidence.cbor";

fn nonce32() -> Vec<u8> {
    hex::decode(NONCE32).unwrap()
}

fn enact_expected(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&vectors::read(dir, &format!("enacttrust/expected/{name}"))).unwrap()
}

/// Every claim `claim`, as the trust service reports failures.
fn all(claim: i64) -> serde_json::Value {
    serde_json::json!({
        "instance-identity": claim, "configuration": claim, "executables": claim,
        "file-system": claim, "hardware": claim, "runtime-opaque": claim,
        "storage-opaque": claim, "sourced-data": claim
    })
}

/// The expected EAR subset of a failed verification: all 99 and `problem`.
fn failure(submod: &str, problem: &str) -> serde_json::Value {
    serde_json::json!({ submod: {
        "ear.status": "contraindicated",
        "ear.appraisal-policy-id": format!("policy:{submod}"),
        "ear.trustworthiness-vector": all(99),
        "ear.veraison.policy-claims": {"problem": problem}
    }})
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

/// Submits a vector token as EnactTrust evidence in a session with `nonce`.
async fn enact(app: &common::TestApp, dir: &Path, token: &str, nonce: &[u8]) -> Ear {
    let bytes = vectors::read(dir, &format!("enacttrust/{token}"));
    attest_as(app, nonce, ENACTTRUST_EVIDENCE_MT, bytes).await
}

/// The vector node, minted from Veraison's private `basic.pem`, so its
/// quotes can carry any nonce.
fn vector_node(dir: &Path, golden: Vec<u8>) -> EnactTrustDevice {
    let pem = String::from_utf8(vectors::read(dir, "enacttrust/keys/basic.pem")).unwrap();
    EnactTrustDevice::with_key(
        VECTOR_NODE,
        vouch_crypto::SigningKey::from_pem(&pem).unwrap(),
        golden,
    )
}

fn vector_ak_pem(dir: &Path) -> String {
    String::from_utf8(vectors::read(dir, "enacttrust/keys/basic.pem.pub")).unwrap()
}

#[tokio::test]
async fn enact_01_the_nonce32_quote_is_affirming_with_current_and_legacy_corims() {
    let Some(dir) = vectors::dir() else { return };
    let want = enact_expected(&dir, "enacttrust.good.json");
    for (media_type, corim) in [
        (ENACTTRUST_CORIM_MT, ENACT_VALID),
        (ENACTTRUST_CORIM_LEGACY_MT, ENACT_MINI_LEGACY),
    ] {
        let app = app_with(&spawn_app, &dir, &[(media_type, corim)]).await;
        let ear = enact(
            &app,
            &dir,
            "derived/enacttrust-good-nonce32.token",
            &nonce32(),
        )
        .await;
        compare_to_expected(&ear, &want, &format!("ENACT-01 with {corim}"));
        assert_eq!(ear.submods.len(), 1);
        assert_eq!(ear.nonce, Some(eat_nonce(&nonce32())));

        // Vouch deviation: basic.token has the same quote but no nonce, so
        // it is never fresh (Veraison main: AFFIRMING with any nonce).
        let ear = enact(&app, &dir, "tokens/basic.token", &nonce32()).await;
        compare_to_expected(
            &ear,
            &failure(
                "TPM_ENACTTRUST",
                &format!(
                    "integrity validation failed: bad evidence: freshness: quote nonce () does \
                     not match session nonce ({NONCE32})"
                ),
            ),
            &format!("ENACT-01 basic.token with {corim}"),
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn enact_02_undecodable_tokens_establish_no_identity() {
    let Some(dir) = vectors::dir() else { return };
    let want = enact_expected(&dir, "enacttrust.badnode.json");
    let app = app_with(&spawn_app, &dir, &[(ENACTTRUST_CORIM_MT, ENACT_VALID)]).await;
    for token in [
        "derived/enacttrust-badnode.integration.token",
        "derived/enacttrust-truncated-17B.token",
        "tokens/basic.pre-2023-02-format.token",
    ] {
        let ear = enact(&app, &dir, token, &nonce32()).await;
        compare_to_expected(&ear, &want, token);
    }
    app.stop().await;
}

#[tokio::test]
async fn enact_03_a_quote_signed_by_another_key_fails_integrity() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(ENACTTRUST_CORIM_MT, ENACT_VALID)]).await;
    let want = failure(
        "TPM_ENACTTRUST",
        "integrity validation failed: bad evidence: could not verify evidence signature: failed \
         to verify signature",
    );
    let ear = enact(&app, &dir, "derived/enacttrust-badcrypto.token", &nonce32()).await;
    compare_to_expected(&ear, &want, "ENACT-03");
    // The signature is checked before the nonce: the same verdict when the
    // forged quote carries the session nonce.
    let alt = String::from_utf8(vectors::read(
        &dir,
        "psa/keys/derived/ec.p256.priv.pkcs8.pem",
    ))
    .unwrap();
    let alt_key = vouch_crypto::SigningKey::from_pem(&alt).unwrap();
    let node = vector_node(&dir, hex::decode(GOOD_PCR_DIGEST).unwrap());
    let forged = node.evidence_signed_by(&nonce32(), &alt_key).unwrap();
    let ear = attest_as(&app, &nonce32(), ENACTTRUST_EVIDENCE_MT, forged).await;
    compare_to_expected(&ear, &want, "ENACT-03 with the nonce");
    app.stop().await;
}

#[tokio::test]
async fn enact_04_a_pcr_digest_without_reference_value_is_contraindicated() {
    let Some(dir) = vectors::dir() else { return };
    let bad_pcr = hex::decode(BAD_PCR_DIGEST).unwrap();
    let good = enact_expected(&dir, "enacttrust.good.json");
    let mut annotated = good["TPM_ENACTTRUST"]["ear.veraison.annotated-evidence"].clone();
    annotated["pcr-digest"] = "AmOCmYm2/ZVPcrqvL8ZLwuLwHWktTecphuqAj26ZgT8=".into();
    let mut tv = all(0);
    tv["executables"] = 33.into();
    let want = serde_json::json!({"TPM_ENACTTRUST": {
        "ear.status": "contraindicated",
        "ear.appraisal-policy-id": "policy:TPM_ENACTTRUST",
        "ear.trustworthiness-vector": tv,
        "ear.veraison.annotated-evidence": annotated,
    }});

    let app = app_with(&spawn_app, &dir, &[(ENACTTRUST_CORIM_MT, ENACT_VALID)]).await;
    // The vector token has no nonce: Vouch stops at freshness.
    let ear = enact(&app, &dir, "derived/enacttrust-badpcr.token", &nonce32()).await;
    assert_eq!(
        ear.submods["TPM_ENACTTRUST"].status,
        TrustTier::Contraindicated
    );
    assert!(problem_of(&ear, "TPM_ENACTTRUST").contains("freshness: quote nonce ()"));
    // The same quote with the session nonce, signed by the vector AK,
    // reaches the appraisal Veraison makes.
    let node = vector_node(&dir, bad_pcr.clone());
    let quote = node.evidence(&nonce32()).unwrap();
    let ear = attest_as(&app, &nonce32(), ENACTTRUST_EVIDENCE_MT, quote).await;
    compare_to_expected(&ear, &want, "ENACT-04");
    app.stop().await;

    // A node with a trust anchor but no reference value: the same verdict
    // for the good quote.
    let app = spawn_app().await;
    app.provision_ok(
        ENACTTRUST_CORIM_MT,
        EnactTrustCorim::new()
            .trust_anchor(VECTOR_NODE, &vector_ak_pem(&dir))
            .build(),
    )
    .await;
    let ear = enact(
        &app,
        &dir,
        "derived/enacttrust-good-nonce32.token",
        &nonce32(),
    )
    .await;
    let mut want_no_rv = want.clone();
    want_no_rv["TPM_ENACTTRUST"]["ear.veraison.annotated-evidence"] =
        good["TPM_ENACTTRUST"]["ear.veraison.annotated-evidence"].clone();
    compare_to_expected(&ear, &want_no_rv, "ENACT-04 without a reference value");
    app.stop().await;
}

#[tokio::test]
async fn enact_05_an_unknown_node_has_no_trust_anchor() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(ENACTTRUST_CORIM_MT, ENACT_VALID)]).await;
    let ear = enact(
        &app,
        &dir,
        "derived/enacttrust-unknown-node.token",
        &nonce32(),
    )
    .await;
    compare_to_expected(
        &ear,
        &failure("TPM_ENACTTRUST", "no trust anchor for evidence"),
        "ENACT-05",
    );
    // The splice the manifest warns about needs the vector AK provisioned
    // for node 1111…: Vouch refuses a CoRIM that gives one AK to two nodes.
    let shared = EnactTrustCorim::new()
        .trust_anchor(VECTOR_NODE, &vector_ak_pem(&dir))
        .trust_anchor(UNKNOWN_NODE, &vector_ak_pem(&dir))
        .build();
    let response = app.provision(ENACTTRUST_CORIM_MT, shared).await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "failed", "{body}");
    assert!(
        body["failure-reason"]
            .as_str()
            .unwrap()
            .contains("the same attestation key is provisioned for nodes"),
        "{body}"
    );
    let ear = enact(
        &app,
        &dir,
        "derived/enacttrust-unknown-node.token",
        &nonce32(),
    )
    .await;
    assert_eq!(
        problem_of(&ear, "TPM_ENACTTRUST"),
        "no trust anchor for evidence"
    );
    app.stop().await;
}

#[tokio::test]
async fn enact_06_a_certify_instead_of_a_quote_is_not_affirming() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(ENACTTRUST_CORIM_MT, ENACT_VALID)]).await;
    let ear = enact(
        &app,
        &dir,
        "derived/enacttrust-wrong-type-certify.token",
        &nonce32(),
    )
    .await;
    // Veraison: status NONE with the ExtractClaims problem; Vouch refuses
    // to decode a non-quote, which establishes no identity.
    compare_to_expected(
        &ear,
        &failure(
            "TPM_ENACTTRUST",
            "could not establish identity from evidence",
        ),
        "ENACT-06",
    );
    app.stop().await;
}

#[tokio::test]
async fn enact_07_quotes_are_fresh_only_for_their_own_nonce() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(ENACTTRUST_CORIM_MT, ENACT_VALID)]).await;
    let bad = hex::decode(BAD_NONCE32).unwrap();
    // PR #432's expected result, exactly.
    let ear = enact(&app, &dir, "derived/enacttrust-good-nonce32.token", &bad).await;
    compare_to_expected(
        &ear,
        &enact_expected(&dir, "enacttrust.freshness-fail.pr432.json"),
        "ENACT-07 nonce32 token, bad nonce",
    );
    let ear = enact(
        &app,
        &dir,
        "derived/enacttrust-good-nonce32.token",
        &nonce32(),
    )
    .await;
    assert_eq!(ear.submods["TPM_ENACTTRUST"].status, TrustTier::Affirming);
    for nonce in [nonce32(), bad.clone(), vec![0; 8]] {
        let ear = enact(&app, &dir, "tokens/basic.token", &nonce).await;
        compare_to_expected(
            &ear,
            &failure(
                "TPM_ENACTTRUST",
                &format!(
                    "integrity validation failed: bad evidence: freshness: quote nonce () does \
                     not match session nonce ({})",
                    hex::encode(&nonce)
                ),
            ),
            "ENACT-07 basic.token",
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn every_enacttrust_token_gets_a_result_never_a_server_error() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(ENACTTRUST_CORIM_MT, ENACT_VALID)]).await;
    for folder in ["enacttrust/tokens", "enacttrust/derived"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let (session, _) = app.session(&format!("?nonce={}", b64url(&nonce32()))).await;
            let response = app
                .submit(
                    &session,
                    ENACTTRUST_EVIDENCE_MT,
                    std::fs::read(&file).unwrap(),
                )
                .await;
            let status = response.status();
            assert!(status.is_success(), "{}: {status}", file.display());
            let ear = common::ear_of(&app, response).await;
            let affirming = ear.submods["TPM_ENACTTRUST"].status == TrustTier::Affirming;
            let name = file.file_name().unwrap().to_str().unwrap();
            assert_eq!(affirming, name == "enacttrust-good-nonce32.token", "{name}");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn enact_08_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    let app = spawn_app().await;
    let current = |f: &str| format!("enacttrust/corim/current/{f}");
    let legacy = |f: &str| format!("enacttrust/corim/legacy/{f}");
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-valid.cbor"),
            None,
        ),
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-bad-class.cbor"),
            Some("class set in environment"),
        ),
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-bad-instance.cbor"),
            Some("instance: expected uuid, found ueid"),
        ),
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-bad-multiple-digests.cbor"),
            Some("expected exactly one digest in measurement, found 2"),
        ),
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-bad-multiple-keys.cbor"),
            Some("expected trust anchor to contain exactly one key; found 2"),
        ),
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-bad-multiple-measurements.cbor"),
            Some("expected exactly one measurement, found 2"),
        ),
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-bad-no-digest.cbor"),
            Some("no digests in measurement"),
        ),
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-bad-no-instance.cbor"),
            Some("instance not set in environment"),
        ),
        // Veraison: "did not see unsigned CoRIM tag". Vouch's CoRIM decoder
        // stops earlier, at the attest key that is not a key ({0: "@@@@"}).
        (
            ENACTTRUST_CORIM_MT,
            current("corim-enacttrust-badta.cbor"),
            Some("could not decode CoRIM"),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_MT,
            legacy("corim-enacttrust-badta.2024.cbor"),
            Some("could not decode CoRIM"),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_MT,
            legacy("corim-enacttrust-badta.2023.cbor"),
            Some("could not decode CoRIM"),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustAKOne.cbor"),
            None,
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustGoldenOne.cbor"),
            None,
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustAKMult.cbor"),
            Some("bad key in CoMID at index 0: expecting exactly one AK public key"),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustAKBadInst.cbor"),
            Some(
                "bad key in CoMID at index 0: could not extract node id: could not extract node-id (UUID) from instance-id",
            ),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustBadInst.cbor"),
            Some(
                "bad software component in CoMID at index 0: could not extract instance attributes: could not extract node-id (UUID) from instance-id",
            ),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustGoldenTwo.cbor"),
            Some("bad software component in CoMID at index 0: expecting one measurement only"),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustMultDigest.cbor"),
            Some(
                "bad software component in CoMID at index 0: extracting measurement: expecting exactly one digest",
            ),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustNoDigest.cbor"),
            Some(
                "bad software component in CoMID at index 0: extracting measurement: measurement value has no digests",
            ),
        ),
        (
            ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
            legacy("unsignedCorimMiniComidTpmEnactTrustNoInst.cbor"),
            Some(
                "bad software component in CoMID at index 0: could not extract instance attributes: expecting instance in environment",
            ),
        ),
        // The derived legacy CoRIM: accepted under its legacy media type,
        // refused (profile mismatch) under the current one, as Veraison HEAD.
        (
            ENACTTRUST_CORIM_LEGACY_MT,
            ENACT_MINI_LEGACY.to_owned(),
            None,
        ),
        (
            ENACTTRUST_CORIM_MT,
            ENACT_MINI_LEGACY.to_owned(),
            Some("does not match the media type profile"),
        ),
        // The current CoRIM is not a legacy one either.
        (
            ENACTTRUST_CORIM_LEGACY_MT,
            current("corim-enacttrust-valid.cbor"),
            Some("does not match the media type profile"),
        ),
    ];
    for (media_type, file, verdict) in &cases {
        check_corim(&app, &dir, media_type, file, *verdict).await;
    }
    // The historic pre-standard drafts are refused, not crashed on.
    for file in std::fs::read_dir(dir.join("enacttrust/corim/historic-draft")).unwrap() {
        let path = file.unwrap().path();
        let response = app
            .provision(
                ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
                std::fs::read(&path).unwrap(),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", path.display());
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "failed", "{}", path.display());
    }
    app.stop().await;
}

/// The EAR's `eat_nonce` for a session nonce (padded base64url).
fn eat_nonce(nonce: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(nonce)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Submits Parsec TPM vector evidence in a session with `nonce`.
async fn parsec(app: &common::TestApp, dir: &Path, file: &str, nonce: &[u8]) -> Ear {
    attest_as(app, nonce, PARSEC_TPM_EVIDENCE_MT, vectors::read(dir, file)).await
}

/// Veraison's real Parsec TPM EAR (another device, same shape).
fn veraison_parsec_ear(dir: &Path) -> serde_json::Value {
    let jwt = String::from_utf8(vectors::read(dir, "ear/jwt/ear-veraison-parsec-tpm.jwt")).unwrap();
    let payload = jwt.trim().split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// The parsec-tpm AK (`parsec-tpm-ak`), from the legacy trust-anchor record.
fn parsec_ak_pem(dir: &Path) -> String {
    let record: serde_json::Value = serde_json::from_slice(&vectors::read(
        dir,
        "parsec-tpm/legacy-kvstore/ta_endorsements.json",
    ))
    .unwrap();
    record["attributes"]["parsec-tpm.ak-pub"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn ptpm_01_the_vector_evidence_is_affirming_in_its_own_session() {
    let Some(dir) = vectors::dir() else { return };
    let veraison = veraison_parsec_ear(&dir);
    let veraison_submod = &veraison["submods"]["PARSEC_TPM"];
    // What Veraison reports for Parsec TPM evidence (its real EAR), minus
    // the annotated evidence of its own device.
    let want = serde_json::json!({"PARSEC_TPM": {
        "ear.status": veraison_submod["ear.status"],
        "ear.appraisal-policy-id": veraison_submod["ear.appraisal-policy-id"],
        "ear.trustworthiness-vector": veraison_submod["ear.trustworthiness-vector"],
    }});
    assert_eq!(want["PARSEC_TPM"]["ear.status"], "affirming");

    for (media_type, corims) in [
        (PARSEC_TPM_CORIM_MT, vec![PARSEC_VALID]),
        (
            PARSEC_TPM_CORIM_LEGACY_MT,
            vec!["parsec-tpm/corim/legacy/unsignedCorimMiniComidParsecTpmKeyGood.cbor"],
        ),
    ] {
        let provision: Vec<(&str, &str)> = corims.iter().map(|c| (media_type, *c)).collect();
        let app = app_with(&spawn_app, &dir, &provision).await;
        if media_type == PARSEC_TPM_CORIM_LEGACY_MT {
            // The legacy key CoRIM endorses another kid with another key;
            // add the vector device (legacy encoding) and its PCR state.
            app.provision_ok(
                PARSEC_TPM_CORIM_LEGACY_MT,
                ParsecTpmCorim::new()
                    .legacy()
                    .trust_anchor(
                        PARSEC_CLASS,
                        &hex::decode(PARSEC_KID).unwrap(),
                        &parsec_ak_pem(&dir),
                    )
                    .reference_values(
                        PARSEC_CLASS,
                        (0..3)
                            .map(|pcr| {
                                vouch_testkit::parsec_tpm::pcr_measurement(pcr, &[(1, vec![0; 32])])
                            })
                            .collect(),
                    )
                    .build(),
            )
            .await;
        }
        let ear = parsec(&app, &dir, PARSEC_EVIDENCE, &DEADBEEF).await;
        compare_to_expected(&ear, &want, &format!("PTPM-01 via {media_type}"));
        let submod = &ear.submods["PARSEC_TPM"];
        assert_eq!(
            submod.key_attestation.as_ref().unwrap().akpub(),
            PARSEC_AKPUB
        );
        let annotated = serde_json::Value::Object(submod.annotated_evidence.clone().unwrap());
        // Veraison's shape: the tokens as JSON, byte fields base64.
        for token in ["kat", "pat"] {
            let mut ours: Vec<_> = annotated[token].as_object().unwrap().keys().collect();
            let theirs_value = &veraison_submod["ear.veraison.annotated-evidence"][token];
            let mut theirs: Vec<_> = theirs_value.as_object().unwrap().keys().collect();
            ours.sort();
            theirs.sort();
            assert_eq!(ours, theirs, "{token}");
        }
        assert_eq!(
            annotated["kat"]["kid"],
            base64::engine::general_purpose::STANDARD.encode(hex::decode(PARSEC_KID).unwrap())
        );
        assert_eq!(ear.nonce, Some(eat_nonce(&DEADBEEF)));
        app.stop().await;
    }
}

#[tokio::test]
async fn ptpm_02_a_pcr_mismatch_is_not_affirming() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(
        &spawn_app,
        &dir,
        &[(
            PARSEC_TPM_CORIM_MT,
            "parsec-tpm/derived/corim-parsec-tpm-badpcr.cbor",
        )],
    )
    .await;
    let ear = parsec(&app, &dir, PARSEC_EVIDENCE, &DEADBEEF).await;
    let submod = &ear.submods["PARSEC_TPM"];
    assert_ne!(submod.status, TrustTier::Affirming);
    let mut tv = all(0);
    tv["hardware"] = 2.into();
    tv["instance-identity"] = 2.into();
    tv["executables"] = 33.into();
    let want = serde_json::json!({"PARSEC_TPM": {
        "ear.status": "warning",
        "ear.appraisal-policy-id": "policy:PARSEC_TPM",
        "ear.trustworthiness-vector": tv,
    }});
    compare_to_expected(&ear, &want, "PTPM-02 badpcr");
    assert!(submod.key_attestation.is_none());
    assert!(problem_of(&ear, "PARSEC_TPM").starts_with("failed to match PCRs"));
    app.stop().await;

    // The TA alone, plus the legacy PCR values, which lack PCR 2.
    let app = spawn_app().await;
    app.provision_ok(
        PARSEC_TPM_CORIM_MT,
        ParsecTpmCorim::new()
            .trust_anchor(
                PARSEC_CLASS,
                &hex::decode(PARSEC_KID).unwrap(),
                &parsec_ak_pem(&dir),
            )
            .build(),
    )
    .await;
    app.provision_ok(
        PARSEC_TPM_CORIM_LEGACY_MT,
        vectors::read(
            &dir,
            "parsec-tpm/corim/legacy/unsignedCorimMiniComidParsecTpmPcrsGood.cbor",
        ),
    )
    .await;
    let ear = parsec(&app, &dir, PARSEC_EVIDENCE, &DEADBEEF).await;
    compare_to_expected(&ear, &want, "PTPM-02 legacy PCRs");
    app.stop().await;
}

#[tokio::test]
async fn ptpm_03_a_wrong_key_or_unknown_kid_is_not_affirming() {
    let Some(dir) = vectors::dir() else { return };
    let verification_failed = "integrity validation failed: bad evidence: failed to verify \
                               signature on key attestation token: failed to verify signature: \
                               Verification failed";
    let app = app_with(
        &spawn_app,
        &dir,
        &[(
            PARSEC_TPM_CORIM_MT,
            "parsec-tpm/derived/corim-parsec-tpm-wrongkey.cbor",
        )],
    )
    .await;
    let ear = parsec(&app, &dir, PARSEC_EVIDENCE, &DEADBEEF).await;
    compare_to_expected(
        &ear,
        &failure("PARSEC_TPM", verification_failed),
        "PTPM-03 wrongkey",
    );
    app.stop().await;

    // evidence1 has no trust anchor in the current CoRIMs…
    let app = app_with(&spawn_app, &dir, &[(PARSEC_TPM_CORIM_MT, PARSEC_VALID)]).await;
    let evidence1_nonce = b"0000";
    let ear = attest_as(
        &app,
        &[evidence1_nonce.as_slice(), evidence1_nonce].concat(),
        PARSEC_TPM_EVIDENCE_MT,
        vectors::read(&dir, "parsec-tpm/negative/evidence1.cbor"),
    )
    .await;
    compare_to_expected(
        &ear,
        &failure("PARSEC_TPM", "no trust anchor for evidence"),
        "PTPM-03 evidence1",
    );
    // …and does not verify with the legacy trust anchor for its kid.
    let record: serde_json::Value = serde_json::from_slice(&vectors::read(
        &dir,
        "parsec-tpm/legacy-kvstore/ta_endorsements.json",
    ))
    .unwrap();
    let kid = base64::engine::general_purpose::STANDARD
        .decode(
            record["attributes"]["parsec-tpm.instance-id"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    app.provision_ok(
        PARSEC_TPM_CORIM_LEGACY_MT,
        ParsecTpmCorim::new()
            .legacy()
            .trust_anchor(PARSEC_CLASS, &kid, &parsec_ak_pem(&dir))
            .build(),
    )
    .await;
    for file in [
        "parsec-tpm/negative/evidence1.cbor",
        "parsec-tpm/parsec-lib/evidence.cbor",
    ] {
        let ear = parsec(&app, &dir, file, b"00000000").await;
        compare_to_expected(&ear, &failure("PARSEC_TPM", verification_failed), file);
    }
    app.stop().await;
}

#[tokio::test]
async fn ptpm_04_malformed_evidence_establishes_no_identity() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(PARSEC_TPM_CORIM_MT, PARSEC_VALID)]).await;
    let want = failure("PARSEC_TPM", "could not establish identity from evidence");
    let mut files = vec![
        "parsec-tpm/negative/bad_evidence.cbor".to_owned(),
        "parsec-tpm/parsec-lib/evidence_invalid.cbor".to_owned(),
        "parsec-tpm/parsec-lib/evidence_bad_kat.cbor".to_owned(),
    ];
    // The JSON forms are not the CBOR evidence the media type names.
    for entry in std::fs::read_dir(dir.join("parsec-tpm/parsec-lib")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            files.push(format!("parsec-tpm/parsec-lib/{name}"));
        }
    }
    for file in &files {
        let ear = parsec(&app, &dir, file, &DEADBEEF).await;
        compare_to_expected(&ear, &want, file);
    }
    app.stop().await;
}

#[tokio::test]
async fn ptpm_05_the_vector_evidence_is_stale_in_any_other_session() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(PARSEC_TPM_CORIM_MT, PARSEC_VALID)]).await;
    // Veraison: AFFIRMING whatever the nonce (services#447). Vouch compares
    // the KAT's then the PAT's extraData with the session nonce.
    let veraison = veraison_parsec_ear(&dir);
    let eat_nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(
            veraison["eat_nonce"]
                .as_str()
                .unwrap()
                .trim_end_matches('='),
        )
        .unwrap();
    for nonce in [eat_nonce, nonce32(), [DEADBEEF, DEADBEEF].concat()] {
        let ear = parsec(&app, &dir, PARSEC_EVIDENCE, &nonce).await;
        compare_to_expected(
            &ear,
            &failure(
                "PARSEC_TPM",
                &format!(
                    "integrity validation failed: bad evidence: freshness: key attestation \
                     token nonce (deadbeefdeadbeef) does not match session nonce ({})",
                    hex::encode(&nonce)
                ),
            ),
            "PTPM-05",
        );
    }
    let ear = parsec(&app, &dir, PARSEC_EVIDENCE, &DEADBEEF).await;
    assert_eq!(ear.submods["PARSEC_TPM"].status, TrustTier::Affirming);
    app.stop().await;
}

#[tokio::test]
async fn ptpm_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    let app = spawn_app().await;
    let current = |f: &str| format!("parsec-tpm/corim/current/corim-parsec-tpm-{f}.cbor");
    let legacy =
        |f: &str| format!("parsec-tpm/corim/legacy/unsignedCorimMiniComidParsecTpm{f}.cbor");
    let mt = PARSEC_TPM_CORIM_MT;
    let lmt = PARSEC_TPM_CORIM_LEGACY_MT;
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        (mt, current("valid"), None),
        (
            mt,
            current("bad-class-id"),
            Some("class ID: expected uuid, found oid"),
        ),
        (
            mt,
            current("bad-instance"),
            Some("instance: expected bytes, found uuid"),
        ),
        (
            mt,
            current("bad-multiple-keys"),
            Some("expected exactly one key but got 2"),
        ),
        (mt, current("bad-no-class-id"), Some("class ID not set")),
        (mt, current("bad-no-class"), Some("class not set")),
        (
            mt,
            current("bad-no-digests"),
            Some("measurement 0 does not contain digests"),
        ),
        (
            mt,
            current("bad-no-instance"),
            Some("instance not set in trust anchor environment"),
        ),
        (mt, current("bad-no-pcr"), Some("measurement 0 has no key")),
        (
            mt,
            current("bad-pcr"),
            Some("measurement 0 key: expected uint, found uuid"),
        ),
        (lmt, legacy("KeyGood"), None),
        (lmt, legacy("PcrsGood"), None),
        (
            lmt,
            legacy("KeyManyKeys"),
            Some("bad key in CoMID at index 0: expecting exactly one AK public key"),
        ),
        (
            lmt,
            legacy("KeyNoClass"),
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: class not found in environment",
            ),
        ),
        (
            lmt,
            legacy("KeyNoClassId"),
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: class-id not found in class",
            ),
        ),
        (
            lmt,
            legacy("KeyNoInstance"),
            Some(
                "bad key in CoMID at index 0: failed to create trust anchor raw public key: instance not found in ID",
            ),
        ),
        (
            lmt,
            legacy("KeyUnknownClassIdType"),
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: class-id not in UUID format",
            ),
        ),
        (
            lmt,
            legacy("KeyUnknownInstanceType"),
            Some(
                "bad key in CoMID at index 0: could not extract id from AVK environment: could not extract instance-id (UEID) from instance: instance-id type is: *comid.TaggedUUID",
            ),
        ),
        (
            lmt,
            legacy("PcrsNoClass"),
            Some(
                "bad software component in CoMID at index 0: could not extract id from ref-val environment: class not found in environment",
            ),
        ),
        (
            lmt,
            legacy("PcrsNoDigests"),
            Some(
                "bad software component in CoMID at index 0: measurement[0]: measurement value does not contain digests",
            ),
        ),
        (
            lmt,
            legacy("PcrsNoPCR"),
            Some(
                "bad software component in CoMID at index 0: could not extract PCR: measurement key is not present",
            ),
        ),
        (
            lmt,
            legacy("PcrsUnknownPCRType"),
            Some(
                "bad software component in CoMID at index 0: could not extract PCR: measurement key is not uint: measurement-key type is: *comid.TaggedUUID",
            ),
        ),
        (
            mt,
            "parsec-tpm/derived/corim-parsec-tpm-badpcr.cbor".to_owned(),
            None,
        ),
        (
            mt,
            "parsec-tpm/derived/corim-parsec-tpm-wrongkey.cbor".to_owned(),
            None,
        ),
        // Both media types name the same profile: either encoding is read
        // under either.
        (lmt, current("valid"), None),
        (mt, legacy("KeyGood"), None),
    ];
    for (media_type, file, verdict) in &cases {
        check_corim(&app, &dir, media_type, file, *verdict).await;
    }
    for file in std::fs::read_dir(dir.join("parsec-tpm/corim/historic-draft")).unwrap() {
        let path = file.unwrap().path();
        let response = app
            .provision(PARSEC_TPM_CORIM_LEGACY_MT, std::fs::read(&path).unwrap())
            .await;
        assert_eq!(response.status(), 200, "{}", path.display());
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "failed", "{}", path.display());
    }
    app.stop().await;
}
