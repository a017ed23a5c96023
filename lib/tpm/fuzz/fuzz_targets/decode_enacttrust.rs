//! Feeds arbitrary bytes to the EnactTrust decoder and the TPM structure
//! decoders under it: they must never panic, and anything accepted must be
//! usable and re-encode to the same bytes.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_tpm::{EnactTrustToken, TpmsAttest, TpmtSignature};

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
    if let Ok(token) = EnactTrustToken::decode(data) {
        let _ = token.verify(key());
        let _ = token.annotated_evidence();
        assert_eq!(token.to_bytes(), data);
        // What decodes inside the framing decodes on its own too.
        assert!(TpmsAttest::decode(token.signed_bytes()).is_ok());
    }
    if let Ok(attest) = TpmsAttest::decode(data) {
        assert_eq!(attest.raw(), data);
    }
    if let Ok(sig) = TpmtSignature::decode(data) {
        let _ = sig.verify(key(), data);
    }
});
