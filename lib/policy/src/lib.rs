//! Appraisal policies: Rego rules, Veraison compatible, evaluated with
//! `regorus` (pure Rust).
//!
//! A policy is evaluated once per EAR submod after the scheme has appraised
//! the evidence. It sees the same input Veraison's OPA back end gives it
//! (`scheme`, `session.nonce`, `result`, `evidence`, `endorsements`, plus
//! `submod`, which Veraison's preamble names but never sets) and answers
//! through the preamble's `outcome` rule: a status, trust-vector overrides
//! and added claims. [`Outcome::apply`] folds that into the appraisal the
//! way Veraison's policy agent does.
//!
//! Compilation is done once per policy (on upload, to reject invalid rules
//! before anything is stored, and once per trust instance when a policy
//! becomes active); evaluation reuses the compiled form.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Once, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};
use vouch_ear::{Appraisal, TrustClaim, TrustTier, TrustVector};

/// The preamble every policy is evaluated with (package `policy`).
pub const PREAMBLE: &str = include_str!("preamble.rego");

/// The rule every policy answers through.
pub const OUTCOME_RULE: &str = "data.policy.outcome";

/// Largest policy accepted, in bytes. Policies are written by operators,
/// but the management API is still a network interface.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// Longest number literal accepted in a policy, in characters, and the
/// largest decimal exponent. regorus turns a literal into an exact big
/// integer before anything else runs (no time limit applies), so
/// `0e55555550` took over ten seconds to compile (found by fuzzing). A
/// double reaches 10^308; no appraisal policy needs more.
pub const MAX_NUMBER_LITERAL: usize = 400;
/// See [`MAX_NUMBER_LITERAL`].
pub const MAX_NUMBER_EXPONENT: u32 = 308;

/// Deepest nesting of brackets (`(`, `[`, `{` together) accepted. regorus's
/// parser takes time exponential in the depth (about ×1.8 a level: 16
/// levels 54 ms, 18 levels 175 ms, 24 several seconds; found by fuzzing),
/// and no time limit applies to parsing. Appraisal policies nest a few
/// levels.
pub const MAX_NESTING: usize = 16;

/// Most minus signs in a row (`a - -b` has two); each unary minus is a
/// level of recursion in regorus's parser.
pub const MAX_MINUS_RUN: usize = 2;

/// Most indexes by something other than a literal in one reference
/// (`evidence[x]["y"][i]` has two: `x` and `i`). regorus's statement
/// scheduler takes time exponential in them (about ×2 each: 14 took 0.3 s,
/// 18 took 3.9 s, and an 825-byte policy with about 20 ran for minutes;
/// found by fuzzing, docs/security.md P7), and no time limit applies to
/// compiling. Appraisal policies index a reference by a variable once or
/// twice.
pub const MAX_VARIABLE_INDEXES: usize = 8;

/// Most statements in one body (`{ … }` of a rule, function or
/// comprehension; lines or `;`-separated). regorus's scheduler takes time
/// quadratic in the variables one body defines: 19,514 statements
/// `xN := 1` in one rule (256 KiB) compiled in 52 s (docs/security.md P7).
/// Appraisal rules have a few dozen statements at most.
pub const MAX_BODY_STATEMENTS: usize = 256;

/// Most indexes that are not literals in one body, over all its
/// references. The scheduler's time also grows with their number per body
/// faster than linearly: 256 KiB of bodies with 256 statements of 8 such
/// indexes each compiled in 14.6 s (docs/security.md P7). Appraisal rules
/// have a handful.
pub const MAX_BODY_VARIABLE_INDEXES: usize = 64;

/// Longest chain of rules and functions referring to one another (`a`
/// uses `b`, which uses `c`, …), the preamble's included. regorus follows
/// each step by recursion: 1,000 steps overflowed a 2 MiB thread and
/// aborted the process; 400 did not; appraisal policies use a handful.
pub const MAX_REFERENCE_DEPTH: usize = 64;

