//! Decodes the shared Veraison CoRIM vectors and checks the decoded content
//! against MANIFEST.md §6.

use std::path::Path;

use vouch_corim::{
    ClassId, Comid, ConciseTag, Corim, CorimError, CorimId, CryptoKey, Digest, DigestAlg, Instance,
    Measurement, MeasurementKey, Profile, PsaRefValId, RawValue, RegisterId, Svn, TagId, decode,
    decode_comid,
};
use vouch_testkit::vectors::{self, cbor_files};

const ACME_IMPL_ID: &[u8] = b"acme-implementation-id-000000001";
const INST_EC_P256: &str = "01ceebae7b8927a3227e5303cf5e0f1f7b34bb542ad7250ac03fbcde36ec2f1508";
const INST_2: &str = "014ca3e4f50bf248c39787020d68ffd05c88767751bf2645ca923f57a98becd296";
const EC_P256_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8A\n\
    iTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==\n\
    -----END PUBLIC KEY-----";
const BL: &str = "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";
const PROT: &str = "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f";
const AROT: &str = "a3a5e715f0cc574a73c3f9bebb6bc24f32ffd5b67b387244c2c909da779a1478";
const SIGNER_CURRENT: &str = "5378796307535df3ec8d8b15a2e2dc5641419c3d3060cfe32238c0fa973f7aa3";
const SIGNER_LEGACY: &str = "acbb11c7e4da217205523ce4ce1a245ae1a239ae3c6bfd9e7871f7e5d8bae86b";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex literal")
}

fn load(dir: &Path, rel: &str) -> Corim {
    let bytes = vectors::read(dir, rel);
    decode(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn comids(c: &Corim) -> Vec<&Comid> {
    c.comids().collect()
}

fn sha256(hex: &str) -> Digest {
    Digest {
        alg: DigestAlg::Int(vouch_corim::alg::SHA256),
        value: h(hex),
    }
}

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .expect("path under vectors")
        .display()
        .to_string()
}

#[test]
fn psa_current_valid() {
    let Some(dir) = vectors::dir() else { return };
    let c = load(&dir, "psa/corim/current/corim-psa-valid.cbor");
    assert!(c.was_tagged);
    assert_eq!(
        c.id,
        CorimId::Text("00000000-0000-0000-065a-0000000000001".into())
    );
    assert_eq!(
        c.profile,
        Some(Profile::Uri("tag:arm.com,2025:psa#1.0.0".into()))
    );
    let cs = comids(&c);
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0].language.as_deref(), Some("en-GB"));
    assert_eq!(
        cs[0].tag_identity.tag_id.to_string(),
        "43bbe37f-2e61-4b33-aed3-53cff1428b16"
    );

    let rv = &cs[0].triples.reference_triples;
    assert_eq!(rv.len(), 1);
    let class = rv[0].environment.class.as_ref().unwrap();
    assert_eq!(class.class_id, Some(ClassId::Bytes(ACME_IMPL_ID.to_vec())));
    assert_eq!(rv[0].environment.instance, None);
    let names: Vec<_> = rv[0]
        .measurements
        .iter()
        .map(|m| m.values.name.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["BL", "PRoT", "ARoT"]);
    for (m, digest) in rv[0].measurements.iter().zip([BL, PROT, AROT]) {
        assert_eq!(
            m.key,
            Some(MeasurementKey::Text("psa.software-component".into()))
        );
        assert_eq!(m.values.digests, Some(vec![sha256(digest)]));
        assert_eq!(
            m.values.cryptokeys,
            Some(vec![CryptoKey::Bytes(h(SIGNER_CURRENT))])
        );
        assert_eq!(m.values.version, None);
    }

    let ta = &cs[1].triples.attest_key_triples;
    assert_eq!(ta.len(), 2);
    assert_eq!(
        ta[0].environment.instance,
        Some(Instance::Ueid(h(INST_EC_P256)))
    );
    assert_eq!(
        ta[0].keys,
        vec![CryptoKey::PkixBase64Key(EC_P256_PEM.into())]
    );
    assert_eq!(ta[1].environment.instance, Some(Instance::Ueid(h(INST_2))));
    let class = ta[1].environment.class.as_ref().unwrap();
    assert_eq!(class.vendor.as_deref(), Some("ACME"));
    assert_eq!(class.model.as_deref(), Some("RoadRunner"));
    assert!(
        matches!(&ta[1].keys[..], [CryptoKey::PkixBase64Key(k)] if k.contains("E6Vwqe7hy3O8Ypa"))
    );
}

