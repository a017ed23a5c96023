#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;

use vouch_cca_token::CcaToken;
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Appraisal, TrustClaim, TrustTier};
use vouch_testkit::cca::{
    CcaCorimEncoding, CcaDevice, CcaPlatformCorim, CcaRealmCorim, CcaRealmRef, CcaSwRef, Framing,
};
use vouch_testkit::vectors;

use super::*;

/// What a trust service would hold after provisioning: trust anchors and
/// reference values by store key.
#[derive(Default)]
pub(crate) struct Store {
    anchors: HashMap<Vec<u8>, (Vec<u8>, TrustAnchorKey)>,
    references: HashMap<Vec<u8>, Vec<Vec<u8>>>,
}

impl Store {
    pub(crate) fn provision(
        &mut self,
        scheme: &dyn Scheme,
        profile: &str,
        corim: &[u8],
    ) -> Result<(), EndorsementError> {
        let corim = vouch_corim::decode(corim).unwrap();
        let e = scheme.extract_endorsements(&corim, profile)?;
        for ta in e.trust_anchors {
            self.anchors.insert(ta.id, (ta.reference_id, ta.key));
        }
        for rv in e.reference_values {
            self.references
                .entry(rv.reference_id)
                .or_default()
                .push(rv.body);
        }
        Ok(())
    }

    /// The trust service's pipeline, with its failure texts.
    pub(crate) fn attest(
        &self,
        scheme: &dyn Scheme,
        evidence: &[u8],
        nonce: &[u8],
    ) -> Result<Vec<(String, Appraisal)>, String> {
        let evidence = scheme
            .decode_evidence(evidence)
            .map_err(|_| "could not establish identity from evidence".to_owned())?;
        let (rv_id, key) = self
            .anchors
            .get(evidence.trust_anchor_id())
            .ok_or("no trust anchor for evidence")?;
        evidence
            .verify_integrity(nonce, key)
            .map_err(|e| format!("integrity validation failed: {e}"))?;
        let mut references = Vec::new();
        for id in evidence.reference_ids(rv_id) {
            for body in self.references.get(&id).into_iter().flatten() {
                references.push(scheme.decode_reference_value(body).unwrap());
            }
        }
        evidence.appraise(&references).map_err(|e| e.to_string())
    }
}

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

/// instance-identity, configuration, executables, file-system, hardware,
/// runtime-opaque, storage-opaque, sourced-data.
const PLATFORM_GOOD: [i8; 8] = [2, 2, 2, 0, 2, 2, 2, 0];
const REALM_GOOD: [i8; 8] = [2, 0, 2, 0, 0, 0, 0, 0];

fn submods(result: &[(String, Appraisal)]) -> (&Appraisal, &Appraisal) {
    assert_eq!(result.len(), 2);
    assert_eq!(result[0].0, PLATFORM_SUBMOD);
    assert_eq!(result[1].0, REALM_SUBMOD);
    (&result[0].1, &result[1].1)
}

fn provisioned(device: &CcaDevice) -> Store {
    let mut store = Store::default();
    store
        .provision(&ArmCca, PROFILE_PLATFORM, &device.platform_corim().build())
        .unwrap();
    store
        .provision(&ArmCca, PROFILE_REALM, &device.realm_corim().build())
        .unwrap();
    store
}

#[test]
fn minted_devices_are_affirming_on_every_curve_and_framing() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let device = CcaDevice::generate(curve).unwrap();
        let store = provisioned(&device);
        for framing in [Framing::EatCollection, Framing::CmwCollection] {
            for nonce in [vec![0x42; 32], vec![0x17; 8], vec![0x99; 64]] {
                let token = device.token(&nonce, framing).unwrap();
                let result = store.attest(&ArmCca, &token, &nonce).unwrap();
                let (platform, realm) = submods(&result);
                assert_eq!(tv(platform), PLATFORM_GOOD, "{curve:?} {framing:?}");
                assert_eq!(platform.status, TrustTier::Affirming);
                assert_eq!(tv(realm), REALM_GOOD);
                assert_eq!(realm.status, TrustTier::Affirming);
                let evidence = platform.annotated_evidence.as_ref().unwrap();
                assert_eq!(
                    evidence["cca-platform-sw-components"]
                        .as_array()
                        .unwrap()
                        .len(),
                    4
                );
                let evidence = realm.annotated_evidence.as_ref().unwrap();
                assert!(evidence.contains_key("cca-realm-initial-measurement"));
            }
        }
    }
}

