//! Feeds arbitrary bytes to both COSE_Sign1 decoders: they must never
//! panic, must agree on the envelope, and anything they accept must be
//! usable (headers, Sig_structure, verification).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_cose::{CoseError, Sign1, Sign1Ref};
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
    let borrowed = Sign1Ref::decode(data);
    let owned = Sign1::decode(data);
    match (&borrowed, &owned) {
        (Ok(b), Ok(o)) => {
            assert_eq!(b.payload(), o.payload());
            assert_eq!(b.protected_bytes(), o.protected_bytes());
            assert_eq!(b.signature(), o.signature());
            assert_eq!(b.to_be_signed(), o.to_be_signed());
            assert_eq!(b.algorithm().is_ok(), o.algorithm().is_ok());
            let _ = b.verify(key());
            let _ = o.verify(key());
            let _ = o.verify_detached(key(), data);
            let _ = o.x5chain();
            let _ = o.key_id();
            let _ = o.content_type();
            let _ = o.protected_param(8);
            let _ = o.unprotected_param(33);
        }
        // Only the header interpretation (coset) may refuse more.
        (Ok(_), Err(e)) => assert!(
            matches!(
                e,
                CoseError::ProtectedHeader(_) | CoseError::UnprotectedHeader(_)
            ),
            "{e}"
        ),
        (Err(_), Ok(_)) => panic!("owned decoder accepted what the borrowed one refused"),
        (Err(_), Err(_)) => {}
    }
});
