//! Feeds arbitrary bytes to the Parsec TPM evidence decoder (CBOR and JSON)
//! and the TPMT_PUBLIC decoder: they must never panic, and anything accepted
//! must be usable and survive re-encoding.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_tpm::{ParsecTpmEvidence, TpmtPublic};

/// A fixed key, so accepted inputs also exercise signature verification.
fn key() -> &'static VerifyingKey {
    static KEY: OnceLock<VerifyingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::from_private_scalar(Curve::P256, &[0x11; 32])
            .map(|k| k.verifying_key())
            .unwrap_or_else(|e| panic!("fixed fuzz key: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
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
