//! COSE_Sign1 decoding of a PSA profile-2 token: the zero-copy decoder
//! (`Sign1Ref`, the hot path), the owned `Sign1` (headers through coset), and
//! coset decoding the whole envelope into `ciborium::Value`s (the reference
//! that made us keep the zero-copy decoder; see docs/performance.md).

use std::hint::black_box;

use coset::TaggedCborSerializable as _;
use criterion::{Criterion, criterion_group, criterion_main};
use vouch_cose::{Sign1, Sign1Ref};
use vouch_testkit::psa::{Device, SwComponent};

fn sign1_benches(c: &mut Criterion) {
    let device = Device::from_seed(1).expect("device");
    let bytes = device
        .token(&[0x5a; 32], &SwComponent::acme_components())
        .expect("token");
    let key = device.key.verifying_key();

    c.bench_function("sign1ref_decode_psa_token", |b| {
        b.iter(|| {
            let s = Sign1Ref::decode(black_box(&bytes)).expect("decodes");
            black_box(s.algorithm().expect("alg"));
            black_box(s.to_be_signed())
        });
    });
    c.bench_function("sign1_decode_psa_token", |b| {
        b.iter(|| {
            let s = Sign1::decode(black_box(&bytes)).expect("decodes");
            black_box(s.algorithm().expect("alg"));
            black_box(s.to_be_signed())
        });
    });
    c.bench_function("coset_whole_envelope_psa_token", |b| {
        b.iter(|| {
            let s = coset::CoseSign1::from_tagged_slice(black_box(&bytes)).expect("decodes");
            black_box(s.tbs_data(b""))
        });
    });
    let sign1 = Sign1Ref::decode(&bytes).expect("decodes");
    c.bench_function("sign1ref_verify_es256", |b| {
        b.iter(|| black_box(&sign1).verify(&key).expect("verifies"));
    });
}

criterion_group!(benches, sign1_benches);
criterion_main!(benches);
