//! COSE_Key reading and writing, against coset's encoder and by hand.

#![allow(clippy::unwrap_used)]

use vouch_cose::coset::{self, CborSerializable as _};
use vouch_cose::{
    CoseError, Value, cose_curve_id, cose_key_bytes, curve_from_cose_id, key_from_cose_key,
    key_from_cose_key_or_raw,
};
use vouch_crypto::{Curve, SigningKey};

const CURVES: [Curve; 3] = [Curve::P256, Curve::P384, Curve::P521];

fn encode(entries: Vec<(Value, Value)>) -> Vec<u8> {
    let mut out = Vec::new();
    vouch_cose::ciborium::into_writer(&Value::Map(entries), &mut out).unwrap();
    out
}

fn coords(curve: Curve) -> (SigningKey, Vec<u8>, Vec<u8>) {
    let key = SigningKey::generate(curve).unwrap();
    let point = key.verifying_key().sec1_point().to_vec();
    let n = curve.field_len();
    (key, point[1..=n].to_vec(), point[n + 1..].to_vec())
}

fn ec2(crv: Value, x: Value, y: Value) -> Vec<(Value, Value)> {
    vec![
        (Value::from(1), Value::from(2)),
        (Value::from(-1), crv),
        (Value::from(-2), x),
        (Value::from(-3), y),
    ]
}

#[test]
fn round_trips_on_every_curve() {
    for curve in CURVES {
        let (key, x, y) = coords(curve);
        let public = key.verifying_key();
        let bytes = cose_key_bytes(&public);
        assert_eq!(key_from_cose_key(&bytes).unwrap(), public);
        assert_eq!(key_from_cose_key_or_raw(&bytes).unwrap(), public);
        assert_eq!(
            key_from_cose_key_or_raw(public.sec1_point()).unwrap(),
            public
        );
        assert_eq!(curve_from_cose_id(cose_curve_id(curve)), Some(curve));

        // The canonical encoding is exactly coset's for {1:2, -1:crv, -2:x, -3:y}.
        let crv = match curve {
            Curve::P256 => coset::iana::EllipticCurve::P_256,
            Curve::P384 => coset::iana::EllipticCurve::P_384,
            Curve::P521 => coset::iana::EllipticCurve::P_521,
        };
        let theirs = coset::CoseKeyBuilder::new_ec2_pub_key(crv, x.clone(), y.clone())
            .build()
            .to_vec()
            .unwrap();
        assert_eq!(bytes, theirs, "{curve}");

        // Head bytes by hand: a4 01 02 20 <crv> 21 <bstr x> 22 <bstr y>.
        assert_eq!(
            &bytes[..5],
            &[0xa4, 0x01, 0x02, 0x20, cose_curve_id(curve) as u8]
        );
    }
    assert_eq!(curve_from_cose_id(4), None);
}

#[test]
fn optional_members_are_accepted() {
    let (key, x, y) = coords(Curve::P384);
    let mut entries = ec2(Value::from(2), Value::Bytes(x), Value::Bytes(y));
    entries.push((Value::from(2), Value::Bytes(b"kid".to_vec())));
    entries.push((Value::from(3), Value::from(-35)));
    entries.push((Value::from(-4), Value::Bytes(key.private_scalar().to_vec())));
    entries.push((Value::from(4), Value::Array(vec![Value::from(2)])));
    assert_eq!(
        key_from_cose_key(&encode(entries)).unwrap(),
        key.verifying_key()
    );
}

#[test]
fn unsupported_and_malformed_keys_are_named() {
    let (_, x, y) = coords(Curve::P256);
    let good = || {
        ec2(
            Value::from(1),
            Value::Bytes(x.clone()),
            Value::Bytes(y.clone()),
        )
    };
    let with = |label: i64, value: Value| {
        let mut e = good();
        if let Some(slot) = e.iter_mut().find(|(l, _)| *l == Value::from(label)) {
            slot.1 = value;
        } else {
            e.push((Value::from(label), value));
        }
        encode(e)
    };
    let without = |label: i64| {
        let mut e = good();
        e.retain(|(l, _)| *l != Value::from(label));
        encode(e)
    };
    let unsupported = [
        (with(1, Value::from(1)), "kty 1"),                // OKP
        (with(1, Value::from(4)), "kty 4"),                // Symmetric
        (with(1, Value::Text("EC".into())), "kty \"EC\""), // text kty
        (with(-1, Value::from(4)), "crv 4"),               // X25519 on EC2
        (with(-1, Value::from(-70_000)), "crv -70000"),
        (with(-1, Value::Text("P-256".into())), "crv \"P-256\""),
        (with(-3, Value::Bool(true)), "compressed points"),
        (
            with(3, Value::from(-35)),
            "alg -35 cannot be used with a P-256 key",
        ),
        (with(3, Value::from(-8)), "alg -8 cannot be used"),
    ];
    for (bytes, needle) in unsupported {
        let err = key_from_cose_key(&bytes).unwrap_err();
        assert!(matches!(err, CoseError::UnsupportedKey(_)), "{err}");
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    let malformed = [
        (without(-1), "missing crv (-1)"),
        (without(-2), "missing x (-2)"),
        (without(-3), "missing y (-3)"),
        (without(1), "expected mandatory kty label"),
        (
            with(-2, Value::Bytes(vec![1; 31])),
            "x must be 32 bytes for P-256, got 31",
        ),
        (
            with(-3, Value::Bytes(vec![1; 48])),
            "y must be 32 bytes for P-256, got 48",
        ),
        (
            with(-2, Value::Text("x".into())),
            "x: expected a byte string, found text string",
        ),
        (
            with(-1, Value::Bytes(vec![1])),
            "crv: expected an integer, found byte string",
        ),
        (vec![0x80], "expected a map, found array"),
        (vec![], "EOF"),
        (vec![0xa1], "unexpected EOF"),
        (
            {
                let mut b = encode(good());
                b.push(0x00);
                b
            },
            "extraneous data",
        ),
        // Duplicate crv.
        (
            vec![0xa3, 0x01, 0x02, 0x20, 0x01, 0x20, 0x01],
            "duplicate label",
        ),
    ];
    for (bytes, needle) in malformed {
        let err = key_from_cose_key(&bytes).unwrap_err();
        assert!(matches!(err, CoseError::KeyDecode(_)), "{needle}: {err}");
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    // Coordinates that are not a point on the curve.
    let err = key_from_cose_key(&with(-3, Value::Bytes(vec![1; 32]))).unwrap_err();
    assert!(matches!(err, CoseError::InvalidKey(_)), "{err}");
}

#[test]
fn raw_points_need_a_known_length() {
    let (key, _, _) = coords(Curve::P521);
    let point = key.verifying_key().sec1_point().to_vec();
    assert_eq!(point.len(), 133);
    assert_eq!(
        key_from_cose_key_or_raw(&point).unwrap(),
        key.verifying_key()
    );
    let err = key_from_cose_key_or_raw(&point[..100]).unwrap_err();
    assert!(matches!(err, CoseError::UnsupportedKey(_)), "{err}");
    assert!(err.to_string().contains("100 bytes"), "{err}");
    let mut off_curve = point;
    off_curve[132] ^= 1;
    assert!(matches!(
        key_from_cose_key_or_raw(&off_curve),
        Err(CoseError::InvalidKey(_))
    ));
    // Anything else is read as a COSE_Key.
    assert!(matches!(
        key_from_cose_key_or_raw(&[0x02; 33]),
        Err(CoseError::KeyDecode(_))
    ));
}
