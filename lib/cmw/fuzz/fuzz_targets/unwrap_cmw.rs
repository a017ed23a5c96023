//! Feeds arbitrary bytes to the CMW unwrapper under every CMW Content-Type:
//! it must never panic, and any record it accepts must re-wrap to the same
//! record.
//!
//! Seeds: records (CBOR and JSON), a CBOR tag and collections (a CBOR map
//! keyed by integer, a JSON object, a nested one), made with the crate's
//! own wrappers.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use libfuzzer_sys::fuzz_target;
use vouch_cmw::{
    CMW_MEDIA_TYPES, Unwrapped, unwrap, wrap_record_cbor, wrap_record_json, wrap_tag_cbor,
};

fn seeds() -> Vec<Vec<u8>> {
    let token = [
        0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x41, 0x00, 0x41, 0x00,
    ];
    let psa = "application/psa-attestation-token";
    let eat = r#"application/eat-collection; profile="http://arm.com/CCA-SSD/1.0.0""#;
    let record_json = wrap_record_json(psa, &token);
    let mut out = vec![
        wrap_record_cbor(psa, &token),
        wrap_record_cbor(eat, &token),
        record_json.clone().into_bytes(),
        wrap_record_json(eat, b"\x00\x01").into_bytes(),
        [
            &[0xa1, 0x19, 0xac, 0xca][..],
            &wrap_record_cbor("application/eat+cwt", &token),
        ]
        .concat(),
        format!(r#"{{"platform": {record_json}, "realm": {record_json}}}"#).into_bytes(),
        format!(r#"{{"outer": {{"inner": {record_json}}}}}"#).into_bytes(),
    ];
    out.extend(wrap_tag_cbor(18, &token));
    out
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
    for content_type in CMW_MEDIA_TYPES {
        if let Ok(Unwrapped::Record { media_type, value }) = unwrap(content_type, data) {
            assert!(!media_type.is_empty() && !value.is_empty());
            let expected = Ok(Unwrapped::Record {
                media_type: media_type.clone(),
                value: value.clone(),
            });
            assert_eq!(unwrap("application/cmw", &wrap_record_cbor(&media_type, &value)), expected);
            assert_eq!(
                unwrap("application/cmw", wrap_record_json(&media_type, &value).as_bytes()),
                expected
            );
        }
    }
});
