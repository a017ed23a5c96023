//! The model as templates, in veraison/corim's current dialect, so that
//! reading the output gives the same model back.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use vouch_corim::{
    Class, ClassId, Comid, ConciseTag, Corim, CorimId, CryptoKey, Digest, DigestAlg, Entity,
    Environment, Group, Instance, KeyTriple, Measurement, MeasurementKey, MeasurementValues,
    Profile, RawEntry, RawValue, ReferenceTriple, RegisterId, Svn, TagId, Validity, VersionScheme,
    oid_to_dotted,
};

use crate::names::{self, name};

/// A CoRIM as a template: cocli's CoRIM template keys, its CoMIDs as
/// templates under `comids`, and any other tag (CoSWID, CoTS) under
/// `tags` as the base64 CBOR cocli keeps there.
pub fn corim_to_json(corim: &Corim) -> Value {
    let mut o = Map::new();
    o.insert(
        "corim-id".into(),
        match &corim.id {
            CorimId::Text(t) => json!(t),
            CorimId::Uuid(u) => json!(uuid(u)),
            // Not a UUID: hex text, which reads back as text.
            CorimId::Bytes(b) => json!(hex::encode(b)),
        },
    );
    if let Some(p) = &corim.profile {
        o.insert("profile".into(), profile(p));
    }
    if let Some(v) = &corim.validity {
        o.insert("validity".into(), validity(v));
    }
    if let Some(es) = &corim.entities {
        o.insert("entities".into(), entities(es, names::CORIM_ROLES));
    }
    if let Some(rims) = &corim.dependent_rims {
        let rims = rims
            .iter()
            .map(|l| {
                let mut r = Map::new();
                r.insert("href".into(), json!(l.href));
                if let Some(t) = &l.thumbprint {
                    r.insert(
                        "thumbprint".into(),
                        Value::Array(t.iter().map(digest).collect()),
                    );
                }
                Value::Object(r)
            })
            .collect();
        o.insert("dependent-rims".into(), Value::Array(rims));
    }
    let (comids, others): (Vec<_>, Vec<_>) = corim
        .tags
        .iter()
        .partition(|t| matches!(t, ConciseTag::Comid(_)));
    if !others.is_empty() {
        let others = others
            .iter()
            .filter_map(|t| match t {
                ConciseTag::Unsupported { tag, bytes } => {
                    let mut e = minicbor::Encoder::new(Vec::new());
                    let _ = e
                        .tag(minicbor::data::Tag::new(*tag))
                        .and_then(|e| e.bytes(bytes));
                    Some(json!(STANDARD.encode(e.into_writer())))
                }
                ConciseTag::Comid(_) => None,
            })
            .collect();
        o.insert("tags".into(), Value::Array(others));
    }
    let comids = comids
        .iter()
        .filter_map(|t| match t {
            ConciseTag::Comid(c) => Some(comid_to_json(c)),
            ConciseTag::Unsupported { .. } => None,
        })
        .collect();
    o.insert("comids".into(), Value::Array(comids));
    Value::Object(o)
}

