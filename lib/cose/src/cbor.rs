//! Bounded CBOR helpers shared by every COSE and EAT reader.
//!
//! The zero-copy COSE_Sign1 decoder here, the PSA and CCA claims decoders
//! (`vouch-psa-token`, `vouch-cca-token`) and the Parsec key attestation
//! readers all walk CBOR with the same [`minicbor`] helpers, so that one copy
//! enforces Veraison's decoding limits and words their errors the same way.
//!
//! Veraison reads evidence with fxamacker/cbor configured to forbid
//! indefinite-length items and to stop at [`MAX_DEPTH`] levels of nesting; the
//! walker ([`skip`], [`item`]) enforces the same limits, and valid UTF-8 in
//! text strings, on every item it passes over, including items the caller
//! does not otherwise look at. Nothing here allocates according to a length
//! read from the input: byte and text strings are borrowed, and collections
//! are walked element by element, so a bogus length runs into the end of the
//! input.
//!
//! Reading: [`skip`], [`item`], [`definite`], [`expect_end`], [`integer`],
//! [`read_bytes`], [`read_text`], [`is_nil`]; error wording:
//! [`describe_minicbor`], [`type_name_at`]. Writing (shortest-form heads, as
//! deterministic encoding wants): [`push_head`], [`push_bytes`],
//! [`push_int`]. Errors are plain text ([`CborResult`]) meant to follow a
//! "what failed:" prefix in the caller's own error type.
//!
//! ```
//! use vouch_cose::cbor;
//! use vouch_cose::minicbor::Decoder;
//!
//! // [1, "a"] followed by a stray byte.
//! let bytes = [0x82, 0x01, 0x61, 0x61, 0x00];
//! let mut d = Decoder::new(&bytes);
//! assert_eq!(cbor::item(&mut d, 1)?, &bytes[..4]);
//! assert_eq!(
//!     cbor::expect_end(&d).unwrap_err(),
//!     "1 bytes of extraneous data starting at index 4"
//! );
//! # Ok::<(), String>(())
//! ```

use ciborium::Value;
use minicbor::Decoder;
use minicbor::data::Type;

/// Deepest nesting accepted in any CBOR item read from outside.
///
/// This is fxamacker/cbor's default `MaxNestedLevels`, which go-cose (and so
/// Veraison) decodes with. ciborium's own default is 256; COSE headers nest
/// a handful of levels at most (a signed CoRIM's `corim-meta` is the deepest
/// we know of, at four), and the lower bound keeps the recursive decoders'
/// stack use small wherever they run.
pub const MAX_DEPTH: usize = 32;

/// Why a CBOR item could not be read, as text for an error message.
pub type CborResult<T> = Result<T, String>;

/// Renders a minicbor error in the wording Go uses for the common case
/// (`unexpected EOF` for truncated input).
pub fn describe_minicbor(e: &minicbor::decode::Error) -> String {
    if e.is_end_of_input() {
        "unexpected EOF".to_owned()
    } else {
        e.to_string()
    }
}

/// Passes over one complete data item, checking it is well formed, of
/// definite length, with valid UTF-8 text, and no deeper than [`MAX_DEPTH`]
/// (counting from `depth`, the level of the item itself).
pub fn skip(d: &mut Decoder<'_>, depth: usize) -> CborResult<()> {
    if depth > MAX_DEPTH {
        return Err(format!("exceeded max nested level {MAX_DEPTH}"));
    }
    let ty = d.datatype().map_err(|e| describe_minicbor(&e))?;
    match ty {
        Type::Bool
        | Type::Null
        | Type::Undefined
        | Type::Simple
        | Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int
        | Type::F16
        | Type::F32
        | Type::F64 => d.skip().map_err(|e| describe_minicbor(&e)),
        Type::Bytes => d.bytes().map(drop).map_err(|e| describe_minicbor(&e)),
        Type::String => d.str().map(drop).map_err(|e| describe_minicbor(&e)),
        Type::Array => {
            let n = definite(d.array().map_err(|e| describe_minicbor(&e))?)?;
            // Each element takes at least one byte, so a bogus length runs
            // into the end of the input rather than looping for long.
            for _ in 0..n {
                skip(d, depth + 1)?;
            }
            Ok(())
        }
        Type::Map => {
            let n = definite(d.map().map_err(|e| describe_minicbor(&e))?)?;
            for _ in 0..n {
                skip(d, depth + 1)?;
                skip(d, depth + 1)?;
            }
            Ok(())
        }
        Type::Tag => {
            d.tag().map_err(|e| describe_minicbor(&e))?;
            skip(d, depth + 1)
        }
        Type::BytesIndef | Type::StringIndef | Type::ArrayIndef | Type::MapIndef => {
            Err(format!("indefinite-length {ty} is not allowed"))
        }
        Type::Break => Err("unexpected break code".to_owned()),
        Type::Unknown(b) => Err(format!("invalid initial byte {b:#04x}")),
    }
}

