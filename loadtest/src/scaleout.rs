//! Trial 4, scale-out: verification instances join and leave a balanced
//! deployment while users attest, and every failed request is counted.
//!
//! One instance runs at the start; a second and a third join at 1/6 and
//! 2/6 of the run; the third and then the second leave (SIGTERM: not-ready
//! for the drain delay, then a graceful stop) at 4/6 and 5/6.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{ScaleOutArgs, mint_devices, provision_all};
use crate::plot::{Panel, Series, try_figure};
use crate::report::{RunReport, say};
use crate::run::{PhaseSpec, run_phase};
use crate::stats::{Op, Recorder};
use crate::tasks::{Shared, Task};
use crate::topology::{Kind, Topology};

/// Runs Trial 4.
pub(crate) async fn run(mut args: ScaleOutArgs) -> anyhow::Result<i32> {
    // The trial needs the split topology behind a balancer with 3 slots.
    args.target.target = Kind::Split;
    args.target.lb = true;
    let mut spec = args.target.spec();
    spec.instances = 1;
    spec.lb_slots = Some(3);
    let mut report = RunReport::new("scale-out");
    let devices = Arc::new(mint_devices(0, args.devices.max(1))?);
    let mut topology = Topology::start(&spec).await?;
    say(&format!("target: {}", topology.description));
    report.targets.push(topology.description.clone());
    let timeout = args.target.timeout();
    provision_all(
        &topology.provisioning,
        crate::devices::corims(&devices, 10_000),
        1,
        timeout,
    )
    .await?;
    let recorder = Arc::new(Recorder::new(Op::VerifyFlow));
    let shared = Shared::new(
        recorder.clone(),
        topology.verification.clone(),
        topology.provisioning.clone(),
        crate::devices::PsaAttesters::shared(devices),
        None,
        timeout,
    );
    let total = Duration::from_secs_f64(args.secs.max(6.0));
    let phase = PhaseSpec {
        label: format!("{} users, 1→2→3→2→1 instances", args.users),
        users: args.users,
        task: Task::Verify,
        duration: total,
    };
    let watched = topology.watched.clone();
    let events = Arc::new(std::sync::Mutex::new(vec![(
        recorder.elapsed().as_secs_f64(),
        1u32,
    )]));
    let load = {
        let shared = shared.clone();
        async move { run_phase(&shared, &phase, &watched).await }
    };
    let changes = async {
        let plan: [(f64, Option<usize>, Option<usize>); 4] = [
            (1.0 / 6.0, Some(1), None),
            (2.0 / 6.0, Some(2), None),
            (4.0 / 6.0, None, Some(2)),
            (5.0 / 6.0, None, Some(1)),
        ];
        let start = tokio::time::Instant::now();
        for (at, add, remove) in plan {
            tokio::time::sleep_until(start + total.mul_f64(at)).await;
            if let Some(slot) = add {
                topology.add_verification(slot).await?;
                say(&format!("   + verification instance {slot} ready"));
            }
            if let Some(slot) = remove {
                say(&format!("   - stopping verification instance {slot}"));
                topology.remove_verification(slot).await?;
            }
            let n = u32::try_from(topology.verification_instances()).unwrap_or(0);
            if let Ok(mut e) = events.lock() {
                e.push((recorder.elapsed().as_secs_f64(), n));
            }
        }
        anyhow::Ok(())
    };
    let (phase, changed) = tokio::join!(load, changes);
    topology.stop().await?;
    changed?;
    report.phases.push(phase);

    let events = events.lock().map(|e| e.clone()).unwrap_or_default();
    // The last, partial second would read as a drop in throughput.
    let mut timeline: Vec<_> = recorder
        .timeline()
        .into_iter()
        .filter(|s| s.t < total.as_secs())
        .collect();
    for second in &mut timeline {
        let t = second.t as f64;
        second.instances = events
            .iter()
            .filter(|(at, _)| *at <= t + 1.0)
            .map(|(_, n)| *n)
            .next_back();
    }
    report.timeline = timeline;
    report.results.insert(
        "instance_changes".into(),
        serde_json::to_value(&events).unwrap_or_default(),
    );
    let failures = report.failures();
    report
        .results
        .insert("failed_requests".into(), failures.into());
    say(&format!(
        "scale-out: {failures} failed requests over {:.0} s",
        total.as_secs_f64()
    ));
    let name = args.out.name_or("scale-out");
    report.write(&args.out.out, &name)?;
    if !args.out.no_plots {
        plots(&report, &args.out.out, &name);
    }
    Ok(0)
}

/// Trial 4's timeline figure.
pub(crate) fn plots(report: &RunReport, dir: &Path, name: &str) {
    let flow = Op::VerifyFlow.name();
    let ok: Vec<(f64, f64)> = report
        .timeline
        .iter()
        .map(|s| (s.t as f64, s.ok.get(flow).copied().unwrap_or(0) as f64))
        .collect();
    let failed: Vec<(f64, f64)> = report
        .timeline
        .iter()
        .map(|s| (s.t as f64, s.failed.values().sum::<u64>() as f64))
        .collect();
    let p95: Vec<(f64, f64)> = report
        .timeline
        .iter()
        .filter_map(|s| s.p95_ms.map(|v| (s.t as f64, v)))
        .collect();
    let instances: Vec<(f64, f64)> = report
        .timeline
        .iter()
        .filter_map(|s| s.instances.map(|n| (s.t as f64, f64::from(n))))
        .collect();
    try_figure(
        &dir.join(format!("{name}.png")),
        &[
            Panel {
                title: "flows/s and failed requests/s".into(),
                x_label: "s".into(),
                y_label: "per second".into(),
                log_x: false,
                series: vec![
                    Series {
                        name: "flows/s".into(),
                        points: ok,
                    },
                    Series {
                        name: "failed requests/s".into(),
                        points: failed,
                    },
                ],
            },
            Panel {
                title: "flow p95 latency".into(),
                x_label: "s".into(),
                y_label: "ms".into(),
                log_x: false,
                series: vec![Series {
                    name: "p95".into(),
                    points: p95,
                }],
            },
            Panel {
                title: "verification instances serving".into(),
                x_label: "s".into(),
                y_label: "instances".into(),
                log_x: false,
                series: vec![Series {
                    name: "instances".into(),
                    points: instances,
                }],
            },
        ],
    );
}
