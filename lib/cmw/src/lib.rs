//! RATS Conceptual Message Wrappers (CMW, draft-ietf-rats-msg-wrap):
//! unwrapping evidence for the verification front end, as Veraison's
//! verification API does.
//!
//! Veraison's `POST /challenge-response/v1/session/{id}` looks at the
//! Content-Type first: when it is one of [`CMW_MEDIA_TYPES`], the body is
//! a CMW. A *record* or *tag* CMW (veraison/cmw's "monad") is replaced by
//! the media type and the bytes it wraps, and those go through the usual
//! media-type check; a *collection* passes through unchanged (no scheme
//! takes a CMW collection today, so it ends in 415). A body that is not a
//! CMW is refused with 400 `could not unwrap the CMW: <error>`; every
//! [`CmwError`] message is written to follow that prefix.
//!
//! The forms [`unwrap`] reads:
//!
//! * JSON record `["<media type>", "<base64url value>"(, ind)]`;
//! * CBOR record `[<media type> / <Content-Format uint>, <bstr value>(, ind)]`,
//!   the number mapped through [`media_type_for_content_format`];
//! * CBOR tag `#6.TN(cf)(<bstr value>)`, the tag number mapped back to a
//!   Content-Format with RFC 9277's `TN()` ([`content_format_for_tag`]);
//! * JSON object / CBOR map collections, checked entry by entry (every
//!   entry a CMW, at least one, labels unique, `__cmwc_t` an absolute URI
//!   or OID) but not unwrapped.
//!
//! `application/cmw` and `application/vnd.veraison.cmw` auto-detect the
//! serialisation from the first byte (`[` or `{` is JSON, anything else
//! CBOR), as veraison/cmw's `Deserialize` does; the `+json` and `+cbor`
//! variants insist on theirs.
//!
//! ```
//! use vouch_cmw::{Unwrapped, unwrap, wrap_record_cbor, wrap_record_json};
//!
//! let json = wrap_record_json("application/eat+cwt", b"\xd2\x84");
//! assert_eq!(json, r#"["application/eat+cwt","0oQ"]"#);
//! assert_eq!(
//!     unwrap("application/cmw+json", json.as_bytes()),
//!     Ok(Unwrapped::Record { media_type: "application/eat+cwt".into(), value: vec![0xd2, 0x84] })
//! );
//!
//! let cbor = wrap_record_cbor("application/psa-attestation-token", b"\xd2\x84");
//! let Ok(Unwrapped::Record { media_type, .. }) = unwrap("application/cmw", &cbor) else {
//!     panic!("not a record");
//! };
//! assert_eq!(media_type, "application/psa-attestation-token");
//!
//! assert_eq!(unwrap("application/cmw", br#"{"a": ["a/b", "AQ"]}"#), Ok(Unwrapped::Collection));
//! # Ok::<(), vouch_cmw::CmwError>(())
//! ```
//!
//! Unwrapping never panics, allocates in proportion to what it has read
//! (never from a length the input declares; the front end bounds the body
//! size), and stops nesting collections at [`MAX_COLLECTION_DEPTH`].
//!
//! Where Vouch is stricter than veraison/cmw v0.2.0 (each a client error in
//! both, only the status may differ): a Content-Format or tag with no known
//! media type is refused here (400) where Veraison passes the number on as
//! the "media type" (then 415); empty values, a zero or 33-bit `ind`,
//! duplicate labels, empty collections and trailing bytes are refused; a
//! `+json` / `+cbor` Content-Type must match the body.

mod cbor;
mod content_format;
mod error;
mod json;
mod syntax;

pub use content_format::{
    TN_MAX, TN_MIN, content_format_for_tag, media_type_for_content_format, tag_number,
};
pub use error::CmwError;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The Content-Types whose bodies are CMWs (Veraison's `cmwMap` in
/// `verification/api/handler.go`). Compared on the media-type essence,
/// case-insensitively, by [`is_cmw_media_type`].
pub const CMW_MEDIA_TYPES: &[&str] = &[
    "application/cmw",
    "application/cmw+json",
    "application/cmw+cbor",
    "application/vnd.veraison.cmw",
    "application/vnd.veraison.cmw+cbor",
    "application/vnd.veraison.cmw+json",
];

/// How deeply collections may nest inside one another (the top-level
/// collection is level 1). The draft lets implementations pick a limit.
pub const MAX_COLLECTION_DEPTH: usize = 16;

/// What a CMW body holds once unwrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unwrapped {
    /// A record or tag CMW: the evidence and its Content-Type, to be
    /// appraised in place of the wrapper.
    Record {
        /// The Content-Type of `value`: as written in the record (surrounding
        /// whitespace trimmed, parameters kept), or the registered
        /// Content-Type of the record's / tag's CoAP Content-Format.
        media_type: String,
        /// The wrapped bytes (never empty).
        value: Vec<u8>,
    },
    /// A well-formed collection CMW: the body and its Content-Type pass
    /// through unchanged, as in Veraison.
    Collection,
}

