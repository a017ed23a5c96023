//! Why a CMW could not be unwrapped.

/// Why [`unwrap`](crate::unwrap) refused a body.
///
/// The messages are written to follow Veraison's problem-detail prefix,
/// `could not unwrap the CMW: `, and never echo more than a short excerpt
/// of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmwError {
    /// The Content-Type is not one of [`CMW_MEDIA_TYPES`](crate::CMW_MEDIA_TYPES).
    #[error("{0:?} is not a CMW media type")]
    NotCmwMediaType(String),

    /// The body is empty.
    #[error("empty CMW")]
    Empty,

    /// Auto-detection found neither a JSON nor a CBOR CMW.
    #[error(
        "unexpected first byte 0x{0:02x}: a CMW starts with a JSON array or object, \
         or a CBOR array, map or tag"
    )]
    UnrecognisedStart(u8),

    /// The body's serialisation does not match the `+json` / `+cbor` suffix.
    #[error("{media_type} needs a {expected} CMW")]
    FormatMismatch {
        /// The Content-Type the body came with.
        media_type: String,
        /// What that Content-Type calls for.
        expected: &'static str,
    },

    /// The JSON is malformed (or has duplicate object keys).
    #[error("malformed JSON CMW: {0}")]
    Json(String),

    /// The CBOR is malformed or truncated.
    #[error("malformed CBOR CMW: {0}")]
    Cbor(String),

    /// Bytes follow the CBOR CMW.
    #[error("{0} trailing byte(s) after the CBOR CMW")]
    TrailingBytes(usize),

    /// The item is neither a record, a tag nor a collection.
    #[error(
        "not a CMW: expected a record (array), a collection (map or object) or a CBOR tag, found {0}"
    )]
    NotCmw(String),

    /// A record array does not have 2 or 3 entries.
    #[error("wrong number of entries ({0}) in the CMW record: expected 2 or 3")]
    RecordLength(u64),

    /// A record's type is neither a media-type string nor a content-format number.
    #[error("bad CMW record type: {0}")]
    BadType(String),

    /// A record's type string is not a valid media type.
    #[error("bad media type {0:?} in the CMW record type")]
    BadMediaType(String),

    /// A CoAP Content-Format number this crate has no media type for.
    #[error("unknown CoAP Content-Format {0}")]
    UnknownContentFormat(u64),

    /// A record's value is of the wrong kind (not a byte string, not a string).
    #[error("bad CMW value: {0}")]
    BadValue(String),

    /// A JSON record's value is not unpadded base64url.
    #[error("CMW value is not unpadded base64url: {0}")]
    Base64(String),

    /// A record's or tag's value is empty.
    #[error("empty CMW value")]
    EmptyValue,

    /// A record's `ind` is not an unsigned integer in 1..=2^32-1.
    #[error("bad CMW indicator: {0}")]
    BadIndicator(String),

    /// A CBOR tag outside the RFC 9277 content-format range, or one that
    /// no content format maps to.
    #[error(
        "CBOR tag {0} is not a CMW tag: CMW tags are RFC 9277 content-format tags \
         (1668546817..=1668612095)"
    )]
    UnknownTag(u64),

    /// A tag CMW's content is not a byte string.
    #[error("bad CMW tag content: {0}")]
    BadTagContent(String),

    /// A collection has no CMW entry.
    #[error("empty CMW collection")]
    EmptyCollection,

    /// A collection label is neither an integer nor a text string.
    #[error("bad CMW collection label: {0}")]
    BadLabel(String),

    /// A collection repeats a label.
    #[error("duplicate CMW collection label {0}")]
    DuplicateLabel(String),

    /// The collection type, `__cmwc_t`, is neither an absolute URI nor an OID.
    #[error("bad CMW collection type (__cmwc_t): {0}")]
    BadCollectionType(String),

    /// An entry of a collection is not a valid CMW.
    #[error("CMW collection entry {label}: {source}")]
    Entry {
        /// The entry's label: an integer, or a quoted string.
        label: String,
        /// What is wrong with the entry.
        #[source]
        source: Box<CmwError>,
    },

    /// Collections nest deeper than [`MAX_COLLECTION_DEPTH`](crate::MAX_COLLECTION_DEPTH).
    #[error("CMW collections nest deeper than {0} levels")]
    TooDeep(usize),
}
