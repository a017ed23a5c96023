//! The shared vectors' CMWs (MANIFEST.md, CCA tokens in the tag-907 framing),
//! read at run time.
//!
//! The new CCA framing is `#6.907({44234: [263, bstr], 44241: [263, bstr]})`:
//! a CBOR CMW *collection* (integer labels, CBOR records of Content-Format
//! 263, `application/eat+cwt`) inside CCA's own tag 907. Tag 907 is not an
//! RFC 9277 content-format tag, so posted as `application/cmw` the token is
//! refused, as veraison/cmw refuses it (its first byte, 0xd9, starts no
//! CMW); the map inside it is a well-formed collection, whose entries
//! unwrap to the platform and realm COSE_Sign1 tokens.

use std::path::Path;

use minicbor::Decoder;
use vouch_cmw::{CmwError, Unwrapped, unwrap};
use vouch_testkit::vectors;

const GOOD: &[&str] = &[
    "cca/tokens/ccatoken-gotest-good.cmw907.cbor",
    "cca/tokens/ccatoken-gotest-rmm.cmw907.cbor",
    "cca/derived/cca-good.integration.cmw907.cbor",
];

/// The CCA collection tag.
const CCA_TAG: u64 = 907;
const PLATFORM: u64 = 44234;
const REALM: u64 = 44241;

/// Splits the tag-907 framing off a vector, returning the map inside.
fn inside_tag_907<'a>(rel: &str, bytes: &'a [u8]) -> &'a [u8] {
    let mut d = Decoder::new(bytes);
    let tag = d.tag().unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(tag.as_u64(), CCA_TAG, "{rel}");
    &bytes[d.position()..]
}

/// The collection's entries, each unwrapped on its own as a CBOR CMW.
fn entries(rel: &str, map: &[u8]) -> Vec<(u64, Result<Unwrapped, CmwError>)> {
    let mut d = Decoder::new(map);
    let n = d
        .map()
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .expect("definite map");
    let mut out = Vec::new();
    for _ in 0..n {
        let label = d.u64().unwrap_or_else(|e| panic!("{rel}: {e}"));
        let start = d.position();
        d.skip().unwrap_or_else(|e| panic!("{rel}: {e}"));
        out.push((
            label,
            unwrap("application/cmw+cbor", &map[start..d.position()]),
        ));
    }
    out
}

fn check_good(dir: &Path, rel: &str) {
    let bytes = vectors::read(dir, rel);
    for ct in [
        "application/cmw",
        "application/cmw+cbor",
        "application/vnd.veraison.cmw",
    ] {
        assert_eq!(
            unwrap(ct, &bytes),
            Err(CmwError::UnknownTag(CCA_TAG)),
            "{rel} as {ct}"
        );
    }
    let map = inside_tag_907(rel, &bytes);
    assert_eq!(
        unwrap("application/cmw", map),
        Ok(Unwrapped::Collection),
        "{rel}"
    );

    let entries = entries(rel, map);
    let labels: Vec<u64> = entries.iter().map(|(l, _)| *l).collect();
    assert_eq!(labels, [PLATFORM, REALM], "{rel}");
    for (label, unwrapped) in entries {
        match unwrapped {
            Ok(Unwrapped::Record { media_type, value }) => {
                assert_eq!(media_type, "application/eat+cwt", "{rel} {label}");
                // A tagged COSE_Sign1: tag 18, then a 4-element array.
                assert_eq!(&value[..2], &[0xd2, 0x84], "{rel} {label}");
            }
            other => panic!("{rel} {label}: {other:?}"),
        }
    }
}

#[test]
fn good_cca_tokens_carry_a_cmw_collection_inside_tag_907() {
    let Some(dir) = vectors::dir() else { return };
    for rel in GOOD {
        check_good(&dir, rel);
    }
}

#[test]
fn negative_cca_tokens() {
    let Some(dir) = vectors::dir() else { return };
    let inner = |rel: &str| {
        let bytes = vectors::read(&dir, rel);
        assert_eq!(
            unwrap("application/cmw", &bytes),
            Err(CmwError::UnknownTag(CCA_TAG)),
            "{rel}"
        );
        unwrap("application/cmw+cbor", inside_tag_907(rel, &bytes))
    };
    let entry_error = |rel: &str| match inner(rel) {
        Err(CmwError::Entry { label, source }) => (label, *source),
        other => panic!("{rel}: {other:?}"),
    };

    // Tag 907 around an empty map: no CMW in the collection.
    assert_eq!(
        inner("cca/negative/platform-token-not-set.cmw907.cbor"),
        Err(CmwError::EmptyCollection)
    );
    // {44234: [263, h'']}: an empty value.
    assert_eq!(
        entry_error("cca/negative/realm-token-not-set.cmw907.cbor"),
        ("44234".to_owned(), CmwError::EmptyValue)
    );
    // [263, 18([...])]: the COSE_Sign1 is not bstr-wrapped.
    let (label, source) = entry_error("cca/negative/ccatoken-bad-unwrapped.cmw907.cbor");
    assert_eq!(label, "44234");
    assert!(matches!(source, CmwError::BadValue(_)), "{source:?}");
    // Bad COSE inside well-formed records: a CMW matter no longer, the
    // collection is fine (the CCA decoder refuses it later).
    for rel in [
        "cca/negative/missing-sign1-tag.cmw907.cbor",
        "cca/negative/empty-sign1.cmw907.cbor",
    ] {
        assert_eq!(inner(rel), Ok(Unwrapped::Collection), "{rel}");
    }
}

#[test]
fn legacy_cca_framing_is_not_a_cmw() {
    let Some(dir) = vectors::dir() else { return };
    let rel = "cca/tokens/ccatoken-gotest-good.legacy399.cbor";
    let bytes = vectors::read(&dir, rel);
    assert_eq!(
        unwrap("application/cmw", &bytes),
        Err(CmwError::UnknownTag(399))
    );
    // Inside tag 399 the entries are bare byte strings, not CMWs.
    let mut d = Decoder::new(&bytes);
    assert_eq!(d.tag().expect("tag").as_u64(), 399);
    match unwrap("application/cmw+cbor", &bytes[d.position()..]) {
        Err(CmwError::Entry { source, .. }) => {
            assert!(matches!(*source, CmwError::NotCmw(_)), "{source:?}");
        }
        other => panic!("{rel}: {other:?}"),
    }
}
