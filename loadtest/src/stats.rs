//! Latency and failure recording: one HDR histogram per operation for the
//! current phase, and per-second counts for timelines.
//!
//! Recording takes one uncontended lock per request. With two cores and a
//! few thousand requests a second that costs well under a microsecond, far
//! less than the request itself.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The operations a simulated user performs, as the study names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `GET /.well-known/veraison/provisioning`.
    WellKnown,
    /// `POST /endorsement-provisioning/v1/submit`.
    Provision,
    /// `POST /challenge-response/v1/newSession`.
    NewSession,
    /// `POST /challenge-response/v1/session/{id}` with evidence.
    Evidence,
    /// `DELETE /challenge-response/v1/session/{id}`.
    Delete,
    /// A whole verification flow: newSession, evidence, DELETE.
    VerifyFlow,
}

pub(crate) const OPS: [Op; 6] = [
    Op::WellKnown,
    Op::Provision,
    Op::NewSession,
    Op::Evidence,
    Op::Delete,
    Op::VerifyFlow,
];

impl Op {
    fn index(self) -> usize {
        self as usize
    }

    /// The name used in reports (Locust's naming, placeholders included).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::WellKnown => "GET /.well-known/veraison/provisioning",
            Op::Provision => "POST /endorsement-provisioning/v1/submit",
            Op::NewSession => "POST /challenge-response/v1/newSession",
            Op::Evidence => "POST /challenge-response/v1/session/[SESSION_ID]",
            Op::Delete => "DELETE /challenge-response/v1/session/[SESSION_ID]",
            Op::VerifyFlow => "verify (newSession + evidence + DELETE)",
        }
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 120 s at 3 significant figures: constant bounds that
    // hdrhistogram always accepts.
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("constant histogram bounds are valid")
}

#[derive(Clone)]
struct OpWindow {
    latency: Histogram<u64>,
    ok: u64,
    failures: BTreeMap<String, u64>,
}

impl OpWindow {
    fn new() -> Self {
        OpWindow {
            latency: histogram(),
            ok: 0,
            failures: BTreeMap::new(),
        }
    }
}

/// One second of a timeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Second {
    /// Seconds since the recorder started.
    pub(crate) t: u64,
    /// Successful requests per operation name.
    pub(crate) ok: BTreeMap<String, u64>,
    /// Failed requests per operation name.
    pub(crate) failed: BTreeMap<String, u64>,
    /// p95 latency of the main operation in this second, in ms.
    pub(crate) p95_ms: Option<f64>,
    /// Instances serving, when a topology changes during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) instances: Option<u32>,
}

struct Inner {
    window: Vec<OpWindow>,
    window_start: Instant,
    seconds: Vec<([u64; 6], [u64; 6], Histogram<u64>)>,
}

/// Collects what the users observe.
pub(crate) struct Recorder {
    started: Instant,
    main_op: Op,
    inner: Mutex<Inner>,
}

/// What one operation did during one phase.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OpReport {
    /// Operation name.
    pub(crate) name: String,
    /// Requests that succeeded.
    pub(crate) requests: u64,
    /// Requests that failed (any kind).
    pub(crate) failures: u64,
    /// Successful requests per second over the phase.
    pub(crate) rps: f64,
    /// Latency percentiles of successful requests, ms.
    pub(crate) p50_ms: f64,
    /// 95th percentile, ms.
    pub(crate) p95_ms: f64,
    /// 99th percentile, ms.
    pub(crate) p99_ms: f64,
    /// Slowest, ms.
    pub(crate) max_ms: f64,
    /// Mean, ms.
    pub(crate) mean_ms: f64,
    /// Failures by kind (`status 503`, `connect`, `timeout`, …).
    pub(crate) failure_kinds: BTreeMap<String, u64>,
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