/// Passes over one item (as [`skip`]) and returns its encoded bytes.
pub fn item<'a>(d: &mut Decoder<'a>, depth: usize) -> CborResult<&'a [u8]> {
    let start = d.position();
    skip(d, depth)?;
    Ok(d.input().get(start..d.position()).unwrap_or_default())
}

/// Unwraps a definite length, rejecting indefinite-length items.
pub fn definite(len: Option<u64>) -> CborResult<u64> {
    len.ok_or_else(|| "indefinite-length array or map is not allowed".to_owned())
}

/// Checks that the whole input was consumed.
pub fn expect_end(d: &Decoder<'_>) -> CborResult<()> {
    let len = d.input().len();
    let pos = d.position();
    if pos == len {
        Ok(())
    } else {
        Err(format!(
            "{} bytes of extraneous data starting at index {pos}",
            len.saturating_sub(pos)
        ))
    }
}

/// Human name of the item at the decoder's position, for type errors.
pub fn type_name_at(d: &Decoder<'_>) -> String {
    match d.datatype() {
        Ok(Type::U8 | Type::U16 | Type::U32 | Type::U64) => "unsigned integer".to_owned(),
        Ok(Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int) => {
            "negative integer".to_owned()
        }
        Ok(Type::Bytes | Type::BytesIndef) => "byte string".to_owned(),
        Ok(Type::String | Type::StringIndef) => "text string".to_owned(),
        Ok(Type::Array | Type::ArrayIndef) => "array".to_owned(),
        Ok(Type::Map | Type::MapIndef) => "map".to_owned(),
        Ok(Type::F16 | Type::F32 | Type::F64) => "float".to_owned(),
        Ok(Type::Tag) => "tag".to_owned(),
        Ok(other) => other.to_string(),
        Err(e) => describe_minicbor(&e),
    }
}

/// True when the item at the decoder's position is `null` or `undefined`,
/// which Go decodes into a nil pointer: a claim so given counts as absent.
pub fn is_nil(d: &Decoder<'_>) -> bool {
    matches!(d.datatype(), Ok(Type::Null | Type::Undefined))
}

/// Reads an integer of any CBOR width as `i128` (so callers can range-check
/// without losing the sign or the top bit of a `u64`); `None`, without
/// consuming anything, when the item is not an integer.
pub fn integer(d: &mut Decoder<'_>) -> Option<i128> {
    match d.datatype() {
        Ok(
            Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::Int,
        ) => d.int().ok().map(i128::from),
        _ => None,
    }
}

/// Reads a definite byte string; `None` when the item is something else.
pub fn read_bytes<'a>(d: &mut Decoder<'a>) -> Option<&'a [u8]> {
    (d.datatype().ok()? == Type::Bytes).then(|| d.bytes().ok())?
}

/// Reads a definite text string; `None` when the item is something else.
pub fn read_text<'a>(d: &mut Decoder<'a>) -> Option<&'a str> {
    (d.datatype().ok()? == Type::String).then(|| d.str().ok())?
}

