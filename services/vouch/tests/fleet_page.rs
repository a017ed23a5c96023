//! The fleet dashboard (`/fleet/` on the management listener) in headless
//! Chromium against the embedded default: a small PSA fleet with
//! affirming, warning and contraindicated verdicts; a screenshot; and the
//! rendered DOM checked against what the fleet API answers.
//!
//! Needs Debian's `chromium` (`/usr/bin/chromium`, or `VOUCH_CHROMIUM`):
//! skipped loudly without it, failing in CI.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;

const STATUSES: [&str; 4] = ["none", "affirming", "warning", "contraindicated"];

/// How long the fleet recorder may take to show every verdict: it flushes
/// in batches about every second.
const RECORDER_WAIT: Duration = Duration::from_secs(15);

const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// The Chromium binary; `None` (loudly) outside CI when it is missing.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("VOUCH_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    let what = format!(
        "{} is missing (apt-get install chromium, or set VOUCH_CHROMIUM)",
        path.display()
    );
    assert!(!common::procs::in_ci(), "{what}; CI must have it");
    eprintln!("SKIPPING fleet page test: {what}");
    None
}

/// The verdicts a history answer counts.
fn verdicts(history: &serde_json::Value) -> u64 {
    history["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .sum()
}

/// Runs headless Chromium on `url`, with `mode` (`--dump-dom` or
/// `--screenshot=PATH`), in a fresh profile; its stdout. The page must log
/// nothing to the console: no Content-Security-Policy violation, script
/// error or failed load.
async fn run_chromium(chromium: &Path, url: &str, mode: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let run = tokio::process::Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,900",
            // Time for the page's API calls and first render; virtual time
            // waits for pending fetches.
            "--virtual-time-budget=10000",
            // Console messages go to stderr, where the checks below read them.
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(mode)
        .arg(url)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(CHROMIUM_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("chromium {mode} took more than {CHROMIUM_TIMEOUT:?}"))
        .expect("running chromium");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "chromium {mode} exited with {}:\n{stderr}",
        output.status
    );
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "the page logged to the console:\n{}",
        console.join("\n")
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A start tag of the dumped DOM: its name, attributes and the text right
/// after it (up to the next tag).
#[derive(Debug)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    text: String,
}

impl Element {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// Undoes the escapes of Chromium's HTML serialiser.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// The start tags of `html` as Chromium serialises a DOM: every attribute
/// as `name="value"`, with `"` escaped in values. Enough for the checks
/// here, not a general HTML parser.
fn elements(html: &str) -> Vec<Element> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let mut quoted = false;
        let Some(close) = rest.find(|c: char| {
            quoted ^= c == '"';
            c == '>' && !quoted
        }) else {
            break;
        };
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        if tag.starts_with(['/', '!']) {
            continue;
        }
        let text = &rest[..rest.find('<').unwrap_or(rest.len())];
        let (name, mut attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        let mut attributes = BTreeMap::new();
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() || attrs == "/" {
                break;
            }
            let end = attrs
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(attrs.len());
            let key = attrs[..end].to_owned();
            attrs = &attrs[end..];
            let value = match attrs.strip_prefix("=\"") {
                Some(value) => {
                    let end = value.find('"').expect("a closing quote");
                    attrs = &value[end + 1..];
                    unescape(&value[..end])
                }
                None => String::new(),
            };
            attributes.insert(key, value);
        }
        found.push(Element {
            name: name.to_ascii_lowercase(),
            attributes,
            text: unescape(text.trim()),
        });
    }
    found
}

/// The numbers a summary answer must show, by `data-testid`.
fn expected_numbers(summary: &serde_json::Value) -> BTreeMap<String, u64> {
    let mut numbers = BTreeMap::new();
    let mut add = |prefix: &str, counts: &serde_json::Value| {
        numbers.insert(format!("{prefix}-total"), counts["total"].as_u64().unwrap());
        numbers.insert(format!("{prefix}-stale"), counts["stale"].as_u64().unwrap());
        for status in STATUSES {
            let count = counts["statuses"][status].as_u64().unwrap();
            numbers.insert(format!("{prefix}-status-{status}"), count);
        }
    };
    add("summary", summary);
    for scheme in summary["schemes"].as_array().unwrap() {
        add(
            &format!("scheme-{}", scheme["scheme"].as_str().unwrap()),
            scheme,
        );
    }
    numbers
}

