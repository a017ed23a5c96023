//! Reports: JSON that later runs can be compared with, and a text summary.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::ceiling::Ceiling;
use crate::stats::{OpReport, Second};
use crate::system::{Machine, Usage};

/// One phase: a number of users running one task for a while.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PhaseReport {
    /// Label of the phase (run name, store weight, instances, …).
    pub(crate) label: String,
    /// Concurrent users.
    pub(crate) users: usize,
    /// The task they ran.
    pub(crate) task: String,
    /// Measured length of the phase, s.
    pub(crate) seconds: f64,
    /// Per operation.
    pub(crate) ops: Vec<OpReport>,
    /// Completed tasks per second (verification flows for `verify`).
    pub(crate) tasks_per_s: f64,
    /// Failed requests of every operation.
    pub(crate) failures: u64,
    /// CPU and memory.
    pub(crate) usage: Usage,
    /// Free-form numbers the trial adds (store weight, instances, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
}

impl PhaseReport {
    /// The report of operation `name`, when it ran.
    pub(crate) fn op(&self, name: &str) -> Option<&OpReport> {
        self.ops.iter().find(|o| o.name == name)
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RunReport {
    /// What produced it.
    pub(crate) tool: String,
    /// Report format version.
    pub(crate) format: u32,
    /// What was run (`run`, `trial1`, `fleet`, …).
    pub(crate) kind: String,
    /// When (RFC 3339, UTC).
    pub(crate) started_at: String,
    /// The command line.
    pub(crate) command: Vec<String>,
    /// The machine.
    pub(crate) machine: Machine,
    /// The deployment(s) under test.
    pub(crate) targets: Vec<String>,
    /// The crypto-only ceiling measured in the same run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ceiling: Option<Ceiling>,
    /// Every phase, in order.
    pub(crate) phases: Vec<PhaseReport>,
    /// Per-second timeline, where the run keeps one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) timeline: Vec<Second>,
    /// Trial-specific results (fleet scale tables, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub(crate) results: serde_json::Map<String, serde_json::Value>,
}

impl RunReport {
    /// An empty report of `kind`.
    pub(crate) fn new(kind: &str) -> Self {
        RunReport {
            tool: format!("vouch-loadtest {}", env!("CARGO_PKG_VERSION")),
            format: 1,
            kind: kind.to_owned(),
            started_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            command: std::env::args().collect(),
            machine: Machine::detect(),
            targets: Vec::new(),
            ceiling: None,
            phases: Vec::new(),
            timeline: Vec::new(),
            results: serde_json::Map::new(),
        }
    }

    /// Failed requests over every phase.
    pub(crate) fn failures(&self) -> u64 {
        self.phases.iter().map(|p| p.failures).sum()
    }

    /// Writes `DIR/NAME.json`.
    pub(crate) fn write(&self, dir: &Path, name: &str) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{name}.json"));
        let json = serde_json::to_vec_pretty(self)?;
        std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
        say(&format!("wrote {}", path.display()));
        Ok(())
    }

    /// Reads a report written by [`write`](Self::write).
    pub(crate) fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Prints a line for the person running the tool.
#[expect(clippy::print_stdout, reason = "the load test reports on stdout")]
pub(crate) fn say(line: &str) {
    println!("{line}");
}

fn cpu_note(usage: &Usage) -> String {
    let parts: Vec<String> = usage
        .processes
        .iter()
        .map(|(name, u)| format!("{name} {:.2} cores/{:.0} MiB", u.cpu_cores, u.peak_rss_mib))
        .collect();
    format!(
        "machine {:.0}% busy ({:.2} cores used by other work); {}",
        usage.machine_busy * 100.0,
        usage.other_cores,
        parts.join(", ")
    )
}

/// Prints one phase as a few table rows.
pub(crate) fn print_phase(p: &PhaseReport) {
    say(&format!(
        "-- {} | {} users | {:.1} s | {:.0} tasks/s | {} failures",
        p.label, p.users, p.seconds, p.tasks_per_s, p.failures
    ));
    for o in &p.ops {
        let kinds: Vec<String> = o
            .failure_kinds
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect();
        say(&format!(
            "   {:<55} {:>8} ok {:>6} fail {:>9.1}/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms{}",
            o.name,
            o.requests,
            o.failures,
            o.rps,
            o.p50_ms,
            o.p95_ms,
            o.p99_ms,
            if kinds.is_empty() {
                String::new()
            } else {
                format!("  [{}]", kinds.join(", "))
            }
        ));
    }
    say(&format!("   {}", cpu_note(&p.usage)));
}
