//! EnactTrust TPM and Parsec TPM end to end: freshly minted nodes and
//! devices (`vouch_testkit::enacttrust`, `vouch_testkit::parsec_tpm`)
//! provisioned and verified through the REST APIs of the embedded default.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::*;
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Ear, KeyAttestation, TrustTier};
use vouch_testkit::enacttrust::{
    ENACTTRUST_CORIM_LEGACY_HTTPS_MT, ENACTTRUST_CORIM_LEGACY_MT, ENACTTRUST_CORIM_MT,
    ENACTTRUST_EVIDENCE_MT, EnactTrustCorim, EnactTrustDevice, EnactTrustEncoding,
};
use vouch_testkit::parsec_tpm::{
    PARSEC_TPM_CORIM_LEGACY_MT, PARSEC_TPM_CORIM_MT, PARSEC_TPM_EVIDENCE_MT, ParsecTpmCorim,
    ParsecTpmDevice,
};

const ENACT: &str = "TPM_ENACTTRUST";
const PARSEC: &str = "PARSEC_TPM";

/// Opens a session (server-chosen nonce), lets `evidence` answer its nonce,
/// submits it as `media_type` and returns the verified EAR.
async fn attest(app: &TestApp, media_type: &str, evidence: impl FnOnce(&[u8]) -> Vec<u8>) -> Ear {
    let (session, nonce) = app.session("").await;
    let response = app.submit(&session, media_type, evidence(&nonce)).await;
    ear_of(app, response).await
}

fn trust_vector(ear: &Ear, submod: &str) -> serde_json::Value {
    serde_json::to_value(ear.submods[submod].trust_vector).unwrap()
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

/// Asserts `ear` is EnactTrust's affirming verdict on `node`.
fn assert_enact_affirms(ear: &Ear, node: &EnactTrustDevice) {
    let submod = &ear.submods[ENACT];
    assert_eq!(submod.status, TrustTier::Affirming, "{submod:?}");
    assert_eq!(submod.policy_id.as_deref(), Some("policy:TPM_ENACTTRUST"));
    assert_eq!(
        trust_vector(ear, ENACT),
        serde_json::json!({
            "instance-identity": 0, "configuration": 0, "executables": 2,
            "file-system": 0, "hardware": 0, "runtime-opaque": 0,
            "storage-opaque": 0, "sourced-data": 0
        })
    );
    assert_eq!(
        serde_json::Value::Object(submod.annotated_evidence.clone().unwrap()),
        serde_json::json!({
            "node-id": node.node_id_text(),
            "firmware-version": node.firmware_version(),
            "pcr-selection": node.pcrs(),
            "hash-algorithm": 11,
            "pcr-digest": base64::engine::general_purpose::STANDARD.encode(node.golden_digest()),
        })
    );
    assert!(submod.key_attestation.is_none());
    assert!(submod.policy_claims.is_none());
}

/// Asserts `ear` is contraindicated and its problem contains `problem`.
fn assert_refused(ear: &Ear, submod: &str, problem: &str, what: &str) {
    let appraisal = &ear.submods[submod];
    assert_eq!(appraisal.status, TrustTier::Contraindicated, "{what}");
    let got = problem_of(ear, submod);
    assert!(got.contains(problem), "{what}: {got:?}");
}

#[tokio::test]
async fn a_minted_enacttrust_node_is_affirming_in_every_encoding() {
    let app = spawn_app().await;
    for encoding in [
        EnactTrustEncoding::Current,
        EnactTrustEncoding::LegacyHttp,
        EnactTrustEncoding::LegacyHttps,
    ] {
        let node = EnactTrustDevice::generate().unwrap();
        let corim = EnactTrustCorim::new()
            .encoding(encoding)
            .trust_anchor(node.node_id(), &node.ak_pem())
            .reference_value(node.node_id(), node.golden_digest())
            .build();
        app.provision_ok(encoding.media_type(), corim).await;
        let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| node.evidence(n).unwrap()).await;
        assert_enact_affirms(&ear, &node);
    }
    app.stop().await;
}

