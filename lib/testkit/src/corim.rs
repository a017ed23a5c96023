//! Mints PSA endorsement CoRIMs (trust anchors and reference values) in
//! either of the encodings Veraison accepts.
//!
//! - [`PsaCorimEncoding::Current`] (Veraison since 2026, profile
//!   `tag:arm.com,2025:psa#1.0.0`): class-id `#6.560(impl-id)`, instance
//!   `#6.550(UEID)`, TA key `#6.554(PEM)`, reference values keyed by the
//!   text `psa.software-component` with `name`, `digests`, optional
//!   `version` and `cryptokeys [#6.560(signer-id)]`.
//! - [`PsaCorimEncoding::Legacy`] (profile `http://arm.com/psa/iot/1` as
//!   untagged text): class-id `#6.600(impl-id)`, reference values keyed by
//!   `#6.601({1: type, 4: version, 5: signer-id})` with only `digests`.
//!
//! Both follow the layout of Veraison's own files: one CoMID holding a
//! reference triple per implementation ID, one CoMID holding one
//! attestation-key triple per device.
//!
//! ```
//! use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
//!
//! let impl_id = [7u8; 32];
//! let mut instance_id = [9u8; 33];
//! instance_id[0] = 0x01;
//! let pem = "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----";
//! let bytes = PsaCorim::new(PsaCorimEncoding::Current)
//!     .id("my-corim")
//!     .trust_anchor(impl_id, instance_id, pem)
//!     .reference_value(
//!         impl_id,
//!         PsaRefValue::new("BL", vec![0x11; 32], vec![0x22; 32]).version("1.0.0"),
//!     )
//!     .build();
//! let corim = vouch_corim::decode(&bytes).unwrap();
//! assert_eq!(corim.comids().count(), 2);
//! ```

use vouch_corim::{
    Class, ClassId, Comid, ConciseTag, Corim, CorimId, CryptoKey, Digest, DigestAlg, Entity,
    Environment, Instance, KeyTriple, Measurement, MeasurementKey, MeasurementValues, Profile,
    PsaRefValId, ReferenceTriple, TagId, TagIdentity, Triples, Validity, Version, alg,
};

/// CoRIM profile of the current Veraison PSA encoding.
pub const PSA_PROFILE_CURRENT: &str = "tag:arm.com,2025:psa#1.0.0";
/// CoRIM profile of the legacy Veraison PSA encoding.
pub const PSA_PROFILE_LEGACY: &str = "http://arm.com/psa/iot/1";
/// Measurement key of PSA reference values in the current encoding.
pub const PSA_SW_COMPONENT_MKEY: &str = "psa.software-component";

/// Which Veraison encoding to mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsaCorimEncoding {
    /// `tag:arm.com,2025:psa#1.0.0` (tagged-bytes class-id, text mkeys).
    Current,
    /// `http://arm.com/psa/iot/1` (`psa.impl-id` class-id, `psa.refval-id`
    /// mkeys).
    Legacy,
}

impl PsaCorimEncoding {
    /// The CoRIM profile string of this encoding.
    pub fn profile(self) -> &'static str {
        match self {
            PsaCorimEncoding::Current => PSA_PROFILE_CURRENT,
            PsaCorimEncoding::Legacy => PSA_PROFILE_LEGACY,
        }
    }

    /// The provisioning media type Veraison expects for this encoding.
    pub fn media_type(self) -> &'static str {
        match self {
            PsaCorimEncoding::Current => {
                "application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\""
            }
            PsaCorimEncoding::Legacy => {
                "application/corim-unsigned+cbor; profile=\"http://arm.com/psa/iot/1\""
            }
        }
    }
}

/// One PSA software-component reference value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsaRefValue {
    /// Measurement type (`BL`, `PRoT`, ...).
    pub mtype: String,
    /// Component version, if the reference value pins one.
    pub version: Option<String>,
    /// Signer ID (hash of the signing key), 32, 48 or 64 bytes.
    pub signer_id: Vec<u8>,
    /// Measurement value; its length selects SHA-256 / SHA-384 / SHA-512.
    pub digest: Vec<u8>,
}

