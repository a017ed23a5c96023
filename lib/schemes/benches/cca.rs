//! Arm CCA, the scheme's share of a verification: decoding the token, the
//! freshness and signature checks (platform by a P-384 CPAK, realm by its
//! P-384 RAK), and the appraisal of platform and realm against their
//! reference values (the EAR is signed elsewhere). `cca_crypto_only` is the
//! two signature verifications alone, so the CCA ceiling can be computed.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use vouch_crypto::Curve;
use vouch_schemes::cca::{ArmCca, PROFILE_PLATFORM, PROFILE_REALM};
use vouch_schemes::{DecodedReference, Scheme, TrustAnchorKey};
use vouch_testkit::cca::{CcaDevice, CcaToken, Framing};

fn setup() -> (
    CcaDevice,
    Vec<u8>,
    [u8; 32],
    TrustAnchorKey,
    Vec<DecodedReference>,
) {
    let device = CcaDevice::generate(Curve::P384).expect("device");
    let nonce = [0x42; 32];
    let token = device.token(&nonce, Framing::CmwCollection).expect("token");
    let mut references = Vec::new();
    for (profile, corim) in [
        (PROFILE_PLATFORM, device.platform_corim().build()),
        (PROFILE_REALM, device.realm_corim().build()),
    ] {
        let corim = vouch_corim::decode(&corim).expect("CoRIM decodes");
        let endorsements = ArmCca
            .extract_endorsements(&corim, profile)
            .expect("endorsements");
        for rv in endorsements.reference_values {
            references.push(ArmCca.decode_reference_value(&rv.body).expect("decodes"));
        }
    }
    let key = TrustAnchorKey::Key(device.cpak().verifying_key());
    (device, token, nonce, key, references)
}

fn appraisal(c: &mut Criterion) {
    let (device, token, nonce, key, references) = setup();
    let evidence = ArmCca.decode_evidence(&token).expect("decodes");
    evidence.verify_integrity(&nonce, &key).expect("verifies");
    let submods = evidence.appraise(&references).expect("appraises");
    for (name, submod) in &submods {
        assert_eq!(
            submod.status.as_str(),
            "affirming",
            "the benchmark must measure the affirming path ({name})"
        );
    }

    c.bench_function("cca_decode_verify_appraise_p384", |b| {
        b.iter(|| {
            let evidence = ArmCca.decode_evidence(black_box(&token)).expect("decodes");
            evidence
                .verify_integrity(black_box(&nonce), &key)
                .expect("verifies");
            evidence
                .appraise(black_box(&references))
                .expect("appraises")
        });
    });
    c.bench_function("cca_decode_evidence", |b| {
        b.iter(|| ArmCca.decode_evidence(black_box(&token)).expect("decodes"));
    });
    c.bench_function("cca_appraise_against_reference_values", |b| {
        b.iter(|| {
            evidence
                .appraise(black_box(&references))
                .expect("appraises")
        });
    });

    let decoded = CcaToken::decode(&token).expect("decodes");
    let cpak = device.cpak().verifying_key();
    c.bench_function("cca_crypto_only_p384", |b| {
        b.iter(|| {
            decoded.verify_platform(black_box(&cpak)).expect("platform");
            decoded.verify_realm().expect("realm");
        });
    });
}

criterion_group!(benches, appraisal);
criterion_main!(benches);
