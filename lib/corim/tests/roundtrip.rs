//! Property tests: encode → decode is the identity on generated models, and
//! arbitrary or mutated bytes never make the decoder panic.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use vouch_corim::*;

/// Tags that no modelled choice decodes specially, for the `Other` variants.
const FREE_TAG: std::ops::Range<u64> = 1000..2000;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .:/#,-]{0,24}"
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn uuid() -> impl Strategy<Value = [u8; 16]> {
    any::<[u8; 16]>()
}

/// Small, well-formed encoded CBOR items for raw-kept values.
fn raw_cbor() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u8..24).prop_map(|n| vec![n]),
        bytes(20).prop_map(|b| {
            let mut out = vec![0x40 | b.len() as u8];
            out.extend(b);
            out
        }),
        Just(vec![0x82, 0x01, 0x61, b'a']),
        Just(vec![0xa1, 0x01, 0xf5]),
        Just(vec![0x9f, 0x01, 0xbf, 0xff, 0xff]),
    ]
}

fn digest() -> impl Strategy<Value = Digest> {
    (
        prop_oneof![
            any::<i64>().prop_map(DigestAlg::Int),
            text().prop_map(DigestAlg::Text)
        ],
        bytes(64),
    )
        .prop_map(|(alg, value)| Digest { alg, value })
}

fn crypto_key() -> impl Strategy<Value = CryptoKey> {
    prop_oneof![
        text().prop_map(CryptoKey::PkixBase64Key),
        text().prop_map(CryptoKey::PkixBase64Cert),
        text().prop_map(CryptoKey::PkixBase64CertPath),
        digest().prop_map(CryptoKey::Thumbprint),
        Just(CryptoKey::CoseKey(vec![0xa2, 0x01, 0x02, 0x20, 0x01])),
        digest().prop_map(CryptoKey::CertThumbprint),
        bytes(40).prop_map(CryptoKey::Bytes),
        digest().prop_map(CryptoKey::CertPathThumbprint),
        bytes(40).prop_map(CryptoKey::PkixAsn1DerCert),
        (FREE_TAG, raw_cbor()).prop_map(|(tag, value)| CryptoKey::Other { tag, value }),
    ]
}

fn class() -> impl Strategy<Value = Class> {
    let class_id = prop_oneof![
        bytes(40).prop_map(ClassId::Bytes),
        bytes(40).prop_map(ClassId::PsaImplId),
        uuid().prop_map(ClassId::Uuid),
        bytes(12).prop_map(ClassId::Oid),
        (FREE_TAG, raw_cbor()).prop_map(|(tag, value)| ClassId::Other { tag, value }),
    ];
    (
        option::of(class_id),
        option::of(text()),
        option::of(text()),
        option::of(any::<u64>()),
        option::of(any::<u64>()),
    )
        .prop_map(|(class_id, vendor, model, layer, index)| Class {
            class_id,
            vendor,
            model,
            layer,
            index,
        })
}

fn environment() -> impl Strategy<Value = Environment> {
    let instance = prop_oneof![
        bytes(33).prop_map(Instance::Ueid),
        uuid().prop_map(Instance::Uuid),
        bytes(64).prop_map(Instance::Bytes),
        (FREE_TAG, raw_cbor()).prop_map(|(tag, value)| Instance::Other { tag, value }),
    ];
    let group = prop_oneof![
        uuid().prop_map(Group::Uuid),
        bytes(16).prop_map(Group::Bytes),
        (FREE_TAG, raw_cbor()).prop_map(|(tag, value)| Group::Other { tag, value }),
    ];
    (option::of(class()), option::of(instance), option::of(group)).prop_map(
        |(class, instance, group)| Environment {
            class,
            instance,
            group,
        },
    )
}

