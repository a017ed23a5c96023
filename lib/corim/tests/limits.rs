//! The default limits admit realistic large CoRIMs and stop memory bombs.

use vouch_corim::{CorimError, Limits, decode, decode_with_limits};
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding};

const PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8A\n\
    iTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==\n\
    -----END PUBLIC KEY-----";

fn trust_anchors(n: u32) -> Vec<u8> {
    let mut b = PsaCorim::new(PsaCorimEncoding::Current);
    for i in 0..n {
        let mut inst = [0u8; 33];
        inst[0] = 0x01;
        inst[29..].copy_from_slice(&i.to_be_bytes());
        b.trust_anchor([7; 32], inst, PEM);
    }
    b.build()
}

#[test]
fn twenty_thousand_trust_anchors_fit_the_default_limits() {
    let bytes = trust_anchors(20_000);
    let c = decode(&bytes).unwrap();
    assert_eq!(
        c.comids().next().unwrap().triples.attest_key_triples.len(),
        20_000
    );
    // ... and a tighter budget refuses the same document.
    let tight = Limits {
        max_items: 100_000,
        ..Limits::default()
    };
    assert!(matches!(
        decode_with_limits(&bytes, &tight),
        Err(CorimError::LimitExceeded { .. })
    ));
}

/// 100,000 measurements of 3 bytes each (`{1: {}}`) are only 300,000
/// elements on the wire but would decode to ~50 MB; the weighted element
/// budget stops them part-way.
#[test]
fn empty_measurement_bomb_is_stopped() {
    let n: u32 = 100_000;
    // triples {0: [[{}, [ {1:{}} × n ]]]}
    let mut comid = vec![
        0xa2, 0x01, 0xa1, 0x00, 0x61, b't', 0x04, 0xa1, 0x00, 0x81, 0x82, 0xa0, 0x9a,
    ];
    comid.extend_from_slice(&n.to_be_bytes());
    for _ in 0..n {
        comid.extend_from_slice(&[0xa1, 0x01, 0xa0]);
    }
    let mut corim = vec![
        0xd9, 0x01, 0xf5, 0xa2, 0x00, 0x61, b'x', 0x01, 0x81, 0xd9, 0x01, 0xfa, 0x5a,
    ];
    corim.extend_from_slice(&(comid.len() as u32).to_be_bytes());
    corim.extend_from_slice(&comid);
    let err = decode(&corim).unwrap_err();
    assert!(matches!(err, CorimError::LimitExceeded { .. }), "{err}");
    assert!(err.to_string().contains("measurements["), "{err}");
}
