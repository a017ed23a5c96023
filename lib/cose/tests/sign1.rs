//! COSE_Sign1 round trips, tampering, envelope and header errors, and
//! robustness of the decoders against arbitrary input.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use vouch_cose::coset::{self, CborSerializable as _, TaggedCborSerializable as _};
use vouch_cose::{
    ContentType, CoseError, HEADER_X5CHAIN, Sign1, Sign1Builder, Sign1Ref, Value, sig_structure,
    sign1,
};
use vouch_crypto::{Algorithm, CryptoError, Curve, SigningKey};

const CURVES: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

fn key(curve: Curve) -> SigningKey {
    SigningKey::generate(curve).unwrap()
}

fn decode_err(bytes: &[u8]) -> CoseError {
    let borrowed = Sign1Ref::decode(bytes).err();
    let owned = Sign1::decode(bytes).unwrap_err();
    // The owned decoder takes the envelope apart with the borrowed one, so an
    // envelope error is the same error from both.
    if let Some(b) = borrowed {
        assert_eq!(b.to_string(), owned.to_string());
    }
    owned
}

/// Encodes CBOR items concatenated, for hand-built envelopes.
fn cbor(items: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        vouch_cose::ciborium::into_writer(item, &mut out).unwrap();
    }
    out
}

fn envelope(protected: &[u8], unprotected: Value, payload: Value, signature: &[u8]) -> Vec<u8> {
    let mut out = vec![0xd2];
    out.extend(cbor(&[Value::Array(vec![
        Value::Bytes(protected.to_vec()),
        unprotected,
        payload,
        Value::Bytes(signature.to_vec()),
    ])]));
    out
}

// ------------------------------------------------------------ round trips

#[test]
fn sign_decode_verify_on_every_curve() {
    for curve in CURVES {
        let key = key(curve);
        let public = key.verifying_key();
        for tagged in [true, false] {
            let bytes = sign1(&key, &[], None, b"the payload", tagged).unwrap();
            assert_eq!(bytes[0] == 0xd2, tagged, "{curve}");

            let owned = Sign1::decode(&bytes).unwrap();
            assert_eq!(owned.is_tagged(), tagged);
            assert_eq!(owned.algorithm().unwrap(), curve.algorithm());
            assert_eq!(owned.payload(), Some(&b"the payload"[..]));
            assert_eq!(owned.signature().len(), curve.algorithm().signature_len());
            owned.verify(&public).unwrap();

            let borrowed = Sign1Ref::decode(&bytes).unwrap();
            assert_eq!(borrowed.algorithm().unwrap(), curve.algorithm());
            assert_eq!(borrowed.payload(), owned.payload());
            assert_eq!(borrowed.protected_bytes(), owned.protected_bytes());
            assert_eq!(borrowed.signature(), owned.signature());
            assert_eq!(borrowed.unprotected_bytes(), &[0xa0]);
            assert_eq!(borrowed.to_be_signed(), owned.to_be_signed());
            borrowed.verify(&public).unwrap();
            assert_eq!(borrowed.to_sign1().unwrap(), owned);

            // Our Sig_structure is byte-for-byte coset's.
            assert_eq!(owned.to_be_signed(), owned.as_coset().tbs_data(b""));
        }
    }
}

#[test]
fn protected_header_is_alg_then_extras() {
    let key = key(Curve::P256);
    let bytes = sign1(&key, &[], None, b"x", true).unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    assert_eq!(s.protected_bytes(), &[0xa1, 0x01, 0x26]);
    let bytes = sign1(&key, &[(8, Value::from(5))], None, b"x", true).unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    assert_eq!(s.protected_bytes(), &[0xa2, 0x01, 0x26, 0x08, 0x05]);
}

#[test]
fn sig_structure_layout() {
    let tbs = sig_structure(&[0xa1, 0x01, 0x26], &[0xa0]);
    let mut expect = vec![0x84, 0x6a];
    expect.extend_from_slice(b"Signature1");
    expect.extend_from_slice(&[0x43, 0xa1, 0x01, 0x26, 0x40, 0x41, 0xa0]);
    assert_eq!(tbs, expect);
    // Long payloads take longer heads.
    let payload = vec![7u8; 300];
    let tbs = sig_structure(&[], &payload);
    assert_eq!(&tbs[12..17], &[0x40, 0x40, 0x59, 0x01, 0x2c]);
    assert_eq!(tbs.len(), 17 + 300);
}

