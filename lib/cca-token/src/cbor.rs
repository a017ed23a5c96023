//! CBOR reading and writing for the collection, claims, KAT and minting code.
//!
//! The bounded reading helpers (definite lengths only, at most
//! [`vouch_cose::cbor::MAX_DEPTH`] levels of nesting, valid UTF-8, no
//! allocation sized by a length read from the input) are `vouch-cose`'s,
//! shared with the PSA reader and the COSE envelope decoder, and re-exported
//! here; this module adds the claims-map walker and the minting writer.

use minicbor::Decoder;
use minicbor::data::Type;
pub(crate) use vouch_cose::cbor::{
    CborResult, definite, describe_minicbor, expect_end, integer, is_nil, item, read_bytes,
    read_text, skip, type_name_at,
};

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
    match d.datatype().map_err(|e| describe_minicbor(&e))? {
        Type::Map => {}
        Type::MapIndef => return Err("indefinite-length claims map is not allowed".to_owned()),
        _ => {
            return Err(format!(
                "claims-set must be a CBOR map, found {}",
                type_name_at(&d)
            ));
        }
    }
    let n = definite(d.map().map_err(|e| describe_minicbor(&e))?)?;
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

/// The message for a claim whose value has the wrong CBOR type.
pub(crate) fn claim_type_error(d: &Decoder<'_>, name: &str, key: i64, expected: &str) -> String {
    format!(
        "claim {name} ({key}): expected {expected}, found {}",
        type_name_at(d)
    )
}

/// A byte-string claim's value (as found by [`locate`]), if present.
pub(crate) fn bytes_claim(
    value: Option<&[u8]>,
    name: &str,
    key: i64,
) -> CborResult<Option<Vec<u8>>> {
    let Some(value) = value else { return Ok(None) };
    let mut d = Decoder::new(value);
    read_bytes(&mut d)
        .map(|b| Some(b.to_vec()))
        .ok_or_else(|| claim_type_error(&d, name, key, "a byte string"))
}

/// A text-string claim's value (as found by [`locate`]), if present.
pub(crate) fn text_claim(value: Option<&[u8]>, name: &str, key: i64) -> CborResult<Option<String>> {
    let Some(value) = value else { return Ok(None) };
    let mut d = Decoder::new(value);
    read_text(&mut d)
        .map(|s| Some(s.to_owned()))
        .ok_or_else(|| claim_type_error(&d, name, key, "a text string"))
}

/// A minimal CBOR writer (definite lengths, shortest heads) for minting.
#[derive(Debug, Default)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn new() -> Self {
        Self(Vec::with_capacity(256))
    }

    fn head(&mut self, major: u8, arg: u64) -> &mut Self {
        vouch_cose::cbor::push_head(&mut self.0, major, arg);
        self
    }

    pub(crate) fn uint(&mut self, v: u64) -> &mut Self {
        self.head(0, v)
    }

    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        vouch_cose::cbor::push_int(&mut self.0, v);
        self
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        vouch_cose::cbor::push_bytes(&mut self.0, b);
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
