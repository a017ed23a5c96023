//! Templates in cocli's dialects read into the model; the model written
//! back reads the same; bad templates fail at the right path.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use vouch_corim::{
    ClassId, Comid, CorimId, CryptoKey, Digest, DigestAlg, Instance, MeasurementKey, Profile,
    PsaRefValId, RawEntry, RawValue, Svn, TagId, Version, VersionScheme, decode,
};
use vouch_corim_json::{comid_from_json, comid_to_json, corim_from_json, corim_to_json};

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn comid(v: &Value) -> Comid {
    comid_from_json(&bytes(v)).unwrap_or_else(|e| panic!("{e}"))
}

const IMPL_ID: &str = "dGVzdC1pbXBsZW1lbnRhdGlvbi1pZC0wMDAwMDAwMDA="; // 32 bytes
const UEID: &str = "AQICAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"; // 0x01 + 32
const SIGNER: &str = "ESIzRFVmd4iZqrvM3e7/ABEiM0RVZneImaq7zN3u/wA="; // 32 bytes
const DIGEST_URL: &str = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k"; // 32 bytes
const PEM: &str =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----";

/// A PSA CoMID in the current dialect, every field a PSA endorsement uses.
fn psa_refval() -> Value {
    json!({
        "lang": "en-GB",
        "tag-identity": {"id": "11111111-2222-4333-8444-555555555555", "version": 2},
        "entities": [{"name": "Example Ltd.", "regid": "https://example.com",
                      "roles": ["tagCreator", "creator", "maintainer"]}],
        "triples": {
            "reference-values": [{
                "environment": {"class": {
                    "id": {"type": "bytes", "value": IMPL_ID},
                    "vendor": "Example", "model": "Widget"}},
                "measurements": [{
                    "key": {"type": "string", "value": "psa.software-component"},
                    "value": {
                        "digests": [[1, DIGEST_URL]],
                        "cryptokeys": [{"type": "bytes", "value": SIGNER}],
                        "version": {"value": "1.0.0", "scheme": "semver"},
                        "name": "BL"
                    }
                }]
            }],
            "attester-verification-keys": [{
                "environment": {
                    "class": {"id": {"type": "bytes", "value": IMPL_ID}},
                    "instance": {"type": "ueid", "value": UEID}
                },
                "verification-keys": [{"type": "pkix-base64-key", "value": PEM}]
            }]
        }
    })
}

#[test]
fn a_current_psa_template_reads_into_the_model() {
    let c = comid(&psa_refval());
    assert_eq!(c.language.as_deref(), Some("en-GB"));
    assert_eq!(c.tag_identity.tag_version, Some(2));
    assert!(matches!(c.tag_identity.tag_id, TagId::Uuid(u) if u[0] == 0x11));
    assert_eq!(c.entities.as_ref().unwrap()[0].roles, vec![0, 1, 2]);
    let rv = &c.triples.reference_triples[0];
    let class = rv.environment.class.as_ref().unwrap();
    assert_eq!(
        class.class_id,
        Some(ClassId::Bytes(b"test-implementation-id-000000000".to_vec()))
    );
    assert_eq!(class.vendor.as_deref(), Some("Example"));
    let m = &rv.measurements[0];
    assert_eq!(
        m.key,
        Some(MeasurementKey::Text("psa.software-component".into()))
    );
    let digests = m.values.digests.as_ref().unwrap();
    assert_eq!(digests[0].alg, DigestAlg::Int(1));
    assert_eq!(digests[0].value[..2], [0xab, 0xcd]);
    assert!(
        matches!(&m.values.cryptokeys.as_ref().unwrap()[0], CryptoKey::Bytes(b) if b.len() == 32)
    );
    assert_eq!(
        m.values.version,
        Some(Version {
            version: "1.0.0".into(),
            scheme: Some(VersionScheme::Code(16384))
        })
    );
    assert_eq!(m.values.name.as_deref(), Some("BL"));
    let ak = &c.triples.attest_key_triples[0];
    assert!(matches!(&ak.environment.instance, Some(Instance::Ueid(u)) if u.len() == 33));
    assert_eq!(ak.keys, vec![CryptoKey::PkixBase64Key(PEM.into())]);
}