impl PsaRefValue {
    /// A reference value without a version.
    pub fn new(mtype: impl Into<String>, signer_id: Vec<u8>, digest: Vec<u8>) -> Self {
        PsaRefValue {
            mtype: mtype.into(),
            version: None,
            signer_id,
            digest,
        }
    }

    /// Sets the version.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The reference value that endorses `component` as a device reports
    /// it (with its version, when it has one); `None` when the component
    /// lacks a type, digest or signer ID, which every reference value needs.
    pub fn endorsing(component: &crate::psa::SwComponent) -> Option<Self> {
        let rv = PsaRefValue::new(
            component.measurement_type.clone()?,
            component.signer_id.clone()?,
            component.measurement_value.clone()?,
        );
        Some(match &component.version {
            Some(version) => rv.version(version.clone()),
            None => rv,
        })
    }
}

/// One device trust anchor.
#[derive(Debug, Clone)]
struct TrustAnchor {
    impl_id: [u8; 32],
    instance_id: [u8; 33],
    spki_pem: String,
}

/// Builder for PSA endorsement CoRIMs. Methods take `&mut self` so the
/// builder works both chained on a temporary and in loops.
#[derive(Debug, Clone)]
pub struct PsaCorim {
    encoding: PsaCorimEncoding,
    id: CorimId,
    trust_anchors: Vec<TrustAnchor>,
    reference_values: Vec<([u8; 32], PsaRefValue)>,
    vendor_model: Option<(String, String)>,
    entity: Option<(String, String)>,
    tag_ids: Option<([u8; 16], [u8; 16])>,
    validity: Option<Validity>,
}

/// A random RFC 9562 version-4 UUID.
///
/// # Panics
///
/// Panics if the system random generator fails (test tooling only).
pub fn random_uuid() -> [u8; 16] {
    let mut u = [0u8; 16];
    aws_lc_rs::rand::fill(&mut u).expect("system random generator");
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

/// Derives a CoMID tag-id from the CoRIM id, so each CoRIM gets distinct but
/// reproducible tag ids.
fn derived_tag_id(corim_id: &CorimId, which: u8) -> [u8; 16] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(b"vouch-testkit comid tag-id");
    ctx.update(&[which]);
    match corim_id {
        CorimId::Text(t) => ctx.update(t.as_bytes()),
        CorimId::Uuid(u) => ctx.update(u),
        CorimId::Bytes(b) => ctx.update(b),
    }
    let mut u = [0u8; 16];
    u.copy_from_slice(&ctx.finish().as_ref()[..16]);
    u[6] = (u[6] & 0x0f) | 0x80;
    u[8] = (u[8] & 0x3f) | 0x80;
    u
}

impl PsaCorim {
    /// A builder with a random UUID corim-id and nothing in it yet.
    pub fn new(encoding: PsaCorimEncoding) -> Self {
        PsaCorim {
            encoding,
            id: CorimId::Uuid(random_uuid()),
            trust_anchors: Vec::new(),
            reference_values: Vec::new(),
            vendor_model: None,
            entity: None,
            tag_ids: None,
            validity: None,
        }
    }

    /// Sets a text corim-id (Veraison rejects a second CoRIM with the same
    /// id, so tests that provision repeatedly should keep the random one).
    pub fn id(&mut self, id: impl Into<String>) -> &mut Self {
        self.id = CorimId::Text(id.into());
        self
    }

    /// Sets a UUID corim-id (encoded as a 16-byte byte string).
    pub fn uuid_id(&mut self, id: [u8; 16]) -> &mut Self {
        self.id = CorimId::Uuid(id);
        self
    }

    /// The corim-id the CoRIM will carry.
    pub fn corim_id(&self) -> &CorimId {
        &self.id
    }

