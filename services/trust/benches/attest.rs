//! The trust service's whole appraisal, in-process, on the embedded
//! default store (SQLite): token decode and signature check, the
//! endorsement lookups, appraisal and EAR signing.
//!
//! - `attest_cache_hit`: one device re-attesting; its trust anchor and
//!   reference values come from the in-memory cache.
//! - `attest_cache_miss`: 20,000 devices round robin with a one-entry
//!   cache, so nearly every trust-anchor lookup goes to SQLite.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use vouch_crypto::{Curve, SigningKey};
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::psa::{Device, SwComponent};
use vouch_trust::{CacheLimits, TrustConfig, TrustService};
use vouch_trust_api::{AttestationRequest, Bytes, MediaType, Nonce, SubmitOutcome, Trust};

const DEVICES: usize = 20_000;
const TOKEN_MEDIA_TYPE: &str = "application/psa-attestation-token";

fn corim(devices: &[Device]) -> Vec<u8> {
    let mut corim = PsaCorim::new(PsaCorimEncoding::Current);
    for d in devices {
        corim.trust_anchor(d.implementation_id, d.instance_id, &d.spki_pem());
    }
    let implementation_id = devices
        .first()
        .map(|d| d.implementation_id)
        .unwrap_or_default();
    for c in SwComponent::acme_components() {
        if let (Some(mtype), Some(value), Some(signer)) =
            (c.measurement_type, c.measurement_value, c.signer_id)
        {
            let mut rv = PsaRefValue::new(mtype, signer, value);
            if let Some(version) = c.version {
                rv = rv.version(version);
            }
            corim.reference_value(implementation_id, rv);
        }
    }
    corim.build()
}

async fn service(dir: &std::path::Path, cache: CacheLimits) -> Arc<TrustService> {
    let store = vouch_store::connect(&vouch_store::StoreConfig::new(format!(
        "sqlite://{}",
        dir.join("bench.db").display()
    )))
    .await
    .expect("store");
    TrustService::new(
        store,
        vouch_trust::default_schemes(),
        SigningKey::generate(Curve::P256).expect("EAR key"),
        TrustConfig {
            cache,
            ..TrustConfig::default()
        },
    )
    .expect("trust service")
}

fn attest(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let devices: Vec<Device> = (0..DEVICES as u64)
        .map(|i| Device::from_seed(i).expect("device"))
        .collect();
    let nonce = Nonce::new(vec![0x33; 32]).expect("nonce");
    let tokens: Vec<Bytes> = devices
        .iter()
        .map(|d| {
            Bytes::from(
                d.token(nonce.as_bytes(), &SwComponent::acme_components())
                    .expect("token"),
            )
        })
        .collect();
    let corim_type = MediaType::parse(PsaCorimEncoding::Current.media_type()).expect("type");
    let token_type = MediaType::parse(TOKEN_MEDIA_TYPE).expect("type");
    let request = |i: usize| AttestationRequest {
        media_type: token_type.clone(),
        evidence: tokens[i % tokens.len()].clone(),
        nonce: nonce.clone(),
    };

    let cached_dir = tempfile::tempdir().expect("temp dir");
    let uncached_dir = tempfile::tempdir().expect("temp dir");
    let (cached, uncached) = runtime.block_on(async {
        let cached = service(cached_dir.path(), CacheLimits::default()).await;
        let uncached = service(
            uncached_dir.path(),
            CacheLimits {
                trust_anchors: 1,
                reference_values: 1,
            },
        )
        .await;
        for s in [&cached, &uncached] {
            let outcome = s
                .submit_endorsements(&corim_type, Bytes::from(corim(&devices)))
                .await
                .expect("provisioning");
            assert_eq!(outcome, SubmitOutcome::Stored);
        }
        let first = cached.attest(request(0)).await.expect("attests");
        assert_eq!(
            first.status.as_str(),
            "affirming",
            "the benchmark must appraise a good device"
        );
        (cached, uncached)
    });

    let mut group = c.benchmark_group("trust_sqlite");
    group.bench_function("attest_cache_hit", |b| {
        b.iter(|| {
            black_box(
                runtime
                    .block_on(cached.attest(request(0)))
                    .expect("attests"),
            )
        });
    });
    let mut i = 0usize;
    group.bench_function("attest_cache_miss", |b| {
        b.iter(|| {
            i = (i + 7919) % DEVICES;
            black_box(
                runtime
                    .block_on(uncached.attest(request(i)))
                    .expect("attests"),
            )
        });
    });
    group.finish();
}

criterion_group!(benches, attest);
criterion_main!(benches);
