//! Feeds arbitrary bytes to the CCA token and claims decoders: they must
//! never panic, whatever the input, and anything accepted must be usable.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_cca_token::{CcaToken, PlatformClaims, RealmClaims};
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
    if let Ok(token) = CcaToken::decode(data) {
        let _ = token.verify_platform(key());
        let _ = token.verify_realm();
        let _ = token.verify_binding();
        let platform = token.platform_claims();
        let realm = token.realm_claims();
        let _ = platform.lifecycle_state();
        // The JSON view reads back to the same claims.
        assert_eq!(
            PlatformClaims::from_json(&platform.annotated_evidence())
                .ok()
                .as_ref(),
            Some(platform)
        );
        assert_eq!(
            RealmClaims::from_json(&realm.annotated_evidence())
                .ok()
                .as_ref(),
            Some(realm)
        );
        // Validated claims re-encode to claims that decode the same.
        assert_eq!(
            PlatformClaims::decode(&platform.to_cbor()).ok().as_ref(),
            Some(platform)
        );
        assert_eq!(
            RealmClaims::decode(&realm.to_cbor()).ok().as_ref(),
            Some(realm)
        );
    }
    let _ = PlatformClaims::decode(data);
    let _ = RealmClaims::decode(data);
});
