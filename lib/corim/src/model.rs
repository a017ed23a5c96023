//! The typed CoRIM / CoMID model.
//!
//! Field and variant names follow draft-ietf-rats-corim. Optional CDDL fields
//! are `Option`s so that a profile can tell "absent" from "present but
//! empty"; the decoder never invents defaults. Values this crate does not
//! interpret are kept as their encoded CBOR bytes (`value` fields of the
//! `Other` variants) so that the encoder can write them back unchanged.

/// CBOR tag numbers used by CoRIM, CoMID and the Veraison (Arm) profiles.
pub mod tags {
    /// Epoch-based date/time (RFC 8949).
    pub const EPOCH_TIME: u64 = 1;
    /// COSE_Sign1 (RFC 9052): a signed CoRIM.
    pub const COSE_SIGN1: u64 = 18;
    /// URI (RFC 8949).
    pub const URI: u64 = 32;
    /// UUID (RFC 9562 binary form).
    pub const UUID: u64 = 37;
    /// Object identifier, BER-encoded without the tag/length (RFC 9090).
    pub const OID: u64 = 111;
    /// Unsigned CoRIM (`tagged-unsigned-corim-map`).
    pub const UNSIGNED_CORIM: u64 = 501;
    /// CoSWID tag (`tagged-concise-swid-tag`).
    pub const COSWID: u64 = 505;
    /// CoMID tag (`tagged-concise-mid-tag`).
    pub const COMID: u64 = 506;
    /// CoTL / CoTS tag (`tagged-concise-tl-tag`).
    pub const COTL: u64 = 508;
    /// UEID (`tagged-ueid-type`).
    pub const UEID: u64 = 550;
    /// Exact security version number (`tagged-svn`).
    pub const SVN: u64 = 552;
    /// Minimum security version number (`tagged-min-svn`).
    pub const MIN_SVN: u64 = 553;
    /// PEM SubjectPublicKeyInfo text (`tagged-pkix-base64-key-type`).
    pub const PKIX_BASE64_KEY: u64 = 554;
    /// PEM certificate text (`tagged-pkix-base64-cert-type`).
    pub const PKIX_BASE64_CERT: u64 = 555;
    /// PEM certificate path text (`tagged-pkix-base64-cert-path-type`).
    pub const PKIX_BASE64_CERT_PATH: u64 = 556;
    /// Key thumbprint digest (`tagged-thumbprint-type`).
    pub const THUMBPRINT: u64 = 557;
    /// COSE_Key (`tagged-cose-key-type`).
    pub const COSE_KEY: u64 = 558;
    /// Certificate thumbprint digest (`tagged-cert-thumbprint-type`).
    pub const CERT_THUMBPRINT: u64 = 559;
    /// Opaque bytes (`tagged-bytes`).
    pub const BYTES: u64 = 560;
    /// Certificate path thumbprint digest (`tagged-cert-path-thumbprint-type`).
    pub const CERT_PATH_THUMBPRINT: u64 = 561;
    /// DER certificate (`tagged-pkix-asn1der-cert-type`).
    pub const PKIX_ASN1DER_CERT: u64 = 562;
    /// Raw value with a mask (`tagged-masked-raw-value`).
    pub const MASKED_RAW_VALUE: u64 = 563;
    /// PSA implementation ID class-id (legacy Veraison `psa.impl-id`).
    pub const PSA_IMPL_ID: u64 = 600;
    /// PSA reference value measurement key (legacy Veraison `psa.refval-id`).
    pub const PSA_REFVAL_ID: u64 = 601;
    /// CCA platform configuration measurement key (legacy Veraison).
    pub const CCA_PLATFORM_CONFIG_ID: u64 = 602;
}

/// Digest algorithm identifiers from the IANA "Named Information Hash
/// Algorithm" registry, as used in CoMID `digest` entries.
pub mod alg {
    /// SHA-256.
    pub const SHA256: i64 = 1;
    /// SHA-384.
    pub const SHA384: i64 = 7;
    /// SHA-512.
    pub const SHA512: i64 = 8;
}

