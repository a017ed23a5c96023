//! Arm CCA and Parsec CCA end to end: freshly minted devices
//! (`vouch_testkit::cca`, fresh CPAKs on P-256, P-384 and P-521 and fresh
//! RAKs) provisioned and verified through the REST APIs of the embedded
//! default.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::*;
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Ear, KeyAttestation, TrustTier};
use vouch_testkit::cca::{
    CCA_EVIDENCE_MT, CCA_PLATFORM_CORIM_LEGACY_MT, CCA_PLATFORM_CORIM_MT,
    CCA_PLATFORM_CORIM_UNSIGNED_MT, CCA_REALM_CORIM_LEGACY_MT, CCA_REALM_CORIM_MT,
    CCA_REALM_CORIM_UNSIGNED_MT, CcaCorimEncoding, CcaDevice, Framing, MintOptions,
    PARSEC_CCA_CORIM_LEGACY_MT, PARSEC_CCA_CORIM_MT, PARSEC_CCA_EVIDENCE_MT, ParsecMintOptions,
};

const CCA: &str = "ARM_CCA";
const PLATFORM: &str = "CCA_SSD_PLATFORM";
const REALM: &str = "CCA_REALM";
const PARSEC: &str = "PARSEC_CCA";

fn tv(ear: &Ear, submod: &str) -> serde_json::Value {
    serde_json::to_value(ear.submods[submod].trust_vector).unwrap()
}

fn vector(ii: i64, cfg: i64, exe: i64, hw: i64, ro: i64, so: i64) -> serde_json::Value {
    serde_json::json!({
        "instance-identity": ii, "configuration": cfg, "executables": exe,
        "file-system": 0, "hardware": hw, "runtime-opaque": ro,
        "storage-opaque": so, "sourced-data": 0
    })
}

fn platform_good() -> serde_json::Value {
    vector(2, 2, 2, 2, 2, 2)
}

fn realm_good() -> serde_json::Value {
    vector(2, 0, 2, 0, 0, 0)
}

