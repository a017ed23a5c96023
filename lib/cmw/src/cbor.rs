//! The CBOR serialisations: `cbor-record`, the tag CMW and `cbor-collection`.
//!
//! Decoding streams over the input with `minicbor`: nothing is allocated
//! from a length the input declares, only what has been read (the record's
//! type and value, collection labels), and collections recurse at most
//! [`MAX_COLLECTION_DEPTH`] levels.

use std::collections::BTreeSet;

use minicbor::Decoder;
use minicbor::data::Type;

use crate::content_format::{content_format_for_tag, media_type_for_content_format};
use crate::{CmwError, MAX_COLLECTION_DEPTH, Unwrapped, syntax};

/// The reserved collection key.
const COLLECTION_TYPE_KEY: &str = "__cmwc_t";

fn malformed(e: minicbor::decode::Error) -> CmwError {
    CmwError::Cbor(e.to_string())
}

/// Describes a CBOR type for an error message.
fn describe(t: Type) -> String {
    match t {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "an unsigned integer".into(),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => "a negative integer".into(),
        Type::Bytes | Type::BytesIndef => "a byte string".into(),
        Type::String | Type::StringIndef => "a text string".into(),
        Type::Array | Type::ArrayIndef => "an array".into(),
        Type::Map | Type::MapIndef => "a map".into(),
        Type::Tag => "a tag".into(),
        Type::Break => "a break".into(),
        other => format!("a CBOR {other}"),
    }
}

fn is_uint(t: Type) -> bool {
    matches!(t, Type::U8 | Type::U16 | Type::U32 | Type::U64)
}

/// Reads a definite or indefinite text string.
fn text(d: &mut Decoder<'_>) -> Result<String, CmwError> {
    match d.datatype().map_err(malformed)? {
        Type::String => Ok(d.str().map_err(malformed)?.to_owned()),
        _ => {
            let mut s = String::new();
            for chunk in d.str_iter().map_err(malformed)? {
                s.push_str(chunk.map_err(malformed)?);
            }
            Ok(s)
        }
    }
}

/// Reads a definite or indefinite byte string.
fn bytes(d: &mut Decoder<'_>) -> Result<Vec<u8>, CmwError> {
    match d.datatype().map_err(malformed)? {
        Type::Bytes => Ok(d.bytes().map_err(malformed)?.to_vec()),
        _ => {
            let mut v = Vec::new();
            for chunk in d.bytes_iter().map_err(malformed)? {
                v.extend_from_slice(chunk.map_err(malformed)?);
            }
            Ok(v)
        }
    }
}

/// Decodes a whole CBOR CMW: a record, a tag or a collection, and nothing after it.
pub(crate) fn unwrap(body: &[u8]) -> Result<Unwrapped, CmwError> {
    let mut d = Decoder::new(body);
    let unwrapped = cmw(&mut d, 1)?;
    let trailing = body.len().saturating_sub(d.position());
    if trailing != 0 {
        return Err(CmwError::TrailingBytes(trailing));
    }
    Ok(unwrapped)
}

/// Decodes one CMW at the decoder's position; `depth` is the collection
/// nesting level a collection found here would have.
fn cmw(d: &mut Decoder<'_>, depth: usize) -> Result<Unwrapped, CmwError> {
    match d.datatype().map_err(malformed)? {
        Type::Array | Type::ArrayIndef => {
            let (media_type, value) = record(d)?;
            Ok(Unwrapped::Record { media_type, value })
        }
        Type::Tag => {
            let (media_type, value) = tag(d)?;
            Ok(Unwrapped::Record { media_type, value })
        }
        Type::Map | Type::MapIndef => {
            collection(d, depth)?;
            Ok(Unwrapped::Collection)
        }
        other => Err(CmwError::NotCmw(describe(other))),
    }
}

/// True when the next item of an indefinite-length array is its break.
fn at_break(d: &mut Decoder<'_>) -> Result<bool, CmwError> {
    if d.datatype().map_err(malformed)? == Type::Break {
        // Consume the 0xff, which `skip` does not do on its own.
        d.skip().map_err(malformed)?;
        return Ok(true);
    }
    Ok(false)
}

