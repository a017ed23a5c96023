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
//!
//! A shared machine drifts by more than the effect being looked for (5 %)
//! over the tens of minutes a run takes. So a second deployment of the same
//! kind, the reference, runs beside the measured one with only the fleet in
//! its store, and at each weight both the steady state and the first
//! attestations are measured on both in alternation (A B B A …, one idle
//! while the other runs; each round of first attestations has fresh
//! devices, provisioned into both). The weight's effect is the
//! measured/reference ratio at that weight over the same ratio at the
//! lightest weight: drift cancels out of both.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::{WeightArgs, mint_devices, provision_all};
use crate::plot::{Panel, Series, try_figure};
use crate::report::{PhaseReport, RunReport, say};
use crate::run::{PhaseSpec, run_once_each, run_phase};
use crate::stats::{Op, Recorder};
use crate::tasks::{Shared, Task};
use crate::topology::{Kind, Topology};

const FLEET_SEED: u64 = 0;
const FILLER_SEED: u64 = 1_000_000_000;
const COLD_SEED: u64 = 2_000_000_000;

/// One deployment with its fleet provisioned and warmed up.
struct Deployment {
    topology: Topology,
    steady: Arc<Shared>,
}

impl Deployment {
    async fn start(
        args: &WeightArgs,
        fleet: &Arc<Vec<vouch_testkit::psa::Device>>,
        recorder: &Arc<Recorder>,
    ) -> anyhow::Result<Self> {
        let topology = Topology::start(&args.target.spec()).await?;
        let timeout = args.target.timeout();
        provision_all(
            &topology.provisioning,
            crate::devices::corims(fleet, args.corim_size),
            1,
            timeout,
        )
        .await?;
        let steady = Shared::new(
            recorder.clone(),
            topology.verification.clone(),
            topology.provisioning.clone(),
            crate::devices::PsaAttesters::shared(fleet.clone()),
            None,
            timeout,
        );
        // Every fleet device attests once, so the steady state is cached.
        let _ = run_once_each(&steady, args.users, "fleet warm-up", &topology.watched).await;
        Ok(Deployment { topology, steady })
    }

    async fn steady_phase(&self, label: String, args: &WeightArgs) -> PhaseReport {
        let spec = PhaseSpec {
            label,
            users: args.users,
            task: Task::Verify,
            duration: Duration::from_secs_f64(args.step_secs),
        };
        run_phase(&self.steady, &spec, &self.topology.watched).await
    }
}

