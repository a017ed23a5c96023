#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

fn psa_appraisal() -> Appraisal {
    let mut a = Appraisal::new();
    a.trust_vector.instance_identity = TrustClaim(2);
    a.trust_vector.executables = TrustClaim(2);
    a.trust_vector.hardware = TrustClaim(2);
    a.status = TrustTier::Affirming;
    a.policy_id = Some("policy:PSA_IOT".to_owned());
    a
}

fn evidence_with_bl(version: &str) -> Value {
    json!({
        "psa-software-components": [
            {"measurement-type": "PRoT", "version": "1.0.0"},
            {"measurement-type": "BL", "version": version}
        ]
    })
}

fn run(rules: &str, evidence: &Value, nonce: &str) -> Result<Outcome, PolicyError> {
    let policy = compile(rules)?;
    policy.evaluate(&Input {
        scheme: "PSA_IOT",
        submod: "PSA_IOT",
        nonce,
        result: &psa_appraisal(),
        evidence,
        endorsements: &[],
    })
}

#[test]
fn the_load_tests_sample_policy_checks_both_versions() {
    for (bl, prot, expect) in [
        ("2.1.0", "1.3.5", 2),
        ("2.0.9", "1.3.5", 32),
        ("2.1.0", "1.2.0", 32),
    ] {
        let evidence = json!({"psa-software-components": [
            {"measurement-type": "BL", "version": bl},
            {"measurement-type": "PRoT", "version": prot},
        ]});
        let outcome = run(
            include_str!("../../../loadtest/policies/psa.rego"),
            &evidence,
            "AA==",
        )
        .unwrap();
        assert_eq!(
            outcome.trust_vector.executables,
            TrustClaim(expect),
            "{bl} {prot}"
        );
        assert_eq!(outcome.added_claims["bl-version"], bl);
    }
}

const SHORT: &str = "package policy\n\nexecutables = UNSAFE_RT\n";

const SEMVER: &str = r#"package policy

executables = APPROVED_RT {
  some i
  evidence["psa-software-components"][i]["measurement-type"] == "BL"
  semver_cmp(evidence["psa-software-components"][i].version, "3.5") >= 0
} else = UNSAFE_RT
"#;

#[test]
fn a_one_line_policy_overrides_one_claim_and_leaves_the_rest() {
    let outcome = run(SHORT, &json!({}), "AAAAAAAAAAA=").unwrap();
    assert_eq!(outcome.status, TrustTier::None);
    assert_eq!(outcome.trust_vector.executables, TrustClaim(32));
    assert_eq!(outcome.trust_vector.hardware, TrustClaim::NO_CLAIM);
    assert!(outcome.added_claims.is_empty());

    let mut appraisal = psa_appraisal();
    outcome.apply(&mut appraisal);
    assert_eq!(appraisal.trust_vector.executables, TrustClaim(32));
    assert_eq!(appraisal.trust_vector.hardware, TrustClaim(2), "zero keeps");
    assert_eq!(appraisal.status, TrustTier::Warning, "raised by the vector");
    assert_eq!(appraisal.policy_claims, Some(Map::new()));
    assert_eq!(appraisal.policy_id.as_deref(), Some("policy:PSA_IOT"));
}

#[test]
fn semver_compares_numerically_component_by_component() {
    for (version, want) in [
        ("3.5", 2),
        ("3.5.1", 2),
        ("3.10", 2),
        ("4.0.0", 2),
        ("3.4.9", 32),
        ("3.4", 32),
        ("2.99", 32),
        ("3", 32),
    ] {
        let outcome = run(SEMVER, &evidence_with_bl(version), "AAAAAAAAAAA=").unwrap();
        assert_eq!(
            outcome.trust_vector.executables,
            TrustClaim(want),
            "{version}"
        );
    }
    // No BL component at all: the else branch does not apply to an
    // undefined body in Rego v0 either way; the rule is undefined or
    // UNSAFE_RT, never APPROVED_RT.
    let outcome = run(
        SEMVER,
        &json!({"psa-software-components": []}),
        "AAAAAAAAAAA=",
    )
    .unwrap();
    assert_ne!(outcome.trust_vector.executables, TrustClaim(2));
}