/// `cbor-record = [ type, value, ? ind ]`.
fn record(d: &mut Decoder<'_>) -> Result<(String, Vec<u8>), CmwError> {
    let len = d.array().map_err(malformed)?;
    if let Some(n) = len
        && n != 2
        && n != 3
    {
        return Err(CmwError::RecordLength(n));
    }
    let indefinite = len.is_none();

    if indefinite && at_break(d)? {
        return Err(CmwError::RecordLength(0));
    }
    let media_type = record_type(d)?;
    if indefinite && at_break(d)? {
        return Err(CmwError::RecordLength(1));
    }
    let value = record_value(d)?;

    match len {
        Some(3) => indicator(d)?,
        Some(_) => {}
        None => {
            if !at_break(d)? {
                indicator(d)?;
                // Anything but the break now is a fourth entry: count them all.
                let mut n: u64 = 3;
                while !at_break(d)? {
                    d.skip().map_err(malformed)?;
                    n = n.saturating_add(1);
                }
                if n != 3 {
                    return Err(CmwError::RecordLength(n));
                }
            }
        }
    }
    Ok((media_type, value))
}

/// `type: coap-content-format-type / media-type`.
fn record_type(d: &mut Decoder<'_>) -> Result<String, CmwError> {
    match d.datatype().map_err(malformed)? {
        Type::String | Type::StringIndef => {
            let s = text(d)?;
            match syntax::content_type(&s) {
                Some(media_type) => Ok(media_type.to_owned()),
                None => Err(CmwError::BadMediaType(s)),
            }
        }
        t if is_uint(t) => {
            let n = d.u64().map_err(malformed)?;
            let cf = u16::try_from(n).map_err(|_| {
                CmwError::BadType(format!("Content-Format {n} does not fit in 16 bits"))
            })?;
            media_type_for_content_format(cf)
                .map(str::to_owned)
                .ok_or(CmwError::UnknownContentFormat(n))
        }
        other => Err(CmwError::BadType(format!(
            "expected a media-type text string or a CoAP Content-Format number, found {}",
            describe(other)
        ))),
    }
}

/// `value: bytes`, never empty.
fn record_value(d: &mut Decoder<'_>) -> Result<Vec<u8>, CmwError> {
    match d.datatype().map_err(malformed)? {
        Type::Bytes | Type::BytesIndef => {
            let value = bytes(d)?;
            if value.is_empty() {
                return Err(CmwError::EmptyValue);
            }
            Ok(value)
        }
        other => Err(CmwError::BadValue(format!(
            "expected a byte string, found {}",
            describe(other)
        ))),
    }
}

/// `? ind: uint .bits cm-type`: at most 32 bits, never zero.
fn indicator(d: &mut Decoder<'_>) -> Result<(), CmwError> {
    let t = d.datatype().map_err(malformed)?;
    if !is_uint(t) {
        return Err(CmwError::BadIndicator(format!(
            "expected an unsigned integer, found {}",
            describe(t)
        )));
    }
    check_indicator(d.u64().map_err(malformed)?)
}

pub(crate) fn check_indicator(ind: u64) -> Result<(), CmwError> {
    if ind == 0 || ind > u64::from(u32::MAX) {
        return Err(CmwError::BadIndicator(format!(
            "{ind} is not in 1..=4294967295"
        )));
    }
    Ok(())
}

/// `#6.<TN(cf)>(bytes)`.
fn tag(d: &mut Decoder<'_>) -> Result<(String, Vec<u8>), CmwError> {
    let number = d.tag().map_err(malformed)?.as_u64();
    let cf = content_format_for_tag(number).ok_or(CmwError::UnknownTag(number))?;
    let media_type =
        media_type_for_content_format(cf).ok_or(CmwError::UnknownContentFormat(cf.into()))?;
    match d.datatype().map_err(malformed)? {
        Type::Bytes | Type::BytesIndef => {
            let value = bytes(d)?;
            if value.is_empty() {
                return Err(CmwError::EmptyValue);
            }
            Ok((media_type.to_owned(), value))
        }
        other => Err(CmwError::BadTagContent(format!(
            "expected a byte string, found {}",
            describe(other)
        ))),
    }
}

