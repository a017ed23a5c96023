//! Feeds arbitrary bytes to the CMW unwrapper under every CMW Content-Type:
//! it must never panic, and any record it accepts must re-wrap to the same
//! record.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_cmw::{CMW_MEDIA_TYPES, Unwrapped, unwrap, wrap_record_cbor, wrap_record_json};

fuzz_target!(|data: &[u8]| {
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
