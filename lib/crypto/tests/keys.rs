//! Key encodings, round trips and sign/verify, including the shared
//! conformance vectors (read at run time, never copied).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vouch_crypto::{Algorithm, CryptoError, Curve, SigningKey, VerifyingKey};
use vouch_testkit::vectors;

fn read_text(dir: &Path, rel: &str) -> String {
    String::from_utf8(vectors::read(dir, rel)).expect("vector is UTF-8")
}

fn read_json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&vectors::read(dir, rel)).expect("vector is JSON")
}

/// First 16 hex digits of SHA-256(SPKI DER): the fingerprint MANIFEST.md uses.
fn fingerprint(key: &VerifyingKey) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &key.to_spki_der());
    hex::encode(&digest.as_ref()[..8])
}

// ---------------------------------------------------------------- round trips

#[test]
fn generated_keys_round_trip_every_encoding() {
    for curve in [Curve::P256, Curve::P384] {
        let key = SigningKey::generate(curve).unwrap();
        assert_eq!(key.curve(), curve);
        assert_eq!(key.algorithm(), curve.algorithm());
        let public = key.verifying_key();
        assert_eq!(public.curve(), curve);
        assert_eq!(public.sec1_point().len(), curve.point_len());

        // Private encodings.
        let pkcs8_pem = key.to_pkcs8_pem();
        assert!(pkcs8_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let from_pem = SigningKey::from_pkcs8_pem(&pkcs8_pem).unwrap();
        assert_eq!(from_pem.verifying_key(), public);
        let from_any_pem = SigningKey::from_pem(&pkcs8_pem).unwrap();
        assert_eq!(from_any_pem.verifying_key(), public);
        let from_der = SigningKey::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
        assert_eq!(from_der.verifying_key(), public);
        let jwk = key.to_jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], curve.jwk_name());
        let from_jwk = SigningKey::from_jwk(&jwk).unwrap();
        assert_eq!(from_jwk.verifying_key(), public);
        assert_eq!(from_jwk.private_scalar(), key.private_scalar());
        let scalar = key.private_scalar();
        assert_eq!(scalar.len(), curve.field_len());
        let from_scalar = SigningKey::from_private_scalar(curve, scalar).unwrap();
        assert_eq!(from_scalar.verifying_key(), public);

        // Public encodings.
        let spki = public.to_spki_der();
        assert_eq!(VerifyingKey::from_spki_der(&spki).unwrap(), public);
        let pem = public.to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(VerifyingKey::from_pem(&pem).unwrap(), public);
        let pub_jwk = public.to_jwk();
        assert_eq!(pub_jwk.as_object().unwrap().len(), 4);
        assert!(pub_jwk.get("d").is_none());
        assert_eq!(VerifyingKey::from_jwk(&pub_jwk).unwrap(), public);
        assert_eq!(
            VerifyingKey::from_sec1_point(curve, public.sec1_point()).unwrap(),
            public
        );
        // The public half of a private JWK is the public key.
        assert_eq!(VerifyingKey::from_jwk(&jwk).unwrap(), public);
        assert_eq!(
            VerifyingKey::from_jwk(&jwk).unwrap().thumbprint(),
            public.thumbprint()
        );
    }
}

#[test]
fn reparsed_key_signs_for_the_same_public_key() {
    // A key re-read from its PKCS#8 export signs for the same public key.
    let key = SigningKey::generate_p256().unwrap();
    let again = SigningKey::from_pem(&key.to_pkcs8_pem()).unwrap();
    let sig = again.sign(b"msg").unwrap();
    key.verifying_key()
        .verify(Algorithm::Es256, b"msg", &sig)
        .unwrap();
}

// ------------------------------------------------------------- sign / verify