#[tokio::test]
async fn enacttrust_quotes_that_do_not_check_out_are_not_affirming() {
    let app = spawn_app().await;
    let node = EnactTrustDevice::generate().unwrap();
    app.provision_ok(ENACTTRUST_CORIM_MT, node.corim()).await;
    let neighbour = EnactTrustDevice::generate().unwrap();
    app.provision_ok(ENACTTRUST_CORIM_MT, neighbour.corim())
        .await;
    let stranger = EnactTrustDevice::generate().unwrap();
    let wrong_ak = SigningKey::generate(Curve::P256).unwrap();

    // Integrity failures: every claim 99.
    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| {
        node.evidence_signed_by(n, &wrong_ak).unwrap()
    })
    .await;
    assert_refused(
        &ear,
        ENACT,
        "integrity validation failed: bad evidence: could not verify evidence signature: failed to verify signature",
        "wrong AK",
    );
    assert_eq!(trust_vector(&ear, ENACT)["executables"], 99);

    // A quote answering an earlier session's nonce.
    let (_, old_nonce) = app.session("").await;
    let replayed = node.evidence(&old_nonce).unwrap();
    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |_| replayed).await;
    assert_refused(
        &ear,
        ENACT,
        &format!("freshness: quote nonce ({})", hex::encode(&old_nonce)),
        "stale nonce",
    );

    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| {
        stranger.evidence(n).unwrap()
    })
    .await;
    assert_refused(&ear, ENACT, "no trust anchor for evidence", "unknown node");

    // The node id is outside the signature: a quote re-labelled as the
    // neighbour's is checked against the neighbour's AK, and fails.
    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| {
        node.evidence_as_node(n, neighbour.node_id()).unwrap()
    })
    .await;
    assert_refused(
        &ear,
        ENACT,
        "could not verify evidence signature",
        "relabelled node",
    );

    // A genuine, fresh quote of an unknown PCR state.
    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| {
        node.evidence_with_pcr_digest(n, &[0x66; 32]).unwrap()
    })
    .await;
    let submod = &ear.submods[ENACT];
    assert_eq!(submod.status, TrustTier::Contraindicated);
    assert_eq!(
        trust_vector(&ear, ENACT),
        serde_json::json!({
            "instance-identity": 0, "configuration": 0, "executables": 33,
            "file-system": 0, "hardware": 0, "runtime-opaque": 0,
            "storage-opaque": 0, "sourced-data": 0
        })
    );
    assert_eq!(
        submod.annotated_evidence.as_ref().unwrap()["pcr-digest"],
        base64::engine::general_purpose::STANDARD.encode([0x66; 32])
    );

    // A later CoRIM endorsing that PCR state too makes it affirming: golden
    // digests accumulate.
    app.provision_ok(
        ENACTTRUST_CORIM_MT,
        EnactTrustCorim::new()
            .reference_value(node.node_id(), &[0x66; 32])
            .build(),
    )
    .await;
    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| {
        node.evidence_with_pcr_digest(n, &[0x66; 32]).unwrap()
    })
    .await;
    assert_eq!(ear.submods[ENACT].status, TrustTier::Affirming);
    // The node itself still verifies.
    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| node.evidence(n).unwrap()).await;
    assert_enact_affirms(&ear, &node);
    app.stop().await;
}

