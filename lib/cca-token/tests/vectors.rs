//! The shared conformance vectors (MANIFEST.md §1, §2, §3 CCA-01…CCA-07, §5b,
//! §7 cca/claims, §9.3 and §9.8c), read at run time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::Digest as _;
use vouch_cca_token::{
    CcaError, CcaToken, Framing, ParsecCcaEvidence, PlatformClaims, PlatformProfile, RakForm,
    RealmClaims, claims_from_json,
};
use vouch_crypto::{Algorithm, VerifyingKey};
use vouch_testkit::vectors;

/// Fingerprints from MANIFEST §2 / §9.5: the first 16 hex digits of
/// SHA-256(SPKI DER).
const EC_P256: &str = "51b944cdfa544d4c";
const EC_P256_ALT: &str = "4222feac9b97e812";
const EC_P384: &str = "7702f967b682116e";
const TFRMM_CPAK: &str = "0928f896cb023265";
const TFRMM_RAK: &str = "8b0867300bcb3799";
const RUST_PKEY: &str = "b523aebcba34bfcd";
const CCATOKEN_RAK: &str = "20169a79db725bc4";
const CCATOKEN_ALT_IAK: &str = "926916ec8928df44";
const PARSEC_KAT_KEY: &str = "2cac306dc70542c9";

fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(sha2::Sha256::digest(key.to_spki_der()))[..16].to_owned()
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    vectors::read(dir, rel)
}

