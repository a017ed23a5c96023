//! CBOR helpers shared by the COSE and claims decoders.
//!
//! Veraison decodes PSA tokens with fxamacker/cbor configured to forbid
//! indefinite-length items and to stop at 32 levels of nesting; the walker
//! here enforces the same limits (and valid UTF-8 in text strings) on every
//! item it passes over, including claims it does not otherwise look at.

use minicbor::Decoder;
use minicbor::data::Type;

/// Deepest nesting accepted (fxamacker/cbor's default `MaxNestedLevels`).
pub(crate) const MAX_DEPTH: usize = 32;

/// Why a CBOR item could not be read, as text for the error message.
pub(crate) type CborResult<T> = Result<T, String>;

/// Renders a minicbor error in the wording Go uses for the common case.
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
            // Each element takes at least one byte, so a bogus length runs
            // into the end of the input rather than looping for long.
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
            Err(indefinite(ty))
        }
        Type::Break => Err("unexpected break code".to_owned()),
        Type::Unknown(b) => Err(format!("invalid initial byte {b:#04x}")),
    }
}

/// Unwraps a definite length, rejecting indefinite-length items.
pub(crate) fn definite(len: Option<u64>) -> CborResult<u64> {
    len.ok_or_else(|| "indefinite-length array or map is not allowed".to_owned())
}

fn indefinite(ty: Type) -> String {
    format!("indefinite-length {ty} is not allowed")
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

/// Reads an integer of any CBOR width as `i128`, so callers can range-check
/// without losing the sign or the top bit of a `u64`.
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

#[cfg(test)]
mod tests {
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
    fn rejects_indefinite_lengths() {
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
    }

    #[test]
    fn bounds_depth() {
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
    }

    #[test]
    fn rejects_truncation_and_bad_utf8() {
        assert_eq!(skip_all(&[0x82, 0x01]), Err("unexpected EOF".to_owned()));
        assert!(skip_all(&[0x62, 0xff, 0xfe]).is_err());
        assert!(skip_all(&[0xff]).is_err());
        // A huge claimed length stops at the end of the input.
        assert!(skip_all(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]).is_err());
    }
}