#[tokio::test]
async fn the_fleet_page_shows_what_the_api_answers() {
    let Some(chromium) = chromium() else {
        return;
    };
    let app = spawn_app().await;
    let management = app.management_url().to_owned();

    // Six devices, all endorsed: four run the endorsed firmware, one runs
    // firmware nobody endorsed, and one is only ever impersonated.
    mixed_fleet(&app, 4).await;

    let summary = poll_json(
        &app.client,
        &format!("{management}/fleet/v1/summary"),
        RECORDER_WAIT,
        |s| s["total"] == 6,
    )
    .await;
    let history = poll_json(
        &app.client,
        &format!("{management}/fleet/v1/history"),
        RECORDER_WAIT,
        |h| verdicts(h) == 6,
    )
    .await;
    let statuses: BTreeMap<&str, u64> = STATUSES
        .iter()
        .map(|&s| (s, summary["statuses"][s].as_u64().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        BTreeMap::from([
            ("none", 0),
            ("affirming", 4),
            ("warning", 1),
            ("contraindicated", 1)
        ]),
        "{summary}"
    );
    let page = get_json(&app.client, &format!("{management}/fleet/v1/attesters")).await;
    assert_eq!(page["next_cursor"], serde_json::Value::Null, "{page}");
    let attesters: BTreeMap<String, String> = page["attesters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let field = |name: &str| a[name].as_str().unwrap().to_owned();
            (field("id"), field("status"))
        })
        .collect();
    assert_eq!(attesters.len(), 6, "{page}");

    // The page is served under a strict policy: Chromium would report any
    // inline script or style as a console message (checked in run_chromium).
    let url = format!("{management}/fleet/");
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("style-src 'self'"), "{csp}");

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fleet_page-1280x900.png");
    // A stale file from an earlier run must not pass for this one's.
    let _ = std::fs::remove_file(&screenshot);
    run_chromium(
        &chromium,
        &url,
        &format!("--screenshot={}", screenshot.display()),
    )
    .await;
    let size = std::fs::metadata(&screenshot)
        .map(|m| m.len())
        .unwrap_or_else(|e| panic!("no screenshot at {}: {e}", screenshot.display()));
    assert!(
        size > 10 * 1024,
        "{} is only {size} bytes",
        screenshot.display()
    );
    eprintln!("fleet page screenshot: {}", screenshot.display());

    let dom = run_chromium(&chromium, &url, "--dump-dom").await;
    let elements = elements(&dom);
    let body = elements
        .iter()
        .find(|e| e.name == "body")
        .expect("a body element");
    assert_eq!(body.attribute("data-state"), Some("ready"), "{dom}");

    let expected = expected_numbers(&summary);
    let shown: BTreeMap<String, u64> = elements
        .iter()
        .filter_map(|e| {
            let id = e.attribute("data-testid")?;
            (id.starts_with("summary-") || id.starts_with("scheme-")).then_some((id, &e.text))
        })
        .map(|(id, text)| {
            let digits: String = text.chars().filter(|c| *c != ',').collect();
            let number = digits
                .parse()
                .unwrap_or_else(|_| panic!("{id} shows {text:?}, not a number"));
            (id.to_owned(), number)
        })
        .collect();
    assert_eq!(shown, expected, "the page's numbers, against {summary}");

    let rows: BTreeMap<String, String> = elements
        .iter()
        .filter(|e| e.attribute("data-testid") == Some("attester-row"))
        .map(|e| {
            let id = e.attribute("data-id").expect("a row's data-id");
            let status = e.attribute("data-status").expect("a row's data-status");
            (id.to_owned(), status.to_owned())
        })
        .collect();
    assert_eq!(rows, attesters, "the page's rows, against {page}");

    // The chart says what it draws in its accessible name.
    let chart = elements
        .iter()
        .find(|e| e.attribute("data-testid") == Some("history-chart"))
        .expect("the history chart");
    let label = chart.attribute("aria-label").unwrap_or_default();
    assert!(
        label.contains(": 6 in all,"),
        "{label:?}, against {history}"
    );
    app.stop().await;
}

#[test]
fn the_dom_reader_reads_attributes_and_text() {
    let dom = r#"<html><body class="x" data-state="ready"><dd data-testid="summary-total">1,234</dd><tr data-testid="attester-row" data-id="a-b_c" data-status="warning" title="q &quot;x&gt;y&quot; &amp;"><td>PSA_IOT</td></tr><input disabled=""></body></html>"#;
    let elements = elements(dom);
    let names: Vec<&str> = elements.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["html", "body", "dd", "tr", "td", "input"]);
    assert_eq!(elements[1].attribute("data-state"), Some("ready"));
    assert_eq!(elements[2].text, "1,234");
    assert_eq!(elements[3].attribute("data-id"), Some("a-b_c"));
    assert_eq!(elements[3].attribute("title"), Some("q \"x>y\" &"));
    assert_eq!(elements[4].text, "PSA_IOT");
    assert_eq!(elements[5].attribute("disabled"), Some(""));
}
