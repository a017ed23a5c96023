//! Untrusted input never panics the decoders, and no corruption of signed
//! evidence both decodes and verifies unless it only touched unsigned parts.

use proptest::prelude::*;
use uuid::Uuid;
use vouch_crypto::{Curve, Hash, SigningKey};
use vouch_tpm::mint::{self, EnactTrustClaims, ParsecTpmClaims};
use vouch_tpm::{
    EnactTrustToken, ParsecTpmEvidence, TpmAlgId, TpmsAttest, TpmtPublic, TpmtSignature, pcr_digest,
};

fn ak() -> SigningKey {
    SigningKey::from_private_scalar(Curve::P256, &[0x21; 32]).expect("key")
}

fn enacttrust() -> Vec<u8> {
    let mut claims = EnactTrustClaims::basic();
    claims.extra_data = vec![0x5a; 32];
    mint::enacttrust_token(&claims, &ak())
        .expect("mint")
        .to_bytes()
}

fn parsec() -> Vec<u8> {
    let attested = SigningKey::from_private_scalar(Curve::P256, &[0x22; 32])
        .expect("key")
        .verifying_key();
    let zero = [0u8; 32];
    mint::parsec_tpm_evidence(
        &ParsecTpmClaims {
            kid: [&[1u8][..], &[0x33; 32]].concat(),
            attested_key: attested,
            nonce: vec![0xde, 0xad, 0xbe, 0xef],
            pcr_bank: TpmAlgId::SHA256,
            pcrs: vec![0, 1, 2, 7],
            pcr_digest: pcr_digest(Hash::Sha256, &[&zero, &zero, &zero, &zero]),
        },
        &ak(),
    )
    .expect("mint")
    .to_cbor()
}

/// Runs every decoder over `data`; none may panic.
fn decode_everything(data: &[u8]) {
    let key = ak().verifying_key();
    if let Ok(t) = EnactTrustToken::decode(data) {
        let _ = t.verify(&key);
        let _ = t.annotated_evidence();
        assert_eq!(t.to_bytes(), data, "accepted tokens re-encode exactly");
    }
    if let Ok(e) = ParsecTpmEvidence::decode(data) {
        let _ = e.verify(&key);
        let _ = e.annotated_evidence();
        let _ = e.attested_key_spki_der();
        assert_eq!(ParsecTpmEvidence::decode(&e.to_cbor()).ok(), Some(e));
    }
    let _ = ParsecTpmEvidence::from_json(data);
    if let Ok(a) = TpmsAttest::decode(data) {
        assert_eq!(a.raw(), data);
        assert_eq!(TpmsAttest::encode(a.fields().clone()).ok(), Some(a));
    }
    if let Ok(s) = TpmtSignature::decode(data) {
        let _ = s.verify(&key, data);
        assert_eq!(s.encode().ok().as_deref(), Some(data));
    }
    if let Ok(p) = TpmtPublic::decode(data) {
        let _ = p.name();
    }
}

#[test]
fn every_truncation_is_rejected() {
    let token = enacttrust();
    for len in 0..token.len() {
        assert!(
            EnactTrustToken::decode(&token[..len]).is_err(),
            "prefix {len}"
        );
    }
    assert!(EnactTrustToken::decode(&token).is_ok());
    let ev = parsec();
    for len in 0..ev.len() {
        assert!(
            ParsecTpmEvidence::decode(&ev[..len]).is_err(),
            "prefix {len}"
        );
    }
    assert!(ParsecTpmEvidence::decode(&ev).is_ok());
}

#[test]
fn enacttrust_bit_flips_fail_unless_in_the_unsigned_node_id() {
    let token = enacttrust();
    let key = ak().verifying_key();
    for i in 0..token.len() {
        for bit in 0..8 {
            let mut t = token.clone();
            t[i] ^= 1 << bit;
            let Ok(decoded) = EnactTrustToken::decode(&t) else {
                continue;
            };
            if decoded.verify(&key).is_ok() {
                assert!(i < 16, "flip of bit {bit} in byte {i} still verifies");
                assert_ne!(
                    decoded.node_id(),
                    Uuid::from_u128(0x7df7_714e_aa04_4638_bcbf_434b_1dd7_20f1)
                );
            }
        }
    }
}

