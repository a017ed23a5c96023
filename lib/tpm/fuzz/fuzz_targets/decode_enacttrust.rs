//! Feeds arbitrary bytes to the EnactTrust decoder and the TPM structure
//! decoders under it: they must never panic, and anything accepted must be
//! usable and re-encode to the same bytes.
//!
//! Seeds: quotes minted by the crate's own `mint` module, signed by the
//! fixed key, with and without a nonce, and their bare TPMS_ATTEST.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_tpm::mint::{EnactTrustClaims, enacttrust_token};
use vouch_tpm::{EnactTrustToken, TpmsAttest, TpmtSignature};

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
    let mut out = Vec::new();
    for extra_data in [Vec::new(), vec![0x4e; 32], vec![0x4e; 64]] {
        let claims = EnactTrustClaims {
            extra_data,
            ..EnactTrustClaims::basic()
        };
        let token = enacttrust_token(&claims, &signing_key()).expect("EnactTrust token");
        out.push(token.signed_bytes().to_vec());
        out.push(token.to_bytes());
    }
    out
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
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
