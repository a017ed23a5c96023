//! Refuses recursive functions, as OPA's compiler does.
//!
//! regorus's interpreter detects a rule that depends on itself when it
//! evaluates it, but follows function calls without a depth limit: a
//! function that calls itself, directly or through other functions,
//! overflowed the stack and aborted the whole trust process (found by
//! fuzzing). A cycle that passes through a rule is caught by regorus (the
//! rule is re-entered); only cycles made of functions alone need finding,
//! and a function can call another only by naming it. So: split the
//! module into definitions, note for each function every function name its
//! definitions mention (a mention that is not a call only adds an edge),
//! and look for a cycle.

use std::collections::{BTreeMap, BTreeSet};

/// Words that never start a definition; all but the values leave the
/// expression before them open.
const KEYWORDS: &[&str] = &[
    "as", "contains", "default", "else", "every", "false", "if", "import", "in", "not", "null",
    "package", "some", "true", "with",
];

/// Each definition's name, whether it is a function, and the names it
/// mentions, in order.
///
/// regorus starts a new rule wherever a name follows, outside any bracket,
/// an expression that is complete: at the start of a line after `x = 1`,
/// but also on the same line (`executables f(x) = f(0)` is two rules), and
/// not after an open one (`f(x) =` on one line and `f(x)` on the next is
/// one rule that calls itself). Fuzzing found both: splitting at line
/// starts alone hid those cycles, and the recursion overflowed the stack.
/// So this follows the same rule: a name at depth 0 starts a definition
/// when what precedes it is complete (a name, a number, a string, a closing
/// bracket, or the end of an `import` or `package` line) and it is not a
/// keyword; `default f` defines `f`.
/// `text` past spaces, newlines and `#` comments.
fn skip_blanks(mut text: &str) -> &str {
    loop {
        text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        match text.strip_prefix('#') {
            Some(comment) => text = comment.find('\n').map_or("", |end| &comment[end..]),
            None => return text,
        }
    }
}

fn definitions(module: &str) -> Vec<(&str, bool, Vec<&str>)> {
    let bytes = module.as_bytes();
    let mut defs: Vec<(&str, bool, Vec<&str>)> = Vec::new();
    let mut depth = 0usize;
    let mut complete = true;
    // Inside an `import` or `package` statement, which ends with its line.
    let mut statement = false;
    let mut default = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                if statement {
                    statement = false;
                    complete = true;
                }
                i += 1;
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
                complete = true;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
                i += 1;
                complete = true;
            }
            b'0'..=b'9' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    let exponent = matches!(bytes[i], b'e' | b'E');
                    i += 1;
                    if exponent && i < bytes.len() && matches!(bytes[i], b'+' | b'-') {
                        i += 1;
                    }
                }
                complete = true;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                let start = i;
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                let name = &module[start..i];
                let keyword = KEYWORDS.contains(&name);
                if depth == 0 && !keyword && (complete || default) && !statement {
                    // regorus looks for the `(` of a function head past
                    // any blank and comment, newlines included (fuzzing
                    // found `g \n(x) = …` recursing unseen).
                    let next = skip_blanks(&module[i..]);
                    defs.push((name, next.starts_with('('), Vec::new()));
                    default = false;
                } else if depth == 0 && complete && matches!(name, "import" | "package") {
                    statement = true;
                } else if depth == 0 && complete && name == "default" {
                    default = true;
                } else if !statement && let Some(def) = defs.last_mut() {
                    def.2.push(name);
                }
                complete = !keyword || matches!(name, "true" | "false" | "null");
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                complete = false;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                complete = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            _ => {
                // An operator or other punctuation: what follows belongs
                // to the same expression.
                complete = false;
                i += 1;
            }
        }
    }
    defs
}