fn all_99() -> serde_json::Value {
    serde_json::json!({
        "instance-identity": 99, "configuration": 99, "executables": 99,
        "file-system": 99, "hardware": 99, "runtime-opaque": 99,
        "storage-opaque": 99, "sourced-data": 99
    })
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

/// Opens a session (`query` chooses the nonce, or the server does), lets
/// `evidence` answer its nonce, submits it as `media_type` and returns the
/// verified EAR.
async fn attest_with(
    app: &TestApp,
    query: &str,
    media_type: &str,
    evidence: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Ear {
    let (session, nonce) = app.session(query).await;
    let response = app.submit(&session, media_type, evidence(&nonce)).await;
    ear_of(app, response).await
}

async fn attest(app: &TestApp, evidence: impl FnOnce(&[u8]) -> Vec<u8>) -> Ear {
    attest_with(app, "", CCA_EVIDENCE_MT, evidence).await
}

/// A fresh Vouch with `device`'s platform and realm CoRIMs provisioned.
async fn app_for(device: &CcaDevice) -> TestApp {
    let app = spawn_app().await;
    app.provision_ok(CCA_PLATFORM_CORIM_MT, device.platform_corim().build())
        .await;
    app.provision_ok(CCA_REALM_CORIM_MT, device.realm_corim().build())
        .await;
    app
}

fn assert_affirming(ear: &Ear, what: &str) {
    assert_eq!(ear.submods.len(), 2, "{what}: {:?}", ear.submods.keys());
    assert_eq!(tv(ear, PLATFORM), platform_good(), "{what}");
    assert_eq!(ear.submods[PLATFORM].status, TrustTier::Affirming, "{what}");
    assert_eq!(tv(ear, REALM), realm_good(), "{what}");
    assert_eq!(ear.submods[REALM].status, TrustTier::Affirming, "{what}");
    for submod in [PLATFORM, REALM] {
        assert_eq!(
            ear.submods[submod].policy_id.as_deref(),
            Some("policy:ARM_CCA"),
            "{what}"
        );
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn minted_devices_are_affirming_for_every_cpak_curve_and_framing() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let device = CcaDevice::generate(curve).unwrap();
        let app = app_for(&device).await;
        for framing in [Framing::EatCollection, Framing::CmwCollection] {
            // A server-chosen nonce, and client-chosen ones of 8 and 64
            // bytes (the realm challenge is the nonce zero-padded).
            for query in [
                "".to_owned(),
                format!("?nonce={}", b64url(&[0x5a; 8])),
                format!("?nonce={}", b64url(&[0xa5; 64])),
            ] {
                let ear = attest_with(&app, &query, CCA_EVIDENCE_MT, |nonce| {
                    device.token(nonce, framing).unwrap()
                })
                .await;
                let what = format!("{curve:?} {framing:?} {query}");
                assert_affirming(&ear, &what);
                let realm = ear.submods[REALM].annotated_evidence.as_ref().unwrap();
                assert_eq!(
                    realm["cca-realm-initial-measurement"],
                    base64::engine::general_purpose::STANDARD.encode(device.rim()),
                    "{what}"
                );
                let platform = ear.submods[PLATFORM].annotated_evidence.as_ref().unwrap();
                assert_eq!(
                    platform["cca-platform-instance-id"],
                    base64::engine::general_purpose::STANDARD.encode(device.instance_id()),
                    "{what}"
                );
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn legacy_encoded_corims_endorse_minted_devices_too() {
    let device = CcaDevice::generate(Curve::P384).unwrap();
    for (platform_mt, realm_mt) in [
        (CCA_PLATFORM_CORIM_LEGACY_MT, CCA_REALM_CORIM_LEGACY_MT),
        (CCA_PLATFORM_CORIM_UNSIGNED_MT, CCA_REALM_CORIM_UNSIGNED_MT),
    ] {
        let app = spawn_app().await;
        app.provision_ok(
            platform_mt,
            device.platform_corim_in(CcaCorimEncoding::Legacy).build(),
        )
        .await;
        app.provision_ok(
            realm_mt,
            device.realm_corim_in(CcaCorimEncoding::Legacy).build(),
        )
        .await;
        let ear = attest(&app, |nonce| {
            device.token(nonce, Framing::CmwCollection).unwrap()
        })
        .await;
        assert_affirming(&ear, platform_mt);
        app.stop().await;
    }
}

#[tokio::test]
async fn broken_tokens_are_never_affirming() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let app = app_for(&device).await;

    // Platform token signed by another key than the provisioned CPAK.
    let wrong = SigningKey::generate(Curve::P256).unwrap();
    let ear = attest(&app, |nonce| device.token_signed_by(nonce, &wrong).unwrap()).await;
    assert_eq!(tv(&ear, CCA), all_99());
    assert_eq!(ear.submods[CCA].status, TrustTier::Contraindicated);
    assert!(
        problem_of(&ear, CCA).starts_with(
            "integrity validation failed: bad evidence: unable to verify platform token"
        ),
        "{}",
        problem_of(&ear, CCA)
    );

    // Realm token signed by another key than the RAK it carries.
    let ear = attest(&app, |nonce| {
        device
            .token_with(
                nonce,
                &MintOptions {
                    realm_signer: Some(SigningKey::generate(Curve::P384).unwrap()),
                    ..MintOptions::default()
                },
            )
            .unwrap()
    })
    .await;
    assert_eq!(tv(&ear, CCA), all_99());
    assert!(problem_of(&ear, CCA).contains("unable to verify realm token"));

    // A realm not bound to the platform: the platform stands, the realm is
    // contraindicated.
    let ear = attest(&app, |nonce| device.token_unbound(nonce).unwrap()).await;
    assert_eq!(tv(&ear, PLATFORM), platform_good());
    assert_eq!(tv(&ear, REALM), all_99());
    assert_eq!(ear.submods[REALM].status, TrustTier::Contraindicated);
    assert!(problem_of(&ear, REALM).contains("not bound to the platform token"));

    // A stale token (another session's nonce).
    let (_, old_nonce) = app.session("").await;
    let stale = device.token(&old_nonce, Framing::CmwCollection).unwrap();
    let ear = attest(&app, |_| stale).await;
    assert_eq!(tv(&ear, CCA), all_99());
    assert!(
        problem_of(&ear, CCA)
            .starts_with("integrity validation failed: bad evidence: freshness: realm challenge ("),
        "{}",
        problem_of(&ear, CCA)
    );

    // A realm challenge that is no zero-padded nonce.
    let ear = attest(&app, |nonce| {
        let mut challenge = [0xff; 64];
        challenge[..nonce.len()].copy_from_slice(nonce);
        device.token_with_realm_challenge(&challenge).unwrap()
    })
    .await;
    assert!(problem_of(&ear, CCA).contains("freshness"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_platforms_realms_and_software_are_not_affirming() {
    let device = CcaDevice::generate(Curve::P384).unwrap();
    let app = app_for(&device).await;

    // An unknown platform.
    let stranger = CcaDevice::generate(Curve::P384).unwrap();
    let ear = attest(&app, |nonce| {
        stranger.token(nonce, Framing::EatCollection).unwrap()
    })
    .await;
    assert_eq!(tv(&ear, CCA), all_99());
    assert_eq!(problem_of(&ear, CCA), "no trust anchor for evidence");

    // An unknown realm on a known platform.
    let ear = attest(&app, |nonce| device.token_with_unknown_rim(nonce).unwrap()).await;
    assert_eq!(tv(&ear, PLATFORM), platform_good());
    assert_eq!(tv(&ear, REALM), vector(2, 0, 33, 0, 0, 0));
    assert_eq!(ear.submods[REALM].status, TrustTier::Warning);

    // Unknown platform software.
    let ear = attest(&app, |nonce| {
        device.token_with_unknown_software(nonce).unwrap()
    })
    .await;
    assert_eq!(tv(&ear, PLATFORM), vector(2, 2, 33, 2, 2, 2));
    assert_eq!(ear.submods[PLATFORM].status, TrustTier::Warning);
    assert_eq!(tv(&ear, REALM), realm_good());

    // Before the realm CoRIM, the realm is unrecognised; the platform is
    // affirming on its own CoRIM.
    let app2 = spawn_app().await;
    app2.provision_ok(CCA_PLATFORM_CORIM_MT, device.platform_corim().build())
        .await;
    let ear = attest(&app2, |nonce| {
        device.token(nonce, Framing::CmwCollection).unwrap()
    })
    .await;
    assert_eq!(tv(&ear, PLATFORM), platform_good());
    assert_eq!(ear.submods[REALM].status, TrustTier::Warning);
    // ... and affirming once it is provisioned.
    app2.provision_ok(CCA_REALM_CORIM_MT, device.realm_corim().build())
        .await;
    let ear = attest(&app2, |nonce| {
        device.token(nonce, Framing::CmwCollection).unwrap()
    })
    .await;
    assert_affirming(&ear, "after the realm CoRIM");
    app2.stop().await;
    app.stop().await;
}

/// Opens a session with the server's nonce, mints Parsec CCA evidence whose
/// KAT nonce is `kat_nonce(session nonce)`, and returns the EAR.
async fn parsec_attest(
    app: &TestApp,
    device: &CcaDevice,
    attested: &vouch_crypto::VerifyingKey,
    options: &ParsecMintOptions,
    kat_nonce: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Ear {
    attest_with(app, "", PARSEC_CCA_EVIDENCE_MT, |nonce| {
        device
            .parsec_evidence(&kat_nonce(nonce), attested, options)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn parsec_cca_attests_the_key_of_an_endorsed_platform() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let device = CcaDevice::generate(curve).unwrap();
        let app = spawn_app().await;
        app.provision_ok(PARSEC_CCA_CORIM_MT, device.parsec_corim().build())
            .await;
        let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
        for framing in [Framing::EatCollection, Framing::CmwCollection] {
            let options = ParsecMintOptions {
                token: MintOptions {
                    framing,
                    ..MintOptions::default()
                },
                ..ParsecMintOptions::default()
            };
            let ear = parsec_attest(&app, &device, &attested, &options, <[u8]>::to_vec).await;
            let submod = &ear.submods[PARSEC];
            assert_eq!(tv(&ear, PARSEC), platform_good(), "{curve:?} {framing:?}");
            assert_eq!(submod.status, TrustTier::Affirming);
            assert_eq!(submod.policy_id.as_deref(), Some("policy:PARSEC_CCA"));
            assert_eq!(
                submod.key_attestation,
                Some(KeyAttestation::from_spki_der(&attested.to_spki_der()))
            );
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn parsec_cca_refuses_stale_unbound_and_foreign_evidence() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let app = spawn_app().await;
    app.provision_ok(PARSEC_CCA_CORIM_MT, device.parsec_corim().build())
        .await;
    let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
    let good = ParsecMintOptions::default();

    // A KAT nonce that is not the session nonce: stale.
    let ear = parsec_attest(&app, &device, &attested, &good, |_| vec![0x11; 32]).await;
    assert_eq!(tv(&ear, PARSEC), all_99());
    assert!(
        problem_of(&ear, PARSEC)
            .starts_with("integrity validation failed: bad evidence: freshness: KAT nonce (1111"),
        "{}",
        problem_of(&ear, PARSEC)
    );
    assert!(ear.submods[PARSEC].key_attestation.is_none());

    // A realm challenge that is not the hash of the KAT.
    let unbound = ParsecMintOptions {
        break_kat_binding: true,
        ..ParsecMintOptions::default()
    };
    let ear = parsec_attest(&app, &device, &attested, &unbound, <[u8]>::to_vec).await;
    assert_eq!(tv(&ear, PARSEC), all_99());
    assert!(problem_of(&ear, PARSEC).contains("PAT-KAT binding check failed"));

    // A PAT signed by another key.
    let foreign = ParsecMintOptions {
        token: MintOptions {
            platform_signer: Some(SigningKey::generate(Curve::P256).unwrap()),
            ..MintOptions::default()
        },
        ..ParsecMintOptions::default()
    };
    let ear = parsec_attest(&app, &device, &attested, &foreign, <[u8]>::to_vec).await;
    assert_eq!(tv(&ear, PARSEC), all_99());
    assert!(problem_of(&ear, PARSEC).contains("PAT validation failed"));

    // A platform whose software is not endorsed: no key.
    // (Its first component is left out of the CoRIM.)
    let app2 = spawn_app().await;
    let mut partial = vouch_testkit::cca::CcaPlatformCorim::new(CcaCorimEncoding::Current);
    partial.parsec().trust_anchor(
        device.implementation_id(),
        device.instance_id(),
        &device.cpak_pem(),
    );
    partial.config(
        device.implementation_id(),
        device.platform_claims().config.clone(),
    );
    for c in &device.platform_claims().sw_components[1..] {
        partial.software_component(
            device.implementation_id(),
            vouch_testkit::cca::CcaSwRef::endorsing(c),
        );
    }
    app2.provision_ok(PARSEC_CCA_CORIM_MT, partial.build())
        .await;
    let ear = parsec_attest(&app2, &device, &attested, &good, <[u8]>::to_vec).await;
    assert_eq!(tv(&ear, PARSEC), vector(2, 2, 33, 2, 2, 2));
    assert_eq!(ear.submods[PARSEC].status, TrustTier::Warning);
    assert!(ear.submods[PARSEC].key_attestation.is_none());
    app2.stop().await;

    // An unknown platform.
    let stranger = CcaDevice::generate(Curve::P256).unwrap();
    let ear = parsec_attest(&app, &stranger, &attested, &good, <[u8]>::to_vec).await;
    assert_eq!(problem_of(&ear, PARSEC), "no trust anchor for evidence");

    // Legacy-encoded Parsec CCA CoRIMs endorse it as well.
    let app3 = spawn_app().await;
    let mut legacy = device.platform_corim_in(CcaCorimEncoding::Legacy);
    legacy.parsec();
    app3.provision_ok(PARSEC_CCA_CORIM_LEGACY_MT, legacy.build())
        .await;
    let ear = parsec_attest(&app3, &device, &attested, &good, <[u8]>::to_vec).await;
    assert_eq!(ear.submods[PARSEC].status, TrustTier::Affirming);
    app3.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn the_well_known_documents_list_the_cca_media_types() {
    let app = spawn_app().await;
    let (verification, provisioning) = app.advertised_media_types().await;
    for mt in [CCA_EVIDENCE_MT, PARSEC_CCA_EVIDENCE_MT] {
        assert!(
            verification.iter().any(|m| m == mt),
            "{mt}: {verification:?}"
        );
    }
    for mt in [
        CCA_PLATFORM_CORIM_MT,
        CCA_REALM_CORIM_MT,
        CCA_PLATFORM_CORIM_LEGACY_MT,
        CCA_REALM_CORIM_LEGACY_MT,
        CCA_PLATFORM_CORIM_UNSIGNED_MT,
        CCA_REALM_CORIM_UNSIGNED_MT,
        PARSEC_CCA_CORIM_MT,
        PARSEC_CCA_CORIM_LEGACY_MT,
        // The signed twins.
        "application/rim+cose; profile=\"tag:arm.com,2025:cca_platform#1.0.0\"",
        "application/rim+cose; profile=\"tag:arm.com,2025:cca_realm#1.0.0\"",
        "application/rim+cose; profile=\"tag:github.com/parallaxsecond,2023-03-03:cca\"",
    ] {
        assert!(
            provisioning.iter().any(|m| m == mt),
            "{mt}: {provisioning:?}"
        );
    }
    // A new session offers both evidence types.
    let body: serde_json::Value = app.new_session("").await.json().await.unwrap();
    let accept = body["accept"].as_array().unwrap();
    for mt in [CCA_EVIDENCE_MT, PARSEC_CCA_EVIDENCE_MT] {
        assert!(accept.iter().any(|m| m == mt), "{mt}: {body}");
    }
    app.stop().await;
}
