//! Which parts of the input a policy can read, found from its text, so that
//! evaluations can be remembered by those parts alone.
//!
//! Evaluating a policy on regorus's interpreter costs tens of microseconds
//! (docs/performance.md), more than the rest of an appraisal can absorb, yet
//! a fleet's devices mostly send the same firmware claims: a policy that
//! reads only `evidence["psa-software-components"]` answers the same for
//! every device running the same firmware. A Rego evaluation is a pure
//! function of the input (the policy and the preamble are fixed), so its
//! outcome can be remembered under the part of the input it reads, provided
//! that part is over-approximated, never under.
//!
//! The analysis is therefore deliberately crude and conservative. Every
//! occurrence of `input` or of a preamble shortcut (`evidence`, `result`,
//! `session`, `scheme`, `submod`, `endorsements`) in the user's rules counts
//! as a read, wherever it appears (a local variable of the same name only
//! makes the read set larger). A shortcut immediately followed by a literal
//! key (`evidence["k"]`, `evidence.k`) reads that key's subtree; any other
//! use (`evidence[k]`, `walk(evidence, …)`, `e := evidence`) reads all of
//! it. `input.f` is the shortcut `f`, and bare `input` is the whole input.
//! What could reach the input by other routes, or make the answer depend on
//! more than the input, turns memoisation off for the policy: any `data`
//! reference (`data.policy.evidence`), a `with` modifier, and the
//! non-deterministic built-ins (`time.now_ns`, `rand.*`, `uuid.*`, `http.*`,
//! `net.*`, `opa.*`).

use std::collections::{BTreeMap, BTreeSet};

/// Names whose presence makes an evaluation depend on more than its input
/// (or reach the input where this analysis cannot follow).
const UNCACHEABLE: [&str; 8] = [
    "data", "with", "now_ns", "rand", "uuid", "http", "net", "opa",
];

/// How much of one input field a policy reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldRead {
    /// The whole field.
    Whole,
    /// Only these keys of it (when it is an object).
    Keys(BTreeSet<String>),
}

/// What a policy's outcome may depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reads {
    /// More than the analysis can bound: never memoised.
    Unbounded,
    /// Only these input fields (to the extent given).
    Fields(BTreeMap<String, FieldRead>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    Ident(&'a str),
    /// A string literal without escapes (an escaped one is `Other`).
    Str(&'a str),
    Punct(u8),
    /// The end of a line (outside strings and comments).
    Newline,
    /// Whitespace, a comment, a number or a string with escapes: breaks
    /// any pattern it falls in.
    Other,
}

/// Splits `rules` into tokens, following regorus's lexer as far as
/// telling names from strings, raw strings and comments.
pub(crate) fn tokens(rules: &str) -> Vec<Token<'_>> {
    let bytes = rules.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                out.push(Token::Other);
            }
            b'"' => {
                i += 1;
                let mut escaped = false;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        escaped = true;
                        i += 1;
                    }
                    i += 1;
                }
                let end = i.min(bytes.len());
                i += 1;
                out.push(if escaped {
                    Token::Other
                } else {
                    Token::Str(&rules[start + 1..end])
                });
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                let end = i.min(bytes.len());
                i += 1;
                out.push(Token::Str(&rules[start + 1..end]));
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                out.push(Token::Ident(&rules[start..i]));
            }
            b'\n' => {
                i += 1;
                out.push(Token::Newline);
            }
            b if b.is_ascii_punctuation() => {
                i += 1;
                out.push(Token::Punct(b));
            }
            _ => {
                // Whitespace, digits and anything else (non-ASCII bytes of a
                // UTF-8 character): one break token per run.
                i += 1;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b'\n' | b'#' | b'"' | b'`' | b'_' | b'a'..=b'z' | b'A'..=b'Z'
                    )
                    && !bytes[i].is_ascii_punctuation()
                {
                    i += 1;
                }
                out.push(Token::Other);
            }
        }
    }
    out
}