/// An unsigned CoRIM (`corim-map`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corim {
    /// `corim-id` (key 0).
    pub id: CorimId,
    /// `tags` (key 1): the concise tags the manifest carries.
    pub tags: Vec<ConciseTag>,
    /// `dependent-rims` (key 2).
    pub dependent_rims: Option<Vec<Locator>>,
    /// `profile` (key 3).
    pub profile: Option<Profile>,
    /// `rim-validity` (key 4).
    pub validity: Option<Validity>,
    /// `entities` (key 5).
    pub entities: Option<Vec<Entity>>,
    /// Whether the map was wrapped in CBOR tag 501. The encoder writes the
    /// tag back only when this is set.
    pub was_tagged: bool,
}

impl Corim {
    /// Iterates over the CoMIDs among the manifest's tags.
    pub fn comids(&self) -> impl Iterator<Item = &Comid> {
        self.tags.iter().filter_map(|t| match t {
            ConciseTag::Comid(c) => Some(c),
            ConciseTag::Unsupported { .. } => None,
        })
    }
}

/// A CoRIM identifier (`$corim-id-type-choice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorimId {
    /// A text identifier.
    Text(String),
    /// A UUID: a 16-byte byte string, or tag 37 on input.
    Uuid([u8; 16]),
    /// A byte string of any other length (not allowed by the CDDL, but
    /// harmless to carry).
    Bytes(Vec<u8>),
}

impl std::fmt::Display for CorimId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CorimId::Text(t) => f.write_str(t),
            CorimId::Uuid(u) => write_uuid(f, u),
            CorimId::Bytes(b) => f.write_str(&hex::encode(b)),
        }
    }
}

/// Writes a UUID in its canonical hyphenated form.
pub(crate) fn write_uuid(f: &mut std::fmt::Formatter<'_>, u: &[u8; 16]) -> std::fmt::Result {
    let h = hex::encode(u);
    let (a, rest) = h.split_at(8);
    let (b, rest) = rest.split_at(4);
    let (c, rest) = rest.split_at(4);
    let (d, e) = rest.split_at(4);
    write!(f, "{a}-{b}-{c}-{d}-{e}")
}

/// One entry of the CoRIM `tags` array (`$concise-tag-type-choice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConciseTag {
    /// A CoMID (`#6.506(bstr .cbor concise-mid-tag)`).
    Comid(Comid),
    /// A tag this crate does not decode (CoSWID 505, CoTL 508, ...). `bytes`
    /// is the content of the byte string the tag wraps.
    Unsupported {
        /// The CBOR tag number.
        tag: u64,
        /// The wrapped byte string.
        bytes: Vec<u8>,
    },
}

/// A CoRIM profile identifier (`$profile-type-choice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    /// A URI (`#6.32(tstr)`), e.g. `tag:arm.com,2025:psa#1.0.0`.
    Uri(String),
    /// Untagged text, as written by legacy Veraison tools
    /// (`http://arm.com/psa/iot/1`).
    Text(String),
    /// An OID (`#6.111(bstr)`).
    Oid(Vec<u8>),
}

impl Profile {
    /// The profile as text: the URI or legacy text, or the OID in dotted
    /// form (`None` for an OID whose encoding is malformed).
    pub fn as_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Profile::Uri(s) | Profile::Text(s) => Some(std::borrow::Cow::Borrowed(s)),
            Profile::Oid(b) => oid_to_dotted(b).map(std::borrow::Cow::Owned),
        }
    }
}

/// Renders a BER-encoded OID body in dotted-decimal form.
pub fn oid_to_dotted(bytes: &[u8]) -> Option<String> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    let mut in_arc = false;
    for &b in bytes {
        if !in_arc && b == 0x80 {
            // A leading 0x80 is a non-minimal encoding.
            return None;
        }
        acc = acc.checked_mul(128)?.checked_add(u64::from(b & 0x7f))?;
        if b & 0x80 != 0 {
            in_arc = true;
        } else {
            arcs.push(acc);
            acc = 0;
            in_arc = false;
        }
    }
    if in_arc {
        return None;
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in rest {
        out.push('.');
        out.push_str(&arc.to_string());
    }
    Some(out)
}

