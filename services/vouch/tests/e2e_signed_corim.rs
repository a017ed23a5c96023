//! Signed CoRIMs (`application/rim+cose`) through the REST API of the
//! embedded default: trusted signers are configured with
//! `corim.signer_keys` / `corim.signer_roots`, a bad signature, an unknown
//! signer or an expired CoRIM is refused with a reason and stores nothing,
//! and `corim.require_signed` takes unsigned CoRIMs off the menu.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vouch_corim::signed::CorimSignature;
use vouch_crypto::{Curve, SigningKey};
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};
use vouch_testkit::vectors;

const SIGNED_CURRENT_MT: &str = "application/rim+cose; profile=\"tag:arm.com,2025:psa#1.0.0\"";
const SIGNED_LEGACY_MT: &str =
    "application/corim-signed+cbor; profile=\"http://arm.com/psa/iot/1\"";

/// A Vouch trusting `keys` (as a PEM bundle) and the roots in `roots_pem`.
async fn app_trusting(keys: &[&SigningKey], roots_pem: Option<String>, require: bool) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("corim-signers.pem");
    let pem: String = keys.iter().map(|k| k.verifying_key().to_pem()).collect();
    std::fs::write(&keys_path, pem).unwrap();
    let roots_path = roots_pem.map(|pem| {
        let path = dir.path().join("corim-roots.pem");
        std::fs::write(&path, pem).unwrap();
        path
    });
    let app = spawn_app_with(|s| {
        if !keys.is_empty() {
            s.corim.signer_keys = Some(keys_path.clone());
        }
        s.corim.signer_roots = roots_path.clone();
        s.corim.require_signed = require;
    })
    .await;
    // The files are read at start-up.
    drop(dir);
    app
}

async fn provision_status(app: &TestApp, media_type: &str, body: Vec<u8>) -> serde_json::Value {
    let response = app.provision(media_type, body).await;
    assert_eq!(response.status(), 200, "{media_type}");
    response.json().await.unwrap()
}

/// Whether `device` verifies as affirming against what is provisioned.
async fn affirmed(app: &TestApp, device: &Device) -> bool {
    let (session, nonce) = app.session("").await;
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    let ear = ear_of(app, app.submit(&session, PSA_TOKEN_MT, token).await).await;
    ear.submods["PSA_IOT"].status.as_str() == "affirming"
}

#[tokio::test]
async fn a_corim_signed_by_a_configured_key_provisions_and_attests() {
    let signer = SigningKey::generate(Curve::P256).unwrap();
    let app = app_trusting(&[&signer], None, false).await;
    let device = Device::generate().unwrap();
    let corim = corim_for(&[&device], PsaCorimEncoding::Current);
    let signed = CorimSignature::valid_now().sign(&corim, &signer).unwrap();
    let body = provision_status(&app, SIGNED_CURRENT_MT, signed).await;
    assert_eq!(body["status"], "success", "{body}");
    assert!(affirmed(&app, &device).await);

    // The legacy media type name works for the legacy encoding.
    let legacy_device = Device::generate().unwrap();
    let legacy = corim_for(&[&legacy_device], PsaCorimEncoding::Legacy);
    let signed = CorimSignature::valid_now().sign(&legacy, &signer).unwrap();
    let body = provision_status(&app, SIGNED_LEGACY_MT, signed).await;
    assert_eq!(body["status"], "success", "{body}");
    assert!(affirmed(&app, &legacy_device).await);

    // Unsigned CoRIMs still work by default.
    let unsigned_device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&unsigned_device], PsaCorimEncoding::Current),
    )
    .await;
    assert!(affirmed(&app, &unsigned_device).await);
    app.stop().await;
}

#[tokio::test]
async fn bad_signatures_unknown_signers_and_expired_corims_store_nothing() {
    let signer = SigningKey::generate(Curve::P256).unwrap();
    let stranger = SigningKey::generate(Curve::P256).unwrap();
    let app = app_trusting(&[&signer], None, false).await;
    let device = Device::generate().unwrap();
    let corim = corim_for(&[&device], PsaCorimEncoding::Current);

    let mut tampered = CorimSignature::valid_now().sign(&corim, &signer).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let expired = CorimSignature {
        not_before: Some(1_600_000_000),
        not_after: Some(1_700_000_000),
        ..CorimSignature::valid_now()
    };
    let future = CorimSignature {
        not_before: Some(4_000_000_000),
        not_after: Some(4_100_000_000),
        ..CorimSignature::valid_now()
    };
    let cases = [
        ("bad signature", tampered, "does not verify"),
        (
            "unknown signer",
            CorimSignature::valid_now().sign(&corim, &stranger).unwrap(),
            "does not verify",
        ),
        ("expired", expired.sign(&corim, &signer).unwrap(), "expired"),
        (
            "not yet valid",
            future.sign(&corim, &signer).unwrap(),
            "not yet valid",
        ),
        ("not COSE", corim.clone(), "could not decode signed CoRIM"),
    ];
    for (what, body, reason) in cases {
        let answer = provision_status(&app, SIGNED_CURRENT_MT, body).await;
        assert_eq!(answer["status"], "failed", "{what}: {answer}");
        let text = answer["failure-reason"].as_str().unwrap();
        assert!(text.contains(reason), "{what}: {text}");
    }
    // Nothing was stored: the device has no trust anchor.
    assert!(!affirmed(&app, &device).await);
    app.stop().await;
}