/// A CoMID as a cocli CoMID template.
pub fn comid_to_json(c: &Comid) -> Value {
    let mut o = Map::new();
    if let Some(l) = &c.language {
        o.insert("lang".into(), json!(l));
    }
    let mut ti = Map::new();
    ti.insert("id".into(), tag_id(&c.tag_identity.tag_id));
    if let Some(v) = c.tag_identity.tag_version {
        ti.insert("version".into(), json!(v));
    }
    o.insert("tag-identity".into(), Value::Object(ti));
    if let Some(es) = &c.entities {
        o.insert("entities".into(), entities(es, names::COMID_ROLES));
    }
    if let Some(links) = &c.linked_tags {
        let links = links
            .iter()
            .map(|l| {
                json!({
                    "target": tag_id(&l.linked_tag_id),
                    "rel": name(names::RELS, &l.rel).map_or_else(|| json!(l.rel), |n| json!(n)),
                })
            })
            .collect();
        o.insert("linked-tags".into(), Value::Array(links));
    }
    let t = &c.triples;
    let mut triples = Map::new();
    let values = |ts: &[ReferenceTriple]| {
        Value::Array(
            ts.iter()
                .map(|t| {
                    json!({
                        "environment": environment(&t.environment),
                        "measurements": t.measurements.iter().map(measurement).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    };
    let keys = |ts: &[KeyTriple]| Value::Array(ts.iter().map(key_triple).collect());
    if !t.reference_triples.is_empty() {
        triples.insert("reference-values".into(), values(&t.reference_triples));
    }
    if !t.endorsed_triples.is_empty() {
        triples.insert("endorsed-values".into(), values(&t.endorsed_triples));
    }
    if !t.identity_triples.is_empty() {
        triples.insert("dev-identity-keys".into(), keys(&t.identity_triples));
    }
    if !t.attest_key_triples.is_empty() {
        triples.insert(
            "attester-verification-keys".into(),
            keys(&t.attest_key_triples),
        );
    }
    raw_entries(&mut triples, &t.other);
    o.insert("triples".into(), Value::Object(triples));
    Value::Object(o)
}

fn raw_entries(o: &mut Map<String, Value>, raw: &[RawEntry]) {
    for e in raw {
        o.insert(
            e.key.to_string(),
            json!({ "cbor": STANDARD.encode(&e.value) }),
        );
    }
}

fn uuid(u: &[u8; 16]) -> String {
    TagId::Uuid(*u).to_string()
}

fn tag_id(t: &TagId) -> Value {
    match t {
        TagId::Text(s) => json!(s),
        TagId::Uuid(u) => json!(uuid(u)),
    }
}

fn profile(p: &Profile) -> Value {
    match p {
        Profile::Uri(u) => json!({"type": "uri", "value": u}),
        // The older plain string, which reads back as untagged text.
        Profile::Text(t) => json!(t),
        Profile::Oid(o) => match oid_to_dotted(o) {
            Some(d) => json!({"type": "oid", "value": d}),
            None => json!({"type": "oid", "value": format!("malformed OID {}", hex::encode(o))}),
        },
    }
}

/// Unix seconds as RFC 3339 text (the number itself when out of range),
/// as the templates write times.
pub fn rfc3339(t: i64) -> Value {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map_or_else(|| json!(t), Value::from)
}

fn validity(v: &Validity) -> Value {
    let mut o = Map::new();
    if let Some(b) = v.not_before {
        o.insert("not-before".into(), rfc3339(b));
    }
    o.insert("not-after".into(), rfc3339(v.not_after));
    Value::Object(o)
}

fn entities(es: &[Entity], table: &[(&'static str, u64)]) -> Value {
    Value::Array(
        es.iter()
            .map(|e| {
                let mut o = Map::new();
                o.insert("name".into(), json!(e.name));
                if let Some(r) = &e.reg_id {
                    o.insert("regid".into(), json!(r));
                }
                let roles = e
                    .roles
                    .iter()
                    .map(|r| name(table, r).map_or_else(|| json!(r), |n| json!(n)))
                    .collect();
                o.insert("roles".into(), Value::Array(roles));
                Value::Object(o)
            })
            .collect(),
    )
}

fn choice(ty: &str, value: Value) -> Value {
    json!({"type": ty, "value": value})
}

fn b64(b: &[u8]) -> Value {
    json!(STANDARD.encode(b))
}

fn other(tag: u64, value: &[u8]) -> Value {
    json!({"type": "cbor-tag", "tag": tag, "value": STANDARD.encode(value)})
}

fn oid(o: &[u8]) -> Value {
    // A malformed OID cannot be dotted; its octets under tag 111 can.
    oid_to_dotted(o).map_or_else(
        || other(vouch_corim::tags::OID, &bstr(o)),
        |d| choice("oid", json!(d)),
    )
}

/// The CBOR of a byte string.
fn bstr(b: &[u8]) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    let _ = e.bytes(b);
    e.into_writer()
}

fn environment(env: &Environment) -> Value {
    let mut o = Map::new();
    if let Some(c) = &env.class {
        o.insert("class".into(), class(c));
    }
    if let Some(i) = &env.instance {
        let v = match i {
            Instance::Ueid(b) => choice("ueid", b64(b)),
            Instance::Uuid(u) => choice("uuid", json!(uuid(u))),
            Instance::Bytes(b) => choice("bytes", b64(b)),
            Instance::Other { tag, value } => other(*tag, value),
        };
        o.insert("instance".into(), v);
    }
    if let Some(g) = &env.group {
        let v = match g {
            Group::Uuid(u) => choice("uuid", json!(uuid(u))),
            Group::Bytes(b) => choice("bytes", b64(b)),
            Group::Other { tag, value } => other(*tag, value),
        };
        o.insert("group".into(), v);
    }
    Value::Object(o)
}

fn class(c: &Class) -> Value {
    let mut o = Map::new();
    if let Some(id) = &c.class_id {
        let v = match id {
            ClassId::Bytes(b) => choice("bytes", b64(b)),
            ClassId::PsaImplId(b) if b.len() == 32 => choice("psa.impl-id", b64(b)),
            ClassId::PsaImplId(b) => other(vouch_corim::tags::PSA_IMPL_ID, &bstr(b)),
            ClassId::Uuid(u) => choice("uuid", json!(uuid(u))),
            ClassId::Oid(b) => oid(b),
            ClassId::Other { tag, value } => other(*tag, value),
        };
        o.insert("id".into(), v);
    }
    if let Some(v) = &c.vendor {
        o.insert("vendor".into(), json!(v));
    }
    if let Some(m) = &c.model {
        o.insert("model".into(), json!(m));
    }
    if let Some(l) = c.layer {
        o.insert("layer".into(), json!(l));
    }
    if let Some(i) = c.index {
        o.insert("index".into(), json!(i));
    }
    Value::Object(o)
}

fn key_triple(t: &KeyTriple) -> Value {
    let mut o = Map::new();
    o.insert("environment".into(), environment(&t.environment));
    o.insert(
        "verification-keys".into(),
        Value::Array(t.keys.iter().map(crypto_key).collect()),
    );
    if let Some(c) = &t.conditions {
        let mut cond = Map::new();
        if let Some(k) = &c.mkey {
            cond.insert("mkey".into(), mkey(k));
        }
        if let Some(keys) = &c.authorized_by {
            cond.insert(
                "authorized-by".into(),
                Value::Array(keys.iter().map(crypto_key).collect()),
            );
        }
        o.insert("conditions".into(), Value::Object(cond));
    }
    Value::Object(o)
}

fn measurement(m: &Measurement) -> Value {
    let mut o = Map::new();
    if let Some(k) = &m.key {
        o.insert("key".into(), mkey(k));
    }
    o.insert("value".into(), values(&m.values));
    if let Some(keys) = &m.authorized_by {
        o.insert(
            "authorized-by".into(),
            Value::Array(keys.iter().map(crypto_key).collect()),
        );
    }
    Value::Object(o)
}

fn mkey(k: &MeasurementKey) -> Value {
    match k {
        MeasurementKey::Text(t) => choice("string", json!(t)),
        MeasurementKey::Uint(n) => choice("uint", json!(n)),
        MeasurementKey::Uuid(u) => choice("uuid", json!(uuid(u))),
        MeasurementKey::Oid(b) => oid(b),
        MeasurementKey::PsaRefValId(r) => {
            let mut o = Map::new();
            if let Some(l) = &r.label {
                o.insert("label".into(), json!(l));
            }
            if let Some(v) = &r.version {
                o.insert("version".into(), json!(v));
            }
            if let Some(s) = &r.signer_id {
                o.insert("signer-id".into(), b64(s));
            }
            choice("psa.refval-id", Value::Object(o))
        }
        MeasurementKey::CcaPlatformConfigId(t) => choice("cca.platform-config-id", json!(t)),
        MeasurementKey::Other { tag, value } => other(*tag, value),
    }
}

fn values(v: &MeasurementValues) -> Value {
    let mut o = Map::new();
    if let Some(ver) = &v.version {
        let mut m = Map::new();
        m.insert("value".into(), json!(ver.version));
        match &ver.scheme {
            Some(VersionScheme::Code(c)) => {
                let n = name(names::VERSION_SCHEMES, c).map_or_else(|| json!(c), |n| json!(n));
                m.insert("scheme".into(), n);
            }
            Some(VersionScheme::Text(t)) => {
                m.insert("scheme".into(), json!(t));
            }
            None => {}
        }
        o.insert("version".into(), Value::Object(m));
    }
    if let Some(svn) = v.svn {
        let s = match svn {
            Svn::Exact(n) => choice("exact-value", json!(n)),
            Svn::Min(n) => choice("min-value", json!(n)),
        };
        o.insert("svn".into(), s);
    }
    if let Some(ds) = &v.digests {
        o.insert(
            "digests".into(),
            Value::Array(ds.iter().map(digest).collect()),
        );
    }
    if let Some(f) = &v.flags {
        let mut m = Map::new();
        for (code, set) in &f.0 {
            let key = name(names::FLAGS, code).map_or_else(|| code.to_string(), str::to_owned);
            m.insert(key, json!(set));
        }
        o.insert("flags".into(), Value::Object(m));
    }
    if let Some(r) = &v.raw_value {
        let r = match r {
            RawValue::Bytes(b) => choice("bytes", b64(b)),
            // An untagged raw value has no template form; it reads back
            // tagged, which means the same.
            RawValue::Untagged(b) => choice("bytes", b64(b)),
            RawValue::Masked { value, mask } => choice(
                "masked",
                json!({"value": STANDARD.encode(value), "mask": STANDARD.encode(mask)}),
            ),
        };
        o.insert("raw-value".into(), r);
    }
    if let Some(m) = &v.raw_value_mask {
        o.insert("raw-value-mask".into(), b64(m));
    }
    if let Some(m) = &v.mac_addr {
        let text: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
        o.insert("mac-addr".into(), json!(text.join(":")));
    }
    if let Some(ip) = &v.ip_addr {
        let text = match ip.len() {
            4 => <[u8; 4]>::try_from(ip.as_slice())
                .map(|a| std::net::Ipv4Addr::from(a).to_string())
                .ok(),
            16 => <[u8; 16]>::try_from(ip.as_slice())
                .map(|a| std::net::Ipv6Addr::from(a).to_string())
                .ok(),
            _ => None,
        };
        o.insert(
            "ip-addr".into(),
            json!(text.unwrap_or_else(|| format!("malformed {}", hex::encode(ip)))),
        );
    }
    if let Some(s) = &v.serial_number {
        o.insert("serial-number".into(), json!(s));
    }
    if let Some(u) = &v.ueid {
        o.insert("ueid".into(), b64(u));
    }
    if let Some(u) = &v.uuid {
        o.insert("uuid".into(), json!(uuid(u)));
    }
    if let Some(n) = &v.name {
        o.insert("name".into(), json!(n));
    }
    if let Some(keys) = &v.cryptokeys {
        o.insert(
            "cryptokeys".into(),
            Value::Array(keys.iter().map(crypto_key).collect()),
        );
    }
    if let Some(regs) = &v.integrity_registers {
        let mut m = Map::new();
        for r in regs {
            let (id, ty) = match &r.id {
                RegisterId::Index(n) => (n.to_string(), "uint"),
                RegisterId::Label(l) => (l.clone(), "text"),
            };
            m.insert(
                id,
                json!({"key-type": ty, "value": r.digests.iter().map(digest).collect::<Vec<_>>()}),
            );
        }
        o.insert("integrity-registers".into(), Value::Object(m));
    }
    raw_entries(&mut o, &v.other);
    Value::Object(o)
}

fn digest(d: &Digest) -> Value {
    let alg = match &d.alg {
        DigestAlg::Int(n) => json!(n),
        DigestAlg::Text(t) => json!(t),
    };
    json!([alg, URL_SAFE_NO_PAD.encode(&d.value)])
}

fn crypto_key(k: &CryptoKey) -> Value {
    match k {
        CryptoKey::PkixBase64Key(s) => choice("pkix-base64-key", json!(s)),
        CryptoKey::PkixBase64Cert(s) => choice("pkix-base64-cert", json!(s)),
        CryptoKey::PkixBase64CertPath(s) => choice("pkix-base64-cert-path", json!(s)),
        CryptoKey::Thumbprint(d) => choice("thumbprint", digest(d)),
        CryptoKey::CoseKey(raw) => choice("cose-key", b64(raw)),
        CryptoKey::CertThumbprint(d) => choice("cert-thumbprint", digest(d)),
        CryptoKey::Bytes(b) => choice("bytes", b64(b)),
        CryptoKey::CertPathThumbprint(d) => choice("cert-path-thumbprint", digest(d)),
        CryptoKey::PkixAsn1DerCert(b) => choice("pkix-asn1der-cert", b64(b)),
        CryptoKey::Other { tag, value } => other(*tag, value),
    }
}
