//! Templates into the model. Each function takes a JSON value and its path,
//! and fails with that path; unknown keys are errors (cocli keeps them and
//! fails later, or ignores them, and a typo then drops a triple silently).

use base64::Engine as _;
use serde_json::{Map, Value};
use vouch_corim::{
    Class, ClassId, Comid, ConciseTag, Corim, CorimId, CryptoKey, Digest, DigestAlg, Entity,
    Environment, Flags, Group, Instance, IntegrityRegister, KeyConditions, KeyTriple, LinkedTag,
    Locator, Measurement, MeasurementKey, MeasurementValues, Profile, PsaRefValId, RawEntry,
    RawValue, ReferenceTriple, RegisterId, Svn, TagId, TagIdentity, Triples, Validity, Version,
    VersionScheme,
};

use crate::TemplateError;
use crate::names::{self, code, list};

type R<T> = Result<T, TemplateError>;

/// Reads a CoMID template (`cocli comid create --template`).
///
/// # Errors
///
/// A [`TemplateError`] naming the first problem and where it is.
pub fn comid_from_json(json: &[u8]) -> Result<Comid, TemplateError> {
    comid(&parse(json)?, "")
}

/// Reads a CoRIM template (`cocli corim create --template`) with `comids`:
/// its tags are the template's inline `comids` templates (a Vouch
/// addition), then `comids`, then the other tags the template carries
/// (`tags`: CoSWIDs, CoTS… as base64 CBOR, the way cocli keeps them). The
/// CoRIM is tagged 501, as cocli writes it.
///
/// # Errors
///
/// A [`TemplateError`] naming the first problem and where it is, also when
/// the CoRIM would carry no tag at all.
pub fn corim_from_json(json: &[u8], comids: Vec<Comid>) -> Result<Corim, TemplateError> {
    let v = parse(json)?;
    let o = Obj::new(
        &v,
        "",
        &[
            "corim-id",
            "tags",
            "dependent-rims",
            "profile",
            "validity",
            "entities",
            "comids",
        ],
    )?;
    let (id, at) = o.req("corim-id")?;
    let id = match tag_id(id, &at)? {
        TagId::Uuid(u) => CorimId::Uuid(u),
        TagId::Text(t) => CorimId::Text(t),
    };
    // CoMIDs first, then the other tags, as cocli orders them.
    let mut all = Vec::new();
    if let Some((v, at)) = o.get("comids") {
        for (v, at) in array(v, &at, false)? {
            all.push(ConciseTag::Comid(comid(v, &at)?));
        }
    }
    all.extend(comids.into_iter().map(ConciseTag::Comid));
    if let Some((v, at)) = o.get("tags") {
        for (v, at) in array(v, &at, false)? {
            all.push(concise_tag(v, &at)?);
        }
    }
    if all.is_empty() {
        return err("", "the CoRIM has no tags: give it at least one CoMID");
    }
    Ok(Corim {
        id,
        tags: all,
        dependent_rims: o.opt("dependent-rims", |v, at| {
            array(v, at, true)?
                .into_iter()
                .map(|(v, at)| locator(v, &at))
                .collect()
        })?,
        profile: o.opt("profile", profile)?,
        validity: o.opt("validity", validity)?,
        entities: o.opt("entities", |v, at| entities(v, at, names::CORIM_ROLES))?,
        was_tagged: true,
    })
}

fn parse(json: &[u8]) -> R<Value> {
    serde_json::from_slice(json).map_err(|e| TemplateError {
        path: String::new(),
        message: format!("not JSON: {e}"),
    })
}

fn err<T>(path: &str, message: impl Into<String>) -> R<T> {
    Err(TemplateError {
        path: path.to_owned(),
        message: message.into(),
    })
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A JSON object whose keys were checked against the ones its type has.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, path: &str, keys: &[&str]) -> R<Self> {
        let o = Self::with_raw(v, path, keys)?;
        if let Some(k) = o.map.keys().find(|k| !keys.contains(&k.as_str())) {
            return o.unknown(k, keys);
        }
        Ok(o)
    }

    /// Like `new`, but integer keys (raw entries) are left to the caller.
    fn with_raw(v: &'a Value, path: &str, keys: &[&str]) -> R<Self> {
        let Value::Object(map) = v else {
            return err(path, format!("expected an object, got {}", kind(v)));
        };
        let o = Obj {
            map,
            path: path.to_owned(),
        };
        if let Some(k) = map
            .keys()
            .find(|k| !keys.contains(&k.as_str()) && k.parse::<i64>().is_err())
        {
            return o.unknown(k, keys);
        }
        Ok(o)
    }

    fn unknown<T>(&self, key: &str, keys: &[&str]) -> R<T> {
        let expected = keys
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        err(
            &self.path,
            format!("unknown key `{key}` (expected one of {expected})"),
        )
    }

    fn get(&self, key: &str) -> Option<(&'a Value, String)> {
        self.map.get(key).map(|v| (v, child(&self.path, key)))
    }

    fn req(&self, key: &str) -> R<(&'a Value, String)> {
        self.get(key)
            .map_or_else(|| err(&self.path, format!("missing mandatory `{key}`")), Ok)
    }

    fn opt<T>(&self, key: &str, read: impl FnOnce(&Value, &str) -> R<T>) -> R<Option<T>> {
        self.get(key).map(|(v, at)| read(v, &at)).transpose()
    }

    /// The integer-keyed entries: `{"cbor": <base64 of the value>}` each.
    /// `modelled` are the keys the named fields write.
    fn raw_entries(&self, modelled: &[i64]) -> R<Vec<RawEntry>> {
        let mut out = Vec::new();
        for (k, v) in self.map {
            let Ok(key) = k.parse::<i64>() else { continue };
            let at = child(&self.path, k);
            if modelled.contains(&key) {
                return err(&at, "this key is written from its named field");
            }
            let o = Obj::new(v, &at, &["cbor"])?;
            let (v, at) = o.req("cbor")?;
            out.push(RawEntry {
                key,
                value: cbor_item(v, &at)?,
            });
        }
        Ok(out)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn text<'v>(v: &'v Value, path: &str) -> R<&'v str> {
    match v {
        Value::String(s) if !s.is_empty() => Ok(s),
        Value::String(_) => err(path, "must not be empty"),
        _ => err(path, format!("expected a string, got {}", kind(v))),
    }
}