/// The first cycle of functions calling each other, as `f -> g -> f`.
pub(crate) fn cycle(modules: &[&str]) -> Option<String> {
    let defs: Vec<_> = modules.iter().flat_map(|m| definitions(m)).collect();
    let functions: BTreeSet<&str> = defs
        .iter()
        .filter(|(_, function, _)| *function)
        .map(|(name, _, _)| *name)
        .collect();
    let mut calls: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, function, mentions) in &defs {
        if *function {
            calls
                .entry(name)
                .or_default()
                .extend(mentions.iter().copied().filter(|m| functions.contains(m)));
        }
    }
    // Depth-first search with an explicit stack (the graph comes from the
    // policy, so no recursion here either).
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for &start in calls.keys() {
        if marks.contains_key(start) {
            continue;
        }
        let mut path: Vec<&str> = vec![start];
        let mut stack: Vec<std::vec::IntoIter<&str>> =
            vec![calls[start].iter().copied().collect::<Vec<_>>().into_iter()];
        marks.insert(start, Mark::Open);
        while let Some(next) = stack.last_mut() {
            match next.next() {
                Some(callee) => match marks.get(callee) {
                    Some(Mark::Open) => {
                        let from = path.iter().position(|f| *f == callee).unwrap_or(0);
                        let mut cycle = path[from..].to_vec();
                        cycle.push(callee);
                        return Some(cycle.join(" -> "));
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(callee, Mark::Open);
                        path.push(callee);
                        let callees = calls
                            .get(callee)
                            .map(|c| c.iter().copied().collect::<Vec<_>>());
                        stack.push(callees.unwrap_or_default().into_iter());
                    }
                },
                None => {
                    stack.pop();
                    if let Some(done) = path.pop() {
                        marks.insert(done, Mark::Done);
                    }
                }
            }
        }
    }
    None
}

/// The longest chain of definitions (rules or functions) that refer to one
/// another, as `a -> b -> c`, when it is longer than `limit`.
///
/// regorus follows a reference from one rule or function to the next by
/// recursion, a few kilobytes of stack each: a chain of 1,000 generated
/// rules overflowed a 2 MiB thread (the size of the tokio threads trust
/// compiles and evaluates on), which aborts the process. Chains through a
/// cycle are cut where the cycle closes (regorus reports a rule that
/// depends on itself; functions cannot, [`cycle`] refuses those first).
pub(crate) fn chain_longer_than(modules: &[&str], limit: usize) -> Option<String> {
    let defs: Vec<_> = modules.iter().flat_map(|m| definitions(m)).collect();
    let names: BTreeSet<&str> = defs.iter().map(|(name, _, _)| *name).collect();
    let mut refers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, _, mentions) in &defs {
        refers.entry(name).or_default().extend(
            mentions
                .iter()
                .copied()
                .filter(|m| m != name && names.contains(m)),
        );
    }
    // For each definition, the longest chain that starts there (its length
    // and next step), found depth first with an explicit stack.
    let mut longest: BTreeMap<&str, (usize, Option<&str>)> = BTreeMap::new();
    let mut open: BTreeSet<&str> = BTreeSet::new();
    for &start in refers.keys() {
        if longest.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&str, std::vec::IntoIter<&str>)> = vec![(
            start,
            refers[start]
                .iter()
                .copied()
                .collect::<Vec<_>>()
                .into_iter(),
        )];
        open.insert(start);
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            match next.next() {
                Some(to) if !longest.contains_key(to) && !open.contains(to) => {
                    open.insert(to);
                    let onward = refers
                        .get(to)
                        .map(|r| r.iter().copied().collect::<Vec<_>>());
                    stack.push((to, onward.unwrap_or_default().into_iter()));
                }
                Some(_) => {}
                None => {
                    // Every successor is finished or on the current path
                    // (a cycle, cut here).
                    let best = refers[node]
                        .iter()
                        .filter_map(|to| longest.get(to).map(|(n, _)| (*n, *to)))
                        .max();
                    longest.insert(node, best.map_or((1, None), |(n, to)| (n + 1, Some(to))));
                    open.remove(node);
                    stack.pop();
                }
            }
        }
    }
    let (start, (depth, _)) = longest.iter().max_by_key(|(_, (n, _))| *n)?;
    if *depth <= limit {
        return None;
    }
    let mut chain = vec![*start];
    let mut at = *start;
    while let Some((_, Some(next))) = longest.get(at) {
        if chain.len() > limit + 1 {
            chain.push("…");
            break;
        }
        chain.push(next);
        at = next;
    }
    Some(format!("{} ({depth} deep)", chain.join(" -> ")))
}