#[tokio::test]
async fn enacttrust_corims_that_would_weaken_the_node_binding_are_refused() {
    let app = spawn_app().await;
    let node = EnactTrustDevice::generate().unwrap();
    let other = EnactTrustDevice::generate().unwrap();
    for (corim, reason) in [
        (
            EnactTrustCorim::new()
                .trust_anchor(node.node_id(), &node.ak_pem())
                .trust_anchor(other.node_id(), &node.ak_pem())
                .build(),
            "the same attestation key is provisioned for nodes",
        ),
        (
            EnactTrustCorim::new()
                .trust_anchor(node.node_id(), &node.ak_pem())
                .trust_anchor(node.node_id(), &other.ak_pem())
                .build(),
            "is given two different attestation keys",
        ),
        (
            EnactTrustCorim::new()
                .reference_value(node.node_id(), node.golden_digest())
                .with_class()
                .build(),
            "class set in environment",
        ),
    ] {
        let response = app.provision(ENACTTRUST_CORIM_MT, corim).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "failed", "{body}");
        let got = body["failure-reason"].as_str().unwrap();
        assert!(got.contains(reason), "{reason:?} not in {got:?}");
    }
    // Nothing was stored.
    let ear = attest(&app, ENACTTRUST_EVIDENCE_MT, |n| node.evidence(n).unwrap()).await;
    assert_refused(
        &ear,
        ENACT,
        "no trust anchor for evidence",
        "after refusals",
    );
    app.stop().await;
}

/// Asserts `ear` is Parsec TPM's affirming verdict on `device`.
fn assert_parsec_affirms(ear: &Ear, device: &ParsecTpmDevice) {
    let submod = &ear.submods[PARSEC];
    assert_eq!(submod.status, TrustTier::Affirming, "{submod:?}");
    assert_eq!(submod.policy_id.as_deref(), Some("policy:PARSEC_TPM"));
    assert_eq!(
        trust_vector(ear, PARSEC),
        serde_json::json!({
            "instance-identity": 2, "configuration": 0, "executables": 2,
            "file-system": 0, "hardware": 2, "runtime-opaque": 0,
            "storage-opaque": 0, "sourced-data": 0
        })
    );
    assert_eq!(
        submod.key_attestation,
        Some(KeyAttestation::from_spki_der(
            &device.attested_key().to_spki_der()
        ))
    );
    let annotated = serde_json::Value::Object(submod.annotated_evidence.clone().unwrap());
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(annotated["kat"]["kid"], b64.encode(device.kid()));
    assert_eq!(annotated["pat"]["kid"], b64.encode(device.kid()));
    assert_eq!(annotated["kat"]["tpmVer"], "2.0");
    assert!(submod.policy_claims.is_none());
}

#[tokio::test]
async fn a_minted_parsec_tpm_device_is_affirming_and_attests_its_key() {
    let app = spawn_app().await;
    let device = ParsecTpmDevice::generate().unwrap();
    app.provision_ok(PARSEC_TPM_CORIM_MT, device.corim()).await;
    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |n| {
        device.evidence(n).unwrap()
    })
    .await;
    assert_parsec_affirms(&ear, &device);

    // Another device of the class needs only its own trust anchor: the
    // class's PCR state applies to it (here in the legacy encoding).
    let sibling = device.sibling().unwrap();
    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |n| {
        sibling.evidence(n).unwrap()
    })
    .await;
    assert_refused(
        &ear,
        PARSEC,
        "no trust anchor for evidence",
        "sibling before provisioning",
    );
    app.provision_ok(
        PARSEC_TPM_CORIM_LEGACY_MT,
        ParsecTpmCorim::new()
            .legacy()
            .trust_anchor(sibling.class_id(), sibling.kid(), &sibling.ak_pem())
            .build(),
    )
    .await;
    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |n| {
        sibling.evidence(n).unwrap()
    })
    .await;
    assert_parsec_affirms(&ear, &sibling);
    app.stop().await;
}