/// Longest a single evaluation may run before it is abandoned. A policy
/// that loops (or is simply too slow) must not hold an appraisal worker.
pub const EVALUATION_TIME_LIMIT: Duration = Duration::from_millis(250);

/// Why a policy could not be compiled or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The rules are not a valid Rego v0 module of package `policy`.
    #[error("{0}")]
    Compile(String),
    /// Evaluating the policy failed.
    #[error("could not evaluate policy: {0}")]
    Evaluate(String),
    /// The policy evaluated, but `outcome` is not what the preamble shapes.
    #[error("policy returned bad update: {0}")]
    BadOutcome(String),
}

/// A policy compiled and ready to evaluate (on regorus's interpreter).
///
/// regorus's RVM (bytecode) was tried as the evaluator: four times faster,
/// but in 0.14.1 it gives different verdicts (a body failing inside `some`
/// iteration skips the rule's `else`; `semver_cmp` of a non-number
/// succeeds), so it is used only to resolve calls at compile time
/// (docs/performance.md).
///
/// Outcomes are remembered (up to [`MEMO_CAPACITY`] of them) under the part
/// of the input the policy's text can read (`reads`), so that a fleet's
/// devices with the same firmware claims cost one evaluation between them.
#[derive(Clone)]
pub struct CompiledPolicy {
    compiled: regorus::CompiledPolicy,
    memo: Option<Arc<Memo>>,
}

/// How many outcomes one policy remembers; when full, it starts again.
pub const MEMO_CAPACITY: usize = 4096;

struct Memo {
    reads: BTreeMap<String, FieldRead>,
    outcomes: RwLock<HashMap<String, Outcome>>,
}

impl Memo {
    fn new(reads: Reads) -> Option<Arc<Memo>> {
        match reads {
            Reads::Unbounded => None,
            Reads::Fields(reads) => Some(Arc::new(Memo {
                reads,
                outcomes: RwLock::new(HashMap::new()),
            })),
        }
    }

    /// The part of `input` the policy can read, as canonical text.
    fn key(&self, input: &Input<'_>) -> Result<String, PolicyError> {
        fn project(value: &Value, read: &FieldRead) -> Value {
            match (read, value) {
                (FieldRead::Keys(keys), Value::Object(object)) => Value::Object(
                    keys.iter()
                        .filter_map(|k| object.get(k).map(|v| (k.clone(), v.clone())))
                        .collect(),
                ),
                _ => value.clone(),
            }
        }
        let mut key = Map::new();
        for (field, read) in &self.reads {
            // A field the input does not have reads as undefined whatever
            // the input is.
            if let Some(value) = input.field(field)? {
                key.insert(field.clone(), project(&value, read));
            }
        }
        Ok(Value::Object(key).to_string())
    }

    fn get(&self, key: &str) -> Option<Outcome> {
        let outcomes = self.outcomes.read().unwrap_or_else(|e| e.into_inner());
        outcomes.get(key).cloned()
    }

    fn put(&self, key: String, outcome: &Outcome) {
        let mut outcomes = self.outcomes.write().unwrap_or_else(|e| e.into_inner());
        if outcomes.len() >= MEMO_CAPACITY {
            outcomes.clear();
        }
        outcomes.insert(key, outcome.clone());
    }
}

impl std::fmt::Debug for CompiledPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledPolicy").finish_non_exhaustive()
    }
}

fn set_time_limit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        regorus::utils::limits::set_fallback_execution_timer_config(Some(timer()));
    });
}