fn uint(v: &Value, path: &str) -> R<u64> {
    v.as_u64().map_or_else(
        || err(path, format!("expected an unsigned integer, got {v}")),
        Ok,
    )
}

fn int(v: &Value, path: &str) -> R<i64> {
    v.as_i64()
        .map_or_else(|| err(path, format!("expected an integer, got {v}")), Ok)
}

fn boolean(v: &Value, path: &str) -> R<bool> {
    v.as_bool()
        .map_or_else(|| err(path, format!("expected true or false, got {v}")), Ok)
}

/// The elements of an array, with their paths; `non_empty` refuses `[]`.
fn array<'v>(v: &'v Value, path: &str, non_empty: bool) -> R<Vec<(&'v Value, String)>> {
    let Value::Array(items) = v else {
        return err(path, format!("expected an array, got {}", kind(v)));
    };
    if non_empty && items.is_empty() {
        return err(path, "must not be empty");
    }
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, v)| (v, format!("{path}[{i}]")))
        .collect())
}

/// One item or an array of them (the templates' "one or more").
fn one_or_more<'v>(v: &'v Value, path: &str) -> R<Vec<(&'v Value, String)>> {
    match v {
        Value::Array(_) => array(v, path, true),
        _ => Ok(vec![(v, path.to_owned())]),
    }
}

/// Base64 in any spelling Go's decoders accept: either alphabet, padded or
/// not, line breaks ignored, non-zero trailing bits allowed.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let standard: String = text
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT.decode(standard).ok()
}

fn bytes(v: &Value, path: &str) -> R<Vec<u8>> {
    let s = text(v, path)?;
    decode_base64(s).map_or_else(|| err(path, format!("not base64: {s:?}")), Ok)
}

/// A UUID as `uuid.Parse` takes it: hyphenated, in braces, as a URN, or
/// 32 bare hex digits.
fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    let hex: String = match s.len() {
        32 => s.to_owned(),
        36 if [8, 13, 18, 23].iter().all(|&i| s.as_bytes()[i] == b'-') => {
            s.chars().filter(|&c| c != '-').collect()
        }
        _ => return None,
    };
    let mut out = [0u8; 16];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

fn uuid(v: &Value, path: &str) -> R<[u8; 16]> {
    let s = text(v, path)?;
    parse_uuid(s).map_or_else(|| err(path, format!("not a UUID: {s:?}")), Ok)
}

/// A tag or CoRIM identifier: a UUID when it reads as one, else text.
fn tag_id(v: &Value, path: &str) -> R<TagId> {
    let s = text(v, path)?;
    Ok(parse_uuid(s).map_or_else(|| TagId::Text(s.to_owned()), TagId::Uuid))
}

/// A dotted OID as the BER content octets CBOR tag 111 carries.
fn oid(v: &Value, path: &str) -> R<Vec<u8>> {
    let s = text(v, path)?;
    let bad = || err(path, format!("not a dotted OID: {s:?}"));
    let arcs: Vec<u64> = match s.split('.').map(str::parse).collect() {
        Ok(arcs) => arcs,
        Err(_) => return bad(),
    };
    let [first, second, rest @ ..] = arcs.as_slice() else {
        return bad();
    };
    if *first > 2 || (*first < 2 && *second >= 40) {
        return bad();
    }
    let Some(head) = first.checked_mul(40).and_then(|f| f.checked_add(*second)) else {
        return bad();
    };
    let mut out = Vec::new();
    for arc in std::iter::once(head).chain(rest.iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut n = arc >> 7;
        while n > 0 {
            groups.push((n & 0x7f) as u8 | 0x80);
            n >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    Ok(out)
}

/// `{"type": …, "value": …}`, the templates' type choice. A `cbor-tag`
/// choice also has `tag`.
struct Choice<'a> {
    ty: &'a str,
    value: &'a Value,
    at: String,
    path: String,
    obj: Obj<'a>,
}

fn choice<'a>(v: &'a Value, path: &str) -> R<Choice<'a>> {
    let obj = Obj::new(v, path, &["type", "value", "tag"])?;
    let (ty, ty_at) = obj.req("type")?;
    let ty = text(ty, &ty_at)?;
    if ty != "cbor-tag" && obj.map.contains_key("tag") {
        return obj.unknown("tag", &["type", "value"]);
    }
    let (value, at) = obj.req("value")?;
    Ok(Choice {
        ty,
        value,
        at,
        path: path.to_owned(),
        obj,
    })
}

impl Choice<'_> {
    fn unexpected<T>(&self, what: &str, expected: &[&str]) -> R<T> {
        let expected = expected
            .iter()
            .chain(["cbor-tag"].iter())
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        err(
            &child(&self.path, "type"),
            format!(
                "unknown {what} type `{}` (expected one of {expected})",
                self.ty
            ),
        )
    }

    /// A `cbor-tag` choice: the tag number and its encoded content.
    fn tagged(&self) -> R<(u64, Vec<u8>)> {
        let (tag, at) = self.obj.req("tag")?;
        Ok((uint(tag, &at)?, cbor_item(self.value, &self.at)?))
    }
}

