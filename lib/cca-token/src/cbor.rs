//! CBOR reading and writing shared by the collection, claims, KAT and
//! minting code.
//!
//! Veraison reads CCA evidence with fxamacker/cbor set to forbid
//! indefinite-length items and to stop at 32 levels of nesting; the walker
//! here enforces the same limits (and valid UTF-8 in text strings) on every
//! item it passes over, including items it does not otherwise look at.
//! Nothing here allocates according to a length read from the input: byte and
//! text strings are borrowed, and collections are walked element by element,
//! so a bogus length runs into the end of the input.

use minicbor::Decoder;
use minicbor::data::Type;

/// Deepest nesting accepted (fxamacker/cbor's default `MaxNestedLevels`).
pub(crate) const MAX_DEPTH: usize = 32;

/// Why an item could not be read, as text for an error message.
pub(crate) type CborResult<T> = Result<T, String>;

/// Renders a minicbor error in the wording Go uses for the common cases.
pub(crate) fn describe(e: &minicbor::decode::Error) -> String {
    if e.is_end_of_input() {
        "unexpected EOF".to_owned()
    } else {
        e.to_string()
    }
}

/// Passes over one complete data item, checking it is well formed, of
/// definite length and no deeper than [`MAX_DEPTH`] (counting from `depth`,
/// the level of the item itself).
pub(crate) fn skip(d: &mut Decoder<'_>, depth: usize) -> CborResult<()> {
    if depth > MAX_DEPTH {
        return Err(format!("exceeded max nested level {MAX_DEPTH}"));
    }
    let ty = d.datatype().map_err(|e| describe(&e))?;
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
        | Type::F64 => d.skip().map_err(|e| describe(&e)),
        Type::Bytes => d.bytes().map(drop).map_err(|e| describe(&e)),
        Type::String => d.str().map(drop).map_err(|e| describe(&e)),
        Type::Array => {
            let n = definite(d.array().map_err(|e| describe(&e))?)?;
            for _ in 0..n {
                skip(d, depth + 1)?;
            }
            Ok(())
        }
        Type::Map => {
            let n = definite(d.map().map_err(|e| describe(&e))?)?;
            for _ in 0..n {
                skip(d, depth + 1)?;
                skip(d, depth + 1)?;
            }
            Ok(())
        }
        Type::Tag => {
            d.tag().map_err(|e| describe(&e))?;
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
pub(crate) fn item<'a>(d: &mut Decoder<'a>, depth: usize) -> CborResult<&'a [u8]> {
    let start = d.position();
    skip(d, depth)?;
    Ok(d.input().get(start..d.position()).unwrap_or_default())
}

/// Unwraps a definite length, rejecting indefinite-length items.
pub(crate) fn definite(len: Option<u64>) -> CborResult<u64> {
    len.ok_or_else(|| "indefinite-length array or map is not allowed".to_owned())
}

/// Checks that the whole input was consumed.
pub(crate) fn expect_end(d: &Decoder<'_>) -> CborResult<()> {
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
pub(crate) fn type_name(d: &Decoder<'_>) -> String {
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
        Err(e) => describe(&e),
    }
}

/// True when the item at the decoder's position is `null` or `undefined`,
/// which Go decodes into a nil pointer: the claim counts as absent.
pub(crate) fn is_nil(d: &Decoder<'_>) -> bool {
    matches!(d.datatype(), Ok(Type::Null | Type::Undefined))
}

/// Reads an integer of any CBOR width as `i128` (so callers can range-check
/// without losing the sign or the top bit of a `u64`); `None`, without
/// consuming anything, when the item is not an integer.
pub(crate) fn integer(d: &mut Decoder<'_>) -> Option<i128> {
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
pub(crate) fn read_bytes<'a>(d: &mut Decoder<'a>) -> Option<&'a [u8]> {
    (d.datatype().ok()? == Type::Bytes).then(|| d.bytes().ok())?
}

/// Reads a definite text string; `None` when the item is something else.
pub(crate) fn read_text<'a>(d: &mut Decoder<'a>) -> Option<&'a str> {
    (d.datatype().ok()? == Type::String).then(|| d.str().ok())?
}

/// Walks a claims map once: checks it is well formed, records where the
/// value of each key in `known` is, and rejects a known key given twice
/// (which value is meant would be ambiguous). Other keys, integer or not,
/// are checked for well-formedness and otherwise ignored, as Veraison does.
/// A `null` value counts as absent.
pub(crate) fn locate<'a, const N: usize>(
    bytes: &'a [u8],
    known: &[i64; N],
) -> CborResult<[Option<&'a [u8]>; N]> {
    if bytes.is_empty() {
        return Err("EOF".to_owned());
    }
    let mut d = Decoder::new(bytes);
    match d.datatype().map_err(|e| describe(&e))? {
        Type::Map => {}
        Type::MapIndef => return Err("indefinite-length claims map is not allowed".to_owned()),
        _ => {
            return Err(format!(
                "claims-set must be a CBOR map, found {}",
                type_name(&d)
            ));
        }
    }
    let n = definite(d.map().map_err(|e| describe(&e))?)?;
    let mut slots = [None; N];
    let mut seen = [false; N];
    for _ in 0..n {
        let key = integer(&mut d);
        if key.is_none() {
            skip(&mut d, 2)?;
        }
        let nil = is_nil(&d);
        let value = item(&mut d, 2)?;
        let Some(key) = key else { continue };
        let Some(index) = known.iter().position(|&k| i128::from(k) == key) else {
            continue;
        };
        if let Some(s) = seen.get_mut(index) {
            if *s {
                return Err(format!("duplicate claim key {key}"));
            }
            *s = true;
        }
        if !nil && let Some(slot) = slots.get_mut(index) {
            *slot = Some(value);
        }
    }
    expect_end(&d)?;
    Ok(slots)
}

