//! The key and signature encodings vouch-crypto reads from outside: public
//! keys in CoRIM trust anchors, certificates and evidence (SPKI DER,
//! `PUBLIC KEY` PEM, EC JWK, raw SEC1 points), CoRIM signer keys from the
//! operator's PEM bundles and JWK sets, the EAR signing key file (PKCS#8,
//! SEC1, PEM, private JWK), and the signature forms TPM quotes and X.509
//! carry.
//!
//! Every input is offered to every reader. Besides "never panic":
//! - a public key read from any encoding writes back to every encoding
//!   (SPKI DER, PEM, JWK, SEC1 point) and reads back as the same key, and
//!   its RFC 7638 thumbprint is 43 base64url characters;
//! - a private key read from any encoding has a scalar of its curve's field
//!   length, writes back to PKCS#8 and JWK that read as the same key, and
//!   signs what its public half verifies;
//! - a fixed `r || s` signature re-encodes to DER, scalars build a fixed
//!   signature of twice the field length, and no signature made of fuzz
//!   bytes verifies under a fixed key.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use vouch_crypto::{
    Algorithm, Curve, Hash, SigningKey, VerifyingKey, fixed_signature_from_scalars,
    fixed_signature_to_der,
};

const CURVES: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];
const HASHES: [Hash; 3] = [Hash::Sha256, Hash::Sha384, Hash::Sha512];
/// What fuzz-byte signatures are checked over.
const MESSAGE: &[u8] = b"vouch fuzz message";
/// What the seed signatures sign: not [`MESSAGE`], so that a seed (or a
/// mutation of one) verifying over [`MESSAGE`] would be a real forgery.
const SEED_MESSAGE: &[u8] = b"vouch fuzz seed";

/// One fixed key per curve, from fixed scalars, so signature checks in
/// every run use the same keys.
fn fixed_keys() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        CURVES
            .iter()
            .map(|&curve| {
                // Below every curve's order (P-521's top byte holds one bit).
                let mut scalar = vec![0x11; curve.field_len()];
                scalar[0] = 0x01;
                SigningKey::from_private_scalar(curve, &scalar).expect("fixed fuzz key")
            })
            .collect()
    })
}

fn check_public(key: &VerifyingKey) {
    let curve = key.curve();
    assert_eq!(key.algorithm().curve(), curve);
    assert_eq!(key.sec1_point().len(), curve.point_len());
    let again = VerifyingKey::from_spki_der(&key.to_spki_der()).expect("SPKI DER reads back");
    assert_eq!(&again, key, "SPKI DER round trip");
    let again = VerifyingKey::from_pem(&key.to_pem()).expect("PEM reads back");
    assert_eq!(&again, key, "PEM round trip");
    let again = VerifyingKey::from_jwk(&key.to_jwk()).expect("JWK reads back");
    assert_eq!(&again, key, "JWK round trip");
    let again =
        VerifyingKey::from_sec1_point(curve, key.sec1_point()).expect("SEC1 point reads back");
    assert_eq!(&again, key, "SEC1 round trip");
    for other in CURVES.iter().filter(|&&c| c != curve) {
        assert!(
            VerifyingKey::from_sec1_point(*other, key.sec1_point()).is_err(),
            "point read on {other:?}"
        );
    }
    assert_eq!(key.thumbprint().len(), 43);
}

fn check_private(key: &SigningKey) {
    let curve = key.curve();
    assert_eq!(key.private_scalar().len(), curve.field_len());
    let public = key.verifying_key();
    check_public(&public);
    let again = SigningKey::from_pkcs8_der(&key.to_pkcs8_der()).expect("PKCS#8 reads back");
    assert_eq!(
        again.private_scalar(),
        key.private_scalar(),
        "PKCS#8 round trip"
    );
    assert_eq!(again.verifying_key(), public);
    let again = SigningKey::from_pem(&key.to_pkcs8_pem()).expect("PKCS#8 PEM reads back");
    assert_eq!(
        again.private_scalar(),
        key.private_scalar(),
        "PEM round trip"
    );
    let again = SigningKey::from_jwk(&key.to_jwk()).expect("private JWK reads back");
    assert_eq!(
        again.private_scalar(),
        key.private_scalar(),
        "JWK round trip"
    );
    assert_eq!(again.verifying_key(), public);
    let signature = key.sign(MESSAGE).expect("an accepted key signs");
    public
        .verify(key.algorithm(), MESSAGE, &signature)
        .expect("the public half verifies what the key signed");
}