/// The serialisation a Content-Type calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Serialisation {
    Json,
    Cbor,
    Detect,
}

/// Strips parameters and whitespace, so a full Content-Type works too.
fn essence(content_type: &str) -> &str {
    content_type
        .split(';')
        .next()
        .unwrap_or(content_type)
        .trim()
}

fn serialisation(content_type_essence: &str) -> Option<Serialisation> {
    let essence = essence(content_type_essence);
    let known = CMW_MEDIA_TYPES
        .iter()
        .find(|mt| mt.eq_ignore_ascii_case(essence))?;
    Some(if known.ends_with("+json") {
        Serialisation::Json
    } else if known.ends_with("+cbor") {
        Serialisation::Cbor
    } else {
        Serialisation::Detect
    })
}

/// Whether a Content-Type's essence (`type/subtype`, without parameters)
/// is one of [`CMW_MEDIA_TYPES`], ignoring case. Parameters, if passed,
/// are ignored.
pub fn is_cmw_media_type(content_type_essence: &str) -> bool {
    serialisation(content_type_essence).is_some()
}

/// True for the first byte of a JSON CMW (`[` record, `{` collection).
fn starts_json(b: u8) -> bool {
    b == b'[' || b == b'{'
}

/// Unwraps a CMW body that came with the Content-Type `content_type_essence`.
///
/// A record or tag gives [`Unwrapped::Record`] with the wrapped media type
/// and bytes; a collection is validated and gives [`Unwrapped::Collection`].
///
/// # Errors
///
/// [`CmwError`] when the Content-Type is not a CMW one, or the body is not
/// a well-formed CMW of the kind it calls for.
pub fn unwrap(content_type_essence: &str, body: &[u8]) -> Result<Unwrapped, CmwError> {
    let Some(serialisation) = serialisation(content_type_essence) else {
        return Err(CmwError::NotCmwMediaType(
            essence(content_type_essence).chars().take(100).collect(),
        ));
    };
    let Some(&first) = body.first() else {
        return Err(CmwError::Empty);
    };
    let mismatch = |expected| CmwError::FormatMismatch {
        media_type: essence(content_type_essence).to_ascii_lowercase(),
        expected,
    };
    match serialisation {
        Serialisation::Json => {
            // JSON allows leading whitespace; what follows must open a CMW.
            let start = body
                .iter()
                .copied()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
            if !start.is_some_and(starts_json) {
                return Err(mismatch("JSON (array or object)"));
            }
            json::unwrap(body)
        }
        Serialisation::Cbor => {
            if starts_json(first) {
                return Err(mismatch("CBOR"));
            }
            cbor::unwrap(body)
        }
        Serialisation::Detect => {
            if starts_json(first) {
                return json::unwrap(body);
            }
            // CBOR major types 4 (array), 5 (map) and 6 (tag).
            if !(0x80..=0xdb).contains(&first) {
                return Err(CmwError::UnrecognisedStart(first));
            }
            cbor::unwrap(body)
        }
    }
}

/// Appends a CBOR head: major type and argument, in preferred encoding.
fn push_head(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    match argument {
        0..=23 => out.push(major | argument as u8),
        24..=0xff => {
            out.push(major | 24);
            out.push(argument as u8);
        }
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(argument as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(argument as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&argument.to_be_bytes());
        }
    }
}

/// Appends a CBOR byte string.
fn push_bytes(out: &mut Vec<u8>, value: &[u8]) {
    push_head(out, 2, value.len() as u64);
    out.extend_from_slice(value);
}

