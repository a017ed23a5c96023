//! PSA IoT appraisal, the scheme's share of a verification after the
//! signature check: decoding evidence into the scheme's form, the nonce and
//! signature check, and matching software components against reference
//! values (the EAR is signed elsewhere).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vouch_schemes::psa::{PROFILE_CURRENT, PsaIot};
use vouch_schemes::{DecodedReference, Scheme, TrustAnchorKey};
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::psa::{Device, SwComponent};

fn setup() -> (Vec<u8>, [u8; 32], TrustAnchorKey, Vec<DecodedReference>) {
    let device = Device::from_seed(3).expect("device");
    let nonce = [0x42; 32];
    let components = SwComponent::acme_components();
    let token = device.token(&nonce, &components).expect("token");
    let mut corim = PsaCorim::new(PsaCorimEncoding::Current);
    corim.trust_anchor(
        device.implementation_id,
        device.instance_id,
        &device.spki_pem(),
    );
    for c in components {
        if let (Some(mtype), Some(value), Some(signer)) =
            (c.measurement_type, c.measurement_value, c.signer_id)
        {
            let mut rv = PsaRefValue::new(mtype, signer, value);
            if let Some(version) = c.version {
                rv = rv.version(version);
            }
            corim.reference_value(device.implementation_id, rv);
        }
    }
    let corim = vouch_corim::decode(&corim.build()).expect("CoRIM decodes");
    let endorsements = PsaIot
        .extract_endorsements(&corim, PROFILE_CURRENT)
        .expect("endorsements");
    let measurements = endorsements
        .reference_values
        .iter()
        .map(|rv| PsaIot.decode_reference_value(&rv.body).expect("decodes"))
        .collect();
    (
        token,
        nonce,
        TrustAnchorKey::Key(device.key.verifying_key()),
        measurements,
    )
}

fn appraisal(c: &mut Criterion) {
    let (token, nonce, key, measurements) = setup();
    let evidence = PsaIot.decode_evidence(&token).expect("decodes");
    evidence.verify_integrity(&nonce, &key).expect("verifies");
    let submods = evidence.appraise(&measurements).expect("appraises");
    assert_eq!(
        submods[0].1.status.as_str(),
        "affirming",
        "the benchmark must measure the affirming path"
    );

    c.bench_function("psa_decode_evidence", |b| {
        b.iter(|| PsaIot.decode_evidence(black_box(&token)).expect("decodes"));
    });
    c.bench_function("psa_appraise_against_reference_values", |b| {
        b.iter(|| {
            evidence
                .appraise(black_box(&measurements))
                .expect("appraises")
        });
    });
    c.bench_function("psa_decode_verify_appraise", |b| {
        b.iter(|| {
            let e = PsaIot.decode_evidence(black_box(&token)).expect("decodes");
            e.verify_integrity(&nonce, &key).expect("verifies");
            e.appraise(&measurements).expect("appraises")
        });
    });
}

criterion_group!(benches, appraisal);
criterion_main!(benches);