/// Compiles `rules` with the preamble, as Veraison validates a policy on
/// upload: Rego v0 syntax, package `policy`, every name and function
/// resolved. The error text is the compiler's.
pub fn compile(rules: &str) -> Result<CompiledPolicy, PolicyError> {
    if rules.len() > MAX_POLICY_BYTES {
        return Err(PolicyError::Compile(format!(
            "policy is {} bytes; at most {MAX_POLICY_BYTES} are accepted",
            rules.len()
        )));
    }
    check_lexical_limits(rules)?;
    if let Some(cycle) = recursion::cycle(&[PREAMBLE, rules]) {
        return Err(PolicyError::Compile(format!(
            "policy.rego: functions must not be recursive: {cycle}"
        )));
    }
    if let Some(chain) = recursion::chain_longer_than(&[PREAMBLE, rules], MAX_REFERENCE_DEPTH) {
        return Err(PolicyError::Compile(format!(
            "policy.rego: rules and functions refer to one another more than \
             {MAX_REFERENCE_DEPTH} deep: {chain}"
        )));
    }
    set_time_limit();
    contained(PolicyError::Compile, || compile_checked(rules))
}

/// Runs `f`, turning a panic inside it into the [`PolicyError`] `error`
/// makes of the panic's message. regorus is a large parser and interpreter fed text a
/// policy author controls entirely, and it has panicked where it should
/// have answered an error (fuzzing found one: formatting an error message
/// failed on a huge number; docs/security.md, P5). A panic must cost the
/// one upload or appraisal, never the task that serves it, so every call
/// into regorus goes through here. `AssertUnwindSafe` is sound because a
/// panicking call's state is dropped with it: the engine of a failed
/// compile is never used again, and an evaluation builds its interpreter
/// afresh from the shared, immutable compiled form.
fn contained<T>(
    error: fn(String) -> PolicyError,
    f: impl FnOnce() -> Result<T, PolicyError>,
) -> Result<T, PolicyError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        tracing::error!(%message, "the policy engine panicked");
        Err(error(format!("the policy engine failed: {message}")))
    })
}

/// [`compile`] past the checks on the text, inside [`contained`].
fn compile_checked(rules: &str) -> Result<CompiledPolicy, PolicyError> {
    let mut engine = regorus::Engine::new();
    // Veraison evaluates policies as Rego v0 with OPA's default (lenient)
    // built-in errors: a built-in that fails makes its expression
    // undefined, so a rule falls through to its `else` or default.
    engine.set_rego_v0(true);
    engine
        .add_policy("preamble.rego".to_owned(), PREAMBLE.to_owned())
        .map_err(|e| PolicyError::Compile(format!("preamble: {e}")))?;
    let package = engine
        .add_policy("policy.rego".to_owned(), rules.to_owned())
        .map_err(|e| PolicyError::Compile(e.to_string()))?;
    if package != "data.policy" {
        return Err(PolicyError::Compile(format!(
            "policy.rego: the package must be `policy`, not `{}`",
            package.trim_start_matches("data.")
        )));
    }
    let compiled = engine
        .compile_with_entrypoint(&OUTCOME_RULE.into())
        .map_err(|e| PolicyError::Compile(e.to_string()))?;
    check_calls(&compiled)?;
    let policy = CompiledPolicy {
        compiled,
        memo: Memo::new(reads::analyse(rules)),
    };
    policy.check_conflicts()?;
    Ok(policy)
}

/// What [`check_lexical_limits`] counts inside one open bracket.
#[derive(Debug, Default, Clone, Copy)]
struct Frame {
    /// Opened by `{`: a body, or an object or set (whose elements end in
    /// commas). Only braces count statements and body indexes.
    brace: bool,
    /// Statements ended in it so far.
    statements: usize,
    /// A statement has begun since the last one ended.
    begun: bool,
    /// Indexes that are not literals in the reference being read here. A
    /// reference is a name followed by `[…]` and `.name` segments (and a
    /// call's `(…)`); a bracket after anything else is an array.
    reference_indexes: usize,
    /// Indexes that are not literals in all the references of this body.
    body_indexes: usize,
}