    /// Adds the trust anchor of one device: its implementation ID, its
    /// instance ID (UEID, 33 bytes starting with 0x01) and its IAK public key
    /// as PEM SubjectPublicKeyInfo.
    pub fn trust_anchor(
        &mut self,
        impl_id: [u8; 32],
        instance_id: [u8; 33],
        spki_pem: &str,
    ) -> &mut Self {
        self.trust_anchors.push(TrustAnchor {
            impl_id,
            instance_id,
            spki_pem: spki_pem.to_owned(),
        });
        self
    }

    /// Adds a reference value for the implementation `impl_id`.
    pub fn reference_value(&mut self, impl_id: [u8; 32], rv: PsaRefValue) -> &mut Self {
        self.reference_values.push((impl_id, rv));
        self
    }

    /// Adds vendor and model to every class (Veraison's legacy files carry
    /// `ACME` / `RoadRunner`).
    pub fn vendor_model(&mut self, vendor: &str, model: &str) -> &mut Self {
        self.vendor_model = Some((vendor.to_owned(), model.to_owned()));
        self
    }

    /// Names the creator of the CoMIDs (roles tag-creator, creator,
    /// maintainer), with its registration URI.
    pub fn entity(&mut self, name: &str, reg_id: &str) -> &mut Self {
        self.entity = Some((name.to_owned(), reg_id.to_owned()));
        self
    }

    /// Fixes the tag-ids of the reference-value and trust-anchor CoMIDs
    /// (by default they are derived from the corim-id).
    pub fn comid_tag_ids(
        &mut self,
        reference_values: [u8; 16],
        trust_anchors: [u8; 16],
    ) -> &mut Self {
        self.tag_ids = Some((reference_values, trust_anchors));
        self
    }

    /// Sets `rim-validity` (seconds since the Unix epoch).
    pub fn validity(&mut self, not_before: Option<i64>, not_after: i64) -> &mut Self {
        self.validity = Some(Validity {
            not_before,
            not_after,
        });
        self
    }

    /// Number of trust anchors added so far.
    pub fn trust_anchor_count(&self) -> usize {
        self.trust_anchors.len()
    }

    fn class(&self, impl_id: &[u8; 32]) -> Class {
        let class_id = match self.encoding {
            PsaCorimEncoding::Current => ClassId::Bytes(impl_id.to_vec()),
            PsaCorimEncoding::Legacy => ClassId::PsaImplId(impl_id.to_vec()),
        };
        let (vendor, model) = match &self.vendor_model {
            Some((v, m)) => (Some(v.clone()), Some(m.clone())),
            None => (None, None),
        };
        Class {
            class_id: Some(class_id),
            vendor,
            model,
            layer: None,
            index: None,
        }
    }

    fn measurement(&self, rv: &PsaRefValue) -> Measurement {
        let alg = match rv.digest.len() {
            48 => alg::SHA384,
            64 => alg::SHA512,
            _ => alg::SHA256,
        };
        let digests = Some(vec![Digest {
            alg: DigestAlg::Int(alg),
            value: rv.digest.clone(),
        }]);
        match self.encoding {
            PsaCorimEncoding::Current => Measurement {
                key: Some(MeasurementKey::Text(PSA_SW_COMPONENT_MKEY.to_owned())),
                values: MeasurementValues {
                    version: rv.version.as_ref().map(|v| Version {
                        version: v.clone(),
                        scheme: None,
                    }),
                    digests,
                    name: Some(rv.mtype.clone()),
                    cryptokeys: Some(vec![CryptoKey::Bytes(rv.signer_id.clone())]),
                    ..MeasurementValues::default()
                },
                authorized_by: None,
            },
            PsaCorimEncoding::Legacy => Measurement {
                key: Some(MeasurementKey::PsaRefValId(PsaRefValId {
                    label: Some(rv.mtype.clone()),
                    version: rv.version.clone(),
                    signer_id: Some(rv.signer_id.clone()),
                })),
                values: MeasurementValues {
                    digests,
                    ..MeasurementValues::default()
                },
                authorized_by: None,
            },
        }
    }

