//! RIOT end to end: freshly minted RIoT/DICE devices (`vouch_testkit::riot`)
//! provisioned and verified through the REST APIs of the embedded default.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::*;
use vouch_ear::{Ear, TrustTier};
use vouch_testkit::riot::{RIOT_CORIM_MT, RIOT_EVIDENCE_MT, RiotCorim, RiotDevice};

const FWID: [u8; 32] = [0xf1; 32];

/// Opens a session and submits `evidence` for it.
async fn attest(app: &TestApp, evidence: Vec<u8>) -> Ear {
    let (session, _nonce) = app.session("").await;
    let response = app.submit(&session, RIOT_EVIDENCE_MT, evidence).await;
    ear_of(app, response).await
}

fn problem_of(ear: &Ear) -> String {
    ear.submods["RIOT"]
        .policy_claims
        .as_ref()
        .and_then(|c| c.get("problem"))
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Asserts the EAR is RIOT's affirming verdict on `device`.
fn assert_affirms(ear: &Ear, device: &RiotDevice) {
    let submod = &ear.submods["RIOT"];
    assert_eq!(submod.status, TrustTier::Affirming, "{submod:?}");
    assert_eq!(submod.policy_id.as_deref(), Some("policy:RIOT"));
    let tv = serde_json::to_value(submod.trust_vector).unwrap();
    assert_eq!(
        tv,
        serde_json::json!({
            "instance-identity": 2, "configuration": 0, "executables": 0,
            "file-system": 0, "hardware": 0, "runtime-opaque": 0,
            "storage-opaque": 0, "sourced-data": 0
        })
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        submod.policy_claims.as_ref().unwrap(),
        serde_json::json!({
            "FWID": b64.encode(device.fwid()),
            "DeviceID": b64.encode(device.device_id_point()),
        })
        .as_object()
        .unwrap()
    );
}

/// Asserts the EAR is not affirming and its problem contains `problem`.
fn assert_refused(ear: &Ear, problem: &str, what: &str) {
    let submod = &ear.submods["RIOT"];
    assert_ne!(submod.status, TrustTier::Affirming, "{what}: {submod:?}");
    assert_eq!(submod.status, TrustTier::Contraindicated, "{what}");
    let got = problem_of(ear);
    assert!(got.contains(problem), "{what}: {got}");
}

#[tokio::test]
async fn a_minted_device_and_its_siblings_are_affirming() {
    let app = spawn_app().await;
    let device = RiotDevice::generate(&FWID).unwrap();
    app.provision_ok(RIOT_CORIM_MT, device.corim()).await;
    assert_affirms(&attest(&app, device.evidence()).await, &device);

    // Another device of the vendor, other firmware: the same CoRIM applies.
    let sibling = device.sibling(&[0x22; 32]).unwrap();
    assert_affirms(&attest(&app, sibling.evidence()).await, &sibling);

    // The root as a single pkix-base64-cert works as well.
    app.provision_ok(
        RIOT_CORIM_MT,
        RiotCorim::new().cert(&device.trust_anchor_pem()).build(),
    )
    .await;
    assert_affirms(&attest(&app, device.evidence()).await, &device);
    app.stop().await;
}

#[tokio::test]
async fn broken_chains_are_not_affirming() {
    let app = spawn_app().await;
    let device = RiotDevice::generate(&FWID).unwrap();
    app.provision_ok(RIOT_CORIM_MT, device.corim()).await;

    let stranger = RiotDevice::generate(&FWID).unwrap();
    let unknown = "integrity validation failed: bad evidence: failed to verify alias cert: x509: certificate signed by unknown authority";
    let cases = [
        ("a device of another vendor", stranger.evidence(), unknown),
        (
            "a chain without its intermediate",
            device.evidence_without_intermediate(),
            unknown,
        ),
        (
            "a self-signed DeviceID",
            device.evidence_self_signed().unwrap(),
            unknown,
        ),
        (
            "an expired alias certificate",
            device.evidence_with_expired_alias().unwrap(),
            "failed to verify alias cert: x509: certificate has expired or is not yet valid",
        ),
        (
            "an alias naming another DeviceID",
            device.evidence_with_mismatched_device_id().unwrap(),
            "is not the key of the DeviceID certificate that issued it",
        ),
        (
            "the alias certificate alone",
            device.evidence_alias_only(),
            "could not establish identity from evidence",
        ),
        (
            "not PEM",
            b"garbage".to_vec(),
            "could not establish identity from evidence",
        ),
    ];
    for (what, evidence, problem) in cases {
        assert_refused(&attest(&app, evidence).await, problem, what);
    }
    // The genuine device still verifies.
    assert_affirms(&attest(&app, device.evidence()).await, &device);
    app.stop().await;
}

#[tokio::test]
async fn without_a_riot_corim_there_is_no_trust_anchor() {
    let app = spawn_app().await;
    let device = RiotDevice::generate(&FWID).unwrap();
    assert_refused(
        &attest(&app, device.evidence()).await,
        "no trust anchor for evidence",
        "nothing provisioned",
    );
    app.stop().await;
}

#[tokio::test]
async fn a_later_riot_corim_replaces_the_trust_anchor() {
    let app = spawn_app().await;
    let first = RiotDevice::generate(&FWID).unwrap();
    let second = RiotDevice::generate(&FWID).unwrap();
    app.provision_ok(RIOT_CORIM_MT, first.corim()).await;
    assert_affirms(&attest(&app, first.evidence()).await, &first);

    // One RIOT trust anchor: the second vendor's CoRIM replaces the first's.
    app.provision_ok(RIOT_CORIM_MT, second.corim()).await;
    assert_affirms(&attest(&app, second.evidence()).await, &second);
    assert_refused(
        &attest(&app, first.evidence()).await,
        "certificate signed by unknown authority",
        "the replaced vendor",
    );

    // Both vendors' roots in one CoRIM: both verify.
    let both = RiotCorim::new()
        .cert_path(&first.trust_anchor_pem())
        .cert_path(&second.trust_anchor_pem())
        .build();
    app.provision_ok(RIOT_CORIM_MT, both).await;
    assert_affirms(&attest(&app, first.evidence()).await, &first);
    assert_affirms(&attest(&app, second.evidence()).await, &second);
    app.stop().await;
}

#[tokio::test]
async fn bad_riot_corims_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let device = RiotDevice::generate(&FWID).unwrap();
    let root = device.trust_anchor_pem();
    let good = || RiotCorim::new().cert_path(&root);
    let cases = [
        (good().vendor(None).build(), "missing vendor"),
        (
            good().vendor(Some("ACME")).build(),
            r#"vendor must be "Veraison Project""#,
        ),
        (
            good().model(Some("RoadRunner")).build(),
            r#"model must be "RIOT""#,
        ),
        (
            good().with_reference_value().build(),
            "found reference values (disallowed by scheme)",
        ),
        (
            RiotCorim::new()
                .public_key(&device.minted().root.key.verifying_key().to_pem())
                .build(),
            "key must be a cert or a cert path, found: pkix-base64-key",
        ),
        (
            RiotCorim::new()
                .cert_path(&device.minted().intermediate.cert.to_pem())
                .build(),
            "no self-signed root",
        ),
    ];
    for (corim, reason) in cases {
        let response = app.provision(RIOT_CORIM_MT, corim).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "failed", "{body}");
        let got = body["failure-reason"].as_str().unwrap();
        assert!(got.contains(reason), "{reason:?} not in {got:?}");
    }
    // Nothing was stored.
    assert_refused(
        &attest(&app, device.evidence()).await,
        "no trust anchor for evidence",
        "after refusals",
    );
    app.stop().await;
}

#[tokio::test]
async fn the_discovery_documents_list_the_riot_media_types() {
    let app = spawn_app().await;
    let (verification, provisioning) = app.advertised_media_types().await;
    assert!(
        verification.iter().any(|m| m == RIOT_EVIDENCE_MT),
        "{verification:?}"
    );
    assert!(
        provisioning.iter().any(|m| m == RIOT_CORIM_MT),
        "{provisioning:?}"
    );

    // A new session offers the RIOT evidence type too.
    let response = app.new_session("").await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["accept"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == RIOT_EVIDENCE_MT),
        "{body}"
    );
    app.stop().await;
}