/// Refuses, before regorus parses anything, number literals over
/// [`MAX_NUMBER_LITERAL`] characters or with an exponent over
/// [`MAX_NUMBER_EXPONENT`], brackets nested over [`MAX_NESTING`] deep,
/// more than [`MAX_MINUS_RUN`] minus signs in a row, references with
/// more than [`MAX_VARIABLE_INDEXES`] indexes that are not literals, and
/// bodies of more than [`MAX_BODY_STATEMENTS`] statements or
/// [`MAX_BODY_VARIABLE_INDEXES`] such indexes.
/// It follows regorus's lexer just far enough to tell numbers and brackets
/// from those inside names, strings and comments. Public so that what
/// parses a policy before [`compile`] (the fuzz targets) can apply it first.
pub fn check_lexical_limits(rules: &str) -> Result<(), PolicyError> {
    let bytes = rules.as_bytes();
    let mut i = 0;
    let mut line = 1;
    let mut line_start = 0;
    let mut depth = 0usize;
    // What is open at each depth (see `Frame`).
    let mut frames = [Frame::default(); MAX_NESTING + 2];
    // The last token was a name, `]` or `)`: a `[` now indexes it.
    let mut indexable = false;
    // The last token was `.`: a name now continues the reference.
    let mut after_dot = false;
    // The first byte of the last token.
    let mut last = b'\n';
    while i < bytes.len() {
        let b = bytes[i];
        if matches!(b, b'\n' | b';') && frames[depth].brace && frames[depth].begun && last != b',' {
            frames[depth].statements += 1;
            frames[depth].begun = false;
            if frames[depth].statements > MAX_BODY_STATEMENTS {
                return Err(PolicyError::Compile(format!(
                    "policy.rego:{line}: a body of more than {MAX_BODY_STATEMENTS} statements"
                )));
            }
        }
        if !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'#' | b';') {
            frames[depth].begun = true;
            last = b;
        }
        if !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'#') {
            if b != b'.' && !b.is_ascii_alphabetic() && b != b'_' {
                after_dot = false;
            }
            if !matches!(b, b'[' | b']' | b')') && !b.is_ascii_alphabetic() && b != b'_' {
                indexable = false;
            }
        }
        match b {
            b'(' | b'[' | b'{' => {
                if b == b'[' && indexable {
                    let content = bytes[i + 1..]
                        .iter()
                        .find(|c| !c.is_ascii_whitespace())
                        .copied();
                    let literal = matches!(content, Some(b'"' | b'`' | b'0'..=b'9'));
                    if !literal {
                        frames[depth].reference_indexes += 1;
                        if frames[depth].reference_indexes > MAX_VARIABLE_INDEXES {
                            return Err(PolicyError::Compile(format!(
                                "policy.rego:{line}:{}: a reference indexed by more than \
                                 {MAX_VARIABLE_INDEXES} variables or expressions",
                                i - line_start + 1
                            )));
                        }
                        // Counted in the innermost brace around it.
                        let body = (0..=depth).rev().find(|&d| frames[d].brace).unwrap_or(0);
                        frames[body].body_indexes += 1;
                        if frames[body].body_indexes > MAX_BODY_VARIABLE_INDEXES {
                            return Err(PolicyError::Compile(format!(
                                "policy.rego:{line}:{}: a body with more than \
                                 {MAX_BODY_VARIABLE_INDEXES} indexes by variables or expressions",
                                i - line_start + 1
                            )));
                        }
                    }
                }
                indexable = false;
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(PolicyError::Compile(format!(
                        "policy.rego:{line}:{}: brackets nested more than {MAX_NESTING} deep",
                        i - line_start + 1
                    )));
                }
                frames[depth] = Frame {
                    brace: b == b'{',
                    ..Frame::default()
                };
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                indexable = b != b'}';
                i += 1;
            }
            b'.' => {
                after_dot = true;
                i += 1;
            }
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            b'-' => {
                // regorus parses each unary minus by recursion (about ten
                // frames each): a run of them overflowed the stack (found by
                // fuzzing). Rego needs at most two in a row (`a - -b`).
                let start = i;
                let mut minuses = 0;
                while i < bytes.len() && matches!(bytes[i], b'-' | b' ' | b'\t' | b'\r' | b'\n') {
                    if bytes[i] == b'-' {
                        minuses += 1;
                    } else if bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                if minuses > MAX_MINUS_RUN {
                    return Err(PolicyError::Compile(format!(
                        "policy.rego:{line}:{}: more than {MAX_MINUS_RUN} minus signs in a row",
                        start.saturating_sub(line_start) + 1
                    )));
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    if bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                if !after_dot {
                    // A new reference starts.
                    frames[depth].reference_indexes = 0;
                }
                after_dot = false;
                indexable = true;
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            b'0'..=b'9' => {
                let start = i;
                let mut exponent = None;
                while i < bytes.len() {
                    match bytes[i] {
                        b'0'..=b'9' | b'.' => i += 1,
                        b'e' | b'E' => {
                            i += 1;
                            if i < bytes.len() && matches!(bytes[i], b'+' | b'-') {
                                i += 1;
                            }
                            let digits = i;
                            while i < bytes.len() && bytes[i].is_ascii_digit() {
                                i += 1;
                            }
                            exponent = Some(&rules[digits..i]);
                            break;
                        }
                        _ => break,
                    }
                }
                let too_large = i - start > MAX_NUMBER_LITERAL
                    || exponent.is_some_and(|e| {
                        e.trim_start_matches('0').len() > 3
                            || e.parse::<u32>().is_ok_and(|e| e > MAX_NUMBER_EXPONENT)
                    });
                if too_large {
                    return Err(PolicyError::Compile(format!(
                        "policy.rego:{line}:{}: number literal out of range (at most \
                         {MAX_NUMBER_LITERAL} characters and an exponent of at most \
                         {MAX_NUMBER_EXPONENT})",
                        start - line_start + 1
                    )));
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Refuses calls to functions that exist nowhere, as OPA's compiler does:
/// regorus's interpreter resolves calls only when it reaches them, so
/// `executables = no_such_function(1)` would otherwise compile and then fail
/// every appraisal. regorus's RVM compiler resolves every call up front; it
/// is used here only for that check. Its other errors are about constructs
/// it does not support yet, which the interpreter does.
fn check_calls(compiled: &regorus::CompiledPolicy) -> Result<(), PolicyError> {
    use regorus::languages::rego::compiler::{Compiler, CompilerError};
    match Compiler::compile_from_policy(compiled, &[OUTCOME_RULE]) {
        Err(e) if matches!(e.error, CompilerError::UnknownFunction { .. }) => {
            Err(PolicyError::Compile(e.to_string()))
        }
        _ => Ok(()),
    }
}

fn timer() -> regorus::utils::limits::ExecutionTimerConfig {
    regorus::utils::limits::ExecutionTimerConfig {
        limit: EVALUATION_TIME_LIMIT,
        check_interval: std::num::NonZeroU32::MIN.saturating_add(63),
    }
}

/// What a policy is evaluated against.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// The scheme, e.g. `PSA_IOT`.
    pub scheme: &'a str,
    /// The EAR submod being appraised, e.g. `CCA_REALM`.
    pub submod: &'a str,
    /// The session nonce as the EAR carries it (padded base64url).
    pub nonce: &'a str,
    /// The submod's appraisal so far.
    pub result: &'a Appraisal,
    /// The evidence's claims, in the scheme's JSON naming.
    pub evidence: &'a Value,
    /// The endorsements the appraisal used, as JSON objects.
    pub endorsements: &'a [Value],
}

/// The input document's top-level fields, each a preamble shortcut.
pub(crate) const INPUT_FIELDS: [&str; 6] = [
    "scheme",
    "submod",
    "session",
    "result",
    "evidence",
    "endorsements",
];

impl Input<'_> {
    /// One field of the input document as the policy sees it (borrowed
    /// where the caller holds it), or `None` for a field it does not have.
    /// Both the document and the memo key are built from this.
    fn field(&self, name: &str) -> Result<Option<Cow<'_, Value>>, PolicyError> {
        Ok(Some(match name {
            "scheme" => Cow::Owned(Value::from(self.scheme)),
            "submod" => Cow::Owned(Value::from(self.submod)),
            "session" => Cow::Owned(serde_json::json!({ "nonce": self.nonce })),
            "result" => {
                Cow::Owned(serde_json::to_value(self.result).map_err(|e| {
                    PolicyError::Evaluate(format!("serialising the appraisal: {e}"))
                })?)
            }
            "evidence" => Cow::Borrowed(self.evidence),
            "endorsements" => Cow::Owned(Value::from(self.endorsements.to_vec())),
            _ => return Ok(None),
        }))
    }

    fn to_value(&self) -> Result<regorus::Value, PolicyError> {
        let mut input = Map::new();
        for name in INPUT_FIELDS {
            if let Some(value) = self.field(name)? {
                input.insert(name.to_owned(), value.into_owned());
            }
        }
        Ok(regorus::Value::from(Value::Object(input)))
    }
}

/// A policy's answer for one submod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The status the policy set (`none` when it set none).
    pub status: TrustTier,
    /// Trust-vector overrides; a zero claim leaves the scheme's value.
    pub trust_vector: TrustVector,
    /// Claims to report in `ear.veraison.policy-claims`.
    pub added_claims: Map<String, Value>,
}

impl CompiledPolicy {
    /// Evaluates the policy once over an empty input, and refuses it if that
    /// fails. OPA rejects at compile time what regorus only finds when it
    /// evaluates, such as a rule declared twice with `:=`; with an empty
    /// input every reference into it is undefined (never an error, as
    /// built-in errors are lenient), so an error here is the policy's own.
    fn check_conflicts(&self) -> Result<(), PolicyError> {
        let empty = serde_json::json!({
            "scheme": "",
            "submod": "",
            "session": { "nonce": "" },
            "result": {},
            "evidence": {},
            "endorsements": [],
        });
        self.compiled
            .eval_with_input(regorus::Value::from(empty))
            .map_err(|e| PolicyError::Compile(e.to_string()))?;
        Ok(())
    }

    /// Evaluates the policy for one submod, or answers as it did for an
    /// input that agreed on everything the policy can read.
    pub fn evaluate(&self, input: &Input<'_>) -> Result<Outcome, PolicyError> {
        let Some(memo) = &self.memo else {
            return self.evaluate_uncached(input);
        };
        let key = memo.key(input)?;
        if let Some(outcome) = memo.get(&key) {
            return Ok(outcome);
        }
        let outcome = self.evaluate_uncached(input)?;
        memo.put(key, &outcome);
        Ok(outcome)
    }

    /// Whether outcomes are remembered: false when the policy's text
    /// reaches what the read analysis cannot bound (`data`, `with`, bare
    /// `input`) or calls a non-deterministic built-in.
    pub fn memoised(&self) -> bool {
        self.memo.is_some()
    }

    /// How many outcomes are remembered.
    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.memo.as_ref().map_or(0, |m| {
            m.outcomes.read().unwrap_or_else(|e| e.into_inner()).len()
        })
    }

    /// Evaluates the policy for one submod, always running it.
    pub fn evaluate_uncached(&self, input: &Input<'_>) -> Result<Outcome, PolicyError> {
        let input = input.to_value()?;
        let value = contained(PolicyError::Evaluate, || {
            self.compiled
                .eval_with_input(input)
                .map_err(|e| PolicyError::Evaluate(e.to_string()))
        })?;
        let json: Value = serde_json::to_value(&value)
            .map_err(|e| PolicyError::BadOutcome(format!("outcome is not JSON: {e}")))?;
        Outcome::from_json(&json)
    }
}