fn json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&read(dir, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every key that could be a CPAK, by fingerprint label.
fn candidate_keys(dir: &Path) -> Vec<(&'static str, VerifyingKey)> {
    let jwk = |rel: &str| VerifyingKey::from_jwk(&json(dir, rel)).expect(rel);
    let pem =
        |rel: &str| VerifyingKey::from_pem(&String::from_utf8(read(dir, rel)).unwrap()).expect(rel);
    let keys = vec![
        (EC_P256, jwk("cca/keys/ec.p256.jwk")),
        (EC_P256_ALT, jwk("psa/keys/ec.p256.alt.jwk")),
        (EC_P384, jwk("cca/keys/ec.p384.jwk")),
        (TFRMM_CPAK, pem("cca/keys/tfrmm-cca_platform.pub")),
        (RUST_PKEY, jwk("cca/keys/rust-pkey.json")),
        (CCATOKEN_RAK, jwk("cca/keys/ccatoken-test-rak.p384.jwk")),
        (CCATOKEN_ALT_IAK, jwk("cca/keys/ccatoken-test-alt-iak.jwk")),
    ];
    for (label, key) in &keys {
        assert_eq!(&fingerprint(key), label, "key file for {label}");
    }
    // The other copies of the TF-RMM CPAK are the same key.
    assert_eq!(fingerprint(&jwk("cca/keys/rust-cpak.json")), TFRMM_CPAK);
    assert_eq!(fingerprint(&jwk("parsec-cca/keys/ec.p256.jwk")), EC_P256);
    keys
}

fn setup() -> Option<(PathBuf, Vec<(&'static str, VerifyingKey)>)> {
    let dir = vectors::dir()?;
    let keys = candidate_keys(&dir);
    Some((dir, keys))
}

fn key<'a>(keys: &'a [(&'static str, VerifyingKey)], label: &str) -> &'a VerifyingKey {
    &keys.iter().find(|(l, _)| *l == label).unwrap().1
}

/// What MANIFEST §5b says of one token.
struct Expect {
    path: &'static str,
    framing: Framing,
    cpak: &'static str,
    platform_profile: PlatformProfile,
    platform_challenge_len: usize,
    sw_components: usize,
    rak: &'static str,
    rak_form: RakForm,
    rak_hash: &'static str,
    rim_len: usize,
    binding_ok: bool,
}

impl Expect {
    /// A Veraison test token: tag 399, CPAK ec.p256, RAK ec.p384 as a
    /// COSE_Key, legacy platform profile, four components, sha-256 binding.
    fn veraison(path: &'static str) -> Self {
        Self {
            path,
            framing: Framing::EatCollection,
            cpak: EC_P256,
            platform_profile: PlatformProfile::CcaSsd,
            platform_challenge_len: 32,
            sw_components: 4,
            rak: EC_P384,
            rak_form: RakForm::CoseKey,
            rak_hash: "sha-256",
            rim_len: 64,
            binding_ok: true,
        }
    }

    /// A TF-A/TF-RMM token: CPAK tfrmm (P-384), raw RAK tfrmm-rak, RIM 32 B.
    fn tfrmm(path: &'static str) -> Self {
        Self {
            cpak: TFRMM_CPAK,
            rak: TFRMM_RAK,
            rak_form: RakForm::Raw,
            rim_len: 32,
            ..Self::veraison(path)
        }
    }

    fn platform_alg(&self) -> Algorithm {
        if self.cpak == TFRMM_CPAK {
            Algorithm::Es384
        } else {
            Algorithm::Es256
        }
    }
}

fn table() -> Vec<Expect> {
    use Framing::CmwCollection as Cmw;
    use PlatformProfile::CcaPlatform as Current;
    use RakForm::Raw;
    let gotest = |path| Expect {
        platform_profile: Current,
        platform_challenge_len: 64,
        sw_components: 1,
        rak: CCATOKEN_RAK,
        rak_hash: "sha-512",
        ..Expect::veraison(path)
    };
    let legacy_raw = |path, sw_components| Expect {
        platform_challenge_len: 64,
        sw_components,
        rak_form: Raw,
        rak_hash: "sha-512",
        ..Expect::veraison(path)
    };
    vec![
        Expect::veraison("cca/tokens/veraison-cca-good.services-scheme.cbor"),
        Expect {
            platform_challenge_len: 64,
            rak_hash: "sha-512",
            ..Expect::veraison("cca/tokens/veraison-cca.services-e2e.cbor")
        },
        Expect::veraison("cca/tokens/veraison-cca.services-e2e.2025.cbor"),
        legacy_raw("cca/tokens/veraison-cca-rawrak.services-unit.2025.cbor", 4),
        legacy_raw("cca/tokens/evcli-cca-token.cbor", 1),
        legacy_raw("cca/tokens/rust-cca-token-02.cbor", 1),
        Expect::tfrmm("cca/tokens/tfrmm-cca-token.cbor"),
        Expect {
            platform_profile: Current,
            sw_components: 13,
            rak_form: RakForm::CoseKey,
            ..Expect::tfrmm("cca/tokens/tfa-cca-token-draft-ffm-00.cbor")
        },
        Expect {
            sw_components: 16,
            rim_len: 64,
            binding_ok: false,
            ..Expect::tfrmm("cca/tokens/tfa-cca-bug-33-repro.cbor")
        },
        Expect {
            framing: Cmw,
            ..gotest("cca/tokens/ccatoken-gotest-good.cmw907.cbor")
        },
        gotest("cca/tokens/ccatoken-gotest-good.legacy399.cbor"),
        Expect {
            framing: Cmw,
            ..Expect::tfrmm("cca/tokens/ccatoken-gotest-rmm.cmw907.cbor")
        },
        Expect {
            platform_profile: Current,
            ..Expect::veraison("cca/derived/cca-good.integration.cbor")
        },
        Expect {
            framing: Cmw,
            platform_profile: Current,
            ..Expect::veraison("cca/derived/cca-good.integration.cmw907.cbor")
        },
    ]
}

fn decode(dir: &Path, rel: &str) -> CcaToken {
    CcaToken::decode(&read(dir, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_cca_token_decodes_and_verifies_as_the_manifest_says() {
    let Some((dir, keys)) = setup() else { return };
    let table = table();
    // Every file under cca/tokens and cca/derived is covered.
    for sub in ["cca/tokens", "cca/derived"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = format!("{sub}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(
                table.iter().any(|e| e.path == name),
                "{name} has no expectation"
            );
        }
    }
    for e in &table {
        let t = decode(&dir, e.path);
        let p = t.platform_claims();
        let r = t.realm_claims();
        assert_eq!(t.framing(), e.framing, "{}", e.path);
        assert_eq!(
            t.platform_algorithm().unwrap(),
            e.platform_alg(),
            "{}",
            e.path
        );
        assert_eq!(t.realm_algorithm().unwrap(), Algorithm::Es384, "{}", e.path);
        assert_eq!(p.profile, e.platform_profile, "{}", e.path);
        assert_eq!(p.challenge.len(), e.platform_challenge_len, "{}", e.path);
        assert_eq!(p.sw_components.len(), e.sw_components, "{}", e.path);
        assert_eq!(r.public_key.form(), e.rak_form, "{}", e.path);
        // The legacy raw RAK goes with a profile-less realm token.
        assert_eq!(
            r.profile.is_none(),
            e.rak_form == RakForm::Raw,
            "{}",
            e.path
        );
        assert_eq!(fingerprint(r.public_key.key()), e.rak, "{}", e.path);
        assert_eq!(r.public_key_hash_algo_id, e.rak_hash, "{}", e.path);
        assert_eq!(r.initial_measurement.len(), e.rim_len, "{}", e.path);
        if let Some((pt, rt)) = t.cmw_types() {
            assert_eq!(
                (pt, rt),
                (
                    &vouch_cca_token::CmwType::ContentFormat(263),
                    &vouch_cca_token::CmwType::ContentFormat(263)
                )
            );
        }

        // Exactly the manifest's CPAK verifies the platform token.
        for (label, k) in &keys {
            let result = t.verify_platform(k);
            if *label == e.cpak {
                result.unwrap_or_else(|err| panic!("{}: {label}: {err}", e.path));
            } else {
                assert!(
                    matches!(result, Err(CcaError::PlatformSignature(_))),
                    "{}: {label} must not verify the platform",
                    e.path
                );
            }
        }
        t.verify_realm()
            .unwrap_or_else(|err| panic!("{}: {err}", e.path));
        let cpak = key(&keys, e.cpak);
        if e.binding_ok {
            t.verify_binding().unwrap();
            t.verify(cpak).unwrap();
        } else {
            let err = t.verify_binding().unwrap_err();
            assert!(matches!(err, CcaError::Binding { .. }), "{err}");
            assert!(err.to_string().starts_with(
                "binding verification failed: platform nonce does not match RAK hash"
            ));
            // The convenience check gets past both signatures and stops at
            // the binding: the realm must not be trusted.
            assert!(matches!(t.verify(cpak), Err(CcaError::Binding { .. })));
        }
        // The tokens are kept exactly as carried: re-wrapped in the other
        // framing, they decode to the same claims and still verify.
        assert_eq!(
            &PlatformClaims::decode(t.platform_sign1().payload().unwrap()).unwrap(),
            p
        );
        let other = match e.framing {
            Framing::EatCollection => Framing::CmwCollection,
            Framing::CmwCollection => Framing::EatCollection,
        };
        let rewrapped = CcaToken::decode(&vouch_cca_token::mint::encode_collection(
            other,
            t.platform_token(),
            t.realm_token(),
        ))
        .unwrap();
        assert_eq!(rewrapped.framing(), other);
        assert_eq!(rewrapped.platform_claims(), p);
        assert_eq!(rewrapped.realm_claims(), r);
        rewrapped.verify_platform(cpak).unwrap();
        rewrapped.verify_realm().unwrap();
    }
}

#[test]
fn realm_challenges_match_the_manifest() {
    let Some((dir, _)) = setup() else { return };
    let nonce64 = hex::decode(
        "6f24d6b9635a2c8bbf58e908b94e04c1bfb3ae80cdebe832424578499fe31761\
         e7f5e1d8bce0121844f54abdfa5286da88f53a657b15335c9396b4329254bc5c",
    )
    .unwrap();
    for rel in [
        "cca/tokens/veraison-cca-good.services-scheme.cbor",
        "cca/derived/cca-good.integration.cbor",
        "cca/derived/cca-good.integration.cmw907.cbor",
    ] {
        let t = decode(&dir, rel);
        assert_eq!(
            t.realm_challenge(),
            &vouch_cca_token::realm_challenge_for_nonce(&nonce64).unwrap(),
            "{rel}"
        );
    }
    let abab = b"AB".repeat(32);
    for rel in [
        "cca/tokens/veraison-cca.services-e2e.cbor",
        "cca/tokens/veraison-cca.services-e2e.2025.cbor",
        "cca/tokens/veraison-cca-rawrak.services-unit.2025.cbor",
        "cca/tokens/evcli-cca-token.cbor",
        "cca/tokens/ccatoken-gotest-good.cmw907.cbor",
    ] {
        assert_eq!(&decode(&dir, rel).realm_challenge()[..], &abab[..], "{rel}");
    }
    assert_eq!(
        decode(&dir, "cca/tokens/tfrmm-cca-token.cbor").realm_challenge(),
        &[0xab; 64]
    );
}

#[test]
fn claims_spot_checks() {
    let Some((dir, _)) = setup() else { return };
    let t = decode(&dir, "cca/tokens/tfrmm-cca-token.cbor");
    let p = t.platform_claims();
    assert_eq!(
        hex::encode(p.implementation_id),
        "7f454c4602010100000000000000000003003e00010000005058000000000000"
    );
    assert_eq!(p.lifecycle, 12291);
    assert_eq!(
        p.lifecycle_state(),
        Some(vouch_cca_token::LifecycleState::Secured)
    );
    assert_eq!(p.verification_service.as_deref(), Some("whatever.com"));
    assert_eq!(p.sw_components[0].measurement_type.as_deref(), Some("BL"));
    assert_eq!(p.sw_components[0].version.as_deref(), Some("3.4.2"));
    assert_eq!(p.sw_components[0].hash_algo_id.as_deref(), Some("sha-256"));
    assert_eq!(p.sw_components[1].hash_algo_id, None);
    assert_eq!(
        &t.realm_claims().personalization_value[..],
        b"The quick brown fox jumps over 13 lazy dogs.The quick brown fox "
    );

    let t = decode(&dir, "cca/tokens/tfa-cca-bug-33-repro.cbor");
    assert_eq!(t.realm_claims().hash_algo_id, "sha-512");
    assert_eq!(hex::encode(&t.platform_claims().config), "cfcfcfcf");

    let t = decode(&dir, "cca/tokens/evcli-cca-token.cbor");
    let sw = &t.platform_claims().sw_components[0];
    assert_eq!(sw.measurement_type, None);
    assert_eq!(&sw.measurement_value[..], &[3; 32]);
    assert_eq!(&sw.signer_id[..], &[4; 32]);
    assert_eq!(t.realm_claims().public_key.bytes().len(), 97);
}

fn annotated(v: &Value, submod: &str) -> Value {
    v[submod]["ear.veraison.annotated-evidence"].clone()
}

#[test]
fn annotated_evidence_matches_veraison_results() {
    let Some((dir, _)) = setup() else { return };
    for expected in [
        "cca/expected/cca.good.json",
        "cca/expected/cca.verify-challenge.json",
    ] {
        let want = json(&dir, expected);
        for rel in [
            "cca/derived/cca-good.integration.cbor",
            "cca/derived/cca-good.integration.cmw907.cbor",
        ] {
            let t = decode(&dir, rel);
            assert_eq!(
                t.platform_claims().annotated_evidence(),
                annotated(&want, "CCA_SSD_PLATFORM"),
                "{rel} vs {expected}"
            );
            assert_eq!(
                t.realm_claims().annotated_evidence(),
                annotated(&want, "CCA_REALM"),
                "{rel} vs {expected}"
            );
        }
    }
    // The services token differs only in the platform profile string.
    let want = json(&dir, "cca/expected/cca.end-to-end.json");
    let t = decode(&dir, "cca/tokens/veraison-cca-good.services-scheme.cbor");
    assert_eq!(
        t.platform_claims().annotated_evidence(),
        annotated(&want, "CCA_SSD_PLATFORM")
    );
    assert_eq!(
        t.realm_claims().annotated_evidence(),
        annotated(&want, "CCA_REALM")
    );
    // The JSON view reads back to the same claims, for every token.
    for e in table() {
        let t = decode(&dir, e.path);
        let p = t.platform_claims();
        let r = t.realm_claims();
        assert_eq!(
            &PlatformClaims::from_json(&p.annotated_evidence()).unwrap(),
            p,
            "{}",
            e.path
        );
        assert_eq!(
            &RealmClaims::from_json(&r.annotated_evidence()).unwrap(),
            r,
            "{}",
            e.path
        );
    }
}

#[test]
fn malformed_evidence_is_rejected_cleanly() {
    let Some((dir, _)) = setup() else { return };
    let err = |rel: &str| match CcaToken::decode(&read(&dir, rel)) {
        Ok(_) => panic!("{rel} must be rejected"),
        Err(e) => e,
    };
    let e = err("cca/negative/ccatoken-bad-unwrapped.cmw907.cbor");
    assert!(matches!(e, CcaError::Collection(_)), "{e}");
    assert!(
        e.to_string()
            .contains("entry 44234: CMW record value: expected a byte string, found tag"),
        "{e}"
    );
    let e = err("cca/negative/wrong-top-level-tag18.cbor");
    assert!(matches!(e, CcaError::Collection(_)), "{e}");
    assert!(e.to_string().contains("wrong tag number") && e.to_string().contains("got [18]"));
    let e = err("cca/negative/platform-token-not-set.cmw907.cbor");
    assert_eq!(e.to_string(), "CCA platform token not set");
    let e = err("cca/negative/realm-token-not-set.cmw907.cbor");
    assert_eq!(e.to_string(), "CCA realm token not set");
    let e = err("cca/negative/missing-sign1-tag.cmw907.cbor");
    assert!(matches!(e, CcaError::PlatformEnvelope(_)), "{e}");
    assert!(e.to_string().contains("decoding of CCA evidence failed"));
    let e = err("cca/negative/empty-sign1.cmw907.cbor");
    assert!(matches!(e, CcaError::PlatformClaimsDecode(_)), "{e}");
    assert!(e.to_string().contains("decoding of CCA evidence failed"));
    // Every negative is covered above.
    assert_eq!(
        std::fs::read_dir(dir.join("cca/negative")).unwrap().count(),
        6
    );
}

// ------------------------------------------------------------ claims vectors

fn platform_cbor(dir: &Path, name: &str) -> Result<PlatformClaims, CcaError> {
    PlatformClaims::decode(&read(dir, &format!("cca/claims/{name}")))
}

fn realm_cbor(dir: &Path, name: &str) -> Result<RealmClaims, CcaError> {
    RealmClaims::decode(&read(dir, &format!("cca/claims/{name}")))
}

fn ends(e: CcaError, tail: &str) {
    assert!(
        e.to_string().ends_with(tail),
        "{e}\n  expected to end with: {tail}"
    );
}

#[test]
fn ccatoken_cbor_claims() {
    let Some((dir, _)) = setup() else { return };
    for (name, profile, vsi) in [
        (
            "ccatoken-cbor/CcaPlatformClaimsAll.cbor",
            PlatformProfile::CcaPlatform,
            true,
        ),
        (
            "ccatoken-cbor/CcaPlatformClaimsMandatoryOnly.cbor",
            PlatformProfile::CcaPlatform,
            false,
        ),
        (
            "ccatoken-cbor/CcaPlatformLegacyClaimsAll.cbor",
            PlatformProfile::CcaSsd,
            true,
        ),
        (
            "ccatoken-cbor/CcaPlatformLegacyClaimsMandatoryOnly.cbor",
            PlatformProfile::CcaSsd,
            false,
        ),
    ] {
        let c = platform_cbor(&dir, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(c.profile, profile, "{name}");
        assert_eq!(c.verification_service.is_some(), vsi, "{name}");
        assert_eq!(&c.challenge[..], &[1; 32]);
        // Encoding reproduces ccatoken's bytes exactly.
        assert_eq!(
            c.to_cbor(),
            read(&dir, &format!("cca/claims/{name}")),
            "{name}"
        );
    }
    ends(
        platform_cbor(
            &dir,
            "ccatoken-cbor/CcaPlatformClaimsMissingMandatoryNonce.cbor",
        )
        .unwrap_err(),
        "validating nonce: missing mandatory claim",
    );
    ends(
        platform_cbor(
            &dir,
            "ccatoken-cbor/CcaPlatformClaimsInvalidMultiNonce.cbor",
        )
        .unwrap_err(),
        "validating nonce: wrong syntax: got 2 nonces, want 1",
    );

    let all = realm_cbor(&dir, "ccatoken-cbor/CcaRealmClaimsAll.cbor").unwrap();
    assert_eq!(all.public_key.form(), RakForm::CoseKey);
    assert_eq!(
        all.to_cbor(),
        read(&dir, "cca/claims/ccatoken-cbor/CcaRealmClaimsAll.cbor")
    );
    let legacy = realm_cbor(&dir, "ccatoken-cbor/CcaRealmLegacyClaimsAll.cbor").unwrap();
    assert_eq!(legacy.public_key.form(), RakForm::Raw);
    assert_eq!(legacy.profile, None);
    for (name, tail) in [
        (
            "CcaRealmClaimsMissingMandNonce",
            "validating realm challenge claim: missing mandatory claim",
        ),
        (
            "CcaClaimsMissingMandInitialMeas",
            "validating realm initial measurements claim: missing mandatory claim",
        ),
        (
            "CcaClaimsMissingMandHashAlgID",
            "validating realm hash alg ID claim: missing mandatory claim",
        ),
        (
            "CcaClaimsMissingMandPubKey",
            "validating realm public key claim: missing mandatory claim",
        ),
        (
            "CcaClaimsMissingMandExtendedMeas",
            "validating realm extended measurements claim: missing mandatory claim",
        ),
    ] {
        let e = realm_cbor(&dir, &format!("ccatoken-cbor/{name}.cbor")).unwrap_err();
        assert!(
            matches!(e, CcaError::RealmClaimsInvalid { .. }),
            "{name}: {e}"
        );
        ends(e, tail);
    }
}

#[test]
fn rust_ccatoken_claims() {
    let Some((dir, _)) = setup() else { return };
    let p = platform_cbor(&dir, "rust-cbor/platform-claims.cbor").unwrap();
    assert_eq!(p.challenge.len(), 64);
    assert_eq!(p.sw_components.len(), 2);
    assert_eq!(p.sw_components[0].hash_algo_id.as_deref(), Some("sha-256"));
    let base = realm_cbor(&dir, "rust-cbor/realm-claims.cbor").unwrap();
    assert_eq!(base.public_key.form(), RakForm::Raw);
    assert_eq!(fingerprint(base.public_key.key()), TFRMM_RAK);
    // Unknown claims, integer or text keyed, are ignored.
    for name in [
        "rust-cbor/realm-claims+spurious-numeric-key.cbor",
        "rust-cbor/realm-claims+spurious-text-key.cbor",
    ] {
        assert_eq!(realm_cbor(&dir, name).unwrap(), base, "{name}");
    }
    ends(
        realm_cbor(&dir, "rust-cbor/realm-claims-missing-challenge.cbor").unwrap_err(),
        "validating realm challenge claim: missing mandatory claim",
    );
}

#[test]
fn ccatoken_json_claims() {
    let Some((dir, _)) = setup() else { return };
    let platform = |name: &str| {
        PlatformClaims::from_json(&json(&dir, &format!("cca/claims/ccatoken-json/{name}")))
    };
    let p = platform("platform-test-token-valid-full.json").unwrap();
    assert_eq!(p.profile, PlatformProfile::CcaSsd);
    assert_eq!(
        p,
        platform_cbor(&dir, "ccatoken-cbor/CcaPlatformLegacyClaimsAll.cbor").unwrap()
    );
    for (name, tail) in [
        (
            "platform-test-invalid-profile.json",
            "could not match profile",
        ),
        (
            "platform-test-vsi-invalid-empty.json",
            "validating verification service indicator: wrong syntax: empty string",
        ),
        (
            "platform-test-implementation-id-invalid-long.json",
            "validating implementation id: wrong syntax: invalid length 34 (MUST be 32 bytes)",
        ),
        (
            "platform-test-implementation-id-invalid-missing.json",
            "validating implementation id: missing mandatory claim",
        ),
        (
            "platform-test-no-sw-components.json",
            "validating software components: missing mandatory claim (MUST have at least one sw component)",
        ),
        (
            "platform-test-sw-components-invalid-missing.json",
            "validating software components: missing mandatory claim (MUST have at least one sw component)",
        ),
        (
            "platform-test-hash-algid-invalid.json",
            "validating platform hash algo id: wrong syntax: wrong syntax",
        ),
        (
            "platform-test-hash-algid-missing.json",
            "validating platform hash algo id: missing mandatory claim",
        ),
        (
            "platform-test-lifecycle-invalid.json",
            "validating security lifecycle: wrong syntax: value 32565 is invalid",
        ),
        (
            "platform-test-nonce-invalid.json",
            "validating nonce: wrong syntax: length 50 (hash MUST be 32, 48 or 64 bytes)",
        ),
        (
            "platform-test-instance-id-missing.json",
            "validating instance id: missing mandatory claim",
        ),
        (
            "platform-test-instance-id-invalid.json",
            "validating instance id: wrong syntax: invalid length 3 (MUST be 33 bytes)",
        ),
        (
            "platform-test-config-missing.json",
            "validating platform config: missing mandatory claim",
        ),
        (
            "platform-test-invalid-psa-claims.json",
            "validating implementation id: missing mandatory claim",
        ),
    ] {
        ends(platform(name).unwrap_err(), tail);
    }
    let e = platform("platform-test-sw-components-invalid-combo.json").unwrap_err();
    assert!(matches!(e, CcaError::Json(_)), "{e}");
    assert!(
        e.to_string()
            .contains("cca-platform-sw-components[0]: measurement-value: illegal base64 data"),
        "{e}"
    );

    // Every realm vector fails: the "all valid" one carries a 97-byte RAK
    // that is neither a COSE_Key nor a point on P-384 (it fails in ccatoken
    // too, which is why ccatoken's tests do not use it).
    let realm = |name: &str| {
        RealmClaims::from_json(&json(&dir, &format!("cca/claims/ccatoken-json/{name}")))
    };
    for (name, tail) in [
        (
            "realm-test-cca-claims-all-valid.json",
            "validating realm public key claim: wrong syntax: checking realm public key is a CBOR-encoded COSE_Key",
        ),
        (
            "realm-test-invalid-nonce.json",
            "validating realm challenge claim: wrong syntax: length 95 (hash MUST be 64 bytes)",
        ),
        (
            "realm-test-invalid-extended-meas.json",
            "validating realm extended measurements claim: incorrect realm extended measurement at index 0: wrong syntax: length 95 (realm measurement MUST be 32, 48 or 64 bytes)",
        ),
        (
            "realm-test-invalid-initial-meas.json",
            "validating realm initial measurements claim: wrong syntax: length 95 (realm measurement MUST be 32, 48 or 64 bytes)",
        ),
        (
            "realm-test-invalid-public-key.json",
            "validating realm public key claim: wrong syntax: checking realm public key is a CBOR-encoded COSE_Key",
        ),
        (
            "realm-test-invalid-personalization-val.json",
            "validating realm personalization value claim: wrong syntax: length 95 (personalization value MUST be 64 bytes)",
        ),
        (
            "realm-test-missing-nonce.json",
            "validating realm challenge claim: missing mandatory claim",
        ),
        (
            "realm-test-missing-hash-alg-id.json",
            "validating realm hash alg ID claim: missing mandatory claim",
        ),
        (
            "realm-test-missing-personalization-val.json",
            "validating realm personalization value claim: missing mandatory claim",
        ),
        (
            "realm-test-missing-initial-meas.json",
            "validating realm initial measurements claim: missing mandatory claim",
        ),
        (
            "realm-test-missing-extended-meas.json",
            "validating realm extended measurements claim: missing mandatory claim",
        ),
        (
            "realm-test-missing-public-key.json",
            "validating realm public key claim: missing mandatory claim",
        ),
        (
            "realm-test-missing-public-key-alg-id.json",
            "validating realm public key claim: wrong syntax",
        ),
    ] {
        let text = realm(name).unwrap_err().to_string();
        assert!(text.contains(tail), "{name}: {text}\n  expected: {tail}");
    }
    // Every file in the folder is covered.
    assert_eq!(
        std::fs::read_dir(dir.join("cca/claims/ccatoken-json"))
            .unwrap()
            .count(),
        16 + 13
    );
}

#[test]
fn evcli_and_integration_claim_files() {
    let Some((dir, keys)) = setup() else { return };
    let (p, r) = claims_from_json(&json(&dir, "cca/claims/evcli/cca-claims.json")).unwrap();
    assert_eq!(p.sw_components.len(), 1);
    // No realm profile and a COSE_Key RAK: read with the current profile, as
    // ccatoken does.
    assert_eq!(r.public_key.form(), RakForm::CoseKey);
    assert_eq!(fingerprint(r.public_key.key()), EC_P384);
    let e =
        claims_from_json(&json(&dir, "cca/claims/evcli/cca-claims-bad-norealm.json")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "decoding JSON claims failed: missing realm claims"
    );
    ends(
        claims_from_json(&json(
            &dir,
            "cca/claims/evcli/cca-claims-without-realm-challenge.json",
        ))
        .unwrap_err(),
        "validating realm challenge claim: missing mandatory claim",
    );

    // The integration claims are exactly what the derived token carries.
    let (p, r) = claims_from_json(&json(&dir, "cca/claims/integration/cca.good.json")).unwrap();
    let t = decode(&dir, "cca/derived/cca-good.integration.cbor");
    assert_eq!(&p, t.platform_claims());
    assert_eq!(&r, t.realm_claims());
    // And the minting samples reproduce them (but for challenge and RAK).
    let mut sample_p = vouch_cca_token::mint::sample_platform_claims();
    sample_p.challenge = p.challenge.clone();
    assert_eq!(sample_p, p);
    let mut sample_r = vouch_cca_token::mint::sample_realm_claims(key(&keys, EC_P384));
    sample_r.challenge = r.challenge;
    assert_eq!(
        sample_r.public_key.key().to_spki_der(),
        r.public_key.key().to_spki_der()
    );
    sample_r.public_key = r.public_key.clone();
    assert_eq!(sample_r, r);

    for name in [
        "cca/claims/services-scheme-cca-good.json",
        "cca/claims/e2e-cca-evidence.json",
    ] {
        let (p, _) = claims_from_json(&json(&dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.profile, PlatformProfile::CcaSsd, "{name}");
    }
    let (p, r) = claims_from_json(&json(&dir, "cca/claims/services-scheme-cca-good.json")).unwrap();
    let t = decode(&dir, "cca/tokens/veraison-cca-good.services-scheme.cbor");
    assert_eq!(&p, t.platform_claims());
    assert_eq!(&r, t.realm_claims());
}

// ---------------------------------------------------------------- Parsec CCA

fn parsec(dir: &Path, rel: &str) -> Result<ParsecCcaEvidence, CcaError> {
    ParsecCcaEvidence::decode(&read(dir, rel))
}

#[test]
fn parsec_cca_evidence() {
    let Some((dir, keys)) = setup() else { return };
    let ec_p256 = key(&keys, EC_P256);
    let akpub = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEm__bpnUzLJu7XeKy2gn4GEdKmJrCACP4KMFiC6gPYdjIOcJyMN8BmEDTpFyWGG-NBxk-vEOoQeDd4sRj9kxKFQ";
    let b64url = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };

    // PCCA-01.
    let ev = parsec(&dir, "parsec-cca/tokens/evidence.cbor").unwrap();
    ev.verify(ec_p256).unwrap();
    assert_eq!(ev.kat_nonce(), &[0, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(b64url(&ev.attested_key_spki()), akpub);
    assert_eq!(fingerprint(ev.attested_key()), PARSEC_KAT_KEY);
    assert!(hex::encode(ev.kat_digest()).starts_with("72a257931ce1c5fe2b537e3f50212f91"));
    assert_eq!(ev.token().realm_challenge(), &ev.kat_digest());
    assert_eq!(ev.kat_bytes()[..3], [0xd9, 0x02, 0x59]);
    assert_eq!(ev.token().framing(), Framing::EatCollection);
    assert_eq!(
        fingerprint(ev.token().realm_claims().public_key.key()),
        EC_P384
    );
    for (label, k) in &keys {
        if *label != EC_P256 {
            assert!(
                matches!(ev.verify(k), Err(CcaError::PatVerification(_))),
                "{label}"
            );
        }
    }

    // PCCA-05: legacy evidence, P-384 CPAK and raw RAK.
    let ev = parsec(&dir, "parsec-cca/tokens/evidence.legacy-p384cpak.cbor").unwrap();
    ev.verify(key(&keys, TFRMM_CPAK)).unwrap();
    assert_eq!(ev.token().realm_claims().public_key.form(), RakForm::Raw);
    assert_eq!(b64url(&ev.attested_key_spki()), akpub);
    let e = ev.verify(ec_p256).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("PAT validation failed: unable to verify platform token:"),
        "{e}"
    );

    // PCCA-02: the KAT nonce changed, every signature still good.
    let ev = parsec(&dir, "parsec-cca/derived/parsec-cca-badbinding.cbor").unwrap();
    ev.token().verify(ec_p256).unwrap();
    let e = ev.verify(ec_p256).unwrap_err();
    assert!(matches!(e, CcaError::KatBinding { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("PAT-KAT binding check failed: want cf09a83f9f6f1505"),
        "{e}"
    );
    assert!(e.to_string().contains(", got 72a257931ce1c5fe"), "{e}");

    // PCCA-03: re-signed platform with a changed measurement: verifies.
    let ev = parsec(&dir, "parsec-cca/derived/parsec-cca-badswcomp.cbor").unwrap();
    ev.verify(ec_p256).unwrap();
    assert_eq!(
        hex::encode(&ev.token().platform_claims().sw_components[0].measurement_value[..8]),
        "0c4003044105c71c"
    );

    // PCCA-04: platform signed by another key.
    let ev = parsec(&dir, "parsec-cca/derived/parsec-cca-wrongcpak.cbor").unwrap();
    match ev.verify(ec_p256).unwrap_err() {
        CcaError::PatVerification(inner) => {
            assert!(matches!(*inner, CcaError::PlatformSignature(_)), "{inner}")
        }
        other => panic!("{other}"),
    }
    ev.verify(key(&keys, EC_P256_ALT)).unwrap();

    // PCCA-06.
    let e = parsec(&dir, "parsec-cca/negative/bad_evidence.cbor").unwrap_err();
    assert!(matches!(e, CcaError::ParsecDecode(_)), "{e}");
    assert!(e.to_string().starts_with("CBOR decoding: "), "{e}");

    // Every file is covered.
    let count = |sub: &str| std::fs::read_dir(dir.join(sub)).unwrap().count();
    assert_eq!(
        count("parsec-cca/tokens") + count("parsec-cca/derived") + count("parsec-cca/negative"),
        6
    );
}