/// Base64 of exactly one well-formed CBOR item.
fn cbor_item(v: &Value, path: &str) -> R<Vec<u8>> {
    let b = bytes(v, path)?;
    let mut d = minicbor::Decoder::new(&b);
    match d.skip() {
        Ok(()) if d.position() == b.len() => Ok(b),
        Ok(()) => err(path, "trailing bytes after the CBOR item"),
        Err(e) => err(path, format!("not CBOR: {e}")),
    }
}

fn encoded(write: impl FnOnce(&mut minicbor::Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut minicbor::Encoder::new(&mut out));
    out
}

fn concise_tag(v: &Value, path: &str) -> R<ConciseTag> {
    // One tagged tag, as cocli keeps them: read through the CoRIM decoder
    // (bounded, and the one that reads CoMIDs from the wire) by wrapping
    // it in a minimal corim-map {0: "x", 1: [tag]}.
    let item = cbor_item(v, path)?;
    let mut doc = vec![0xa2, 0x00, 0x61, b'x', 0x01, 0x81];
    doc.extend_from_slice(&item);
    match vouch_corim::decode(&doc) {
        Ok(c) if matches!(c.tags.as_slice(), [ConciseTag::Comid(_)]) => err(
            path,
            "a CoMID here would skip the template checks: give it under `comids`, or as a \
             file to `vouch corim build --comid`",
        ),
        Ok(mut c) if c.tags.len() == 1 => Ok(c.tags.remove(0)),
        Ok(_) => err(path, "expected one tag"),
        Err(e) => err(path, e.to_string()),
    }
}

fn locator(v: &Value, path: &str) -> R<Locator> {
    let o = Obj::new(v, path, &["href", "thumbprint"])?;
    let (href, at) = o.req("href")?;
    let href = one_or_more(href, &at)?
        .into_iter()
        .map(|(v, at)| text(v, &at).map(str::to_owned))
        .collect::<R<_>>()?;
    let thumbprint = o.opt("thumbprint", |v, at| match v {
        // A digest is itself an array; an array whose first element is
        // not an array is one digest.
        Value::Array(items) if items.first().is_some_and(|i| !i.is_array()) => {
            Ok(vec![digest(v, at)?])
        }
        _ => one_or_more(v, at)?
            .into_iter()
            .map(|(v, at)| digest(v, &at))
            .collect(),
    })?;
    Ok(Locator { href, thumbprint })
}

fn profile(v: &Value, path: &str) -> R<Profile> {
    if let Value::String(s) = v {
        // The older plain string: an absolute URI, else an OID, written
        // untagged as those tools did.
        return if s.contains(':') {
            Ok(Profile::Text(s.clone()))
        } else {
            oid(v, path).map(Profile::Oid)
        };
    }
    let c = choice(v, path)?;
    match c.ty {
        "uri" => Ok(Profile::Uri(text(c.value, &c.at)?.to_owned())),
        "oid" => Ok(Profile::Oid(oid(c.value, &c.at)?)),
        _ => err(
            &child(path, "type"),
            format!("unknown profile type `{}` (expected `uri` or `oid`)", c.ty),
        ),
    }
}

fn time(v: &Value, path: &str) -> R<i64> {
    let s = text(v, path)?;
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .or_else(|e| err(path, format!("not an RFC 3339 time ({e}): {s:?}")))
}

fn validity(v: &Value, path: &str) -> R<Validity> {
    let o = Obj::new(v, path, &["not-before", "not-after"])?;
    let (after, at) = o.req("not-after")?;
    let not_after = time(after, &at)?;
    let not_before = o.opt("not-before", time)?;
    if not_before.is_some_and(|b| b > not_after) {
        return err(path, "not-before is after not-after");
    }
    Ok(Validity {
        not_before,
        not_after,
    })
}

fn entities(v: &Value, path: &str, roles: &[(&str, u64)]) -> R<Vec<Entity>> {
    array(v, path, true)?
        .into_iter()
        .map(|(v, at)| entity(v, &at, roles))
        .collect()
}

fn entity(v: &Value, path: &str, table: &[(&str, u64)]) -> R<Entity> {
    let o = Obj::new(v, path, &["name", "regid", "roles"])?;
    let (name, at) = o.req("name")?;
    let name = match name {
        Value::Object(_) => {
            let c = choice(name, &at)?;
            if c.ty != "string" {
                return err(&at, format!("unknown entity name type `{}`", c.ty));
            }
            text(c.value, &c.at)?
        }
        _ => text(name, &at)?,
    };
    let (roles_v, at) = o.req("roles")?;
    let mut roles = Vec::new();
    for (v, at) in array(roles_v, &at, true)? {
        let role = text(v, &at)?;
        match code(table, role) {
            Some(c) => roles.push(c),
            None => {
                return err(
                    &at,
                    format!("unknown role `{role}` (expected one of {})", list(table)),
                );
            }
        }
    }
    Ok(Entity {
        name: name.to_owned(),
        reg_id: o.opt("regid", |v, at| text(v, at).map(str::to_owned))?,
        roles,
    })
}