/// A minimal CBOR writer (definite lengths, shortest heads) for minting.
#[derive(Debug, Default)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn new() -> Self {
        Self(Vec::with_capacity(256))
    }

    fn head(&mut self, major: u8, arg: u64) -> &mut Self {
        let m = major << 5;
        let be = arg.to_be_bytes();
        match arg {
            0..=23 => self.0.push(m | be[7]),
            24..=0xff => self.0.extend_from_slice(&[m | 24, be[7]]),
            0x100..=0xffff => self.0.extend_from_slice(&[m | 25, be[6], be[7]]),
            0x1_0000..=0xffff_ffff => {
                self.0.push(m | 26);
                self.0.extend_from_slice(&be[4..]);
            }
            _ => {
                self.0.push(m | 27);
                self.0.extend_from_slice(&be);
            }
        }
        self
    }

    pub(crate) fn uint(&mut self, v: u64) -> &mut Self {
        self.head(0, v)
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        if v >= 0 {
            self.head(0, v.unsigned_abs())
        } else {
            // -1 - n is encoded as major type 1 with argument n.
            self.head(1, v.unsigned_abs() - 1)
        }
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.head(2, b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        self.head(3, s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
        self
    }

    pub(crate) fn array(&mut self, n: usize) -> &mut Self {
        self.head(4, n as u64)
    }

    pub(crate) fn map(&mut self, n: usize) -> &mut Self {
        self.head(5, n as u64)
    }

    pub(crate) fn tag(&mut self, t: u64) -> &mut Self {
        self.head(6, t)
    }

    /// Appends an already-encoded item.
    pub(crate) fn raw(&mut self, item: &[u8]) -> &mut Self {
        self.0.extend_from_slice(item);
        self
    }

    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn skip_all(bytes: &[u8]) -> CborResult<usize> {
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
    fn rejects_indefinite_lengths_and_depth() {
        for item in [
            &[0x9f, 0x01, 0xff][..],
            &[0xbf, 0x01, 0x02, 0xff],
            &[0x5f, 0x41, 0x00, 0xff],
            &[0x7f, 0x61, 0x61, 0xff],
        ] {
            assert!(skip_all(item).unwrap_err().contains("indefinite"));
        }
        let mut deep = vec![0x81; MAX_DEPTH - 1];
        deep.push(0x00);
        assert!(skip_all(&deep).is_ok());
        let mut too_deep = vec![0x81; MAX_DEPTH];
        too_deep.push(0x00);
        assert!(skip_all(&too_deep).unwrap_err().contains("nested"));
        assert!(skip_all(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]).is_err());
        assert_eq!(skip_all(&[0x82, 0x01]), Err("unexpected EOF".to_owned()));
    }

    #[test]
    fn locate_finds_known_keys_and_rejects_duplicates() {
        // {10: h'01', "x": 1, 99: null, 10000: [1]}
        let bytes = [
            0xa4, 0x0a, 0x41, 0x01, 0x61, 0x78, 0x01, 0x18, 0x63, 0xf6, 0x19, 0x27, 0x10, 0x81,
            0x01,
        ];
        let slots = locate(&bytes, &[10, 99, 5]).unwrap();
        assert_eq!(slots[0], Some(&[0x41, 0x01][..]));
        assert_eq!(slots[1], None, "null counts as absent");
        assert_eq!(slots[2], None);
        let dup = [0xa2, 0x0a, 0x01, 0x0a, 0x02];
        assert!(locate(&dup, &[10]).unwrap_err().contains("duplicate"));
        assert_eq!(locate(&[], &[10]).unwrap_err(), "EOF");
        assert!(
            locate(&[0xa0, 0x00], &[10])
                .unwrap_err()
                .contains("extraneous")
        );
        assert!(
            locate(&[0x80], &[10])
                .unwrap_err()
                .contains("must be a CBOR map")
        );
    }

    #[test]
    fn writer_uses_shortest_heads() {
        let mut w = Writer::new();
        w.uint(23)
            .uint(24)
            .int(-1)
            .int(-25)
            .uint(65_536)
            .map(0)
            .tag(907);
        assert_eq!(
            w.into_inner(),
            [
                0x17, 0x18, 0x18, 0x20, 0x38, 0x18, 0x1a, 0, 1, 0, 0, 0xa0, 0xd9, 0x03, 0x8b
            ]
        );
    }
}
