//! Feeds arbitrary bytes to the RIoT/DICE SubjectAltName decoder: it must
//! never panic, and what it accepts must be usable.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_x509::parse_riot_subject_alt_name;

fuzz_target!(|data: &[u8]| {
    if let Ok(id) = parse_riot_subject_alt_name(data) {
        let _ = id.device_id_key();
        assert!(!id.device_id_spki_der().is_empty());
        let _ = (id.device_id(), id.fwid(), id.fwid_alg());
    }
});
