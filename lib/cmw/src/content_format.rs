//! CoAP Content-Format numbers, their media types, and the RFC 9277 CBOR
//! tags derived from them.
//!
//! A CBOR record may name its type by Content-Format number, and a tag CMW
//! always does (through its tag number), so unwrapping needs the number's
//! media type. The table is the IANA "CoAP Content-Formats" registry
//! (<https://www.iana.org/assignments/core-parameters>) as veraison/cmw
//! v0.2.0 snapshots it in `cfmap.go` (the library Veraison's verification
//! API unwraps with), so a number maps to the same Content-Type in Vouch as
//! in Veraison; plus the four Content-Formats IANA allocated to CMW itself
//! (273..=276, whose tags draft-ietf-rats-msg-wrap §10.6.2 lists as
//! 1668547091..=1668547094). Entries that carry parameters (the PSA
//! profiles 10003 and 10004, for instance) keep them, exactly as
//! registered, because the schemes match on them.

/// Smallest RFC 9277 content-format tag number: `TN(0)`.
pub const TN_MIN: u64 = 1_668_546_817;
/// Largest RFC 9277 content-format tag number: `TN(65024)`.
pub const TN_MAX: u64 = 1_668_612_095;
/// Largest Content-Format number with a tag; 65025..=65535 have none.
const CF_WITH_TAG_MAX: u16 = 65024;

/// `(Content-Format, Content-Type)`, sorted by number for binary search.
const CONTENT_FORMATS: &[(u16, &str)] = &[
    (0, "text/plain; charset=utf-8"),
    (16, "application/cose; cose-type=\"cose-encrypt0\""),
    (17, "application/cose; cose-type=\"cose-mac0\""),
    (18, "application/cose; cose-type=\"cose-sign1\""),
    (19, "application/ace+cbor"),
    (21, "image/gif"),
    (22, "image/jpeg"),
    (23, "image/png"),
    (40, "application/link-format"),
    (41, "application/xml"),
    (42, "application/octet-stream"),
    (47, "application/exi"),
    (50, "application/json"),
    (51, "application/json-patch+json"),
    (52, "application/merge-patch+json"),
    (60, "application/cbor"),
    (61, "application/cwt"),
    (62, "application/multipart-core"),
    (63, "application/cbor-seq"),
    (64, "application/edhoc+cbor-seq"),
    (65, "application/cid-edhoc+cbor-seq"),
    (96, "application/cose; cose-type=\"cose-encrypt\""),
    (97, "application/cose; cose-type=\"cose-mac\""),
    (98, "application/cose; cose-type=\"cose-sign\""),
    (101, "application/cose-key"),
    (102, "application/cose-key-set"),
    (110, "application/senml+json"),
    (111, "application/sensml+json"),
    (112, "application/senml+cbor"),
    (113, "application/sensml+cbor"),
    (114, "application/senml-exi"),
    (115, "application/sensml-exi"),
    (140, "application/yang-data+cbor; id=sid"),
    (256, "application/coap-group+json"),
    (257, "application/concise-problem-details+cbor"),
    (258, "application/swid+cbor"),
    (259, "application/pkixcmp"),
    (260, "application/yang-sid+json"),
    (261, "application/ace-groupcomm+cbor"),
    (262, "application/ace-trl+cbor"),
    (263, "application/eat+cwt"),
    (264, "application/eat+jwt"),
    (265, "application/eat-bun+cbor"),
    (266, "application/eat-bun+json"),
    (267, "application/eat-ucs+cbor"),
    (268, "application/eat-ucs+json"),
    (269, "application/coap-eap"),
    (271, "application/dots+cbor"),
    (272, "application/missing-blocks+cbor-seq"),
    (273, "application/cmw+cbor"), // draft-ietf-rats-msg-wrap
    (274, "application/cmw+json"), // draft-ietf-rats-msg-wrap
    (275, "application/cmw+cose"), // draft-ietf-rats-msg-wrap
    (276, "application/cmw+jws"),  // draft-ietf-rats-msg-wrap
    (
        280,
        "application/pkcs7-mime; smime-type=server-generated-key",
    ),
    (281, "application/pkcs7-mime; smime-type=certs-only"),
    (284, "application/pkcs8"),
    (285, "application/csrattrs"),
    (286, "application/pkcs10"),
    (287, "application/pkix-cert"),
    (290, "application/aif+cbor"),
    (291, "application/aif+json"),
    (310, "application/senml+xml"),
    (311, "application/sensml+xml"),
    (320, "application/senml-etch+json"),
    (322, "application/senml-etch+cbor"),
    (340, "application/yang-data+cbor"),
    (341, "application/yang-data+cbor; id=name"),
    (432, "application/td+json"),
    (433, "application/tm+json"),
    (601, "application/uccs+cbor"),
    (10000, "application/vnd.ocf+cbor"),
    (10001, "application/oscore"),
    (10002, "application/javascript"),
    (
        10003,
        "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"",
    ),
    (
        10004,
        "application/eat+cwt; eat_profile=\"tag:psacertified.org,2019:psa#legacy\"",
    ),
    (
        10005,
        "application/eat+cwt; eat_profile=2.16.840.1.113741.1.16.1",
    ),
    (10570, "application/toc+cbor"),
    (10571, "application/ce+cbor"),
    (11542, "application/vnd.oma.lwm2m+tlv"),
    (11543, "application/vnd.oma.lwm2m+json"),
    (11544, "application/vnd.oma.lwm2m+cbor"),
    (20000, "text/css"),
    (30000, "image/svg+xml"),
];