/// `rim-validity` (`validity-map`). Times are seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// `not-before` (key 0).
    pub not_before: Option<i64>,
    /// `not-after` (key 1).
    pub not_after: i64,
}

/// A `corim-locator-map` (`dependent-rims` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locator {
    /// `href` (key 0): one or more URIs.
    pub href: Vec<String>,
    /// `thumbprint` (key 1): one or more digests.
    pub thumbprint: Option<Vec<Digest>>,
}

/// A CoRIM or CoMID entity (`corim-entity-map` / `comid-entity-map`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// `entity-name` (key 0).
    pub name: String,
    /// `reg-id` (key 1), a URI.
    pub reg_id: Option<String>,
    /// `role` (key 2): role codes (for a CoMID: 0 tag-creator, 1 creator,
    /// 2 maintainer; for a CoRIM: 1 manifest-creator, 2 manifest-signer).
    pub roles: Vec<u64>,
}

/// A CoMID (`concise-mid-tag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comid {
    /// `language` (key 0).
    pub language: Option<String>,
    /// `tag-identity` (key 1).
    pub tag_identity: TagIdentity,
    /// `entities` (key 2).
    pub entities: Option<Vec<Entity>>,
    /// `linked-tags` (key 3).
    pub linked_tags: Option<Vec<LinkedTag>>,
    /// `triples` (key 4).
    pub triples: Triples,
}

/// `tag-identity-map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagIdentity {
    /// `tag-id` (key 0).
    pub tag_id: TagId,
    /// `tag-version` (key 1); absent means version 0.
    pub tag_version: Option<u64>,
}

/// A CoMID tag identifier (`$tag-id-type-choice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagId {
    /// A text identifier.
    Text(String),
    /// A UUID (16-byte byte string, or tag 37 on input).
    Uuid([u8; 16]),
}

impl std::fmt::Display for TagId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TagId::Text(t) => f.write_str(t),
            TagId::Uuid(u) => write_uuid(f, u),
        }
    }
}

/// `linked-tag-map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedTag {
    /// `linked-tag-id` (key 0).
    pub linked_tag_id: TagId,
    /// `tag-rel` (key 1): 0 supplements, 1 replaces.
    pub rel: u64,
}

/// `triples-map`: the triples this crate models, plus the keys of the
/// triple kinds it skips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Triples {
    /// `reference-triples` (key 0).
    pub reference_triples: Vec<ReferenceTriple>,
    /// `endorsed-triples` (key 1); same shape as reference triples.
    pub endorsed_triples: Vec<ReferenceTriple>,
    /// `identity-triples` (key 2).
    pub identity_triples: Vec<KeyTriple>,
    /// `attest-key-triples` (key 3).
    pub attest_key_triples: Vec<KeyTriple>,
    /// Triple kinds present in the map but not modelled (4 dependency,
    /// 5 membership, 6 CoSWID, 8 conditional-endorsement-series,
    /// 10 conditional-endorsement, extensions), kept raw in input order. A
    /// profile that must not ignore them can reject the CoMID.
    pub other: Vec<RawEntry>,
}

/// A map entry this crate does not model: its integer key and the encoded
/// CBOR of its value. The encoder writes such entries after the modelled
/// ones; their keys must differ from the modelled keys of the same map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// The map key.
    pub key: i64,
    /// The value, as encoded CBOR.
    pub value: Vec<u8>,
}

impl Triples {
    /// Whether no triple at all was present (modelled or skipped).
    pub fn is_empty(&self) -> bool {
        self.reference_triples.is_empty()
            && self.endorsed_triples.is_empty()
            && self.identity_triples.is_empty()
            && self.attest_key_triples.is_empty()
            && self.other.is_empty()
    }
}

/// A reference-value or endorsed-value triple: an environment and the
/// measurements that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceTriple {
    /// The target environment.
    pub environment: Environment,
    /// The measurements (`[ + measurement-map ]`).
    pub measurements: Vec<Measurement>,
}

/// An identity or attestation-key triple: an environment and its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTriple {
    /// The environment the keys belong to.
    pub environment: Environment,
    /// The verification keys (`[ + $crypto-key-type-choice ]`).
    pub keys: Vec<CryptoKey>,
    /// The optional third element (`conditions`).
    pub conditions: Option<KeyConditions>,
}

