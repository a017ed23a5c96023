//! Bounded decoder for untrusted CoRIM / CoMID bytes.
//!
//! The decoder is schema-driven, so its own recursion depth is fixed by the
//! CoRIM shape; values it does not interpret are skipped (or captured raw)
//! by an iterative walker that enforces [`Limits::max_depth`]. Every array
//! and map element counts against [`Limits::max_items`], and a declared
//! length larger than the bytes left is rejected before anything is
//! allocated, so neither deep nesting nor huge length prefixes can exhaust
//! the stack or memory.

use std::borrow::Cow;

use minicbor::Decoder;
use minicbor::data::Type;

use crate::error::CorimError;
use crate::model::*;

/// Resource bounds applied while decoding untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting accepted inside values the decoder skips or keeps
    /// raw (extensions, unknown tags); the modelled structure itself is at
    /// most a dozen levels deep.
    pub max_depth: usize,
    /// Element budget for one document, CoMIDs included. Every array and map
    /// element costs one unit, and every decoded list entry also costs one
    /// unit per 32 bytes of its in-memory size, so the decoded model stays
    /// within roughly `32 × max_items` bytes plus the input's own size.
    pub max_items: usize,
}

impl Default for Limits {
    /// 16 MiB, depth 32, 2^19 units: room for a CoRIM of ~20,000 trust
    /// anchors, while a hostile input decodes to at most a few tens of MiB.
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 20,
            max_depth: 32,
            max_items: 1 << 19,
        }
    }
}

/// Decodes an unsigned CoRIM (`#6.501(corim-map)` or an untagged
/// `corim-map`) with the default [`Limits`].
///
/// # Errors
///
/// [`CorimError::SignedNotSupported`] for a COSE_Sign1 (tag 18) input,
/// [`CorimError::TooLarge`] / [`CorimError::LimitExceeded`] when a bound is
/// hit, [`CorimError::Malformed`] for anything that is not a CoRIM.
pub fn decode(bytes: &[u8]) -> Result<Corim, CorimError> {
    decode_with_limits(bytes, &Limits::default())
}

