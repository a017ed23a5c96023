//! Feeds arbitrary bytes to the Parsec TPM evidence decoder (CBOR and JSON)
//! and the TPMT_PUBLIC decoder: they must never panic, and anything accepted
//! must be usable and survive re-encoding.
//!
//! Seeds: evidence minted by the crate's own `mint` module, signed by the
//! fixed key, on P-256 and P-384 attested keys.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_tpm::mint::{ParsecTpmClaims, parsec_tpm_evidence};
use vouch_tpm::{ParsecTpmEvidence, TpmAlgId, TpmtPublic};

fn signing_key() -> SigningKey {
    SigningKey::from_private_scalar(Curve::P256, &[0x11; 32])
        .unwrap_or_else(|e| panic!("fixed fuzz key: {e}"))
}

/// A fixed key, so accepted inputs also exercise signature verification.
fn key() -> &'static VerifyingKey {
    static KEY: OnceLock<VerifyingKey> = OnceLock::new();
    KEY.get_or_init(|| signing_key().verifying_key())
}

fn seeds() -> Vec<Vec<u8>> {
    let mut kid = vec![0x01];
    kid.extend_from_slice(&[0x6b; 32]);
    [(Curve::P256, 32), (Curve::P384, 48)]
        .into_iter()
        .map(|(curve, len)| {
            let attested = SigningKey::from_private_scalar(curve, &vec![0x5c; len])
                .unwrap_or_else(|e| panic!("fixed fuzz key: {e}"))
                .verifying_key();
            let claims = ParsecTpmClaims {
                kid: kid.clone(),
                attested_key: attested,
                nonce: vec![0x4e; 32],
                pcr_bank: TpmAlgId::SHA256,
                pcrs: vec![0, 1, 2],
                pcr_digest: vec![0x70; 32],
            };
            parsec_tpm_evidence(&claims, &signing_key())
                .expect("Parsec TPM evidence")
                .to_cbor()
        })
        .collect()
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
    if let Ok(evidence) = ParsecTpmEvidence::decode(data) {
        let _ = evidence.verify(key());
        let _ = evidence.annotated_evidence();
        let _ = evidence.attested_key_spki_der();
        let again = ParsecTpmEvidence::decode(&evidence.to_cbor());
        assert_eq!(again.ok(), Some(evidence));
    }
    let _ = ParsecTpmEvidence::from_json(data);
    if let Ok(public) = TpmtPublic::decode(data) {
        let _ = public.name();
    }
});