/// Decodes exactly one CBOR item from `bytes` into a [`Value`], rejecting
/// trailing bytes and nesting deeper than [`MAX_DEPTH`]. The error text is
/// meant to follow a "what failed:" prefix.
pub(crate) fn decode_value(bytes: &[u8]) -> Result<Value, String> {
    if bytes.is_empty() {
        // go's encoding/cbor says "EOF" for empty input, and Veraison's
        // messages carry that text.
        return Err("EOF".to_owned());
    }
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| describe(&e))?;
    if !rest.is_empty() {
        let consumed = bytes.len() - rest.len();
        return Err(format!(
            "{} bytes of extraneous data starting at index {consumed}",
            rest.len()
        ));
    }
    Ok(value)
}

/// Human wording for a ciborium decoding error.
pub(crate) fn describe<E: std::fmt::Debug>(e: &ciborium::de::Error<E>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "unexpected EOF".to_owned(),
        ciborium::de::Error::Syntax(offset) => format!("invalid CBOR at offset {offset}"),
        ciborium::de::Error::Semantic(Some(offset), msg) => {
            format!("invalid CBOR at offset {offset}: {msg}")
        }
        ciborium::de::Error::Semantic(None, msg) => format!("invalid CBOR: {msg}"),
        ciborium::de::Error::RecursionLimitExceeded => {
            format!("nesting deeper than {MAX_DEPTH} levels")
        }
    }
}

/// Human wording for a coset error met while interpreting a decoded value.
pub(crate) fn describe_coset(e: &coset::CoseError) -> String {
    match e {
        coset::CoseError::DecodeFailed(e) => describe(e),
        coset::CoseError::DuplicateMapKey => "duplicate label".to_owned(),
        other => other.to_string(),
    }
}

/// The CBOR type of a value, for error messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) => "integer",
        Value::Bytes(_) => "byte string",
        Value::Float(_) => "float",
        Value::Text(_) => "text string",
        Value::Bool(_) => "bool",
        Value::Null => "nil",
        Value::Tag(..) => "tag",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        _ => "simple value",
    }
}

/// Appends a CBOR head (major type and argument) in its shortest form.
pub fn push_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    let be = arg.to_be_bytes();
    match arg {
        0..=23 => out.push(m | be[7]),
        24..=0xff => out.extend_from_slice(&[m | 24, be[7]]),
        0x100..=0xffff => out.extend_from_slice(&[m | 25, be[6], be[7]]),
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&be[4..]);
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&be);
        }
    }
}

