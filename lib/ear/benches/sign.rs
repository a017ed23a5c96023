//! Signing a PSA-sized EAR: one submod whose annotated evidence carries the
//! claims of a typical PSA token, as the verification service does once per
//! request.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Ear, EarSigner, TrustClaim, VerifierId};

fn psa_ear() -> Ear {
    let mut ear = Ear::new(
        "PSA_IOT",
        VerifierId {
            build: "0.1.0".to_owned(),
            developer: "Vouch".to_owned(),
        },
        1_706_023_979,
    );
    ear.set_nonce(&[0x15; 48]).expect("nonce");
    let appraisal = ear.submods.get_mut("PSA_IOT").expect("submod");
    appraisal.policy_id = Some("policy:PSA_IOT".to_owned());
    appraisal.trust_vector.instance_identity = TrustClaim::TRUSTWORTHY_INSTANCE;
    appraisal.trust_vector.executables = TrustClaim::APPROVED_RUNTIME;
    appraisal.trust_vector.hardware = TrustClaim::GENUINE_HARDWARE;
    appraisal.trust_vector.runtime_opaque = TrustClaim::ENCRYPTED_MEMORY_RUNTIME;
    appraisal.trust_vector.storage_opaque = TrustClaim::HW_KEYS_ENCRYPTED_SECRETS;
    let evidence = json!({
        "eat-profile": "http://arm.com/psa/2.0.0",
        "psa-boot-seed": "3q2+796tvu/erb7v3q2+796tvu/erb7v3q2+796tvu8=",
        "psa-client-id": 1,
        "psa-implementation-id": "YWNtZS1pbXBsZW1lbnRhdGlvbi1pZC0wMDAwMDAwMDE=",
        "psa-instance-id": "Ac7rrnuJJ6MiflMDz14PH3s0u1Qq1yUKwD+83jbsLxUI",
        "psa-nonce": "FeiBL0Ys0yvXiBbAFMs1OHDXXtw08RGq/SESJdSaXPsKk2A8/AruL45Z8QqukT8o",
        "psa-security-lifecycle": 12288,
        "psa-software-components": [
            {"measurement-type": "BL", "measurement-value": "h0KPxSKAPTEGXnvOPPA/5HUJZjHl4Hu9eg/eYMTPJcc=",
             "signer-id": "rLsRx+TaIXIFUjzkzhokWuGiOa48a/2eeHH35di66Gs=", "version": "2.1.0"},
            {"measurement-type": "PRoT", "measurement-value": "AmOCmYm2/ZVPcrqvL8ZLwuLwHWktTecphuqAj26ZgT8=",
             "signer-id": "rLsRx+TaIXIFUjzkzhokWuGiOa48a/2eeHH35di66Gs=", "version": "1.3.5"},
            {"measurement-type": "ARoT", "measurement-value": "o6XnFfDMV0pzw/m+u2vCTzL/1bZ7OHJEwskJ2neaFHg=",
             "signer-id": "rLsRx+TaIXIFUjzkzhokWuGiOa48a/2eeHH35di66Gs=", "version": "0.1.4"}
        ],
        "psa-verification-service-indicator": "https://psa-verifier.org",
        "psa-certification-reference": "1234567890123-12345"
    });
    appraisal.annotated_evidence = evidence.as_object().cloned();
    ear.update_status_from_trust_vector();
    ear
}

fn sign(c: &mut Criterion) {
    let signer = EarSigner::new(SigningKey::generate(Curve::P256).expect("key"));
    let ear = psa_ear();
    c.bench_function("ear_sign_psa", |b| {
        b.iter(|| black_box(signer.sign(black_box(&ear)).expect("sign")));
    });
}

criterion_group!(benches, sign);
criterion_main!(benches);
