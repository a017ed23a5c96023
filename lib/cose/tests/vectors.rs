//! Real COSE_Sign1 envelopes from the shared conformance vectors, read at
//! run time: PSA tokens (MANIFEST.md §1 keys, §3 PSA-01...PSA-10) and signed
//! CoRIMs (§3 CORIM-01).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use vouch_cose::{ContentType, CoseError, Sign1, Sign1Ref};
use vouch_crypto::{Algorithm, CryptoError, SigningKey, VerifyingKey};
use vouch_testkit::vectors;

fn text(dir: &Path, rel: &str) -> String {
    String::from_utf8(vectors::read(dir, rel)).unwrap()
}

fn jwk(dir: &Path, rel: &str) -> VerifyingKey {
    VerifyingKey::from_jwk(&serde_json::from_slice(&vectors::read(dir, rel)).unwrap()).unwrap()
}

fn decode(dir: &Path, rel: &str) -> Sign1 {
    let bytes = vectors::read(dir, rel);
    let owned = Sign1::decode(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let borrowed = Sign1Ref::decode(&bytes).unwrap();
    assert_eq!(borrowed.to_sign1().unwrap(), owned, "{rel}");
    owned
}

fn assert_verifies(s: &Sign1, good: &VerifyingKey, others: &[&VerifyingKey], rel: &str) {
    s.verify(good).unwrap_or_else(|e| panic!("{rel}: {e}"));
    for other in others {
        assert!(
            matches!(
                s.verify(other),
                Err(CoseError::Signature(CryptoError::Verification))
            ),
            "{rel} verified with the wrong key"
        );
    }
}

#[test]
fn psa_tokens_verify_with_their_keys() {
    let Some(dir) = vectors::dir() else { return };
    let ec_p256 = jwk(&dir, "psa/keys/ec.p256.jwk");
    let unit = SigningKey::from_pem(&text(&dir, "psa/keys/psa-iot-unit-key.pem"))
        .unwrap()
        .verifying_key();
    let tfm = VerifyingKey::from_pem(&text(&dir, "psa/keys/tfm-public.pem")).unwrap();

    // Which key signs which token: MANIFEST.md §1.
    let cases: [(&str, &VerifyingKey, [&VerifyingKey; 2]); 7] = [
        ("acme-p2-good.services-scheme.cbor", &ec_p256, [&unit, &tfm]),
        ("acme-p2-good.services-e2e.cbor", &ec_p256, [&unit, &tfm]),
        ("acme-p2-integ-noversion.cbor", &ec_p256, [&unit, &tfm]),
        ("p1-unit-legacy.cbor", &unit, [&ec_p256, &tfm]),
        ("tfm-p2-sign1.cbor", &tfm, [&ec_p256, &unit]),
        ("tfm-p1-sign1.cbor", &tfm, [&ec_p256, &unit]),
        ("tfm-p1-sign1.psatoken-gotest.cbor", &tfm, [&ec_p256, &unit]),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(dir.join("psa/tokens")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            cases.iter().any(|(n, _, _)| *n == name),
            "psa/tokens/{name} has no expectation here"
        );
    }
    for (name, good, others) in cases {
        let rel = format!("psa/tokens/{name}");
        let s = decode(&dir, &rel);
        assert_eq!(s.algorithm().unwrap(), Algorithm::Es256, "{rel}");
        assert!(s.payload().is_some_and(|p| !p.is_empty()), "{rel}");
        assert!(s.x5chain().unwrap().is_empty());
        assert_verifies(&s, good, &others, &rel);
        // The borrowed decoder verifies the same way.
        let bytes = vectors::read(&dir, &rel);
        Sign1Ref::decode(&bytes).unwrap().verify(good).unwrap();
        seen += 1;
    }
    assert_eq!(seen, 7);
}

#[test]
fn psa_mac0_and_malformed_envelopes_are_refused() {
    let Some(dir) = vectors::dir() else { return };
    for rel in [
        "psa/negative/tfm-p2-mac0.cbor",
        "psa/negative/tfm-p1-mac0.cbor",
    ] {
        let err = Sign1::decode(&vectors::read(&dir, rel)).unwrap_err();
        assert!(matches!(err, CoseError::Mac0), "{rel}: {err}");
    }
    let err = Sign1::decode(&vectors::read(&dir, "psa/negative/truncated-sign1.cbor")).unwrap_err();
    assert!(
        matches!(&err, CoseError::Decode(d) if d == "unexpected EOF"),
        "{err}"
    );
    let err = Sign1::decode(&vectors::read(&dir, "psa/negative/not-cose-0x00.cbor")).unwrap_err();
    assert!(matches!(err, CoseError::Decode(_)), "{err}");
    // A well-formed envelope around an empty payload.
    let s = decode(&dir, "psa/negative/empty-claims.cbor");
    assert_eq!(s.payload(), Some(&[][..]));
}

#[test]
fn corim_01_signed_corims_verify_with_ec_p256() {
    let Some(dir) = vectors::dir() else { return };
    let key = jwk(&dir, "corim-generic/corimlib/ec-p256.jwk");
    let other = jwk(&dir, "psa/keys/ec.p256.alt.jwk");
    let signed = [
        "corim-generic/corimlib/signed-corim-with-extensions.cbor",
        "corim-generic/corimlib/signed-example-corim.cbor",
        "corim-generic/corimlib/signed-good-corim.cbor",
        "corim-generic/cocli/data-signed-corim.cbor",
        "corim-generic/cocli/data-signed-corim-cbor.cbor",
        "corim-generic/cocli/signed-corim-valid.cbor",
        "corim-generic/cocli/signed-corim-valid-with-cots.cbor",
        // A valid signature over an empty payload map (an invalid CoRIM).
        "corim-generic/cocli/signed-corim-invalid.cbor",
    ];
    for rel in signed {
        let s = decode(&dir, rel);
        assert!(s.is_tagged(), "{rel}");
        assert_eq!(s.algorithm().unwrap(), Algorithm::Es256, "{rel}");
        assert_eq!(
            s.content_type(),
            Some(ContentType::Text("application/rim+cbor".to_owned())),
            "{rel}"
        );
        assert_verifies(&s, &key, &[&other], rel);
        // Tampering with the payload breaks the signature.
        let mut bytes = vectors::read(&dir, rel);
        let payload = s.payload().unwrap().to_vec();
        let at = bytes
            .windows(payload.len())
            .rposition(|w| w == payload.as_slice())
            .unwrap();
        bytes[at + payload.len() - 1] ^= 0x01;
        assert!(
            Sign1::decode(&bytes).unwrap().verify(&key).is_err(),
            "{rel}"
        );
    }
    // They carry corim-meta (label 8): a byte string wrapping a map whose
    // signer (key 0) is a map with a name (key 0).
    for rel in signed {
        let s = decode(&dir, rel);
        let meta = s
            .protected_param(8)
            .unwrap_or_else(|| panic!("{rel}: no corim-meta"));
        let vouch_cose::Value::Bytes(meta) = meta else {
            panic!("{rel}: corim-meta is not a byte string: {meta:?}")
        };
        let meta: vouch_cose::Value = vouch_cose::ciborium::from_reader(meta.as_slice()).unwrap();
        let vouch_cose::Value::Map(meta) = meta else {
            panic!("{rel}: corim-meta is not a map")
        };
        let signer = meta
            .iter()
            .find(|(k, _)| *k == vouch_cose::Value::from(0))
            .map(|(_, v)| v)
            .unwrap();
        assert!(
            matches!(signer, vouch_cose::Value::Map(m) if m.iter().any(|(k, _)| *k == vouch_cose::Value::from(0))),
            "{rel}: {signer:?}"
        );
    }

    // MANIFEST: the bad-signature file is malformed bytes (its protected
    // header is not CBOR); the unsigned one is no COSE_Sign1 at all.
    let err = Sign1::decode(&vectors::read(
        &dir,
        "corim-generic/cocli/data-signed-corim-bad-signature.cbor",
    ))
    .unwrap_err();
    assert!(matches!(err, CoseError::ProtectedHeader(_)), "{err}");
    let err = Sign1::decode(&vectors::read(
        &dir,
        "corim-generic/cocli/data-unsigned-corim.cbor",
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a 4-element array, found map"),
        "{err}"
    );
}
