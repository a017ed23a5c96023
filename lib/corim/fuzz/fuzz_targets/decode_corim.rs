//! Fuzzes the CoRIM and CoMID decoders. Besides "never panic", anything
//! that decodes must survive an encode → decode round trip unchanged, so
//! the fuzzer also checks that the encoder and decoder agree.
//!
//! Seeds: every scheme's CoRIMs, minted with vouch-testkit, and the CoMIDs
//! inside them.

#![no_main]

mod minted;
use vouch_testkit::fuzz_seed as seed;

use libfuzzer_sys::fuzz_target;

fn seeds() -> Vec<Vec<u8>> {
    let corims = minted::corims();
    let comids: Vec<Vec<u8>> = corims
        .iter()
        .filter_map(|c| vouch_corim::decode(c).ok())
        .flat_map(|c| c.comids().map(|comid| comid.encode()).collect::<Vec<_>>())
        .collect();
    corims.into_iter().chain(comids).collect()
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        if let Ok(corim) = vouch_corim::decode(data) {
            let encoded = corim.encode();
            let again = vouch_corim::decode(&encoded).expect("re-encoded CoRIM must decode");
            assert_eq!(corim, again, "CoRIM changed across encode/decode");
        }
        if let Ok(comid) = vouch_corim::decode_comid(data) {
            let again = vouch_corim::decode_comid(&comid.encode()).expect("re-encoded CoMID must decode");
            assert_eq!(comid, again, "CoMID changed across encode/decode");
        }
    }
);
