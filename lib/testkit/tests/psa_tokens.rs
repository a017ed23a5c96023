//! Minted PSA tokens decode and verify with vouch-psa-token; garbled ones
//! are rejected for the right reason.

use std::time::Instant;

use vouch_crypto::{Curve, VerifyingKey};
use vouch_psa_token::{Profile, Token, TokenError};
use vouch_testkit::keys::{deterministic_key, deterministic_key_on, generate_device_key, spki_pem};
use vouch_testkit::psa::{self, Device, KeySet, NonceClaim, PsaClaims, SwComponent};

#[test]
fn minted_tokens_verify_for_every_profile() {
    let key = generate_device_key().unwrap();
    for (claims, profile, name) in [
        (PsaClaims::profile_1(), Profile::P1, psa::PROFILE_1),
        (PsaClaims::profile_2(), Profile::P2, psa::PROFILE_2),
        (PsaClaims::profile_2_tfm(), Profile::P2, psa::PROFILE_2_TFM),
    ] {
        let bytes = claims.sign(&key).unwrap();
        let token = Token::decode(&bytes).unwrap();
        token.verify_signature(&key.verifying_key()).unwrap();
        let c = token.claims();
        assert_eq!(c.profile, profile);
        assert_eq!(c.profile_str(), name);
        assert_eq!(c.implementation_id, psa::ACME_IMPLEMENTATION_ID);
        assert_eq!(c.instance_id, psa::ACME_INSTANCE_ID);
        assert_eq!(c.nonce, psa::ACME_NONCE);
        assert_eq!(c.client_id, 1);
        assert_eq!(c.security_lifecycle, 0x3000);
        assert_eq!(c.vsi.as_deref(), Some("https://psa-verifier.org"));
        let types: Vec<_> = c
            .sw_components
            .iter()
            .map(|s| s.measurement_type.as_deref().unwrap())
            .collect();
        assert_eq!(types, ["BL", "PRoT", "ARoT"]);
        // The payload is exactly the encoded claims.
        assert_eq!(token.payload(), claims.encode_claims().as_slice());
    }
}

#[test]
fn minted_p384_tokens_verify() {
    let key = deterministic_key_on(Curve::P384, 9).unwrap();
    let token = Token::decode(&PsaClaims::profile_2().sign(&key).unwrap()).unwrap();
    assert_eq!(token.protected_header(), &[0xa1, 0x01, 0x38, 0x22]);
    token.verify_signature(&key.verifying_key()).unwrap();
}

#[test]
fn device_tokens_carry_the_device_identity() {
    let device = Device::from_seed(1234).unwrap();
    let nonce = [0x42u8; 48];
    let comps = vec![SwComponent::new("BL", "1.0.0", &[1; 32], &[2; 32])];
    let token = Token::decode(&device.token(&nonce, &comps).unwrap()).unwrap();
    // The trust anchor is the device's SPKI PEM.
    let anchor = VerifyingKey::from_pem(&device.spki_pem()).unwrap();
    token.verify_signature(&anchor).unwrap();
    let c = token.claims();
    assert_eq!(c.implementation_id, device.implementation_id);
    assert_eq!(c.instance_id, device.instance_id);
    assert_eq!(c.nonce, nonce);
    assert_eq!(c.sw_components.len(), 1);
    assert_eq!(c.sw_components[0].version.as_deref(), Some("1.0.0"));

    // Another device's key does not verify it.
    let other = Device::from_seed(1235).unwrap();
    assert_eq!(
        token
            .verify_signature(&other.key.verifying_key())
            .unwrap_err()
            .to_string(),
        "signature verification failed: verification error"
    );
    assert_eq!(spki_pem(&device.key), device.spki_pem());
}

#[test]
fn deterministic_keys_follow_the_documented_derivation() {
    // scalar = SHA-256("vouch-testkit/device-key/v1" || seed_be || counter_be),
    // counter 0 unless that scalar is invalid.
    for seed in [0u64, 1, 99, u64::MAX] {
        let mut input = b"vouch-testkit/device-key/v1".to_vec();
        input.extend_from_slice(&seed.to_be_bytes());
        input.extend_from_slice(&0u32.to_be_bytes());
        let expected = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &input);
        let key = deterministic_key(seed).unwrap();
        assert_eq!(key.private_scalar(), expected.as_ref());
    }
}

#[test]
fn garbled_tokens_are_rejected_with_the_expected_errors() {
    let key = deterministic_key(3).unwrap();
    let reject = |claims: PsaClaims, expected: &str| {
        let err = Token::decode(&claims.sign(&key).unwrap()).unwrap_err();
        assert_eq!(err.to_string(), expected);
    };

    let mut c = PsaClaims::profile_2();
    c.nonce = None;
    reject(c, "validating nonce: missing mandatory claim");

    let mut c = PsaClaims::profile_2();
    c.nonce = Some(NonceClaim::Multiple(vec![vec![1; 32], vec![2; 32]]));
    reject(c, "validating nonce: wrong syntax: got 2 nonces, want 1");

    reject(
        PsaClaims::profile_2().with_nonce(&[0; 16]),
        "validating nonce: wrong syntax: length 16 (hash MUST be 32, 48 or 64 bytes)",
    );

    let mut c = PsaClaims::profile_2();
    c.implementation_id = Some(vec![0; 33]);
    reject(
        c,
        "validating implementation id: wrong syntax: invalid length 33 (MUST be 32 bytes)",
    );

    let mut c = PsaClaims::profile_2();
    c.profile = Some("http://arm.com/psa/3.0.0".to_owned());
    reject(
        c,
        r#"failed CBOR decoding of PSA claims: unknown profile: "http://arm.com/psa/3.0.0""#,
    );

    let mut c = PsaClaims::profile_1();
    c.boot_seed = None;
    reject(c, "validating boot seed: missing mandatory claim");

    // Profile-2 claims under profile-1 keys, announced as profile 2: the
    // EAT keys are missing.
    let mut c = PsaClaims::profile_2();
    c.key_set = KeySet::Profile1;
    c.profile = None;
    c.extra.push((265, {
        let mut v = vec![0x78, psa::PROFILE_2.len() as u8];
        v.extend_from_slice(psa::PROFILE_2.as_bytes());
        v
    }));
    reject(c, "validating security lifecycle: missing mandatory claim");

    // A bad signature.
    let mut bytes = PsaClaims::profile_2().sign(&key).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let token = Token::decode(&bytes).unwrap();
    assert!(matches!(
        token.verify_signature(&key.verifying_key()),
        Err(TokenError::Signature(_))
    ));
}

#[test]
fn minting_many_devices_is_fast() {
    // A scaled-down version of the load test's setup: seeded devices, one
    // token each, all verified.
    const N: u64 = 500;
    let start = Instant::now();
    let comps = SwComponent::acme_components();
    for seed in 0..N {
        let device = Device::from_seed(seed).unwrap();
        let nonce = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &seed.to_be_bytes());
        let bytes = device.token(nonce.as_ref(), &comps).unwrap();
        let token = Token::decode(&bytes).unwrap();
        token.verify_signature(&device.key.verifying_key()).unwrap();
        assert_eq!(token.claims().instance_id, device.instance_id);
    }
    let elapsed = start.elapsed();
    // Generous bound (debug build, shared 2-core machine): the point is to
    // catch an accidental per-token setup cost, not to benchmark.
    assert!(elapsed.as_secs() < 20, "{N} devices took {elapsed:?}");
}