#[test]
fn psa_current_reject_files_still_decode_generically() {
    let Some(dir) = vectors::dir() else { return };
    let ta = |rel: &str| {
        load(&dir, rel)
            .comids()
            .next()
            .unwrap()
            .triples
            .attest_key_triples
            .clone()
    };
    let rvs = |rel: &str| {
        load(&dir, rel)
            .comids()
            .next()
            .unwrap()
            .triples
            .reference_triples
            .clone()
    };

    let t = ta("psa/corim/current/corim-psa-bad-class.cbor");
    assert_eq!(
        t[0].environment.class.as_ref().unwrap().class_id,
        Some(ClassId::Uuid(
            h("dd6661f009284401966b589ea74e3272").try_into().unwrap()
        ))
    );
    let t = ta("psa/corim/current/corim-psa-bad-instance.cbor");
    assert!(matches!(t[0].environment.instance, Some(Instance::Uuid(_))));
    let t = ta("psa/corim/current/corim-psa-bad-ta-no-instance.cbor");
    assert_eq!(t[0].environment.instance, None);
    let t = ta("psa/corim/current/corim-psa-bad-ta-cert.cbor");
    assert!(
        matches!(&t[0].keys[..], [CryptoKey::PkixBase64Cert(pem)] if pem.starts_with("-----BEGIN CERTIFICATE-----"))
    );
    assert_eq!(t[0].keys[0].kind(), "pkix-base64-cert");

    let r = rvs("psa/corim/current/corim-psa-bad-refval-instance.cbor");
    assert_eq!(r[0].environment.instance, Some(Instance::Ueid(h(INST_2))));
    let r = rvs("psa/corim/current/corim-psa-bad-refval-mkey.cbor");
    assert_eq!(r[0].measurements[1].key, Some(MeasurementKey::Uint(6)));
    assert_eq!(r[0].measurements[1].key.as_ref().unwrap().kind(), "uint");
    let r = rvs("psa/corim/current/corim-psa-bad-refval-mval.cbor");
    let m = &r[0].measurements[0];
    assert_eq!(m.values.svn, Some(Svn::Exact(15208092991676744000)));
    assert_eq!(m.values.digests, None);

    let c = load(&dir, "psa/corim/current/corimlib-psa-valid.cbor");
    assert_eq!(c.id, CorimId::Text("psa-valid-corim".into()));
    let t = &comids(&c)[0].triples;
    assert_eq!(
        t.reference_triples[0].measurements[0]
            .values
            .version
            .as_ref()
            .unwrap()
            .version,
        "2.1.0"
    );
    assert_eq!(
        t.attest_key_triples[0].environment.instance,
        Some(Instance::Ueid(
            b"\x0101234567890123456789012345678901".to_vec()
        ))
    );

    let r = rvs("psa/corim/current/corimlib-psa-invalid-impl-id.cbor");
    let class_id = r[0]
        .environment
        .class
        .as_ref()
        .unwrap()
        .class_id
        .as_ref()
        .unwrap();
    assert!(matches!(class_id, ClassId::Bytes(b) if b.len() == 31));
    let t = ta("psa/corim/current/corimlib-psa-invalid-attest-key.cbor");
    assert_eq!(t[0].keys.len(), 2);
    assert_eq!(
        load(&dir, "psa/corim/current/corimlib-no-profile.cbor").profile,
        None
    );
}

fn assert_legacy_rv(m: &Measurement, label: &str, version: &str, digest: &str) {
    assert_eq!(
        m.key,
        Some(MeasurementKey::PsaRefValId(PsaRefValId {
            label: Some(label.into()),
            version: Some(version.into()),
            signer_id: Some(h(SIGNER_LEGACY)),
        }))
    );
    assert_eq!(m.values.digests, Some(vec![sha256(digest)]));
}

