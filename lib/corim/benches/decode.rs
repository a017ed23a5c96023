//! Decoding cost of PSA endorsement CoRIMs: one trust anchor plus three
//! reference values (the usual per-device provisioning unit) in both
//! Veraison encodings, and a 1,000-device trust-anchor batch as the load
//! test provisions them.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};

const PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8A\n\
    iTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==\n\
    -----END PUBLIC KEY-----";
const IMPL_ID: [u8; 32] = *b"acme-implementation-id-000000001";

fn instance(i: u32) -> [u8; 33] {
    let mut inst = [0x5a; 33];
    inst[0] = 0x01;
    inst[29..].copy_from_slice(&i.to_be_bytes());
    inst
}

fn one_ta_three_rvs(encoding: PsaCorimEncoding) -> Vec<u8> {
    let mut b = PsaCorim::new(encoding);
    b.id("bench").trust_anchor(IMPL_ID, instance(0), PEM);
    for (mtype, version, fill) in [
        ("BL", "2.1.0", 1u8),
        ("PRoT", "1.3.5", 2),
        ("ARoT", "0.1.4", 3),
    ] {
        b.reference_value(
            IMPL_ID,
            PsaRefValue::new(mtype, vec![0xac; 32], vec![fill; 32]).version(version),
        );
    }
    b.build()
}

fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (name, encoding) in [
        ("psa_1ta_3rv_current", PsaCorimEncoding::Current),
        ("psa_1ta_3rv_legacy", PsaCorimEncoding::Legacy),
    ] {
        let bytes = one_ta_three_rvs(encoding);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| vouch_corim::decode(black_box(&bytes)).map(|c| c.tags.len()))
        });
    }

    let mut batch = PsaCorim::new(PsaCorimEncoding::Current);
    for i in 0..1000 {
        batch.trust_anchor(IMPL_ID, instance(i), PEM);
    }
    let bytes = batch.build();
    group.throughput(Throughput::Elements(1000));
    group.bench_function("psa_1000ta_current", |b| {
        b.iter(|| vouch_corim::decode(black_box(&bytes)).map(|c| c.tags.len()))
    });
    group.finish();

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("psa_1000ta_current", |b| {
        b.iter(|| black_box(&batch).build().len())
    });
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