#[test]
fn legacy_corims_endorse_as_current_ones_do() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let mut store = Store::default();
    store
        .provision(
            &ArmCca,
            PROFILE_PLATFORM_LEGACY,
            &device.platform_corim_in(CcaCorimEncoding::Legacy).build(),
        )
        .unwrap();
    store
        .provision(
            &ArmCca,
            PROFILE_REALM_LEGACY,
            &device.realm_corim_in(CcaCorimEncoding::Legacy).build(),
        )
        .unwrap();
    let token = device.token(&[1; 32], Framing::CmwCollection).unwrap();
    let result = store.attest(&ArmCca, &token, &[1; 32]).unwrap();
    let (platform, realm) = submods(&result);
    assert_eq!(tv(platform), PLATFORM_GOOD);
    assert_eq!(tv(realm), REALM_GOOD);

    // The legacy rule: every reference value must be found in the evidence.
    let mut extra = device.platform_corim_in(CcaCorimEncoding::Legacy);
    extra.software_component(
        device.implementation_id(),
        CcaSwRef {
            mtype: "EXTRA".into(),
            version: None,
            signer_id: vec![1; 32],
            digest: vec![2; 32],
        },
    );
    let mut store = Store::default();
    store
        .provision(&ArmCca, PROFILE_PLATFORM_LEGACY, &extra.build())
        .unwrap();
    let result = store.attest(&ArmCca, &token, &[1; 32]).unwrap();
    assert_eq!(
        result[0].1.trust_vector.executables,
        TrustClaim::UNRECOGNIZED_RUNTIME
    );
}

#[test]
fn extraction_keys_anchors_platforms_and_realms_apart() {
    let device = CcaDevice::generate(Curve::P384).unwrap();
    let corim = vouch_corim::decode(&device.platform_corim().build()).unwrap();
    let e = ArmCca
        .extract_endorsements(&corim, PROFILE_PLATFORM)
        .unwrap();
    assert_eq!(e.trust_anchors.len(), 1);
    let ta = &e.trust_anchors[0];
    assert_eq!(
        ta.id,
        trust_anchor_id(&device.implementation_id(), &device.instance_id())
    );
    assert_eq!(
        ta.reference_id,
        platform_reference_id(&device.implementation_id())
    );
    assert_eq!(ta.key, TrustAnchorKey::Key(device.cpak().verifying_key()));
    assert_eq!(e.reference_values.len(), 5);
    let kinds: Vec<CcaReference> = e
        .reference_values
        .iter()
        .map(|rv| serde_json::from_slice(&rv.body).unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| matches!(k, CcaReference::SoftwareComponent(_)))
            .count(),
        4
    );
    assert!(matches!(kinds[4], CcaReference::PlatformConfig(_)));

    let corim = vouch_corim::decode(&device.realm_corim().build()).unwrap();
    let e = ArmCca.extract_endorsements(&corim, PROFILE_REALM).unwrap();
    assert!(e.trust_anchors.is_empty());
    assert_eq!(e.reference_values.len(), 1);
    assert_eq!(
        e.reference_values[0].reference_id,
        realm_reference_id(&device.rim())
    );
    assert_ne!(
        realm_reference_id(&device.rim()[..32]),
        platform_reference_id(&device.rim()[..32].try_into().unwrap())
    );

    // A platform CoRIM is not a realm CoRIM, whatever the media type says.
    let platform = vouch_corim::decode(&device.platform_corim().build()).unwrap();
    let e = ArmCca
        .extract_endorsements(&platform, PROFILE_REALM)
        .unwrap_err();
    assert!(e.0.contains("does not match the media type profile"), "{e}");
    assert!(ArmCca.extract_endorsements(&platform, "urn:other").is_err());
}

