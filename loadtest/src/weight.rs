//! Trial 3, store weight: verification throughput and latency as the store
//! grows from empty to a million trust anchors.
//!
//! The store is filled through the real provisioning API with CoRIMs of
//! `--corim-size` devices each (real keys, distinct instance ids), so the
//! rows are exactly what provisioning writes. At each weight two things
//! are measured:
//! - first attestations of devices provisioned just before (trust anchor
//!   not in the cache: the store answers);
//! - the steady state: a fleet re-attesting, its trust anchors cached.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::{WeightArgs, mint_devices, provision_all};
use crate::plot::{Panel, Series, try_figure};
use crate::report::{PhaseReport, RunReport, say};
use crate::run::{PhaseSpec, run_once_each, run_phase};
use crate::stats::{Op, Recorder};
use crate::tasks::{Shared, Task};
use crate::topology::Topology;

const FLEET_SEED: u64 = 0;
const FILLER_SEED: u64 = 1_000_000_000;
const COLD_SEED: u64 = 2_000_000_000;

/// Runs Trial 3.
pub(crate) async fn run(args: WeightArgs) -> anyhow::Result<i32> {
    let mut report = RunReport::new("store-weight");
    let mut weights = args.weights.clone();
    weights.sort_unstable();
    let fleet = Arc::new(mint_devices(FLEET_SEED, args.devices.max(1))?);
    let topology = Topology::start(&args.target.spec()).await?;
    say(&format!("target: {}", topology.description));
    report.targets.push(topology.description.clone());
    let timeout = args.target.timeout();
    provision_all(
        &topology.provisioning,
        crate::devices::corims(&fleet, args.corim_size),
        1,
        timeout,
    )
    .await?;
    let recorder = Arc::new(Recorder::new(Op::VerifyFlow));
    let steady = Shared::new(
        recorder.clone(),
        topology.verification.clone(),
        topology.provisioning.clone(),
        fleet.clone(),
        None,
        timeout,
    );
    // Every fleet device attests once, so the steady state is cached.
    let _ = run_once_each(&steady, args.users, "fleet warm-up", &topology.watched).await;

    let result = async {
        let mut filler = 0usize;
        let mut cold_total = 0usize;
        for (step, &weight) in weights.iter().enumerate() {
            let fill_started = Instant::now();
            let mut fill_secs_server = 0.0;
            while filler < weight {
                let n = (weight - filler).min(args.corim_size.max(1));
                let first = FILLER_SEED + filler as u64;
                let chunk = tokio::task::spawn_blocking(move || {
                    let devices = crate::devices::mint(first, n)?;
                    anyhow::Ok(crate::devices::corims(&devices, n))
                })
                .await??;
                fill_secs_server +=
                    provision_all(&topology.provisioning, chunk, 1, timeout)
                        .await?
                        .as_secs_f64();
                filler += n;
            }
            if weight > 0 {
                say(&format!(
                    "store filled to {filler} filler trust anchors in {:.1} s ({:.1} s in provisioning requests)",
                    fill_started.elapsed().as_secs_f64(),
                    fill_secs_server
                ));
            }

            let cold_seed = COLD_SEED + (step * args.cold) as u64;
            let cold = Arc::new(crate::devices::mint(cold_seed, args.cold.max(1))?);
            provision_all(
                &topology.provisioning,
                crate::devices::corims(&cold, args.corim_size),
                1,
                timeout,
            )
            .await?;
            cold_total += cold.len();
            let stored = fleet.len() + filler + cold_total;
            let cold_shared = Shared::new(
                recorder.clone(),
                topology.verification.clone(),
                topology.provisioning.clone(),
                cold,
                None,
                timeout,
            );
            let mut first =
                run_once_each(&cold_shared, args.users, &format!("{weight} first"), &topology.watched)
                    .await;
            annotate(&mut first, weight, stored, "first-attestation");
            report.phases.push(first);

            let spec = PhaseSpec {
                label: format!("{weight} steady"),
                users: args.users,
                task: Task::Verify,
                duration: Duration::from_secs_f64(args.step_secs),
            };
            let mut phase = run_phase(&steady, &spec, &topology.watched).await;
            annotate(&mut phase, weight, stored, "steady");
            report.phases.push(phase);
            say(&format!("   stored trust anchors: {stored}"));
        }
        anyhow::Ok(())
    }
    .await;
    topology.stop().await?;
    result?;

    summarise(&mut report);
    let name = args.out.name_or("store-weight");
    report.write(&args.out.out, &name)?;
    if !args.out.no_plots {
        plots(&report, &args.out.out, &name);
    }
    Ok(0)
}

fn annotate(phase: &mut PhaseReport, weight: usize, stored: usize, mode: &str) {
    phase.extra.insert("weight".into(), weight.into());
    phase
        .extra
        .insert("stored_trust_anchors".into(), stored.into());
    phase.extra.insert("mode".into(), mode.into());
}

fn points(report: &RunReport, mode: &str, value: impl Fn(&PhaseReport) -> f64) -> Vec<(f64, f64)> {
    report
        .phases
        .iter()
        .filter(|p| p.extra.get("mode").and_then(|m| m.as_str()) == Some(mode))
        .filter_map(|p| {
            let w = p.extra.get("weight")?.as_f64()?;
            Some((w.max(1.0), value(p)))
        })
        .collect()
}

fn p95(p: &PhaseReport) -> f64 {
    p.op(Op::VerifyFlow.name()).map(|o| o.p95_ms).unwrap_or(0.0)
}

/// Adds the ratio the target is about: throughput at the heaviest store
/// over throughput at the lightest.
fn summarise(report: &mut RunReport) {
    for mode in ["steady", "first-attestation"] {
        let pts = points(report, mode, |p| p.tasks_per_s);
        if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
            let ratio = if first.1 > 0.0 { last.1 / first.1 } else { 0.0 };
            say(&format!(
                "{mode}: {:.0} flows/s at the lightest store, {:.0} at the heaviest: ratio {ratio:.3}",
                first.1, last.1
            ));
            report
                .results
                .insert(format!("{mode}_ratio_heaviest_to_lightest"), ratio.into());
        }
    }
}

/// Trial 3's figure.
pub(crate) fn plots(report: &RunReport, dir: &Path, name: &str) {
    let series = |value: &dyn Fn(&PhaseReport) -> f64| {
        vec![
            Series {
                name: "steady state (cached)".into(),
                points: points(report, "steady", value),
            },
            Series {
                name: "first attestation".into(),
                points: points(report, "first-attestation", value),
            },
        ]
    };
    try_figure(
        &dir.join(format!("{name}.png")),
        &[
            Panel {
                title: "verification throughput vs store weight".into(),
                x_label: "stored trust anchors (filler)".into(),
                y_label: "flows/s".into(),
                log_x: true,
                series: series(&|p| p.tasks_per_s),
            },
            Panel {
                title: "flow p95 latency vs store weight".into(),
                x_label: "stored trust anchors (filler)".into(),
                y_label: "ms".into(),
                log_x: true,
                series: series(&p95),
            },
        ],
    );
}