#[test]
fn a_policy_sees_the_session_nonce_and_can_set_the_status() {
    let rules = r#"package policy

status = AFFIRMING {
  base64url.decode(session["nonce"]) == base64.decode(evidence["challenge"])
} else = CONTRAINDICATED

added_claims = {"checked": submod, "scheme": scheme}
"#;
    // 8 bytes 0x01..0x08: base64url "AQIDBAUGBwg=", base64 the same here.
    let matching = json!({"challenge": "AQIDBAUGBwg="});
    let other = json!({"challenge": "CQIDBAUGBwg="});
    let good = run(rules, &matching, "AQIDBAUGBwg=").unwrap();
    assert_eq!(good.status, TrustTier::Affirming);
    assert_eq!(
        Value::Object(good.added_claims.clone()),
        json!({"checked": "PSA_IOT", "scheme": "PSA_IOT"})
    );
    let bad = run(rules, &other, "AQIDBAUGBwg=").unwrap();
    assert_eq!(bad.status, TrustTier::Contraindicated);
    // A missing claim makes base64.decode undefined: the else applies.
    let missing = run(rules, &json!({}), "AQIDBAUGBwg=").unwrap();
    assert_eq!(missing.status, TrustTier::Contraindicated);

    let mut appraisal = psa_appraisal();
    bad.apply(&mut appraisal);
    assert_eq!(appraisal.status, TrustTier::Contraindicated);
}

#[test]
fn the_policy_sees_the_schemes_result() {
    let rules = r#"package policy

hardware = UNSAFE_HW {
  result["ear.trustworthiness-vector"]["hardware"] == GENUINE_HW
  result["ear.status"] == "affirming"
}
"#;
    let outcome = run(rules, &json!({}), "AAAAAAAAAAA=").unwrap();
    assert_eq!(outcome.trust_vector.hardware, TrustClaim(32));
}

#[test]
fn invalid_policies_are_refused_with_the_compilers_message() {
    for (rules, expect) in [
        ("package policy\nexecutables = ", ""),
        (
            "package other\nexecutables = 2\n",
            "package must be `policy`",
        ),
        ("executables = 2\n", ""),
        ("package policy\nexecutables = no_such_function(1)\n", ""),
        ("package policy\nexecutables := 2\nexecutables := 3\n", ""),
        ("", ""),
    ] {
        let Err(error) = compile(rules).map(|_| ()) else {
            panic!("{rules:?} compiled");
        };
        assert!(
            matches!(error, PolicyError::Compile(_)),
            "{rules:?}: {error:?}"
        );
        assert!(!error.to_string().is_empty());
        assert!(error.to_string().contains(expect), "{rules:?}: {error}");
    }
    let huge = format!("package policy\n# {}\n", "x".repeat(MAX_POLICY_BYTES));
    assert!(compile(&huge).is_err());
}

#[test]
fn number_literals_out_of_range_are_refused_before_regorus_builds_them() {
    for rules in [
        "package policy\nexecutables = 0e55555550\n",
        "package policy\n\nx := [1, 2E+309]\n",
        "package policy\nx := -1e0001000\n",
        &format!(
            "package policy\nx := {}\n",
            "9".repeat(MAX_NUMBER_LITERAL + 1)
        ),
    ] {
        let error = compile(rules).map(|_| ()).unwrap_err().to_string();
        assert!(
            error.contains("number literal out of range"),
            "{rules:?}: {error}"
        );
    }
    let error = compile("package policy\n\n  x := 1e400\n")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("policy.rego:3:8: "), "{error}");
    // Digits in names, strings, raw strings and comments are not numbers,
    // and literals inside the bounds compile.
    let fine = format!(
        "package policy\n# 0e55555550\nv1e999 := \"1e55555\\\"0e9999\"\nr := `\n2e9999`\n\
         x := [1e308, 0.5e-308, {}]\nexecutables = 2 {{ count(x) > 0 }}\n",
        "7".repeat(300)
    );
    compile(&fine).unwrap();
}

#[test]
fn numbers_from_the_evidence_are_bounded_too() {
    // A device's claims reach to_number through semver_cmp. regorus reads
    // a string as a JSON number first, which refuses what a double cannot
    // hold, so a signed token whose version is "1e999999999" fails the
    // policy (a signed result that says so) instead of building 10^999999999.
    let rules = "package policy\nexecutables = APPROVED_RT { semver_cmp(evidence.v, \"1.0.0\") >= 0 } else = UNSAFE_RT\n";
    for v in ["1e999999999", "1.0.1e99999999", "1.-1e9999999999"] {
        let error = run(rules, &json!({ "v": v }), "AAAAAAAAAAA=").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("could not parse string as number"),
            "{v}: {error}"
        );
    }
    // A zero mantissa is read as the double 0, not as a big integer.
    let outcome = run(rules, &json!({ "v": "0e55555550" }), "AAAAAAAAAAA=").unwrap();
    assert_eq!(outcome.trust_vector.executables, TrustClaim(32));
}