fn comid(v: &Value, path: &str) -> R<Comid> {
    let o = Obj::new(
        v,
        path,
        &["lang", "tag-identity", "entities", "linked-tags", "triples"],
    )?;
    let (ti, at) = o.req("tag-identity")?;
    let ti_obj = Obj::new(ti, &at, &["id", "version"])?;
    let (id, id_at) = ti_obj.req("id")?;
    // cocli leaves version 0 out, as absent means 0.
    let tag_version = ti_obj.opt("version", uint)?.filter(|&v| v != 0);
    let (triples_v, triples_at) = o.req("triples")?;
    Ok(Comid {
        language: o.opt("lang", |v, at| text(v, at).map(str::to_owned))?,
        tag_identity: TagIdentity {
            tag_id: tag_id(id, &id_at)?,
            tag_version,
        },
        entities: o.opt("entities", |v, at| entities(v, at, names::COMID_ROLES))?,
        linked_tags: o.opt("linked-tags", |v, at| {
            array(v, at, true)?
                .into_iter()
                .map(|(v, at)| linked_tag(v, &at))
                .collect()
        })?,
        triples: triples(triples_v, &triples_at)?,
    })
}

fn linked_tag(v: &Value, path: &str) -> R<LinkedTag> {
    let o = Obj::new(v, path, &["target", "rel"])?;
    let (target, at) = o.req("target")?;
    let rel = o.opt("rel", |v, at| {
        let r = text(v, at)?;
        code(names::RELS, r).map_or_else(
            || {
                err(
                    at,
                    format!("unknown rel `{r}` (expected one of {})", list(names::RELS)),
                )
            },
            Ok,
        )
    })?;
    Ok(LinkedTag {
        linked_tag_id: tag_id(target, &at)?,
        rel: rel.unwrap_or(0),
    })
}

/// Triple kinds cocli knows that the model keeps raw: they are given as
/// integer keys holding their CBOR.
const RAW_TRIPLES: &[(&str, u64)] = &[
    ("dependency-triples", 4),
    ("membership-triples", 5),
    ("coswid-triples", 6),
    ("conditional-endorsement-series", 8),
    ("conditional-endorsements", 10),
];

fn triples(v: &Value, path: &str) -> R<Triples> {
    const KEYS: &[&str] = &[
        "reference-values",
        "endorsed-values",
        "dev-identity-keys",
        "attester-verification-keys",
    ];
    if let Value::Object(map) = v
        && let Some((name, key)) = RAW_TRIPLES.iter().find(|(n, _)| map.contains_key(*n))
    {
        return err(
            &child(path, name),
            format!(
                "no scheme Vouch verifies uses {name}, so `vouch corim build` does not \
                 read them; give them as CBOR: \"{key}\": {{\"cbor\": \"<base64>\"}}"
            ),
        );
    }
    let o = Obj::with_raw(v, path, KEYS)?;
    let values = |key: &str| -> R<Vec<ReferenceTriple>> {
        o.opt(key, |v, at| {
            array(v, at, false)?
                .into_iter()
                .map(|(v, at)| value_triple(v, &at))
                .collect()
        })
        .map(Option::unwrap_or_default)
    };
    let keys = |key: &str| -> R<Vec<KeyTriple>> {
        o.opt(key, |v, at| {
            array(v, at, false)?
                .into_iter()
                .map(|(v, at)| key_triple(v, &at))
                .collect()
        })
        .map(Option::unwrap_or_default)
    };
    let t = Triples {
        reference_triples: values("reference-values")?,
        endorsed_triples: values("endorsed-values")?,
        identity_triples: keys("dev-identity-keys")?,
        attest_key_triples: keys("attester-verification-keys")?,
        other: o.raw_entries(&[0, 1, 2, 3])?,
    };
    if t.is_empty() {
        return err(path, "must hold at least one triple");
    }
    Ok(t)
}

fn value_triple(v: &Value, path: &str) -> R<ReferenceTriple> {
    let o = Obj::new(v, path, &["environment", "measurements"])?;
    let (env, env_at) = o.req("environment")?;
    let (ms, ms_at) = o.req("measurements")?;
    Ok(ReferenceTriple {
        environment: environment(env, &env_at)?,
        measurements: array(ms, &ms_at, true)?
            .into_iter()
            .map(|(v, at)| measurement(v, &at))
            .collect::<R<_>>()?,
    })
}

fn key_triple(v: &Value, path: &str) -> R<KeyTriple> {
    let o = Obj::new(v, path, &["environment", "verification-keys", "conditions"])?;
    let (env, env_at) = o.req("environment")?;
    let (keys, keys_at) = o.req("verification-keys")?;
    let conditions = o.opt("conditions", |v, at| {
        let c = Obj::new(v, at, &["mkey", "authorized-by"])?;
        let conditions = KeyConditions {
            mkey: c.opt("mkey", mkey)?,
            authorized_by: c.opt("authorized-by", crypto_keys)?,
        };
        if conditions.mkey.is_none() && conditions.authorized_by.is_none() {
            return err(at, "must not be empty");
        }
        Ok(conditions)
    })?;
    Ok(KeyTriple {
        environment: environment(env, &env_at)?,
        keys: array(keys, &keys_at, true)?
            .into_iter()
            .map(|(v, at)| crypto_key(v, &at))
            .collect::<R<_>>()?,
        conditions,
    })
}

fn environment(v: &Value, path: &str) -> R<Environment> {
    let o = Obj::new(v, path, &["class", "instance", "group"])?;
    let env = Environment {
        class: o.opt("class", class)?,
        instance: o.opt("instance", instance)?,
        group: o.opt("group", group)?,
    };
    if env == Environment::default() {
        return err(path, "must not be empty");
    }
    Ok(env)
}

fn class(v: &Value, path: &str) -> R<Class> {
    let o = Obj::new(v, path, &["id", "vendor", "model", "layer", "index"])?;
    let c = Class {
        class_id: o.opt("id", class_id)?,
        vendor: o.opt("vendor", |v, at| text(v, at).map(str::to_owned))?,
        model: o.opt("model", |v, at| text(v, at).map(str::to_owned))?,
        layer: o.opt("layer", uint)?,
        index: o.opt("index", uint)?,
    };
    if c == Class::default() {
        return err(path, "must not be empty");
    }
    Ok(c)
}