#[test]
fn integrity_failures_are_errors_with_veraisons_texts() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let store = provisioned(&device);
    let nonce = [0x42; 32];

    // Stale: the token answers another session.
    let token = device.token(&[0x43; 32], Framing::CmwCollection).unwrap();
    let e = store.attest(&ArmCca, &token, &nonce).unwrap_err();
    assert!(
        e.starts_with("integrity validation failed: bad evidence: freshness: realm challenge ("),
        "{e}"
    );
    assert!(e.ends_with(&format!(
        "does not match session nonce ({})",
        hex::encode(nonce)
    )));

    // A realm challenge that is not a zero-padded nonce.
    let token = device.token_with_realm_challenge(&[0x42; 64]).unwrap();
    assert!(
        store
            .attest(&ArmCca, &token, &nonce)
            .unwrap_err()
            .contains("freshness")
    );

    // Wrong CPAK.
    let wrong = SigningKey::generate(Curve::P256).unwrap();
    let token = device.token_signed_by(&nonce, &wrong).unwrap();
    let e = store.attest(&ArmCca, &token, &nonce).unwrap_err();
    assert!(e.contains("unable to verify platform token"), "{e}");

    // Wrong RAK signature.
    let token = device
        .token_with(
            &nonce,
            &vouch_testkit::cca::MintOptions {
                realm_signer: Some(SigningKey::generate(Curve::P384).unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
    let e = store.attest(&ArmCca, &token, &nonce).unwrap_err();
    assert!(e.contains("unable to verify realm token"), "{e}");

    // Unknown platform.
    let other = CcaDevice::generate(Curve::P256).unwrap();
    let token = other.token(&nonce, Framing::CmwCollection).unwrap();
    assert_eq!(
        store.attest(&ArmCca, &token, &nonce).unwrap_err(),
        "no trust anchor for evidence"
    );

    // Not a token.
    assert_eq!(
        store.attest(&ArmCca, b"\xd2\x80", &nonce).unwrap_err(),
        "could not establish identity from evidence"
    );
}

#[test]
fn an_unbound_realm_is_never_affirming() {
    let device = CcaDevice::generate(Curve::P384).unwrap();
    let store = provisioned(&device);
    let nonce = [5; 32];
    let token = device.token_unbound(&nonce).unwrap();
    let result = store.attest(&ArmCca, &token, &nonce).unwrap();
    let (platform, realm) = submods(&result);
    assert_eq!(tv(platform), PLATFORM_GOOD);
    assert_eq!(tv(realm), [99; 8]);
    assert_eq!(realm.status, TrustTier::Contraindicated);
    let problem = realm.policy_claims.as_ref().unwrap()["problem"]
        .as_str()
        .unwrap();
    assert!(
        problem.contains("not bound to the platform token"),
        "{problem}"
    );
    assert!(problem.contains("binding verification failed"), "{problem}");
}

#[test]
fn platform_mismatches_lower_their_claims() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let store = provisioned(&device);
    let nonce = [3; 32];

    let token = device.token_with_unknown_software(&nonce).unwrap();
    let result = store.attest(&ArmCca, &token, &nonce).unwrap();
    let (platform, realm) = submods(&result);
    assert_eq!(tv(platform), [2, 2, 33, 0, 2, 2, 2, 0]);
    assert_eq!(platform.status, TrustTier::Warning);
    assert_eq!(tv(realm), REALM_GOOD);

    let mut claims = device.platform_claims().clone();
    claims.config = vec![0xee; 4];
    let token = device
        .token_with_claims(&claims, device.realm_claims(), &nonce, &Default::default())
        .unwrap();
    let result = store.attest(&ArmCca, &token, &nonce).unwrap();
    assert_eq!(tv(&result[0].1), [2, 32, 2, 0, 2, 2, 2, 0]);
    assert_eq!(result[0].1.status, TrustTier::Warning);

    // A component whose version differs from the endorsed one.
    let mut claims = device.platform_claims().clone();
    claims.sw_components[1].version = Some("9.9.9".into());
    let token = device
        .token_with_claims(&claims, device.realm_claims(), &nonce, &Default::default())
        .unwrap();
    let result = store.attest(&ArmCca, &token, &nonce).unwrap();
    assert_eq!(result[0].1.trust_vector.executables.0, 33);

    // Fewer components than endorsed is fine under the current rule.
    let mut claims = device.platform_claims().clone();
    claims.sw_components.truncate(2);
    let token = device
        .token_with_claims(&claims, device.realm_claims(), &nonce, &Default::default())
        .unwrap();
    let result = store.attest(&ArmCca, &token, &nonce).unwrap();
    assert_eq!(tv(&result[0].1), PLATFORM_GOOD);

    // A platform out of the secured lifecycle.
    let mut claims = device.platform_claims().clone();
    claims.lifecycle = 0x5000;
    let token = device
        .token_with_claims(&claims, device.realm_claims(), &nonce, &Default::default())
        .unwrap();
    let result = store.attest(&ArmCca, &token, &nonce).unwrap();
    assert_eq!(tv(&result[0].1), [96, 2, 2, 0, 2, 96, 96, 0]);
    assert_eq!(result[0].1.status, TrustTier::Contraindicated);

    // No platform reference values at all.
    let mut store = Store::default();
    let mut corim = CcaPlatformCorim::new(CcaCorimEncoding::Current);
    corim.trust_anchor(
        device.implementation_id(),
        device.instance_id(),
        &device.cpak_pem(),
    );
    store
        .provision(&ArmCca, PROFILE_PLATFORM, &corim.build())
        .unwrap();
    let token = device.token(&nonce, Framing::CmwCollection).unwrap();
    let result = store.attest(&ArmCca, &token, &nonce).unwrap();
    let (platform, realm) = submods(&result);
    assert_eq!(tv(platform), [2, 32, 33, 0, 2, 2, 2, 0]);
    // Nor for the realm.
    assert_eq!(tv(realm), [2, 0, 33, 0, 0, 0, 0, 0]);
    assert_eq!(realm.status, TrustTier::Warning);
}

/// Provisions the device's platform and `realm` as the realm CoRIM, and
/// appraises a good token.
fn realm_verdict(device: &CcaDevice, realms: &[CcaRealmRef]) -> Appraisal {
    let mut store = Store::default();
    store
        .provision(&ArmCca, PROFILE_PLATFORM, &device.platform_corim().build())
        .unwrap();
    if !realms.is_empty() {
        let mut corim = CcaRealmCorim::new(CcaCorimEncoding::Current);
        for r in realms {
            corim.realm(r.clone());
        }
        store
            .provision(&ArmCca, PROFILE_REALM, &corim.build())
            .unwrap();
    }
    let token = device.token(&[8; 32], Framing::EatCollection).unwrap();
    let mut result = store.attest(&ArmCca, &token, &[8; 32]).unwrap();
    result.pop().unwrap().1
}

#[test]
fn realm_reference_values_follow_the_legacy_register_semantics() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let exact = CcaRealmRef::endorsing(device.realm_claims());

    // CCA-03b realm-match: RIM, REMs and RPV match.
    let r = realm_verdict(&device, std::slice::from_ref(&exact));
    assert_eq!((tv(&r)[2], r.status), (2, TrustTier::Affirming));

    // realm-no-realm: nothing for this RIM.
    let r = realm_verdict(&device, &[]);
    assert_eq!((tv(&r)[2], r.status), (33, TrustTier::Warning));
    assert_eq!(tv(&r)[0], 2);

    // realm-no-rem: RIM and RPV only, approved boot.
    let no_rems = CcaRealmRef {
        rems: [None, None, None, None],
        ..exact.clone()
    };
    let r = realm_verdict(&device, &[no_rems]);
    assert_eq!((tv(&r)[2], r.status), (3, TrustTier::Affirming));

    // realm-no-rpv: one realm per RIM.
    let no_rpv = CcaRealmRef {
        rpv: None,
        ..exact.clone()
    };
    let r = realm_verdict(&device, &[no_rpv]);
    assert_eq!((tv(&r)[2], r.status), (2, TrustTier::Affirming));

    // A REM that differs: the boot is approved, the runtime is not.
    let mut rem_mismatch = exact.clone();
    rem_mismatch.rems[2] = Some(vec![0xee; 32]);
    let r = realm_verdict(&device, &[rem_mismatch.clone()]);
    assert_eq!((tv(&r)[2], r.status), (3, TrustTier::Affirming));

    // Only some REMs endorsed, and they match.
    let mut partial = exact.clone();
    partial.rems[1] = None;
    partial.rems[3] = None;
    let r = realm_verdict(&device, &[partial]);
    assert_eq!(tv(&r)[2], 2);

    // The RIM is known for other personalizations only: contraindicated.
    let other_rpv = CcaRealmRef {
        rpv: Some(vec![0xaa; 64]),
        ..exact.clone()
    };
    let r = realm_verdict(&device, std::slice::from_ref(&other_rpv));
    assert_eq!((tv(&r)[2], r.status), (96, TrustTier::Contraindicated));

    // Several realms for one RIM: the best match wins, whatever the order.
    let r = realm_verdict(&device, &[other_rpv.clone(), rem_mismatch, exact.clone()]);
    assert_eq!(tv(&r)[2], 2);
    let r = realm_verdict(&device, &[exact, other_rpv]);
    assert_eq!(tv(&r)[2], 2);
}