#[test]
fn sign_then_verify_and_tampering_fails() {
    for curve in [Curve::P256, Curve::P384] {
        let key = SigningKey::generate(curve).unwrap();
        let alg = key.algorithm();
        let public = key.verifying_key();
        let msg = b"the quick brown fox";
        let sig = key.sign(msg).unwrap();
        assert_eq!(sig.len(), alg.signature_len());
        public.verify(alg, msg, &sig).unwrap();

        // ECDSA is randomised: two signatures differ but both verify.
        let sig2 = key.sign(msg).unwrap();
        assert_ne!(sig, sig2);
        public.verify(alg, msg, &sig2).unwrap();

        for i in [0, sig.len() / 2, sig.len() - 1] {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            assert!(matches!(
                public.verify(alg, msg, &bad),
                Err(CryptoError::Verification)
            ));
        }
        assert!(matches!(
            public.verify(alg, b"the quick brown fox.", &sig),
            Err(CryptoError::Verification)
        ));
        assert!(matches!(
            public.verify(alg, msg, &sig[..sig.len() - 1]),
            Err(CryptoError::Verification)
        ));
        assert!(matches!(
            public.verify(alg, msg, &[]),
            Err(CryptoError::Verification)
        ));
        let other = SigningKey::generate(curve).unwrap().verifying_key();
        assert!(matches!(
            other.verify(alg, msg, &sig),
            Err(CryptoError::Verification)
        ));
        let err = public.verify(alg, msg, b"").unwrap_err();
        assert_eq!(err.to_string(), "verification error");
    }
}

#[test]
fn algorithm_and_curve_must_match() {
    let p256 = SigningKey::generate(Curve::P256).unwrap();
    let sig = p256.sign(b"m").unwrap();
    let err = p256
        .verifying_key()
        .verify(Algorithm::Es384, b"m", &sig)
        .unwrap_err();
    assert!(matches!(
        err,
        CryptoError::AlgorithmMismatch {
            alg: Algorithm::Es384,
            curve: Curve::P256
        }
    ));
    let p384 = SigningKey::generate(Curve::P384).unwrap();
    let sig = p384.sign(b"m").unwrap();
    assert!(matches!(
        p384.verifying_key().verify(Algorithm::Es256, b"m", &sig),
        Err(CryptoError::AlgorithmMismatch { .. })
    ));
}

#[test]
fn debug_does_not_leak_the_private_scalar() {
    let key = SigningKey::generate_p256().unwrap();
    let scalar_b64 = URL_SAFE_NO_PAD.encode(key.private_scalar());
    let debug = format!("{key:?}");
    assert!(!debug.contains(&scalar_b64));
    assert!(debug.contains(&key.verifying_key().thumbprint()));
}

// ---------------------------------------------------------------- bad input

#[test]
fn malformed_public_keys_are_rejected() {
    let good = SigningKey::generate_p256().unwrap().verifying_key();

    // Wrong PEM label.
    let private_pem = SigningKey::generate_p256().unwrap().to_pkcs8_pem();
    let err = VerifyingKey::from_pem(&private_pem).unwrap_err();
    assert_eq!(err.to_string(), r#"unsupported key type: "PRIVATE KEY""#);

    // Truncated and trailing DER.
    let spki = good.to_spki_der();
    assert!(matches!(
        VerifyingKey::from_spki_der(&spki[..spki.len() - 1]),
        Err(CryptoError::DerDecode(_))
    ));
    let mut trailing = spki.clone();
    trailing.push(0);
    assert!(matches!(
        VerifyingKey::from_spki_der(&trailing),
        Err(CryptoError::DerDecode(_))
    ));

    // A point off the curve.
    let mut off_curve = good.sec1_point().to_vec();
    off_curve[64] ^= 0x01;
    assert!(matches!(
        VerifyingKey::from_sec1_point(Curve::P256, &off_curve),
        Err(CryptoError::InvalidKey(_))
    ));
    // Compressed and wrong-length points.
    let mut compressed = vec![0x02];
    compressed.extend_from_slice(&good.sec1_point()[1..33]);
    assert!(matches!(
        VerifyingKey::from_sec1_point(Curve::P256, &compressed),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        VerifyingKey::from_sec1_point(Curve::P384, good.sec1_point()),
        Err(CryptoError::InvalidKey(_))
    ));

    // JWKs.
    let jwk = good.to_jwk();
    let mut no_y = jwk.clone();
    no_y.as_object_mut().unwrap().remove("y");
    assert!(matches!(
        VerifyingKey::from_jwk(&no_y),
        Err(CryptoError::JwkDecode(_))
    ));
    let mut rsa = jwk.clone();
    rsa["kty"] = json!("RSA");
    assert!(matches!(
        VerifyingKey::from_jwk(&rsa),
        Err(CryptoError::UnsupportedKeyType(_))
    ));
    let mut p521 = jwk.clone();
    p521["crv"] = json!("P-521");
    assert!(matches!(
        VerifyingKey::from_jwk(&p521),
        Err(CryptoError::UnsupportedCurve(_))
    ));
    let mut short_x = jwk.clone();
    short_x["x"] = json!(URL_SAFE_NO_PAD.encode([1u8; 31]));
    assert!(matches!(
        VerifyingKey::from_jwk(&short_x),
        Err(CryptoError::JwkDecode(_))
    ));
    let mut bad_b64 = jwk;
    bad_b64["x"] = json!("***");
    assert!(matches!(
        VerifyingKey::from_jwk(&bad_b64),
        Err(CryptoError::JwkDecode(_))
    ));
    assert!(matches!(
        VerifyingKey::from_jwk(&json!("not an object")),
        Err(CryptoError::JwkDecode(_))
    ));
}

#[test]
fn unsupported_curve_in_spki_is_named() {
    // SPKI for a secp256k1 key (OID 1.3.132.0.10): the curve is reported.
    let mut der = vec![
        0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
        0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00, 0x04,
    ];
    der.extend([0x11; 64]);
    let err = VerifyingKey::from_spki_der(&der).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedCurve(_)), "{err}");
    assert!(err.to_string().contains("1.3.132.0.10"), "{err}");

    // An Ed25519 SPKI (OID 1.3.101.112) is not an EC key at all.
    let mut ed = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    ed.extend([0x22; 32]);
    assert!(matches!(
        VerifyingKey::from_spki_der(&ed),
        Err(CryptoError::UnsupportedKeyType(_))
    ));
}