#[tokio::test]
async fn an_x5chain_to_a_configured_root_is_trusted() {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let chain = vouch_x509::mint::SignerChain::generate(now - 60).unwrap();
    let app = app_trusting(&[], Some(chain.root_pem()), false).await;
    let device = Device::generate().unwrap();
    let corim = corim_for(&[&device], PsaCorimEncoding::Current);
    let signature = CorimSignature {
        x5chain: chain.x5chain_der(),
        ..CorimSignature::valid_now()
    };
    let signed = signature.sign(&corim, &chain.leaf.key).unwrap();
    let body = provision_status(&app, SIGNED_CURRENT_MT, signed).await;
    assert_eq!(body["status"], "success", "{body}");
    assert!(affirmed(&app, &device).await);

    let other = vouch_x509::mint::SignerChain::generate(now - 60).unwrap();
    let foreign = CorimSignature {
        x5chain: other.x5chain_der(),
        ..CorimSignature::valid_now()
    }
    .sign(&corim, &other.leaf.key)
    .unwrap();
    let body = provision_status(&app, SIGNED_CURRENT_MT, foreign).await;
    assert_eq!(body["status"], "failed", "{body}");
    app.stop().await;
}

#[tokio::test]
async fn requiring_signed_corims_refuses_unsigned_ones() {
    let signer = SigningKey::generate(Curve::P256).unwrap();
    let app = app_trusting(&[&signer], None, true).await;
    let device = Device::generate().unwrap();
    let corim = corim_for(&[&device], PsaCorimEncoding::Current);
    let response = app.provision(CORIM_CURRENT_MT, corim.clone()).await;
    assert_eq!(response.status(), 415);
    let accept = response.headers()["accept"].to_str().unwrap().to_owned();
    assert!(accept.contains("application/rim+cose"), "{accept}");
    assert!(!accept.contains("application/rim+cbor"), "{accept}");

    let (_, types) = app.advertised_media_types().await;
    assert!(types.iter().any(|t| t == SIGNED_CURRENT_MT), "{types:?}");
    assert!(types.iter().all(|t| !t.starts_with("application/rim+cbor")));

    let signed = CorimSignature::valid_now().sign(&corim, &signer).unwrap();
    let body = provision_status(&app, SIGNED_CURRENT_MT, signed).await;
    assert_eq!(body["status"], "success", "{body}");
    assert!(affirmed(&app, &device).await);
    app.stop().await;
}

#[tokio::test]
async fn veraison_signed_corims_are_refused_as_expired_or_malformed() {
    let Some(dir) = vectors::dir() else { return };
    let jwk: serde_json::Value =
        serde_json::from_slice(&vectors::read(&dir, "corim-generic/corimlib/ec-p256.jwk")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let keys = data.path().join("signer.jwk");
    std::fs::write(&keys, jwk.to_string()).unwrap();
    let app = spawn_app_with(|s| s.corim.signer_keys = Some(keys.clone())).await;
    let legacy_signed = "application/rim+cose; profile=\"http://arm.com/psa/iot/1\"";
    for (file, reason) in [
        // Signature valid with ec.p256, meta validity ended 2025-12-31.
        ("corim-generic/cocli/signed-corim-valid.cbor", "expired"),
        ("corim-generic/cocli/data-signed-corim.cbor", "expired"),
        (
            "corim-generic/cocli/data-signed-corim-bad-signature.cbor",
            "could not decode signed CoRIM",
        ),
    ] {
        let answer = provision_status(&app, legacy_signed, vectors::read(&dir, file)).await;
        assert_eq!(answer["status"], "failed", "{file}: {answer}");
        let text = answer["failure-reason"].as_str().unwrap();
        assert!(text.contains(reason), "{file}: {text}");
    }
    app.stop().await;
}