#[test]
fn a_realm_reference_with_another_rim_is_a_verifier_malfunction() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let mut wrong = CcaRealmRef::endorsing(device.realm_claims());
    wrong.rim = vec![0x11; 32];
    let realm = RealmReference {
        rim: wrong.rim.clone(),
        rems: Default::default(),
        rpv: None,
    };
    let appraisal = appraisal::appraise_realm(device.realm_claims(), &[&realm]);
    assert_eq!(tv(&appraisal), [-1; 8]);
    assert_eq!(appraisal.status, TrustTier::None);
    assert!(appraisal.policy_claims.is_some());
}

#[test]
fn an_unknown_rim_is_unrecognised() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let store = provisioned(&device);
    let token = device.token_with_unknown_rim(&[4; 32]).unwrap();
    let result = store.attest(&ArmCca, &token, &[4; 32]).unwrap();
    let (platform, realm) = submods(&result);
    assert_eq!(tv(platform), PLATFORM_GOOD);
    assert_eq!(tv(realm), [2, 0, 33, 0, 0, 0, 0, 0]);
    assert_eq!(realm.status, TrustTier::Warning);
}

#[test]
fn bad_minted_corims_are_refused_with_reasons() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let extract = |profile: &str, corim: vouch_corim::Corim| {
        ArmCca
            .extract_endorsements(&corim, profile)
            .unwrap_err()
            .to_string()
    };

    // A realm CoRIM whose cca.rim differs from its class ID.
    let mut corim = device.realm_corim().to_corim();
    if let vouch_corim::ConciseTag::Comid(c) = &mut corim.tags[0] {
        c.triples.reference_triples[0].environment.class = Some(vouch_corim::Class {
            class_id: Some(vouch_corim::ClassId::Bytes(vec![0x12; 32])),
            vendor: None,
            model: None,
            layer: None,
            index: None,
        });
    }
    let e = extract(PROFILE_REALM, corim);
    assert!(e.contains("does not match the RIM"), "{e}");

    // A platform CoRIM with two keys for one anchor, and a private-key PEM.
    let mut corim = device.platform_corim().to_corim();
    if let vouch_corim::ConciseTag::Comid(c) = &mut corim.tags[1] {
        let key = c.triples.attest_key_triples[0].keys[0].clone();
        c.triples.attest_key_triples[0].keys.push(key);
    }
    let e = extract(PROFILE_PLATFORM, corim);
    assert!(e.contains("exactly one entry"), "{e}");
    assert!(e.contains("CoMID 1, attest-key triple 0"), "{e}");
    let mut corim = CcaPlatformCorim::new(CcaCorimEncoding::Current);
    corim.trust_anchor(
        device.implementation_id(),
        device.instance_id(),
        &device.cpak().to_pkcs8_pem(),
    );
    let e = extract(
        PROFILE_PLATFORM,
        vouch_corim::decode(&corim.build()).unwrap(),
    );
    assert!(e.contains("verification-key"), "{e}");

    // An empty CoRIM.
    let empty = CcaPlatformCorim::new(CcaCorimEncoding::Current).to_corim();
    assert!(extract(PROFILE_PLATFORM, empty).contains("no ARM_CCA platform endorsements"));
    let empty = CcaRealmCorim::new(CcaCorimEncoding::Current).to_corim();
    assert!(extract(PROFILE_REALM, empty).contains("no CCA realm reference values"));

    // A realm CoRIM with a trust anchor.
    let mut corim = device.realm_corim().to_corim();
    let platform = device.platform_corim().to_corim();
    corim.tags.push(platform.tags[1].clone());
    assert!(extract(PROFILE_REALM, corim).contains("reference values only"));
}