fn trust_claim(name: &str, value: &Value) -> Result<TrustClaim, PolicyError> {
    value
        .as_i64()
        .and_then(|v| i8::try_from(v).ok())
        .map(TrustClaim)
        .ok_or_else(|| {
            PolicyError::BadOutcome(format!(
                "bad value {value} for {name:?}: a trust claim is an integer from -128 to 127"
            ))
        })
}

fn trust_tier(value: &Value) -> Result<TrustTier, PolicyError> {
    let tier = match value {
        Value::String(name) => TrustTier::from_name(name),
        Value::Number(n) => n.as_i64().and_then(TrustTier::from_code_point),
        _ => None,
    };
    tier.ok_or_else(|| {
        PolicyError::BadOutcome(format!(
            "bad status {value}: a status is 0, 2, 32 or 96 (or none, affirming, warning, contraindicated)"
        ))
    })
}

impl Outcome {
    /// Reads `outcome` as the preamble shapes it, rejecting what Veraison
    /// rejects: a missing part, an unknown trust-vector key, a value out of
    /// range.
    pub fn from_json(json: &Value) -> Result<Self, PolicyError> {
        let Some(object) = json.as_object() else {
            return Err(PolicyError::BadOutcome(format!(
                "expected an object, got {json}"
            )));
        };
        let status = trust_tier(
            object
                .get("status")
                .ok_or_else(|| PolicyError::BadOutcome("no status".to_owned()))?,
        )?;
        let Some(vector) = object.get("trust-vector").and_then(Value::as_object) else {
            return Err(PolicyError::BadOutcome(
                "\"trust-vector\" must be an object".to_owned(),
            ));
        };
        let mut trust_vector = TrustVector::default();
        for (name, value) in vector {
            let claim = trust_claim(name, value)?;
            let Some(slot) = trust_vector.get_mut(name) else {
                return Err(PolicyError::BadOutcome(format!(
                    "unexpected claim {name:?}"
                )));
            };
            *slot = claim;
        }
        let Some(added_claims) = object.get("added-claims").and_then(Value::as_object) else {
            return Err(PolicyError::BadOutcome(
                "\"added-claims\" must be an object".to_owned(),
            ));
        };
        Ok(Outcome {
            status,
            trust_vector,
            added_claims: added_claims.clone(),
        })
    }