#[test]
fn malformed_private_keys_are_rejected() {
    assert!(matches!(
        SigningKey::from_private_scalar(Curve::P256, &[0u8; 32]),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_private_scalar(Curve::P256, &[0xffu8; 32]),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_private_scalar(Curve::P256, &[1u8; 48]),
        Err(CryptoError::InvalidKey(_))
    ));
    let public_pem = SigningKey::generate_p256()
        .unwrap()
        .verifying_key()
        .to_pem();
    assert!(matches!(
        SigningKey::from_pem(&public_pem),
        Err(CryptoError::UnsupportedPemLabel(_))
    ));
    let pkcs8 = SigningKey::generate_p256().unwrap().to_pkcs8_pem();
    assert!(matches!(
        SigningKey::from_sec1_pem(&pkcs8),
        Err(CryptoError::UnsupportedPemLabel(_))
    ));

    // A JWK whose d does not match x/y.
    let a = SigningKey::generate_p256().unwrap().to_jwk();
    let b = SigningKey::generate_p256().unwrap().to_jwk();
    let mut mixed = a.clone();
    mixed["d"] = b["d"].clone();
    assert!(matches!(
        SigningKey::from_jwk(&mixed),
        Err(CryptoError::InvalidKey(_))
    ));
    // A public JWK is not a private key.
    let mut public = a;
    public.as_object_mut().unwrap().remove("d");
    assert!(matches!(
        SigningKey::from_jwk(&public),
        Err(CryptoError::JwkDecode(_))
    ));
}

// ---------------------------------------------------------------- vectors