#[test]
fn psa_transitional() {
    let Some(dir) = vectors::dir() else { return };
    let c = load(&dir, "psa/corim/transitional/corim-psa-valid.cbor");
    assert_eq!(
        c.profile,
        Some(Profile::Text("http://arm.com/psa/iot/1".into()))
    );
    let cs = comids(&c);
    let rv = &cs[0].triples.reference_triples[0];
    assert_eq!(
        rv.environment.class.as_ref().unwrap().class_id,
        Some(ClassId::PsaImplId(ACME_IMPL_ID.to_vec()))
    );
    assert_legacy_rv(&rv.measurements[0], "BL", "2.1.0", BL);
    assert_legacy_rv(&rv.measurements[1], "PRoT", "1.3.5", PROT);
    assert_legacy_rv(&rv.measurements[2], "ARoT", "0.1.4", AROT);
    let ta = &cs[1].triples.attest_key_triples;
    assert_eq!(
        ta[0].environment.instance,
        Some(Instance::Ueid(h(INST_EC_P256)))
    );
    assert_eq!(
        ta[0].keys,
        vec![CryptoKey::PkixBase64Key(EC_P256_PEM.into())]
    );

    let c = load(
        &dir,
        "psa/corim/transitional/corim-psa-bad-refval-mval.cbor",
    );
    let m = &comids(&c)[0].triples.reference_triples[0].measurements[0];
    assert!(matches!(m.key, Some(MeasurementKey::PsaRefValId(_))));
    assert_eq!(m.values.svn, Some(Svn::Exact(15208092991676743683)));
    assert_eq!(m.values.digests, None);
}

#[test]
fn psa_legacy() {
    let Some(dir) = vectors::dir() else { return };
    let c = load(&dir, "psa/corim/legacy/e2e-psa-endorsements.2025.cbor");
    assert_eq!(
        c.id,
        CorimId::Uuid(h("5c57e8f446cd421b91c908cf93e13cfc").try_into().unwrap())
    );
    assert_eq!(
        c.profile,
        Some(Profile::Text("http://arm.com/psa/iot/1".into()))
    );
    let cs = comids(&c);
    let entities = cs[0].entities.as_ref().unwrap();
    assert_eq!(entities[0].name, "ACME Ltd.");
    assert_eq!(entities[0].reg_id.as_deref(), Some("https://acme.example"));
    assert_eq!(entities[0].roles, [0, 1, 2]);
    let rv = &cs[0].triples.reference_triples[0];
    assert_legacy_rv(&rv.measurements[0], "BL", "2.1.0", BL);
    assert_legacy_rv(&rv.measurements[2], "ARoT", "0.1.4", AROT);
    assert_eq!(
        cs[1].triples.attest_key_triples[0].keys,
        vec![CryptoKey::PkixBase64Key(EC_P256_PEM.into())]
    );

    let c = load(&dir, "psa/corim/legacy/e2e-psa-endorsements.cbor");
    assert_eq!(
        c.id,
        CorimId::Text("00000000-0000-0001-p5a1-000000000001".into())
    );

    let c = load(
        &dir,
        "psa/corim/legacy/unsignedCorimMiniComidPsaIakPubTwo.cbor",
    );
    let ta = &comids(&c)[0].triples.attest_key_triples;
    assert_eq!(ta.len(), 2);
    assert_eq!(ta[1].environment.instance, Some(Instance::Ueid(h(INST_2))));

    let c = load(
        &dir,
        "psa/corim/legacy/unsignedCorimMiniComidPsaRefValOnlyMandIDAttr.cbor",
    );
    let m = &comids(&c)[0].triples.reference_triples[0].measurements[0];
    assert_eq!(
        m.key,
        Some(MeasurementKey::PsaRefValId(PsaRefValId {
            label: None,
            version: None,
            signer_id: Some(h(SIGNER_LEGACY)),
        }))
    );

    let c = load(
        &dir,
        "psa/corim/legacy/unsignedCorimMiniComidPsaRefValNoMkey.cbor",
    );
    let m = &comids(&c)[0].triples.reference_triples[0].measurements[0];
    assert_eq!(m.key, None);
    assert_eq!(m.values.svn, Some(Svn::Exact(10)));

    let c = load(
        &dir,
        "psa/corim/legacy/unsignedCorimMiniComidPsaRefValMultDigest.cbor",
    );
    let m = &comids(&c)[0].triples.reference_triples[0].measurements[0];
    assert_eq!(m.values.digests.as_ref().unwrap().len(), 2);

    let c = load(
        &dir,
        "psa/corim/legacy/unsignedCorimMiniComidPsaRefValNoImplID.cbor",
    );
    let class = comids(&c)[0].triples.reference_triples[0]
        .environment
        .class
        .clone()
        .unwrap();
    assert!(matches!(class.class_id, Some(ClassId::Uuid(_))));
    assert_eq!(
        (class.model.as_deref(), class.layer, class.index),
        (Some("FMC"), Some(0), Some(0))
    );

    let c = load(
        &dir,
        "psa/corim/legacy/unsignedCorimMiniComidPsaMultIak.cbor",
    );
    assert_eq!(comids(&c)[0].triples.attest_key_triples[0].keys.len(), 2);
    let c = load(
        &dir,
        "psa/corim/legacy/unsignedCorimMiniComidPsaIakPubNoUeID.cbor",
    );
    assert_eq!(
        comids(&c)[0].triples.attest_key_triples[0]
            .environment
            .instance,
        None
    );
}

