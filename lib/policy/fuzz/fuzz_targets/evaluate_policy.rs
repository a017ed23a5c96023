//! Policies as the trust service runs them: what compiles is evaluated
//! against a fixed PSA-like input (once per appraisal in production), then
//! folded into an appraisal as the trust service does. A malicious policy
//! author is one of the parties `docs/security.md` considers.
//!
//! Besides "never panic", "never overflow the stack" and "stay within
//! libFuzzer's memory limit":
//! - an outcome holds only trust claims the preamble can shape, and
//!   applying it keeps each non-zero claim it sets, records its added
//!   claims, and leaves the appraisal's status at least as severe as the
//!   worst tier of its trust vector;
//! - an outcome remembered for one input is only reused for another when
//!   running the policy on that other input gives the same answer (each
//!   variant below differs from the fixture in one field).

#![no_main]

mod policies;
use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use vouch_ear::{Appraisal, TrustClaim};
use vouch_policy::{CompiledPolicy, Input, Outcome, compile};

struct Fixture {
    result: Appraisal,
    evidence: Value,
    endorsements: Vec<Value>,
    /// The fixture with one field changed each.
    variants: Vec<Variant>,
}

struct Variant {
    scheme: &'static str,
    submod: &'static str,
    nonce: &'static str,
    result: Appraisal,
    evidence: Value,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut result = Appraisal::new();
        result.trust_vector.instance_identity = TrustClaim(2);
        result.trust_vector.executables = TrustClaim(2);
        result.trust_vector.hardware = TrustClaim(2);
        result.policy_id = Some("policy:PSA_IOT".to_owned());
        result.update_status_from_trust_vector();
        let evidence = json!({
            "psa-client-id": 1,
            "psa-security-lifecycle": 12288,
            "psa-implementation-id": "YWNtZS1pbXBsZW1lbnRhdGlvbi1pZC0wMDAwMDAwMDE=",
            "psa-software-components": [
                {"measurement-type": "BL", "version": "3.4.2", "signer-id": "UZIA/w=="},
                {"measurement-type": "PRoT", "version": "1.3.5"},
            ],
        });
        let variant = |scheme, submod, nonce, result: &Appraisal, evidence: &Value| Variant {
            scheme,
            submod,
            nonce,
            result: result.clone(),
            evidence: evidence.clone(),
        };
        let mut worse = result.clone();
        worse.trust_vector.hardware = TrustClaim(96);
        worse.update_status_from_trust_vector();
        let mut newer = evidence.clone();
        newer["psa-software-components"][0]["version"] = json!("3.5.0");
        let mut more = evidence.clone();
        more["psa-client-id"] = json!(2);
        let variants = vec![
            variant(
                "PSA_IOT",
                "PSA_IOT",
                "AAAAAAAAAAAAAAAAAAAAAA==",
                &result,
                &evidence,
            ),
            variant("CCA", "PSA_IOT", NONCE, &result, &evidence),
            variant("PSA_IOT", "CCA_REALM", NONCE, &result, &evidence),
            variant("PSA_IOT", "PSA_IOT", NONCE, &worse, &evidence),
            variant("PSA_IOT", "PSA_IOT", NONCE, &result, &newer),
            variant("PSA_IOT", "PSA_IOT", NONCE, &result, &more),
        ];
        Fixture {
            result,
            evidence,
            endorsements: vec![json!({"mkey": "BL", "version": "3.4.2"})],
            variants,
        }
    })
}

const NONCE: &str = "TlNuU05PTkNFTk9OQ0VOT05DRQ==";

/// A variant (one per input, chosen by its length, to keep each run to at
/// most three evaluations) answers through the memo as it does when run.
fn check_memo(policy: &CompiledPolicy, pick: usize) {
    let f = fixture();
    if let Some(v) = f.variants.get(pick % f.variants.len()) {
        let input = Input {
            scheme: v.scheme,
            submod: v.submod,
            nonce: v.nonce,
            result: &v.result,
            evidence: &v.evidence,
            endorsements: &f.endorsements,
        };
        let remembered = policy.evaluate(&input);
        let evaluated = policy.evaluate_uncached(&input);
        // The time limit is wall-clock: on a loaded machine one of the two
        // runs may hit it and the other not. Only outcomes count.
        if timed_out(&remembered) || timed_out(&evaluated) {
            return;
        }
        assert_eq!(
            remembered, evaluated,
            "a remembered outcome differs from evaluation"
        );
    }
}

/// Whether evaluation stopped at [`vouch_policy::EVALUATION_TIME_LIMIT`].
fn timed_out(outcome: &Result<Outcome, vouch_policy::PolicyError>) -> bool {
    matches!(outcome, Err(vouch_policy::PolicyError::Evaluate(message)) if message.contains("time limit"))
}

fn evaluate(policy: &CompiledPolicy) -> Result<Outcome, vouch_policy::PolicyError> {
    let f = fixture();
    policy.evaluate(&Input {
        scheme: "PSA_IOT",
        submod: "PSA_IOT",
        nonce: NONCE,
        result: &f.result,
        evidence: &f.evidence,
        endorsements: &f.endorsements,
    })
}

fn check(outcome: &Outcome) {
    let mut appraisal = fixture().result.clone();
    outcome.apply(&mut appraisal);
    for (name, claim) in outcome.trust_vector.claims() {
        if claim != TrustClaim::NO_CLAIM {
            let applied = appraisal
                .trust_vector
                .claims()
                .into_iter()
                .find(|(n, _)| *n == name);
            assert_eq!(applied, Some((name, claim)), "{name} was not applied");
        }
    }
    assert_eq!(
        appraisal.policy_claims.as_ref(),
        Some(&outcome.added_claims)
    );
    assert!(
        appraisal.status >= appraisal.trust_vector.max_tier(),
        "status below its trust vector"
    );
    assert!(
        appraisal.status >= outcome.status,
        "status below the one the policy set"
    );
}

fuzz_target!(
    init: {
        policies::unwind_panics();
        seed::plant(policies::seeds);
    },
    |data: &[u8]| {
        let Some(rules) = policies::rules(data) else {
            return;
        };
        if let Ok(policy) = compile(rules) {
            if let Ok(outcome) = evaluate(&policy) {
                check(&outcome);
            }
            check_memo(&policy, data.len());
        }
    }
);
