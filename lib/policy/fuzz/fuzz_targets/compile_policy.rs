//! Policy bodies as the management API receives them: on upload, any text
//! is compiled by `vouch_policy::compile` (Rego v0 with the preamble,
//! package `policy`, the `outcome` entry point) and stored only if that
//! succeeds. A management client, or a malicious policy author, controls
//! the text entirely.
//!
//! Besides "never panic" (a panic inside regorus is caught by `compile` and
//! answered as a refusal): a refusal carries the compiler's message, which
//! is what the uploader reads in the 400 answer. Inputs go through the
//! cheap checks of `policies.rs` first (a bracket-depth bound for a known
//! problem, and parsing the rules alone).

#![no_main]

mod policies;
use vouch_testkit::fuzz_seed as seed;

use libfuzzer_sys::fuzz_target;
use vouch_policy::compile;

fuzz_target!(
    init: {
        policies::unwind_panics();
        seed::plant(policies::seeds);
    },
    |data: &[u8]| {
        let Some(rules) = policies::rules(data) else {
            return;
        };
        if let Err(e) = compile(rules) {
            assert!(!e.to_string().is_empty(), "a refusal without a message");
        }
    }
);