#[test]
fn parsec_bit_flips_never_change_what_was_signed() {
    let ev = parsec();
    let original = ParsecTpmEvidence::decode(&ev).expect("decode");
    let key = ak().verifying_key();
    for i in 0..ev.len() {
        for bit in 0..8 {
            let mut t = ev.clone();
            t[i] ^= 1 << bit;
            let Ok(decoded) = ParsecTpmEvidence::decode(&t) else {
                continue;
            };
            if decoded.verify(&key).is_ok() {
                // Only the unsigned version string can change unnoticed.
                assert_eq!(decoded.kat().cert_info(), original.kat().cert_info());
                assert_eq!(decoded.kat().pub_area(), original.kat().pub_area());
                assert_eq!(decoded.pat().attest_info(), original.pat().attest_info());
                assert_eq!(decoded.kid(), original.kid(), "byte {i} bit {bit}");
            }
        }
    }
}

#[test]
fn real_vectors_survive_truncation_and_every_decoder() {
    let Some(dir) = vouch_testkit::vectors::dir() else {
        return;
    };
    for rel in [
        "enacttrust/tokens/basic.token",
        "enacttrust/tokens/basic.pre-2023-02-format.token",
        "enacttrust/derived/enacttrust-wrong-type-certify.token",
        "parsec-tpm/tokens/evidence.cbor",
        "parsec-tpm/negative/bad_evidence.cbor",
        "parsec-tpm/parsec-lib/evidence_bad_kat.cbor",
        "parsec-tpm/parsec-lib/evidence.json",
    ] {
        let bytes = vouch_testkit::vectors::read(&dir, rel);
        for len in 0..=bytes.len() {
            decode_everything(&bytes[..len]);
            decode_everything(&bytes[len..]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_everything(&data);
    }

    #[test]
    fn mutated_tokens_never_panic(
        which in 0usize..2,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut data = if which == 0 { enacttrust() } else { parsec() };
        for (pos, value) in edits {
            let n = data.len();
            data[pos % n] = value;
        }
        let cut = cut % (data.len() + 1);
        decode_everything(&data[..cut]);
        decode_everything(&data);
    }

    #[test]
    fn minted_enacttrust_round_trips(
        pcrs in proptest::collection::btree_set(0u32..64, 0..10),
        bank in prop_oneof![Just(TpmAlgId::SHA256), Just(TpmAlgId::SHA384), Just(TpmAlgId::SHA512)],
        digest in proptest::collection::vec(any::<u8>(), 0..80),
        nonce in proptest::collection::vec(any::<u8>(), 0..80),
        firmware in any::<u64>(),
        node in any::<u128>(),
    ) {
        let claims = EnactTrustClaims {
            node_id: Uuid::from_u128(node),
            firmware_version: firmware,
            pcr_bank: bank,
            pcrs: pcrs.iter().copied().collect(),
            pcr_digest: digest.clone(),
            extra_data: nonce.clone(),
        };
        let bytes = mint::enacttrust_token(&claims, &ak()).expect("mint").to_bytes();
        let token = EnactTrustToken::decode(&bytes).expect("decode");
        prop_assert!(token.verify(&ak().verifying_key()).is_ok());
        prop_assert_eq!(token.node_id(), claims.node_id);
        prop_assert_eq!(token.firmware_version(), firmware);
        prop_assert_eq!(token.pcr_selection(), claims.pcrs.as_slice());
        prop_assert_eq!(token.hash_algorithm(), bank);
        prop_assert_eq!(token.pcr_digest(), digest.as_slice());
        prop_assert_eq!(token.extra_data(), nonce.as_slice());
    }
}