/// The Content-Type a CoAP Content-Format number stands for, if this crate
/// knows it (see the module docs for where the table comes from).
pub fn media_type_for_content_format(content_format: u16) -> Option<&'static str> {
    CONTENT_FORMATS
        .binary_search_by_key(&content_format, |&(cf, _)| cf)
        .ok()
        .and_then(|i| CONTENT_FORMATS.get(i))
        .map(|&(_, media_type)| media_type)
}

/// RFC 9277 Appendix B: the CBOR tag number of a Content-Format,
/// `TN(cf) = 1668546817 + (cf / 255) * 256 + cf % 255`.
///
/// `None` for 65025..=65535, which have no tag.
pub fn tag_number(content_format: u16) -> Option<u64> {
    if content_format > CF_WITH_TAG_MAX {
        return None;
    }
    let cf = u64::from(content_format);
    Some(TN_MIN + (cf / 255) * 256 + cf % 255)
}

/// The inverse of [`tag_number`]: the Content-Format a CBOR tag stands for.
///
/// `None` outside [`TN_MIN`]..=[`TN_MAX`] and for the numbers `TN()` never
/// produces (those whose least significant byte is 0x00), so that every
/// Content-Format has exactly one tag.
pub fn content_format_for_tag(tag: u64) -> Option<u16> {
    if !(TN_MIN..=TN_MAX).contains(&tag) {
        return None;
    }
    let offset = tag - TN_MIN;
    // `TN()` steps through 255 of every 256 numbers.
    if offset % 256 == 255 {
        return None;
    }
    let cf = u16::try_from((offset / 256) * 255 + offset % 256).ok()?;
    Some(cf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(CONTENT_FORMATS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_media_type_in_the_table_is_a_valid_content_type() {
        for &(cf, media_type) in CONTENT_FORMATS {
            assert_eq!(
                crate::syntax::content_type(media_type),
                Some(media_type),
                "{cf}"
            );
        }
    }

    #[test]
    fn attestation_numbers_map_to_their_media_types() {
        assert_eq!(
            media_type_for_content_format(263),
            Some("application/eat+cwt")
        );
        assert_eq!(
            media_type_for_content_format(264),
            Some("application/eat+jwt")
        );
        assert_eq!(media_type_for_content_format(61), Some("application/cwt"));
        assert_eq!(
            media_type_for_content_format(18),
            Some("application/cose; cose-type=\"cose-sign1\"")
        );
        assert_eq!(
            media_type_for_content_format(10003),
            Some("application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"")
        );
        assert_eq!(
            media_type_for_content_format(273),
            Some("application/cmw+cbor")
        );
        assert_eq!(media_type_for_content_format(1), None);
        assert_eq!(media_type_for_content_format(65535), None);
    }

    #[test]
    fn tag_numbers_match_the_drafts_examples() {
        // draft-ietf-rats-msg-wrap: Content-Format 64999 <-> tag 1668612070,
        // and the CMW formats 273..=276 <-> 1668547091..=1668547094.
        assert_eq!(tag_number(64999), Some(1_668_612_070));
        assert_eq!(content_format_for_tag(1_668_612_070), Some(64999));
        assert_eq!(tag_number(273), Some(1_668_547_091));
        assert_eq!(tag_number(276), Some(1_668_547_094));
        assert_eq!(tag_number(0), Some(TN_MIN));
        assert_eq!(tag_number(65024), Some(TN_MAX));
        assert_eq!(tag_number(65025), None);
        assert_eq!(tag_number(u16::MAX), None);
    }

    #[test]
    fn tag_number_round_trips_for_every_content_format() {
        for cf in 0..=CF_WITH_TAG_MAX {
            let tn = tag_number(cf).unwrap();
            assert!((TN_MIN..=TN_MAX).contains(&tn));
            assert_eq!(content_format_for_tag(tn), Some(cf), "cf {cf}");
        }
    }

    #[test]
    fn holes_and_out_of_range_tags_have_no_content_format() {
        // 0x6374_0200 ends in 0x00: TN() skips it.
        assert_eq!(content_format_for_tag(0x6374_0200), None);
        assert_eq!(content_format_for_tag(TN_MIN - 1), None);
        assert_eq!(content_format_for_tag(TN_MAX + 1), None);
        assert_eq!(content_format_for_tag(907), None);
        assert_eq!(content_format_for_tag(18), None);
        // Exactly 65025 tag numbers in the range are used.
        let used = (TN_MIN..=TN_MAX)
            .filter(|&t| content_format_for_tag(t).is_some())
            .count();
        assert_eq!(used, 65025);
    }
}
