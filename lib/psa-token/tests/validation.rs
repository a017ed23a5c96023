//! psatoken's validation rules, claim by claim, on tokens minted here.

use vouch_crypto::{CryptoError, Curve};
use vouch_psa_token::{Profile, Token, TokenError};
use vouch_testkit::keys::{deterministic_key, deterministic_key_on};
use vouch_testkit::psa::{self, NonceClaim, PsaClaims, SwComponent};

fn mint(claims: &PsaClaims) -> Vec<u8> {
    let key = deterministic_key(1).expect("key");
    claims.sign(&key).expect("signs")
}

fn decode(claims: &PsaClaims) -> Result<Token, TokenError> {
    Token::decode(&mint(claims))
}

/// Decoding must fail with exactly `message`.
fn rejects(claims: &PsaClaims, message: &str) {
    match decode(claims) {
        Ok(_) => panic!("accepted, expected {message:?}"),
        Err(e) => assert_eq!(e.to_string(), message),
    }
}

fn accepts(claims: &PsaClaims) -> Token {
    decode(claims).unwrap_or_else(|e| panic!("rejected: {e}"))
}

/// The CBOR encoding of a text string.
fn cbor_text(s: &str) -> Vec<u8> {
    assert!(s.len() < 24);
    let mut out = vec![0x60 | s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

fn both_profiles() -> [PsaClaims; 2] {
    [PsaClaims::profile_1(), PsaClaims::profile_2()]
}

#[test]
fn minted_defaults_are_valid_in_both_profiles() {
    let key = deterministic_key(1).unwrap();
    for (claims, profile) in [
        (PsaClaims::profile_1(), Profile::P1),
        (PsaClaims::profile_2(), Profile::P2),
        (PsaClaims::profile_2_tfm(), Profile::P2),
    ] {
        let token = accepts(&claims);
        token.verify_signature(&key.verifying_key()).unwrap();
        assert_eq!(token.claims().profile, profile);
        assert_eq!(token.claims().profile_name, claims.profile);
        assert_eq!(token.claims().nonce, psa::ACME_NONCE);
        assert_eq!(token.claims().sw_components.len(), 3);
    }
    let tfm = accepts(&PsaClaims::profile_2_tfm());
    assert_eq!(
        tfm.claims().annotated_evidence()["eat-profile"],
        psa::PROFILE_2_TFM
    );
}

#[test]
fn nonce_rules() {
    for mut c in both_profiles() {
        c.nonce = None;
        rejects(&c, "validating nonce: missing mandatory claim");
    }
    for len in [0usize, 8, 31, 33, 63, 65] {
        for c in both_profiles() {
            rejects(
                &c.with_nonce(&vec![7; len]),
                &format!(
                    "validating nonce: wrong syntax: length {len} (hash MUST be 32, 48 or 64 bytes)"
                ),
            );
        }
    }
    for len in [32usize, 48, 64] {
        for c in both_profiles() {
            assert_eq!(
                accepts(&c.with_nonce(&vec![7; len])).claims().nonce.len(),
                len
            );
        }
    }

    let mut c = PsaClaims::profile_2();
    c.nonce = Some(NonceClaim::Multiple(vec![vec![1; 32], vec![2; 32]]));
    rejects(&c, "validating nonce: wrong syntax: got 2 nonces, want 1");
    c.nonce = Some(NonceClaim::Multiple(vec![]));
    rejects(&c, "validating nonce: wrong syntax: got 0 nonces, want 1");
    // A one-element array is an EAT nonce too.
    c.nonce = Some(NonceClaim::Multiple(vec![vec![3; 48]]));
    assert_eq!(accepts(&c).claims().nonce, vec![3; 48]);

    // Profile 1's nonce is a plain byte string: an array is a type error.
    let mut c = PsaClaims::profile_1();
    c.nonce = Some(NonceClaim::Multiple(vec![vec![1; 32], vec![2; 32]]));
    assert!(matches!(decode(&c), Err(TokenError::ClaimsDecode(_))));

    // A null nonce counts as absent, as a nil pointer does in Go.
    let mut c = PsaClaims::profile_2();
    c.nonce = None;
    c.extra.push((10, vec![0xf6]));
    rejects(&c, "validating nonce: missing mandatory claim");
}

#[test]
fn identity_rules() {
    for mut c in both_profiles() {
        c.implementation_id = None;
        rejects(&c, "validating implementation id: missing mandatory claim");
    }
    for mut c in both_profiles() {
        c.implementation_id = Some(vec![1; 31]);
        rejects(
            &c,
            "validating implementation id: wrong syntax: invalid length 31 (MUST be 32 bytes)",
        );
    }
    for mut c in both_profiles() {
        c.instance_id = None;
        rejects(&c, "validating instance id: missing mandatory claim");
    }
    for mut c in both_profiles() {
        c.instance_id = Some(vec![1; 32]);
        rejects(
            &c,
            "validating instance id: wrong syntax: invalid length 32 (MUST be 33 bytes)",
        );
    }
    for mut c in both_profiles() {
        let mut id = psa::ACME_INSTANCE_ID.to_vec();
        id[0] = 0x02;
        c.instance_id = Some(id);
        rejects(
            &c,
            "validating instance id: wrong syntax: invalid EUID type (MUST be RAND=0x01)",
        );
    }
    for mut c in both_profiles() {
        c.client_id = None;
        rejects(&c, "validating client id: missing mandatory claim");
    }
    for c in both_profiles() {
        let mut lo = c.clone();
        lo.client_id = Some(i64::from(i32::MIN));
        assert_eq!(accepts(&lo).claims().client_id, i32::MIN);
        let mut hi = c;
        hi.client_id = Some(i64::from(i32::MAX) + 1);
        assert!(matches!(decode(&hi), Err(TokenError::ClaimsDecode(_))));
    }
}

#[test]
fn lifecycle_rules() {
    for mut c in both_profiles() {
        c.security_lifecycle = None;
        rejects(&c, "validating security lifecycle: missing mandatory claim");
    }
    for bad in [0x0100u64, 0x7000, 0x30ff + 1, 0xffff] {
        for mut c in both_profiles() {
            c.security_lifecycle = Some(bad);
            rejects(
                &c,
                &format!("validating security lifecycle: wrong syntax: value {bad} is invalid"),
            );
        }
    }
    for (raw, state) in [
        (0x0000u64, "unknown"),
        (0x10ff, "assembly-and-test"),
        (0x2001, "psa-rot-provisioning"),
        (0x3000, "secured"),
        (0x4000, "non-psa-rot-debug"),
        (0x5000, "recoverable-psa-rot-debug"),
        (0x6000, "decommissioned"),
    ] {
        let mut c = PsaClaims::profile_2();
        c.security_lifecycle = Some(raw);
        assert_eq!(accepts(&c).claims().lifecycle_state().as_str(), state);
    }
    let mut c = PsaClaims::profile_2();
    c.security_lifecycle = Some(0x1_0000);
    assert!(matches!(decode(&c), Err(TokenError::ClaimsDecode(_))));
}

#[test]
fn boot_seed_rules() {
    let mut c = PsaClaims::profile_2();
    c.boot_seed = None;
    assert_eq!(accepts(&c).claims().boot_seed, None);
    assert!(
        accepts(&c)
            .claims()
            .annotated_evidence()
            .get("psa-boot-seed")
            .is_none()
    );
    for len in [8usize, 20, 32] {
        c.boot_seed = Some(vec![9; len]);
        assert!(decode(&c).is_ok(), "{len}");
    }
    for len in [0usize, 7, 33] {
        c.boot_seed = Some(vec![9; len]);
        rejects(
            &c,
            &format!(
                "validating boot seed: wrong syntax: invalid length {len} (MUST be between 8 and 32 bytes)"
            ),
        );
    }

    let mut c = PsaClaims::profile_1();
    c.boot_seed = None;
    rejects(&c, "validating boot seed: missing mandatory claim");
    for len in [8usize, 31, 33] {
        c.boot_seed = Some(vec![9; len]);
        rejects(
            &c,
            &format!("validating boot seed: wrong syntax: invalid length {len} (MUST be 32 bytes)"),
        );
    }
}

#[test]
fn certification_reference_rules() {
    let mut p2 = PsaClaims::profile_2();
    p2.certification_reference = Some("1234567890123-12345".to_owned());
    assert_eq!(
        accepts(&p2).claims().annotated_evidence()["psa-certification-reference"],
        "1234567890123-12345"
    );
    // psatoken's profile-2 getter accepts only EAN-13+5.
    for bad in ["1234567890123", "123456789012-12345", "abc", ""] {
        p2.certification_reference = Some(bad.to_owned());
        rejects(
            &p2,
            "validating certification reference: wrong syntax: MUST be in EAN-13+5 format",
        );
    }

    let mut p1 = PsaClaims::profile_1();
    for good in ["1234567890123", "1234567890123-12345"] {
        p1.certification_reference = Some(good.to_owned());
        assert_eq!(
            accepts(&p1).claims().annotated_evidence()["psa-hwver"],
            good
        );
    }
    p1.certification_reference = Some("12345".to_owned());
    rejects(
        &p1,
        "validating certification reference: wrong syntax: MUST be in EAN-13 or EAN-13+5 format",
    );
}

#[test]
fn software_component_rules() {
    let mut c = PsaClaims::profile_2();
    c.sw_components = None;
    rejects(
        &c,
        "validating software components: missing mandatory claim (MUST have at least one sw component)",
    );
    c.sw_components = Some(vec![]);
    rejects(
        &c,
        "validating software components: missing mandatory claim (MUST have at least one sw component)",
    );

    let mut comps = SwComponent::acme_components();
    comps[0].measurement_value = None;
    for c in both_profiles() {
        rejects(
            &c.with_sw_components(comps.clone()),
            "validating software components: failed at index 0: measurement value: missing mandatory field",
        );
    }
    let mut comps = SwComponent::acme_components();
    comps[1].signer_id = Some(vec![1; 20]);
    rejects(
        &PsaClaims::profile_2().with_sw_components(comps),
        "validating software components: failed at index 1: signer ID: wrong syntax: length 20 (hash MUST be 32, 48 or 64 bytes)",
    );
    let mut comps = SwComponent::acme_components();
    comps[2].signer_id = None;
    rejects(
        &PsaClaims::profile_2().with_sw_components(comps),
        "validating software components: failed at index 2: signer ID: missing mandatory field",
    );
    let mut comps = SwComponent::acme_components();
    comps[0].measurement_value = Some(vec![1; 31]);
    rejects(
        &PsaClaims::profile_2().with_sw_components(comps),
        "validating software components: failed at index 0: measurement value: wrong syntax: length 31 (hash MUST be 32, 48 or 64 bytes)",
    );

    // Optional fields may be missing; 48- and 64-byte digests are fine.
    let sparse = vec![SwComponent {
        measurement_value: Some(vec![1; 48]),
        signer_id: Some(vec![2; 64]),
        ..SwComponent::default()
    }];
    let token = accepts(&PsaClaims::profile_2().with_sw_components(sparse));
    let sw = &token.claims().sw_components[0];
    assert_eq!(sw.measurement_type, None);
    assert_eq!(sw.version, None);
    let json = sw.to_json();
    assert_eq!(
        json.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["measurement-value", "signer-id"]
    );
}

#[test]
fn profile_1_no_sw_measurements_rules() {
    let mut c = PsaClaims::profile_1();
    c.sw_components = None;
    rejects(
        &c,
        "validating software components: missing mandatory claim (MUST have at least one sw component or no-sw-measurements set)",
    );
    c.no_sw_measurements = Some(1);
    let token = accepts(&c);
    assert!(token.claims().sw_components.is_empty());
    assert_eq!(token.claims().no_sw_measurements, Some(1));
    // An empty component list with the flag set is also fine.
    c.sw_components = Some(vec![]);
    assert!(decode(&c).is_ok());
    c.sw_components = Some(SwComponent::acme_components());
    rejects(
        &c,
        "validating software components: wrong syntax: psa-no-sw-measurement and psa-software-components cannot be present at the same time",
    );
}

#[test]
fn vsi_rules() {
    for mut c in both_profiles() {
        c.vsi = Some(String::new());
        rejects(
            &c,
            "validating verification service indicator: wrong syntax: empty string",
        );
        c.vsi = None;
        let token = accepts(&c);
        assert!(
            token
                .claims()
                .annotated_evidence()
                .get("psa-verification-service-indicator")
                .is_none()
        );
    }
}

#[test]
fn profile_selection() {
    let mut c = PsaClaims::profile_2();
    c.profile = Some("http://arm.com/psa/3.0.0".to_owned());
    rejects(
        &c,
        r#"failed CBOR decoding of PSA claims: unknown profile: "http://arm.com/psa/3.0.0""#,
    );

    // Without claim 265 the claims are read as profile 1, whose keys are
    // absent here: the first mandatory claim checked is reported.
    let mut c = PsaClaims::profile_2();
    c.profile = None;
    rejects(&c, "validating security lifecycle: missing mandatory claim");

    // Profile 1 without its (optional) profile claim.
    let mut c = PsaClaims::profile_1();
    c.profile = None;
    let token = accepts(&c);
    assert_eq!(token.claims().profile, Profile::P1);
    assert_eq!(token.claims().profile_name, None);
    assert_eq!(token.claims().profile_str(), "PSA_IOT_PROFILE_1");
    c.profile = Some("PSA_IOT_PROFILE_2".to_owned());
    rejects(
        &c,
        r#"validating profile: wrong profile: expecting "PSA_IOT_PROFILE_1", got "PSA_IOT_PROFILE_2""#,
    );

    // The profile as a tag-32 URI is read as text.
    let mut c = PsaClaims::profile_2();
    c.profile = None;
    let mut uri = vec![0xd8, 0x20, 0x78, psa::PROFILE_2.len() as u8];
    uri.extend_from_slice(psa::PROFILE_2.as_bytes());
    c.extra.push((265, uri));
    assert_eq!(accepts(&c).claims().profile, Profile::P2);

    // An OID profile is rendered in dotted form (and unknown).
    let mut c = PsaClaims::profile_2();
    c.profile = None;
    c.extra.push((265, vec![0x43, 0x2b, 0x06, 0x01]));
    rejects(
        &c,
        r#"failed CBOR decoding of PSA claims: unknown profile: "1.3.6.1""#,
    );

    // A profile of the wrong type.
    let mut c = PsaClaims::profile_2();
    c.profile = None;
    c.extra.push((265, vec![0x01]));
    assert!(matches!(decode(&c), Err(TokenError::ClaimsDecode(_))));
}

#[test]
fn validation_reports_psatokens_first_failure() {
    // Lifecycle is checked before the nonce, the nonce before the client ID.
    let mut c = PsaClaims::profile_2();
    c.nonce = None;
    c.security_lifecycle = None;
    c.client_id = None;
    rejects(&c, "validating security lifecycle: missing mandatory claim");
    c.security_lifecycle = Some(0x3000);
    rejects(&c, "validating nonce: missing mandatory claim");
}

#[test]
fn unknown_duplicate_and_mistyped_claims() {
    // Unknown claims (even deeply nested ones) are ignored.
    let mut c = PsaClaims::profile_2();
    c.extra.push((-1, vec![0xa1, 0x01, 0x82, 0x01, 0x02]));
    c.extra.push((9999, cbor_text("hello")));
    let token = accepts(&c);
    assert_eq!(
        token.claims().vsi.as_deref(),
        Some("https://psa-verifier.org")
    );
    // Profile-1 keys inside a profile-2 token are ignored too, whatever
    // their type.
    c.extra.push((-75008, cbor_text("not a nonce")));
    assert!(decode(&c).is_ok());

    // A claim given twice is rejected.
    let mut c = PsaClaims::profile_2();
    c.extra.push((2394, vec![0x02]));
    match decode(&c) {
        Err(TokenError::ClaimsDecode(m)) => assert!(m.contains("duplicate"), "{m}"),
        other => panic!("{other:?}"),
    }

    // Wrong types are decode errors, not validation errors.
    for (key, value) in [
        (10i64, cbor_text("nonce")),
        (2394, cbor_text("1")),
        (2395, vec![0x20]),
        (2396, vec![0x01]),
        (2399, vec![0xa0]),
        (2400, vec![0x41, 0x00]),
    ] {
        let mut c = PsaClaims::profile_2();
        match key {
            10 => c.nonce = None,
            2394 => c.client_id = None,
            2395 => c.security_lifecycle = None,
            2396 => c.implementation_id = None,
            2399 => c.sw_components = None,
            _ => c.vsi = None,
        }
        c.extra.push((key, value));
        assert!(
            matches!(decode(&c), Err(TokenError::ClaimsDecode(_))),
            "key {key}"
        );
    }

    // A component that is not a map.
    let mut c = PsaClaims::profile_2();
    c.sw_components = None;
    c.extra.push((2399, vec![0x81, 0x01]));
    assert!(matches!(decode(&c), Err(TokenError::ClaimsDecode(_))));
}

#[test]
fn structural_limits() {
    // Nesting deeper than 32 levels in an unknown claim.
    let mut c = PsaClaims::profile_2();
    let mut deep = vec![0x81; 40];
    deep.push(0x00);
    c.extra.push((7777, deep));
    match decode(&c) {
        Err(TokenError::ClaimsDecode(m)) => assert!(m.contains("nested"), "{m}"),
        other => panic!("{other:?}"),
    }

    // Indefinite-length items anywhere in the claims.
    let mut c = PsaClaims::profile_2();
    c.extra.push((7777, vec![0x9f, 0x01, 0xff]));
    match decode(&c) {
        Err(TokenError::ClaimsDecode(m)) => assert!(m.contains("indefinite"), "{m}"),
        other => panic!("{other:?}"),
    }

    // Trailing bytes after the claims map.
    let mut payload = PsaClaims::profile_2().encode_claims();
    payload.push(0x00);
    let token = psa::sign1(&payload, &deterministic_key(1).unwrap()).unwrap();
    match Token::decode(&token) {
        Err(TokenError::ClaimsDecode(m)) => assert!(m.contains("extraneous"), "{m}"),
        other => panic!("{other:?}"),
    }

    // A payload that is not a map.
    let token = psa::sign1(&[0x80], &deterministic_key(1).unwrap()).unwrap();
    assert!(matches!(
        Token::decode(&token),
        Err(TokenError::ClaimsDecode(_))
    ));
}

#[test]
fn envelope_variants() {
    let key = deterministic_key(2).unwrap();
    let tagged = PsaClaims::profile_2().sign(&key).unwrap();
    assert_eq!(tagged[0], 0xd2);

    // Untagged COSE_Sign1 is accepted.
    let untagged = Token::decode(&tagged[1..]).unwrap();
    untagged.verify_signature(&key.verifying_key()).unwrap();

    // Trailing data after the envelope is not.
    let mut trailing = tagged.clone();
    trailing.push(0x00);
    assert!(matches!(
        Token::decode(&trailing),
        Err(TokenError::CoseDecode(_))
    ));

    // A tampered payload decodes but fails verification with Veraison's
    // exact wording. The VSI's last character sits just before the nonce.
    let mut tampered = tagged.clone();
    let needle = b"verifier.org";
    let at = tampered
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    tampered[at] = b'V';
    let token = Token::decode(&tampered).unwrap();
    assert_eq!(
        token.claims().vsi.as_deref(),
        Some("https://psa-Verifier.org")
    );
    assert_eq!(
        token
            .verify_signature(&key.verifying_key())
            .unwrap_err()
            .to_string(),
        "signature verification failed: verification error"
    );

    // A tampered signature.
    let mut bad_sig = tagged;
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x80;
    let token = Token::decode(&bad_sig).unwrap();
    assert!(matches!(
        token.verify_signature(&key.verifying_key()),
        Err(TokenError::Signature(CryptoError::Verification))
    ));
}

#[test]
fn algorithms() {
    // ES384 with a P-384 key.
    let p384 = deterministic_key_on(Curve::P384, 3).unwrap();
    let bytes = PsaClaims::profile_2().sign(&p384).unwrap();
    let token = Token::decode(&bytes).unwrap();
    assert_eq!(token.algorithm().unwrap().jws_name(), "ES384");
    token.verify_signature(&p384.verifying_key()).unwrap();
    // The same token checked with a P-256 key: the key cannot do ES384.
    let p256 = deterministic_key(3).unwrap();
    assert!(matches!(
        token.verify_signature(&p256.verifying_key()),
        Err(TokenError::Signature(CryptoError::AlgorithmMismatch { .. }))
    ));

    // A header naming EdDSA (-8) decodes, but cannot be verified.
    let payload = PsaClaims::profile_2().encode_claims();
    let eddsa = psa::sign1_with_alg(&payload, &p256, -8).unwrap();
    let token = Token::decode(&eddsa).unwrap();
    let err = token.verify_signature(&p256.verifying_key()).unwrap_err();
    assert!(matches!(err, TokenError::UnsupportedAlgorithm(_)), "{err}");

    // A header claiming ES256 over a P-384 signature fails as a mismatch.
    let lying = psa::sign1_with_alg(&payload, &p384, psa::COSE_ES256).unwrap();
    let token = Token::decode(&lying).unwrap();
    assert!(matches!(
        token.verify_signature(&p384.verifying_key()),
        Err(TokenError::Signature(CryptoError::AlgorithmMismatch { .. }))
    ));
}