/// MANIFEST §6: every CCA CoRIM's provisioning outcome (validity aside: the
/// legacy files expired on 2025-12-31, which the trust service refuses
/// before extraction; this checks what extraction itself says).
#[test]
fn vector_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    // (file, profile, None = accept / Some(reason fragment))
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "current/corim-cca-platform-valid.cbor",
            PROFILE_PLATFORM,
            None,
        ),
        (
            "current/corim-cca-platform-bad-no-class.cbor",
            PROFILE_PLATFORM,
            Some("environment.class is required"),
        ),
        (
            "current/corim-cca-platform-bad-refval-cryptokeys.cbor",
            PROFILE_PLATFORM,
            Some("cryptokeys (signer-id) must be of type 'bytes'"),
        ),
        (
            "current/corim-cca-platform-bad-refval-instance.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("instance set for reference value"),
        ),
        (
            "current/corim-cca-platform-bad-refval-instance.cbor",
            PROFILE_PLATFORM,
            Some("does not match the media type profile"),
        ),
        (
            "current/corim-cca-platform-bad-refval-mkey-string.cbor",
            PROFILE_PLATFORM,
            Some("invalid mkey \"cca.bad-component\""),
        ),
        (
            "current/corim-cca-platform-bad-refval-mkey.cbor",
            PROFILE_PLATFORM,
            Some("mkey must be of type 'string', got 'uint'"),
        ),
        (
            "current/corim-cca-platform-bad-refval-no-digests.cbor",
            PROFILE_PLATFORM,
            Some("digests field is mandatory but not set"),
        ),
        (
            "current/corim-cca-platform-bad-refval-no-mkey.cbor",
            PROFILE_PLATFORM,
            Some("mkey is mandatory but not set"),
        ),
        (
            "current/corim-cca-platform-bad-refval-no-raw-value.cbor",
            PROFILE_PLATFORM,
            Some("raw-value is mandatory for cca.platform-config"),
        ),
        (
            "current/corim-cca-platform-bad-ta-cert.cbor",
            PROFILE_PLATFORM,
            Some("verification-key must be of type 'pkix-base64-key', got 'pkix-base64-cert'"),
        ),
        (
            "current/corim-cca-platform-bad-ta-instance.cbor",
            PROFILE_PLATFORM,
            Some("instance-id must be of type 'ueid', got 'bytes'"),
        ),
        (
            "current/corim-cca-platform-bad-ta-no-instance.cbor",
            PROFILE_PLATFORM,
            Some("environment.instance (instance-id) is required"),
        ),
        ("current/corim-cca-realm-valid.cbor", PROFILE_REALM, None),
        (
            "current/corim-cca-realm-bad-instance.cbor",
            PROFILE_REALM,
            Some("RIM must be of type 'bytes', got 'uuid'"),
        ),
        (
            "current/corim-cca-realm-bad-no-instance.cbor",
            PROFILE_REALM,
            Some("environment.class is required for CCA Realm profile"),
        ),
        (
            "current/corim-cca-realm-bad-no-integ-regs.cbor",
            PROFILE_REALM,
            Some("digests field is mandatory but not set"),
        ),
        (
            "current/corim-cca-realm-bad-no-raw-value.cbor",
            PROFILE_REALM,
            Some("raw-value is mandatory for cca.rpv"),
        ),
        (
            "current/corim-cca-realm-bad-no-rim.cbor",
            PROFILE_REALM,
            Some("RIM (cca.rim) measurement is mandatory but not found"),
        ),
        (
            "current/corimlib-cca-platform-valid.cbor",
            PROFILE_PLATFORM,
            None,
        ),
        (
            "current/corimlib-cca-platform-invalid-digests.cbor",
            PROFILE_PLATFORM,
            Some("length mismatch"),
        ),
        (
            "current/corimlib-cca-platform-invalid-impl-id.cbor",
            PROFILE_PLATFORM,
            Some("implementation-id must be exactly 32 bytes"),
        ),
        ("current/corimlib-cca-realm-valid.cbor", PROFILE_REALM, None),
        (
            "current/corimlib-cca-realm-invalid-missing-rim.cbor",
            PROFILE_REALM,
            Some("RIM (cca.rim) measurement is mandatory"),
        ),
        (
            "current/corimlib-cca-realm-invalid-rim-size.cbor",
            PROFILE_REALM,
            Some("RIM must be 32, 48, or 64 bytes"),
        ),
        (
            "current/corimlib-no-profile.cbor",
            PROFILE_PLATFORM,
            Some("no profile information set in CoRIM"),
        ),
        (
            "transitional/corim-cca-platform-valid.cbor",
            PROFILE_PLATFORM_LEGACY,
            None,
        ),
        (
            "transitional/corim-cca-platform-bad-no-class.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("class not set"),
        ),
        (
            "transitional/corim-cca-platform-bad-refval-instance.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("instance set for reference value"),
        ),
        (
            "transitional/corim-cca-platform-bad-refval-mkey.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("measurement 0 key: unexpected type uint"),
        ),
        (
            "transitional/corim-cca-platform-bad-refval-no-digests.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("measurement 0 value: no digests"),
        ),
        (
            "transitional/corim-cca-platform-bad-refval-no-mkey.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("measurement 0 key not set"),
        ),
        (
            "transitional/corim-cca-platform-bad-refval-no-raw-value.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("measurement 0 value: no raw value"),
        ),
        (
            "transitional/corim-cca-platform-bad-ta-cert.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("trust anchor must be a PKIX base64 key, found: pkix-base64-cert"),
        ),
        (
            "transitional/corim-cca-platform-bad-ta-instance.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("instance: expected UEID, got bytes"),
        ),
        (
            "transitional/corim-cca-platform-bad-ta-no-instance.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("instance not set for trust anchor"),
        ),
        (
            "transitional/corim-cca-realm-valid.cbor",
            PROFILE_REALM_LEGACY,
            None,
        ),
        (
            "transitional/corim-cca-realm-bad-instance.cbor",
            PROFILE_REALM_LEGACY,
            Some("instance: expected bytes, got ueid"),
        ),
        (
            "transitional/corim-cca-realm-bad-no-instance.cbor",
            PROFILE_REALM_LEGACY,
            Some("instance not set"),
        ),
        (
            "transitional/corim-cca-realm-bad-no-integ-regs.cbor",
            PROFILE_REALM_LEGACY,
            Some("integrity registers not set"),
        ),
        (
            "transitional/corim-cca-realm-bad-no-raw-value.cbor",
            PROFILE_REALM_LEGACY,
            Some("personalization (raw value) not set"),
        ),
        (
            "legacy/e2e-cca-endorsements.cbor",
            PROFILE_PLATFORM_LEGACY,
            None,
        ),
        (
            "legacy/e2e-cca-endorsements.2025.cbor",
            PROFILE_PLATFORM_LEGACY,
            None,
        ),
        (
            "legacy/e2e-cca-realm-endorsements.cbor",
            PROFILE_REALM_LEGACY,
            None,
        ),
        (
            "legacy/e2e-cca-realm-endorsements.2025.cbor",
            PROFILE_REALM_LEGACY,
            None,
        ),
        (
            "legacy/unsignedCorimCcaComidCcaRefValFour.cbor",
            PROFILE_PLATFORM_LEGACY,
            None,
        ),
        (
            "legacy/unsignedCorimCcaComidCcaRefValOne.cbor",
            PROFILE_PLATFORM_LEGACY,
            None,
        ),
        (
            "legacy/unsignedCorimCcaNoProfileComidCcaRefValFour.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("no profile information set in CoRIM"),
        ),
        (
            "legacy/unsignedCorimCcaNoProfileComidCcaRefValOne.cbor",
            PROFILE_PLATFORM_LEGACY,
            Some("no profile information set in CoRIM"),
        ),
        (
            "legacy/unsignedCorimCcaRealmComidCcaRealm.cbor",
            PROFILE_REALM_LEGACY,
            None,
        ),
        (
            "legacy/unsignedCorimCcaRealmComidCcaRealmInvalidClass.cbor",
            PROFILE_REALM_LEGACY,
            Some("class ID: expected uuid, got psa.impl-id"),
        ),
        (
            "legacy/unsignedCorimCcaRealmComidCcaRealmInvalidInstance.cbor",
            PROFILE_REALM_LEGACY,
            Some("instance: expected bytes, got ueid"),
        ),
        // Veraison's KV-store era accepted this one (RPV optional); its
        // transitional successor, whose rules Vouch follows for this profile,
        // requires the personalization value.
        (
            "legacy/unsignedCorimCcaRealmComidCcaRealmNoClass.cbor",
            PROFILE_REALM_LEGACY,
            Some("personalization (raw value) not set"),
        ),
        (
            "legacy/unsignedCorimCcaRealmComidCcaRealmNoInstance.cbor",
            PROFILE_REALM_LEGACY,
            Some("instance not set"),
        ),
    ];
    let mut seen = std::collections::HashSet::new();
    for (file, profile, refusal) in cases {
        seen.insert(*file);
        let bytes = vectors::read(&dir, &format!("cca/corim/{file}"));
        let corim = vouch_corim::decode(&bytes).unwrap();
        let got = ArmCca.extract_endorsements(&corim, profile);
        match (refusal, got) {
            (None, Ok(e)) => assert!(
                !e.trust_anchors.is_empty() || !e.reference_values.is_empty(),
                "{file}"
            ),
            (None, Err(e)) => panic!("{file}: refused: {e}"),
            (Some(reason), Ok(_)) => panic!("{file}: accepted, expected {reason:?}"),
            (Some(reason), Err(e)) => assert!(e.0.contains(reason), "{file}: {e}"),
        }
    }
    // Every CoRIM in the folder is covered.
    for sub in ["current", "transitional", "legacy"] {
        for entry in std::fs::read_dir(dir.join("cca/corim").join(sub)).unwrap() {
            let name = format!("{sub}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(seen.contains(name.as_str()), "{name} not covered");
        }
    }
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    vectors::read(dir, file)
}