#[test]
fn outcomes_that_break_the_shape_are_refused() {
    let rules_and_errors = [
        ("package policy\nhardware = 200\n", "bad value"),
        ("package policy\nhardware = \"genuine\"\n", "bad value"),
        ("package policy\nstatus = 3\n", "bad status"),
        ("package policy\nadded_claims = [1]\n", "added-claims"),
    ];
    for (rules, expect) in rules_and_errors {
        let error = run(rules, &json!({}), "AAAAAAAAAAA=").unwrap_err();
        assert!(error.to_string().contains(expect), "{rules}: {error}");
    }
    assert!(
        Outcome::from_json(&json!({"status": 0, "trust-vector": {"bogus": 2}, "added-claims": {}}))
            .is_err()
    );
    assert!(Outcome::from_json(&json!({"trust-vector": {}, "added-claims": {}})).is_err());
    assert!(Outcome::from_json(&json!([])).is_err());
    let named = Outcome::from_json(
        &json!({"status": "warning", "trust-vector": {"hardware": -2}, "added-claims": {}}),
    )
    .unwrap();
    assert_eq!(named.status, TrustTier::Warning);
    assert_eq!(named.trust_vector.hardware, TrustClaim(-2));
}

#[test]
fn a_runaway_policy_is_stopped_by_the_time_limit() {
    // A hundred million iterations over small arrays, only when the
    // evidence asks for it (so that the policy compiles).
    let rules = "package policy\nexecutables = 2 {\n  evidence.spin\n  count([1 | numbers.range(1, 10000)[_]; numbers.range(1, 10000)[_]]) > 0\n}\n";
    let started = std::time::Instant::now();
    let error = run(rules, &json!({"spin": true}), "AAAAAAAAAAA=").unwrap_err();
    assert!(matches!(error, PolicyError::Evaluate(_)), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Without the trigger it runs as usual.
    assert!(run(rules, &json!({}), "AAAAAAAAAAA=").is_ok());
    // A policy that spins whatever the input is refused when it is compiled.
    let always = "package policy\nexecutables = 2 {\n  count([1 | numbers.range(1, 10000)[_]; numbers.range(1, 10000)[_]]) > 0\n}\n";
    assert!(matches!(compile(always), Err(PolicyError::Compile(_))));
}

#[test]
fn a_failed_policy_leaves_a_non_affirming_appraisal_with_the_reason() {
    let mut appraisal = psa_appraisal();
    failed(&mut appraisal, &PolicyError::Evaluate("boom".to_owned()));
    assert_eq!(appraisal.status, TrustTier::None);
    assert_eq!(
        appraisal.trust_vector.hardware,
        TrustClaim::VERIFIER_MALFUNCTION
    );
    assert_eq!(
        appraisal.policy_claims.unwrap()["problem"],
        "policy failed: could not evaluate policy: boom"
    );
}

#[test]
fn compiled_policies_evaluate_from_several_threads() {
    let policy = std::sync::Arc::new(compile(SEMVER).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let policy = policy.clone();
            std::thread::spawn(move || {
                let evidence = evidence_with_bl(if i % 2 == 0 { "3.6" } else { "3.1" });
                let outcome = policy
                    .evaluate(&Input {
                        scheme: "PSA_IOT",
                        submod: "PSA_IOT",
                        nonce: "AAAAAAAAAAA=",
                        result: &psa_appraisal(),
                        evidence: &evidence,
                        endorsements: &[],
                    })
                    .unwrap();
                (i, outcome.trust_vector.executables)
            })
        })
        .collect();
    for handle in handles {
        let (i, claim) = handle.join().unwrap();
        assert_eq!(claim, TrustClaim(if i % 2 == 0 { 2 } else { 32 }));
    }
}

proptest::proptest! {
    #[test]
    fn outcome_parsing_never_panics(status in proptest::num::i64::ANY, claim in proptest::num::i64::ANY, key in "[a-z-]{0,20}") {
        let json = json!({"status": status, "trust-vector": {key: claim}, "added-claims": {}});
        let _ = Outcome::from_json(&json);
    }
}