#[test]
fn a_legacy_psa_template_reads_into_the_legacy_encoding() {
    let std_digest = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=";
    let c = comid(&json!({
        "tag-identity": {"id": "legacy-psa-tag"},
        "triples": {"reference-values": [{
            "environment": {"class": {"id": {"type": "psa.impl-id", "value": IMPL_ID}}},
            "measurements": [{
                "key": {"type": "psa.refval-id",
                        "value": {"label": "BL", "version": "1.0.0", "signer-id": SIGNER}},
                "value": {"digests": [format!("sha-256;{std_digest}")]}
            }]
        }]}
    }));
    assert_eq!(c.tag_identity.tag_id, TagId::Text("legacy-psa-tag".into()));
    let rv = &c.triples.reference_triples[0];
    assert!(matches!(
        rv.environment.class.as_ref().unwrap().class_id,
        Some(ClassId::PsaImplId(_))
    ));
    let m = &rv.measurements[0];
    assert!(matches!(
        &m.key,
        Some(MeasurementKey::PsaRefValId(PsaRefValId { label: Some(l), version: Some(v), signer_id: Some(s) }))
            if l == "BL" && v == "1.0.0" && s.len() == 32
    ));
    assert_eq!(
        m.values.digests.as_ref().unwrap()[0],
        Digest {
            alg: DigestAlg::Int(1),
            value: comid(&psa_refval()).triples.reference_triples[0].measurements[0]
                .values
                .digests
                .clone()
                .unwrap()[0]
                .value
                .clone(),
        }
    );
}

#[test]
fn a_corim_template_sets_the_manifest_and_carries_the_comids() {
    let corim = corim_from_json(
        &bytes(&json!({
            "corim-id": "corim-one",
            "profile": {"type": "uri", "value": "tag:arm.com,2025:psa#1.0.0"},
            "validity": {"not-before": "2026-01-01T00:00:00Z", "not-after": "2030-01-01T00:00:00+01:00"},
            "entities": [{"name": "Example Ltd.", "regid": "example.com", "roles": ["manifestCreator"]}],
            "dependent-rims": [{"href": "https://example.com/parent", "thumbprint": [1, DIGEST_URL]}]
        })),
        vec![comid(&psa_refval())],
    )
    .unwrap();
    assert_eq!(corim.id, CorimId::Text("corim-one".into()));
    assert_eq!(
        corim.profile,
        Some(Profile::Uri("tag:arm.com,2025:psa#1.0.0".into()))
    );
    let v = corim.validity.unwrap();
    assert_eq!(
        (v.not_before, v.not_after),
        (Some(1_767_225_600), 1_893_452_400)
    );
    assert_eq!(corim.entities.as_ref().unwrap()[0].roles, vec![1]);
    let rims = corim.dependent_rims.as_ref().unwrap();
    assert_eq!(rims[0].href, vec!["https://example.com/parent".to_owned()]);
    assert_eq!(rims[0].thumbprint.as_ref().unwrap().len(), 1);
    assert!(corim.was_tagged);
    // What the encoder writes decodes to the same CoRIM.
    assert_eq!(decode(&corim.encode()).unwrap(), corim);
}

#[test]
fn a_legacy_plain_profile_is_untagged_text_or_an_oid() {
    let build = |profile: &str| {
        corim_from_json(
            &bytes(&json!({"corim-id": "x", "profile": profile})),
            vec![comid(&psa_refval())],
        )
        .map(|c| c.profile)
    };
    assert_eq!(
        build("http://arm.com/psa/iot/1").unwrap(),
        Some(Profile::Text("http://arm.com/psa/iot/1".into()))
    );
    assert_eq!(
        build("1.2.3").unwrap(),
        Some(Profile::Oid(vec![0x2a, 0x03]))
    );
    assert!(build("not a profile").is_err());
}

