//! What provisioning hands the schemes, and what they read back from the
//! store: a CoRIM (decoded, then offered to every built-in scheme under
//! each profile it takes), a stored trust-anchor row and a stored
//! reference-value body (which a party with write access to the database
//! controls).
//!
//! Besides "never panic":
//! - every trust anchor a scheme extracts reads back from its stored form
//!   as itself, and has a non-empty id;
//! - every reference value it extracts decodes with the same scheme, and
//!   is filed under a non-empty reference id;
//! - a stored trust anchor that reads is stored again the same way.
//!
//! Seeds: the CoRIMs of every scheme, minted with vouch-testkit, and
//! stored trust anchors of both kinds.

#![no_main]

mod minted;
use vouch_testkit::fuzz_seed as seed;

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use vouch_schemes::{Scheme, TrustAnchorKey};

fn schemes() -> &'static [Arc<dyn Scheme>] {
    static SCHEMES: OnceLock<Vec<Arc<dyn Scheme>>> = OnceLock::new();
    SCHEMES.get_or_init(vouch_schemes::builtin)
}

fn extract(corim: &vouch_corim::Corim) {
    for scheme in schemes() {
        let mut profiles: Vec<&str> = scheme
            .provisioning_media_types()
            .iter()
            .map(|m| m.corim_profile)
            .collect();
        profiles.dedup();
        for profile in profiles {
            let Ok(endorsements) = scheme.extract_endorsements(corim, profile) else {
                continue;
            };
            for anchor in &endorsements.trust_anchors {
                assert!(
                    !anchor.id.is_empty(),
                    "{}: a trust anchor without id",
                    scheme.name()
                );
                let stored = TrustAnchorKey::from_bytes(&anchor.key.to_bytes())
                    .expect("a stored trust anchor reads back");
                assert_eq!(
                    stored,
                    anchor.key,
                    "{}: a trust anchor changed through its stored form",
                    scheme.name()
                );
            }
            for rv in &endorsements.reference_values {
                assert!(
                    !rv.reference_id.is_empty(),
                    "{}: a reference value without id",
                    scheme.name()
                );
                if let Err(e) = scheme.decode_reference_value(&rv.body) {
                    panic!(
                        "{}: a reference value it extracted does not decode: {e}",
                        scheme.name()
                    );
                }
            }
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = minted::all().into_iter().flat_map(|m| m.corims).collect();
    // Stored trust anchors: a key (SPKI DER) and a certificate path.
    let key = vouch_crypto::SigningKey::from_private_scalar(vouch_crypto::Curve::P256, &[0x11; 32])
        .expect("fixed fuzz key")
        .verifying_key();
    out.push(TrustAnchorKey::Key(key).to_bytes());
    out.push(
        TrustAnchorKey::CertPath(vec![vec![0x30, 0x03, 0x02, 0x01, 0x01], vec![0x30; 40]])
            .to_bytes(),
    );
    out
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        if let Ok(corim) = vouch_corim::decode(data) {
            extract(&corim);
        }
        if let Ok(key) = TrustAnchorKey::from_bytes(data) {
            let again = TrustAnchorKey::from_bytes(&key.to_bytes()).expect("a stored trust anchor reads back");
            assert_eq!(again, key);
        }
        for scheme in schemes() {
            let _ = scheme.decode_reference_value(data);
        }
    }
);