/// Remembered outcomes must be exactly what running the policy gives: every
/// policy below is evaluated, in one sequence through one compiled policy,
/// over inputs that differ in every field, and each answer is compared
/// with a fresh evaluation.
#[test]
fn remembered_outcomes_are_the_outcomes_evaluation_gives() {
    let policies = [
        include_str!("../../../loadtest/policies/psa.rego"),
        SHORT,
        SEMVER,
        "package policy\nstatus = AFFIRMING { session.nonce == \"AQ==\" } else = WARNING\n",
        "package policy\nadded_claims = {\"s\": scheme, \"m\": submod}\n",
        "package policy\nhardware = UNSAFE_HW { result[\"ear.status\"] == \"affirming\" }\n",
        "package policy\nadded_claims = {\"n\": count(evidence)}\n",
        "package policy\nadded_claims = {\"k\": k} { evidence[k] == 7 }\n",
        "package policy\nadded_claims = {\"e\": e.other} { e := evidence }\n",
        "package policy\nadded_claims = {\"e\": evidence.other}\n",
        "package policy\nadded_claims = {\"e\": input.evidence[\"other\"], \"n\": input.session}\n",
        "package policy\nadded_claims = {\"e\": x} { x := object.get(input, \"evidence\", 0) }\n",
        "package policy\nadded_claims = {\"e\": data.policy.evidence.other}\n",
        "package policy\nadded_claims = {\"t\": count(endorsements)}\n",
    ];
    let mut inputs = Vec::new();
    for (bl, other, nonce, scheme, submod, affirming) in [
        ("3.5.1", json!(1), "AQ==", "PSA_IOT", "PSA_IOT", true),
        ("3.5.1", json!(2), "Ag==", "PSA_IOT", "PSA_IOT", true),
        ("3.4.0", json!(1), "AQ==", "PSA_IOT", "PSA_IOT", true),
        ("3.5.1", json!(7), "AQ==", "CCA", "CCA_REALM", true),
        ("3.5.1", json!(1), "Aw==", "PSA_IOT", "PSA_IOT", false),
        ("3.4.0", json!(7), "Ag==", "CCA", "CCA_SSD_PLATFORM", false),
    ] {
        let mut result = psa_appraisal();
        if !affirming {
            result.trust_vector.hardware = TrustClaim(96);
            result.update_status_from_trust_vector();
        }
        let mut evidence = evidence_with_bl(bl);
        evidence["other"] = other;
        inputs.push((result, evidence, nonce, scheme, submod));
    }
    let endorsements = [json!({"a": 1})];
    for rules in policies {
        let policy = compile(rules).unwrap();
        for round in 0..2 {
            for (i, (result, evidence, nonce, scheme, submod)) in inputs.iter().enumerate() {
                let input = Input {
                    scheme,
                    submod,
                    nonce,
                    result,
                    evidence,
                    endorsements: &endorsements[..i % 2],
                };
                assert_eq!(
                    policy.evaluate(&input),
                    policy.evaluate_uncached(&input),
                    "round {round}, input {i}: {rules}"
                );
            }
        }
    }
}

#[test]
fn a_fleet_with_the_same_firmware_costs_one_evaluation() {
    let policy = compile(include_str!("../../../loadtest/policies/psa.rego")).unwrap();
    assert!(policy.memoised());
    let result = psa_appraisal();
    for device in 0..100u32 {
        let mut evidence = evidence_with_bl("3.5.1");
        evidence["psa-instance-id"] = json!(device.to_string());
        let nonce = format!("{device:08}");
        policy
            .evaluate(&Input {
                scheme: "PSA_IOT",
                submod: "PSA_IOT",
                nonce: &nonce,
                result: &result,
                evidence: &evidence,
                endorsements: &[],
            })
            .unwrap();
    }
    assert_eq!(policy.remembered(), 1);
    // A policy that reads the nonce is remembered per nonce; one that
    // reaches the input where the analysis cannot follow, never.
    assert!(
        compile("package policy\nx { session.nonce }\n")
            .unwrap()
            .memoised()
    );
    assert!(!compile("package policy\nx { input }\n").unwrap().memoised());
    assert!(
        !compile("package policy\nx := time.now_ns()\n")
            .unwrap()
            .memoised()
    );
}