/// A CoMID template using every construct the reader knows, in the form
/// the writer writes.
fn everything() -> Value {
    json!({
        "lang": "en",
        "tag-identity": {"id": "every-construct", "version": 1},
        "entities": [{"name": "E", "regid": "https://e.example", "roles": ["creator"]}],
        "linked-tags": [{"target": "11111111-2222-4333-8444-555555555555", "rel": "replaces"}],
        "triples": {
            "reference-values": [{
                "environment": {
                    "class": {"id": {"type": "uuid", "value": "11111111-2222-4333-8444-555555555555"},
                              "vendor": "V", "model": "M", "layer": 1, "index": 2},
                    "instance": {"type": "bytes", "value": "AQID"},
                    "group": {"type": "uuid", "value": "11111111-2222-4333-8444-555555555555"}
                },
                "measurements": [{
                    "key": {"type": "uint", "value": 7},
                    "value": {
                        "version": {"value": "1.2", "scheme": "multipartnumeric"},
                        "svn": {"type": "min-value", "value": 3},
                        "digests": [[1, DIGEST_URL], ["blake3", "AQID"]],
                        "flags": {"is-debug": false, "is-secure": true},
                        "raw-value": {"type": "masked", "value": {"value": "AQID", "mask": "/wD/"}},
                        "raw-value-mask": "/w==",
                        "mac-addr": "02:00:5e:10:00:01",
                        "ip-addr": "192.0.2.1",
                        "serial-number": "SN-1",
                        "ueid": UEID,
                        "uuid": "11111111-2222-4333-8444-555555555555",
                        "name": "fw",
                        "cryptokeys": [
                            {"type": "thumbprint", "value": [1, DIGEST_URL]},
                            {"type": "cose-key", "value": "oQEC"},
                            {"type": "pkix-asn1der-cert", "value": "MAA="}
                        ],
                        "integrity-registers": {
                            "0": {"key-type": "uint", "value": [[1, DIGEST_URL]]},
                            "rim": {"key-type": "text", "value": [[1, DIGEST_URL]]}
                        },
                        "15": {"cbor": "2QI0ggH2"}
                    },
                    "authorized-by": [{"type": "pkix-base64-key", "value": PEM}]
                }, {
                    "key": {"type": "oid", "value": "1.2.840.113549"},
                    "value": {"raw-value": {"type": "bytes", "value": "AQID"}}
                }, {
                    "key": {"type": "cca.platform-config-id", "value": "cfg"},
                    "value": {"svn": {"type": "exact-value", "value": 1}}
                }, {
                    "key": {"type": "cbor-tag", "tag": 9999, "value": "AQ=="},
                    "value": {"name": "odd key"}
                }]
            }],
            "endorsed-values": [{
                "environment": {"class": {"id": {"type": "oid", "value": "2.16.840.1.113741.1.16.1"}}},
                "measurements": [{"value": {"name": "endorsed"}}]
            }],
            "dev-identity-keys": [{
                "environment": {"instance": {"type": "uuid", "value": "11111111-2222-4333-8444-555555555555"}},
                "verification-keys": [{"type": "cert-thumbprint", "value": [1, DIGEST_URL]}],
                "conditions": {"mkey": {"type": "string", "value": "k"},
                               "authorized-by": [{"type": "bytes", "value": "AQID"}]}
            }],
            "attester-verification-keys": [{
                "environment": {"instance": {"type": "ueid", "value": UEID}},
                "verification-keys": [{"type": "pkix-base64-key", "value": PEM}]
            }],
            "10": {"cbor": "gA=="}
        }
    })
}

#[test]
fn writing_is_the_inverse_of_reading() {
    let template = everything();
    let c = comid(&template);
    assert_eq!(
        c.triples.reference_triples[0].measurements[0].values.svn,
        Some(Svn::Min(3))
    );
    assert!(matches!(
        c.triples.reference_triples[0].measurements[0]
            .values
            .raw_value,
        Some(RawValue::Masked { .. })
    ));
    assert_eq!(
        c.triples.other,
        vec![RawEntry {
            key: 10,
            value: vec![0x80]
        }]
    );
    assert_eq!(comid_to_json(&c), template);
    // And through CBOR: a CoRIM of it decodes to the model it was built from.
    let corim = corim_from_json(
        &bytes(&json!({"corim-id": "c", "comids": [template]})),
        vec![],
    )
    .unwrap();
    let decoded = decode(&corim.encode()).unwrap();
    assert_eq!(decoded, corim);
    let again = corim_from_json(&bytes(&corim_to_json(&decoded)), vec![]).unwrap();
    assert_eq!(again, corim);
}