/// `conditions` of a key triple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyConditions {
    /// `mkey` (key 0).
    pub mkey: Option<MeasurementKey>,
    /// `authorized-by` (key 1).
    pub authorized_by: Option<Vec<CryptoKey>>,
}

/// `environment-map`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `class` (key 0).
    pub class: Option<Class>,
    /// `instance` (key 1).
    pub instance: Option<Instance>,
    /// `group` (key 2).
    pub group: Option<Group>,
}

/// `class-map`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Class {
    /// `class-id` (key 0).
    pub class_id: Option<ClassId>,
    /// `vendor` (key 1).
    pub vendor: Option<String>,
    /// `model` (key 2).
    pub model: Option<String>,
    /// `layer` (key 3).
    pub layer: Option<u64>,
    /// `index` (key 4).
    pub index: Option<u64>,
}

/// `$class-id-type-choice`, plus the legacy Veraison PSA implementation ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassId {
    /// `#6.560(bytes)`: the current Arm profiles carry the implementation ID
    /// here.
    Bytes(Vec<u8>),
    /// `#6.600(bytes)`: legacy Veraison `psa.impl-id`.
    PsaImplId(Vec<u8>),
    /// `#6.37(bytes .size 16)`.
    Uuid([u8; 16]),
    /// `#6.111(bytes)`.
    Oid(Vec<u8>),
    /// Any other tag; `value` is the encoded tag content.
    Other {
        /// The CBOR tag number.
        tag: u64,
        /// The encoded CBOR item under the tag.
        value: Vec<u8>,
    },
}

impl ClassId {
    /// A short name for the variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ClassId::Bytes(_) => "bytes",
            ClassId::PsaImplId(_) => "psa.impl-id",
            ClassId::Uuid(_) => "uuid",
            ClassId::Oid(_) => "oid",
            ClassId::Other { .. } => "other",
        }
    }
}

/// `$instance-id-type-choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instance {
    /// `#6.550(bytes)`.
    Ueid(Vec<u8>),
    /// `#6.37(bytes .size 16)`.
    Uuid([u8; 16]),
    /// `#6.560(bytes)`.
    Bytes(Vec<u8>),
    /// Any other tag (e.g. a crypto key as instance ID); `value` is the
    /// encoded tag content.
    Other {
        /// The CBOR tag number.
        tag: u64,
        /// The encoded CBOR item under the tag.
        value: Vec<u8>,
    },
}

impl Instance {
    /// A short name for the variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Instance::Ueid(_) => "ueid",
            Instance::Uuid(_) => "uuid",
            Instance::Bytes(_) => "bytes",
            Instance::Other { .. } => "other",
        }
    }
}

/// `$group-id-type-choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    /// `#6.37(bytes .size 16)`.
    Uuid([u8; 16]),
    /// `#6.560(bytes)`.
    Bytes(Vec<u8>),
    /// Any other tag; `value` is the encoded tag content.
    Other {
        /// The CBOR tag number.
        tag: u64,
        /// The encoded CBOR item under the tag.
        value: Vec<u8>,
    },
}

/// `measurement-map`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measurement {
    /// `mkey` (key 0).
    pub key: Option<MeasurementKey>,
    /// `mval` (key 1).
    pub values: MeasurementValues,
    /// `authorized-by` (key 2).
    pub authorized_by: Option<Vec<CryptoKey>>,
}

/// `$measured-element-type-choice`, plus the legacy Veraison keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeasurementKey {
    /// Text, e.g. `psa.software-component`.
    Text(String),
    /// An unsigned integer.
    Uint(u64),
    /// `#6.37(bytes .size 16)`.
    Uuid([u8; 16]),
    /// `#6.111(bytes)`.
    Oid(Vec<u8>),
    /// `#6.601({...})`: legacy Veraison `psa.refval-id`.
    PsaRefValId(PsaRefValId),
    /// `#6.602(tstr)`: legacy Veraison CCA platform-config label.
    CcaPlatformConfigId(String),
    /// Any other tag; `value` is the encoded tag content.
    Other {
        /// The CBOR tag number.
        tag: u64,
        /// The encoded CBOR item under the tag.
        value: Vec<u8>,
    },
}