impl Recorder {
    /// A recorder whose per-second p95 follows `main_op`.
    pub(crate) fn new(main_op: Op) -> Self {
        let now = Instant::now();
        Recorder {
            started: now,
            main_op,
            inner: Mutex::new(Inner {
                window: OPS.iter().map(|_| OpWindow::new()).collect(),
                window_start: now,
                seconds: Vec::new(),
            }),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    fn second_slot(inner: &mut Inner, second: usize) -> &mut ([u64; 6], [u64; 6], Histogram<u64>) {
        while inner.seconds.len() <= second {
            inner.seconds.push(([0; 6], [0; 6], histogram()));
        }
        &mut inner.seconds[second]
    }

    /// Records a success that took `elapsed`.
    pub(crate) fn ok(&self, op: Op, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let second = usize::try_from(self.started.elapsed().as_secs()).unwrap_or(usize::MAX);
        let main = self.main_op;
        self.with(|inner| {
            let w = &mut inner.window[op.index()];
            w.latency.saturating_record(micros);
            w.ok += 1;
            if second < 86_400 {
                let slot = Self::second_slot(inner, second);
                slot.0[op.index()] += 1;
                if op == main {
                    slot.2.saturating_record(micros);
                }
            }
        });
    }

    /// Records a failure of kind `kind`.
    pub(crate) fn failed(&self, op: Op, kind: &str) {
        let second = usize::try_from(self.started.elapsed().as_secs()).unwrap_or(usize::MAX);
        self.with(|inner| {
            let w = &mut inner.window[op.index()];
            match w.failures.get_mut(kind) {
                Some(n) => *n += 1,
                None => {
                    w.failures.insert(kind.to_owned(), 1);
                }
            }
            if second < 86_400 {
                Self::second_slot(inner, second).1[op.index()] += 1;
            }
        });
    }

    /// Ends the current phase: reports it and starts a new window.
    pub(crate) fn take_phase(&self) -> (Duration, Vec<OpReport>) {
        let (window, started) = self.with(|inner| {
            let window = std::mem::replace(
                &mut inner.window,
                OPS.iter().map(|_| OpWindow::new()).collect(),
            );
            let started = std::mem::replace(&mut inner.window_start, Instant::now());
            (window, started)
        });
        let elapsed = started.elapsed();
        let secs = elapsed.as_secs_f64().max(1e-9);
        let reports = OPS
            .iter()
            .zip(window)
            .filter(|(_, w)| w.ok > 0 || !w.failures.is_empty())
            .map(|(op, w)| OpReport {
                name: op.name().to_owned(),
                requests: w.ok,
                failures: w.failures.values().sum(),
                rps: w.ok as f64 / secs,
                p50_ms: ms(w.latency.value_at_quantile(0.50)),
                p95_ms: ms(w.latency.value_at_quantile(0.95)),
                p99_ms: ms(w.latency.value_at_quantile(0.99)),
                max_ms: ms(w.latency.max()),
                mean_ms: w.latency.mean() / 1000.0,
                failure_kinds: w.failures,
            })
            .collect();
        (elapsed, reports)
    }

    /// Seconds since the recorder started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The per-second timeline so far.
    pub(crate) fn timeline(&self) -> Vec<Second> {
        self.with(|inner| {
            inner
                .seconds
                .iter()
                .enumerate()
                .map(|(t, (ok, failed, hist))| {
                    let named = |counts: &[u64; 6]| {
                        OPS.iter()
                            .filter(|op| counts[op.index()] > 0)
                            .map(|op| (op.name().to_owned(), counts[op.index()]))
                            .collect()
                    };
                    Second {
                        t: t as u64,
                        ok: named(ok),
                        failed: named(failed),
                        p95_ms: (!hist.is_empty()).then(|| ms(hist.value_at_quantile(0.95))),
                        instances: None,
                    }
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_report_percentiles_and_failure_kinds() {
        let r = Recorder::new(Op::VerifyFlow);
        for ms in 1..=100u64 {
            r.ok(Op::VerifyFlow, Duration::from_millis(ms));
        }
        r.failed(Op::Evidence, "status 503");
        r.failed(Op::Evidence, "status 503");
        r.failed(Op::Evidence, "connect");
        let (_, reports) = r.take_phase();
        let flow = reports
            .iter()
            .find(|o| o.name == Op::VerifyFlow.name())
            .unwrap();
        assert_eq!(flow.requests, 100);
        assert!((flow.p50_ms - 50.0).abs() < 0.5, "{}", flow.p50_ms);
        assert!((flow.p95_ms - 95.0).abs() < 0.5, "{}", flow.p95_ms);
        let ev = reports
            .iter()
            .find(|o| o.name == Op::Evidence.name())
            .unwrap();
        assert_eq!(ev.failures, 3);
        assert_eq!(ev.failure_kinds["status 503"], 2);
        // A new phase starts empty.
        let (_, next) = r.take_phase();
        assert!(next.is_empty());
        let timeline = r.timeline();
        assert_eq!(timeline[0].ok[Op::VerifyFlow.name()], 100);
        assert_eq!(timeline[0].failed[Op::Evidence.name()], 3);
    }
}
