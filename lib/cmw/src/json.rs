//! The JSON serialisations: `json-record` and `json-collection`.
//!
//! The body is first parsed into a small tree that keeps object members in
//! order and refuses duplicate keys (which `serde_json::Value` would
//! silently collapse), then checked against the draft's shapes. serde_json
//! stops at 128 levels of nesting, and collections at
//! [`MAX_COLLECTION_DEPTH`].

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::cbor::check_indicator;
use crate::content_format::media_type_for_content_format;
use crate::{CmwError, MAX_COLLECTION_DEPTH, Unwrapped, syntax};

/// The reserved collection key.
const COLLECTION_TYPE_KEY: &str = "__cmwc_t";

/// A parsed JSON value.
enum Node {
    Null,
    Bool,
    Unsigned(u64),
    Negative,
    Float,
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn describe(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool => "a boolean",
            Node::Unsigned(_) | Node::Negative | Node::Float => "a number",
            Node::String(_) => "a string",
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Bool)
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Unsigned(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(u64::try_from(v).map_or(Node::Negative, Node::Unsigned))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Float)
    }

    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        // No `with_capacity(size_hint)`: the hint would come from the input.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut seen = HashSet::new();
        let mut members = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let value = map.next_value()?;
            members.push((key, value));
        }
        Ok(Node::Object(members))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Decodes a whole JSON CMW: a record or a collection.
pub(crate) fn unwrap(body: &[u8]) -> Result<Unwrapped, CmwError> {
    let node: Node = serde_json::from_slice(body).map_err(|e| CmwError::Json(e.to_string()))?;
    cmw(node, 1)
}

fn cmw(node: Node, depth: usize) -> Result<Unwrapped, CmwError> {
    match node {
        Node::Array(items) => {
            let (media_type, value) = record(items)?;
            Ok(Unwrapped::Record { media_type, value })
        }
        Node::Object(members) => {
            collection(members, depth)?;
            Ok(Unwrapped::Collection)
        }
        other => Err(CmwError::NotCmw(other.describe().to_owned())),
    }
}

/// `json-record = [ type, value, ? ind ]`.
fn record(items: Vec<Node>) -> Result<(String, Vec<u8>), CmwError> {
    let len = items.len();
    if len != 2 && len != 3 {
        return Err(CmwError::RecordLength(len as u64));
    }
    let mut items = items.into_iter();
    let (Some(ty), Some(value)) = (items.next(), items.next()) else {
        return Err(CmwError::RecordLength(len as u64));
    };
    let media_type = record_type(ty)?;
    let value = record_value(value)?;
    if let Some(ind) = items.next() {
        match ind {
            Node::Unsigned(n) => check_indicator(n)?,
            other => {
                return Err(CmwError::BadIndicator(format!(
                    "expected an unsigned integer, found {}",
                    other.describe()
                )));
            }
        }
    }
    Ok((media_type, value))
}

/// `type: media-type`. A Content-Format number is accepted too, as
/// veraison/cmw does, although the draft keeps those to CBOR.
fn record_type(node: Node) -> Result<String, CmwError> {
    match node {
        Node::String(s) => match syntax::content_type(&s) {
            Some(media_type) => Ok(media_type.to_owned()),
            None => Err(CmwError::BadMediaType(s)),
        },
        Node::Unsigned(n) => {
            let cf = u16::try_from(n).map_err(|_| {
                CmwError::BadType(format!("Content-Format {n} does not fit in 16 bits"))
            })?;
            media_type_for_content_format(cf)
                .map(str::to_owned)
                .ok_or(CmwError::UnknownContentFormat(n))
        }
        other => Err(CmwError::BadType(format!(
            "expected a media-type string, found {}",
            other.describe()
        ))),
    }
}

/// `value: base64url-string`: unpadded base64url of a non-empty value.
fn record_value(node: Node) -> Result<Vec<u8>, CmwError> {
    let Node::String(s) = node else {
        return Err(CmwError::BadValue(format!(
            "expected a base64url string, found {}",
            node.describe()
        )));
    };
    let value = URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .map_err(|e| CmwError::Base64(e.to_string()))?;
    if value.is_empty() {
        return Err(CmwError::EmptyValue);
    }
    Ok(value)
}

