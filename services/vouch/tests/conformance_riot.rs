//! RIOT conformance over the shared Veraison vectors (`../shared/vectors`,
//! or `VOUCH_VECTORS`; MANIFEST §9.4, §9.6 RIOT-01…03, §9.8d, §9.9), with
//! the whole of Vouch in-process on SQLite, through the REST APIs.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::conformance::{app_with, attest_as, check_corim, compare_to_expected};
use common::spawn_app;
use vouch_ear::TrustTier;
use vouch_testkit::riot::{RIOT_CORIM_MT, RIOT_EVIDENCE_MT};
use vouch_testkit::vectors;

const CORIM_RIOT_VALID: &str = "riot/corim/current/corim-riot-valid.cbor";

/// The evidence chain's earliest notAfter, 2030-10-19T09:01:05Z (the
/// CoRIM's certificates end the same day).
const VECTOR_CHAIN_EXPIRES: i64 = 1_918_630_865;

/// RIoT evidence carries no nonce: any session nonce will do.
const NONCE: [u8; 32] = [0x5a; 32];

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

async fn attest(app: &common::TestApp, dir: &Path, file: &str) -> vouch_ear::Ear {
    attest_as(app, &NONCE, RIOT_EVIDENCE_MT, vectors::read(dir, file)).await
}

fn problem_of(ear: &vouch_ear::Ear) -> String {
    ear.submods["RIOT"].policy_claims.as_ref().unwrap()["problem"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn riot_01_the_vector_chain_is_affirming_with_veraisons_claims() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(RIOT_CORIM_MT, CORIM_RIOT_VALID)]).await;
    let ear = attest(&app, &dir, "riot/evidence/evidence.pem").await;
    if now_unix() < VECTOR_CHAIN_EXPIRES {
        let want = serde_json::json!({"RIOT": {
            "ear.status": "affirming",
            "ear.appraisal-policy-id": "policy:RIOT",
            "ear.trustworthiness-vector": {
                "instance-identity": 2, "configuration": 0, "executables": 0,
                "file-system": 0, "hardware": 0, "runtime-opaque": 0,
                "storage-opaque": 0, "sourced-data": 0
            },
            "ear.veraison.policy-claims": {
                "FWID": "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
                "DeviceID": "BJ80ZiWLcQYjf+tkjd/VVri5OMMHamGJQJdfIJidYfN5nQSC9GyMSpS6XgA92maPWMKQym9j2uXNWlpUzAwHL64="
            }
        }});
        compare_to_expected(&ear, &want, "RIOT-01");
        assert_eq!(ear.submods.len(), 1);
    } else {
        // Once the vector chain has expired it fails, in Veraison too.
        assert_ne!(ear.submods["RIOT"].status, TrustTier::Affirming);
        assert!(problem_of(&ear).contains("expired"), "{}", problem_of(&ear));
    }
    app.stop().await;
}

#[tokio::test]
async fn riot_02_broken_vector_chains_are_not_affirming() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(RIOT_CORIM_MT, CORIM_RIOT_VALID)]).await;
    // Veraison ends with status none and the bare problem; Vouch reports a
    // failed integrity check (contraindicated, every claim 99), and for
    // the alias-only chain, whose DeviceID is missing, no identity.
    let all_99 = serde_json::json!({
        "instance-identity": 99, "configuration": 99, "executables": 99,
        "file-system": 99, "hardware": 99, "runtime-opaque": 99,
        "storage-opaque": 99, "sourced-data": 99
    });
    for (file, problem) in [
        (
            "riot/derived/riot-evidence-no-ca0.pem",
            "integrity validation failed: bad evidence: failed to verify alias cert: x509: certificate signed by unknown authority",
        ),
        (
            "riot/derived/riot-evidence-alias-only.pem",
            "could not establish identity from evidence",
        ),
    ] {
        let ear = attest(&app, &dir, file).await;
        let want = serde_json::json!({"RIOT": {
            "ear.status": "contraindicated",
            "ear.appraisal-policy-id": "policy:RIOT",
            "ear.trustworthiness-vector": all_99,
        }});
        compare_to_expected(&ear, &want, file);
        let got = problem_of(&ear);
        assert!(got.starts_with(problem), "{file}: {got}");
    }
    app.stop().await;
}

#[tokio::test]
async fn riot_03_vector_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    let app = spawn_app().await;
    // Refused ones first, so each is judged with nothing provisioned.
    for (file, reason) in [
        (
            "corim-riot-bad-refvals.cbor",
            Some("found reference values (disallowed by scheme)"),
        ),
        ("corim-riot-bad-no-vendor.cbor", Some("missing vendor")),
        (
            "corim-riot-bad-wrong-vendor.cbor",
            Some(r#"vendor must be "Veraison Project""#),
        ),
        (
            "corim-riot-bad-wrong-key-type.cbor",
            Some("key must be a cert"),
        ),
        ("corim-riot-valid.cbor", None),
    ] {
        check_corim(
            &app,
            &dir,
            RIOT_CORIM_MT,
            &format!("riot/corim/current/{file}"),
            reason,
        )
        .await;
    }
    // Under another profile's media type the RIOT CoRIM is refused too.
    let response = app
        .provision(
            "application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\"",
            vectors::read(&dir, CORIM_RIOT_VALID),
        )
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "failed", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn riot_evidence_without_a_provisioned_corim_has_no_trust_anchor() {
    let Some(dir) = vectors::dir() else { return };
    let app = spawn_app().await;
    let ear = attest(&app, &dir, "riot/evidence/evidence.pem").await;
    assert_eq!(ear.submods["RIOT"].status, TrustTier::Contraindicated);
    assert_eq!(problem_of(&ear), "no trust anchor for evidence");
    app.stop().await;
}

#[tokio::test]
async fn other_vectors_under_the_riot_media_type_get_no_server_error() {
    let Some(dir) = vectors::dir() else { return };
    let app = app_with(&spawn_app, &dir, &[(RIOT_CORIM_MT, CORIM_RIOT_VALID)]).await;
    for file in [
        "riot/trust-anchors/TrustAnchor.pem",
        "riot/dice/riot-ext.der",
        "riot/corim/current/corim-riot-valid.cbor",
        "psa/tokens/acme-p2-good.services-scheme.cbor",
    ] {
        let (session, _) = app.session("").await;
        let response = app
            .submit(&session, RIOT_EVIDENCE_MT, vectors::read(&dir, file))
            .await;
        assert!(
            !response.status().is_server_error(),
            "{file}: {}",
            response.status()
        );
        if response.status().is_success() {
            let ear = common::ear_of(&app, response).await;
            assert_ne!(ear.submods["RIOT"].status, TrustTier::Affirming, "{file}");
        }
    }
    app.stop().await;
}
