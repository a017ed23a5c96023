//! Fuzzes the CoRIM and CoMID decoders. Besides "never panic", anything
//! that decodes must survive an encode → decode round trip unchanged, so
//! the fuzzer also checks that the encoder and decoder agree.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(corim) = vouch_corim::decode(data) {
        let encoded = corim.encode();
        let again = vouch_corim::decode(&encoded).expect("re-encoded CoRIM must decode");
        assert_eq!(corim, again, "CoRIM changed across encode/decode");
    }
    if let Ok(comid) = vouch_corim::decode_comid(data) {
        let again = vouch_corim::decode_comid(&comid.encode()).expect("re-encoded CoMID must decode");
        assert_eq!(comid, again, "CoMID changed across encode/decode");
    }
});
