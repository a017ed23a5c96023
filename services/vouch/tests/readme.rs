//! Replays the README's walk-through ("A provisioning and a verification,
//! with curl") against a running embedded default, as a reader would type
//! it: every command of its `sh` blocks runs in bash, in order, and every
//! output it shows (the `# …` lines right under a command) must appear.
//!
//! The README's placeholders are learnt from the outputs that show them:
//! `# location: session/4b9a…` binds `4b9a…` to the real session id, which
//! the later commands then use. A lone `…` matches anything. The addresses
//! are the test server's, and `$VOUCH` is the binary under test.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::*;

/// One command and the output lines the README shows under it.
#[derive(Debug)]
struct Step {
    command: String,
    expected: Vec<String>,
}

/// The `sh` blocks of the walk-through section, as steps.
fn walk_through(readme: &str) -> Vec<Step> {
    let start = readme
        .find("## A provisioning and a verification, with curl")
        .expect("the README's walk-through section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    // Whether a `#` line now is output (it follows a command directly).
    let mut after_command = false;
    let mut continued = String::new();
    for line in section.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            after_command = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(output) = line.strip_prefix("# ").or(line.strip_prefix('#')) {
            if after_command {
                steps.last_mut().unwrap().expected.push(output.to_owned());
            }
            continue;
        }
        if line.trim().is_empty() || line.starts_with("VOUCH=") {
            // `VOUCH=…` says where the binary is; the test sets it.
            after_command = false;
            continue;
        }
        // A comment after the command is for the reader.
        let line = line.split("   # ").next().unwrap();
        if let Some(head) = line.strip_suffix('\\') {
            continued.push_str(head);
            continue;
        }
        continued.push_str(line);
        steps.push(Step {
            command: std::mem::take(&mut continued),
            expected: Vec::new(),
        });
        after_command = true;
    }
    steps
}

/// A piece of an expected output line.
#[derive(Debug)]
enum Piece {
    Text(String),
    /// A lone `…`: anything.
    Any,
    /// A placeholder such as `4b9a…`: learnt from this line.
    Learn(String),
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The placeholders of `text`: words that end in `…`.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c == '…' && !word.is_empty() {
            out.push(format!("{word}…"));
        }
        if is_word(c) {
            word.push(c);
        } else {
            word.clear();
        }
    }
    out
}

fn pieces(expected: &str, known: &HashMap<String, String>) -> Vec<Piece> {
    let mut out = vec![Piece::Any];
    let mut text = String::new();
    let mut word = String::new();
    for c in expected.chars() {
        if c == '…' {
            text.truncate(text.len() - word.len());
            if word.is_empty() {
                // "2 …": a lone ellipsis may stand for nothing at all.
                text.truncate(text.trim_end().len());
            }
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            let placeholder = format!("{word}…");
            out.push(match known.get(&placeholder) {
                Some(value) => Piece::Text(value.clone()),
                None if word.is_empty() => Piece::Any,
                None => Piece::Learn(placeholder),
            });
            word.clear();
            continue;
        }
        text.push(c);
        if is_word(c) {
            word.push(c);
        } else {
            word.clear();
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out.push(Piece::Any);
    out
}

/// Whether `line` matches `pieces`, recording what placeholders stood for.
fn matches(pieces: &[Piece], line: &str, learnt: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return line.is_empty();
    };
    match first {
        Piece::Text(t) => line
            .strip_prefix(t.as_str())
            .is_some_and(|tail| matches(rest, tail, learnt)),
        Piece::Any => line
            .char_indices()
            .map(|(i, _)| i)
            .chain([line.len()])
            .any(|i| matches(rest, &line[i..], learnt)),
        Piece::Learn(name) => {
            let end = line
                .find(|c: char| c == '"' || c == ',' || c.is_whitespace())
                .unwrap_or(line.len());
            (1..=end)
                .rev()
                .filter(|&n| line.is_char_boundary(n))
                .any(|n| {
                    let before = learnt.len();
                    if matches(rest, &line[n..], learnt) {
                        learnt.push((name.clone(), line[..n].to_owned()));
                        true
                    } else {
                        learnt.truncate(before);
                        false
                    }
                })
        }
    }
}

#[tokio::test]
async fn the_readme_walk_through_works_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let steps = walk_through(&readme);
    assert!(steps.len() >= 15, "{steps:#?}");
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let mut known: HashMap<String, String> = HashMap::from([
        ("http://127.0.0.1:8443".to_owned(), app.verification.clone()),
        ("http://127.0.0.1:9443".to_owned(), app.provisioning.clone()),
    ]);
    for step in steps {
        let mut command = step.command.clone();
        for (from, to) in &known {
            command = command.replace(from, to);
        }
        let unknown = placeholders(&command);
        assert!(
            unknown.is_empty(),
            "the README uses {unknown:?} before an output shows where it comes from: {command}"
        );
        let dir = work.path().to_owned();
        let run = command.clone();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new("bash")
                .args(["-c", &run])
                .current_dir(dir)
                .env("VOUCH", env!("CARGO_BIN_EXE_vouch"))
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).replace('\r', "");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "`{command}` failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        for expected in &step.expected {
            let pieces = pieces(expected, &known);
            let mut learnt = Vec::new();
            assert!(
                stdout.lines().any(|line| {
                    learnt.clear();
                    matches(&pieces, line, &mut learnt)
                }),
                "`{command}` printed no line like `{expected}`:\n{stdout}"
            );
            known.extend(learnt);
        }
    }
    // The walk-through did what it says: the session it opened is gone,
    // and the signed CoRIM carries the demo's endorsements.
    let session = &known["4b9a…"];
    let gone = app
        .client
        .get(format!(
            "{}/challenge-response/v1/session/{session}",
            app.verification
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let rebuilt = std::fs::read(work.path().join("demo/rebuilt.cbor")).unwrap();
    let original = std::fs::read(work.path().join("demo/corim.cbor")).unwrap();
    assert_eq!(
        vouch_corim::decode(&rebuilt).unwrap(),
        vouch_corim::decode(&original).unwrap()
    );
}

#[test]
fn placeholders_are_learnt_and_ellipses_match_anything() {
    let known = HashMap::new();
    let mut learnt = Vec::new();
    let p = pieces(
        r#"{"status":"waiting","nonce":"UqsEIZEX…","expiry":"…"}"#,
        &known,
    );
    assert!(matches(
        &p,
        r#"{"status":"waiting","nonce":"abc_-9","expiry":"2026"}"#,
        &mut learnt
    ));
    assert_eq!(learnt, vec![("UqsEIZEX…".to_owned(), "abc_-9".to_owned())]);
    learnt.clear();
    assert!(!matches(
        &p,
        r#"{"status":"complete","nonce":"x"}"#,
        &mut learnt
    ));
    let known = HashMap::from([("4b9a…".to_owned(), "1234".to_owned())]);
    assert!(matches(
        &pieces("session/4b9a…", &known),
        "location: session/1234",
        &mut learnt
    ));
    assert!(!matches(
        &pieces("session/4b9a…", &known),
        "location: session/9999",
        &mut learnt
    ));
    assert_eq!(placeholders("--nonce UqsEIZEX… and …"), vec!["UqsEIZEX…"]);
}
