//! EAR conformance vectors (MANIFEST §3 EAR-01 and §5c): real EARs produced
//! by Veraison and its libraries verify with the right keys, the negative
//! ones are refused, and the claim-set samples parse (or, for `*-ko`, fail).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;
use vouch_crypto::{SigningKey, VerifyingKey};
use vouch_ear::{
    EAR_PROFILE, Ear, EarError, EarSigner, TRUSTEE_PROFILE, TrustClaim, TrustTier, TrustVector,
    verify, verify_at,
};
use vouch_testkit::vectors;

fn dir() -> Option<PathBuf> {
    vectors::dir()
}

fn text(dir: &Path, rel: &str) -> String {
    String::from_utf8(vectors::read(dir, rel)).expect("UTF-8 vector")
}

fn jwt(dir: &Path, name: &str) -> String {
    // The files hold the token without a trailing newline; trim defensively
    // so a re-saved file does not turn into a false "malformed" result.
    text(dir, &format!("ear/jwt/{name}")).trim_end().to_owned()
}

fn json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&vectors::read(dir, rel)).expect("JSON vector")
}

fn veraison_key(dir: &Path) -> VerifyingKey {
    VerifyingKey::from_jwk(&json(dir, "ear/keys/verifier.pub.jwk")).expect("Veraison EAR key")
}

fn header(token: &str) -> Value {
    let b64 = token.split('.').next().expect("header part");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .expect("base64url header");
    serde_json::from_slice(&bytes).expect("JSON header")
}

const VERAISON_SIGNED: [&str; 5] = [
    "ear-gotest-with-veraison-extensions.jwt",
    "ear-arc-testJWT.jwt",
    "ear-arc-testJWT_JWK.jwt",
    "ear-veraison-parsec-tpm.jwt",
    "ear-veraison-psa-iot-walkthrough.jwt",
];

#[test]
fn veraison_signed_ears_verify() {
    let Some(dir) = dir() else { return };
    let jwk_key = veraison_key(&dir);
    let pem_key =
        VerifyingKey::from_pem(&text(&dir, "ear/keys/derived/verifier.pub.pem")).expect("PEM key");
    assert_eq!(jwk_key, pem_key);
    for name in VERAISON_SIGNED {
        let token = jwt(&dir, name);
        let ear = verify(&token, &jwk_key).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ear.profile, EAR_PROFILE, "{name}");
        assert!(ear.validate().is_ok(), "{name}");
        assert_eq!(verify(&token, &pem_key).unwrap(), ear);
    }
}