/// `json-collection = { ? "__cmwc_t": ~uri / oid, + text => json-cmw }`.
fn collection(members: Vec<(String, Node)>, depth: usize) -> Result<(), CmwError> {
    if depth > MAX_COLLECTION_DEPTH {
        return Err(CmwError::TooDeep(MAX_COLLECTION_DEPTH));
    }
    let mut entries = 0usize;
    for (label, node) in members {
        if label == COLLECTION_TYPE_KEY {
            let Node::String(ctype) = node else {
                return Err(CmwError::BadCollectionType(format!(
                    "expected a string, found {}",
                    node.describe()
                )));
            };
            if !syntax::collection_type(&ctype) {
                return Err(CmwError::BadCollectionType(format!(
                    "{ctype:?} is neither an absolute URI nor an OID"
                )));
            }
            continue;
        }
        cmw(node, depth + 1).map_err(|e| CmwError::Entry {
            label: format!("{label:?}"),
            source: Box::new(e),
        })?;
        entries += 1;
    }
    if entries == 0 {
        return Err(CmwError::EmptyCollection);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_of(body: &str) -> (String, Vec<u8>) {
        match unwrap(body.as_bytes()) {
            Ok(Unwrapped::Record { media_type, value }) => (media_type, value),
            other => panic!("{body}: {other:?}"),
        }
    }

    fn err(body: &str) -> CmwError {
        match unwrap(body.as_bytes()) {
            Err(e) => e,
            Ok(u) => panic!("{body} unwrapped to {u:?}"),
        }
    }

    #[test]
    fn records() {
        // The draft's JSON record example.
        let (mt, v) = record_of(r#"["application/vnd.example.rats-conceptual-msg", "I0faVQ"]"#);
        assert_eq!(mt, "application/vnd.example.rats-conceptual-msg");
        assert_eq!(v, [0x23, 0x47, 0xda, 0x55]);
        let (mt, v) = record_of(
            r#" [ "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"", "0oQ", 4 ] "#,
        );
        assert_eq!(
            mt,
            "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\""
        );
        assert_eq!(v, [0xd2, 0x84]);
        // A Content-Format number, as veraison/cmw allows.
        assert_eq!(record_of(r#"[263, "0oQ"]"#).0, "application/eat+cwt");
        // Surrounding whitespace in the type is trimmed.
        assert_eq!(
            record_of(r#"[" application/eat+jwt ", "0oQ"]"#).0,
            "application/eat+jwt"
        );
    }

    #[test]
    fn record_errors() {
        assert_eq!(err(r#"["a/b"]"#), CmwError::RecordLength(1));
        assert_eq!(err(r#"[]"#), CmwError::RecordLength(0));
        assert_eq!(err(r#"["a/b", "AQ", 1, 2]"#), CmwError::RecordLength(4));
        assert!(matches!(err(r#"["a", "AQ"]"#), CmwError::BadMediaType(m) if m == "a"));
        assert!(matches!(err(r#"[true, "AQ"]"#), CmwError::BadType(_)));
        assert!(matches!(err(r#"[-1, "AQ"]"#), CmwError::BadType(_)));
        assert!(matches!(err(r#"[263.5, "AQ"]"#), CmwError::BadType(_)));
        assert!(matches!(err(r#"[65536, "AQ"]"#), CmwError::BadType(_)));
        assert_eq!(err(r#"[1, "AQ"]"#), CmwError::UnknownContentFormat(1));
        assert!(matches!(err(r#"["a/b", "AQ=="]"#), CmwError::Base64(_)));
        assert!(matches!(err(r#"["a/b", "A+/"]"#), CmwError::Base64(_)));
        assert!(matches!(err(r#"["a/b", "A"]"#), CmwError::Base64(_)));
        assert_eq!(err(r#"["a/b", ""]"#), CmwError::EmptyValue);
        assert!(matches!(err(r#"["a/b", 12]"#), CmwError::BadValue(_)));
        assert!(matches!(err(r#"["a/b", ["AQ"]]"#), CmwError::BadValue(_)));
        assert!(matches!(
            err(r#"["a/b", "AQ", 0]"#),
            CmwError::BadIndicator(_)
        ));
        assert!(matches!(
            err(r#"["a/b", "AQ", 4294967296]"#),
            CmwError::BadIndicator(_)
        ));
        assert!(matches!(
            err(r#"["a/b", "AQ", "4"]"#),
            CmwError::BadIndicator(_)
        ));
        assert!(matches!(
            err(r#"["a/b", "AQ", -4]"#),
            CmwError::BadIndicator(_)
        ));
    }

    #[test]
    fn collections() {
        // The draft's JSON collection example.
        let body = r#"{
            "attester A": ["application/eat-ucs+json", "e30K", 4],
            "attester B": ["application/eat-ucs+cbor", "oA", 4]
        }"#;
        assert_eq!(unwrap(body.as_bytes()), Ok(Unwrapped::Collection));
        let nested = r#"{"__cmwc_t": "1.2.3", "a": {"b": ["a/b", "AQ"]}}"#;
        assert_eq!(unwrap(nested.as_bytes()), Ok(Unwrapped::Collection));
    }

    #[test]
    fn collection_errors() {
        assert_eq!(err("{}"), CmwError::EmptyCollection);
        assert_eq!(
            err(r#"{"__cmwc_t": "tag:x,2024:y"}"#),
            CmwError::EmptyCollection
        );
        assert!(matches!(
            err(r#"{"__cmwc_t": "not a uri", "a": ["a/b", "AQ"]}"#),
            CmwError::BadCollectionType(_)
        ));
        assert!(matches!(
            err(r#"{"__cmwc_t": 1, "a": ["a/b", "AQ"]}"#),
            CmwError::BadCollectionType(_)
        ));
        assert!(matches!(
            err(r#"{"a": ["a/b", "AQ"], "a": ["a/b", "Ag"]}"#),
            CmwError::Json(m) if m.contains("duplicate key")
        ));
        match err(r#"{"a": ["a/b", ""]}"#) {
            CmwError::Entry { label, source } => {
                assert_eq!(label, "\"a\"");
                assert_eq!(*source, CmwError::EmptyValue);
            }
            other => panic!("{other:?}"),
        }
        match err(r#"{"a": "AQ"}"#) {
            CmwError::Entry { source, .. } => assert!(matches!(*source, CmwError::NotCmw(_))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let nest = |levels: usize| {
            format!(
                "{}[\"a/b\", \"AQ\"]{}",
                "{\"x\": ".repeat(levels),
                "}".repeat(levels)
            )
        };
        assert_eq!(
            unwrap(nest(MAX_COLLECTION_DEPTH).as_bytes()),
            Ok(Unwrapped::Collection)
        );
        let mut e = unwrap(nest(MAX_COLLECTION_DEPTH + 1).as_bytes()).unwrap_err();
        while let CmwError::Entry { source, .. } = e {
            e = *source;
        }
        assert_eq!(e, CmwError::TooDeep(MAX_COLLECTION_DEPTH));
        // serde_json's own recursion limit keeps the stack safe beyond that.
        assert!(matches!(
            unwrap(nest(100_000).as_bytes()),
            Err(CmwError::Json(_))
        ));
    }

    #[test]
    fn malformed_json() {
        assert!(matches!(err(r#"["a/b", "AQ""#), CmwError::Json(_)));
        assert!(matches!(err(r#"["a/b", "AQ"] x"#), CmwError::Json(_)));
        assert!(matches!(err(""), CmwError::Json(_)));
        assert!(matches!(err("\"AQ\""), CmwError::NotCmw(_)));
        assert!(matches!(err("null"), CmwError::NotCmw(_)));
    }
}
