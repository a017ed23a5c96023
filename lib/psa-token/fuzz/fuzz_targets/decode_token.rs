//! Feeds arbitrary bytes to the PSA token decoder: it must never panic,
//! whatever the input, and anything it accepts must be usable.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_psa_token::{Claims, Token};

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
    if let Ok(token) = Token::decode(data) {
        let _ = token.algorithm();
        let _ = token.verify_signature(key());
        let claims = token.claims();
        let _ = claims.lifecycle_state();
        let _ = claims.annotated_evidence();
        // What decodes inside an envelope decodes on its own too.
        assert!(Claims::decode_map(token.payload()).is_ok());
    }
    let _ = Claims::decode_map(data);
});