fn check_signature(data: &[u8]) {
    for (curve, key) in CURVES.iter().zip(fixed_keys()) {
        let public = key.verifying_key();
        let n = curve.field_len();
        if let Ok(der) = fixed_signature_to_der(*curve, data) {
            assert_eq!(data.len(), 2 * n);
            assert!(
                public
                    .verify_asn1(curve.algorithm().hash(), MESSAGE, &der)
                    .is_err(),
                "forged DER signature"
            );
        }
        let (r, s) = data.split_at(data.len() / 2);
        if let Ok(fixed) = fixed_signature_from_scalars(*curve, r, s) {
            assert_eq!(fixed.len(), 2 * n);
            assert!(fixed_signature_to_der(*curve, &fixed).is_ok());
        }
        // Only inputs of a signature's size reach the arithmetic.
        if data.len() == 2 * n {
            assert!(
                public.verify(curve.algorithm(), MESSAGE, data).is_err(),
                "forged signature"
            );
            for hash in HASHES {
                assert!(
                    public.verify_with_hash(hash, MESSAGE, data).is_err(),
                    "forged signature"
                );
            }
        }
        if data.first() == Some(&0x30) && data.len() <= 2 * n + 9 {
            for hash in HASHES {
                assert!(
                    public.verify_asn1(hash, MESSAGE, data).is_err(),
                    "forged DER signature"
                );
            }
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for key in fixed_keys() {
        let public = key.verifying_key();
        out.push(public.to_spki_der());
        out.push(public.to_pem().into_bytes());
        out.push(public.to_jwk().to_string().into_bytes());
        out.push(public.sec1_point().to_vec());
        out.push(key.to_pkcs8_der());
        out.push(key.to_pkcs8_pem().into_bytes());
        out.push(key.to_jwk().to_string().into_bytes());
        let signature = key.sign(SEED_MESSAGE).expect("sign");
        if let Ok(der) = fixed_signature_to_der(key.curve(), &signature) {
            out.push(der);
        }
        out.push(signature);
        // `openssl ecparam -genkey` output: parameters, then the key.
        let mut with_params =
            "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                .to_owned();
        with_params.push_str(&key.to_pkcs8_pem());
        out.push(with_params.into_bytes());
        // A CoRIM signer bundle: two keys in one PEM text.
        out.push(format!("{}{}", public.to_pem(), public.to_pem()).into_bytes());
    }
    out
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        if let Ok(key) = VerifyingKey::from_spki_der(data) {
            check_public(&key);
        }
        for curve in CURVES {
            if let Ok(key) = VerifyingKey::from_sec1_point(curve, data) {
                check_public(&key);
            }
        }
        for reader in [SigningKey::from_pkcs8_der, SigningKey::from_sec1_der] {
            if let Ok(key) = reader(data) {
                check_private(&key);
            }
        }
        if let Ok(text) = std::str::from_utf8(data) {
            if let Ok(key) = VerifyingKey::from_pem(text) {
                check_public(&key);
            }
            for reader in [SigningKey::from_pem, SigningKey::from_pkcs8_pem, SigningKey::from_sec1_pem] {
                if let Ok(key) = reader(text) {
                    check_private(&key);
                }
            }
            let _ = Algorithm::from_jws_name(text);
        }
        if let Ok(jwk) = serde_json::from_slice::<Value>(data) {
            if let Ok(key) = VerifyingKey::from_jwk(&jwk) {
                check_public(&key);
            }
            if let Ok(key) = SigningKey::from_jwk(&jwk) {
                check_private(&key);
                if jwk.get("x").is_some() || jwk.get("y").is_some() {
                    let public = VerifyingKey::from_jwk(&jwk).expect("x and y of an accepted private JWK");
                    assert_eq!(public, key.verifying_key(), "accepted a d that does not match x, y");
                }
            }
        }
        check_signature(data);
    }
);