    fn comid(&self, tag_id: [u8; 16], triples: Triples) -> Comid {
        Comid {
            language: Some("en-GB".to_owned()),
            tag_identity: TagIdentity {
                tag_id: TagId::Uuid(tag_id),
                tag_version: None,
            },
            entities: self.entity.as_ref().map(|(name, reg_id)| {
                vec![Entity {
                    name: name.clone(),
                    reg_id: Some(reg_id.clone()),
                    roles: vec![0, 1, 2],
                }]
            }),
            linked_tags: None,
            triples,
        }
    }

    /// The CoRIM as a model. CoMIDs with nothing in them are left out.
    pub fn to_corim(&self) -> Corim {
        let (rv_tag, ta_tag) = self
            .tag_ids
            .unwrap_or_else(|| (derived_tag_id(&self.id, 0), derived_tag_id(&self.id, 1)));
        let mut tags = Vec::with_capacity(2);

        if !self.reference_values.is_empty() {
            // One reference triple per implementation, in first-seen order.
            let mut triples: Vec<ReferenceTriple> = Vec::new();
            let mut impls: Vec<[u8; 32]> = Vec::new();
            for (impl_id, rv) in &self.reference_values {
                let m = self.measurement(rv);
                match impls.iter().position(|i| i == impl_id) {
                    Some(at) => {
                        if let Some(t) = triples.get_mut(at) {
                            t.measurements.push(m);
                        }
                    }
                    None => {
                        impls.push(*impl_id);
                        triples.push(ReferenceTriple {
                            environment: Environment {
                                class: Some(self.class(impl_id)),
                                instance: None,
                                group: None,
                            },
                            measurements: vec![m],
                        });
                    }
                }
            }
            let t = Triples {
                reference_triples: triples,
                ..Triples::default()
            };
            tags.push(ConciseTag::Comid(self.comid(rv_tag, t)));
        }

        if !self.trust_anchors.is_empty() {
            let attest_key_triples = self
                .trust_anchors
                .iter()
                .map(|ta| KeyTriple {
                    environment: Environment {
                        class: Some(self.class(&ta.impl_id)),
                        instance: Some(Instance::Ueid(ta.instance_id.to_vec())),
                        group: None,
                    },
                    keys: vec![CryptoKey::PkixBase64Key(ta.spki_pem.clone())],
                    conditions: None,
                })
                .collect();
            let t = Triples {
                attest_key_triples,
                ..Triples::default()
            };
            tags.push(ConciseTag::Comid(self.comid(ta_tag, t)));
        }

        let profile = match self.encoding {
            PsaCorimEncoding::Current => Profile::Uri(PSA_PROFILE_CURRENT.to_owned()),
            PsaCorimEncoding::Legacy => Profile::Text(PSA_PROFILE_LEGACY.to_owned()),
        };
        Corim {
            id: self.id.clone(),
            tags,
            dependent_rims: None,
            profile: Some(profile),
            validity: self.validity,
            entities: None,
            was_tagged: true,
        }
    }