/// Runs Trial 3.
pub(crate) async fn run(args: WeightArgs) -> anyhow::Result<i32> {
    let mut report = RunReport::new("store-weight");
    let mut weights = args.weights.clone();
    weights.sort_unstable();
    let fleet = Arc::new(mint_devices(FLEET_SEED, args.devices.max(1))?);
    let recorder = Arc::new(Recorder::new(Op::VerifyFlow));
    let measured = Deployment::start(&args, &fleet, &recorder).await?;
    say(&format!("target: {}", measured.topology.description));
    report.targets.push(measured.topology.description.clone());
    // An external deployment has no twin to compare with.
    let reference = if args.target.target == Kind::External {
        None
    } else {
        let reference = Deployment::start(&args, &fleet, &recorder).await?;
        report
            .targets
            .push(format!("reference: {}", reference.topology.description));
        Some(reference)
    };
    let timeout = args.target.timeout();

    let result = async {
        let mut filler = 0usize;
        let mut cold_total = 0usize;
        let mut cold_sets = 0usize;
        for &weight in &weights {
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
                    provision_all(&measured.topology.provisioning, chunk, 1, timeout)
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

            // First attestations, A B / B A like the steady state below:
            // each round mints a fresh set of devices, provisions it into
            // both deployments and has every device attest once on each,
            // one deployment idle while the other runs.
            for round in 0..args.rounds.max(1) {
                let cold_seed = COLD_SEED + (cold_sets * args.cold) as u64;
                cold_sets += 1;
                let cold = Arc::new(crate::devices::mint(cold_seed, args.cold.max(1))?);
                let corims = crate::devices::corims(&cold, args.corim_size);
                provision_all(
                    &measured.topology.provisioning,
                    corims.clone(),
                    1,
                    timeout,
                )
                .await?;
                if let Some(reference) = &reference {
                    provision_all(&reference.topology.provisioning, corims, 1, timeout).await?;
                    reference.topology.settle_store().await?;
                }
                // After the filler and the fresh devices alike, on both
                // deployments: the store's weight is what is measured.
                measured.topology.settle_store().await?;
                cold_total += cold.len();
                let reference_first = round % 2 == 1;
                for on_reference in [reference_first, !reference_first] {
                    let deployment = match (&reference, on_reference) {
                        (Some(reference), true) => reference,
                        (None, true) => continue,
                        (_, false) => &measured,
                    };
                    let cold_shared = Shared::new(
                        recorder.clone(),
                        deployment.topology.verification.clone(),
                        deployment.topology.provisioning.clone(),
                        crate::devices::PsaAttesters::shared(cold.clone()),
                        None,
                        timeout,
                    );
                    let (label, stored, mode) = if on_reference {
                        (
                            format!("{weight} first, reference"),
                            fleet.len() + cold_total,
                            FIRST_REFERENCE,
                        )
                    } else {
                        (
                            format!("{weight} first"),
                            fleet.len() + filler + cold_total,
                            FIRST,
                        )
                    };
                    let mut first = run_once_each(
                        &cold_shared,
                        args.users,
                        &label,
                        &deployment.topology.watched,
                    )
                    .await;
                    annotate(&mut first, weight, stored, mode);
                    report.phases.push(first);
                }
            }
            let stored = fleet.len() + filler + cold_total;

            for round in 0..args.rounds.max(1) {
                // A B B A: each deployment goes first as often as second.
                let reference_first = round % 2 == 1;
                for on_reference in [reference_first, !reference_first] {
                    match (&reference, on_reference) {
                        (Some(reference), true) => {
                            let mut phase = reference
                                .steady_phase(format!("{weight} reference"), &args)
                                .await;
                            annotate(&mut phase, weight, fleet.len(), REFERENCE);
                            report.phases.push(phase);
                        }
                        (None, true) => {}
                        (_, false) => {
                            let mut phase = measured
                                .steady_phase(format!("{weight} steady"), &args)
                                .await;
                            annotate(&mut phase, weight, stored, STEADY);
                            report.phases.push(phase);
                        }
                    }
                }
            }
            say(&format!("   stored trust anchors: {stored}"));
        }
        anyhow::Ok(())
    }
    .await;
    measured.topology.stop().await?;
    if let Some(reference) = reference {
        reference.topology.stop().await?;
    }
    result?;

    summarise(&mut report);
    let name = args.out.name_or("store-weight");
    report.write(&args.out.out, &name)?;
    if !args.out.no_plots {
        plots(&report, &args.out.out, &name);
    }
    Ok(0)
}

const FIRST: &str = "first-attestation";
const FIRST_REFERENCE: &str = "first-attestation-reference";
const STEADY: &str = "steady";
const REFERENCE: &str = "reference";

fn annotate(phase: &mut PhaseReport, weight: usize, stored: usize, mode: &str) {
    phase.extra.insert("weight".into(), weight.into());
    phase
        .extra
        .insert("stored_trust_anchors".into(), stored.into());
    phase.extra.insert("mode".into(), mode.into());
}

/// (weight, mean of `value` over the weight's phases of `mode`), by weight.
fn points(report: &RunReport, mode: &str, value: impl Fn(&PhaseReport) -> f64) -> Vec<(f64, f64)> {
    let mut by_weight: std::collections::BTreeMap<u64, (f64, usize)> = Default::default();
    for p in &report.phases {
        if p.extra.get("mode").and_then(|m| m.as_str()) != Some(mode) {
            continue;
        }
        let Some(weight) = p.extra.get("weight").and_then(serde_json::Value::as_u64) else {
            continue;
        };
        let entry = by_weight.entry(weight).or_default();
        entry.0 += value(p);
        entry.1 += 1;
    }
    by_weight
        .into_iter()
        .map(|(w, (sum, n))| (w as f64, sum / n as f64))
        .collect()
}

fn p95(p: &PhaseReport) -> f64 {
    p.op(Op::VerifyFlow.name()).map(|o| o.p95_ms).unwrap_or(0.0)
}

/// The ratio of `last` to `first`, 0 when `first` is 0.
fn ratio(last: f64, first: f64) -> f64 {
    if first > 0.0 { last / first } else { 0.0 }
}

/// Adds the ratios the target is about: throughput at the heaviest store
/// over throughput at the lightest, as measured and, where there is a
/// reference, with the machine's drift taken out.
fn summarise(report: &mut RunReport) {
    for mode in [STEADY, FIRST] {
        let pts = points(report, mode, |p| p.tasks_per_s);
        if let (Some(first), Some(last)) = (pts.first(), pts.last()) {
            let r = ratio(last.1, first.1);
            say(&format!(
                "{mode}: {:.0} flows/s at the lightest store, {:.0} at the heaviest: ratio {r:.3}",
                first.1, last.1
            ));
            report
                .results
                .insert(format!("{mode}_ratio_heaviest_to_lightest"), r.into());
        }
    }
    for (mode, reference_mode) in [(STEADY, REFERENCE), (FIRST, FIRST_REFERENCE)] {
        against_reference(report, mode, reference_mode);
    }
}