#[test]
fn headers_and_params_are_readable() {
    let key = key(Curve::P384);
    let meta = Value::Map(vec![(
        Value::from(0),
        Value::Map(vec![(Value::from(0), Value::Text("ACME".into()))]),
    )]);
    let bytes = Sign1Builder::new()
        .content_type(ContentType::Text("application/rim+cbor".into()))
        .key_id(b"kid-p".to_vec())
        .protected_param(8, meta.clone())
        .unprotected_param(-70_000, Value::Bool(true))
        .unprotected_param(4_000, Value::Text("u".into()))
        .sign(&key, b"corim")
        .unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    s.verify(&key.verifying_key()).unwrap();
    assert_eq!(
        s.content_type(),
        Some(ContentType::Text("application/rim+cbor".into()))
    );
    assert_eq!(s.key_id(), Some(&b"kid-p"[..]));
    assert_eq!(s.protected_param(8), Some(&meta));
    assert_eq!(s.protected_param(9), None);
    assert_eq!(s.unprotected_param(-70_000), Some(&Value::Bool(true)));
    assert_eq!(s.unprotected_param(4_000), Some(&Value::Text("u".into())));
    assert_eq!(s.protected_param(4_000), None);
    assert_eq!(s.protected_header().key_id, b"kid-p");
    assert!(s.unprotected_header().key_id.is_empty());
    assert!(s.x5chain().unwrap().is_empty());

    // A CoAP content format; kid in the unprotected header only.
    let bytes = Sign1Builder::new()
        .content_type(ContentType::CoapFormat(60))
        .unprotected_param(33, Value::Bytes(vec![1, 2, 3]))
        .tagged(false)
        .sign(&key, b"x")
        .unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    assert_eq!(s.content_type(), Some(ContentType::CoapFormat(60)));
    assert_eq!(s.key_id(), None);
    assert_eq!(s.x5chain().unwrap(), vec![vec![1, 2, 3]]);
}

#[test]
fn kid_prefers_the_protected_header() {
    let key = key(Curve::P256);
    // Unprotected kid only (labels 1-7 go through coset's typed fields, so
    // build this one with coset).
    let protected = coset::HeaderBuilder::new()
        .algorithm(coset::iana::Algorithm::ES256)
        .build();
    let unprotected = coset::HeaderBuilder::new().key_id(b"u".to_vec()).build();
    let sign1 = coset::CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected.clone())
        .payload(b"p".to_vec())
        .try_create_signature(b"", |tbs| key.sign(tbs))
        .unwrap()
        .build();
    let bytes = sign1.to_tagged_vec().unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    assert_eq!(s.key_id(), Some(&b"u"[..]));
    // coset's own signature verifies with ours.
    s.verify(&key.verifying_key()).unwrap();

    let protected = coset::HeaderBuilder::new()
        .algorithm(coset::iana::Algorithm::ES256)
        .key_id(b"p".to_vec())
        .build();
    let bytes = coset::CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(b"p".to_vec())
        .build()
        .to_vec()
        .unwrap();
    assert_eq!(Sign1::decode(&bytes).unwrap().key_id(), Some(&b"p"[..]));
}

