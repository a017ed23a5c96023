//! Closed-loop phases, as Locust runs them: `users` simulated users, each
//! looping over one task with no think time, for a fixed time.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::report::{PhaseReport, print_phase};
use crate::stats::Op;
use crate::system::{Sampler, Watched};
use crate::tasks::{Shared, Task, User};

/// One phase of a ramp.
#[derive(Debug, Clone)]
pub(crate) struct PhaseSpec {
    pub(crate) label: String,
    pub(crate) users: usize,
    pub(crate) task: Task,
    pub(crate) duration: Duration,
}

/// Request failures of a phase (the whole-flow entry repeats its steps'
/// failures, so it is not counted again).
pub(crate) fn request_failures(ops: &[crate::stats::OpReport]) -> u64 {
    ops.iter()
        .filter(|o| o.name != Op::VerifyFlow.name())
        .map(|o| o.failures)
        .sum::<u64>()
        + ops
            .iter()
            .filter(|o| o.name == Op::VerifyFlow.name())
            .flat_map(|o| o.failure_kinds.iter())
            .filter(|(k, _)| !k.contains(": "))
            .map(|(_, n)| n)
            .sum::<u64>()
}

/// Runs one phase and reports it.
pub(crate) async fn run_phase(
    shared: &Arc<Shared>,
    spec: &PhaseSpec,
    watched: &Watched,
) -> PhaseReport {
    let _ = shared.recorder.take_phase();
    let sampler = Sampler::start(watched.clone());
    let deadline = Instant::now() + spec.duration;
    let mut users = tokio::task::JoinSet::new();
    for _ in 0..spec.users {
        let shared = shared.clone();
        let task = spec.task;
        users.spawn(async move {
            let mut user = User::new(shared);
            while Instant::now() < deadline {
                if !user.run(task).await {
                    // A failing user backs off briefly, as a client seeing
                    // errors would, instead of spinning on them.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        });
    }
    while users.join_next().await.is_some() {}
    let (elapsed, ops) = shared.recorder.take_phase();
    let usage = sampler.finish().await;
    finish_phase(
        spec.label.clone(),
        spec.users,
        spec.task,
        elapsed,
        ops,
        usage,
    )
}

/// Every device of `shared` attests exactly once, `users` at a time (first
/// attestations, a fleet calling home).
pub(crate) async fn run_once_each(
    shared: &Arc<Shared>,
    users: usize,
    label: &str,
    watched: &Watched,
) -> PhaseReport {
    let _ = shared.recorder.take_phase();
    let sampler = Sampler::start(watched.clone());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let total = shared.devices.len();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..users.max(1).min(total.max(1)) {
        let shared = shared.clone();
        let next = next.clone();
        workers.spawn(async move {
            let mut user = User::new(shared);
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let _ = user.verify(i).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let (elapsed, ops) = shared.recorder.take_phase();
    let usage = sampler.finish().await;
    finish_phase(label.to_owned(), users, Task::Verify, elapsed, ops, usage)
}

/// The report of a phase of `task` that took `elapsed`, printed.
pub(crate) fn finish_phase(
    label: String,
    users: usize,
    task: Task,
    elapsed: Duration,
    ops: Vec<crate::stats::OpReport>,
    usage: crate::system::Usage,
) -> PhaseReport {
    let tasks_per_s = ops
        .iter()
        .find(|o| o.name == task.op().name())
        .map(|o| o.requests as f64 / elapsed.as_secs_f64().max(1e-9))
        .unwrap_or(0.0);
    let report = PhaseReport {
        label,
        users,
        task: task.name().to_owned(),
        seconds: elapsed.as_secs_f64(),
        failures: request_failures(&ops),
        ops,
        tasks_per_s,
        usage,
        extra: serde_json::Map::new(),
    };
    print_phase(&report);
    report
}
