//! The request headers the REST front ends negotiate on: `Accept` (every
//! JSON answer, `vouch_http::negotiate`) and `Content-Type` (evidence and
//! CoRIM submissions, `vouch_http::trust::supported_content_type`).
//!
//! Input: lines; the first is the `Content-Type` value, each other line one
//! `Accept` header. Besides "never panic":
//! - no `Accept` header accepts everything; `accepts_any` is `accepts` of
//!   any offer; the order of the headers, the case of their text and an
//!   extra refused entry change nothing; naming the offer, or `*/*`, in a
//!   further header always accepts it;
//! - a `Content-Type` is taken exactly when it parses to a supported media
//!   type; otherwise the answer is 415 (absent, or parsed but unsupported)
//!   or 400 (does not parse).

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use vouch_http::negotiate::{accepts, accepts_any};
use vouch_http::trust::supported_content_type;
use vouch_trust_api::MediaType;

/// What the front ends offer (answers) and accept (submissions).
const OFFERS: [&str; 5] = [
    "application/vnd.veraison.challenge-response-session+json",
    "application/vnd.veraison.discovery+json",
    "application/vnd.veraison.provisioning-session+json",
    "application/vnd.veraison.policy.opa",
    "application/json",
];
const SUPPORTED: [&str; 6] = [
    "application/psa-attestation-token",
    r#"application/eat-collection; profile="http://arm.com/CCA-SSD/1.0.0""#,
    r#"application/rim+cbor; profile="tag:arm.com,2025:psa#1.0.0""#,
    r#"application/rim+cose; profile="tag:arm.com,2025:psa#1.0.0""#,
    r#"application/corim-unsigned+cbor; profile="http://arm.com/psa/iot/1""#,
    "application/cmw+cbor",
];

fn supported() -> &'static [MediaType] {
    static SUPPORTED_TYPES: OnceLock<Vec<MediaType>> = OnceLock::new();
    SUPPORTED_TYPES.get_or_init(|| {
        SUPPORTED
            .iter()
            .map(|t| MediaType::parse(t).expect("fixed media type"))
            .collect()
    })
}

fn with_accept(values: &[HeaderValue]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(ACCEPT, value.clone());
    }
    headers
}

fn check_accept(values: &[HeaderValue]) {
    let headers = with_accept(values);
    let verdicts: Vec<bool> = OFFERS.iter().map(|o| accepts(&headers, o)).collect();
    if values.is_empty() {
        assert!(
            verdicts.iter().all(|v| *v),
            "no Accept header must accept everything"
        );
    }
    assert_eq!(accepts_any(&headers, &OFFERS), verdicts.contains(&true));

    let mut reversed = values.to_vec();
    reversed.reverse();
    let upper: Vec<HeaderValue> = values
        .iter()
        .filter_map(|v| HeaderValue::from_bytes(&v.as_bytes().to_ascii_uppercase()).ok())
        .collect();
    let mut refused_extra = values.to_vec();
    refused_extra.push(HeaderValue::from_static("image/png;q=0"));
    for (variant, what) in [(reversed, "reordered"), (upper, "upper-cased")] {
        let headers = with_accept(&variant);
        let again: Vec<bool> = OFFERS.iter().map(|o| accepts(&headers, o)).collect();
        assert_eq!(
            again, verdicts,
            "{what} Accept headers changed the verdicts"
        );
    }
    if !values.is_empty() {
        let headers = with_accept(&refused_extra);
        let again: Vec<bool> = OFFERS.iter().map(|o| accepts(&headers, o)).collect();
        assert_eq!(again, verdicts, "a refused entry changed the verdicts");
    }
    // Every offer is an application/ type.
    for extra in OFFERS.iter().chain(&["*/*", "application/*"]) {
        let mut more = values.to_vec();
        more.push(HeaderValue::from_static(extra));
        let headers = with_accept(&more);
        for offer in OFFERS {
            if extra.contains('*') || *extra == offer {
                assert!(accepts(&headers, offer), "{extra} does not accept {offer}");
            }
        }
    }
}

fn check_content_type(line: &[u8]) {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(line) {
        headers.insert(CONTENT_TYPE, value);
    }
    let raw = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parsed = MediaType::parse(raw);
    match supported_content_type(&headers, supported(), "verifier") {
        Ok((taken, media_type)) => {
            assert_eq!(taken, raw);
            assert_eq!(parsed.as_ref(), Ok(&media_type));
            assert!(supported().contains(&media_type));
        }
        Err(problem) => {
            let expected = match &parsed {
                _ if raw.is_empty() => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Ok(media_type) => {
                    assert!(
                        !supported().contains(media_type),
                        "refused a supported {media_type}"
                    );
                    StatusCode::UNSUPPORTED_MEDIA_TYPE
                }
                Err(_) => StatusCode::BAD_REQUEST,
            };
            assert_eq!(problem.status(), expected, "{raw:?}");
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let accepts = [
        "",
        "*/*",
        "application/json",
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8",
        "application/vnd.veraison.challenge-response-session+json",
        "application/vnd.veraison.discovery+json; q=1.0, application/json;q=0.5",
        "application/*;q=0",
        "application/json;q=0, */*;q=0.001",
        "APPLICATION/JSON; Q=0.000",
        "text/*, image/png;q=0",
    ];
    let mut out = Vec::new();
    for (i, content_type) in SUPPORTED
        .iter()
        .copied()
        .chain([
            "",
            "application/json",
            "application/psa-attestation-token; charset=utf-8",
            "Application/RIM+CBOR;profile=\"tag:arm.com,2025:psa#1.0.0\"",
            "application/rim+cbor; profile=",
            "application/eat-collection; profile=\"unterminated",
        ])
        .enumerate()
    {
        let mut seed = content_type.as_bytes().to_vec();
        for accept in accepts.iter().skip(i % accepts.len()).take(3) {
            seed.push(b'\n');
            seed.extend_from_slice(accept.as_bytes());
        }
        out.push(seed);
    }
    out
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        let mut lines = data.split(|b| *b == b'\n');
        check_content_type(lines.next().unwrap_or_default());
        // Values a client can send; hyper refuses the others.
        let values: Vec<HeaderValue> = lines.filter_map(|l| HeaderValue::from_bytes(l).ok()).collect();
        check_accept(&values);
    }
);