#[test]
fn walkthrough_ear_content() {
    let Some(dir) = dir() else { return };
    let ear = verify(
        &jwt(&dir, "ear-veraison-psa-iot-walkthrough.jwt"),
        &veraison_key(&dir),
    )
    .unwrap();
    assert_eq!(ear.issued_at, 1_706_023_979);
    assert_eq!(ear.verifier_id.developer, "Veraison Project");
    assert_eq!(
        ear.nonce.as_deref(),
        Some("FeiBL0Ys0yvXiBbAFMs1OHDXXtw08RGq_SESJdSaXPsKk2A8_AruL45Z8QqukT8o")
    );
    assert_eq!(ear.nonce_bytes().unwrap().unwrap().len(), 48);
    let psa = &ear.submods["PSA_IOT"];
    assert_eq!(psa.status, TrustTier::Affirming);
    assert_eq!(psa.policy_id.as_deref(), Some("policy:PSA_IOT"));
    assert_eq!(
        psa.trust_vector,
        TrustVector {
            instance_identity: TrustClaim(2),
            configuration: TrustClaim(0),
            executables: TrustClaim(2),
            file_system: TrustClaim(0),
            hardware: TrustClaim(2),
            runtime_opaque: TrustClaim(2),
            storage_opaque: TrustClaim(2),
            sourced_data: TrustClaim(0),
        }
    );
    let evidence = psa.annotated_evidence.as_ref().unwrap();
    assert_eq!(evidence["psa-security-lifecycle"], 12288);
    assert_eq!(
        evidence["psa-software-components"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Our serialisation of the same claims set is what Veraison emitted,
    // byte for byte (sorted keys, all eight trust vector claims).
    let payload_b64 = jwt(&dir, "ear-veraison-psa-iot-walkthrough.jwt")
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload_b64)
        .unwrap();
    assert_eq!(
        String::from_utf8(ear.to_json().unwrap()).unwrap(),
        String::from_utf8(payload).unwrap()
    );
}

#[test]
fn parsec_tpm_ear_content() {
    let Some(dir) = dir() else { return };
    let ear = verify(
        &jwt(&dir, "ear-veraison-parsec-tpm.jwt"),
        &veraison_key(&dir),
    )
    .unwrap();
    assert_eq!(ear.nonce.as_deref(), Some("3WHyjndGOTI="));
    assert_eq!(
        ear.nonce_bytes().unwrap().unwrap(),
        [0xdd, 0x61, 0xf2, 0x8e, 0x77, 0x46, 0x39, 0x32]
    );
    let tpm = &ear.submods["PARSEC_TPM"];
    assert_eq!(tpm.status, TrustTier::Affirming);
    let akpub = tpm.key_attestation.as_ref().unwrap();
    assert!(
        akpub
            .akpub()
            .starts_with("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE")
    );
    // The attested key is a real P-256 SPKI.
    assert!(VerifyingKey::from_spki_der(&akpub.spki_der()).is_ok());
}

#[test]
fn gotest_ear_carries_veraison_extensions() {
    let Some(dir) = dir() else { return };
    let ear = verify(
        &jwt(&dir, "ear-gotest-with-veraison-extensions.jwt"),
        &veraison_key(&dir),
    )
    .unwrap();
    let test = &ear.submods["test"];
    assert_eq!(test.policy_id.as_deref(), Some("policy://test/01234"));
    assert_eq!(test.annotated_evidence.as_ref().unwrap()["k1"], "v1");
    assert_eq!(test.policy_claims.as_ref().unwrap()["foo"], "bar");
    assert_eq!(test.key_attestation.as_ref().unwrap().akpub(), "YWtwdWIK");
    // No trust vector in the token: every claim is "no claim".
    assert_eq!(test.trust_vector, TrustVector::default());
}

#[test]
fn arc_ear_with_jwk_header_is_the_veraison_key() {
    let Some(dir) = dir() else { return };
    let token = jwt(&dir, "ear-arc-testJWT_JWK.jwt");
    let embedded = VerifyingKey::from_jwk(&header(&token)["jwk"]).unwrap();
    assert_eq!(embedded, veraison_key(&dir));
    let ear = verify(&token, &embedded).unwrap();
    assert_eq!(
        ear.raw_evidence.as_deref(),
        Some(&[0xde, 0xad, 0xbe, 0xef][..])
    );
    assert_eq!(
        ear.submods["test"].trust_vector.executables,
        TrustClaim::APPROVED_BOOT
    );
}

#[test]
fn rust_ear_example_verifies_with_its_own_key() {
    let Some(dir) = dir() else { return };
    let token = jwt(&dir, "ear-rust-ear-example.jwt");
    let pem = VerifyingKey::from_pem(&text(&dir, "ear/keys/rust-ear-ec_key_pub.pem")).unwrap();
    let jwk = VerifyingKey::from_jwk(&json(&dir, "ear/keys/rust-ear-ec_key_pub.jwk")).unwrap();
    let ear = verify(&token, &pem).unwrap();
    assert_eq!(verify(&token, &jwk).unwrap(), ear);
    assert_eq!(ear.issued_at, 1);
    assert_eq!(ear.submods["test"].status, TrustTier::None);
    // Its profile is "test": verifiable, but not one we would sign.
    assert_eq!(ear.profile, "test");
    assert!(matches!(ear.validate(), Err(EarError::Invalid(_))));
    // And the Veraison key does not verify it.
    assert!(matches!(
        verify(&token, &veraison_key(&dir)),
        Err(EarError::Signature(_))
    ));
}

#[test]
fn trustee_ear_verifies_with_its_header_key_and_is_expired() {
    let Some(dir) = dir() else { return };
    let token = jwt(&dir, "ear-trustee-cca-expired.jwt");
    let embedded = VerifyingKey::from_jwk(&header(&token)["jwk"]).unwrap();
    assert!(matches!(
        verify(&token, &embedded),
        Err(EarError::Expired {
            exp: 1_752_059_439,
            ..
        })
    ));
    assert!(matches!(
        verify(&token, &veraison_key(&dir)),
        Err(EarError::Signature(_))
    ));
    // Before its expiry it is a valid Trustee EAR.
    let ear = verify_at(&token, &embedded, 1_752_059_139).unwrap();
    assert_eq!(ear.profile, TRUSTEE_PROFILE);
    assert!(ear.validate().is_ok());
    let cpu0 = &ear.submods["cpu0"];
    assert_eq!(cpu0.status, TrustTier::Affirming);
    assert_eq!(cpu0.trust_vector.configuration, TrustClaim(3));
    assert_eq!(cpu0.trust_vector.hardware, TrustClaim(2));
    assert_eq!(cpu0.trust_vector.instance_identity, TrustClaim::NO_CLAIM);
    assert!(
        cpu0.annotated_evidence
            .as_ref()
            .unwrap()
            .contains_key("cca")
    );
}

#[test]
fn negative_ears_are_refused() {
    let Some(dir) = dir() else { return };
    let key = veraison_key(&dir);
    let check = |name: &str, expected: fn(&EarError) -> bool| {
        let err = verify(&jwt(&dir, name), &key).expect_err(name);
        assert!(expected(&err), "{name}: unexpected error {err:?}");
    };
    check(
        "neg-ear-gotest-hs256.jwt",
        |e| matches!(e, EarError::UnsupportedAlgorithm(a) if a == "HS256"),
    );
    check(
        "neg-ear-gotest-alg-none.jwt",
        |e| matches!(e, EarError::UnsupportedAlgorithm(a) if a == "none"),
    );
    check("neg-ear-gotest-leading-dot.jwt", |e| {
        matches!(e, EarError::Malformed(_))
    });
    check("neg-ear-gotest-trailing-rubbish.jwt", |e| {
        matches!(e, EarError::Malformed(_))
    });
    // Correctly signed, but the claims set is empty.
    check("neg-ear-gotest-empty-claims.jwt", |e| {
        matches!(e, EarError::Claims(_))
    });
}

#[test]
fn trailing_rubbish_token_is_fine_without_the_rubbish() {
    // Shows the negative vector fails for the rubbish alone.
    let Some(dir) = dir() else { return };
    let token = jwt(&dir, "neg-ear-gotest-trailing-rubbish.jwt");
    let signed = token.strip_suffix(".trailing-rubbish").expect("suffix");
    let ear = verify(signed, &veraison_key(&dir)).unwrap();
    // Its iat is written as a float (1.666091373e+09).
    assert_eq!(ear.issued_at, 1_666_091_373);
}

#[test]
fn veraison_signing_key_round_trip() {
    let Some(dir) = dir() else { return };
    let key = SigningKey::from_jwk(&json(&dir, "ear/keys/veraison-ear-signing.skey.jwk")).unwrap();
    let signer = EarSigner::new(key);
    // The published key is the one Veraison's integration tests use.
    let published = signer.public_jwk();
    let reference = json(&dir, "ear/keys/verifier.pub.jwk");
    for member in ["kty", "crv", "x", "y"] {
        assert_eq!(published[member], reference[member], "{member}");
    }
    assert_eq!(published["alg"], "ES256");
    let mut ear = verify(
        &jwt(&dir, "ear-veraison-psa-iot-walkthrough.jwt"),
        &veraison_key(&dir),
    )
    .unwrap();
    ear.issued_at += 1;
    let token = signer.sign(&ear).unwrap();
    assert_eq!(verify(&token, &veraison_key(&dir)).unwrap(), ear);
}

#[test]
fn claim_sets_parse() {
    let Some(dir) = dir() else { return };
    let ok = [
        "ear-arc-ear-claims.json",
        "ear-arc-ear-claims-extension-ok.json",
        "ear-arc-ear-claims-key-attestation-ok.json",
        "ear-arc-ear-claims-tv-ok.json",
        "rust-ear-claims.json",
    ];
    for name in ok {
        let bytes = vectors::read(&dir, &format!("ear/claims/{name}"));
        let ear = Ear::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(ear.validate().is_ok(), "{name}");
        // What we write back parses to the same claims set.
        assert_eq!(
            Ear::from_json(&ear.to_json().unwrap()).unwrap(),
            ear,
            "{name}"
        );
    }

    let tv = Ear::from_json(&vectors::read(
        &dir,
        "ear/claims/ear-arc-ear-claims-tv-ok.json",
    ))
    .unwrap();
    assert_eq!(
        tv.raw_evidence.as_deref(),
        Some(&[0xde, 0xad, 0xbe, 0xef][..])
    );
    assert_eq!(tv.submods["test"].trust_vector, {
        let mut v = TrustVector::all(TrustClaim(2));
        v.executables = TrustClaim(3);
        v
    });
    let ka = Ear::from_json(&vectors::read(
        &dir,
        "ear/claims/ear-arc-ear-claims-key-attestation-ok.json",
    ))
    .unwrap();
    let spki = ka.submods["PARSEC_TPM"]
        .key_attestation
        .as_ref()
        .unwrap()
        .spki_der();
    assert!(VerifyingKey::from_spki_der(&spki).is_ok());
}

#[test]
fn bad_claim_sets_are_refused() {
    let Some(dir) = dir() else { return };
    // An empty key attestation (no akpub).
    let ko = vectors::read(
        &dir,
        "ear/claims/ear-arc-ear-claims-key-attestation-ko.json",
    );
    assert!(matches!(Ear::from_json(&ko), Err(EarError::Claims(_))));
    // keybroker-demo's sample lacks the mandatory `iat` and
    // `ear.verifier-id` (the Go library refuses it too).
    let keybroker = vectors::read(&dir, "ear/claims/keybroker-ear-claims-ok.json");
    let err = Ear::from_json(&keybroker).unwrap_err().to_string();
    assert!(
        err.contains("ear.verifier-id") || err.contains("iat"),
        "{err}"
    );
    // python-ear's output is that library's own object dump, not an EAR.
    let python = vectors::read(&dir, "ear/claims/python-ear-jwt_output.json");
    assert!(Ear::from_json(&python).is_err());
}