#[test]
fn bad_templates_fail_at_the_path_of_the_problem() {
    let with = |pointer: &str, value: Value| {
        let mut t = psa_refval();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match t.pointer_mut(parent).unwrap_or_else(|| panic!("{pointer}")) {
            Value::Object(o) => {
                o.insert(key.to_owned(), value);
            }
            Value::Array(a) => a[key.parse::<usize>().unwrap()] = value,
            _ => panic!("{pointer}"),
        }
        comid_from_json(&bytes(&t)).unwrap_err().to_string()
    };
    let rv = "/triples/reference-values/0";
    let m = "/triples/reference-values/0/measurements/0";
    for (pointer, value, expected) in [
        (
            "/tag-identity",
            json!({}),
            "tag-identity: missing mandatory `id`",
        ),
        (
            "/triples",
            json!({}),
            "triples: must hold at least one triple",
        ),
        (
            "/triples",
            json!({"refrence-values": []}),
            "triples: unknown key `refrence-values` (expected one of `reference-values`, \
             `endorsed-values`, `dev-identity-keys`, `attester-verification-keys`)",
        ),
        (
            "/entities/0/roles/0",
            json!("owner"),
            "entities[0].roles[0]: unknown role `owner` (expected one of `tagCreator`, \
             `creator`, `maintainer`)",
        ),
        (
            &format!("{rv}/environment"),
            json!({}),
            "triples.reference-values[0].environment: must not be empty",
        ),
        (
            &format!("{rv}/environment/class/id/type"),
            json!("guid"),
            "triples.reference-values[0].environment.class.id.type: unknown class id type \
             `guid` (expected one of `bytes`, `uuid`, `oid`, `psa.impl-id`, `int`, `cbor-tag`)",
        ),
        (
            &format!("{rv}/measurements"),
            json!([]),
            "triples.reference-values[0].measurements: must not be empty",
        ),
        (
            &format!("{m}/value"),
            json!({}),
            "triples.reference-values[0].measurements[0].value: no measurement value set",
        ),
        (
            &format!("{m}/value/digests/0"),
            json!([8, DIGEST_URL]),
            "triples.reference-values[0].measurements[0].value.digests[0]: a sha-512 digest \
             is 64 bytes, this is 32",
        ),
        (
            &format!("{m}/value/digests/0/1"),
            json!("not base64!"),
            "triples.reference-values[0].measurements[0].value.digests[0][1]: not base64: \
             \"not base64!\"",
        ),
        (
            &format!("{m}/value/flags"),
            json!({}),
            "triples.reference-values[0].measurements[0].value.flags: must set at least one flag",
        ),
        (
            &format!("{m}/value/raw-value"),
            json!({"type": "masked", "value": {"value": "AQID", "mask": "AQ=="}}),
            "triples.reference-values[0].measurements[0].value.raw-value.value: the value \
             has 3 bytes and the mask 1",
        ),
        (
            &format!("{m}/value/2"),
            json!({"cbor": "AA=="}),
            "triples.reference-values[0].measurements[0].value.2: this key is written from \
             its named field",
        ),
        (
            "/triples/attester-verification-keys/0/environment/instance/value",
            json!("AQID"),
            "triples.attester-verification-keys[0].environment.instance.value: not a UEID: \
             type 0x01 with 16, 24 or 32 bytes, 0x02 with 6 or 8, or 0x03 with 14",
        ),
        (
            "/triples/attester-verification-keys/0/verification-keys/0/value",
            json!("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
            "triples.attester-verification-keys[0].verification-keys[0].value: expected PEM \
             text with one block of PUBLIC KEY",
        ),
        (
            "/triples/attester-verification-keys/0/verification-keys/0/value",
            json!(format!("{PEM}\n{PEM}")),
            "triples.attester-verification-keys[0].verification-keys[0].value: expected PEM \
             text with one block of PUBLIC KEY",
        ),
    ] {
        assert_eq!(with(pointer, value), expected);
    }
    let conditional = with("/triples", json!({"conditional-endorsements": []}));
    assert!(
        conditional.starts_with("triples.conditional-endorsements: no scheme Vouch verifies"),
        "{conditional}"
    );
    assert_eq!(
        comid_from_json(b"{\"tag-identity\": ").unwrap_err().path,
        ""
    );
    let no_tags = corim_from_json(br#"{"corim-id": "x"}"#, vec![]).unwrap_err();
    assert_eq!(
        no_tags.to_string(),
        "the CoRIM has no tags: give it at least one CoMID"
    );
    let validity = corim_from_json(
        br#"{"corim-id": "x", "validity": {"not-before": "2030-01-01T00:00:00Z", "not-after": "2020-01-01T00:00:00Z"}}"#,
        vec![comid(&psa_refval())],
    )
    .unwrap_err();
    assert_eq!(
        validity.to_string(),
        "validity: not-before is after not-after"
    );
}