/// The literal key that immediately follows position `at` (`.k`, `["k"]`
/// or `` [`k`] ``), and the position after it.
fn literal_key<'a>(tokens: &[Token<'a>], at: usize) -> Option<(&'a str, usize)> {
    match tokens.get(at..at + 3) {
        Some([Token::Punct(b'['), Token::Str(key), Token::Punct(b']')]) => Some((key, at + 3)),
        _ => match tokens.get(at..at + 2) {
            Some([Token::Punct(b'.'), Token::Ident(key)]) => Some((key, at + 2)),
            _ => None,
        },
    }
}

/// Reads of a shortcut or `input.<field>` at `at` (just after its name).
fn field_read(tokens: &[Token<'_>], at: usize) -> FieldRead {
    match literal_key(tokens, at) {
        Some((key, _)) => FieldRead::Keys(BTreeSet::from([key.to_owned()])),
        None => FieldRead::Whole,
    }
}

fn merge(reads: &mut BTreeMap<String, FieldRead>, field: &str, read: FieldRead) {
    match (reads.get_mut(field), read) {
        (None, read) => {
            reads.insert(field.to_owned(), read);
        }
        (Some(FieldRead::Whole), _) => {}
        (Some(slot), FieldRead::Whole) => *slot = FieldRead::Whole,
        (Some(FieldRead::Keys(have)), FieldRead::Keys(more)) => have.extend(more),
    }
}

/// What the user's `rules` (without the preamble, which reads nothing but
/// through the shortcuts) may read of the input.
pub(crate) fn analyse(rules: &str) -> Reads {
    let tokens = tokens(rules);
    let mut reads = BTreeMap::new();
    for (i, token) in tokens.iter().enumerate() {
        let Token::Ident(name) = token else { continue };
        if UNCACHEABLE.contains(name) {
            return Reads::Unbounded;
        }
        if *name == "input" {
            match literal_key(&tokens, i + 1) {
                Some((field, next)) => merge(&mut reads, field, field_read(&tokens, next)),
                None => return Reads::Unbounded,
            }
        } else if crate::INPUT_FIELDS.contains(name) {
            merge(&mut reads, name, field_read(&tokens, i + 1));
        }
    }
    Reads::Fields(reads)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn fields(rules: &str) -> BTreeMap<String, FieldRead> {
        match analyse(rules) {
            Reads::Fields(f) => f,
            Reads::Unbounded => panic!("unbounded: {rules}"),
        }
    }

    fn keys(k: &[&str]) -> FieldRead {
        FieldRead::Keys(k.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn literal_keys_narrow_a_shortcut_and_anything_else_reads_it_whole() {
        let f = fields(
            "package policy\ncomponents := evidence[\"psa-software-components\"]\n\
             x { evidence.a == 1; evidence[`b`] }\n",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f["evidence"], keys(&["a", "b", "psa-software-components"]));
        for whole in [
            "x { evidence[k] }",
            "x { e := evidence; e.a }",
            "x { walk(evidence, _) }",
            "x { evidence [\"a\"] }",
            "x { evidence\n[\"a\"] }",
            "x { evidence[\"a\\\"\"] }",
            "x { evidence.a; evidence }",
            "x { input.evidence }",
            "import input.evidence as ev\nx { ev[k] }",
        ] {
            assert_eq!(fields(whole)["evidence"], FieldRead::Whole, "{whole}");
        }
        assert_eq!(
            fields("x { input.evidence.a; input[\"session\"] }"),
            BTreeMap::from([
                ("evidence".to_owned(), keys(&["a"])),
                ("session".to_owned(), FieldRead::Whole),
            ])
        );
    }

    #[test]
    fn names_in_strings_and_comments_are_not_reads() {
        assert!(fields("x = \"evidence session\" # result input data\n").is_empty());
    }

    #[test]
    fn what_the_analysis_cannot_follow_is_unbounded() {
        for rules in [
            "x { input }",
            "x { object.get(input, \"evidence\", {}) }",
            "x { input[k] }",
            "x { data.policy.evidence.a }",
            "x { f(1) with input.evidence as {} }",
            "x { time.now_ns() > 0 }",
            "x := rand.intn(\"a\", 10)",
            "x := uuid.rfc4122(\"a\")",
        ] {
            assert_eq!(analyse(rules), Reads::Unbounded, "{rules}");
        }
    }
}