/// Appends a byte string.
pub fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    push_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a (possibly negative) integer.
pub fn push_int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        push_head(out, 0, value.unsigned_abs());
    } else {
        // -1 - n is encoded as major type 1 with argument n.
        push_head(out, 1, value.unsigned_abs() - 1);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn heads_are_shortest_form() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x40]),
            (23, &[0x57]),
            (24, &[0x58, 24]),
            (255, &[0x58, 0xff]),
            (256, &[0x59, 0x01, 0x00]),
            (65_536, &[0x5a, 0, 1, 0, 0]),
            (1 << 32, &[0x5b, 0, 0, 0, 1, 0, 0, 0, 0]),
        ];
        for (arg, want) in cases {
            let mut out = Vec::new();
            push_head(&mut out, 2, *arg);
            assert_eq!(out, *want, "{arg}");
        }
        let mut out = Vec::new();
        for i in [1, -1, -3, 24, -25, i64::MIN] {
            push_int(&mut out, i);
        }
        assert_eq!(
            out,
            [
                0x01, 0x20, 0x22, 0x18, 24, 0x38, 24, 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
                0xff, 0xff
            ]
        );
        // Our encoding agrees with ciborium's.
        let mut ours = Vec::new();
        push_int(&mut ours, -300);
        let mut theirs = Vec::new();
        ciborium::into_writer(&Value::from(-300), &mut theirs).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn decode_value_bounds() {
        assert_eq!(decode_value(&[]).unwrap_err(), "EOF");
        assert_eq!(decode_value(&[0x82, 0x01]).unwrap_err(), "unexpected EOF");
        assert!(
            decode_value(&[0x01, 0x02])
                .unwrap_err()
                .contains("1 bytes of extraneous data starting at index 1")
        );
        // MAX_DEPTH nested arrays decode, one more does not.
        let mut ok = vec![0x81; MAX_DEPTH - 1];
        ok.push(0x00);
        decode_value(&ok).unwrap();
        let mut deep = vec![0x81; MAX_DEPTH + 1];
        deep.push(0x00);
        assert!(decode_value(&deep).unwrap_err().contains("nesting"));
        assert!(
            decode_value(&[0x1c])
                .unwrap_err()
                .starts_with("invalid CBOR")
        );
    }

    #[test]
    fn reading_helpers() {
        // [h'01', "x", -300, null, 1.5]
        let bytes = [
            0x85, 0x41, 0x01, 0x61, 0x78, 0x39, 0x01, 0x2b, 0xf6, 0xf9, 0x3e, 0x00,
        ];
        let mut d = Decoder::new(&bytes);
        assert_eq!(type_name_at(&d), "array");
        assert_eq!(definite(d.array().unwrap()), Ok(5));
        assert_eq!(read_text(&mut d), None, "a byte string is not text");
        assert_eq!(integer(&mut d), None);
        assert_eq!(read_bytes(&mut d), Some(&[0x01][..]));
        assert_eq!(read_bytes(&mut d), None);
        assert_eq!(read_text(&mut d), Some("x"));
        assert_eq!(type_name_at(&d), "negative integer");
        assert_eq!(integer(&mut d), Some(-300));
        assert!(is_nil(&d));
        assert_eq!(item(&mut d, 2), Ok(&[0xf6][..]));
        assert!(!is_nil(&d));
        assert_eq!(type_name_at(&d), "float");
        assert!(expect_end(&d).is_err());
        assert_eq!(item(&mut d, 2), Ok(&[0xf9, 0x3e, 0x00][..]));
        assert_eq!(expect_end(&d), Ok(()));
        assert_eq!(type_name_at(&d), "unexpected EOF");
        assert_eq!(
            definite(None).unwrap_err(),
            "indefinite-length array or map is not allowed"
        );
        let mut big = Decoder::new(&[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(integer(&mut big), Some(i128::from(u64::MAX)));
    }

    fn skip_all(bytes: &[u8]) -> Result<usize, String> {
        let mut d = Decoder::new(bytes);
        skip(&mut d, 1)?;
        Ok(d.position())
    }

    #[test]
    fn skips_nested_definite_items() {
        // {1: [h'00', "a", -1, 1.5, true, null], 2: 32("x")}
        let item = [
            0xa2, 0x01, 0x86, 0x41, 0x00, 0x61, 0x61, 0x20, 0xf9, 0x3e, 0x00, 0xf5, 0xf6, 0x02,
            0xd8, 0x20, 0x61, 0x78,
        ];
        assert_eq!(skip_all(&item), Ok(item.len()));
    }

    #[test]
    fn skip_rejects_indefinite_lengths_depth_and_bad_items() {
        for item in [
            &[0x9f, 0x01, 0xff][..],
            &[0xbf, 0x01, 0x02, 0xff],
            &[0x5f, 0x41, 0x00, 0xff],
            &[0x7f, 0x61, 0x61, 0xff],
            &[0x81, 0x9f, 0xff],
        ] {
            let err = skip_all(item).unwrap_err();
            assert!(err.contains("indefinite"), "{item:02x?}: {err}");
        }
        let mut deep = vec![0x81; MAX_DEPTH - 1];
        deep.push(0x00);
        assert!(skip_all(&deep).is_ok());
        let mut too_deep = vec![0x81; MAX_DEPTH];
        too_deep.push(0x00);
        assert!(skip_all(&too_deep).unwrap_err().contains("nested"));
        // Tags count as a level, as in fxamacker/cbor.
        let mut tags = vec![0xc1; MAX_DEPTH];
        tags.push(0x00);
        assert!(skip_all(&tags).is_err());
        assert_eq!(skip_all(&[0x82, 0x01]), Err("unexpected EOF".to_owned()));
        assert!(skip_all(&[0x62, 0xff, 0xfe]).is_err());
        assert!(skip_all(&[0xff]).is_err());
        // A huge claimed length stops at the end of the input.
        assert!(skip_all(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]).is_err());
    }
}