fn vector_store(dir: &Path, corims: &[(&str, &str)]) -> Store {
    let mut store = Store::default();
    for (profile, file) in corims {
        store
            .provision(&ArmCca, profile, &read(dir, &format!("cca/corim/{file}")))
            .unwrap();
    }
    store
}

const NONCE64_HEX: &str = "6f24d6b9635a2c8bbf58e908b94e04c1bfb3ae80cdebe832424578499fe31761e7f5e1d8bce0121844f54abdfa5286da88f53a657b15335c9396b4329254bc5c";

#[test]
fn vector_tokens_reach_the_manifest_verdicts() {
    let Some(dir) = vectors::dir() else { return };
    let nonce64 = hex::decode(NONCE64_HEX).unwrap();
    let abab: Vec<u8> = b"AB".repeat(32);
    for corims in [
        [
            (PROFILE_PLATFORM, "current/corim-cca-platform-valid.cbor"),
            (PROFILE_REALM, "current/corim-cca-realm-valid.cbor"),
        ],
        [
            (
                PROFILE_PLATFORM_LEGACY,
                "transitional/corim-cca-platform-valid.cbor",
            ),
            (
                PROFILE_REALM_LEGACY,
                "transitional/corim-cca-realm-valid.cbor",
            ),
        ],
        [
            (PROFILE_PLATFORM_LEGACY, "legacy/e2e-cca-endorsements.cbor"),
            (
                PROFILE_REALM_LEGACY,
                "legacy/e2e-cca-realm-endorsements.2025.cbor",
            ),
        ],
    ] {
        let store = vector_store(&dir, &corims);
        // CCA-01 and CCA-03: affirming platform and realm.
        for (token, nonce) in [
            (
                "cca/tokens/veraison-cca-good.services-scheme.cbor",
                &nonce64,
            ),
            ("cca/derived/cca-good.integration.cbor", &nonce64),
            ("cca/derived/cca-good.integration.cmw907.cbor", &nonce64),
            ("cca/tokens/veraison-cca.services-e2e.cbor", &abab),
            ("cca/tokens/veraison-cca.services-e2e.2025.cbor", &abab),
            (
                "cca/tokens/veraison-cca-rawrak.services-unit.2025.cbor",
                &abab,
            ),
        ] {
            let result = store.attest(&ArmCca, &read(&dir, token), nonce).unwrap();
            let (platform, realm) = submods(&result);
            assert_eq!(tv(platform), PLATFORM_GOOD, "{token} {corims:?}");
            assert_eq!(tv(realm), REALM_GOOD, "{token} {corims:?}");
        }
        // CCA-04: real bytes, software mismatch.
        for token in [
            "cca/tokens/evcli-cca-token.cbor",
            "cca/tokens/rust-cca-token-02.cbor",
            "cca/tokens/ccatoken-gotest-good.cmw907.cbor",
            "cca/tokens/ccatoken-gotest-good.legacy399.cbor",
        ] {
            let result = store.attest(&ArmCca, &read(&dir, token), &abab).unwrap();
            let (platform, realm) = submods(&result);
            assert_eq!(tv(platform), [2, 2, 33, 0, 2, 2, 2, 0], "{token}");
            assert_eq!(platform.status, TrustTier::Warning);
            assert_eq!(tv(realm), REALM_GOOD, "{token}");
        }
        // CCA-02: freshness.
        let e = store
            .attest(
                &ArmCca,
                &read(&dir, "cca/derived/cca-good.integration.cbor"),
                &abab,
            )
            .unwrap_err();
        assert!(e.contains("freshness: realm challenge (6f24d6b9"), "{e}");
    }
}

