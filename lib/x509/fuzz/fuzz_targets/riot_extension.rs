//! Feeds arbitrary bytes to the RIoT/DICE SubjectAltName decoder: it must
//! never panic, and what it accepts must be usable.
//!
//! Seeds: the extension as RIoT devices encode it (a bare SEQUENCE) and as
//! RFC 5280 does (`[0] EXPLICIT`), minted by the crate's own `mint` module.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use libfuzzer_sys::fuzz_target;
use vouch_crypto::{Curve, SigningKey};
use vouch_x509::mint::riot_subject_alt_name;
use vouch_x509::{oid, parse_riot_subject_alt_name};

fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (curve, len) in [(Curve::P256, 32), (Curve::P384, 48)] {
        let device_id = SigningKey::from_private_scalar(curve, &vec![0x11; len])
            .unwrap_or_else(|e| panic!("fixed fuzz key: {e}"))
            .verifying_key();
        for conformant in [false, true] {
            out.push(
                riot_subject_alt_name(&device_id, oid::SHA256, &[0x6e; 32], conformant)
                    .expect("RIoT extension"),
            );
        }
    }
    out
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
    if let Ok(id) = parse_riot_subject_alt_name(data) {
        let _ = id.device_id_key();
        assert!(!id.device_id_spki_der().is_empty());
        let _ = (id.device_id(), id.fwid(), id.fwid_alg());
    }
});