#[test]
fn recursive_functions_and_deep_nesting_are_refused_before_they_can_stall_trust() {
    // Each of these aborted (stack overflow) or stalled the process that
    // compiled it before the checks.
    for (rules, expect) in [
        (
            "package policy\nf(x) = y { y := f(x) }\nexecutables = f(1)\n".to_owned(),
            "functions must not be recursive: f -> f",
        ),
        (
            "package policy\nf(x) = y { y := g(x) }\ng(x) = y { y := f(x) }\nexecutables = f(1)\n"
                .to_owned(),
            "functions must not be recursive: f -> g -> f",
        ),
        (
            // Found by fuzzing: the call on the line after `f(x) =` was
            // taken for a second definition of f, so the cycle went unseen.
            "package policy\nexecutables = f(0)\nf(x) =\nf(x) A y\n".to_owned(),
            "functions must not be recursive: f -> f",
        ),
        (
            // Found by fuzzing next: two rules on one line.
            "package policy\nexecutables = f(0)\nexecutables f(x) =f(0)\n".to_owned(),
            "functions must not be recursive: f -> f",
        ),
        (
            "package policy\nf(x) = y {\n  y := 1\n} else =\n\n  # the value\nf(x)\nexecutables = f(1)\n"
                .to_owned(),
            "functions must not be recursive: f -> f",
        ),
        (
            format!(
                "package policy\nexecutables = {}1{}\n",
                "[".repeat(30),
                "]".repeat(30)
            ),
            "brackets nested more than 16 deep",
        ),
        (
            // Found by fuzzing: overflowed the fuzzer's 8 MiB stack in
            // regorus's parser.
            format!("package policy\nexecutables = {}1\n", "- ".repeat(2000)),
            "policy.rego:2:15: more than 2 minus signs in a row",
        ),
        (
            format!(
                "package policy\nexecutables = x {{ x := 3 -{}1 }}\n",
                "-\n".repeat(5)
            ),
            "more than 2 minus signs in a row",
        ),
        (
            // Overflowed a 2 MiB thread (this test's) inside regorus.
            format!(
                "{}executables = r0\n",
                crate::recursion::chain("rules", 1000)
            ),
            "rules and functions refer to one another more than 64 deep: outcome -> executables -> r0 -> r1",
        ),
        (
            format!(
                "{}executables = f0(2)\n",
                crate::recursion::chain("functions", 1000)
            ),
            "(1003 deep)",
        ),
    ] {
        let error = compile(&rules).unwrap_err().to_string();
        assert!(error.contains(expect), "{error}");
    }
    // Sixteen levels (a brace, a parenthesis and fourteen brackets), and
    // brackets inside strings, still compile.
    let deep = format!(
        "package policy\nexecutables = x {{ x := count({}1{}) }}\nadded_claims = {{\"s\": \"{}\"}}\n",
        "[".repeat(14),
        "]".repeat(14),
        "[".repeat(40)
    );
    compile(&deep).unwrap();
    // A chain of 60 rules after the preamble's two steps still compiles
    // and runs.
    let chain = format!("{}executables = r0\n", crate::recursion::chain("rules", 60));
    compile(&chain).unwrap();
    // Binary then unary minus, and minus inside strings and comments.
    compile("package policy\nx := 3 - -1 # ---\ny := \"----\"\nz := 1e-5 - 2\n").unwrap();
}

/// A reference indexed `n` times by a variable, between literal indexes,
/// as the rule `executables`.
fn indexed(n: usize, separator: &str) -> String {
    let segments: String = (0..n)
        .map(|k| format!("[i{k}]{separator}[\"c{k}\"]"))
        .collect();
    format!(
        "package policy\nexecutables = APPROVED_RT {{\n  semver_cmp(evidence[\"a\"]{segments}.version, \"4.5\") >= 0\n}}\n"
    )
}

#[test]
fn references_indexed_by_many_variables_are_refused_before_regorus() {
    // Found by fuzzing (docs/security.md P7): regorus's scheduler takes
    // time exponential in a reference's variable indexes; this one (20 of
    // them) ran for minutes.
    let found = format!(
        "package policy\nexecutables = APPROVED_RT {{\n  some i\n  x := evidence[\"a\"]{}[i]\n}}\n",
        "[iPP][\"m\"]".repeat(19)
    );
    let error = compile(&found).unwrap_err().to_string();
    assert!(
        error.contains("policy.rego:4:")
            && error.contains("a reference indexed by more than 8 variables or expressions"),
        "{error}"
    );
    // Nine, through `.` as well as brackets, and `_`, and an expression.
    for rules in [
        indexed(9, ""),
        indexed(9, ".b"),
        format!(
            "package policy\nx := y {{ y := input{}[a + 1] }}\n",
            "[_]".repeat(8)
        ),
    ] {
        let error = compile(&rules).unwrap_err().to_string();
        assert!(error.contains("more than 8 variables"), "{rules}: {error}");
    }
    // Eight compile, literal indexes do not count, each reference counts
    // its own (also when one is inside another's index), and arrays are
    // not indexes.
    compile(&indexed(8, "")).unwrap();
    compile(&indexed(8, ".b")).unwrap();
    let literal: String = (0..40).map(|k| format!("[\"k{k}\"][{k}]")).collect();
    compile(&format!("package policy\nx := input{literal}\n")).unwrap();
    let eight = "[a][b][c][d][e][f][g][h]";
    compile(&format!(
        "package policy\nx := y {{ y := [input{eight}, input{eight}]; z := input{eight} == input{eight} }}\n"
    ))
    .unwrap();
    compile(&format!(
        "package policy\nx := y {{ y := input[a][b][c][d][e][f][g][input{eight}] }}\n"
    ))
    .unwrap();
    compile("package policy\nx := count([[1], [2], [3], [4], [5], [6], [7], [8], [9], [10]])\n")
        .unwrap();
}