#[test]
fn psa_vector_keys_parse_and_halves_agree() {
    let Some(dir) = vectors::dir() else { return };

    // ec.p256: private JWK, evcli public JWK, derived PEMs.
    let ec_p256 = SigningKey::from_jwk(&read_json(&dir, "psa/keys/ec.p256.jwk")).unwrap();
    let ec_p256_pub = ec_p256.verifying_key();
    assert_eq!(fingerprint(&ec_p256_pub), "51b944cdfa544d4c");
    assert_eq!(
        ec_p256_pub.thumbprint(),
        "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
    );
    for public in [
        VerifyingKey::from_jwk(&read_json(&dir, "psa/keys/ec256-pub.evcli.json")).unwrap(),
        VerifyingKey::from_pem(&read_text(&dir, "psa/keys/derived/ec.p256.pub.pem")).unwrap(),
        SigningKey::from_pkcs8_pem(&read_text(&dir, "psa/keys/derived/ec.p256.priv.pkcs8.pem"))
            .unwrap()
            .verifying_key(),
    ] {
        assert_eq!(public, ec_p256_pub);
    }
    // The JWK d and the PKCS#8 scalar are the same key.
    let pkcs8 =
        SigningKey::from_pem(&read_text(&dir, "psa/keys/derived/ec.p256.priv.pkcs8.pem")).unwrap();
    assert_eq!(pkcs8.private_scalar(), ec_p256.private_scalar());
    // Our PKCS#8 export is byte-identical to OpenSSL's.
    assert_eq!(
        ec_p256.to_pkcs8_pem(),
        read_text(&dir, "psa/keys/derived/ec.p256.priv.pkcs8.pem")
    );
    // Our JWK export reproduces the vector's members.
    let jwk = read_json(&dir, "psa/keys/ec.p256.jwk");
    let ours = ec_p256.to_jwk();
    for member in ["kty", "crv", "x", "y", "d"] {
        assert_eq!(ours[member], jwk[member], "{member}");
    }

    // ec.p256.alt.
    let alt = SigningKey::from_jwk(&read_json(&dir, "psa/keys/ec.p256.alt.jwk")).unwrap();
    assert_eq!(fingerprint(&alt.verifying_key()), "4222feac9b97e812");
    assert_eq!(
        VerifyingKey::from_pem(&read_text(&dir, "psa/keys/derived/ec.p256.alt.pub.pem")).unwrap(),
        alt.verifying_key()
    );

    // SEC1 private keys.
    let unit =
        SigningKey::from_sec1_pem(&read_text(&dir, "psa/keys/psa-iot-unit-key.pem")).unwrap();
    assert_eq!(fingerprint(&unit.verifying_key()), "45d852b8ab34e60e");
    assert_eq!(
        VerifyingKey::from_pem(&read_text(
            &dir,
            "psa/keys/derived/psa-iot-unit-key.pub.pem"
        ))
        .unwrap(),
        unit.verifying_key()
    );
    let tfm = SigningKey::from_pem(&read_text(&dir, "psa/keys/tfm-key.pem")).unwrap();
    assert_eq!(fingerprint(&tfm.verifying_key()), "7b1a17147ca907e1");
    assert_eq!(
        VerifyingKey::from_pem(&read_text(&dir, "psa/keys/tfm-public.pem")).unwrap(),
        tfm.verifying_key()
    );
    // Our PEM export of the TF-M public key is byte-identical to the vector.
    assert_eq!(
        tfm.verifying_key().to_pem(),
        read_text(&dir, "psa/keys/tfm-public.pem")
    );
}

#[test]
fn ear_vector_keys_parse_and_halves_agree() {
    let Some(dir) = vectors::dir() else { return };

    let signer =
        SigningKey::from_jwk(&read_json(&dir, "ear/keys/veraison-ear-signing.skey.jwk")).unwrap();
    let public = signer.verifying_key();
    assert_eq!(fingerprint(&public), "66e2b23c32c65021");
    for other in [
        VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/verifier.pub.jwk")).unwrap(),
        VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/ear-arc-pkey.json")).unwrap(),
        SigningKey::from_jwk(&read_json(&dir, "ear/keys/ear-arc-skey.json"))
            .unwrap()
            .verifying_key(),
        VerifyingKey::from_pem(&read_text(&dir, "ear/keys/derived/verifier.pub.pem")).unwrap(),
    ] {
        assert_eq!(other, public);
    }

    let rust_ear =
        SigningKey::from_sec1_pem(&read_text(&dir, "ear/keys/rust-ear-ec_key.pem")).unwrap();
    assert_eq!(fingerprint(&rust_ear.verifying_key()), "05eecc487dd07ac2");
    for other in [
        VerifyingKey::from_pem(&read_text(&dir, "ear/keys/rust-ear-ec_key_pub.pem")).unwrap(),
        VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/rust-ear-ec_key_pub.jwk")).unwrap(),
        SigningKey::from_pkcs8_pem(&read_text(&dir, "ear/keys/rust-ear-skey.pem"))
            .unwrap()
            .verifying_key(),
    ] {
        assert_eq!(other, rust_ear.verifying_key());
    }
}