fn class_id(v: &Value, path: &str) -> R<ClassId> {
    let c = choice(v, path)?;
    match c.ty {
        "bytes" => Ok(ClassId::Bytes(bytes(c.value, &c.at)?)),
        "uuid" => Ok(ClassId::Uuid(uuid(c.value, &c.at)?)),
        "oid" => Ok(ClassId::Oid(oid(c.value, &c.at)?)),
        "psa.impl-id" => {
            let b = bytes(c.value, &c.at)?;
            if b.len() != 32 {
                return err(
                    &c.at,
                    format!("a psa.impl-id is 32 bytes, this is {}", b.len()),
                );
            }
            Ok(ClassId::PsaImplId(b))
        }
        "int" => {
            let n = int(c.value, &c.at)?;
            Ok(ClassId::Other {
                tag: 551,
                value: encoded(|e| {
                    let _ = e.i64(n);
                }),
            })
        }
        "cbor-tag" => c.tagged().map(|(tag, value)| ClassId::Other { tag, value }),
        _ => c.unexpected("class id", &["bytes", "uuid", "oid", "psa.impl-id", "int"]),
    }
}

fn instance(v: &Value, path: &str) -> R<Instance> {
    let c = choice(v, path)?;
    match c.ty {
        "ueid" => {
            let b = bytes(c.value, &c.at)?;
            // EAT's UEID types: RAND, EUI and IMEI, each of its lengths.
            let ok = matches!(
                (b.first(), b.len()),
                (Some(0x01), 17 | 25 | 33) | (Some(0x02), 7 | 9) | (Some(0x03), 15)
            );
            if !ok {
                return err(
                    &c.at,
                    "not a UEID: type 0x01 with 16, 24 or 32 bytes, 0x02 with 6 or 8, or \
                     0x03 with 14",
                );
            }
            Ok(Instance::Ueid(b))
        }
        "uuid" => Ok(Instance::Uuid(uuid(c.value, &c.at)?)),
        "bytes" => Ok(Instance::Bytes(bytes(c.value, &c.at)?)),
        "cbor-tag" => c
            .tagged()
            .map(|(tag, value)| Instance::Other { tag, value }),
        "pkix-base64-key"
        | "pkix-base64-cert"
        | "pkix-base64-cert-path"
        | "cose-key"
        | "thumbprint"
        | "cert-thumbprint"
        | "cert-path-thumbprint" => {
            let key = crypto_key(v, path)?;
            Ok(Instance::Other {
                tag: key.tag(),
                value: key_content(&key),
            })
        }
        _ => c.unexpected(
            "instance",
            &[
                "ueid",
                "uuid",
                "bytes",
                "pkix-base64-key",
                "pkix-base64-cert",
                "cose-key",
                "thumbprint",
                "cert-thumbprint",
            ],
        ),
    }
}

/// The CBOR under a crypto key's tag, for a key used as an instance id.
fn key_content(key: &CryptoKey) -> Vec<u8> {
    encoded(|e| {
        let _ = match key {
            CryptoKey::PkixBase64Key(s)
            | CryptoKey::PkixBase64Cert(s)
            | CryptoKey::PkixBase64CertPath(s) => e.str(s).map(|_| ()),
            CryptoKey::Thumbprint(d)
            | CryptoKey::CertThumbprint(d)
            | CryptoKey::CertPathThumbprint(d) => (|| {
                e.array(2)?;
                match &d.alg {
                    DigestAlg::Int(n) => e.i64(*n)?,
                    DigestAlg::Text(t) => e.str(t)?,
                };
                e.bytes(&d.value).map(|_| ())
            })(),
            CryptoKey::Bytes(b) | CryptoKey::PkixAsn1DerCert(b) => e.bytes(b).map(|_| ()),
            CryptoKey::CoseKey(raw) | CryptoKey::Other { value: raw, .. } => {
                e.writer_mut().extend_from_slice(raw);
                Ok(())
            }
        };
    })
}

fn group(v: &Value, path: &str) -> R<Group> {
    let c = choice(v, path)?;
    match c.ty {
        "uuid" => Ok(Group::Uuid(uuid(c.value, &c.at)?)),
        "bytes" => Ok(Group::Bytes(bytes(c.value, &c.at)?)),
        "cbor-tag" => c.tagged().map(|(tag, value)| Group::Other { tag, value }),
        _ => c.unexpected("group", &["uuid", "bytes"]),
    }
}

fn measurement(v: &Value, path: &str) -> R<Measurement> {
    let o = Obj::new(v, path, &["key", "value", "authorized-by"])?;
    let (values, at) = o.req("value")?;
    Ok(Measurement {
        key: o.opt("key", mkey)?,
        values: measurement_values(values, &at)?,
        authorized_by: o.opt("authorized-by", crypto_keys)?,
    })
}