#[test]
fn x5chain_forms() {
    let key = key(Curve::P256);
    let certs = vec![vec![0x30, 1], vec![0x30, 2], vec![0x30, 3]];
    let bytes = Sign1Builder::new()
        .x5chain(&certs)
        .sign(&key, b"p")
        .unwrap();
    assert_eq!(Sign1::decode(&bytes).unwrap().x5chain().unwrap(), certs);
    let bytes = Sign1Builder::new()
        .x5chain(&certs[..1])
        .sign(&key, b"p")
        .unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    assert_eq!(
        s.protected_param(HEADER_X5CHAIN),
        Some(&Value::Bytes(vec![0x30, 1]))
    );
    assert_eq!(s.x5chain().unwrap(), certs[..1].to_vec());

    let bad = |protected: Option<Value>, unprotected: Option<Value>| {
        let mut b = Sign1Builder::new();
        if let Some(v) = protected {
            b = b.protected_param(HEADER_X5CHAIN, v);
        }
        if let Some(v) = unprotected {
            b = b.unprotected_param(HEADER_X5CHAIN, v);
        }
        let bytes = b.sign(&key, b"p").unwrap();
        let err = Sign1::decode(&bytes).unwrap().x5chain().unwrap_err();
        assert!(matches!(err, CoseError::X5Chain(_)), "{err}");
        err.to_string()
    };
    assert!(bad(Some(Value::Array(vec![])), None).contains("empty array"));
    assert!(
        bad(
            Some(Value::Array(vec![
                Value::Bytes(vec![1]),
                Value::Text("x".into())
            ])),
            None
        )
        .contains("entry 1: expected a byte string, found text string")
    );
    assert!(bad(None, Some(Value::from(3))).contains("found integer"));
    assert!(
        bad(Some(Value::Bytes(vec![1])), Some(Value::Bytes(vec![2])))
            .contains("both the protected and the unprotected")
    );
}

// ------------------------------------------------------------ tampering

#[test]
fn tampering_fails_verification() {
    for curve in CURVES {
        let key = key(curve);
        let public = key.verifying_key();
        let bytes = sign1(
            &key,
            &[(8, Value::Text("meta-data".into()))],
            None,
            b"payload-bytes",
            true,
        )
        .unwrap();
        Sign1::decode(&bytes).unwrap().verify(&public).unwrap();

        let flip = |needle: &[u8]| {
            let mut t = bytes.clone();
            let at = t.windows(needle.len()).position(|w| w == needle).unwrap();
            t[at] ^= 0x20; // ASCII case flip keeps the CBOR valid
            t
        };
        for tampered in [flip(b"payload-bytes"), flip(b"meta-data")] {
            for err in [
                Sign1::decode(&tampered)
                    .unwrap()
                    .verify(&public)
                    .unwrap_err(),
                Sign1Ref::decode(&tampered)
                    .unwrap()
                    .verify(&public)
                    .unwrap_err(),
            ] {
                assert!(
                    matches!(err, CoseError::Signature(CryptoError::Verification)),
                    "{err}"
                );
                assert_eq!(
                    err.to_string(),
                    "signature verification failed: verification error"
                );
            }
        }
        // The signature's last byte.
        let mut bad_sig = bytes.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 0x01;
        assert!(matches!(
            Sign1::decode(&bad_sig).unwrap().verify(&public),
            Err(CoseError::Signature(CryptoError::Verification))
        ));
        // Another key on the same curve.
        assert!(matches!(
            Sign1::decode(&bytes)
                .unwrap()
                .verify(&SigningKey::generate(curve).unwrap().verifying_key()),
            Err(CoseError::Signature(CryptoError::Verification))
        ));
    }
}

#[test]
fn algorithm_must_go_with_the_key() {
    let p256 = key(Curve::P256);
    let p384 = key(Curve::P384);
    let p521 = key(Curve::P521);
    let bytes = sign1(&p384, &[], None, b"x", true).unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    for wrong in [&p256, &p521] {
        assert!(matches!(
            s.verify(&wrong.verifying_key()),
            Err(CoseError::Signature(CryptoError::AlgorithmMismatch {
                alg: Algorithm::Es384,
                ..
            }))
        ));
    }
    // A header claiming ES256 over a P-521 signature.
    let lying = Sign1Builder::new()
        .algorithm_id(-7)
        .sign(&p521, b"x")
        .unwrap();
    let s = Sign1::decode(&lying).unwrap();
    assert_eq!(s.algorithm().unwrap(), Algorithm::Es256);
    assert!(matches!(
        s.verify(&p521.verifying_key()),
        Err(CoseError::Signature(CryptoError::AlgorithmMismatch {
            alg: Algorithm::Es256,
            curve: Curve::P521
        }))
    ));
}

