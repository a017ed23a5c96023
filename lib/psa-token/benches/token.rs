//! PSA token hot path: COSE + claims decode of a profile-2 token, and the
//! ES256 signature check.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vouch_psa_token::Token;
use vouch_testkit::psa::{Device, SwComponent};

fn token_benches(c: &mut Criterion) {
    let device = Device::from_seed(1).expect("device");
    let nonce = [0x5a; 32];
    let bytes = device
        .token(&nonce, &SwComponent::acme_components())
        .expect("token");
    let key = device.key.verifying_key();
    let token = Token::decode(&bytes).expect("decodes");
    token.verify_signature(&key).expect("verifies");

    c.bench_function("decode_p2_token", |b| {
        b.iter(|| Token::decode(black_box(&bytes)).expect("decodes"));
    });
    c.bench_function("verify_p2_signature", |b| {
        b.iter(|| black_box(&token).verify_signature(&key).expect("verifies"));
    });
    c.bench_function("decode_and_verify_p2_token", |b| {
        b.iter(|| {
            let t = Token::decode(black_box(&bytes)).expect("decodes");
            t.verify_signature(&key).expect("verifies");
        });
    });
    c.bench_function("annotated_evidence_p2", |b| {
        b.iter(|| black_box(&token).claims().annotated_evidence());
    });
}

criterion_group!(benches, token_benches);
criterion_main!(benches);