fn mkey(v: &Value, path: &str) -> R<MeasurementKey> {
    let c = choice(v, path)?;
    match c.ty {
        "string" => Ok(MeasurementKey::Text(text(c.value, &c.at)?.to_owned())),
        "uint" => Ok(MeasurementKey::Uint(uint(c.value, &c.at)?)),
        "uuid" => Ok(MeasurementKey::Uuid(uuid(c.value, &c.at)?)),
        "oid" => Ok(MeasurementKey::Oid(oid(c.value, &c.at)?)),
        "psa.refval-id" => {
            let o = Obj::new(c.value, &c.at, &["label", "version", "signer-id"])?;
            let (signer, at) = o.req("signer-id")?;
            let signer = bytes(signer, &at)?;
            if ![32, 48, 64].contains(&signer.len()) {
                return err(
                    &at,
                    format!(
                        "a signer-id is 32, 48 or 64 bytes, this is {}",
                        signer.len()
                    ),
                );
            }
            Ok(MeasurementKey::PsaRefValId(PsaRefValId {
                label: o.opt("label", |v, at| text(v, at).map(str::to_owned))?,
                version: o.opt("version", |v, at| text(v, at).map(str::to_owned))?,
                signer_id: Some(signer),
            }))
        }
        "cca.platform-config-id" => Ok(MeasurementKey::CcaPlatformConfigId(
            text(c.value, &c.at)?.to_owned(),
        )),
        "cbor-tag" => c
            .tagged()
            .map(|(tag, value)| MeasurementKey::Other { tag, value }),
        _ => c.unexpected(
            "measurement key",
            &[
                "string",
                "uint",
                "uuid",
                "oid",
                "psa.refval-id",
                "cca.platform-config-id",
            ],
        ),
    }
}

fn measurement_values(v: &Value, path: &str) -> R<MeasurementValues> {
    let o = Obj::with_raw(
        v,
        path,
        &[
            "version",
            "svn",
            "digests",
            "flags",
            "raw-value",
            "raw-value-mask",
            "mac-addr",
            "ip-addr",
            "serial-number",
            "ueid",
            "uuid",
            "name",
            "cryptokeys",
            "integrity-registers",
            "int-range",
        ],
    )?;
    let text_field = |key| o.opt(key, |v, at| text(v, at).map(str::to_owned));
    let mut other = o.raw_entries(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14])?;
    if let Some(range) = o.opt("int-range", int_range)? {
        if other.iter().any(|e| e.key == 15) {
            return err(path, "`int-range` and `15` are the same entry");
        }
        other.push(RawEntry {
            key: 15,
            value: range,
        });
    }
    let values = MeasurementValues {
        version: o.opt("version", version)?,
        svn: o.opt("svn", svn)?,
        digests: o.opt("digests", |v, at| {
            array(v, at, true)?
                .into_iter()
                .map(|(v, at)| digest(v, &at))
                .collect()
        })?,
        flags: o.opt("flags", flags)?,
        raw_value: o.opt("raw-value", raw_value)?,
        raw_value_mask: o.opt("raw-value-mask", bytes)?,
        mac_addr: o.opt("mac-addr", mac_addr)?,
        ip_addr: o.opt("ip-addr", |v, at| {
            let s = text(v, at)?;
            match s.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(a)) => Ok(a.octets().to_vec()),
                Ok(std::net::IpAddr::V6(a)) => Ok(a.octets().to_vec()),
                Err(_) => err(at, format!("not an IP address: {s:?}")),
            }
        })?,
        serial_number: text_field("serial-number")?,
        ueid: o.opt("ueid", bytes)?,
        uuid: o.opt("uuid", uuid)?,
        name: text_field("name")?,
        cryptokeys: o.opt("cryptokeys", crypto_keys)?,
        integrity_registers: o.opt("integrity-registers", integrity_registers)?,
        other,
    };
    if values == MeasurementValues::default() {
        return err(path, "no measurement value set");
    }
    Ok(values)
}

fn version(v: &Value, path: &str) -> R<Version> {
    let o = Obj::new(v, path, &["value", "scheme"])?;
    let (value, at) = o.req("value")?;
    Ok(Version {
        version: text(value, &at)?.to_owned(),
        scheme: o.opt("scheme", |v, at| match v {
            Value::Number(_) => int(v, at).map(VersionScheme::Code),
            _ => {
                let s = text(v, at)?;
                Ok(code(names::VERSION_SCHEMES, s)
                    .map_or_else(|| VersionScheme::Text(s.to_owned()), VersionScheme::Code))
            }
        })?,
    })
}

fn svn(v: &Value, path: &str) -> R<Svn> {
    let c = choice(v, path)?;
    let n = uint(c.value, &c.at)?;
    match c.ty {
        "exact-value" => Ok(Svn::Exact(n)),
        "min-value" => Ok(Svn::Min(n)),
        _ => err(
            &child(path, "type"),
            format!(
                "unknown SVN type `{}` (expected `exact-value` or `min-value`)",
                c.ty
            ),
        ),
    }
}

fn flags(v: &Value, path: &str) -> R<Flags> {
    let Value::Object(map) = v else {
        return err(path, format!("expected an object, got {}", kind(v)));
    };
    if map.is_empty() {
        return err(path, "must set at least one flag");
    }
    let mut out = Vec::new();
    for (name, v) in map {
        let at = child(path, name);
        let Some(c) = code(names::FLAGS, name) else {
            return err(
                &at,
                format!("unknown flag (expected one of {})", list(names::FLAGS)),
            );
        };
        out.push((c, boolean(v, &at)?));
    }
    Ok(Flags(out))
}

fn raw_value(v: &Value, path: &str) -> R<RawValue> {
    let c = choice(v, path)?;
    match c.ty {
        "bytes" => Ok(RawValue::Bytes(bytes(c.value, &c.at)?)),
        "masked" => {
            let o = Obj::new(c.value, &c.at, &["value", "mask"])?;
            let (value, value_at) = o.req("value")?;
            let (mask, mask_at) = o.req("mask")?;
            let (value, mask) = (bytes(value, &value_at)?, bytes(mask, &mask_at)?);
            if value.len() != mask.len() {
                return err(
                    &c.at,
                    format!(
                        "the value has {} bytes and the mask {}",
                        value.len(),
                        mask.len()
                    ),
                );
            }
            Ok(RawValue::Masked { value, mask })
        }
        _ => err(
            &child(path, "type"),
            format!(
                "unknown raw value type `{}` (expected `bytes` or `masked`)",
                c.ty
            ),
        ),
    }
}

