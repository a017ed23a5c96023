//! Feeds arbitrary bytes to the Parsec CCA evidence decoder: it must never
//! panic, whatever the input, and anything accepted must be usable.
//!
//! Seeds: evidence minted by the crate's own `mint` module with fixed
//! keys, with a good and a broken KAT binding.

#![no_main]

mod device;
use vouch_testkit::fuzz_seed as seed;

use device::{device, key};
use libfuzzer_sys::fuzz_target;
use vouch_cca_token::ParsecCcaEvidence;
use vouch_cca_token::mint::ParsecMintOptions;
use vouch_crypto::{Curve, SigningKey};

fn seeds() -> Vec<Vec<u8>> {
    let (device, platform, realm) = device();
    let attested = SigningKey::from_private_scalar(Curve::P256, &[0x5c; 32])
        .unwrap_or_else(|e| panic!("fixed fuzz key: {e}"))
        .verifying_key();
    [false, true]
        .into_iter()
        .map(|broken| {
            let options = ParsecMintOptions {
                break_kat_binding: broken,
                ..ParsecMintOptions::default()
            };
            device
                .parsec_evidence(&platform, &realm, &[0x33; 16], &attested, &options)
                .expect("Parsec CCA evidence")
        })
        .collect()
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
    if let Ok(evidence) = ParsecCcaEvidence::decode(data) {
        let _ = evidence.verify(key());
        let _ = evidence.verify_kat_binding();
        let _ = evidence.attested_key_spki();
        assert!((8..=64).contains(&evidence.kat_nonce().len()));
        assert!(evidence.kat_bytes().len() < data.len());
    }
});
