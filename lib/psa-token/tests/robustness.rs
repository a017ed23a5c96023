//! Untrusted input never panics the decoder, and no corruption of a signed
//! token both decodes and verifies.

use proptest::prelude::*;
use vouch_psa_token::{Claims, Token};
use vouch_testkit::keys::deterministic_key;
use vouch_testkit::psa::PsaClaims;

fn good_token() -> (Vec<u8>, vouch_crypto::VerifyingKey) {
    let key = deterministic_key(11).expect("key");
    (
        PsaClaims::profile_2().sign(&key).expect("signs"),
        key.verifying_key(),
    )
}

#[test]
fn every_truncation_is_rejected() {
    let (token, _) = good_token();
    for len in 0..token.len() {
        assert!(
            Token::decode(&token[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    assert!(Token::decode(&token).is_ok());
}

#[test]
fn every_single_bit_flip_fails_decode_or_verify() {
    let (token, key) = good_token();
    for i in 0..token.len() {
        for bit in 0..8 {
            let mut t = token.clone();
            t[i] ^= 1 << bit;
            if let Ok(decoded) = Token::decode(&t) {
                assert!(
                    decoded.verify_signature(&key).is_err(),
                    "flip of bit {bit} in byte {i} still verifies"
                );
            }
        }
    }
}

#[test]
fn hostile_lengths_do_not_allocate_or_hang() {
    // Claimed lengths of 2^64-1 for arrays, maps and strings.
    for bytes in [
        &[0xd2, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
        &[
            0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        &[
            0xa1, 0x0a, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
        &[
            0xa1, 0x19, 0x09, 0x5f, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ],
    ] {
        assert!(Token::decode(bytes).is_err());
        assert!(Claims::decode_map(bytes).is_err());
    }
    // Deep nesting far beyond the limit fails cleanly (no stack overflow).
    let mut deep = vec![0xa1, 0x19, 0x1e, 0x61];
    deep.extend(std::iter::repeat_n(0x81, 100_000));
    deep.push(0x00);
    assert!(Claims::decode_map(&deep).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Token::decode(&bytes);
        let _ = Claims::decode_map(&bytes);
        // Behind a valid tag and array header, the envelope parser gets
        // further into the input.
        let mut framed = vec![0xd2, 0x84];
        framed.extend_from_slice(&bytes);
        let _ = Token::decode(&framed);
        let mut claims = vec![0xa3];
        claims.extend_from_slice(&bytes);
        let _ = Claims::decode_map(&claims);
    }

    #[test]
    fn spliced_tokens_never_panic(
        cut in 0usize..600,
        insert in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let (token, key) = good_token();
        let cut = cut.min(token.len());
        let mut t = token[..cut].to_vec();
        t.extend_from_slice(&insert);
        t.extend_from_slice(&token[cut..]);
        if let Ok(decoded) = Token::decode(&t) {
            // Only the untouched token may verify.
            if insert.is_empty() {
                prop_assert!(decoded.verify_signature(&key).is_ok());
            } else {
                let _ = decoded.verify_signature(&key);
                let _ = decoded.claims().annotated_evidence();
            }
        }
    }
}