impl MeasurementKey {
    /// A short name for the variant, for error messages (`string`, `uint`,
    /// ... as Veraison names them).
    pub fn kind(&self) -> &'static str {
        match self {
            MeasurementKey::Text(_) => "string",
            MeasurementKey::Uint(_) => "uint",
            MeasurementKey::Uuid(_) => "uuid",
            MeasurementKey::Oid(_) => "oid",
            MeasurementKey::PsaRefValId(_) => "psa.refval-id",
            MeasurementKey::CcaPlatformConfigId(_) => "cca.platform-config-id",
            MeasurementKey::Other { .. } => "other",
        }
    }
}

/// Legacy Veraison `psa.refval-id` (`#6.601`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PsaRefValId {
    /// Measurement type (key 1), e.g. `BL`.
    pub label: Option<String>,
    /// Version (key 4).
    pub version: Option<String>,
    /// Signer ID (key 5).
    pub signer_id: Option<Vec<u8>>,
}

/// `measurement-values-map`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeasurementValues {
    /// `version` (key 0).
    pub version: Option<Version>,
    /// `svn` (key 1).
    pub svn: Option<Svn>,
    /// `digests` (key 2).
    pub digests: Option<Vec<Digest>>,
    /// `flags` (key 3).
    pub flags: Option<Flags>,
    /// `raw-value` (key 4).
    pub raw_value: Option<RawValue>,
    /// `raw-value-mask` (key 5, deprecated in favour of masked raw values).
    pub raw_value_mask: Option<Vec<u8>>,
    /// `mac-addr` (key 6).
    pub mac_addr: Option<Vec<u8>>,
    /// `ip-addr` (key 7).
    pub ip_addr: Option<Vec<u8>>,
    /// `serial-number` (key 8).
    pub serial_number: Option<String>,
    /// `ueid` (key 9).
    pub ueid: Option<Vec<u8>>,
    /// `uuid` (key 10).
    pub uuid: Option<[u8; 16]>,
    /// `name` (key 11).
    pub name: Option<String>,
    /// `cryptokeys` (key 13).
    pub cryptokeys: Option<Vec<CryptoKey>>,
    /// `integrity-registers` (key 14), in input order.
    pub integrity_registers: Option<Vec<IntegrityRegister>>,
    /// Entries present in the map but not modelled (e.g. 15 int-range,
    /// profile extensions), kept raw in input order.
    pub other: Vec<RawEntry>,
}

/// `version-map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// `version` (key 0).
    pub version: String,
    /// `version-scheme` (key 1).
    pub scheme: Option<VersionScheme>,
}

/// `$version-scheme`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionScheme {
    /// A registered scheme code (e.g. 16384 semver).
    Code(i64),
    /// A text scheme name.
    Text(String),
}

/// `svn-type-choice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Svn {
    /// An exact SVN (`#6.552(uint)` or an untagged uint).
    Exact(u64),
    /// A minimum SVN (`#6.553(uint)`).
    Min(u64),
}

/// A `digest`: `[ alg, value ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The hash algorithm.
    pub alg: DigestAlg,
    /// The digest bytes.
    pub value: Vec<u8>,
}

/// A digest algorithm: an IANA named-information code or a text name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestAlg {
    /// A numeric code (see [`alg`]).
    Int(i64),
    /// A text name.
    Text(String),
}

/// `flags-map`: flag code to value, in input order (0 is-configured,
/// 1 is-secure, 2 is-recovery, 3 is-debug, 4 is-replay-protected,
/// 5 is-integrity-protected, 6 is-runtime-meas, 7 is-immutable, 8 is-tcb,
/// 9 is-confidentiality-protected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags(pub Vec<(i64, bool)>);

impl Flags {
    /// The value of one flag, if set.
    pub fn get(&self, code: i64) -> Option<bool> {
        self.0.iter().find(|(c, _)| *c == code).map(|(_, v)| *v)
    }
}

