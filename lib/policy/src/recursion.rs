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

use crate::reads::{Token, tokens};

/// Each definition's name and the names it mentions, in order. A definition
/// starts on a line that begins, outside any bracket, with a name other
/// than `else` (which continues the one before), unless the line before
/// leaves an expression open: `f(x) =` on one line and `f(x)` on the next
/// is one definition that calls itself, which regorus reads as such (found
/// by fuzzing: read as two definitions, the cycle went unseen and the
/// recursion overflowed the stack).
fn definitions(module: &str) -> Vec<(&str, bool, Vec<&str>)> {
    let tokens = tokens(module);
    let continued = continued_lines(module);
    let mut defs: Vec<(&str, bool, Vec<&str>)> = Vec::new();
    let mut depth = 0usize;
    let mut line_start = true;
    let mut line = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Newline => {
                line_start = true;
                line += 1;
            }
            Token::Other => {}
            Token::Punct(p) => {
                match p {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                line_start = false;
            }
            Token::Str(_) => line_start = false,
            Token::Ident(name) => {
                let starts = line_start
                    && depth == 0
                    && *name != "else"
                    && !continued.get(line).copied().unwrap_or(false);
                line_start = false;
                if starts {
                    let mut name = *name;
                    let mut at = i + 1;
                    if name == "default" {
                        // `default f = 0`: the name follows.
                        while let Some(Token::Other) = tokens.get(at) {
                            at += 1;
                        }
                        if let Some(Token::Ident(n)) = tokens.get(at) {
                            name = n;
                            at += 1;
                        }
                    }
                    let function = matches!(tokens.get(at), Some(Token::Punct(b'(')));
                    defs.push((name, function, Vec::new()));
                    i = at;
                    continue;
                }
                if let Some(def) = defs.last_mut() {
                    def.2.push(name);
                }
            }
        }
        i += 1;
    }
    defs
}

/// Words after which an expression goes on (`… if`, `… with input as`).
const OPEN_WORDS: &[&str] = &[
    "if", "else", "with", "as", "in", "not", "some", "every", "contains",
];

/// For each line of `module`, whether the last line before it with code
/// on it ends inside an expression: with an operator, a comma or a
/// keyword that needs what follows. Comments and blank lines are skipped;
/// `import` and `package` lines (`import future.keywords.if`) end nothing.
fn continued_lines(module: &str) -> Vec<bool> {
    let mut out = Vec::new();
    let mut open = false;
    let mut in_raw = false;
    for line in module.split('\n') {
        out.push(open);
        // The code of the line: up to a comment, outside strings.
        let mut code = String::new();
        let mut in_str = false;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '`' if !in_str => in_raw = !in_raw,
                '"' if !in_raw => in_str = !in_str,
                '\\' if in_str => {
                    chars.next();
                    code.push('x');
                    continue;
                }
                '#' if !in_str && !in_raw => break,
                _ => {}
            }
            code.push(c);
        }
        let code = code.trim();
        if code.is_empty() || in_raw {
            continue;
        }
        let first = code
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next();
        if matches!(first, Some("import" | "package")) {
            open = false;
            continue;
        }
        let last_word = code
            .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .unwrap_or("");
        open = code.ends_with(|c: char| "=:,+-*/%|&<>!.".contains(c))
            || (code.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && OPEN_WORDS.contains(&last_word));
    }
    out
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
    fn a_definition_goes_on_over_lines_left_open() {
        assert_eq!(
            continued_lines(
                "a =\n\n# c\nb\nc := x with\ninput as y\nimport future.keywords.if\nf(x) = 1 if {\n"
            ),
            vec![false, true, true, true, false, true, false, false, false]
        );
        // A call on the line after `=` is a call, not a new definition.
        assert_eq!(
            cycle(&["package policy\nf(x) =\nf(x)\n"]).as_deref(),
            Some("f -> f")
        );
        assert_eq!(
            cycle(&["package policy\ng(x) = y if {\n  y := x\n}\nf(x) = y if\n  g(x)\n"]),
            None
        );
        assert_eq!(
            cycle(&["package policy\nimport future.keywords.if\nf(x) = 1 if { x }\ng(y) = f(y)\n"]),
            None
        );
        assert_eq!(
            cycle(&["package policy\nx := `raw\nf(1) =`\nf(x) = g(x)\ng(x) = f(x)\n"]).as_deref(),
            Some("f -> g -> f")
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