#[test]
fn algorithm_errors_name_the_value() {
    let key = key(Curve::P256);
    // EdDSA (-8): decodes, cannot be verified.
    let eddsa = Sign1Builder::new()
        .algorithm_id(-8)
        .sign(&key, b"x")
        .unwrap();
    for err in [
        Sign1::decode(&eddsa).unwrap().algorithm().unwrap_err(),
        Sign1Ref::decode(&eddsa).unwrap().algorithm().unwrap_err(),
        Sign1::decode(&eddsa)
            .unwrap()
            .verify(&key.verifying_key())
            .unwrap_err(),
    ] {
        assert!(
            matches!(&err, CoseError::UnsupportedAlgorithm(v) if v == "-8"),
            "{err}"
        );
        assert_eq!(err.to_string(), "unsupported COSE algorithm -8");
    }
    // A text alg, an unregistered integer, an out-of-range integer: each is
    // named, and the owned decoder does not refuse them.
    for (protected, named) in [
        (&[0xa1, 0x01, 0x64, b'E', b'S', b'2', b'5'][..], "\"ES25\""),
        (&[0xa1, 0x01, 0x19, 0x04, 0xd2], "1234"),
        (
            &[
                0xa1, 0x01, 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            "-18446744073709551616",
        ),
    ] {
        let bytes = envelope(
            protected,
            Value::Map(vec![]),
            Value::Bytes(vec![]),
            &[0; 64],
        );
        for err in [
            Sign1::decode(&bytes).unwrap().algorithm().unwrap_err(),
            Sign1Ref::decode(&bytes).unwrap().algorithm().unwrap_err(),
        ] {
            assert!(
                matches!(&err, CoseError::UnsupportedAlgorithm(v) if v == named),
                "{err}"
            );
        }
    }
    // No alg at all, and an alg only in the unprotected header.
    for bytes in [
        envelope(&[], Value::Map(vec![]), Value::Bytes(vec![]), &[]),
        envelope(&[0xa0], Value::Map(vec![]), Value::Bytes(vec![]), &[]),
        envelope(
            &[],
            Value::Map(vec![(Value::from(1), Value::from(-7))]),
            Value::Bytes(vec![]),
            &[],
        ),
    ] {
        let s = Sign1::decode(&bytes).unwrap();
        assert!(matches!(s.algorithm(), Err(CoseError::MissingAlgorithm)));
        assert!(matches!(
            s.verify(&key.verifying_key()),
            Err(CoseError::MissingAlgorithm)
        ));
        assert_eq!(
            s.algorithm().unwrap_err().to_string(),
            "no algorithm in the protected header"
        );
    }
}

#[test]
fn detached_payloads() {
    let key = key(Curve::P256);
    let sign1 = coset::CoseSign1Builder::new()
        .protected(
            coset::HeaderBuilder::new()
                .algorithm(coset::iana::Algorithm::ES256)
                .build(),
        )
        .try_create_detached_signature(b"detached", b"", |tbs| key.sign(tbs))
        .unwrap()
        .build();
    let bytes = sign1.to_tagged_vec().unwrap();
    let s = Sign1::decode(&bytes).unwrap();
    assert_eq!(s.payload(), None);
    assert!(matches!(
        s.verify(&key.verifying_key()),
        Err(CoseError::DetachedPayload)
    ));
    s.verify_detached(&key.verifying_key(), b"detached")
        .unwrap();
    assert!(s.verify_detached(&key.verifying_key(), b"other").is_err());
    assert_eq!(
        s.to_be_signed_detached(b"detached"),
        sig_structure(s.protected_bytes(), b"detached")
    );
    let r = Sign1Ref::decode(&bytes).unwrap();
    assert_eq!(r.payload(), None);
    assert!(matches!(
        r.verify(&key.verifying_key()),
        Err(CoseError::DetachedPayload)
    ));
    r.verify_detached(&key.verifying_key(), b"detached")
        .unwrap();
}

// ------------------------------------------------------------ envelope errors

/// 18([h'A10126', {}, h'A0', h'0102'])
const MINIMAL: &[u8] = &[
    0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x41, 0xa0, 0x42, 0x01, 0x02,
];

#[test]
fn minimal_tagged_and_untagged() {
    for bytes in [MINIMAL, &MINIMAL[1..]] {
        let s = Sign1Ref::decode(bytes).unwrap();
        assert_eq!(s.protected_bytes(), &[0xa1, 0x01, 0x26]);
        assert_eq!(s.payload(), Some(&[0xa0][..]));
        assert_eq!(s.signature(), &[0x01, 0x02]);
        assert_eq!(s.algorithm().unwrap(), Algorithm::Es256);
        assert_eq!(s.is_tagged(), bytes.len() == MINIMAL.len());
        let o = Sign1::decode(bytes).unwrap();
        assert_eq!(o.signature(), &[0x01, 0x02]);
    }
}

#[test]
fn envelope_errors_name_the_problem() {
    let cases: &[(&[u8], &str)] = &[
        (&[], "malformed COSE_Sign1: EOF"),
        (
            &[0x00],
            "malformed COSE_Sign1: invalid COSE_Sign1 object: expected a 4-element array, found unsigned integer",
        ),
        (&[0xd2, 0x84], "malformed COSE_Sign1: unexpected EOF"),
        (
            &[0xd1, 0x84, 0x40, 0xa0, 0x40, 0x40],
            "COSE_Mac0 (tag 17) is not supported: expected a COSE_Sign1 (tag 18)",
        ),
        (
            &[0xd3, 0x84, 0x40, 0xa0, 0x40, 0x40],
            "invalid COSE_Sign1_Tagged object: found tag 19, expected 18",
        ),
        (
            &[0xd8, 0x3d, 0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40],
            "found tag 61, expected 18",
        ),
        (
            &[0xd2, 0x83, 0x40, 0xa0, 0x40],
            "array has 3 elements, expected 4",
        ),
        (&[0xd2, 0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff], "indefinite"),
        (
            &[0xd2, 0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40],
            "expected a 4-element array, found tag",
        ),
        (
            &[0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40, 0x00],
            "1 bytes of extraneous data starting at index 6",
        ),
        (
            &[0xd2, 0x84, 0x40, 0x80, 0x40, 0x40],
            "malformed unprotected header: expected a map, found array",
        ),
        (&[0xd2, 0x84, 0x40, 0xbf, 0xff, 0x40, 0x40], "indefinite"),
        (
            &[0xd2, 0x84, 0x41, 0x80, 0xa0, 0x40, 0x40],
            "malformed protected header: expected a map, found array",
        ),
        (
            &[0xd2, 0x84, 0x60, 0xa0, 0x40, 0x40],
            "malformed protected header: expected a byte string, found text string",
        ),
        (
            &[0xd2, 0x84, 0x42, 0xa0, 0x00, 0xa0, 0x40, 0x40],
            "malformed protected header: trailing data after the header map",
        ),
        (
            &[
                0xd2, 0x84, 0x45, 0xa2, 0x01, 0x26, 0x01, 0x26, 0xa0, 0x40, 0x40,
            ],
            "malformed protected header: duplicate header label 1",
        ),
        (
            &[
                0xd2, 0x84, 0x40, 0xa2, 0x04, 0x41, 0x00, 0x04, 0x41, 0x00, 0x40, 0x40,
            ],
            "malformed unprotected header: duplicate header label 4",
        ),
        (
            &[0xd2, 0x84, 0x44, 0xa1, 0x41, 0x00, 0x00, 0xa0, 0x40, 0x40],
            "header label must be an integer or text, found byte string",
        ),
        (
            &[0xd2, 0x84, 0x44, 0xa1, 0x01, 0x41, 0x00, 0xa0, 0x40, 0x40],
            "alg must be an integer or text, found byte string",
        ),
        (
            &[0xd2, 0x84, 0x40, 0xa0, 0x60, 0x40],
            "payload: expected a byte string or nil, found text string",
        ),
        (
            &[0xd2, 0x84, 0x40, 0xa0, 0x40, 0xf6],
            "signature: expected a byte string, found null",
        ),
        // A huge claimed length stops at the end of the input.
        (
            &[
                0xd2, 0x84, 0x40, 0xa0, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            "unexpected EOF",
        ),
        // Invalid UTF-8 in an unprotected text value.
        (
            &[0xd2, 0x84, 0x40, 0xa1, 0x20, 0x62, 0xff, 0xfe, 0x40, 0x40],
            "malformed unprotected header",
        ),
    ];
    for (bytes, needle) in cases {
        let err = decode_err(bytes).to_string();
        assert!(err.contains(needle), "{bytes:02x?}: {err}");
    }
    assert!(matches!(
        decode_err(&[0xd1, 0x84, 0x40, 0xa0, 0x40, 0x40]),
        CoseError::Mac0
    ));
    assert!(matches!(
        decode_err(&[0xd3, 0x84, 0x40, 0xa0, 0x40, 0x40]),
        CoseError::UnexpectedTag(19)
    ));
    assert!(matches!(decode_err(&[0xd2, 0x84]), CoseError::Decode(d) if d == "unexpected EOF"));
}

#[test]
fn coset_checks_standard_parameter_types() {
    // Well-formed maps whose standard parameters have the wrong type: the
    // borrowed decoder does not interpret them, the owned one refuses them.
    for unprotected in [
        // kid must be a non-empty byte string.
        Value::Map(vec![(Value::from(4), Value::Bytes(vec![]))]),
        Value::Map(vec![(Value::from(4), Value::from(1))]),
        // content type must be a registered format or type/subtype text.
        Value::Map(vec![(Value::from(3), Value::Text("nonsense".into()))]),
        // crit must be a non-empty array.
        Value::Map(vec![(Value::from(2), Value::Array(vec![]))]),
    ] {
        let bytes = envelope(&[0xa1, 0x01, 0x26], unprotected, Value::Bytes(vec![]), &[]);
        Sign1Ref::decode(&bytes).unwrap();
        let err = Sign1::decode(&bytes).unwrap_err();
        assert!(matches!(err, CoseError::UnprotectedHeader(_)), "{err}");
    }
    let bytes = envelope(
        &[0xa2, 0x01, 0x26, 0x04, 0x40],
        Value::Map(vec![]),
        Value::Bytes(vec![]),
        &[],
    );
    assert!(matches!(
        Sign1::decode(&bytes),
        Err(CoseError::ProtectedHeader(_))
    ));
}

#[test]
fn builder_refuses_what_it_cannot_encode() {
    let key = key(Curve::P256);
    for (builder, needle) in [
        (
            Sign1Builder::new().protected_param(1, Value::from(-7)),
            "protected header label 1 has its own builder method",
        ),
        (
            Sign1Builder::new().unprotected_param(4, Value::Bytes(vec![1])),
            "unprotected header label 4 has its own builder method",
        ),
        (
            Sign1Builder::new()
                .protected_param(8, Value::from(1))
                .protected_param(8, Value::from(2)),
            "protected header label 8 given twice",
        ),
        (Sign1Builder::new().key_id(vec![]), "kid must not be empty"),
        (
            Sign1Builder::new().content_type(ContentType::CoapFormat(65_000)),
            "CoAP content format 65000 is not registered",
        ),
        (
            Sign1Builder::new().algorithm_id(1_000),
            "alg 1000: expected value in IANA or private use range",
        ),
    ] {
        let err = builder.sign(&key, b"x").unwrap_err();
        assert!(matches!(err, CoseError::Encode(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
}

// ------------------------------------------------------------ robustness

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    for depth in [33, 1_000, 100_000] {
        // Nested arrays in the unprotected header.
        let mut bytes = vec![0xd2, 0x84, 0x40, 0xa1, 0x20];
        bytes.extend(std::iter::repeat_n(0x81, depth));
        bytes.extend([0x00, 0x40, 0x40]);
        let err = decode_err(&bytes).to_string();
        assert!(err.contains("exceeded max nested level 32"), "{err}");

        // Nested tags in the protected header.
        let mut inner = vec![0xa1, 0x20];
        inner.extend(std::iter::repeat_n(0xc1, depth));
        inner.push(0x00);
        let bytes = envelope(&inner, Value::Map(vec![]), Value::Bytes(vec![]), &[]);
        assert!(matches!(decode_err(&bytes), CoseError::ProtectedHeader(_)));

        // Nested maps in a COSE_Key.
        let mut key = vec![0xa1, 0x20];
        key.extend(std::iter::repeat_n([0xa1, 0x00], depth).flatten());
        key.push(0x00);
        assert!(vouch_cose::key_from_cose_key(&key).is_err());
    }
    // Nesting within the limit is fine: the unprotected map sits at level 3
    // (inside tag and array), its value at 4, so 28 arrays bring the
    // innermost integer to level 32.
    let mut bytes = vec![0xd2, 0x84, 0x40, 0xa1, 0x20];
    bytes.extend(std::iter::repeat_n(0x81, 28));
    bytes.extend([0x00, 0x40, 0x40]);
    Sign1::decode(&bytes).unwrap();
}

#[test]
fn every_truncation_of_a_token_is_rejected() {
    let key = key(Curve::P384);
    let bytes = Sign1Builder::new()
        .key_id(b"k".to_vec())
        .x5chain(&[vec![0x30; 40], vec![0x31; 40]])
        .unprotected_param(-65_537, Value::Text("x".into()))
        .sign(&key, &[0x5a; 300])
        .unwrap();
    Sign1::decode(&bytes).unwrap();
    for cut in 0..bytes.len() {
        assert!(Sign1Ref::decode(&bytes[..cut]).is_err(), "{cut}");
        assert!(Sign1::decode(&bytes[..cut]).is_err(), "{cut}");
    }
}

fn good_token() -> (Vec<u8>, SigningKey) {
    let key = SigningKey::from_private_scalar(Curve::P256, &[0x11; 32]).unwrap();
    let bytes = Sign1Builder::new()
        .key_id(b"kid".to_vec())
        .protected_param(
            8,
            Value::Array(vec![Value::from(1), Value::Text("t".into())]),
        )
        .sign(&key, b"some payload")
        .unwrap();
    (bytes, key)
}

/// Whatever the input, the two decoders agree on the envelope, and the
/// owned one never accepts what the borrowed one refuses.
fn check_consistent(bytes: &[u8]) {
    let borrowed = Sign1Ref::decode(bytes);
    let owned = Sign1::decode(bytes);
    match (&borrowed, &owned) {
        (Ok(b), Ok(o)) => {
            assert_eq!(b.payload(), o.payload());
            assert_eq!(b.protected_bytes(), o.protected_bytes());
            assert_eq!(b.signature(), o.signature());
            assert_eq!(b.to_be_signed(), o.to_be_signed());
            assert_eq!(
                b.algorithm().map_err(|e| e.to_string()),
                o.algorithm().map_err(|e| e.to_string())
            );
            let _ = o.x5chain();
            let _ = o.content_type();
            let _ = o.key_id();
        }
        (Ok(_), Err(e)) => assert!(
            matches!(
                e,
                CoseError::ProtectedHeader(_) | CoseError::UnprotectedHeader(_)
            ),
            "{e}"
        ),
        (Err(_), Ok(_)) => panic!("owned decoder accepted what the borrowed one refused"),
        (Err(_), Err(_)) => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_consistent(&bytes);
        // Behind a valid tag and array header the decoders get further.
        let mut framed = vec![0xd2, 0x84];
        framed.extend_from_slice(&bytes);
        check_consistent(&framed);
        let mut framed = vec![0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26];
        framed.extend_from_slice(&bytes);
        check_consistent(&framed);
        let _ = vouch_cose::key_from_cose_key(&bytes);
        let _ = vouch_cose::key_from_cose_key_or_raw(&bytes);
    }

    #[test]
    fn spliced_tokens_never_panic(
        cut in 0usize..200,
        insert in proptest::collection::vec(any::<u8>(), 0..20),
    ) {
        let (token, key) = good_token();
        let cut = cut.min(token.len());
        let mut t = token[..cut].to_vec();
        t.extend_from_slice(&insert);
        t.extend_from_slice(&token[cut..]);
        check_consistent(&t);
        if let Ok(s) = Sign1::decode(&t) {
            if insert.is_empty() {
                prop_assert!(s.verify(&key.verifying_key()).is_ok());
            } else {
                let _ = s.verify(&key.verifying_key());
            }
        }
    }

    #[test]
    fn flipped_bits_never_verify(at in 0usize..200, bit in 0u8..8) {
        let (token, key) = good_token();
        let at = at % token.len();
        let mut t = token.clone();
        t[at] ^= 1 << bit;
        check_consistent(&t);
        if let Ok(s) = Sign1::decode(&t) {
            // Flipping any bit that leaves the envelope decodable changes a
            // signed part, the signature, or an unsigned header.
            let verified = s.verify(&key.verifying_key()).is_ok();
            let unsigned_change = s.protected_bytes() == Sign1::decode(&token).unwrap().protected_bytes()
                && s.payload() == Some(&b"some payload"[..])
                && s.signature() == Sign1::decode(&token).unwrap().signature();
            prop_assert_eq!(verified, unsigned_change);
        }
    }
}