#[test]
fn p384_vector_keys_parse_and_halves_agree() {
    let Some(dir) = vectors::dir() else { return };

    let rak = SigningKey::from_jwk(&read_json(&dir, "cca/keys/ec.p384.jwk")).unwrap();
    assert_eq!(rak.curve(), Curve::P384);
    assert_eq!(fingerprint(&rak.verifying_key()), "7702f967b682116e");
    assert_eq!(
        rak.verifying_key().thumbprint(),
        "AuAA4nCiqRdphuNkHnwf9ig7iSUUc11J4cArghmdy9w"
    );
    assert_eq!(
        VerifyingKey::from_pem(&read_text(&dir, "cca/keys/derived/ec.p384.pub.pem")).unwrap(),
        rak.verifying_key()
    );
    assert_eq!(
        SigningKey::from_pem(&read_text(&dir, "cca/keys/derived/ec.p384.priv.pkcs8.pem"))
            .unwrap()
            .verifying_key(),
        rak.verifying_key()
    );

    let cpak =
        SigningKey::from_sec1_pem(&read_text(&dir, "cca/keys/tfrmm-cca_platform.pem")).unwrap();
    assert_eq!(fingerprint(&cpak.verifying_key()), "0928f896cb023265");
    for other in [
        VerifyingKey::from_pem(&read_text(&dir, "cca/keys/tfrmm-cca_platform.pub")).unwrap(),
        VerifyingKey::from_jwk(&read_json(&dir, "cca/keys/rust-cpak.json")).unwrap(),
    ] {
        assert_eq!(other, cpak.verifying_key());
    }
    let sig = cpak.sign(b"platform token").unwrap();
    assert_eq!(sig.len(), 96);
    cpak.verifying_key()
        .verify(Algorithm::Es384, b"platform token", &sig)
        .unwrap();
}

#[test]
fn legacy_bad_trust_anchor_keys_are_rejected() {
    let Some(dir) = vectors::dir() else { return };
    let iak_pub = |file: &str| -> String {
        read_json(&dir, &format!("psa/legacy-kvstore/{file}"))["attributes"]["iak-pub"]
            .as_str()
            .expect("iak-pub is a string")
            .to_owned()
    };

    // An EC PRIVATE KEY body under a PUBLIC KEY label: not an SPKI.
    let err = VerifyingKey::from_pem(&iak_pub("ta-bad-key.json")).unwrap_err();
    assert!(matches!(err, CryptoError::DerDecode(_)), "{err}");

    // `-----BEGIN -----` ... `-----END PUBLIC KEY-----`.
    let err = VerifyingKey::from_pem(&iak_pub("ta-bad-key-header.json")).unwrap_err();
    assert!(matches!(err, CryptoError::PemDecode(_)), "{err}");

    // A PRIVATE KEY label.
    let err = VerifyingKey::from_pem(&iak_pub("ta-bad-key-private-key.json")).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedPemLabel(ref l) if l == "PRIVATE KEY"));
    assert_eq!(err.to_string(), r#"unsupported key type: "PRIVATE KEY""#);

    // The good legacy records parse (ec.p256 and the PSA unit key).
    let good = VerifyingKey::from_pem(&iak_pub("ta-integ-endorsements.json")).unwrap();
    assert_eq!(fingerprint(&good), "51b944cdfa544d4c");
    let unit = VerifyingKey::from_pem(&iak_pub("ta-endorsements.json")).unwrap();
    assert_eq!(fingerprint(&unit), "45d852b8ab34e60e");
}

#[test]
fn verifies_an_upstream_es256_jws() {
    // A JWT Veraison's ear library signed with the Veraison EAR key: an
    // independent known-answer check of `verify`.
    let Some(dir) = vectors::dir() else { return };
    let jwt = read_text(&dir, "ear/jwt/ear-arc-testJWT.jwt");
    let jwt = jwt.trim();
    let (signing_input, sig_b64) = jwt.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let key = VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/verifier.pub.jwk")).unwrap();
    key.verify(Algorithm::Es256, signing_input.as_bytes(), &sig)
        .unwrap();
    let mut tampered = signing_input.as_bytes().to_vec();
    tampered[10] ^= 1;
    assert!(key.verify(Algorithm::Es256, &tampered, &sig).is_err());
}

mod properties {
    use proptest::prelude::*;
    use vouch_crypto::{SigningKey, VerifyingKey};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic_the_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = VerifyingKey::from_spki_der(&bytes);
            let _ = SigningKey::from_pkcs8_der(&bytes);
            let _ = SigningKey::from_sec1_der(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = VerifyingKey::from_pem(&text);
            let _ = SigningKey::from_pem(&text);
        }

        #[test]
        fn corrupted_spki_never_panics(flip in 0usize..91, bit in 0u8..8) {
            let key = SigningKey::generate_p256().unwrap().verifying_key();
            let mut der = key.to_spki_der();
            der[flip] ^= 1 << bit;
            if let Ok(parsed) = VerifyingKey::from_spki_der(&der) {
                // Only a flip that leaves a valid key on the curve may parse.
                prop_assert_eq!(parsed.to_spki_der(), der);
            }
        }
    }
}