/// [`decode`] with caller-chosen [`Limits`].
///
/// # Errors
///
/// As for [`decode`].
pub fn decode_with_limits(bytes: &[u8], limits: &Limits) -> Result<Corim, CorimError> {
    if bytes.len() > limits.max_bytes {
        return Err(CorimError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let mut dec = Dec::new(bytes, *limits, 0);
    let corim = dec
        .corim()
        .and_then(|c| dec.finish().map(|()| c))
        .map_err(|f| f.into_error("corim"))?;
    Ok(corim)
}

/// Decodes a bare CoMID (`concise-mid-tag`, optionally wrapped in tag 506)
/// with the default [`Limits`].
///
/// # Errors
///
/// As for [`decode`].
pub fn decode_comid(bytes: &[u8]) -> Result<Comid, CorimError> {
    decode_comid_with_limits(bytes, &Limits::default())
}

/// [`decode_comid`] with caller-chosen [`Limits`].
///
/// # Errors
///
/// As for [`decode`].
pub fn decode_comid_with_limits(bytes: &[u8], limits: &Limits) -> Result<Comid, CorimError> {
    if bytes.len() > limits.max_bytes {
        return Err(CorimError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let mut dec = Dec::new(bytes, *limits, 0);
    let run = |dec: &mut Dec<'_>| -> R<Comid> {
        if dec.peek()? == Type::Tag {
            let tag = dec.tag()?;
            if tag != tags::COMID {
                return Err(unexpected_tag(tag, "506 (CoMID)"));
            }
        }
        let comid = dec.comid()?;
        dec.finish()?;
        Ok(comid)
    };
    run(&mut dec).map_err(|f| f.into_error("comid"))
}

/// What went wrong, before the path is assembled.
enum FaultKind {
    Malformed(String),
    Limit(String),
    Signed,
}

/// An internal decoding failure: the reason plus the path segments
/// collected while unwinding (innermost first).
struct Fault {
    kind: FaultKind,
    path: Vec<Cow<'static, str>>,
}

type R<T> = Result<T, Fault>;

impl Fault {
    fn malformed(reason: impl Into<String>) -> Self {
        Fault {
            kind: FaultKind::Malformed(reason.into()),
            path: Vec::new(),
        }
    }

    fn limit(reason: impl Into<String>) -> Self {
        Fault {
            kind: FaultKind::Limit(reason.into()),
            path: Vec::new(),
        }
    }

    fn into_error(self, root: &'static str) -> CorimError {
        let path = if self.path.is_empty() {
            root.to_owned()
        } else {
            let mut segs: Vec<&str> = self.path.iter().map(|s| s.as_ref()).collect();
            segs.reverse();
            segs.join(": ")
        };
        match self.kind {
            FaultKind::Malformed(reason) => CorimError::Malformed { path, reason },
            FaultKind::Limit(reason) => CorimError::LimitExceeded { path, reason },
            FaultKind::Signed => CorimError::SignedNotSupported,
        }
    }
}

impl From<minicbor::decode::Error> for Fault {
    fn from(e: minicbor::decode::Error) -> Self {
        if e.is_end_of_input() {
            Fault::malformed("unexpected end of input")
        } else {
            Fault::malformed(format!("invalid CBOR: {e}"))
        }
    }
}

/// Adds a path segment to a failing result.
trait Ctx<T> {
    fn at(self, seg: &'static str) -> R<T>;
    fn at_with(self, seg: impl FnOnce() -> String) -> R<T>;
}

impl<T> Ctx<T> for R<T> {
    fn at(self, seg: &'static str) -> R<T> {
        self.map_err(|mut f| {
            f.path.push(Cow::Borrowed(seg));
            f
        })
    }

    fn at_with(self, seg: impl FnOnce() -> String) -> R<T> {
        self.map_err(|mut f| {
            f.path.push(Cow::Owned(seg()));
            f
        })
    }
}

fn type_name(t: Type) -> &'static str {
    match t {
        Type::Bool => "bool",
        Type::Null => "null",
        Type::Undefined => "undefined",
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "uint",
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => "negative int",
        Type::F16 | Type::F32 | Type::F64 => "float",
        Type::Simple => "simple value",
        Type::Bytes | Type::BytesIndef => "bytes",
        Type::String | Type::StringIndef => "text",
        Type::Array | Type::ArrayIndef => "array",
        Type::Map | Type::MapIndef => "map",
        Type::Tag => "tag",
        Type::Break => "break",
        Type::Unknown(_) => "invalid item",
    }
}

/// Extra element units charged for one decoded `T`: one per 32 bytes of its
/// in-memory size, so that inputs made of many tiny-but-heavy items (e.g.
/// `{1: {}}` measurements, 3 bytes on the wire, ~500 bytes decoded) exhaust
/// [`Limits::max_items`] long before they exhaust memory.
fn weight<T>() -> u64 {
    (size_of::<T>() / 32) as u64
}

fn is_uint(t: Type) -> bool {
    matches!(t, Type::U8 | Type::U16 | Type::U32 | Type::U64)
}

fn is_int(t: Type) -> bool {
    is_uint(t) || matches!(t, Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int)
}

fn unexpected(expected: &str, got: Type) -> Fault {
    Fault::malformed(format!("expected {expected}, got {}", type_name(got)))
}

fn unexpected_tag(tag: u64, expected: &str) -> Fault {
    Fault::malformed(format!("unexpected tag {tag}, expected {expected}"))
}

/// Container frame for the iterative skipper.
enum Frame {
    /// Definite-length container with this many items still to come.
    Def(u64),
    /// Indefinite-length array.
    IndefArray,
    /// Indefinite-length map; `odd` when a key is waiting for its value.
    IndefMap { odd: bool },
}

/// The decoder state: the CBOR cursor, the limits and the element budget
/// already spent (shared with nested CoMIDs).
struct Dec<'b> {
    d: Decoder<'b>,
    limits: Limits,
    items: usize,
}

impl<'b> Dec<'b> {
    fn new(bytes: &'b [u8], limits: Limits, items: usize) -> Self {
        Dec {
            d: Decoder::new(bytes),
            limits,
            items,
        }
    }

    fn remaining(&self) -> usize {
        self.d.input().len().saturating_sub(self.d.position())
    }

    fn finish(&self) -> R<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(Fault::malformed(format!(
                "{n} trailing bytes after the document"
            ))),
        }
    }

    fn peek(&self) -> R<Type> {
        Ok(self.d.datatype()?)
    }

    fn count_items(&mut self, n: u64) -> R<()> {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        self.items = self.items.saturating_add(n);
        if self.items > self.limits.max_items {
            return Err(Fault::limit(format!(
                "more than {} array/map elements",
                self.limits.max_items
            )));
        }
        Ok(())
    }

    /// Checks a declared container length against the bytes left (every
    /// element takes at least one byte) before anything is sized from it.
    fn check_len(&self, items: u64) -> R<()> {
        if items > self.remaining() as u64 {
            return Err(Fault::malformed(format!(
                "declared length {items} exceeds the {} bytes left",
                self.remaining()
            )));
        }
        Ok(())
    }

    fn tag(&mut self) -> R<u64> {
        Ok(self.d.tag()?.as_u64())
    }

    fn consume_break(&mut self) {
        self.d.set_position(self.d.position() + 1);
    }

    /// Skips one item of any shape, bounded by `max_depth` and `max_items`.
    fn skip(&mut self) -> R<()> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let ty = self.peek()?;
            // `true` once a whole item has been consumed at this level.
            let done = match ty {
                Type::Tag => {
                    self.d.tag()?;
                    false
                }
                Type::Array | Type::Map => {
                    let n = if ty == Type::Array {
                        self.d.array()?.unwrap_or(0)
                    } else {
                        self.d.map()?.unwrap_or(0).saturating_mul(2)
                    };
                    self.check_len(n)?;
                    self.count_items(n)?;
                    if n == 0 {
                        true
                    } else {
                        stack.push(Frame::Def(n));
                        false
                    }
                }
                Type::ArrayIndef => {
                    self.d.array()?;
                    stack.push(Frame::IndefArray);
                    false
                }
                Type::MapIndef => {
                    self.d.map()?;
                    stack.push(Frame::IndefMap { odd: false });
                    false
                }
                Type::Break => match stack.pop() {
                    Some(Frame::IndefArray) | Some(Frame::IndefMap { odd: false }) => {
                        self.consume_break();
                        true
                    }
                    Some(Frame::IndefMap { odd: true }) => {
                        return Err(Fault::malformed("indefinite map ends after a key"));
                    }
                    _ => return Err(Fault::malformed("unexpected break")),
                },
                Type::Bytes | Type::BytesIndef => {
                    for chunk in self.d.bytes_iter()? {
                        chunk?;
                    }
                    true
                }
                Type::String | Type::StringIndef => {
                    for chunk in self.d.str_iter()? {
                        chunk?;
                    }
                    true
                }
                Type::Unknown(b) => {
                    return Err(Fault::malformed(format!(
                        "invalid CBOR initial byte 0x{b:02x}"
                    )));
                }
                _ => {
                    // Scalars: minicbor's skip reads exactly the head.
                    self.d.skip()?;
                    true
                }
            };
            if stack.len() > self.limits.max_depth {
                return Err(Fault::limit(format!(
                    "nesting deeper than {} levels",
                    self.limits.max_depth
                )));
            }
            if !done {
                continue;
            }
            // An item finished: account for it in the enclosing containers.
            loop {
                match stack.last_mut() {
                    None => return Ok(()),
                    Some(Frame::Def(n)) => {
                        *n -= 1;
                        if *n == 0 {
                            stack.pop();
                            continue;
                        }
                    }
                    Some(Frame::IndefArray) => {
                        self.count_items(1)?;
                    }
                    Some(Frame::IndefMap { odd }) => {
                        self.count_items(1)?;
                        *odd = !*odd;
                    }
                }
                break;
            }
        }
    }

    /// Captures one item as its encoded bytes.
    fn raw(&mut self) -> R<Vec<u8>> {
        let start = self.d.position();
        self.skip()?;
        let end = self.d.position();
        Ok(self.d.input().get(start..end).unwrap_or_default().to_vec())
    }

    /// Iterates over an array's elements, definite or indefinite length.
    fn array_each(&mut self, mut f: impl FnMut(&mut Self, usize) -> R<()>) -> R<usize> {
        let ty = self.peek()?;
        match ty {
            Type::Array => {
                let n = self.d.array()?.unwrap_or(0);
                self.check_len(n)?;
                self.count_items(n)?;
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                for i in 0..n {
                    f(self, i)?;
                }
                Ok(n)
            }
            Type::ArrayIndef => {
                self.d.array()?;
                let mut i = 0;
                while self.peek()? != Type::Break {
                    self.count_items(1)?;
                    f(self, i)?;
                    i += 1;
                }
                self.consume_break();
                Ok(i)
            }
            other => Err(unexpected("array", other)),
        }
    }

    /// Decodes an array into a vector, naming each element `what[i]`.
    /// Each element is also charged its in-memory weight (see [`weight`]).
    fn array_of<T>(
        &mut self,
        what: &'static str,
        mut f: impl FnMut(&mut Self) -> R<T>,
    ) -> R<Vec<T>> {
        let mut out = Vec::new();
        self.array_each(|s, i| {
            let item = s.count_items(weight::<T>()).and_then(|()| f(s));
            out.push(item.at_with(|| format!("{what}[{i}]"))?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Iterates over a map whose modelled keys are integers. `f` gets each
    /// integer key and returns whether it consumed the value; unknown keys'
    /// values, and entries with non-integer keys (extensions), are skipped.
    /// Duplicate small keys are rejected.
    fn int_map(&mut self, mut f: impl FnMut(&mut Self, i64) -> R<bool>) -> R<()> {
        let mut seen: u64 = 0;
        let mut entry = |s: &mut Self| -> R<()> {
            let kt = s.peek()?;
            if !is_int(kt) {
                s.skip()?;
                return s.skip();
            }
            let key = match i64::try_from(s.d.int()?) {
                Ok(k) => k,
                Err(_) => return s.skip(),
            };
            if (0..64).contains(&key) {
                let bit = 1u64 << key;
                if seen & bit != 0 {
                    return Err(Fault::malformed(format!("duplicate map key {key}")));
                }
                seen |= bit;
            }
            if !f(s, key)? {
                s.skip()?;
            }
            Ok(())
        };
        let ty = self.peek()?;
        match ty {
            Type::Map => {
                let n = self.d.map()?.unwrap_or(0);
                self.check_len(n.saturating_mul(2))?;
                self.count_items(n.saturating_mul(2))?;
                for _ in 0..n {
                    entry(self)?;
                }
                Ok(())
            }
            Type::MapIndef => {
                self.d.map()?;
                while self.peek()? != Type::Break {
                    self.count_items(2)?;
                    entry(self)?;
                }
                self.consume_break();
                Ok(())
            }
            other => Err(unexpected("map", other)),
        }
    }

    fn text(&mut self) -> R<String> {
        match self.peek()? {
            Type::String => Ok(self.d.str()?.to_owned()),
            Type::StringIndef => {
                let mut s = String::new();
                for chunk in self.d.str_iter()? {
                    s.push_str(chunk?);
                }
                Ok(s)
            }
            other => Err(unexpected("text", other)),
        }
    }

    fn bytes_cow(&mut self) -> R<Cow<'b, [u8]>> {
        match self.peek()? {
            Type::Bytes => Ok(Cow::Borrowed(self.d.bytes()?)),
            Type::BytesIndef => {
                let mut v = Vec::new();
                for chunk in self.d.bytes_iter()? {
                    v.extend_from_slice(chunk?);
                }
                Ok(Cow::Owned(v))
            }
            other => Err(unexpected("bytes", other)),
        }
    }

    fn bytes(&mut self) -> R<Vec<u8>> {
        Ok(self.bytes_cow()?.into_owned())
    }

    fn uuid_bytes(&mut self) -> R<[u8; 16]> {
        let b = self.bytes_cow()?;
        <[u8; 16]>::try_from(b.as_ref())
            .map_err(|_| Fault::malformed(format!("UUID must be 16 bytes, got {}", b.len())))
    }

    fn uint(&mut self) -> R<u64> {
        let t = self.peek()?;
        if !is_uint(t) {
            return Err(unexpected("uint", t));
        }
        Ok(self.d.u64()?)
    }

    fn int(&mut self) -> R<i64> {
        let t = self.peek()?;
        if !is_int(t) {
            return Err(unexpected("int", t));
        }
        i64::try_from(self.d.int()?).map_err(|_| Fault::malformed("integer out of range"))
    }

    fn bool(&mut self) -> R<bool> {
        match self.peek()? {
            Type::Bool => Ok(self.d.bool()?),
            other => Err(unexpected("bool", other)),
        }
    }

    /// Text, optionally wrapped in tag 32 (URI).
    fn uri(&mut self) -> R<String> {
        if self.peek()? == Type::Tag {
            let tag = self.tag()?;
            if tag != tags::URI {
                return Err(unexpected_tag(tag, "32 (URI)"));
            }
        }
        self.text()
    }

    // ---- CoRIM ----

    fn corim(&mut self) -> R<Corim> {
        let was_tagged = match self.peek()? {
            Type::Tag => match self.tag()? {
                tags::UNSIGNED_CORIM => true,
                tags::COSE_SIGN1 => {
                    return Err(Fault {
                        kind: FaultKind::Signed,
                        path: Vec::new(),
                    });
                }
                other => return Err(unexpected_tag(other, "501 (unsigned CoRIM)")),
            },
            Type::Map | Type::MapIndef => false,
            other => return Err(unexpected("a CoRIM map or tag 501", other)),
        };
        let mut id = None;
        let mut tag_list = None;
        let mut dependent_rims = None;
        let mut profile = None;
        let mut validity = None;
        let mut entities = None;
        self.int_map(|s, k| {
            match k {
                0 => id = Some(s.corim_id().at("corim-id")?),
                1 => tag_list = Some(s.concise_tags()?),
                2 => dependent_rims = Some(s.array_of("dependent-rims", Self::locator)?),
                3 => profile = Some(s.profile().at("profile")?),
                4 => validity = Some(s.validity().at("rim-validity")?),
                5 => entities = Some(s.array_of("entities", Self::entity)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Corim {
            id: id.ok_or_else(|| Fault::malformed("missing corim-id (key 0)"))?,
            tags: tag_list.ok_or_else(|| Fault::malformed("missing tags (key 1)"))?,
            dependent_rims,
            profile,
            validity,
            entities,
            was_tagged,
        })
    }

    fn corim_id(&mut self) -> R<CorimId> {
        match self.peek()? {
            Type::String | Type::StringIndef => Ok(CorimId::Text(self.text()?)),
            Type::Bytes | Type::BytesIndef => {
                let b = self.bytes()?;
                Ok(match <[u8; 16]>::try_from(b.as_slice()) {
                    Ok(u) => CorimId::Uuid(u),
                    Err(_) => CorimId::Bytes(b),
                })
            }
            Type::Tag => match self.tag()? {
                tags::UUID => Ok(CorimId::Uuid(self.uuid_bytes()?)),
                other => Err(unexpected_tag(other, "37 (UUID)")),
            },
            other => Err(unexpected("text or UUID", other)),
        }
    }

    fn concise_tags(&mut self) -> R<Vec<ConciseTag>> {
        let ty = self.peek().at("tags")?;
        if !matches!(ty, Type::Array | Type::ArrayIndef) {
            return Err(unexpected("array", ty)).at("tags");
        }
        let mut out = Vec::new();
        // Element errors carry their own `comid i` / `tags[i]` segment.
        self.array_each(|s, i| {
            s.count_items(weight::<ConciseTag>())?;
            out.push(s.concise_tag(i)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn concise_tag(&mut self, i: usize) -> R<ConciseTag> {
        let ty = self.peek().at_with(|| format!("tags[{i}]"))?;
        if ty != Type::Tag {
            // Pre-standard drafts wrapped the tagged CoMID in a byte string
            // (`bstr .cbor #6.506(...)`); current Veraison rejects it too.
            let hint = if matches!(ty, Type::Bytes | Type::BytesIndef) {
                " (the pre-standard bstr-wrapped tag encoding is not supported)"
            } else {
                ""
            };
            return Err(Fault::malformed(format!(
                "expected a tagged concise tag (#6.505, #6.506 or #6.508), got {}{hint}",
                type_name(ty)
            )))
            .at_with(|| format!("tags[{i}]"));
        }
        let tag = self.tag().at_with(|| format!("tags[{i}]"))?;
        let bytes = self
            .bytes_cow()
            .at_with(|| format!("tags[{i}] (tag {tag})"))?;
        if tag != tags::COMID {
            return Ok(ConciseTag::Unsupported {
                tag,
                bytes: bytes.into_owned(),
            });
        }
        let mut inner = Dec::new(bytes.as_ref(), self.limits, self.items);
        let result = inner.comid().and_then(|c| inner.finish().map(|()| c));
        self.items = inner.items;
        Ok(ConciseTag::Comid(result.at_with(|| format!("comid {i}"))?))
    }

    fn profile(&mut self) -> R<Profile> {
        match self.peek()? {
            Type::String | Type::StringIndef => Ok(Profile::Text(self.text()?)),
            Type::Tag => match self.tag()? {
                tags::URI => Ok(Profile::Uri(self.text()?)),
                tags::OID => Ok(Profile::Oid(self.bytes()?)),
                other => Err(unexpected_tag(other, "32 (URI) or 111 (OID)")),
            },
            other => Err(unexpected("a URI, OID or text profile", other)),
        }
    }

    fn time(&mut self) -> R<i64> {
        if self.peek()? == Type::Tag {
            let tag = self.tag()?;
            if tag != tags::EPOCH_TIME {
                return Err(unexpected_tag(tag, "1 (epoch time)"));
            }
        }
        match self.peek()? {
            Type::F32 | Type::F64 => {
                let f = self.d.f64()?;
                // i64 covers every representable epoch second; reject the rest.
                if (-9.2e18..=9.2e18).contains(&f) {
                    Ok(f.floor() as i64)
                } else {
                    Err(Fault::malformed("time out of range"))
                }
            }
            _ => self.int(),
        }
    }

    fn validity(&mut self) -> R<Validity> {
        let mut not_before = None;
        let mut not_after = None;
        self.int_map(|s, k| {
            match k {
                0 => not_before = Some(s.time().at("not-before")?),
                1 => not_after = Some(s.time().at("not-after")?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Validity {
            not_before,
            not_after: not_after.ok_or_else(|| Fault::malformed("missing not-after (key 1)"))?,
        })
    }

    fn locator(&mut self) -> R<Locator> {
        let mut href = None;
        let mut thumbprint = None;
        self.int_map(|s, k| {
            match k {
                0 => href = Some(s.one_or_more("href", false, Self::uri)?),
                1 => thumbprint = Some(s.one_or_more("thumbprint", true, Self::digest)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Locator {
            href: href.ok_or_else(|| Fault::malformed("missing href (key 0)"))?,
            thumbprint,
        })
    }

    /// `one-or-more<T>`: a single `T` or an array of them. When `T` is
    /// itself an array (a digest), "many" is recognised by a nested array as
    /// the first element.
    fn one_or_more<T>(
        &mut self,
        what: &'static str,
        item_is_array: bool,
        mut f: impl FnMut(&mut Self) -> R<T>,
    ) -> R<Vec<T>> {
        let is_many = match self.peek()? {
            Type::Array | Type::ArrayIndef if item_is_array => {
                let start = self.d.position();
                let len = self.d.array()?;
                let first = if len == Some(0) {
                    Ok(Type::Array)
                } else {
                    self.peek()
                };
                self.d.set_position(start);
                matches!(first?, Type::Array | Type::ArrayIndef)
            }
            Type::Array | Type::ArrayIndef => true,
            _ => false,
        };
        if is_many {
            self.array_of(what, f)
        } else {
            Ok(vec![f(self).at(what)?])
        }
    }

    fn entity(&mut self) -> R<Entity> {
        let mut name = None;
        let mut reg_id = None;
        let mut roles = None;
        self.int_map(|s, k| {
            match k {
                0 => name = Some(s.text().at("entity-name")?),
                1 => reg_id = Some(s.uri().at("reg-id")?),
                2 => roles = Some(s.array_of("role", Self::uint)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Entity {
            name: name.ok_or_else(|| Fault::malformed("missing entity-name (key 0)"))?,
            reg_id,
            roles: roles.ok_or_else(|| Fault::malformed("missing role (key 2)"))?,
        })
    }

    // ---- CoMID ----

    fn comid(&mut self) -> R<Comid> {
        let mut language = None;
        let mut tag_identity = None;
        let mut entities = None;
        let mut linked_tags = None;
        let mut triples = None;
        self.int_map(|s, k| {
            match k {
                0 => language = Some(s.text().at("language")?),
                1 => tag_identity = Some(s.tag_identity().at("tag-identity")?),
                2 => entities = Some(s.array_of("entities", Self::entity)?),
                3 => linked_tags = Some(s.array_of("linked-tags", Self::linked_tag)?),
                4 => triples = Some(s.triples().at("triples")?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Comid {
            language,
            tag_identity: tag_identity
                .ok_or_else(|| Fault::malformed("missing tag-identity (key 1)"))?,
            entities,
            linked_tags,
            triples: triples.ok_or_else(|| Fault::malformed("missing triples (key 4)"))?,
        })
    }

    fn tag_id(&mut self) -> R<TagId> {
        match self.peek()? {
            Type::String | Type::StringIndef => Ok(TagId::Text(self.text()?)),
            Type::Bytes | Type::BytesIndef => Ok(TagId::Uuid(self.uuid_bytes()?)),
            Type::Tag => match self.tag()? {
                tags::UUID => Ok(TagId::Uuid(self.uuid_bytes()?)),
                other => Err(unexpected_tag(other, "37 (UUID)")),
            },
            other => Err(unexpected("text or UUID", other)),
        }
    }

    fn tag_identity(&mut self) -> R<TagIdentity> {
        let mut tag_id = None;
        let mut tag_version = None;
        self.int_map(|s, k| {
            match k {
                0 => tag_id = Some(s.tag_id().at("tag-id")?),
                1 => tag_version = Some(s.uint().at("tag-version")?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(TagIdentity {
            tag_id: tag_id.ok_or_else(|| Fault::malformed("missing tag-id (key 0)"))?,
            tag_version,
        })
    }

    fn linked_tag(&mut self) -> R<LinkedTag> {
        let mut id = None;
        let mut rel = None;
        self.int_map(|s, k| {
            match k {
                0 => id = Some(s.tag_id().at("linked-tag-id")?),
                1 => rel = Some(s.uint().at("tag-rel")?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(LinkedTag {
            linked_tag_id: id.ok_or_else(|| Fault::malformed("missing linked-tag-id (key 0)"))?,
            rel: rel.ok_or_else(|| Fault::malformed("missing tag-rel (key 1)"))?,
        })
    }

    fn triples(&mut self) -> R<Triples> {
        let mut t = Triples::default();
        self.int_map(|s, k| {
            match k {
                0 => t.reference_triples = s.array_of("reference-triples", Self::value_triple)?,
                1 => t.endorsed_triples = s.array_of("endorsed-triples", Self::value_triple)?,
                2 => t.identity_triples = s.array_of("identity-triples", Self::key_triple)?,
                3 => t.attest_key_triples = s.array_of("attest-key-triples", Self::key_triple)?,
                key => t.other.push(RawEntry {
                    key,
                    value: s.raw()?,
                }),
            }
            Ok(true)
        })?;
        Ok(t)
    }

    fn value_triple(&mut self) -> R<ReferenceTriple> {
        let mut environment = None;
        let mut measurements = None;
        let n = self.array_each(|s, i| {
            match i {
                0 => environment = Some(s.environment().at("environment")?),
                1 => measurements = Some(s.array_of("measurements", Self::measurement)?),
                _ => return Err(Fault::malformed("triple has more than 2 elements")),
            }
            Ok(())
        })?;
        match (environment, measurements) {
            (Some(environment), Some(measurements)) => Ok(ReferenceTriple {
                environment,
                measurements,
            }),
            _ => Err(Fault::malformed(format!(
                "triple has {n} elements, expected 2"
            ))),
        }
    }

    fn key_triple(&mut self) -> R<KeyTriple> {
        let mut environment = None;
        let mut keys = None;
        let mut conditions = None;
        let n = self.array_each(|s, i| {
            match i {
                0 => environment = Some(s.environment().at("environment")?),
                1 => keys = Some(s.array_of("verification-keys", Self::crypto_key)?),
                2 => conditions = Some(s.key_conditions().at("conditions")?),
                _ => return Err(Fault::malformed("key triple has more than 3 elements")),
            }
            Ok(())
        })?;
        match (environment, keys) {
            (Some(environment), Some(keys)) => Ok(KeyTriple {
                environment,
                keys,
                conditions,
            }),
            _ => Err(Fault::malformed(format!(
                "key triple has {n} elements, expected 2 or 3"
            ))),
        }
    }

    fn key_conditions(&mut self) -> R<KeyConditions> {
        let mut c = KeyConditions {
            mkey: None,
            authorized_by: None,
        };
        self.int_map(|s, k| {
            match k {
                0 => c.mkey = Some(s.measurement_key().at("mkey")?),
                1 => c.authorized_by = Some(s.array_of("authorized-by", Self::crypto_key)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(c)
    }

    fn environment(&mut self) -> R<Environment> {
        let mut env = Environment::default();
        self.int_map(|s, k| {
            match k {
                0 => env.class = Some(s.class().at("class")?),
                1 => env.instance = Some(s.instance().at("instance")?),
                2 => env.group = Some(s.group().at("group")?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(env)
    }

    fn class(&mut self) -> R<Class> {
        let mut c = Class::default();
        self.int_map(|s, k| {
            match k {
                0 => c.class_id = Some(s.class_id().at("class-id")?),
                1 => c.vendor = Some(s.text().at("vendor")?),
                2 => c.model = Some(s.text().at("model")?),
                3 => c.layer = Some(s.uint().at("layer")?),
                4 => c.index = Some(s.uint().at("index")?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(c)
    }

    /// Reads the tag of a tagged choice, reporting what was expected.
    fn expect_tag(&mut self, expected: &str) -> R<u64> {
        match self.peek()? {
            Type::Tag => self.tag(),
            other => Err(unexpected(expected, other)),
        }
    }

    fn class_id(&mut self) -> R<ClassId> {
        let tag = self.expect_tag("a tagged class-id")?;
        Ok(match tag {
            tags::BYTES => ClassId::Bytes(self.bytes()?),
            tags::PSA_IMPL_ID => ClassId::PsaImplId(self.bytes()?),
            tags::UUID => ClassId::Uuid(self.uuid_bytes()?),
            tags::OID => ClassId::Oid(self.bytes()?),
            tag => ClassId::Other {
                tag,
                value: self.raw()?,
            },
        })
    }

    fn instance(&mut self) -> R<Instance> {
        let tag = self.expect_tag("a tagged instance-id")?;
        Ok(match tag {
            tags::UEID => Instance::Ueid(self.bytes()?),
            tags::UUID => Instance::Uuid(self.uuid_bytes()?),
            tags::BYTES => Instance::Bytes(self.bytes()?),
            tag => Instance::Other {
                tag,
                value: self.raw()?,
            },
        })
    }

    fn group(&mut self) -> R<Group> {
        let tag = self.expect_tag("a tagged group-id")?;
        Ok(match tag {
            tags::UUID => Group::Uuid(self.uuid_bytes()?),
            tags::BYTES => Group::Bytes(self.bytes()?),
            tag => Group::Other {
                tag,
                value: self.raw()?,
            },
        })
    }

    fn measurement(&mut self) -> R<Measurement> {
        let mut key = None;
        let mut values = None;
        let mut authorized_by = None;
        self.int_map(|s, k| {
            match k {
                0 => key = Some(s.measurement_key().at("mkey")?),
                1 => values = Some(s.measurement_values().at("mval")?),
                2 => authorized_by = Some(s.array_of("authorized-by", Self::crypto_key)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Measurement {
            key,
            values: values.ok_or_else(|| Fault::malformed("missing mval (key 1)"))?,
            authorized_by,
        })
    }

    fn measurement_key(&mut self) -> R<MeasurementKey> {
        let ty = self.peek()?;
        match ty {
            Type::String | Type::StringIndef => Ok(MeasurementKey::Text(self.text()?)),
            t if is_uint(t) => Ok(MeasurementKey::Uint(self.uint()?)),
            Type::Tag => Ok(match self.tag()? {
                tags::UUID => MeasurementKey::Uuid(self.uuid_bytes()?),
                tags::OID => MeasurementKey::Oid(self.bytes()?),
                tags::PSA_REFVAL_ID => {
                    MeasurementKey::PsaRefValId(self.psa_refval_id().at("psa.refval-id")?)
                }
                tags::CCA_PLATFORM_CONFIG_ID => {
                    MeasurementKey::CcaPlatformConfigId(self.text().at("cca.platform-config-id")?)
                }
                tag => MeasurementKey::Other {
                    tag,
                    value: self.raw()?,
                },
            }),
            other => Err(unexpected("text, uint or a tagged measurement key", other)),
        }
    }

    fn psa_refval_id(&mut self) -> R<PsaRefValId> {
        let mut r = PsaRefValId::default();
        self.int_map(|s, k| {
            match k {
                1 => r.label = Some(s.text().at("label")?),
                4 => r.version = Some(s.text().at("version")?),
                5 => r.signer_id = Some(s.bytes().at("signer-id")?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(r)
    }

    fn measurement_values(&mut self) -> R<MeasurementValues> {
        let mut v = MeasurementValues::default();
        self.int_map(|s, k| {
            match k {
                0 => v.version = Some(s.version().at("version")?),
                1 => v.svn = Some(s.svn().at("svn")?),
                2 => v.digests = Some(s.array_of("digests", Self::digest)?),
                3 => v.flags = Some(s.flags().at("flags")?),
                4 => v.raw_value = Some(s.raw_value().at("raw-value")?),
                5 => v.raw_value_mask = Some(s.bytes().at("raw-value-mask")?),
                6 => v.mac_addr = Some(s.bytes().at("mac-addr")?),
                7 => v.ip_addr = Some(s.bytes().at("ip-addr")?),
                8 => v.serial_number = Some(s.text().at("serial-number")?),
                9 => v.ueid = Some(s.opt_tagged_bytes(tags::UEID).at("ueid")?),
                10 => v.uuid = Some(s.opt_tagged_uuid().at("uuid")?),
                11 => v.name = Some(s.text().at("name")?),
                13 => v.cryptokeys = Some(s.array_of("cryptokeys", Self::crypto_key)?),
                14 => {
                    v.integrity_registers = Some(s.integrity_registers().at("integrity-registers")?)
                }
                key => v.other.push(RawEntry {
                    key,
                    value: s.raw()?,
                }),
            }
            Ok(true)
        })?;
        Ok(v)
    }

    fn opt_tagged_bytes(&mut self, tag: u64) -> R<Vec<u8>> {
        if self.peek()? == Type::Tag {
            let t = self.tag()?;
            if t != tag {
                return Err(unexpected_tag(t, &tag.to_string()));
            }
        }
        self.bytes()
    }

    fn opt_tagged_uuid(&mut self) -> R<[u8; 16]> {
        if self.peek()? == Type::Tag {
            let t = self.tag()?;
            if t != tags::UUID {
                return Err(unexpected_tag(t, "37 (UUID)"));
            }
        }
        self.uuid_bytes()
    }

    fn version(&mut self) -> R<Version> {
        let mut version = None;
        let mut scheme = None;
        self.int_map(|s, k| {
            match k {
                0 => version = Some(s.text().at("version")?),
                1 => {
                    scheme = Some(match s.peek()? {
                        Type::String | Type::StringIndef => VersionScheme::Text(s.text()?),
                        _ => VersionScheme::Code(s.int().at("version-scheme")?),
                    })
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Version {
            version: version.ok_or_else(|| Fault::malformed("missing version (key 0)"))?,
            scheme,
        })
    }

    fn svn(&mut self) -> R<Svn> {
        if self.peek()? == Type::Tag {
            return match self.tag()? {
                tags::SVN => Ok(Svn::Exact(self.uint()?)),
                tags::MIN_SVN => Ok(Svn::Min(self.uint()?)),
                other => Err(unexpected_tag(other, "552 (svn) or 553 (min-svn)")),
            };
        }
        Ok(Svn::Exact(self.uint()?))
    }

    fn digest(&mut self) -> R<Digest> {
        let mut alg = None;
        let mut value = None;
        let n = self.array_each(|s, i| {
            match i {
                0 => {
                    alg = Some(match s.peek()? {
                        Type::String | Type::StringIndef => DigestAlg::Text(s.text()?),
                        _ => DigestAlg::Int(s.int().at("alg")?),
                    })
                }
                1 => value = Some(s.bytes().at("val")?),
                _ => return Err(Fault::malformed("digest has more than 2 elements")),
            }
            Ok(())
        })?;
        match (alg, value) {
            (Some(alg), Some(value)) => Ok(Digest { alg, value }),
            _ => Err(Fault::malformed(format!(
                "digest has {n} elements, expected 2"
            ))),
        }
    }

    fn flags(&mut self) -> R<Flags> {
        let mut flags = Vec::new();
        self.int_map(|s, k| {
            flags.push((k, s.bool().at_with(|| format!("flag {k}"))?));
            Ok(true)
        })?;
        Ok(Flags(flags))
    }

    fn raw_value(&mut self) -> R<RawValue> {
        match self.peek()? {
            Type::Bytes | Type::BytesIndef => Ok(RawValue::Untagged(self.bytes()?)),
            Type::Tag => match self.tag()? {
                tags::BYTES => Ok(RawValue::Bytes(self.bytes()?)),
                tags::MASKED_RAW_VALUE => {
                    let mut value = None;
                    let mut mask = None;
                    let n = self.array_each(|s, i| {
                        match i {
                            0 => value = Some(s.bytes().at("value")?),
                            1 => mask = Some(s.bytes().at("mask")?),
                            _ => {
                                return Err(Fault::malformed(
                                    "masked raw value has more than 2 elements",
                                ));
                            }
                        }
                        Ok(())
                    })?;
                    match (value, mask) {
                        (Some(value), Some(mask)) => Ok(RawValue::Masked { value, mask }),
                        _ => Err(Fault::malformed(format!(
                            "masked raw value has {n} elements, expected 2"
                        ))),
                    }
                }
                other => Err(unexpected_tag(
                    other,
                    "560 (bytes) or 563 (masked raw value)",
                )),
            },
            other => Err(unexpected("bytes or a tagged raw value", other)),
        }
    }

    fn integrity_registers(&mut self) -> R<Vec<IntegrityRegister>> {
        let mut out = Vec::new();
        let mut entry = |s: &mut Self| -> R<()> {
            let id = match s.peek()? {
                Type::String | Type::StringIndef => RegisterId::Label(s.text()?),
                t if is_uint(t) => RegisterId::Index(s.uint()?),
                other => return Err(unexpected("uint or text register id", other)),
            };
            let label = match &id {
                RegisterId::Index(n) => n.to_string(),
                RegisterId::Label(l) => l.clone(),
            };
            s.count_items(weight::<IntegrityRegister>())?;
            let digests = s
                .array_of("digests", Self::digest)
                .at_with(|| format!("register {label}"))?;
            out.push(IntegrityRegister { id, digests });
            Ok(())
        };
        match self.peek()? {
            Type::Map => {
                let n = self.d.map()?.unwrap_or(0);
                self.check_len(n.saturating_mul(2))?;
                self.count_items(n.saturating_mul(2))?;
                for _ in 0..n {
                    entry(self)?;
                }
            }
            Type::MapIndef => {
                self.d.map()?;
                while self.peek()? != Type::Break {
                    self.count_items(2)?;
                    entry(self)?;
                }
                self.consume_break();
            }
            other => return Err(unexpected("map", other)),
        }
        Ok(out)
    }

    fn crypto_key(&mut self) -> R<CryptoKey> {
        let tag = self.expect_tag("a tagged crypto key")?;
        Ok(match tag {
            tags::PKIX_BASE64_KEY => CryptoKey::PkixBase64Key(self.text()?),
            tags::PKIX_BASE64_CERT => CryptoKey::PkixBase64Cert(self.text()?),
            tags::PKIX_BASE64_CERT_PATH => CryptoKey::PkixBase64CertPath(self.text()?),
            tags::THUMBPRINT => CryptoKey::Thumbprint(self.digest()?),
            tags::COSE_KEY => {
                let ty = self.peek()?;
                if !matches!(ty, Type::Map | Type::MapIndef) {
                    return Err(unexpected("a COSE_Key map", ty));
                }
                CryptoKey::CoseKey(self.raw()?)
            }
            tags::CERT_THUMBPRINT => CryptoKey::CertThumbprint(self.digest()?),
            tags::BYTES => CryptoKey::Bytes(self.bytes()?),
            tags::CERT_PATH_THUMBPRINT => CryptoKey::CertPathThumbprint(self.digest()?),
            tags::PKIX_ASN1DER_CERT => CryptoKey::PkixAsn1DerCert(self.bytes()?),
            tag => CryptoKey::Other {
                tag,
                value: self.raw()?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid CoRIM: `501({0: "x", 1: [506(<<comid>>)]})` with the
    /// given CoMID body.
    fn corim_with_comid(comid: &[u8]) -> Vec<u8> {
        let mut out = vec![
            0xd9, 0x01, 0xf5, 0xa2, 0x00, 0x61, b'x', 0x01, 0x81, 0xd9, 0x01, 0xfa,
        ];
        assert!(comid.len() < 256);
        out.extend_from_slice(&[0x58, comid.len() as u8]);
        out.extend_from_slice(comid);
        out
    }

    /// `{1: {0: "t"}, 4: {}}` followed by the given extra map entries.
    fn comid_with_extra(extra_entries: u8, extra: &[u8]) -> Vec<u8> {
        let mut out = vec![
            0xa2 + extra_entries,
            0x01,
            0xa1,
            0x00,
            0x61,
            b't',
            0x04,
            0xa0,
        ];
        out.extend_from_slice(extra);
        out
    }

    #[test]
    fn minimal_corim_decodes() {
        let c = decode(&corim_with_comid(&comid_with_extra(0, &[]))).unwrap();
        assert!(c.was_tagged);
        assert_eq!(c.id, CorimId::Text("x".into()));
        let comid = c.comids().next().unwrap();
        assert_eq!(comid.tag_identity.tag_id, TagId::Text("t".into()));
        assert!(comid.triples.is_empty());
    }

    #[test]
    fn signed_corim_is_reported_as_such() {
        // 18([h'', {}, null, h''])
        let err = decode(&[0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40]).unwrap_err();
        assert_eq!(err, CorimError::SignedNotSupported);
    }

    #[test]
    fn other_top_level_tag_is_malformed() {
        let err = decode(&[0xd9, 0x01, 0xf6, 0xa0]).unwrap_err();
        assert!(
            matches!(&err, CorimError::Malformed { reason, .. } if reason.contains("unexpected tag 502")),
            "{err}"
        );
    }

    #[test]
    fn missing_fields_are_named() {
        let err = decode(&[0xa1, 0x00, 0x61, b'x']).unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoding CoRIM: corim: missing tags (key 1)"
        );
        let err = decode(&corim_with_comid(&[0xa1, 0x04, 0xa0])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoding CoRIM: comid 0: missing tag-identity (key 1)"
        );
    }

    #[test]
    fn error_path_names_the_failing_element() {
        // triples {3: [[{0: {0: 999(h'')}}, [554("k")]]]}
        let triples = [
            0xa1, 0x03, 0x81, 0x82, 0xa1, 0x00, 0xa1, 0x00, 0xd9, 0x03, 0xe7, 0x40, 0x81, 0xd9,
            0x02, 0x2a, 0x61, b'k',
        ];
        let mut comid = vec![0xa2, 0x01, 0xa1, 0x00, 0x61, b't', 0x04];
        comid.extend_from_slice(&triples);
        let c = decode(&corim_with_comid(&comid)).unwrap();
        let env = &c.comids().next().unwrap().triples.attest_key_triples[0].environment;
        assert_eq!(
            env.class.as_ref().unwrap().class_id,
            Some(ClassId::Other {
                tag: 999,
                value: vec![0x40]
            })
        );
        // Same with a class-id that is not tagged at all: a hard error.
        let mut bad = comid.clone();
        let pos = bad.iter().position(|b| *b == 0xd9).unwrap();
        bad.splice(pos..pos + 3, []);
        let err = decode(&corim_with_comid(&bad)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoding CoRIM: comid 0: triples: attest-key-triples[0]: environment: class: class-id: \
             expected a tagged class-id, got bytes"
        );
    }

    #[test]
    fn too_large_input_is_rejected_before_parsing() {
        let limits = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        let err = decode_with_limits(&[0xa0; 5], &limits).unwrap_err();
        assert_eq!(err, CorimError::TooLarge { size: 5, limit: 4 });
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        // tags: array claiming 2^62 elements.
        let input = [
            0xa2, 0x00, 0x61, b'x', 0x01, 0x9b, 0x40, 0, 0, 0, 0, 0, 0, 0,
        ];
        let err = decode(&input).unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
        // A map claiming u64::MAX entries.
        let err = decode(&[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap_err();
        assert!(err.to_string().contains("exceeds"), "{err}");
    }

    #[test]
    fn deep_nesting_in_skipped_values_hits_the_depth_limit() {
        // An unknown CoMID key (9) whose value is 100 nested arrays.
        let mut extra = vec![0x09];
        extra.extend(std::iter::repeat_n(0x81, 100));
        extra.push(0x00);
        let err = decode(&corim_with_comid(&comid_with_extra(1, &extra))).unwrap_err();
        assert!(matches!(err, CorimError::LimitExceeded { .. }), "{err}");
        // 20 levels is within the default limit and is skipped.
        let mut extra = vec![0x09];
        extra.extend(std::iter::repeat_n(0x81, 20));
        extra.push(0x00);
        decode(&corim_with_comid(&comid_with_extra(1, &extra))).unwrap();
    }

    #[test]
    fn deep_indefinite_nesting_hits_the_depth_limit() {
        let mut extra = vec![0x09];
        extra.extend(std::iter::repeat_n(0x9f, 50));
        extra.extend(std::iter::repeat_n(0xff, 50));
        let err = decode(&corim_with_comid(&comid_with_extra(1, &extra))).unwrap_err();
        assert!(matches!(err, CorimError::LimitExceeded { .. }), "{err}");
    }

    #[test]
    fn element_budget_is_enforced() {
        let mut extra = vec![0x09, 0x98, 100];
        extra.extend(std::iter::repeat_n(0x00, 100));
        let input = corim_with_comid(&comid_with_extra(1, &extra));
        decode(&input).unwrap();
        let limits = Limits {
            max_items: 50,
            ..Limits::default()
        };
        let err = decode_with_limits(&input, &limits).unwrap_err();
        assert!(matches!(err, CorimError::LimitExceeded { .. }), "{err}");
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut input = corim_with_comid(&comid_with_extra(0, &[]));
        input.push(0x00);
        let err = decode(&input).unwrap_err();
        assert!(err.to_string().contains("1 trailing bytes"), "{err}");
        // ... also inside the CoMID byte string.
        let mut comid = comid_with_extra(0, &[]);
        comid.push(0x00);
        let err = decode(&corim_with_comid(&comid)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("decoding CoRIM: comid 0: 1 trailing"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = decode(&[0xa3, 0x00, 0x61, b'x', 0x00, 0x61, b'y', 0x01, 0x80]).unwrap_err();
        assert!(err.to_string().contains("duplicate map key 0"), "{err}");
    }

    #[test]
    fn indefinite_lengths_are_accepted() {
        // {_ 0: (_ "a", "b"), 1: [_ ]}
        let input = [
            0xbf, 0x00, 0x7f, 0x61, b'a', 0x61, b'b', 0xff, 0x01, 0x9f, 0xff, 0xff,
        ];
        let c = decode(&input).unwrap();
        assert_eq!(c.id, CorimId::Text("ab".into()));
        assert!(c.tags.is_empty());
        assert!(!c.was_tagged);
    }

    #[test]
    fn indefinite_map_ending_after_a_key_is_malformed() {
        let extra = [0x09, 0xbf, 0x01, 0xff];
        let err = decode(&corim_with_comid(&comid_with_extra(1, &extra))).unwrap_err();
        assert!(err.to_string().contains("ends after a key"), "{err}");
    }

    #[test]
    fn corim_ids_cover_all_forms() {
        let uuid = [0x50, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let mut input = vec![0xa2, 0x00];
        input.extend_from_slice(&uuid);
        input.extend_from_slice(&[0x01, 0x80]);
        let c = decode(&input).unwrap();
        assert_eq!(
            c.id,
            CorimId::Uuid([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        );
        assert_eq!(c.id.to_string(), "01020304-0506-0708-090a-0b0c0d0e0f10");
        let c = decode(&[0xa2, 0x00, 0x42, 0xab, 0xcd, 0x01, 0x80]).unwrap();
        assert_eq!(c.id, CorimId::Bytes(vec![0xab, 0xcd]));
        let mut tagged = vec![0xa2, 0x00, 0xd8, 0x25];
        tagged.extend_from_slice(&uuid);
        tagged.extend_from_slice(&[0x01, 0x80]);
        assert!(matches!(decode(&tagged).unwrap().id, CorimId::Uuid(_)));
        // tag 37 with the wrong size
        let err = decode(&[0xa2, 0x00, 0xd8, 0x25, 0x41, 0x00, 0x01, 0x80]).unwrap_err();
        assert!(
            err.to_string()
                .contains("corim-id: UUID must be 16 bytes, got 1"),
            "{err}"
        );
    }

    #[test]
    fn validity_times() {
        // {0: "x", 1: [], 4: {0: 1(10), 1: 1(20.5)}}
        let input = [
            0xa3, 0x00, 0x61, b'x', 0x01, 0x80, 0x04, 0xa2, 0x00, 0xc1, 0x0a, 0x01, 0xc1, 0xfb,
            0x40, 0x34, 0x80, 0, 0, 0, 0, 0,
        ];
        let c = decode(&input).unwrap();
        assert_eq!(
            c.validity,
            Some(Validity {
                not_before: Some(10),
                not_after: 20
            })
        );
        // NaN time
        let input = [
            0xa3, 0x00, 0x61, b'x', 0x01, 0x80, 0x04, 0xa1, 0x01, 0xc1, 0xfb, 0x7f, 0xf8, 0, 0, 0,
            0, 0, 0,
        ];
        let err = decode(&input).unwrap_err();
        assert!(
            err.to_string()
                .contains("rim-validity: not-after: time out of range"),
            "{err}"
        );
    }

    #[test]
    fn bare_comid_decodes_with_or_without_tag() {
        let comid = comid_with_extra(0, &[]);
        decode_comid(&comid).unwrap();
        let mut tagged = vec![0xd9, 0x01, 0xfa];
        tagged.extend_from_slice(&comid);
        decode_comid(&tagged).unwrap();
        let err = decode_comid(&[0xd9, 0x01, 0xf9, 0xa0]).unwrap_err();
        assert!(err.to_string().contains("expected 506"), "{err}");
    }

    #[test]
    fn oid_rendering() {
        assert_eq!(
            oid_to_dotted(&[0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x4d, 0x01, 0x0f, 0x06]).as_deref(),
            Some("2.16.840.1.113741.1.15.6")
        );
        assert_eq!(
            oid_to_dotted(&[0x55, 0x02, 0xc0, 0x00]).as_deref(),
            Some("2.5.2.8192")
        );
        assert_eq!(oid_to_dotted(&[0x2b, 0x06]).as_deref(), Some("1.3.6"));
        assert_eq!(oid_to_dotted(&[0x2b, 0x86]), None);
        assert_eq!(oid_to_dotted(&[0x2b, 0x80, 0x01]), None);
        assert_eq!(oid_to_dotted(&[]), None);
        assert_eq!(
            Profile::Oid(vec![0x2b, 0x06]).as_text().as_deref(),
            Some("1.3.6")
        );
    }
}
