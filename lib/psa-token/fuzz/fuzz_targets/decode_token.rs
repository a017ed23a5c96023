//! Feeds arbitrary bytes to the PSA token decoder: it must never panic,
//! whatever the input, and anything it accepts must be usable.
//!
//! Seeds: profile 1, profile 2 and TF-M tokens minted with vouch-testkit
//! and signed by the fixed key (so they verify in every run), and their
//! bare claims.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_psa_token::{Claims, Token};
use vouch_testkit::psa::{ACME_IMPLEMENTATION_ID, Device, PsaClaims, SwComponent};

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
    let device = Device::with_key(ACME_IMPLEMENTATION_ID, signing_key());
    let nonce = [0x4e; 32];
    let mut out = Vec::new();
    for claims in [
        PsaClaims::profile_1(),
        PsaClaims::profile_2(),
        PsaClaims::profile_2_tfm(),
    ] {
        let claims = claims
            .with_identity(&device.implementation_id, &device.instance_id)
            .with_nonce(&nonce);
        out.push(claims.encode_claims());
        out.push(claims.sign(&device.key).expect("PSA token"));
    }
    let one = SwComponent::acme_components()
        .into_iter()
        .take(1)
        .collect::<Vec<_>>();
    out.push(device.token(&[0x01; 64], &one).expect("PSA token"));
    out
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
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
