//! Untrusted input never panics the decoders, and no corruption of a signed
//! token both decodes and verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use vouch_cca_token::mint::{self, CcaDevice, MintOptions, ParsecMintOptions};
use vouch_cca_token::{CcaToken, Framing, ParsecCcaEvidence, PlatformClaims, RealmClaims};
use vouch_crypto::{Curve, SigningKey};
use vouch_testkit::keys::deterministic_key_on;

fn device() -> CcaDevice {
    CcaDevice::new(
        deterministic_key_on(Curve::P256, 21).unwrap(),
        deterministic_key_on(Curve::P384, 22).unwrap(),
    )
}

fn minted(framing: Framing) -> (Vec<u8>, CcaDevice) {
    let d = device();
    let token = d
        .token_for_nonce(
            &mint::sample_platform_claims(),
            &mint::sample_realm_claims(&d.rak().verifying_key()),
            &[7; 32],
            &MintOptions {
                framing,
                ..MintOptions::default()
            },
        )
        .unwrap();
    (token, d)
}

fn parsec_minted() -> Vec<u8> {
    let d = device();
    let attested = deterministic_key_on(Curve::P256, 23)
        .unwrap()
        .verifying_key();
    d.parsec_evidence(
        &mint::sample_platform_claims(),
        &mint::sample_realm_claims(&d.rak().verifying_key()),
        &[1, 2, 3, 4, 5, 6, 7, 8],
        &attested,
        &ParsecMintOptions::default(),
    )
    .unwrap()
}

/// Where `needle` sits in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

#[test]
fn every_truncation_is_rejected() {
    for framing in [Framing::EatCollection, Framing::CmwCollection] {
        let (token, _) = minted(framing);
        assert!(CcaToken::decode(&token).is_ok());
        for len in 0..token.len() {
            assert!(CcaToken::decode(&token[..len]).is_err(), "prefix of {len}");
        }
    }
    let ev = parsec_minted();
    assert!(ParsecCcaEvidence::decode(&ev).is_ok());
    for len in 0..ev.len() {
        assert!(
            ParsecCcaEvidence::decode(&ev[..len]).is_err(),
            "prefix of {len}"
        );
    }
}

#[test]
fn no_bit_flip_in_a_signed_token_decodes_and_verifies() {
    let (token, d) = minted(Framing::CmwCollection);
    let cpak = d.cpak().verifying_key();
    let decoded = CcaToken::decode(&token).unwrap();
    decoded.verify(&cpak).unwrap();
    // Flip every bit of both COSE_Sign1 envelopes (the collection framing
    // around them is not signed: the CMW type, for one, may change freely).
    for inner in [decoded.platform_token(), decoded.realm_token()] {
        let start = find(&token, inner);
        for i in start..start + inner.len() {
            for bit in 0..8 {
                let mut t = token.clone();
                t[i] ^= 1 << bit;
                if let Ok(flipped) = CcaToken::decode(&t) {
                    assert!(
                        flipped.verify(&cpak).is_err(),
                        "flip of bit {bit} in byte {i} still verifies"
                    );
                }
            }
        }
    }
}

#[test]
fn hostile_lengths_do_not_allocate_or_hang() {
    for bytes in [
        // Tag 907 and 399 around a map claiming 2^64-1 entries.
        &[
            0xd9, 0x03, 0x8b, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ][..],
        &[
            0xd9, 0x01, 0x8f, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        // An entry claiming a 2^64-1 byte token.
        &[
            0xd9, 0x01, 0x8f, 0xa1, 0x19, 0xac, 0xca, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff,
        ],
        // A CMW record claiming 2^64-1 elements.
        &[
            0xd9, 0x03, 0x8b, 0xa1, 0x19, 0xac, 0xca, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff,
        ],
    ] {
        assert!(CcaToken::decode(bytes).is_err());
    }
    for bytes in [
        &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
        &[
            0xa1, 0x19, 0x09, 0x5f, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        &[
            0xa1, 0x0a, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    ] {
        assert!(PlatformClaims::decode(bytes).is_err());
        assert!(RealmClaims::decode(bytes).is_err());
        assert!(ParsecCcaEvidence::decode(bytes).is_err());
    }
    // Deep nesting inside an ignored claim.
    let mut deep = vec![0xa1, 0x18, 0x63];
    deep.extend(std::iter::repeat_n(0x81, 10_000));
    deep.push(0x00);
    assert!(PlatformClaims::decode(&deep).is_err());
    assert!(RealmClaims::decode(&deep).is_err());
    let mut deep = vec![0xd9, 0x03, 0x8b, 0xa1, 0x01];
    deep.extend(std::iter::repeat_n(0x81, 10_000));
    deep.push(0x00);
    assert!(CcaToken::decode(&deep).is_err());
}

#[test]
fn a_wrong_cpak_curve_is_an_error_not_a_panic() {
    let (token, _) = minted(Framing::EatCollection);
    let t = CcaToken::decode(&token).unwrap();
    for curve in [Curve::P384, Curve::P521] {
        let other = SigningKey::generate(curve).unwrap().verifying_key();
        assert!(t.verify_platform(&other).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = CcaToken::decode(&bytes);
        let _ = ParsecCcaEvidence::decode(&bytes);
        let _ = PlatformClaims::decode(&bytes);
        let _ = RealmClaims::decode(&bytes);
    }

    #[test]
    fn collection_prefixed_bytes_never_panic(
        tag in prop_oneof![Just([0xd9u8, 0x01, 0x8f]), Just([0xd9u8, 0x03, 0x8b])],
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut bytes = tag.to_vec();
        bytes.extend(body);
        let _ = CcaToken::decode(&bytes);
    }

    #[test]
    fn mutated_tokens_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        framing in prop_oneof![Just(Framing::EatCollection), Just(Framing::CmwCollection)],
    ) {
        let (mut token, d) = minted(framing);
        for (at, value) in edits {
            let i = at.index(token.len());
            token[i] = value;
        }
        if let Ok(t) = CcaToken::decode(&token) {
            let _ = t.verify(&d.cpak().verifying_key());
            let _ = t.platform_claims().annotated_evidence();
            let _ = t.realm_claims().annotated_evidence();
        }
    }

    #[test]
    fn mutated_parsec_evidence_never_panics(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut ev = parsec_minted();
        for (at, value) in edits {
            let i = at.index(ev.len());
            ev[i] = value;
        }
        if let Ok(e) = ParsecCcaEvidence::decode(&ev) {
            let _ = e.verify(&device().cpak().verifying_key());
            let _ = e.attested_key_spki();
        }
    }
}