    /// Encodes the CoRIM (`#6.501`, unsigned).
    pub fn build(&self) -> Vec<u8> {
        self.to_corim().encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    const ACME_IMPL_ID: [u8; 32] = *b"acme-implementation-id-000000001";
    const EC_P256_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8A\n\
        iTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==\n\
        -----END PUBLIC KEY-----";

    fn h<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn acme_instance() -> [u8; 33] {
        h("01ceebae7b8927a3227e5303cf5e0f1f7b34bb542ad7250ac03fbcde36ec2f1508")
    }

    /// BL / PRoT / ARoT of the ACME RoadRunner, as in Veraison's files.
    fn acme_rvs(signer: [u8; 32], versions: bool) -> Vec<PsaRefValue> {
        [
            (
                "BL",
                "2.1.0",
                "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7",
            ),
            (
                "PRoT",
                "1.3.5",
                "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f",
            ),
            (
                "ARoT",
                "0.1.4",
                "a3a5e715f0cc574a73c3f9bebb6bc24f32ffd5b67b387244c2c909da779a1478",
            ),
        ]
        .into_iter()
        .map(|(t, v, d)| {
            let rv = PsaRefValue::new(t, signer.to_vec(), hex::decode(d).unwrap());
            if versions { rv.version(v) } else { rv }
        })
        .collect()
    }

    #[test]
    fn legacy_matches_veraison_e2e_corim_byte_for_byte() {
        let Some(dir) = vectors::dir() else { return };
        let expected = vectors::read(&dir, "psa/corim/legacy/e2e-psa-endorsements.2025.cbor");
        let mut b = PsaCorim::new(PsaCorimEncoding::Legacy);
        b.uuid_id(h("5c57e8f446cd421b91c908cf93e13cfc"))
            .comid_tag_ids(
                h("43bbe37f2e614b33aed353cff1428b16"),
                h("366d0a0a598845ed84882f2a544f6242"),
            )
            .vendor_model("ACME", "RoadRunner")
            .entity("ACME Ltd.", "https://acme.example")
            .trust_anchor(ACME_IMPL_ID, acme_instance(), EC_P256_PEM);
        let signer = h("acbb11c7e4da217205523ce4ce1a245ae1a239ae3c6bfd9e7871f7e5d8bae86b");
        for rv in acme_rvs(signer, true) {
            b.reference_value(ACME_IMPL_ID, rv);
        }
        assert_eq!(hex::encode(b.build()), hex::encode(expected));
    }

    #[test]
    fn current_matches_veraison_valid_corim() {
        let Some(dir) = vectors::dir() else { return };
        let expected = vouch_corim::decode(&vectors::read(
            &dir,
            "psa/corim/current/corim-psa-valid.cbor",
        ))
        .unwrap();
        let mut b = PsaCorim::new(PsaCorimEncoding::Current);
        b.id("00000000-0000-0000-065a-0000000000001")
            .comid_tag_ids(
                h("43bbe37f2e614b33aed353cff1428b16"),
                h("366d0a0a598845ed84882f2a544f6242"),
            )
            .trust_anchor(ACME_IMPL_ID, acme_instance(), EC_P256_PEM);
        let signer = h("5378796307535df3ec8d8b15a2e2dc5641419c3d3060cfe32238c0fa973f7aa3");
        for rv in acme_rvs(signer, false) {
            b.reference_value(ACME_IMPL_ID, rv);
        }
        let minted = vouch_corim::decode(&b.build()).unwrap();
        assert_eq!(
            (&minted.id, &minted.profile, minted.was_tagged),
            (&expected.id, &expected.profile, true)
        );
        let (m, e): (Vec<_>, Vec<_>) = (minted.comids().collect(), expected.comids().collect());
        // The reference-value CoMID is identical; the vector's TA CoMID has
        // a second device, whose first triple is ours.
        assert_eq!(m[0], e[0]);
        assert_eq!(m[0].encode(), e[0].encode());
        assert_eq!(m[1].tag_identity, e[1].tag_identity);
        assert_eq!(
            m[1].triples.attest_key_triples[..],
            e[1].triples.attest_key_triples[..1]
        );
    }

    #[test]
    fn both_encodings_carry_what_was_put_in() {
        for encoding in [PsaCorimEncoding::Current, PsaCorimEncoding::Legacy] {
            let impl_a = [0xaa; 32];
            let impl_b = [0xbb; 32];
            let mut b = PsaCorim::new(encoding);
            b.validity(Some(1_700_000_000), 1_900_000_000);
            for i in 0..5u8 {
                let mut inst = [i; 33];
                inst[0] = 0x01;
                b.trust_anchor(
                    if i % 2 == 0 { impl_a } else { impl_b },
                    inst,
                    &format!("PEM {i}"),
                );
            }
            b.reference_value(
                impl_a,
                PsaRefValue::new("BL", vec![1; 32], vec![2; 32]).version("1.0"),
            );
            b.reference_value(impl_b, PsaRefValue::new("BL", vec![3; 32], vec![4; 48]));
            b.reference_value(impl_a, PsaRefValue::new("PRoT", vec![5; 32], vec![6; 64]));
            let c = vouch_corim::decode(&b.build()).unwrap();

            assert_eq!(&c.id, b.corim_id());
            assert!(matches!(c.id, CorimId::Uuid(u) if u[6] >> 4 == 4));
            assert_eq!(
                c.profile.as_ref().unwrap().as_text().unwrap(),
                encoding.profile()
            );
            assert_eq!(
                c.validity,
                Some(Validity {
                    not_before: Some(1_700_000_000),
                    not_after: 1_900_000_000
                })
            );
            let comids: Vec<_> = c.comids().collect();
            assert_eq!(comids.len(), 2);
            assert_ne!(comids[0].tag_identity.tag_id, comids[1].tag_identity.tag_id);

            let rvs = &comids[0].triples.reference_triples;
            assert_eq!(rvs.len(), 2, "one reference triple per implementation");
            let expect_class = |impl_id: [u8; 32]| match encoding {
                PsaCorimEncoding::Current => ClassId::Bytes(impl_id.to_vec()),
                PsaCorimEncoding::Legacy => ClassId::PsaImplId(impl_id.to_vec()),
            };
            assert_eq!(
                rvs[0].environment.class.as_ref().unwrap().class_id,
                Some(expect_class(impl_a))
            );
            assert_eq!(rvs[0].measurements.len(), 2);
            assert_eq!(rvs[1].measurements.len(), 1);
            let prot = &rvs[0].measurements[1];
            assert_eq!(
                prot.values.digests,
                Some(vec![Digest {
                    alg: DigestAlg::Int(alg::SHA512),
                    value: vec![6; 64]
                }])
            );
            let bl_b = &rvs[1].measurements[0];
            assert_eq!(
                bl_b.values.digests.as_ref().unwrap()[0].alg,
                DigestAlg::Int(alg::SHA384)
            );
            let bl_a = &rvs[0].measurements[0];
            match encoding {
                PsaCorimEncoding::Current => {
                    assert_eq!(
                        bl_a.key,
                        Some(MeasurementKey::Text(PSA_SW_COMPONENT_MKEY.into()))
                    );
                    assert_eq!(bl_a.values.name.as_deref(), Some("BL"));
                    assert_eq!(bl_a.values.version.as_ref().unwrap().version, "1.0");
                    assert_eq!(
                        bl_a.values.cryptokeys,
                        Some(vec![CryptoKey::Bytes(vec![1; 32])])
                    );
                    assert_eq!(bl_b.values.version, None);
                }
                PsaCorimEncoding::Legacy => {
                    assert_eq!(
                        bl_a.key,
                        Some(MeasurementKey::PsaRefValId(PsaRefValId {
                            label: Some("BL".into()),
                            version: Some("1.0".into()),
                            signer_id: Some(vec![1; 32]),
                        }))
                    );
                    assert_eq!(bl_a.values.name, None);
                    assert_eq!(bl_a.values.cryptokeys, None);
                    assert!(
                        matches!(&bl_b.key, Some(MeasurementKey::PsaRefValId(r)) if r.version.is_none())
                    );
                }
            }

            let tas = &comids[1].triples.attest_key_triples;
            assert_eq!(tas.len(), 5);
            for (i, ta) in tas.iter().enumerate() {
                let mut inst = [i as u8; 33];
                inst[0] = 0x01;
                assert_eq!(ta.environment.instance, Some(Instance::Ueid(inst.to_vec())));
                assert_eq!(ta.keys, vec![CryptoKey::PkixBase64Key(format!("PEM {i}"))]);
                let impl_id = if i % 2 == 0 { impl_a } else { impl_b };
                assert_eq!(
                    ta.environment.class.as_ref().unwrap().class_id,
                    Some(expect_class(impl_id))
                );
            }
        }
    }

    #[test]
    fn a_reference_value_endorses_a_component_as_reported() {
        let acme = crate::psa::SwComponent::acme_components();
        let rv = PsaRefValue::endorsing(&acme[0]).unwrap();
        assert_eq!(Some(&rv.mtype), acme[0].measurement_type.as_ref());
        assert_eq!(Some(&rv.digest), acme[0].measurement_value.as_ref());
        assert_eq!(Some(&rv.signer_id), acme[0].signer_id.as_ref());
        assert_eq!(rv.version, acme[0].version);

        let mut unversioned = acme[0].clone();
        unversioned.version = None;
        assert_eq!(PsaRefValue::endorsing(&unversioned).unwrap().version, None);
        let mut unsigned = acme[0].clone();
        unsigned.signer_id = None;
        assert!(PsaRefValue::endorsing(&unsigned).is_none());
    }

    #[test]
    fn only_non_empty_comids_are_emitted() {
        let mut b = PsaCorim::new(PsaCorimEncoding::Current);
        b.trust_anchor([1; 32], [1; 33], "k");
        let c = vouch_corim::decode(&b.build()).unwrap();
        assert_eq!(c.comids().count(), 1);
        assert_eq!(
            c.comids().next().unwrap().triples.attest_key_triples.len(),
            1
        );
        assert!(
            c.comids()
                .next()
                .unwrap()
                .triples
                .reference_triples
                .is_empty()
        );
    }

    #[test]
    fn random_ids_differ_and_tag_ids_follow_the_corim_id() {
        let a = PsaCorim::new(PsaCorimEncoding::Current)
            .trust_anchor([1; 32], [1; 33], "k")
            .to_corim();
        let b = PsaCorim::new(PsaCorimEncoding::Current)
            .trust_anchor([1; 32], [1; 33], "k")
            .to_corim();
        assert_ne!(a.id, b.id);
        let tag = |c: &Corim| c.comids().next().unwrap().tag_identity.tag_id.clone();
        assert_ne!(tag(&a), tag(&b));
        let mut fixed = PsaCorim::new(PsaCorimEncoding::Current);
        fixed.id("same").trust_anchor([1; 32], [1; 33], "k");
        assert_eq!(fixed.build(), fixed.clone().build());
        assert_eq!(tag(&fixed.to_corim()), tag(&fixed.to_corim()));
    }

    #[test]
    fn a_thousand_trust_anchors() {
        let mut b = PsaCorim::new(PsaCorimEncoding::Current);
        let pem = EC_P256_PEM;
        for i in 0..1000u32 {
            let mut inst = [0u8; 33];
            inst[0] = 0x01;
            inst[29..].copy_from_slice(&i.to_be_bytes());
            b.trust_anchor(ACME_IMPL_ID, inst, pem);
        }
        assert_eq!(b.trust_anchor_count(), 1000);
        let bytes = b.build();
        let c = vouch_corim::decode(&bytes).unwrap();
        let tas = &c.comids().next().unwrap().triples.attest_key_triples;
        assert_eq!(tas.len(), 1000);
        assert_eq!(
            tas[999].environment.instance.as_ref().map(Instance::kind),
            Some("ueid")
        );
    }

    #[test]
    fn media_types() {
        assert_eq!(
            PsaCorimEncoding::Current.media_type(),
            "application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\""
        );
        assert!(
            PsaCorimEncoding::Legacy
                .media_type()
                .starts_with("application/corim-unsigned+cbor")
        );
    }
}
