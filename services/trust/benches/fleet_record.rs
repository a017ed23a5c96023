//! What noting a verdict for the fleet status costs the appraisal path
//! (docs/performance.md, "Fleet status"): `FleetRecorder::record` on
//! PSA-sized trust-anchor ids (65 bytes) over 100,000 attesters, round
//! robin, with nothing written meanwhile.
//!
//! ```sh
//! cargo bench -p vouch-trust --bench fleet_record
//! ```

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vouch_ear::{Appraisal, Ear, TrustClaim, TrustTier, VerifierId};
use vouch_trust::{FleetConfig, FleetRecorder};

const ATTESTERS: u32 = 100_000;

fn affirming() -> Ear {
    let mut ear = Ear::new(
        "",
        VerifierId {
            build: "bench".into(),
            developer: "Vouch".into(),
        },
        0,
    );
    ear.submods.clear();
    let mut appraisal = Appraisal::new();
    appraisal.trust_vector.hardware = TrustClaim(2);
    appraisal.status = TrustTier::Affirming;
    ear.submods.insert("PSA_IOT".into(), appraisal);
    ear
}

fn note_verdicts(c: &mut Criterion) {
    // Never flushed: the bound and the batch size are out of reach, and
    // no writer task runs.
    let recorder = FleetRecorder::new(FleetConfig {
        max_pending: usize::MAX,
        batch_size: usize::MAX,
        ..FleetConfig::default()
    });
    let verdict = affirming();
    let ids: Vec<Vec<u8>> = (0..ATTESTERS)
        .map(|n| {
            let mut id = vec![0x5a; 61];
            id.extend_from_slice(&n.to_be_bytes());
            id
        })
        .collect();
    // Every attester waiting already, as in a busy second.
    for id in &ids {
        recorder.record("PSA_IOT", id, &verdict);
    }
    let mut next = 0;
    c.bench_function("fleet_note_verdict", |b| {
        b.iter(|| {
            recorder.record("PSA_IOT", black_box(&ids[next]), &verdict);
            next = (next + 1) % ids.len();
        });
    });
}

criterion_group!(benches, note_verdicts);
criterion_main!(benches);