/// Every PSA CoRIM of the three Veraison generations decodes, except the
/// one that uses the pre-standard bstr-wrapped tag encoding.
#[test]
fn every_psa_corim_decodes() {
    let Some(dir) = vectors::dir() else { return };
    for sub in [
        "psa/corim/current",
        "psa/corim/transitional",
        "psa/corim/legacy",
    ] {
        for p in cbor_files(&dir, sub) {
            let name = rel(&dir, &p);
            let result = decode(&std::fs::read(&p).unwrap());
            if name.ends_with("perf-corim-psa-full.untagged.cbor") {
                let err = result.unwrap_err();
                assert!(
                    err.to_string()
                        .contains("pre-standard bstr-wrapped tag encoding"),
                    "{name}: {err}"
                );
                continue;
            }
            let c = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(c.was_tagged, "{name}");
            assert!(c.comids().count() >= 1, "{name}");
        }
    }
}

#[test]
fn historic_drafts_are_errors() {
    let Some(dir) = vectors::dir() else { return };
    let files = cbor_files(&dir, "psa/corim/historic-draft");
    assert_eq!(files.len(), 4);
    for p in files {
        let err = decode(&std::fs::read(&p).unwrap()).unwrap_err();
        assert!(
            matches!(err, CorimError::Malformed { .. }),
            "{}: {err}",
            rel(&dir, &p)
        );
    }
}

