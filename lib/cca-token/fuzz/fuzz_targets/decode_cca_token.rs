//! Feeds arbitrary bytes to the CCA token and claims decoders: they must
//! never panic, whatever the input, and anything accepted must be usable.
//!
//! Seeds: tokens in both collection framings (and with a legacy raw RAK,
//! and with a broken platform/realm binding) minted by the crate's own
//! `mint` module with fixed keys, and their bare claims.

#![no_main]

mod device;
use vouch_testkit::fuzz_seed as seed;

use device::{device, key};
use libfuzzer_sys::fuzz_target;
use vouch_cca_token::mint::MintOptions;
use vouch_cca_token::{CcaToken, Framing, PlatformClaims, RealmClaims};

fn seeds() -> Vec<Vec<u8>> {
    let (device, platform, realm) = device();
    let nonce = [0x4e; 32];
    let options = [
        MintOptions::default(),
        MintOptions {
            framing: Framing::EatCollection,
            ..MintOptions::default()
        },
        MintOptions {
            legacy_raw_rak: true,
            ..MintOptions::default()
        },
        MintOptions {
            break_binding: true,
            ..MintOptions::default()
        },
    ];
    let mut out: Vec<Vec<u8>> = options
        .iter()
        .map(|o| {
            device
                .token_for_nonce(&platform, &realm, &nonce, o)
                .expect("CCA token")
        })
        .collect();
    out.push(platform.to_cbor());
    out.push(realm.to_cbor());
    out
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
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
