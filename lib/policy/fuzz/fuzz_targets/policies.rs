//! What the policy targets share: the seeds, and the cheap checks that
//! come before compiling.
//!
//! Seeds are small policies in the style of Veraison's sample policies
//! (trust-vector overrides, status, added claims, the preamble's helpers
//! and shortcuts), and ones the compiler must refuse.

use std::sync::atomic::{AtomicU64, Ordering};

/// Whether regorus parses `rules` as a Rego v0 module on its own.
///
/// `compile` parses the preamble, then the rules, then compiles both and
/// evaluates the result once; most fuzz inputs fail the second step, and
/// re-parsing the preamble for each of them would keep the targets at a
/// few thousand inputs a second. The rules are parsed alone first, and only
/// what parses reaches `compile`. So that this shortcut cannot hide
/// anything, one input in 64 that does not parse alone (the first one
/// always) still goes to `compile`, which must refuse it.
pub fn parses_alone(rules: &str) -> bool {
    static SAMPLE: AtomicU64 = AtomicU64::new(0);
    // A parse that panics goes to `compile`, whose guard must catch it.
    let parsed = std::panic::catch_unwind(|| {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        engine
            .add_policy("policy.rego".to_owned(), rules.to_owned())
            .is_ok()
    });
    if parsed.unwrap_or(true) {
        return true;
    }
    if SAMPLE.fetch_add(1, Ordering::Relaxed).is_multiple_of(64) {
        assert!(
            vouch_policy::compile(rules).is_err(),
            "compile accepted rules that do not parse on their own"
        );
    }
    false
}

pub fn seeds() -> Vec<Vec<u8>> {
    let policies = [
        "package policy\n\nexecutables = UNSAFE_RT\n",
        "package policy\n\nexecutables = APPROVED_RT {\n  some i\n  evidence[\"psa-software-components\"][i][\"measurement-type\"] == \"BL\"\n  semver_cmp(evidence[\"psa-software-components\"][i].version, \"3.5\") >= 0\n} else = UNSAFE_RT\n",
        "package policy\n\nstatus = WARNING { input.session.nonce == \"\" }\nhardware = GENUINE_HW { evidence[\"psa-security-lifecycle\"] == 12288 }\nconfiguration = UNSAFE_CONFIG { count(endorsements) > 3 }\n",
        "package policy\n\nadded_claims = {\"lifecycle\": evidence[\"psa-security-lifecycle\"], \"scheme\": scheme, \"n\": count(evidence[\"psa-software-components\"])}\n",
        "package policy\n\nimport future.keywords.in\n\nexecutables = CONTRAINDICATED_RT {\n  c := evidence[\"psa-software-components\"][_]\n  c[\"measurement-type\"] in {\"BL\", \"M1\"}\n  not c[\"signer-id\"]\n}\n",
        "package policy\n\nhardware = x { x := to_number(\"96\") }\nsourced_data = 300\n",
        "package policy\n\nstatus = \"contraindicated\" { result[\"ear.status\"] != \"affirming\" }\nstorage_opaque = y { y := sum([1, 2, 3]) }\n",
        "package policy\n\nruntime_opaque = z {\n  xs := [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n  z := count([x | x := xs[_]; x % 7 == 0])\n}\n",
        "package policy\n\nfile_system = 2 { regex.match(\"^[0-9]+\\\\.\", evidence[\"psa-software-components\"][0].version) }\n",
        "package other\n\nexecutables = 2\n",
        "package policy\n\nexecutables = {\n",
        "package policy\n\nexecutables = undefined_function(1)\n",
        "package policy\n\noutcome := 7\n",
        "package policy\n\ndefault executables = 2\nexecutables = 3 { true }\n",
        "package policy\n\nf(x) = y { y := g(x) }\ng(x) = y { y := f(x) }\nexecutables = f(1)\n",
    ];
    policies.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// The fuzz input as policy rules, if it is UTF-8 that regorus can parse
/// on its own within the bracket depth; both targets skip anything else.
pub fn rules(data: &[u8]) -> Option<&str> {
    let rules = std::str::from_utf8(data).ok()?;
    // `compile` checks the lexical limits (bracket depth above all: regorus's
    // parser is exponential in it) before parsing; `parses_alone` parses
    // first, so the same check comes before it.
    (vouch_policy::check_lexical_limits(rules).is_ok() && parses_alone(rules)).then_some(rules)
}

/// Lets panics unwind, as they do in trust. libFuzzer's hook aborts on any
/// panic before unwinding, but `vouch_policy` turns a panic inside regorus
/// into a policy error (docs/security.md, P5), which is what Vouch serves;
/// a panic in Vouch's own code still reaches libFuzzer's wrapper uncaught
/// and aborts there as a crash.
pub fn unwind_panics() {
    drop(std::panic::take_hook());
}