#[test]
fn cca_corims() {
    let Some(dir) = vectors::dir() else { return };
    for p in cbor_files(&dir, "cca/corim") {
        let name = rel(&dir, &p);
        decode(&std::fs::read(&p).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    let c = load(&dir, "cca/corim/current/corim-cca-realm-valid.cbor");
    assert_eq!(
        c.profile,
        Some(Profile::Uri("tag:arm.com,2025:cca_realm#1.0.0".into()))
    );
    let rv = &comids(&c)[0].triples.reference_triples[0];
    assert_eq!(
        rv.environment.class.as_ref().unwrap().class_id,
        Some(ClassId::Bytes(vec![0x43; 64]))
    );
    let rpv = rv
        .measurements
        .iter()
        .find(|m| m.key == Some(MeasurementKey::Text("cca.rpv".into())))
        .unwrap();
    assert_eq!(rpv.values.raw_value.as_ref().unwrap().bytes().len(), 64);

    let c = load(
        &dir,
        "cca/corim/current/corim-cca-platform-bad-refval-cryptokeys.cbor",
    );
    let m = &comids(&c)[0].triples.reference_triples[0].measurements[0];
    assert!(matches!(
        m.values.cryptokeys.as_deref(),
        Some([CryptoKey::PkixBase64Key(_)])
    ));
    assert_eq!(m.values.version.as_ref().unwrap().version, "3.4.2");

    // Legacy realm: one measurement with integrity registers and raw value.
    let c = load(
        &dir,
        "cca/corim/legacy/unsignedCorimCcaRealmComidCcaRealm.cbor",
    );
    assert_eq!(c.validity.unwrap().not_after, 1767139200);
    assert_eq!(c.validity.unwrap().not_before, Some(1640908800));
    let rv = &comids(&c)[0].triples.reference_triples[0];
    assert!(matches!(rv.environment.instance, Some(Instance::Bytes(ref b)) if b.len() == 48));
    let regs = rv.measurements[0]
        .values
        .integrity_registers
        .as_ref()
        .unwrap();
    let ids: Vec<_> = regs.iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        ids,
        ["rim", "rem0", "rem1", "rem2", "rem3"].map(|s| RegisterId::Label(s.into()))
    );
    assert_eq!(
        regs[0].digests[0].alg,
        DigestAlg::Int(vouch_corim::alg::SHA384)
    );
    assert!(matches!(
        rv.measurements[0].values.raw_value,
        Some(RawValue::Bytes(_))
    ));
    let entities = c.entities.as_ref().unwrap();
    assert_eq!(
        (entities[0].name.as_str(), &entities[0].roles[..]),
        ("ACME Ltd.", &[1u64][..])
    );

    // Legacy CCA platform config key (tag 602).
    let found = cbor_files(&dir, "cca/corim/legacy").iter().any(|p| {
        let c = decode(&std::fs::read(p).unwrap()).unwrap();
        c.comids().flat_map(|c| &c.triples.reference_triples).flat_map(|t| &t.measurements).any(
            |m| matches!(m.key, Some(MeasurementKey::CcaPlatformConfigId(ref l)) if !l.is_empty()),
        )
    });
    assert!(
        found,
        "no legacy CCA CoRIM carries a tag-602 measurement key"
    );
}

#[test]
fn generic_corims_decode_or_fail_cleanly() {
    let Some(dir) = vectors::dir() else { return };
    for p in cbor_files(&dir, "corim-generic") {
        let name = rel(&dir, &p);
        let bytes = std::fs::read(&p).unwrap();
        if name.contains("/comid/") {
            decode_comid(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            continue;
        }
        // COSE_Sign1 starts with tag 18 (0xd2).
        let signed = bytes.first() == Some(&0xd2);
        match decode(&bytes) {
            Ok(_) => assert!(!signed, "{name} decoded"),
            Err(CorimError::SignedNotSupported) => assert!(signed, "{name}"),
            // cocli's data/ CoRIMs use the pre-standard bstr-wrapped tags.
            Err(CorimError::Malformed { reason, .. }) => {
                assert!(name.contains("cocli/data-"), "{name}: {reason}");
                assert!(reason.contains("bstr-wrapped"), "{name}: {reason}");
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }

    let c = load(&dir, "corim-generic/corimlib/corim-design-cd.cbor");
    assert_eq!(
        c.profile.as_ref().unwrap().as_text().as_deref(),
        Some("2.16.840.1.113741.1.15.6")
    );
    assert!(!comids(&c)[0].triples.endorsed_triples.is_empty());

    let read = |rel: &str| decode_comid(&vectors::read(&dir, rel)).unwrap();
    let flags = read("corim-generic/comid/comid-flags.cbor");
    let f = flags.triples.endorsed_triples[0].measurements[0]
        .values
        .flags
        .clone()
        .unwrap();
    assert_eq!(
        (f.get(0), f.get(3), f.get(9), f.get(10)),
        (Some(true), Some(false), Some(true), None)
    );
    assert_eq!(flags.linked_tags.as_ref().unwrap().len(), 2);

    let raw = read("corim-generic/comid/comid-raw-value.cbor");
    let vals: Vec<_> = raw
        .triples
        .reference_triples
        .iter()
        .map(|t| t.measurements[0].values.clone())
        .collect();
    assert_eq!(vals[0].raw_value, Some(RawValue::Bytes(h("12345678"))));
    assert_eq!(
        vals[1].raw_value,
        Some(RawValue::Masked {
            value: h("12340000"),
            mask: h("ffff0000")
        })
    );
    assert_eq!(vals[2].raw_value_mask, Some(h("ffff0000")));

    let regs = read("corim-generic/comid/comid-integrity-registers.cbor");
    let r = regs.triples.reference_triples[0].measurements[0]
        .values
        .integrity_registers
        .clone();
    let r = r.unwrap();
    assert_eq!(r[0].id, RegisterId::Index(0));
    assert_eq!(r[1].id, RegisterId::Label("my-ir".into()));
    assert_eq!(r[0].digests[1].alg, DigestAlg::Text("my-alg-id".into()));

    let keys = read("corim-generic/comid/comid-5.cbor");
    let kinds: Vec<_> = keys.triples.identity_triples[0]
        .keys
        .iter()
        .map(|k| k.tag())
        .collect();
    assert_eq!(kinds, [554, 555, 556, 557, 558, 559, 561]);

    let other = read("corim-generic/comid/comid-domain-dep.cbor");
    assert_eq!(
        other
            .triples
            .other
            .iter()
            .map(|e| e.key)
            .collect::<Vec<_>>(),
        [4]
    );
    assert!(matches!(
        other.tag_identity.tag_id,
        TagId::Uuid(_) | TagId::Text(_)
    ));

    let opaque = read("corim-generic/comid/comid-opaque-instance-id.cbor");
    let inst = opaque.triples.reference_triples[0]
        .environment
        .instance
        .clone();
    assert!(matches!(inst, Some(Instance::Bytes(b)) if b.len() == 64));
}

/// Every vector that decodes re-encodes to bytes that decode to the same
/// model, and re-encoding is stable.
#[test]
fn vectors_round_trip() {
    let Some(dir) = vectors::dir() else { return };
    let mut checked = 0;
    for sub in [
        "psa/corim",
        "cca/corim",
        "corim-generic",
        "enacttrust/corim",
        "parsec-tpm/corim",
    ] {
        for p in cbor_files(&dir, sub) {
            let name = rel(&dir, &p);
            let bytes = std::fs::read(&p).unwrap();
            if name.contains("/comid/") {
                let Ok(c) = decode_comid(&bytes) else {
                    continue;
                };
                let again = decode_comid(&c.encode()).unwrap();
                assert_eq!(c, again, "{name}");
            } else {
                let Ok(c) = decode(&bytes) else { continue };
                let enc = c.encode();
                let again = decode(&enc).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(c, again, "{name}");
                assert_eq!(enc, again.encode(), "{name}");
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} vectors round-tripped");
}

/// The Veraison CoRIMs are already in deterministic order, so re-encoding
/// reproduces them byte for byte.
#[test]
fn veraison_psa_corims_reencode_byte_for_byte() {
    let Some(dir) = vectors::dir() else { return };
    for rel in [
        "psa/corim/current/corim-psa-valid.cbor",
        "psa/corim/legacy/e2e-psa-endorsements.2025.cbor",
        "psa/corim/transitional/corim-psa-valid.cbor",
    ] {
        let bytes = vectors::read(&dir, rel);
        assert_eq!(decode(&bytes).unwrap().encode(), bytes, "{rel}");
    }
}

/// Truncated and byte-mutated vectors never panic; truncations always fail.
#[test]
fn truncated_and_mutated_vectors_never_panic() {
    let Some(dir) = vectors::dir() else { return };
    let mut files = cbor_files(&dir, "psa/corim");
    files.extend(cbor_files(&dir, "cca/corim/current"));
    files.extend(cbor_files(&dir, "corim-generic/comid"));
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        for len in 0..bytes.len() {
            assert!(
                decode(&bytes[..len]).is_err(),
                "{} truncated to {len}",
                rel(&dir, &p)
            );
            let _ = decode_comid(&bytes[..len]);
        }
        let mut m = bytes.clone();
        for i in 0..m.len() {
            let orig = m[i];
            for v in [orig ^ 0x01, orig ^ 0xe0, 0x1b, 0x9f, 0xff] {
                m[i] = v;
                let _ = decode(&m);
                let _ = decode_comid(&m);
            }
            m[i] = orig;
        }
    }
}

#[test]
fn unsupported_concise_tags_are_kept() {
    let Some(dir) = vectors::dir() else { return };
    // Some Veraison CoRIMs are all CoMIDs; build one carrying a CoSWID too.
    let mut c = load(&dir, "psa/corim/current/corim-psa-valid.cbor");
    c.tags.push(ConciseTag::Unsupported {
        tag: 505,
        bytes: vec![0xa0],
    });
    let again = decode(&c.encode()).unwrap();
    assert_eq!(again.tags.len(), 3);
    assert_eq!(again.comids().count(), 2);
    assert_eq!(
        again.tags[2],
        ConciseTag::Unsupported {
            tag: 505,
            bytes: vec![0xa0]
        }
    );
}