/// A CBOR record CMW, `[media_type, h'value']`.
///
/// Takes whatever it is given: wrapping an empty value or a malformed media
/// type makes a CMW that [`unwrap`] refuses, which tests rely on.
pub fn wrap_record_cbor(media_type: &str, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(media_type.len() + value.len() + 19);
    push_head(&mut out, 4, 2);
    push_head(&mut out, 3, media_type.len() as u64);
    out.extend_from_slice(media_type.as_bytes());
    push_bytes(&mut out, value);
    out
}

/// A JSON record CMW, `["media_type", "base64url(value)"]`.
///
/// Like [`wrap_record_cbor`], it takes whatever it is given.
pub fn wrap_record_json(media_type: &str, value: &[u8]) -> String {
    serde_json::Value::Array(vec![
        serde_json::Value::String(media_type.to_owned()),
        serde_json::Value::String(URL_SAFE_NO_PAD.encode(value)),
    ])
    .to_string()
}

/// A CBOR tag CMW, `#6.TN(content_format)(h'value')`.
///
/// `None` when the Content-Format has no RFC 9277 tag (65025..=65535).
pub fn wrap_tag_cbor(content_format: u16, value: &[u8]) -> Option<Vec<u8>> {
    let tag = tag_number(content_format)?;
    let mut out = Vec::with_capacity(value.len() + 14);
    push_head(&mut out, 6, tag);
    push_bytes(&mut out, value);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &[u8] = &[0xd2, 0x84, 0x43, 0xa1, 0x01, 0x26];

    fn record(media_type: &str, value: &[u8]) -> Unwrapped {
        Unwrapped::Record {
            media_type: media_type.into(),
            value: value.to_vec(),
        }
    }

    #[test]
    fn media_types() {
        for mt in CMW_MEDIA_TYPES {
            assert!(is_cmw_media_type(mt));
            assert!(is_cmw_media_type(&mt.to_ascii_uppercase()));
        }
        assert!(is_cmw_media_type(" Application/CMW+CBOR ; foo=bar"));
        assert!(!is_cmw_media_type("application/cmw+cose"));
        assert!(!is_cmw_media_type("application/eat+cwt"));
        assert!(!is_cmw_media_type("application/psa-attestation-token"));
        assert!(!is_cmw_media_type(""));
        assert!(matches!(
            unwrap("application/eat+cwt", b"[]"),
            Err(CmwError::NotCmwMediaType(m)) if m == "application/eat+cwt"
        ));
    }

    #[test]
    fn json_record_round_trip_under_every_json_capable_type() {
        let json = wrap_record_json("application/eat+cwt", TOKEN);
        for mt in [
            "application/cmw",
            "application/cmw+json",
            "application/vnd.veraison.cmw",
            "application/vnd.veraison.cmw+json",
        ] {
            assert_eq!(
                unwrap(mt, json.as_bytes()),
                Ok(record("application/eat+cwt", TOKEN)),
                "{mt}"
            );
        }
    }

    #[test]
    fn cbor_record_round_trip_under_every_cbor_capable_type() {
        let mt = "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"";
        let cbor = wrap_record_cbor(mt, TOKEN);
        for ct in [
            "application/cmw",
            "application/cmw+cbor",
            "application/vnd.veraison.cmw",
            "application/vnd.veraison.cmw+cbor",
        ] {
            assert_eq!(unwrap(ct, &cbor), Ok(record(mt, TOKEN)), "{ct}");
        }
    }

    #[test]
    fn tag_round_trip() {
        let tagged = wrap_tag_cbor(263, TOKEN).unwrap();
        assert_eq!(&tagged[..5], &[0xda, 0x63, 0x74, 0x02, 0x09]);
        assert_eq!(
            unwrap("application/cmw", &tagged),
            Ok(record("application/eat+cwt", TOKEN))
        );
        let psa = wrap_tag_cbor(10004, TOKEN).unwrap();
        assert_eq!(
            unwrap("application/cmw+cbor", &psa),
            Ok(record(
                "application/eat+cwt; eat_profile=\"tag:psacertified.org,2019:psa#legacy\"",
                TOKEN
            ))
        );
        assert_eq!(wrap_tag_cbor(65025, TOKEN), None);
    }

    #[test]
    fn wrap_helpers_encode_long_values() {
        for len in [0usize, 1, 23, 24, 255, 256, 65535, 65536] {
            let value = vec![0x5a; len];
            let cbor = wrap_record_cbor("a/b", &value);
            let json = wrap_record_json("a/b", &value);
            if len == 0 {
                assert_eq!(unwrap("application/cmw", &cbor), Err(CmwError::EmptyValue));
                assert_eq!(
                    unwrap("application/cmw", json.as_bytes()),
                    Err(CmwError::EmptyValue)
                );
            } else {
                assert_eq!(unwrap("application/cmw", &cbor), Ok(record("a/b", &value)));
                assert_eq!(
                    unwrap("application/cmw", json.as_bytes()),
                    Ok(record("a/b", &value))
                );
            }
        }
        let long_type = format!("application/{}", "x".repeat(70_000));
        assert_eq!(
            unwrap("application/cmw", &wrap_record_cbor(&long_type, TOKEN)),
            Ok(record(&long_type, TOKEN))
        );
    }

    #[test]
    fn collections_pass_through() {
        let cbor = [
            &[0xa1, 0x19, 0xac, 0xca][..],
            &wrap_record_cbor("application/eat+cwt", TOKEN),
        ]
        .concat();
        assert_eq!(
            unwrap("application/cmw+cbor", &cbor),
            Ok(Unwrapped::Collection)
        );
        assert_eq!(unwrap("application/cmw", &cbor), Ok(Unwrapped::Collection));
        let json = format!(r#"{{"x": {}}}"#, wrap_record_json("a/b", TOKEN));
        assert_eq!(
            unwrap("application/vnd.veraison.cmw+json", json.as_bytes()),
            Ok(Unwrapped::Collection)
        );
    }

    #[test]
    fn serialisation_must_match_the_suffix() {
        let json = wrap_record_json("a/b", TOKEN);
        let cbor = wrap_record_cbor("a/b", TOKEN);
        assert_eq!(
            unwrap("application/cmw+cbor", json.as_bytes()),
            Err(CmwError::FormatMismatch {
                media_type: "application/cmw+cbor".into(),
                expected: "CBOR"
            })
        );
        assert!(matches!(
            unwrap("Application/CMW+JSON", &cbor),
            Err(CmwError::FormatMismatch { media_type, .. }) if media_type == "application/cmw+json"
        ));
        assert!(matches!(
            unwrap("application/vnd.veraison.cmw+json", b"\"AQ\""),
            Err(CmwError::FormatMismatch { .. })
        ));
        assert!(matches!(
            unwrap("application/vnd.veraison.cmw+json", b"   "),
            Err(CmwError::FormatMismatch { .. })
        ));
        // Leading whitespace is fine in JSON.
        let spaced = format!("\n {json}");
        assert_eq!(
            unwrap("application/cmw+json", spaced.as_bytes()),
            Ok(record("a/b", TOKEN))
        );
    }

    #[test]
    fn detection_errors() {
        assert_eq!(unwrap("application/cmw", b""), Err(CmwError::Empty));
        assert_eq!(unwrap("application/cmw+json", b""), Err(CmwError::Empty));
        assert_eq!(unwrap("application/cmw+cbor", b""), Err(CmwError::Empty));
        assert_eq!(
            unwrap("application/cmw", b" [\"a/b\", \"AQ\"]"),
            Err(CmwError::UnrecognisedStart(b' '))
        );
        assert_eq!(
            unwrap("application/cmw", b"hello"),
            Err(CmwError::UnrecognisedStart(b'h'))
        );
        assert_eq!(
            unwrap("application/cmw", &[0xff]),
            Err(CmwError::UnrecognisedStart(0xff))
        );
        // Tag 907 (the CCA collection framing) starts like a tag but is not a CMW one.
        assert_eq!(
            unwrap("application/cmw", &[0xd9, 0x03, 0x8b, 0xa0]),
            Err(CmwError::UnknownTag(907))
        );
    }

    #[test]
    fn messages_follow_veraisons_prefix() {
        let e = unwrap("application/cmw", br#"["a/b", "AQ", 1, 2]"#).unwrap_err();
        assert_eq!(
            format!("could not unwrap the CMW: {e}"),
            "could not unwrap the CMW: wrong number of entries (4) in the CMW record: expected 2 or 3"
        );
        let e = unwrap(
            "application/cmw",
            &[0xa1, 0x00, 0x82, 0x19, 0x01, 0x07, 0x40],
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "CMW collection entry 0: empty CMW value");
        let e = unwrap("application/cmw", &[0xd9, 0x03, 0x8b, 0xa0]).unwrap_err();
        assert!(
            e.to_string().starts_with("CBOR tag 907 is not a CMW tag"),
            "{e}"
        );
    }
}
