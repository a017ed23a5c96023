//! Feeds arbitrary bytes to the COSE_Key readers: they must never panic, and
//! a key they accept must encode back to a COSE_Key that reads the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_cose::{cose_key_bytes, key_from_cose_key, key_from_cose_key_or_raw};

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = key_from_cose_key(data) {
        let again = key_from_cose_key(&cose_key_bytes(&key))
            .unwrap_or_else(|e| panic!("re-encoded key does not read back: {e}"));
        assert_eq!(again, key);
    }
    let _ = key_from_cose_key_or_raw(data);
});