#[tokio::test]
async fn parsec_tpm_evidence_that_does_not_check_out_is_not_affirming() {
    let app = spawn_app().await;
    let device = ParsecTpmDevice::generate().unwrap();
    app.provision_ok(PARSEC_TPM_CORIM_MT, device.corim()).await;
    let stranger = ParsecTpmDevice::generate().unwrap();
    let wrong_ak = SigningKey::generate(Curve::P256).unwrap();

    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |n| {
        device.evidence_signed_by(n, &wrong_ak).unwrap()
    })
    .await;
    assert_refused(
        &ear,
        PARSEC,
        "integrity validation failed: bad evidence: failed to verify signature on key attestation token: failed to verify signature: Verification failed",
        "wrong AK",
    );
    assert!(ear.submods[PARSEC].key_attestation.is_none());

    let (_, old_nonce) = app.session("").await;
    let replayed = device.evidence(&old_nonce).unwrap();
    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |_| replayed).await;
    assert_refused(
        &ear,
        PARSEC,
        &format!(
            "freshness: key attestation token nonce ({})",
            hex::encode(&old_nonce)
        ),
        "stale nonce",
    );
    assert!(ear.submods[PARSEC].key_attestation.is_none());

    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |n| {
        stranger.evidence(n).unwrap()
    })
    .await;
    assert_refused(&ear, PARSEC, "no trust anchor for evidence", "unknown kid");

    // A genuine, fresh quote of a PCR state the class was not endorsed in.
    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |n| {
        device.evidence_with_pcr_digest(n, &[0x77; 32]).unwrap()
    })
    .await;
    let submod = &ear.submods[PARSEC];
    assert_ne!(submod.status, TrustTier::Affirming);
    assert_eq!(submod.status, TrustTier::Warning);
    assert_eq!(trust_vector(&ear, PARSEC)["executables"], 33);
    assert!(
        submod.key_attestation.is_none(),
        "no key from an unknown state"
    );
    assert!(problem_of(&ear, PARSEC).starts_with("failed to match PCRs"));

    // A device of another class is not endorsed by this class's PCR state.
    let elsewhere = ParsecTpmDevice::generate().unwrap();
    app.provision_ok(
        PARSEC_TPM_CORIM_MT,
        ParsecTpmCorim::new()
            .trust_anchor(elsewhere.class_id(), elsewhere.kid(), &elsewhere.ak_pem())
            .build(),
    )
    .await;
    let ear = attest(&app, PARSEC_TPM_EVIDENCE_MT, |n| {
        elsewhere.evidence(n).unwrap()
    })
    .await;
    assert_eq!(ear.submods[PARSEC].status, TrustTier::Warning);
    app.stop().await;
}

#[tokio::test]
async fn the_discovery_documents_list_the_tpm_media_types() {
    let app = spawn_app().await;
    let (verification, provisioning) = app.advertised_media_types().await;
    for mt in [ENACTTRUST_EVIDENCE_MT, PARSEC_TPM_EVIDENCE_MT] {
        assert!(
            verification.iter().any(|m| m == mt),
            "{mt}: {verification:?}"
        );
    }
    for mt in [
        ENACTTRUST_CORIM_MT,
        ENACTTRUST_CORIM_LEGACY_MT,
        ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
        PARSEC_TPM_CORIM_MT,
        PARSEC_TPM_CORIM_LEGACY_MT,
        // The signed twins.
        "application/rim+cose; profile=\"https://enacttrust.com/veraison/1.0.0\"",
        "application/rim+cose; profile=\"http://enacttrust.com/veraison/1.0.0\"",
        "application/rim+cose; profile=\"tag:github.com/parallaxsecond,2023-03-03:tpm\"",
    ] {
        assert!(
            provisioning.iter().any(|m| m == mt),
            "{mt}: {provisioning:?}"
        );
    }
    // A new session offers both evidence types.
    let body: serde_json::Value = app.new_session("").await.json().await.unwrap();
    let accept = body["accept"].as_array().unwrap();
    for mt in [ENACTTRUST_EVIDENCE_MT, PARSEC_TPM_EVIDENCE_MT] {
        assert!(accept.iter().any(|m| m == mt), "{mt}: {body}");
    }
    app.stop().await;
}