fn measurement_key() -> impl Strategy<Value = MeasurementKey> {
    let refval = (
        option::of(text()),
        option::of(text()),
        option::of(bytes(32)),
    )
        .prop_map(|(label, version, signer_id)| PsaRefValId {
            label,
            version,
            signer_id,
        });
    prop_oneof![
        text().prop_map(MeasurementKey::Text),
        any::<u64>().prop_map(MeasurementKey::Uint),
        uuid().prop_map(MeasurementKey::Uuid),
        bytes(12).prop_map(MeasurementKey::Oid),
        refval.prop_map(MeasurementKey::PsaRefValId),
        text().prop_map(MeasurementKey::CcaPlatformConfigId),
        (FREE_TAG, raw_cbor()).prop_map(|(tag, value)| MeasurementKey::Other { tag, value }),
    ]
}

fn values() -> impl Strategy<Value = MeasurementValues> {
    let version = (
        text(),
        option::of(prop_oneof![
            any::<i64>().prop_map(VersionScheme::Code),
            text().prop_map(VersionScheme::Text),
        ]),
    )
        .prop_map(|(version, scheme)| Version { version, scheme });
    let svn = prop_oneof![
        any::<u64>().prop_map(Svn::Exact),
        any::<u64>().prop_map(Svn::Min)
    ];
    let flags = proptest::collection::btree_map(0i64..12, any::<bool>(), 0..6)
        .prop_map(|m| Flags(m.into_iter().collect()));
    let raw_value = prop_oneof![
        bytes(32).prop_map(RawValue::Bytes),
        bytes(32).prop_map(RawValue::Untagged),
        (bytes(8), bytes(8)).prop_map(|(value, mask)| RawValue::Masked { value, mask }),
    ];
    let register = (
        prop_oneof![
            any::<u64>().prop_map(RegisterId::Index),
            text().prop_map(RegisterId::Label)
        ],
        vec(digest(), 0..3),
    )
        .prop_map(|(id, digests)| IntegrityRegister { id, digests });
    let other = proptest::collection::btree_map(16i64..40, raw_cbor(), 0..3).prop_map(|m| {
        m.into_iter()
            .map(|(key, value)| RawEntry { key, value })
            .collect()
    });
    (
        (
            option::of(version),
            option::of(svn),
            option::of(vec(digest(), 0..3)),
            option::of(flags),
            option::of(raw_value),
        ),
        (
            option::of(bytes(8)),
            option::of(bytes(8)),
            option::of(bytes(16)),
            option::of(text()),
            option::of(bytes(33)),
        ),
        (
            option::of(uuid()),
            option::of(text()),
            option::of(vec(crypto_key(), 0..3)),
            option::of(vec(register, 0..3)),
            other,
        ),
    )
        .prop_map(
            |(
                (version, svn, digests, flags, raw_value),
                (raw_value_mask, mac_addr, ip_addr, serial_number, ueid),
                (uuid, name, cryptokeys, integrity_registers, other),
            )| MeasurementValues {
                version,
                svn,
                digests,
                flags,
                raw_value,
                raw_value_mask,
                mac_addr,
                ip_addr,
                serial_number,
                ueid,
                uuid,
                name,
                cryptokeys,
                integrity_registers,
                other,
            },
        )
}

fn measurement() -> impl Strategy<Value = Measurement> {
    (
        option::of(measurement_key()),
        values(),
        option::of(vec(crypto_key(), 0..2)),
    )
        .prop_map(|(key, values, authorized_by)| Measurement {
            key,
            values,
            authorized_by,
        })
}

fn value_triple() -> impl Strategy<Value = ReferenceTriple> {
    (environment(), vec(measurement(), 0..3)).prop_map(|(environment, measurements)| {
        ReferenceTriple {
            environment,
            measurements,
        }
    })
}

fn key_triple() -> impl Strategy<Value = KeyTriple> {
    let conditions = (
        option::of(measurement_key()),
        option::of(vec(crypto_key(), 0..2)),
    )
        .prop_map(|(mkey, authorized_by)| KeyConditions {
            mkey,
            authorized_by,
        });
    (
        environment(),
        vec(crypto_key(), 0..3),
        option::of(conditions),
    )
        .prop_map(|(environment, keys, conditions)| KeyTriple {
            environment,
            keys,
            conditions,
        })
}