/// A policy whose rules (`kind` "rules") or functions refer to one another
/// in a chain `n` long, for the tests of the depth limit.
#[cfg(test)]
pub(crate) fn chain(kind: &str, n: usize) -> String {
    let mut rules = String::from("package policy\n");
    for i in 0..n {
        match kind {
            "rules" => rules.push_str(&format!("r{i} = r{}\n", i + 1)),
            _ => rules.push_str(&format!("f{i}(x) = y {{ y := f{}(x) }}\n", i + 1)),
        }
    }
    match kind {
        "rules" => rules.push_str(&format!("r{n} = 1\n")),
        _ => rules.push_str(&format!("f{n}(x) = x\n")),
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recursion::chain;

    #[test]
    fn definitions_start_where_regorus_starts_a_rule() {
        let names = |m: &str| -> Vec<(String, bool)> {
            definitions(m)
                .into_iter()
                .map(|(n, f, _)| (n.to_owned(), f))
                .collect()
        };
        let owned = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
            v.iter().map(|(n, f)| ((*n).to_owned(), *f)).collect()
        };
        assert_eq!(
            names(
                "package policy\nimport future.keywords.if\nx = 1\ny := true\nf(a) = b if {\n  b := a\n} else = 0\ndefault g(_) = 2\ns contains v if { v := 1 }\n"
            ),
            owned(&[
                ("x", false),
                ("y", false),
                ("f", true),
                ("g", true),
                ("s", false)
            ])
        );
        // Two rules on one line; a value on the line after `=`.
        assert_eq!(
            names("package policy\nexecutables f(x) = f(0)\nh(x) =\n  h(x)\n"),
            owned(&[("executables", false), ("f", true), ("h", true)])
        );
        for (rules, want) in [
            ("package policy\nf(x) =\nf(x)\n", "f -> f"),
            // The head's `(` on the next line, or after a comment (the
            // fuzzer's input, reduced).
            (
                "package policy\nf(x) = y { y := g(x)}g \n(x) = y { y := f(x) }\nexecutables = f(1)\n",
                "f -> g -> f",
            ),
            (
                "package policy\nf(x) = y { y := g(x) }\ng # a comment\n (x) = f(x)\n",
                "f -> g -> f",
            ),
            (
                "package policy\nexecutables = f(0)\nexecutables f(x) =f(0)\n",
                "f -> f",
            ),
            (
                "package policy\nf(x) = y if\n  y := g(x)\ng(x) = f(x)\n",
                "f -> g -> f",
            ),
            (
                "package policy\nx := `raw\nf(1) =`\nf(x) = g(x)\ng(x) = f(x)\n",
                "f -> g -> f",
            ),
        ] {
            assert_eq!(cycle(&[rules]).as_deref(), Some(want), "{rules}");
        }
        assert_eq!(
            cycle(&["package policy\nimport future.keywords.if\nf(x) = 1 if { x }\ng(y) = f(y)\n"]),
            None
        );
    }

    #[test]
    fn recursive_functions_are_found_directly_and_through_others() {
        for (rules, want) in [
            ("package policy\nf(x) = y { y := f(x) }\n", "f -> f"),
            (
                "package policy\nf(x) = y { y := g(x) }\ng(x) = y {\n  y := f(x)\n}\n",
                "f -> g -> f",
            ),
            (
                "package policy\nf(x) = 0 { x <= 0 }\nf(x) = y { x > 0; y := f(x - 1) }\n",
                "f -> f",
            ),
            (
                "package policy\nf(x) = y { false } else = z {\n  z := data.policy.f(x)\n}\n",
                "f -> f",
            ),
            (
                "package policy\n__vouch_cmp(x, y) = semver_cmp(x, y)\n",
                "__vouch_cmp -> semver_cmp -> __vouch_cmp",
            ),
        ] {
            assert_eq!(
                cycle(&[crate::PREAMBLE, rules]).as_deref(),
                Some(want),
                "{rules}"
            );
        }
    }

    #[test]
    fn long_chains_of_rules_or_functions_are_found() {
        for kind in ["rules", "functions"] {
            let long = chain(kind, 40);
            let found = chain_longer_than(&[crate::PREAMBLE, &long], 32).expect(kind);
            assert!(found.ends_with("(41 deep)"), "{found}");
            assert!(found.contains(" -> ") && found.contains('…'), "{found}");
            let short = chain(kind, 20);
            assert_eq!(
                chain_longer_than(&[crate::PREAMBLE, &short], 32),
                None,
                "{kind}"
            );
        }
        // A cycle through rules is cut, not followed for ever.
        let cyclic = "package policy\na = b\nb = c\nc = a\n";
        assert_eq!(chain_longer_than(&[crate::PREAMBLE, cyclic], 32), None);
        assert!(
            chain_longer_than(&[cyclic], 2)
                .unwrap()
                .ends_with("(3 deep)")
        );
    }

    #[test]
    fn calls_without_a_cycle_and_names_in_strings_are_not_recursion() {
        for rules in [
            include_str!("../../../loadtest/policies/psa.rego"),
            "package policy\nf(x) = y { y := g(x) }\ng(x) = x + 1\nh(x) = f(g(x))\n",
            "package policy\nf(x) = \"f(x)\" # f(x)\n",
            "package policy\nf(x) = y { y := [z | z := x[_]] }\nr = f([1])\nq = r\n",
        ] {
            assert_eq!(cycle(&[crate::PREAMBLE, rules]), None, "{rules}");
        }
    }
}
