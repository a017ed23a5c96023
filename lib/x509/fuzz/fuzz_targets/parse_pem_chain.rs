//! Feeds arbitrary text to the PEM chain parser and arbitrary bytes to the
//! DER certificate parser: neither may panic, and whatever parses must
//! survive path validation against a fixed RIoT device's root.
//!
//! Seeds: that device's evidence chain (PEM), each certificate alone (PEM
//! and DER) and the root. The device is minted with fresh keys at start-up,
//! so seeds from an earlier run parse but no longer chain.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_x509::mint::RiotDevice;
use vouch_x509::{
    Certificate, TrustStore, Usage, parse_pem_chain, riot_composite_device_id, validate_chain,
};

const NOW: i64 = 1_800_000_000;

fn device() -> &'static RiotDevice {
    static DEVICE: OnceLock<RiotDevice> = OnceLock::new();
    DEVICE.get_or_init(|| {
        RiotDevice::generate(&[0x11; 32], NOW).unwrap_or_else(|e| panic!("fixed fuzz device: {e}"))
    })
}

/// A minted trust store, so accepted inputs reach signature checks.
fn anchors() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let device = device();
        let mut store = TrustStore::from_certs([device.root.cert.clone()]);
        store.add_intermediate(device.intermediate.cert.clone());
        store
    })
}

fn seeds() -> Vec<Vec<u8>> {
    let device = device();
    let mut out = vec![
        device.evidence_pem().into_bytes(),
        device.trust_anchor_pem().into_bytes(),
    ];
    for cert in [
        &device.alias.cert,
        &device.device_id.cert,
        &device.intermediate.cert,
    ] {
        out.push(cert.to_pem().into_bytes());
        out.push(cert.der().to_vec());
    }
    out
}

fn exercise(chain: &[Certificate]) {
    for cert in chain {
        let _ = cert.subject();
        let _ = cert.issuer();
        let _ = cert.ec_public_key();
        let _ = riot_composite_device_id(cert);
        // What parsed re-parses from its own PEM.
        let again = parse_pem_chain(&cert.to_pem());
        assert!(matches!(again.as_deref(), Ok([c]) if c == cert));
    }
    let _ = validate_chain(chain, anchors(), NOW, Usage::riot_alias());
    let _ = validate_chain(chain, anchors(), NOW, Usage::any());
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(chain) = parse_pem_chain(text)
    {
        exercise(&chain);
    }
    if let Ok(cert) = Certificate::from_der(data) {
        exercise(std::slice::from_ref(&cert));
    }
});
