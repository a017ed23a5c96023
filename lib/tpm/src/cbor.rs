//! The little CBOR the Parsec TPM evidence needs: reading a map of text keys
//! (skipping what is not used, within fxamacker/cbor's limits) and writing
//! maps of text and byte strings.

use minicbor::Decoder;
use minicbor::data::Type;

/// Deepest nesting accepted (fxamacker/cbor's default `MaxNestedLevels`).
pub(crate) const MAX_DEPTH: usize = 32;

/// Renders a minicbor error, with Go's wording for the common case.
pub(crate) fn describe(e: &minicbor::decode::Error) -> String {
    if e.is_end_of_input() {
        "unexpected EOF".to_owned()
    } else {
        e.to_string()
    }
}

/// Reads the header of a definite-length map.
pub(crate) fn map_len(d: &mut Decoder<'_>, what: &str) -> Result<u64, String> {
    match d.datatype().map_err(|e| describe(&e))? {
        Type::Map => d
            .map()
            .map_err(|e| describe(&e))?
            .ok_or_else(|| format!("{what}: indefinite-length map")),
        Type::MapIndef => Err(format!("{what}: indefinite-length map")),
        other => Err(format!("{what}: expected a map, found {other}")),
    }
}

/// Reads a text-string map key.
pub(crate) fn key<'b>(d: &mut Decoder<'b>, what: &str) -> Result<&'b str, String> {
    match d.datatype().map_err(|e| describe(&e))? {
        Type::String => d.str().map_err(|e| describe(&e)),
        other => Err(format!("{what}: map key is {other}, not a text string")),
    }
}

/// Reads `null` (as `None`) or a value with `read`.
pub(crate) fn nullable<'b, T>(
    d: &mut Decoder<'b>,
    read: impl FnOnce(&mut Decoder<'b>) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if d.datatype().map_err(|e| describe(&e))? == Type::Null {
        d.null().map_err(|e| describe(&e))?;
        return Ok(None);
    }
    read(d).map(Some)
}

/// Reads a definite-length byte string.
pub(crate) fn bytes<'b>(d: &mut Decoder<'b>, what: &str) -> Result<&'b [u8], String> {
    match d.datatype().map_err(|e| describe(&e))? {
        Type::Bytes => d.bytes().map_err(|e| describe(&e)),
        other => Err(format!("{what}: expected a byte string, found {other}")),
    }
}

/// Reads a definite-length text string.
pub(crate) fn text<'b>(d: &mut Decoder<'b>, what: &str) -> Result<&'b str, String> {
    match d.datatype().map_err(|e| describe(&e))? {
        Type::String => d.str().map_err(|e| describe(&e)),
        other => Err(format!("{what}: expected a text string, found {other}")),
    }
}

/// Passes over one complete, well-formed, definite-length data item no
/// deeper than [`MAX_DEPTH`] (counting from `depth`).
pub(crate) fn skip(d: &mut Decoder<'_>, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("exceeded max nested level {MAX_DEPTH}"));
    }
    let ty = d.datatype().map_err(|e| describe(&e))?;
    match ty {
        Type::Bytes => d.bytes().map(drop).map_err(|e| describe(&e)),
        Type::String => d.str().map(drop).map_err(|e| describe(&e)),
        Type::Array => {
            let n = d
                .array()
                .map_err(|e| describe(&e))?
                .ok_or("indefinite-length array")?;
            // Each element takes at least one byte, so a bogus length runs
            // into the end of the input rather than looping for long.
            for _ in 0..n {
                skip(d, depth + 1)?;
            }
            Ok(())
        }
        Type::Map => {
            let n = d
                .map()
                .map_err(|e| describe(&e))?
                .ok_or("indefinite-length map")?;
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
            Err(format!("indefinite-length {ty} not allowed"))
        }
        Type::Break => Err("unexpected break code".to_owned()),
        Type::Unknown(b) => Err(format!("invalid initial byte {b:#04x}")),
        _ => d.skip().map_err(|e| describe(&e)),
    }
}

/// A minimal CBOR writer for maps of text keys and text/byte values
/// (deterministic: definite lengths, shortest heads).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn head(&mut self, major: u8, len: usize) {
        let major = major << 5;
        let len = len as u64;
        if len < 24 {
            self.buf.push(major | len as u8);
        } else if let Ok(v) = u8::try_from(len) {
            self.buf.extend([major | 24, v]);
        } else if let Ok(v) = u16::try_from(len) {
            self.buf.push(major | 25);
            self.buf.extend(v.to_be_bytes());
        } else if let Ok(v) = u32::try_from(len) {
            self.buf.push(major | 26);
            self.buf.extend(v.to_be_bytes());
        } else {
            self.buf.push(major | 27);
            self.buf.extend(len.to_be_bytes());
        }
    }

    pub(crate) fn map(&mut self, entries: usize) -> &mut Self {
        self.head(5, entries);
        self
    }

    pub(crate) fn text(&mut self, s: &str) -> &mut Self {
        self.head(3, s.len());
        self.buf.extend_from_slice(s.as_bytes());
        self
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.head(2, b.len());
        self.buf.extend_from_slice(b);
        self
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn writer_uses_shortest_heads() {
        let mut w = Writer::default();
        w.map(1).text("k").bytes(&[0; 24]);
        let out = w.into_bytes();
        assert_eq!(&out[..5], [0xa1, 0x61, b'k', 0x58, 24]);
        let mut w = Writer::default();
        w.bytes(&[0; 300]);
        assert_eq!(&w.into_bytes()[..3], [0x59, 0x01, 0x2c]);
    }

    #[test]
    fn skip_limits_depth_and_indefinite_items() {
        let mut deep = vec![0x81; 40];
        deep.push(0x00);
        assert!(skip(&mut Decoder::new(&deep), 0).is_err());
        let mut ok = vec![0x81; 10];
        ok.push(0x00);
        skip(&mut Decoder::new(&ok), 0).unwrap();
        assert!(skip(&mut Decoder::new(&[0x9f, 0xff]), 0).is_err());
        assert!(skip(&mut Decoder::new(&[0x5f, 0xff]), 0).is_err());
        assert!(skip(&mut Decoder::new(&[0xff]), 0).is_err());
    }
}
