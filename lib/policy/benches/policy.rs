//! Cost of policy evaluation on the hot path (docs/performance.md).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use vouch_ear::{Appraisal, TrustClaim, TrustTier};
use vouch_policy::{Input, compile};

const SEMVER: &str = r#"package policy

executables = APPROVED_RT {
  some i
  evidence["psa-software-components"][i]["measurement-type"] == "BL"
  semver_cmp(evidence["psa-software-components"][i].version, "3.5") >= 0
} else = UNSAFE_RT
"#;

fn bench(c: &mut Criterion) {
    let mut result = Appraisal::new();
    result.trust_vector.executables = TrustClaim(2);
    result.status = TrustTier::Affirming;
    let evidence = json!({
        "eat-profile": "http://arm.com/psa/2.0.0",
        "psa-client-id": 1,
        "psa-security-lifecycle": 12288,
        "psa-implementation-id": "UFFSU1RVVldQUVJTVFVWV1BRUlNUVVZXUFFSU1RVVlc=",
        "psa-boot-seed": "3q2+796tvu/erb7v3q2+796tvu/erb7v3q2+796tvu8=",
        "psa-software-components": [
            {"measurement-type": "BL", "measurement-value": "AAECBAABAgQAAQIEAAECBAABAgQAAQIEAAECBAABAgQ=", "signer-id": "UZIA/1GSAP9RkgD/UZIA/1GSAP9RkgD/UZIA/1GSAP8=", "version": "3.5.1"},
            {"measurement-type": "PRoT", "measurement-value": "BQYHCAUGBwgFBgcIBQYHCAUGBwgFBgcIBQYHCAUGBwg=", "signer-id": "UZIA/1GSAP9RkgD/UZIA/1GSAP9RkgD/UZIA/1GSAP8=", "version": "1.3.5"}
        ],
        "psa-instance-id": "AaChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/",
        "psa-nonce": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
    });
    // The load test's sample policy (`--policy loadtest/policies/psa.rego`).
    let sample = include_str!("../../../loadtest/policies/psa.rego");
    for (name, rules) in [
        ("short", "package policy\nexecutables = APPROVED_RT\n"),
        ("semver", SEMVER),
        ("sample", sample),
    ] {
        let policy = compile(rules).unwrap();
        c.bench_function(&format!("policy/evaluate/{name}"), |b| {
            b.iter(|| {
                policy
                    .evaluate(&Input {
                        scheme: "PSA_IOT",
                        submod: "PSA_IOT",
                        nonce: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                        result: &result,
                        evidence: &evidence,
                        endorsements: &[],
                    })
                    .unwrap()
            })
        });
    }
    // The fixed cost: the short policy over an empty evidence document.
    let short = compile("package policy\nexecutables = APPROVED_RT\n").unwrap();
    let empty = json!({});
    c.bench_function("policy/evaluate/short-empty-evidence", |b| {
        b.iter(|| {
            short
                .evaluate(&Input {
                    scheme: "PSA_IOT",
                    submod: "PSA_IOT",
                    nonce: "AA==",
                    result: &result,
                    evidence: &empty,
                    endorsements: &[],
                })
                .unwrap()
        })
    });
    c.bench_function("policy/compile/semver", |b| {
        b.iter(|| compile(SEMVER).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