fn mac_addr(v: &Value, path: &str) -> R<Vec<u8>> {
    let s = text(v, path)?;
    let octets: Option<Vec<u8>> = s
        .split([':', '-'])
        .map(|o| {
            (o.len() == 2)
                .then(|| u8::from_str_radix(o, 16).ok())
                .flatten()
        })
        .collect();
    match octets {
        Some(o) if o.len() == 6 || o.len() == 8 => Ok(o),
        _ => err(
            path,
            format!("not a MAC address (6 or 8 hex octets): {s:?}"),
        ),
    }
}

fn integrity_registers(v: &Value, path: &str) -> R<Vec<IntegrityRegister>> {
    let Value::Object(map) = v else {
        return err(path, format!("expected an object, got {}", kind(v)));
    };
    let mut out = Vec::new();
    for (id, v) in map {
        let at = child(path, id);
        let o = Obj::new(v, &at, &["key-type", "value"])?;
        let (ty, ty_at) = o.req("key-type")?;
        let id = match text(ty, &ty_at)? {
            "uint" => match id.parse() {
                Ok(n) => RegisterId::Index(n),
                Err(_) => return err(&at, "a uint register id must be a decimal number"),
            },
            "text" => RegisterId::Label(id.clone()),
            other => {
                return err(
                    &ty_at,
                    format!("unknown key-type `{other}` (expected `uint` or `text`)"),
                );
            }
        };
        let (digests, d_at) = o.req("value")?;
        out.push(IntegrityRegister {
            id,
            digests: array(digests, &d_at, true)?
                .into_iter()
                .map(|(v, at)| digest(v, &at))
                .collect::<R<_>>()?,
        });
    }
    Ok(out)
}

/// `int-range`, as the CBOR of measurement value 15.
fn int_range(v: &Value, path: &str) -> R<Vec<u8>> {
    let c = choice(v, path)?;
    match c.ty {
        "rawIntInteger" => {
            let n = int(c.value, &c.at)?;
            Ok(encoded(|e| {
                let _ = e.i64(n);
            }))
        }
        "rawIntRange" => {
            let o = Obj::new(c.value, &c.at, &["min", "max"])?;
            let min = o.opt("min", int)?;
            let max = o.opt("max", int)?;
            if let (Some(lo), Some(hi)) = (min, max)
                && lo > hi
            {
                return err(&c.at, "min is above max");
            }
            Ok(encoded(|e| {
                let _ = (|| {
                    e.tag(minicbor::data::Tag::new(564))?.array(2)?;
                    for end in [min, max] {
                        match end {
                            Some(n) => e.i64(n)?,
                            None => e.null()?,
                        };
                    }
                    Ok::<_, minicbor::encode::Error<std::convert::Infallible>>(())
                })();
            }))
        }
        _ => err(
            &child(path, "type"),
            format!(
                "unknown int-range type `{}` (expected `rawIntInteger` or `rawIntRange`)",
                c.ty
            ),
        ),
    }
}

/// A digest: `[alg, base64]`, or the older `"sha-256;<base64>"`.
fn digest(v: &Value, path: &str) -> R<Digest> {
    let (alg, value) = match v {
        Value::Array(items) if items.len() == 2 => {
            let alg = match &items[0] {
                Value::String(s) => code_of_alg(s).map_or_else(
                    || {
                        s.parse()
                            .map_or_else(|_| DigestAlg::Text(s.clone()), DigestAlg::Int)
                    },
                    DigestAlg::Int,
                ),
                n => DigestAlg::Int(int(n, &format!("{path}[0]"))?),
            };
            (alg, bytes(&items[1], &format!("{path}[1]"))?)
        }
        Value::String(s) => {
            let Some((name, b64)) = s.split_once(';').or_else(|| s.split_once(':')) else {
                return err(path, format!("not `<algorithm>;<base64>`: {s:?}"));
            };
            let name = name.trim().to_ascii_lowercase();
            let Some(alg) = code_of_alg(&name) else {
                return err(path, format!("unknown hash algorithm `{name}`"));
            };
            let Some(value) = decode_base64(b64.trim()) else {
                return err(path, format!("not base64: {b64:?}"));
            };
            (DigestAlg::Int(alg), value)
        }
        _ => {
            return err(
                path,
                "a digest is [algorithm, base64 value] or \"sha-256;<base64>\"",
            );
        }
    };
    if value.is_empty() {
        return err(path, "the digest is empty");
    }
    if let DigestAlg::Int(n) = alg {
        match names::DIGEST_ALGS.iter().find(|(_, c, _)| *c == n) {
            Some((name, _, len)) if *len != value.len() => {
                return err(
                    path,
                    format!("a {name} digest is {len} bytes, this is {}", value.len()),
                );
            }
            None if n == 0 => return err(path, "hash algorithm 0 is reserved"),
            _ => {}
        }
    }
    Ok(Digest { alg, value })
}

fn code_of_alg(name: &str) -> Option<i64> {
    names::DIGEST_ALGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, c, _)| *c)
}

/// `authorized-by` and `cryptokeys`: keys, or one key as older templates
/// gave it.
fn crypto_keys(v: &Value, path: &str) -> R<Vec<CryptoKey>> {
    one_or_more(v, path)?
        .into_iter()
        .map(|(v, at)| crypto_key(v, &at))
        .collect()
}