fn triples() -> impl Strategy<Value = Triples> {
    let other = proptest::collection::btree_map(4i64..12, raw_cbor(), 0..2).prop_map(|m| {
        m.into_iter()
            .map(|(key, value)| RawEntry { key, value })
            .collect()
    });
    (
        vec(value_triple(), 0..3),
        vec(value_triple(), 0..2),
        vec(key_triple(), 0..2),
        vec(key_triple(), 0..3),
        other,
    )
        .prop_map(
            |(reference_triples, endorsed_triples, identity_triples, attest_key_triples, other)| {
                Triples {
                    reference_triples,
                    endorsed_triples,
                    identity_triples,
                    attest_key_triples,
                    other,
                }
            },
        )
}

fn tag_id() -> impl Strategy<Value = TagId> {
    prop_oneof![text().prop_map(TagId::Text), uuid().prop_map(TagId::Uuid)]
}

fn entity() -> impl Strategy<Value = Entity> {
    (text(), option::of(text()), vec(0u64..4, 1..3)).prop_map(|(name, reg_id, roles)| Entity {
        name,
        reg_id,
        roles,
    })
}

fn comid() -> impl Strategy<Value = Comid> {
    let linked =
        (tag_id(), 0u64..2).prop_map(|(linked_tag_id, rel)| LinkedTag { linked_tag_id, rel });
    (
        option::of(text()),
        tag_id(),
        option::of(any::<u64>()),
        option::of(vec(entity(), 0..2)),
        option::of(vec(linked, 0..2)),
        triples(),
    )
        .prop_map(
            |(language, tag_id, tag_version, entities, linked_tags, triples)| Comid {
                language,
                tag_identity: TagIdentity {
                    tag_id,
                    tag_version,
                },
                entities,
                linked_tags,
                triples,
            },
        )
}

fn corim() -> impl Strategy<Value = Corim> {
    let id = prop_oneof![
        text().prop_map(CorimId::Text),
        uuid().prop_map(CorimId::Uuid),
        // 16 bytes would decode as a UUID.
        bytes(15).prop_map(CorimId::Bytes),
    ];
    let tag = prop_oneof![
        3 => comid().prop_map(ConciseTag::Comid),
        1 => (prop_oneof![Just(505u64), Just(508u64), 600u64..700], bytes(10))
            .prop_map(|(tag, bytes)| ConciseTag::Unsupported { tag, bytes }),
    ];
    let profile = prop_oneof![
        text().prop_map(Profile::Uri),
        text().prop_map(Profile::Text),
        bytes(10).prop_map(Profile::Oid),
    ];
    let validity =
        (option::of(any::<i64>()), any::<i64>()).prop_map(|(not_before, not_after)| Validity {
            not_before,
            not_after,
        });
    let locator = (vec(text(), 0..3), option::of(vec(digest(), 0..3)))
        .prop_map(|(href, thumbprint)| Locator { href, thumbprint });
    (
        id,
        vec(tag, 0..3),
        option::of(vec(locator, 0..2)),
        option::of(profile),
        option::of(validity),
        option::of(vec(entity(), 0..2)),
        any::<bool>(),
    )
        .prop_map(
            |(id, tags, dependent_rims, profile, validity, entities, was_tagged)| Corim {
                id,
                tags,
                dependent_rims,
                profile,
                validity,
                entities,
                was_tagged,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_is_identity(c in corim()) {
        let bytes = c.encode();
        let back = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &c);
        // Deterministic: the same model always yields the same bytes.
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn comid_encode_then_decode_is_identity(c in comid()) {
        let back = decode_comid(&c.encode()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, c);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in bytes(512)) {
        let _ = decode(&b);
        let _ = decode_comid(&b);
    }

    #[test]
    fn mutated_encodings_never_panic(
        c in corim(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = c.encode();
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        let _ = decode(&bytes);
        let len = cut.index(bytes.len() + 1);
        let _ = decode(&bytes[..len]);
    }
}