/// A current-encoding platform CoRIM for a TF-RMM token's platform (CCA-05,
/// CCA-06): the TF-RMM CPAK and the token's own software and configuration.
fn tfrmm_store(dir: &Path, token: &CcaToken) -> Store {
    let pem = String::from_utf8(read(dir, "cca/keys/tfrmm-cca_platform.pub")).unwrap();
    let claims = token.platform_claims();
    let mut corim = CcaPlatformCorim::new(CcaCorimEncoding::Current);
    corim.trust_anchor(claims.implementation_id, claims.instance_id, &pem);
    for c in &claims.sw_components {
        corim.software_component(claims.implementation_id, CcaSwRef::endorsing(c));
    }
    corim.config(claims.implementation_id, claims.config.clone());
    let mut store = Store::default();
    store
        .provision(&ArmCca, PROFILE_PLATFORM, &corim.build())
        .unwrap();
    store
}

#[test]
fn genuine_tf_rmm_tokens_verify_and_bug_33_is_caught() {
    let Some(dir) = vectors::dir() else { return };
    // CCA-05.
    for file in [
        "cca/tokens/tfrmm-cca-token.cbor",
        "cca/tokens/tfa-cca-token-draft-ffm-00.cbor",
        "cca/tokens/ccatoken-gotest-rmm.cmw907.cbor",
    ] {
        let bytes = read(&dir, file);
        let token = CcaToken::decode(&bytes).unwrap();
        let store = tfrmm_store(&dir, &token);
        let nonce = token.realm_challenge().to_vec();
        let result = store.attest(&ArmCca, &bytes, &nonce).unwrap();
        let (platform, realm) = submods(&result);
        assert_eq!(tv(platform), PLATFORM_GOOD, "{file}");
        // No realm reference values for these RIMs.
        assert_eq!(tv(realm), [2, 0, 33, 0, 0, 0, 0, 0], "{file}");
    }
    // CCA-06: the platform verifies, the realm is not bound to it.
    let bytes = read(&dir, "cca/tokens/tfa-cca-bug-33-repro.cbor");
    let token = CcaToken::decode(&bytes).unwrap();
    let store = tfrmm_store(&dir, &token);
    let result = store
        .attest(&ArmCca, &bytes, token.realm_challenge())
        .unwrap();
    let (platform, realm) = submods(&result);
    assert_eq!(platform.trust_vector.instance_identity.0, 2);
    assert_eq!(realm.trust_vector.instance_identity.0, 99);
    assert_ne!(realm.status, TrustTier::Affirming);
}

#[test]
fn negative_vector_tokens_establish_no_identity() {
    let Some(dir) = vectors::dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cca/negative"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let e = ArmCca
            .decode_evidence(&std::fs::read(&file).unwrap())
            .err()
            .unwrap_or_else(|| panic!("{} decoded", file.display()));
        assert!(!e.0.is_empty());
    }
}

#[test]
fn truncated_and_corrupted_tokens_never_panic() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let token = device.token(&[1; 32], Framing::CmwCollection).unwrap();
    for len in 0..token.len() {
        assert!(ArmCca.decode_evidence(&token[..len]).is_err(), "{len}");
    }
    for i in 0..token.len() {
        let mut bad = token.clone();
        bad[i] ^= 0x5a;
        // Whatever decodes must still fail or pass verification cleanly.
        if let Ok(e) = ArmCca.decode_evidence(&bad) {
            let key = TrustAnchorKey::Key(device.cpak().verifying_key());
            let _ = e.verify_integrity(&[1; 32], &key);
        }
    }
}