#[test]
fn bodies_of_many_statements_are_refused_before_regorus() {
    // regorus's scheduler is quadratic in the variables a body defines
    // (docs/security.md P7): 19,514 of them took 52 s.
    let body = |n: usize, separator: &str| {
        let statements: Vec<String> = (0..n).map(|k| format!("x{k} := {k}")).collect();
        format!(
            "package policy\nexecutables = y {{\n{}\n  y := 1\n}}\n",
            statements.join(separator)
        )
    };
    for rules in [body(256, "\n"), body(256, "; ")] {
        let error = compile(&rules).unwrap_err().to_string();
        assert!(
            error.contains("a body of more than 256 statements"),
            "{error}"
        );
    }
    // At most 64 indexes by variables in one body, over its references.
    let indexes = |n: usize| {
        let statements: Vec<String> = (0..n).map(|k| format!("  x{k} := input[a{k}]")).collect();
        format!(
            "package policy\nexecutables = y {{\n{}\n  y := 1\n}}\n",
            statements.join("\n")
        )
    };
    // (What 64 unbound variables then cost regorus is its own business:
    // here the evaluation time limit ends it; the pre-check lets it by.)
    check_lexical_limits(&indexes(64)).unwrap();
    let error = compile(&indexes(65)).unwrap_err().to_string();
    assert!(
        error.contains("policy.rego:67:") && error.contains("more than 64 indexes"),
        "{error}"
    );
    compile(&body(255, "\n")).unwrap();
    compile(&body(255, ";\n  # a comment\n\n")).unwrap();
    // A long literal's lines end in commas: one element per line of a
    // 1,000-element set is not a statement each.
    let elements: Vec<String> = (0..1000).map(|k| format!("  \"h{k}\"")).collect();
    compile(&format!(
        "package policy\nknown := {{\n{}\n}}\nexecutables = APPROVED_RT {{\n  known[\"h1\"]\n}}\n",
        elements.join(",\n")
    ))
    .unwrap();
}

#[test]
fn a_panic_inside_the_engine_is_a_policy_error_of_the_call_that_made_it() {
    // regorus panicked once under fuzzing where it should have answered an
    // error (docs/security.md, P5); no input found makes it panic on its
    // own, so the guard is tested with panics of both payload types.
    let compile_error = contained(PolicyError::Compile, || -> Result<(), _> {
        panic!("a formatting trait implementation returned an error")
    })
    .unwrap_err();
    assert!(
        matches!(&compile_error, PolicyError::Compile(m)
            if m == "the policy engine failed: a formatting trait implementation returned an error"),
        "{compile_error:?}"
    );
    let number = 42;
    let evaluate_error = contained(PolicyError::Evaluate, || -> Result<(), _> {
        panic!("formatted {number}")
    })
    .unwrap_err();
    assert_eq!(
        evaluate_error.to_string(),
        "could not evaluate policy: the policy engine failed: formatted 42"
    );
    // What does not panic passes through, errors included.
    assert_eq!(contained(PolicyError::Compile, || Ok(7)).unwrap(), 7);
    let refused = contained(PolicyError::Compile, || -> Result<(), _> {
        Err(PolicyError::BadOutcome("kept".to_owned()))
    })
    .unwrap_err();
    assert!(matches!(refused, PolicyError::BadOutcome(m) if m == "kept"));
    // And the engine still compiles and evaluates afterwards.
    run(
        "package policy\nexecutables = APPROVED_RT\n",
        &evidence_with_bl("1.0.0"),
        "n",
    )
    .unwrap();
}
