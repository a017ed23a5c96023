//! The crypto-only ceiling per flow, on one core: one PSA token decode and
//! ES256 signature check plus one EAR signature, nothing else. The load
//! generator measures the same work on every core (`vouch-loadtest
//! ceiling`) in the same run as the HTTP load, for the throughput ratio.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Ear, EarSigner, TrustClaim, VerifierId};
use vouch_psa_token::Token;
use vouch_testkit::psa::{Device, SwComponent};

fn ceiling(c: &mut Criterion) {
    let device = Device::from_seed(42).expect("device");
    let nonce = [0x5a; 32];
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .expect("token");
    let key = device.key.verifying_key();
    let decoded = Token::decode(&token).expect("decodes");
    let mut ear = Ear::new(
        "PSA_IOT",
        VerifierId {
            build: "bench".to_owned(),
            developer: "Vouch".to_owned(),
        },
        1_700_000_000,
    );
    ear.set_nonce(&nonce).expect("nonce");
    if let Some(a) = ear.submods.get_mut("PSA_IOT") {
        a.trust_vector.set_all(TrustClaim::AFFIRMING);
        a.policy_id = Some("policy:PSA_IOT".to_owned());
        a.annotated_evidence = decoded.claims().annotated_evidence().as_object().cloned();
    }
    ear.update_status_from_trust_vector();
    let signer = EarSigner::new(SigningKey::generate(Curve::P256).expect("key"));

    c.bench_function("ceiling_flow_verify_plus_sign", |b| {
        b.iter(|| {
            let t = Token::decode(black_box(&token)).expect("decodes");
            t.verify_signature(&key).expect("verifies");
            black_box(signer.sign(black_box(&ear)).expect("signs"))
        });
    });
}

criterion_group!(benches, ceiling);
criterion_main!(benches);
