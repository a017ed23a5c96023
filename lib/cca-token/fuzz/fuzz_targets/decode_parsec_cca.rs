//! Feeds arbitrary bytes to the Parsec CCA evidence decoder: it must never
//! panic, whatever the input, and anything accepted must be usable.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_cca_token::ParsecCcaEvidence;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};

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
    if let Ok(evidence) = ParsecCcaEvidence::decode(data) {
        let _ = evidence.verify(key());
        let _ = evidence.verify_kat_binding();
        let _ = evidence.attested_key_spki();
        assert!((8..=64).contains(&evidence.kat_nonce().len()));
        assert!(evidence.kat_bytes().len() < data.len());
    }
});
