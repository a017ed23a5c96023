//! Random and mutated input never panics, and a changed certificate never
//! validates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use base64::Engine as _;
use proptest::prelude::*;
use vouch_x509::mint::RiotDevice;
use vouch_x509::{
    Certificate, TrustStore, Usage, parse_pem_chain, parse_riot_subject_alt_name,
    riot_composite_device_id, validate_chain,
};

const NOW: i64 = 1_800_000_000;

struct Fixture {
    chain: Vec<Certificate>,
    anchors: TrustStore,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let device = RiotDevice::generate(&[0x42; 32], NOW).unwrap();
        Fixture {
            chain: parse_pem_chain(&device.evidence_pem()).unwrap(),
            anchors: TrustStore::from_certs(parse_pem_chain(&device.trust_anchor_pem()).unwrap()),
        }
    })
}

fn pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n")
}

/// Everything a caller might do with a parsed certificate.
fn exercise(cert: &Certificate) {
    let _ = cert.subject();
    let _ = cert.issuer();
    let _ = cert.serial_hex();
    let _ = cert.not_before_unix();
    let _ = cert.not_after_unix();
    let _ = cert.ec_public_key();
    let _ = cert.public_key_spki_der();
    let _ = cert.critical_extensions().count();
    let _ = cert.to_pem();
    let _ = riot_composite_device_id(cert);
    let f = fixture();
    let _ = validate_chain(
        std::slice::from_ref(cert),
        &f.anchors,
        NOW,
        Usage::riot_alias(),
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_der_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(cert) = Certificate::from_der(&bytes) {
            exercise(&cert);
        }
        let _ = parse_riot_subject_alt_name(&bytes);
    }

    #[test]
    fn random_text_never_panics(text in ".{0,1024}") {
        let _ = parse_pem_chain(&text);
    }

    #[test]
    fn random_pem_never_panics(
        blocks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..4),
        label in "[A-Z ]{0,12}",
        wrap in 1usize..100,
    ) {
        let mut text = String::new();
        for der in &blocks {
            let b64 = base64::engine::general_purpose::STANDARD.encode(der);
            text.push_str(&format!("-----BEGIN {label}-----\n"));
            for chunk in b64.as_bytes().chunks(wrap) {
                text.push_str(std::str::from_utf8(chunk).unwrap());
                text.push('\n');
            }
            text.push_str(&format!("-----END {label}-----\n"));
        }
        if let Ok(chain) = parse_pem_chain(&text) {
            prop_assert_eq!(chain.len(), blocks.len());
            for cert in &chain {
                exercise(cert);
            }
        }
    }

    #[test]
    fn mutated_certificates_never_panic_and_never_validate(
        which in 0usize..3,
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        truncate in any::<bool>(),
    ) {
        let f = fixture();
        let original = f.chain[which].der();
        let i = pos.index(original.len());
        let mut der = original.to_vec();
        if truncate {
            der.truncate(i);
        } else {
            der[i] ^= xor;
        }
        let _ = parse_pem_chain(&pem(&der));
        let Ok(cert) = Certificate::from_der(&der) else { return Ok(()); };
        exercise(&cert);
        let mut chain = f.chain.clone();
        chain[which] = cert;
        let result = validate_chain(&chain, &f.anchors, NOW, Usage::riot_alias());
        prop_assert!(result.is_err(), "a certificate changed at byte {} still validated", i);
    }

    #[test]
    fn mutated_riot_extensions_never_panic(
        pos in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let f = fixture();
        let (_, value) = f.chain[0].extension(&vouch_x509::oid::SUBJECT_ALT_NAME).unwrap();
        let mut value = value.to_vec();
        let i = pos.index(value.len());
        value[i] ^= xor;
        let _ = parse_riot_subject_alt_name(&value);
        value.truncate(i);
        prop_assert!(parse_riot_subject_alt_name(&value).is_err());
    }
}

#[test]
fn the_fixture_validates() {
    let f = fixture();
    validate_chain(&f.chain, &f.anchors, NOW, Usage::riot_alias()).unwrap();
}