/// `$raw-value-type-choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    /// `#6.560(bytes)`.
    Bytes(Vec<u8>),
    /// An untagged byte string (accepted for compatibility).
    Untagged(Vec<u8>),
    /// `#6.563([value, mask])`.
    Masked {
        /// The value.
        value: Vec<u8>,
        /// The mask.
        mask: Vec<u8>,
    },
}

impl RawValue {
    /// The value bytes, whatever the encoding.
    pub fn bytes(&self) -> &[u8] {
        match self {
            RawValue::Bytes(b) | RawValue::Untagged(b) => b,
            RawValue::Masked { value, .. } => value,
        }
    }
}

/// One `integrity-registers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrityRegister {
    /// The register identifier.
    pub id: RegisterId,
    /// The register's digests.
    pub digests: Vec<Digest>,
}

/// `integrity-register-id-type-choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterId {
    /// A numeric index.
    Index(u64),
    /// A text label (e.g. `rim`, `rem0`).
    Label(String),
}

/// `$crypto-key-type-choice`. The variant is kept so a profile can require
/// one form ("must be pkix-base64-key, got pkix-base64-cert").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoKey {
    /// `#6.554(tstr)`: PEM SubjectPublicKeyInfo.
    PkixBase64Key(String),
    /// `#6.555(tstr)`: PEM certificate.
    PkixBase64Cert(String),
    /// `#6.556(tstr)`: PEM certificate path.
    PkixBase64CertPath(String),
    /// `#6.557(digest)`: key thumbprint.
    Thumbprint(Digest),
    /// `#6.558(COSE_Key)`: the encoded COSE_Key map.
    CoseKey(Vec<u8>),
    /// `#6.559(digest)`: certificate thumbprint.
    CertThumbprint(Digest),
    /// `#6.560(bytes)`: opaque bytes (PSA / CCA signer IDs).
    Bytes(Vec<u8>),
    /// `#6.561(digest)`: certificate path thumbprint.
    CertPathThumbprint(Digest),
    /// `#6.562(bytes)`: DER certificate.
    PkixAsn1DerCert(Vec<u8>),
    /// Any other tag; `value` is the encoded tag content.
    Other {
        /// The CBOR tag number.
        tag: u64,
        /// The encoded CBOR item under the tag.
        value: Vec<u8>,
    },
}

impl CryptoKey {
    /// The CoMID type name of the variant (`pkix-base64-key`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            CryptoKey::PkixBase64Key(_) => "pkix-base64-key",
            CryptoKey::PkixBase64Cert(_) => "pkix-base64-cert",
            CryptoKey::PkixBase64CertPath(_) => "pkix-base64-cert-path",
            CryptoKey::Thumbprint(_) => "key-thumbprint",
            CryptoKey::CoseKey(_) => "cose-key",
            CryptoKey::CertThumbprint(_) => "cert-thumbprint",
            CryptoKey::Bytes(_) => "bytes",
            CryptoKey::CertPathThumbprint(_) => "cert-path-thumbprint",
            CryptoKey::PkixAsn1DerCert(_) => "pkix-asn1der-cert",
            CryptoKey::Other { .. } => "other",
        }
    }

    /// The CBOR tag number the variant is encoded with.
    pub fn tag(&self) -> u64 {
        match self {
            CryptoKey::PkixBase64Key(_) => tags::PKIX_BASE64_KEY,
            CryptoKey::PkixBase64Cert(_) => tags::PKIX_BASE64_CERT,
            CryptoKey::PkixBase64CertPath(_) => tags::PKIX_BASE64_CERT_PATH,
            CryptoKey::Thumbprint(_) => tags::THUMBPRINT,
            CryptoKey::CoseKey(_) => tags::COSE_KEY,
            CryptoKey::CertThumbprint(_) => tags::CERT_THUMBPRINT,
            CryptoKey::Bytes(_) => tags::BYTES,
            CryptoKey::CertPathThumbprint(_) => tags::CERT_PATH_THUMBPRINT,
            CryptoKey::PkixAsn1DerCert(_) => tags::PKIX_ASN1DER_CERT,
            CryptoKey::Other { tag, .. } => *tag,
        }
    }
}