fn crypto_key(v: &Value, path: &str) -> R<CryptoKey> {
    let c = choice(v, path)?;
    match c.ty {
        "pkix-base64-key" => pem(&c, "PUBLIC KEY", false).map(CryptoKey::PkixBase64Key),
        "pkix-base64-cert" => pem(&c, "CERTIFICATE", false).map(CryptoKey::PkixBase64Cert),
        "pkix-base64-cert-path" => pem(&c, "CERTIFICATE", true).map(CryptoKey::PkixBase64CertPath),
        "cose-key" => Ok(CryptoKey::CoseKey(cbor_item(c.value, &c.at)?)),
        "thumbprint" => Ok(CryptoKey::Thumbprint(digest(c.value, &c.at)?)),
        "cert-thumbprint" => Ok(CryptoKey::CertThumbprint(digest(c.value, &c.at)?)),
        "cert-path-thumbprint" => Ok(CryptoKey::CertPathThumbprint(digest(c.value, &c.at)?)),
        "bytes" => Ok(CryptoKey::Bytes(bytes(c.value, &c.at)?)),
        "pkix-asn1der-cert" => Ok(CryptoKey::PkixAsn1DerCert(bytes(c.value, &c.at)?)),
        "cbor-tag" => c
            .tagged()
            .map(|(tag, value)| CryptoKey::Other { tag, value }),
        _ => c.unexpected(
            "crypto key",
            &[
                "pkix-base64-key",
                "pkix-base64-cert",
                "pkix-base64-cert-path",
                "cose-key",
                "thumbprint",
                "cert-thumbprint",
                "cert-path-thumbprint",
                "bytes",
                "pkix-asn1der-cert",
            ],
        ),
    }
}

/// PEM text of `label` blocks (one, or `many`), kept verbatim: the trust
/// service parses the key itself when the CoRIM is provisioned.
fn pem(c: &Choice<'_>, label: &str, many: bool) -> R<String> {
    let s = text(c.value, &c.at)?;
    let begin = format!("-----BEGIN {label}-----");
    let blocks = s.matches(&begin).count();
    let ends = s.matches(&format!("-----END {label}-----")).count();
    let outside = s.matches("-----BEGIN ").count();
    if blocks == 0 || blocks != ends || blocks != outside || (!many && blocks != 1) {
        let want = if many { "blocks" } else { "one block" };
        return err(&c.at, format!("expected PEM text with {want} of {label}"));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_read_in_every_spelling_uuid_parse_takes() {
        let want = hex::decode("7df7714eaa044638bcbf434b1dd720f1").unwrap();
        for s in [
            "7df7714e-aa04-4638-bcbf-434b1dd720f1",
            "7DF7714E-AA04-4638-BCBF-434B1DD720F1",
            "{7df7714e-aa04-4638-bcbf-434b1dd720f1}",
            "urn:uuid:7df7714e-aa04-4638-bcbf-434b1dd720f1",
            "7df7714eaa044638bcbf434b1dd720f1",
        ] {
            assert_eq!(parse_uuid(s).unwrap().to_vec(), want, "{s}");
        }
        for s in [
            "00000000-0000-0001-p5a1-000000000001",
            "7df7714e-aa04-4638-bcbf-434b1dd720f",
            "7df7714eaa04-4638-bcbf-434b1dd720f1-",
        ] {
            assert_eq!(parse_uuid(s), None, "{s}");
        }
    }

    #[test]
    fn oids_encode_as_ber_content_octets() {
        let v = Value::from("2.16.840.1.113741.1.16.1");
        assert_eq!(
            hex::encode(oid(&v, "p").unwrap()),
            "6086480186f84d011001",
            "the TDX profile OID, as veraison/corim writes it"
        );
        for bad in ["1", "3.1", "1.40", "1..2", "a.b.c", ""] {
            assert!(oid(&Value::from(bad), "p").is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_reads_both_alphabets_with_or_without_padding() {
        let want = vec![0xfb, 0xff, 0xbf];
        for s in ["+/+/", "-_-_", "+/+/\n"] {
            assert_eq!(decode_base64(s).unwrap(), vec![0xfb, 0xff, 0xbf], "{s}");
        }
        assert_eq!(decode_base64("+/+/").unwrap(), want);
        assert_eq!(decode_base64("AQ").unwrap(), vec![1]);
        assert_eq!(decode_base64("AQ==").unwrap(), vec![1]);
        assert_eq!(decode_base64("A"), None);
        assert_eq!(decode_base64("A*"), None);
    }

    #[test]
    fn digests_read_in_both_dialects_and_check_their_length() {
        let sha = [7u8; 32];
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha);
        let std = base64::engine::general_purpose::STANDARD.encode(sha);
        for v in [
            serde_json::json!([1, url]),
            serde_json::json!(["sha-256", url]),
            serde_json::json!(format!("sha-256;{std}")),
            serde_json::json!(format!("SHA-256:{std}")),
        ] {
            let d = digest(&v, "d").unwrap();
            assert_eq!((d.alg, d.value), (DigestAlg::Int(1), sha.to_vec()), "{v}");
        }
        let e = digest(&serde_json::json!([8, url]), "d").unwrap_err();
        assert_eq!(e.message, "a sha-512 digest is 64 bytes, this is 32");
        assert!(digest(&serde_json::json!(format!("md5;{std}")), "d").is_err());
        assert!(digest(&serde_json::json!([0, url]), "d").is_err());
        let text = digest(&serde_json::json!(["blake3", url]), "d").unwrap();
        assert_eq!(text.alg, DigestAlg::Text("blake3".into()));
    }
}