    /// Folds the outcome into `appraisal` as Veraison does: the status is
    /// replaced by the policy's, each non-zero trust claim replaces the
    /// scheme's, the added claims become `ear.veraison.policy-claims`, and
    /// the status is then raised to the vector's most severe tier.
    pub fn apply(&self, appraisal: &mut Appraisal) {
        appraisal.status = self.status;
        for (name, claim) in self.trust_vector.claims() {
            if claim != TrustClaim::NO_CLAIM
                && let Some(slot) = appraisal.trust_vector.get_mut(name)
            {
                *slot = claim;
            }
        }
        appraisal.policy_claims = Some(self.added_claims.clone());
        appraisal.update_status_from_trust_vector();
    }
}

/// Marks `appraisal` as the result of a policy that failed: every claim
/// `VERIFIER_MALFUNCTION` and the reason as the problem. The relying party
/// gets a signed, non-affirming result rather than an error, and the
/// operator sees the reason in the EAR and the log.
pub fn failed(appraisal: &mut Appraisal, error: &PolicyError) {
    appraisal
        .trust_vector
        .set_all(TrustClaim::VERIFIER_MALFUNCTION);
    appraisal.status = TrustTier::None;
    appraisal.set_problem(format!("policy failed: {error}"));
    appraisal.update_status_from_trust_vector();
}

mod reads;
mod recursion;
use reads::{FieldRead, Reads};

#[cfg(test)]
mod tests;
