//! Feeds arbitrary bytes to the template readers, as a CoMID template and
//! as a CoRIM template: they must never panic, and whatever they accept
//! must write back as a template that reads to the same model, and encode
//! as CBOR.
//!
//! Seeds: the CoRIMs of every scheme the test kit mints (the corim
//! target's), written as templates, and each of their CoMIDs alone.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

#[path = "../../../corim/fuzz/fuzz_targets/minted.rs"]
mod minted;

use libfuzzer_sys::fuzz_target;
use vouch_corim_json::{comid_from_json, comid_to_json, corim_from_json, corim_to_json};

fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for bytes in minted::corims() {
        let corim = vouch_corim::decode(&bytes).expect("minted CoRIM");
        out.push(corim_to_json(&corim).to_string().into_bytes());
        for comid in corim.comids() {
            out.push(comid_to_json(comid).to_string().into_bytes());
        }
    }
    out
}

fuzz_target!(init: seed::plant(seeds), |data: &[u8]| {
    if let Ok(comid) = comid_from_json(data) {
        let again = comid_from_json(comid_to_json(&comid).to_string().as_bytes());
        assert_eq!(again.as_ref(), Ok(&comid));
    }
    if let Ok(corim) = corim_from_json(data, Vec::new()) {
        let again = corim_from_json(corim_to_json(&corim).to_string().as_bytes(), Vec::new());
        assert_eq!(again.as_ref(), Ok(&corim));
        assert!(!corim.encode().is_empty());
    }
});