/// A collection label, ordered for duplicate detection.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    Int(i128),
    Text(String),
}

impl Label {
    fn display(&self) -> String {
        match self {
            Label::Int(n) => n.to_string(),
            Label::Text(s) => format!("{s:?}"),
        }
    }
}

/// `cbor-collection = { ? "__cmwc_t": ~uri / oid, + label => cbor-cmw }`.
fn collection(d: &mut Decoder<'_>, depth: usize) -> Result<(), CmwError> {
    if depth > MAX_COLLECTION_DEPTH {
        return Err(CmwError::TooDeep(MAX_COLLECTION_DEPTH));
    }
    let len = d.map().map_err(malformed)?;
    let mut seen = BTreeSet::new();
    let mut entries: u64 = 0;
    let mut read: u64 = 0;
    loop {
        match len {
            Some(n) if read >= n => break,
            None if at_break(d)? => break,
            _ => {}
        }
        read = read.saturating_add(1);

        let label = match d.datatype().map_err(malformed)? {
            Type::String | Type::StringIndef => Label::Text(text(d)?),
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int => Label::Int(i128::from(d.int().map_err(malformed)?)),
            other => {
                return Err(CmwError::BadLabel(format!(
                    "expected an integer or a text string, found {}",
                    describe(other)
                )));
            }
        };
        if seen.contains(&label) {
            return Err(CmwError::DuplicateLabel(label.display()));
        }

        if matches!(&label, Label::Text(key) if key == COLLECTION_TYPE_KEY) {
            let ctype = match d.datatype().map_err(malformed)? {
                Type::String | Type::StringIndef => text(d)?,
                other => {
                    return Err(CmwError::BadCollectionType(format!(
                        "expected a text string, found {}",
                        describe(other)
                    )));
                }
            };
            if !syntax::collection_type(&ctype) {
                return Err(CmwError::BadCollectionType(format!(
                    "{ctype:?} is neither an absolute URI nor an OID"
                )));
            }
        } else {
            cmw(d, depth + 1).map_err(|e| CmwError::Entry {
                label: label.display(),
                source: Box::new(e),
            })?;
            entries = entries.saturating_add(1);
        }
        seen.insert(label);
    }
    if entries == 0 {
        return Err(CmwError::EmptyCollection);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn record_of(body: &str) -> (String, Vec<u8>) {
        match unwrap(&hex(body)) {
            Ok(Unwrapped::Record { media_type, value }) => (media_type, value),
            other => panic!("{body}: {other:?}"),
        }
    }

    fn err(body: &str) -> CmwError {
        match unwrap(&hex(body)) {
            Err(e) => e,
            Ok(u) => panic!("{body} unwrapped to {u:?}"),
        }
    }

    #[test]
    fn record_with_a_text_type() {
        // ["application/eat+cwt", h'd2'] (0x73 = text(19))
        let (mt, v) = record_of("82 73 6170706c69636174696f6e2f6561742b637774 41 d2");
        assert_eq!(mt, "application/eat+cwt");
        assert_eq!(v, [0xd2]);
    }

    #[test]
    fn record_with_a_content_format_and_an_indicator() {
        // [263, h'2347da55', 4]
        let (mt, v) = record_of("83 19 0107 44 2347da55 04");
        assert_eq!(mt, "application/eat+cwt");
        assert_eq!(v, [0x23, 0x47, 0xda, 0x55]);
        // Non-preferred integer encodings are still the same number.
        let (mt, _) = record_of("82 1a 00000107 41 00");
        assert_eq!(mt, "application/eat+cwt");
    }

    #[test]
    fn indefinite_lengths() {
        // [_ 263, (_ h'01', h'02')]
        let (mt, v) = record_of("9f 19 0107 5f 41 01 41 02 ff ff");
        assert_eq!(mt, "application/eat+cwt");
        assert_eq!(v, [1, 2]);
        // [_ (_ "a/", "b"), h'01', 2]
        let (mt, _) = record_of("9f 7f 62 612f 61 62 ff 41 01 02 ff");
        assert_eq!(mt, "a/b");
        assert_eq!(err("9f ff"), CmwError::RecordLength(0));
        assert_eq!(err("9f 19 0107 ff"), CmwError::RecordLength(1));
        assert_eq!(
            err("9f 19 0107 41 01 02 03 04 ff"),
            CmwError::RecordLength(5)
        );
        assert!(matches!(err("9f 19 0107 41 01"), CmwError::Cbor(_)));
    }

    #[test]
    fn record_errors() {
        assert_eq!(err("81 19 0107"), CmwError::RecordLength(1));
        assert_eq!(err("84 19 0107 41 01 01 01"), CmwError::RecordLength(4));
        assert_eq!(err("80"), CmwError::RecordLength(0));
        assert_eq!(
            err("82 19 ffff 41 01"),
            CmwError::UnknownContentFormat(65535)
        );
        assert_eq!(err("82 01 41 01"), CmwError::UnknownContentFormat(1));
        assert!(matches!(err("82 1a 00010000 41 01"), CmwError::BadType(_)));
        assert!(matches!(err("82 20 41 01"), CmwError::BadType(_)));
        assert!(matches!(err("82 41 00 41 01"), CmwError::BadType(_)));
        assert!(matches!(err("82 63 616263 41 01"), CmwError::BadMediaType(m) if m == "abc"));
        assert_eq!(err("82 19 0107 40"), CmwError::EmptyValue);
        assert_eq!(err("82 19 0107 5f ff"), CmwError::EmptyValue);
        assert!(matches!(err("82 19 0107 61 61"), CmwError::BadValue(_)));
        assert!(matches!(err("82 19 0107 d2 41 01"), CmwError::BadValue(_)));
        assert!(matches!(
            err("83 19 0107 41 01 00"),
            CmwError::BadIndicator(_)
        ));
        assert!(matches!(
            err("83 19 0107 41 01 1b 0000000100000000"),
            CmwError::BadIndicator(_)
        ));
        assert!(matches!(
            err("83 19 0107 41 01 20"),
            CmwError::BadIndicator(_)
        ));
        assert_eq!(
            record_of("83 19 0107 41 01 1a ffffffff").0,
            "application/eat+cwt"
        );
        // Invalid UTF-8 in the type.
        assert!(matches!(err("82 62 ff2f 41 01"), CmwError::Cbor(_)));
    }

    #[test]
    fn tag_form() {
        // TN(263) = 1668546817 + (263 / 255) * 256 + 263 % 255 = 0x63740209.
        let tn = crate::tag_number(263).unwrap();
        assert_eq!(tn, 1_668_547_081);
        let (mt, v) = record_of("da 63740209 43 d28443");
        assert_eq!(mt, "application/eat+cwt");
        assert_eq!(v, [0xd2, 0x84, 0x43]);
        // The same tag number in a non-preferred 8-byte head.
        assert_eq!(
            record_of("db 0000000063740209 41 01").0,
            "application/eat+cwt"
        );
        // The draft's example tag: TN(64999), not a registered format.
        assert_eq!(
            err("da 6374ffe6 44 2347da55"),
            CmwError::UnknownContentFormat(64999)
        );
    }

    #[test]
    fn tag_errors() {
        assert_eq!(err("d9 038b a0"), CmwError::UnknownTag(907));
        assert_eq!(err("d2 84 40 a0 40 40"), CmwError::UnknownTag(18));
        assert_eq!(err("da 63740200 41 01"), CmwError::UnknownTag(0x6374_0200));
        assert_eq!(err("da 63740209 40"), CmwError::EmptyValue);
        assert!(matches!(
            err("da 63740209 82 01 02"),
            CmwError::BadTagContent(_)
        ));
        assert!(matches!(err("da 637402"), CmwError::Cbor(_)));
        assert!(matches!(err("da 63740209"), CmwError::Cbor(_)));
    }

    #[test]
    fn collections() {
        // The draft's collection example 1 without the unknown formats:
        // {"__cmwc_t": "tag:example.com,2024:composite-attester",
        //  0: [263, h'2347da55', 4], 1: TN(263)(h'2347da55'),
        //  2: ["application/eat+jwt", h'4c693475', 8]}
        let body = "a4 68 5f5f636d77635f74 78 27 7461673a6578616d706c652e636f6d2c323032343a636f6d706f736974652d6174746573746572
                    00 83 19 0107 44 2347da55 04
                    01 da 63740209 44 2347da55
                    02 83 73 6170706c69636174696f6e2f6561742b6a7774 44 4c693475 08";
        assert_eq!(unwrap(&hex(body)), Ok(Unwrapped::Collection));
        // Text and negative labels, a nested collection, indefinite maps.
        assert_eq!(
            unwrap(&hex(
                "bf 61 61 82 19 0107 41 01 20 a1 00 82 19 0107 41 02 ff"
            )),
            Ok(Unwrapped::Collection)
        );
    }

    #[test]
    fn collection_errors() {
        assert_eq!(err("a0"), CmwError::EmptyCollection);
        assert_eq!(err("bf ff"), CmwError::EmptyCollection);
        // Only a type: still no CMW in it.
        assert_eq!(
            err("a1 68 5f5f636d77635f74 63 312e32"),
            CmwError::EmptyCollection
        );
        assert!(matches!(
            err("a2 68 5f5f636d77635f74 63 782079 00 82 19 0107 41 01"),
            CmwError::BadCollectionType(_)
        ));
        assert!(matches!(
            err("a2 68 5f5f636d77635f74 01 00 82 19 0107 41 01"),
            CmwError::BadCollectionType(_)
        ));
        assert!(matches!(
            err("a1 41 00 82 19 0107 41 01"),
            CmwError::BadLabel(_)
        ));
        assert_eq!(
            err("a2 00 82 19 0107 41 01 00 82 19 0107 41 02"),
            CmwError::DuplicateLabel("0".into())
        );
        assert_eq!(
            err("a2 61 61 82 19 0107 41 01 7f 61 61 ff 82 19 0107 41 02"),
            CmwError::DuplicateLabel("\"a\"".into())
        );
        match err("a1 19 acca 82 19 0107 40") {
            CmwError::Entry { label, source } => {
                assert_eq!(label, "44234");
                assert_eq!(*source, CmwError::EmptyValue);
            }
            other => panic!("{other:?}"),
        }
        match err("a1 00 42 dead") {
            CmwError::Entry { source, .. } => assert!(matches!(*source, CmwError::NotCmw(_))),
            other => panic!("{other:?}"),
        }
        match err("a1 00") {
            CmwError::Entry { label, source } => {
                assert_eq!(label, "0");
                assert!(matches!(*source, CmwError::Cbor(_)));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(err("bf 00 82 19 0107 41 01"), CmwError::Cbor(_)));
    }

    #[test]
    fn nesting_is_bounded() {
        let leaf = "82 19 0107 41 01";
        let nest = |levels: usize| {
            let mut s = "a1 00 ".repeat(levels);
            s.push_str(leaf);
            hex(&s)
        };
        assert_eq!(
            unwrap(&nest(MAX_COLLECTION_DEPTH)),
            Ok(Unwrapped::Collection)
        );
        let mut e = unwrap(&nest(MAX_COLLECTION_DEPTH + 1)).unwrap_err();
        while let CmwError::Entry { source, .. } = e {
            e = *source;
        }
        assert_eq!(e, CmwError::TooDeep(MAX_COLLECTION_DEPTH));
        // Far deeper than any stack could take if the depth were unchecked.
        assert!(unwrap(&nest(100_000)).is_err());
    }

    #[test]
    fn top_level_errors() {
        assert!(matches!(err("01"), CmwError::NotCmw(_)));
        assert!(matches!(err("41 00"), CmwError::NotCmw(_)));
        assert_eq!(err("82 19 0107 41 01 00"), CmwError::TrailingBytes(1));
        assert!(matches!(err("82 19 01"), CmwError::Cbor(_)));
        assert!(matches!(err(""), CmwError::Cbor(_)));
    }
}