/// The `mode` phases' throughput over the `reference_mode` phases' of the
/// same weight (the same minutes), and that ratio at the heaviest weight
/// over the lightest: the store's own effect, the machine's drift out.
fn against_reference(report: &mut RunReport, mode: &str, reference_mode: &str) {
    let measured = points(report, mode, |p| p.tasks_per_s);
    let reference = points(report, reference_mode, |p| p.tasks_per_s);
    if reference.len() != measured.len() || measured.is_empty() {
        return;
    }
    let paired: Vec<(f64, f64)> = measured
        .iter()
        .zip(&reference)
        .map(|(s, r)| (s.0, ratio(s.1, r.1)))
        .collect();
    for (weight, r) in &paired {
        say(&format!(
            "{mode} at {weight:.0} filler: {r:.3} × the empty reference in the same minutes"
        ));
    }
    let drift_free = ratio(paired[paired.len() - 1].1, paired[0].1);
    say(&format!(
        "{mode}, heaviest over lightest, against the reference: ratio {drift_free:.3}"
    ));
    report.results.insert(
        format!("{mode}_to_reference_by_weight"),
        paired
            .iter()
            .map(|(w, r)| serde_json::json!({"weight": w.round(), "ratio": r}))
            .collect::<Vec<_>>()
            .into(),
    );
    report.results.insert(
        format!("{mode}_ratio_heaviest_to_lightest_against_reference"),
        drift_free.into(),
    );
}

/// Trial 3's figure.
pub(crate) fn plots(report: &RunReport, dir: &Path, name: &str) {
    let series = |value: &dyn Fn(&PhaseReport) -> f64| {
        vec![
            Series {
                name: "steady state (cached)".into(),
                points: points(report, STEADY, value),
            },
            Series {
                name: "empty reference, same minutes".into(),
                points: points(report, REFERENCE, value),
            },
            Series {
                name: "first attestation".into(),
                points: points(report, FIRST, value),
            },
            Series {
                name: "first attestation, empty reference".into(),
                points: points(report, FIRST_REFERENCE, value),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(mode: &str, weight: u64, tasks_per_s: f64) -> PhaseReport {
        let mut p = PhaseReport {
            label: format!("{weight} {mode}"),
            users: 1,
            task: Task::Verify.name().to_owned(),
            seconds: 1.0,
            ops: Vec::new(),
            tasks_per_s,
            failures: 0,
            usage: crate::system::Usage::default(),
            extra: serde_json::Map::new(),
        };
        annotate(&mut p, usize::try_from(weight).unwrap(), 0, mode);
        p
    }

    #[test]
    fn the_reference_takes_the_machines_drift_out_of_the_ratio() {
        let mut report = RunReport::new("store-weight");
        // The machine slows by 20 % between the two weights; the store's
        // own effect is 5 %.
        report.phases = vec![
            phase(STEADY, 0, 1000.0),
            phase(REFERENCE, 0, 1000.0),
            phase(REFERENCE, 0, 1000.0),
            phase(STEADY, 0, 1000.0),
            phase(STEADY, 1_000_000, 760.0),
            phase(REFERENCE, 1_000_000, 800.0),
        ];
        summarise(&mut report);
        let raw = report.results["steady_ratio_heaviest_to_lightest"]
            .as_f64()
            .unwrap();
        let paired = report.results["steady_ratio_heaviest_to_lightest_against_reference"]
            .as_f64()
            .unwrap();
        assert!((raw - 0.76).abs() < 1e-9, "{raw}");
        assert!((paired - 0.95).abs() < 1e-9, "{paired}");
        // First attestations pair with their own reference phases.
        assert!(
            !report
                .results
                .contains_key("first-attestation_ratio_heaviest_to_lightest_against_reference")
        );
        report.phases.extend([
            phase(FIRST, 0, 500.0),
            phase(FIRST_REFERENCE, 0, 520.0),
            phase(FIRST, 1_000_000, 380.0),
            phase(FIRST_REFERENCE, 1_000_000, 400.0),
        ]);
        summarise(&mut report);
        let first =
            report.results["first-attestation_ratio_heaviest_to_lightest_against_reference"]
                .as_f64()
                .unwrap();
        assert!(
            (first - (380.0 / 400.0) / (500.0 / 520.0)).abs() < 1e-9,
            "{first}"
        );
        assert_eq!(points(&report, STEADY, |p| p.tasks_per_s).len(), 2);
    }
}
