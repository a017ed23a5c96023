//! Random, truncated and mutated bodies never panic, and what the wrap
//! helpers make always unwraps to what went in.

use proptest::prelude::*;
use vouch_cmw::{
    CMW_MEDIA_TYPES, Unwrapped, media_type_for_content_format, unwrap, wrap_record_cbor,
    wrap_record_json, wrap_tag_cbor,
};

/// Media types as records carry them, with and without parameters.
fn media_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/eat+cwt".to_owned()),
        Just("application/psa-attestation-token".to_owned()),
        Just("application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"".to_owned()),
        "[a-z]{1,12}/[a-z0-9.+-]{1,24}",
        "[a-z]{1,8}/[a-z]{1,8}; [a-z_]{1,8}=[a-z0-9]{1,8}",
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..600)
}

/// A valid CMW of any form, as (Content-Type, body).
fn valid_cmw() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    prop_oneof![
        (media_type(), value()).prop_map(|(mt, v)| (
            "application/cmw+json",
            wrap_record_json(&mt, &v).into_bytes()
        )),
        (media_type(), value())
            .prop_map(|(mt, v)| ("application/cmw+cbor", wrap_record_cbor(&mt, &v))),
        value().prop_map(|v| (
            "application/cmw",
            wrap_tag_cbor(263, &v).expect("263 has a tag")
        )),
        (media_type(), value()).prop_map(|(mt, v)| {
            let mut c = vec![0xa2, 0x00];
            c.extend(wrap_record_cbor(&mt, &v));
            c.extend([0x61, b'x']);
            c.extend(wrap_tag_cbor(61, &v).expect("61 has a tag"));
            ("application/cmw", c)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        for ct in CMW_MEDIA_TYPES {
            let _ = unwrap(ct, &body);
        }
    }

    #[test]
    fn random_cbor_shaped_bytes_never_panic(
        head in prop::sample::select(vec![0x82u8, 0x83, 0x9f, 0xa1, 0xbf, 0xda, 0xdb, 0xd9]),
        rest in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let body = [&[head][..], &rest].concat();
        let _ = unwrap("application/cmw", &body);
    }

    #[test]
    fn records_round_trip(mt in media_type(), v in value()) {
        let expected = Unwrapped::Record { media_type: mt.clone(), value: v.clone() };
        prop_assert_eq!(unwrap("application/cmw", &wrap_record_cbor(&mt, &v)), Ok(expected.clone()));
        prop_assert_eq!(
            unwrap("application/cmw", wrap_record_json(&mt, &v).as_bytes()),
            Ok(expected)
        );
    }

    #[test]
    fn tags_round_trip(cf in 0u16..=65024, v in value()) {
        let tagged = wrap_tag_cbor(cf, &v).unwrap();
        let got = unwrap("application/cmw+cbor", &tagged);
        match media_type_for_content_format(cf) {
            Some(mt) => prop_assert_eq!(
                got,
                Ok(Unwrapped::Record { media_type: mt.to_owned(), value: v })
            ),
            None => prop_assert!(got.is_err()),
        }
    }

    #[test]
    fn truncations_are_refused((ct, body) in valid_cmw(), cut in any::<prop::sample::Index>()) {
        prop_assert!(unwrap(ct, &body).is_ok());
        let cut = cut.index(body.len());
        // No proper prefix of a JSON array/object or of a definite CBOR item is complete.
        prop_assert!(unwrap(ct, &body[..cut]).is_err());
    }

    #[test]
    fn mutations_never_panic(
        (ct, mut body) in valid_cmw(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        for (at, byte) in flips {
            let i = at.index(body.len());
            body[i] = byte;
        }
        for ct in [ct, "application/cmw"] {
            if let Ok(Unwrapped::Record { media_type, value }) = unwrap(ct, &body) {
                prop_assert!(!media_type.is_empty());
                prop_assert!(!value.is_empty());
            }
        }
    }
}
