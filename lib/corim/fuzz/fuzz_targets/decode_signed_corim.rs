//! Signed-CoRIM envelopes: COSE_Sign1 plus `corim-meta`, then the payload
//! as an unsigned CoRIM. Never panics, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(signed) = vouch_corim::signed::SignedCorim::decode(data) {
        let _ = vouch_corim::decode(signed.payload());
    }
});
