//! Deterministic encoder.
//!
//! Writing into a `Vec` cannot fail, so the encoder uses a tiny infallible
//! CBOR writer rather than threading impossible errors through every call.
//! Output is definite-length with map keys in ascending order (RFC 8949
//! core deterministic order for the small unsigned keys CoRIM uses); the
//! same model always yields the same bytes. Integrity registers and flags
//! are written in model order.

use crate::model::*;

/// Minimal CBOR writer.
struct W(Vec<u8>);

impl W {
    fn head(&mut self, major: u8, n: u64) {
        let m = major << 5;
        match n {
            0..=23 => self.0.push(m | n as u8),
            24..=0xff => self.0.extend_from_slice(&[m | 24, n as u8]),
            0x100..=0xffff => {
                self.0.push(m | 25);
                self.0.extend_from_slice(&(n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(m | 26);
                self.0.extend_from_slice(&(n as u32).to_be_bytes());
            }
            _ => {
                self.0.push(m | 27);
                self.0.extend_from_slice(&n.to_be_bytes());
            }
        }
    }

    fn uint(&mut self, n: u64) {
        self.head(0, n);
    }

    fn int(&mut self, n: i64) {
        if n >= 0 {
            self.head(0, n as u64);
        } else {
            // CBOR negative integers carry -1 - n, which is !n in two's complement.
            self.head(1, !n as u64);
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        self.head(2, b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn text(&mut self, s: &str) {
        self.head(3, s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn array(&mut self, n: usize) {
        self.head(4, n as u64);
    }

    fn map(&mut self, n: usize) {
        self.head(5, n as u64);
    }

    fn tag(&mut self, t: u64) {
        self.head(6, t);
    }

    fn bool(&mut self, b: bool) {
        self.0.push(if b { 0xf5 } else { 0xf4 });
    }

    /// Appends an already-encoded item.
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

/// Counts the `Some`s among optional map entries.
fn present(flags: &[bool]) -> usize {
    flags.iter().filter(|b| **b).count()
}

impl Corim {
    /// Encodes the CoRIM: `#6.501(corim-map)` when [`Corim::was_tagged`] is
    /// set, otherwise the bare map. CoMIDs are written as `#6.506(bstr)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(256));
        if self.was_tagged {
            w.tag(tags::UNSIGNED_CORIM);
        }
        w.map(
            2 + present(&[
                self.dependent_rims.is_some(),
                self.profile.is_some(),
                self.validity.is_some(),
                self.entities.is_some(),
            ]),
        );
        w.uint(0);
        match &self.id {
            CorimId::Text(t) => w.text(t),
            CorimId::Uuid(u) => w.bytes(u),
            CorimId::Bytes(b) => w.bytes(b),
        }
        w.uint(1);
        w.array(self.tags.len());
        for t in &self.tags {
            match t {
                ConciseTag::Comid(c) => {
                    w.tag(tags::COMID);
                    w.bytes(&c.encode());
                }
                ConciseTag::Unsupported { tag, bytes } => {
                    w.tag(*tag);
                    w.bytes(bytes);
                }
            }
        }
        if let Some(rims) = &self.dependent_rims {
            w.uint(2);
            w.array(rims.len());
            for l in rims {
                w.map(1 + present(&[l.thumbprint.is_some()]));
                w.uint(0);
                uris(&mut w, &l.href);
                if let Some(t) = &l.thumbprint {
                    w.uint(1);
                    w.array(t.len());
                    for d in t {
                        digest(&mut w, d);
                    }
                }
            }
        }
        if let Some(p) = &self.profile {
            w.uint(3);
            match p {
                Profile::Uri(u) => {
                    w.tag(tags::URI);
                    w.text(u);
                }
                Profile::Text(t) => w.text(t),
                Profile::Oid(o) => {
                    w.tag(tags::OID);
                    w.bytes(o);
                }
            }
        }
        if let Some(v) = &self.validity {
            w.uint(4);
            w.map(1 + present(&[v.not_before.is_some()]));
            if let Some(nb) = v.not_before {
                w.uint(0);
                w.tag(tags::EPOCH_TIME);
                w.int(nb);
            }
            w.uint(1);
            w.tag(tags::EPOCH_TIME);
            w.int(v.not_after);
        }
        if let Some(e) = &self.entities {
            w.uint(5);
            entities(&mut w, e);
        }
        w.0
    }
}

impl Comid {
    /// Encodes the bare `concise-mid-tag` map (without tag 506), as carried
    /// inside a CoRIM's `#6.506(bstr)`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(128));
        comid(&mut w, self);
        w.0
    }
}

fn uris(w: &mut W, href: &[String]) {
    // one-or-more: a single URI is written bare.
    if let [only] = href {
        w.tag(tags::URI);
        w.text(only);
        return;
    }
    w.array(href.len());
    for h in href {
        w.tag(tags::URI);
        w.text(h);
    }
}

fn entities(w: &mut W, es: &[Entity]) {
    w.array(es.len());
    for e in es {
        w.map(2 + present(&[e.reg_id.is_some()]));
        w.uint(0);
        w.text(&e.name);
        if let Some(r) = &e.reg_id {
            w.uint(1);
            w.tag(tags::URI);
            w.text(r);
        }
        w.uint(2);
        w.array(e.roles.len());
        for r in &e.roles {
            w.uint(*r);
        }
    }
}

fn tag_id(w: &mut W, id: &TagId) {
    match id {
        TagId::Text(t) => w.text(t),
        TagId::Uuid(u) => w.bytes(u),
    }
}

fn comid(w: &mut W, c: &Comid) {
    w.map(
        2 + present(&[
            c.language.is_some(),
            c.entities.is_some(),
            c.linked_tags.is_some(),
        ]),
    );
    if let Some(l) = &c.language {
        w.uint(0);
        w.text(l);
    }
    w.uint(1);
    w.map(1 + present(&[c.tag_identity.tag_version.is_some()]));
    w.uint(0);
    tag_id(w, &c.tag_identity.tag_id);
    if let Some(v) = c.tag_identity.tag_version {
        w.uint(1);
        w.uint(v);
    }
    if let Some(e) = &c.entities {
        w.uint(2);
        entities(w, e);
    }
    if let Some(lt) = &c.linked_tags {
        w.uint(3);
        w.array(lt.len());
        for l in lt {
            w.map(2);
            w.uint(0);
            tag_id(w, &l.linked_tag_id);
            w.uint(1);
            w.uint(l.rel);
        }
    }
    w.uint(4);
    triples(w, &c.triples);
}

fn triples(w: &mut W, t: &Triples) {
    w.map(
        t.other.len()
            + present(&[
                !t.reference_triples.is_empty(),
                !t.endorsed_triples.is_empty(),
                !t.identity_triples.is_empty(),
                !t.attest_key_triples.is_empty(),
            ]),
    );
    for (key, list) in [(0, &t.reference_triples), (1, &t.endorsed_triples)] {
        if list.is_empty() {
            continue;
        }
        w.uint(key);
        w.array(list.len());
        for rt in list {
            w.array(2);
            environment(w, &rt.environment);
            w.array(rt.measurements.len());
            for m in &rt.measurements {
                measurement(w, m);
            }
        }
    }
    for (key, list) in [(2, &t.identity_triples), (3, &t.attest_key_triples)] {
        if list.is_empty() {
            continue;
        }
        w.uint(key);
        w.array(list.len());
        for kt in list {
            w.array(2 + present(&[kt.conditions.is_some()]));
            environment(w, &kt.environment);
            crypto_keys(w, &kt.keys);
            if let Some(c) = &kt.conditions {
                w.map(present(&[c.mkey.is_some(), c.authorized_by.is_some()]));
                if let Some(k) = &c.mkey {
                    w.uint(0);
                    measurement_key(w, k);
                }
                if let Some(a) = &c.authorized_by {
                    w.uint(1);
                    crypto_keys(w, a);
                }
            }
        }
    }
    raw_entries(w, &t.other);
}

fn raw_entries(w: &mut W, entries: &[RawEntry]) {
    for e in entries {
        w.int(e.key);
        w.raw(&e.value);
    }
}

fn environment(w: &mut W, e: &Environment) {
    w.map(present(&[
        e.class.is_some(),
        e.instance.is_some(),
        e.group.is_some(),
    ]));
    if let Some(c) = &e.class {
        w.uint(0);
        w.map(present(&[
            c.class_id.is_some(),
            c.vendor.is_some(),
            c.model.is_some(),
            c.layer.is_some(),
            c.index.is_some(),
        ]));
        if let Some(id) = &c.class_id {
            w.uint(0);
            match id {
                ClassId::Bytes(b) => tagged_bytes(w, tags::BYTES, b),
                ClassId::PsaImplId(b) => tagged_bytes(w, tags::PSA_IMPL_ID, b),
                ClassId::Uuid(u) => tagged_bytes(w, tags::UUID, u),
                ClassId::Oid(o) => tagged_bytes(w, tags::OID, o),
                ClassId::Other { tag, value } => tagged_raw(w, *tag, value),
            }
        }
        if let Some(v) = &c.vendor {
            w.uint(1);
            w.text(v);
        }
        if let Some(m) = &c.model {
            w.uint(2);
            w.text(m);
        }
        if let Some(l) = c.layer {
            w.uint(3);
            w.uint(l);
        }
        if let Some(i) = c.index {
            w.uint(4);
            w.uint(i);
        }
    }
    if let Some(i) = &e.instance {
        w.uint(1);
        match i {
            Instance::Ueid(b) => tagged_bytes(w, tags::UEID, b),
            Instance::Uuid(u) => tagged_bytes(w, tags::UUID, u),
            Instance::Bytes(b) => tagged_bytes(w, tags::BYTES, b),
            Instance::Other { tag, value } => tagged_raw(w, *tag, value),
        }
    }
    if let Some(g) = &e.group {
        w.uint(2);
        match g {
            Group::Uuid(u) => tagged_bytes(w, tags::UUID, u),
            Group::Bytes(b) => tagged_bytes(w, tags::BYTES, b),
            Group::Other { tag, value } => tagged_raw(w, *tag, value),
        }
    }
}

fn tagged_bytes(w: &mut W, tag: u64, b: &[u8]) {
    w.tag(tag);
    w.bytes(b);
}

fn tagged_raw(w: &mut W, tag: u64, value: &[u8]) {
    w.tag(tag);
    w.raw(value);
}

fn measurement(w: &mut W, m: &Measurement) {
    w.map(1 + present(&[m.key.is_some(), m.authorized_by.is_some()]));
    if let Some(k) = &m.key {
        w.uint(0);
        measurement_key(w, k);
    }
    w.uint(1);
    values(w, &m.values);
    if let Some(a) = &m.authorized_by {
        w.uint(2);
        crypto_keys(w, a);
    }
}

fn measurement_key(w: &mut W, k: &MeasurementKey) {
    match k {
        MeasurementKey::Text(t) => w.text(t),
        MeasurementKey::Uint(n) => w.uint(*n),
        MeasurementKey::Uuid(u) => tagged_bytes(w, tags::UUID, u),
        MeasurementKey::Oid(o) => tagged_bytes(w, tags::OID, o),
        MeasurementKey::PsaRefValId(r) => {
            w.tag(tags::PSA_REFVAL_ID);
            w.map(present(&[
                r.label.is_some(),
                r.version.is_some(),
                r.signer_id.is_some(),
            ]));
            if let Some(l) = &r.label {
                w.uint(1);
                w.text(l);
            }
            if let Some(v) = &r.version {
                w.uint(4);
                w.text(v);
            }
            if let Some(s) = &r.signer_id {
                w.uint(5);
                w.bytes(s);
            }
        }
        MeasurementKey::CcaPlatformConfigId(t) => {
            w.tag(tags::CCA_PLATFORM_CONFIG_ID);
            w.text(t);
        }
        MeasurementKey::Other { tag, value } => tagged_raw(w, *tag, value),
    }
}

fn values(w: &mut W, v: &MeasurementValues) {
    w.map(
        v.other.len()
            + present(&[
                v.version.is_some(),
                v.svn.is_some(),
                v.digests.is_some(),
                v.flags.is_some(),
                v.raw_value.is_some(),
                v.raw_value_mask.is_some(),
                v.mac_addr.is_some(),
                v.ip_addr.is_some(),
                v.serial_number.is_some(),
                v.ueid.is_some(),
                v.uuid.is_some(),
                v.name.is_some(),
                v.cryptokeys.is_some(),
                v.integrity_registers.is_some(),
            ]),
    );
    if let Some(ver) = &v.version {
        w.uint(0);
        w.map(1 + present(&[ver.scheme.is_some()]));
        w.uint(0);
        w.text(&ver.version);
        if let Some(s) = &ver.scheme {
            w.uint(1);
            match s {
                VersionScheme::Code(c) => w.int(*c),
                VersionScheme::Text(t) => w.text(t),
            }
        }
    }
    if let Some(svn) = v.svn {
        w.uint(1);
        match svn {
            Svn::Exact(n) => {
                w.tag(tags::SVN);
                w.uint(n);
            }
            Svn::Min(n) => {
                w.tag(tags::MIN_SVN);
                w.uint(n);
            }
        }
    }
    if let Some(d) = &v.digests {
        w.uint(2);
        digests(w, d);
    }
    if let Some(f) = &v.flags {
        w.uint(3);
        w.map(f.0.len());
        for (code, value) in &f.0 {
            w.int(*code);
            w.bool(*value);
        }
    }
    if let Some(r) = &v.raw_value {
        w.uint(4);
        match r {
            RawValue::Bytes(b) => tagged_bytes(w, tags::BYTES, b),
            RawValue::Untagged(b) => w.bytes(b),
            RawValue::Masked { value, mask } => {
                w.tag(tags::MASKED_RAW_VALUE);
                w.array(2);
                w.bytes(value);
                w.bytes(mask);
            }
        }
    }
    let plain_bytes = [(5, &v.raw_value_mask), (6, &v.mac_addr), (7, &v.ip_addr)];
    for (key, b) in plain_bytes {
        if let Some(b) = b {
            w.uint(key);
            w.bytes(b);
        }
    }
    if let Some(s) = &v.serial_number {
        w.uint(8);
        w.text(s);
    }
    if let Some(u) = &v.ueid {
        w.uint(9);
        w.bytes(u);
    }
    if let Some(u) = &v.uuid {
        w.uint(10);
        w.bytes(u);
    }
    if let Some(n) = &v.name {
        w.uint(11);
        w.text(n);
    }
    if let Some(k) = &v.cryptokeys {
        w.uint(13);
        crypto_keys(w, k);
    }
    if let Some(regs) = &v.integrity_registers {
        w.uint(14);
        w.map(regs.len());
        for r in regs {
            match &r.id {
                RegisterId::Index(i) => w.uint(*i),
                RegisterId::Label(l) => w.text(l),
            }
            digests(w, &r.digests);
        }
    }
    raw_entries(w, &v.other);
}

fn digests(w: &mut W, ds: &[Digest]) {
    w.array(ds.len());
    for d in ds {
        digest(w, d);
    }
}

fn digest(w: &mut W, d: &Digest) {
    w.array(2);
    match &d.alg {
        DigestAlg::Int(a) => w.int(*a),
        DigestAlg::Text(t) => w.text(t),
    }
    w.bytes(&d.value);
}

fn crypto_keys(w: &mut W, keys: &[CryptoKey]) {
    w.array(keys.len());
    for k in keys {
        w.tag(k.tag());
        match k {
            CryptoKey::PkixBase64Key(t)
            | CryptoKey::PkixBase64Cert(t)
            | CryptoKey::PkixBase64CertPath(t) => w.text(t),
            CryptoKey::Thumbprint(d)
            | CryptoKey::CertThumbprint(d)
            | CryptoKey::CertPathThumbprint(d) => digest(w, d),
            CryptoKey::Bytes(b) | CryptoKey::PkixAsn1DerCert(b) => w.bytes(b),
            CryptoKey::CoseKey(raw) | CryptoKey::Other { value: raw, .. } => w.raw(raw),
        }
    }
}
