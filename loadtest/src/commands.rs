//! `run` (Trials 1 and 2), `compare`, and the plots of every report kind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{OutArgs, RunArgs, mint_devices, provision_typed};
use crate::devices::{Attesters, CcaAttesters, CorimSource, PsaAttesters, SchemeKind};
use crate::plot::{Panel, Series, try_figure};
use crate::report::{RunReport, say};
use crate::run::{PhaseSpec, run_phase};
use crate::stats::{Op, Recorder};
use crate::tasks::{Shared, Task};
use crate::topology::Topology;

/// Seeds of the devices that attest in `run`.
const RUN_SEED: u64 = 0;

/// `run`: the ceiling, then a user ramp over the tasks on one deployment.
pub(crate) async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let mut report = RunReport::new("run");
    if args.ceiling_secs > 0.0 {
        let secs = args.ceiling_secs;
        let scheme = args.scheme;
        let ceiling = tokio::task::spawn_blocking(move || {
            crate::ceiling::measure(Duration::from_secs_f64(secs), scheme)
        })
        .await??;
        say(&format!(
            "crypto-only ceiling ({scheme:?}): {:.0} flows/s on {} threads (verify {:.0}/s/core, EAR sign {:.0}/s/core)",
            ceiling.flows_per_s,
            ceiling.threads,
            ceiling.verify_per_s_per_core,
            ceiling.sign_per_s_per_core
        ));
        report.ceiling = Some(ceiling);
    }

    // PSA devices always exist: the provision task mints PSA CoRIMs for
    // them whatever scheme the verify task speaks.
    let psa_count = match args.scheme {
        SchemeKind::Psa => args.devices.max(1),
        SchemeKind::Cca => 64,
    };
    let devices = Arc::new(mint_devices(RUN_SEED, psa_count)?);
    let mut corims: Vec<(&'static str, bytes::Bytes)> = crate::devices::corims(&devices, 10_000)
        .into_iter()
        .map(|c| (crate::devices::corim_media_type(), c))
        .collect();
    let attesters: Arc<dyn Attesters> = match args.scheme {
        SchemeKind::Psa => PsaAttesters::shared(devices.clone()),
        SchemeKind::Cca => {
            let count = args.devices.max(1);
            let cca = tokio::task::spawn_blocking(move || CcaAttesters::mint(count)).await??;
            corims.extend(cca.corims());
            Arc::new(cca)
        }
    };
    let spec = args.target.spec();
    let topology = Topology::start(&spec).await?;
    say(&format!("target: {}", topology.description));
    report.targets.push(topology.description.clone());
    let took = provision_typed(&topology.provisioning, corims, 2, args.target.timeout()).await?;
    if let Some(path) = &args.policy {
        let id = crate::tasks::activate_policy(&topology, args.scheme, path, args.target.timeout())
            .await?;
        say(&format!(
            "policy {} active for {:?} ({id})",
            path.display(),
            args.scheme
        ));
        report
            .targets
            .push(format!("policy {} active", path.display()));
    }
    say(&format!(
        "provisioned {} {:?} attesters in {:.2} s",
        attesters.len(),
        args.scheme,
        took.as_secs_f64()
    ));

    let pool: Vec<_> = devices.iter().take(64).cloned().collect();
    let salt = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    let recorder = Arc::new(Recorder::new(Op::VerifyFlow));
    let shared = Shared::new(
        recorder,
        topology.verification.clone(),
        topology.provisioning.clone(),
        attesters,
        Some(CorimSource::new(&pool, salt)?),
        args.target.timeout(),
    );

    let result = async {
        if args.warmup_secs > 0.0 {
            let warm = PhaseSpec {
                label: "warm-up (not reported)".to_owned(),
                users: args.users.first().copied().unwrap_or(10),
                task: Task::Verify,
                duration: Duration::from_secs_f64(args.warmup_secs),
            };
            let _ = run_phase(&shared, &warm, &topology.watched).await;
        }
        for &users in &args.users {
            for &task in &args.tasks {
                let spec = PhaseSpec {
                    label: task.name().to_owned(),
                    users,
                    task,
                    duration: Duration::from_secs_f64(args.step_secs),
                };
                report
                    .phases
                    .push(run_phase(&shared, &spec, &topology.watched).await);
            }
        }
        anyhow::Ok(())
    }
    .await;
    topology.stop().await?;
    result?;

    let name = args.out.name_or("run");
    report.write(&args.out.out, &name)?;
    if !args.out.no_plots {
        plots(&report, &args.out.out, &name);
    }
    headline(&report);
    let failures = report.failures();
    if failures > 0 {
        say(&format!("{failures} requests failed"));
        if args.fail_on_error {
            return Ok(1);
        }
    }
    Ok(0)
}

/// The lines a reader looks for first.
fn headline(report: &RunReport) {
    let best = report
        .phases
        .iter()
        .filter(|p| p.task == Task::Verify.name())
        .max_by(|a, b| a.tasks_per_s.total_cmp(&b.tasks_per_s));
    if let Some(best) = best {
        let ratio = report
            .ceiling
            .as_ref()
            .map(|c| {
                format!(
                    " = {:.2} × the crypto-only ceiling",
                    best.tasks_per_s / c.flows_per_s
                )
            })
            .unwrap_or_default();
        say(&format!(
            "peak verification: {:.0} flows/s at {} users{ratio}",
            best.tasks_per_s, best.users
        ));
    }
    for p in report
        .phases
        .iter()
        .filter(|p| p.task == Task::Verify.name())
    {
        if let Some(flow) = p.op(Op::VerifyFlow.name()) {
            say(&format!(
                "verify at {:>5} users: {:>7.0} flows/s, flow p50 {:.1} ms, p95 {:.1} ms, {} failures",
                p.users, p.tasks_per_s, flow.p50_ms, flow.p95_ms, p.failures
            ));
        }
    }
}

fn series_by_users(
    report: &RunReport,
    task: &str,
    op: &str,
    value: impl Fn(&crate::stats::OpReport) -> f64,
) -> Vec<(f64, f64)> {
    report
        .phases
        .iter()
        .filter(|p| p.task == task)
        .filter_map(|p| p.op(op).map(|o| (p.users as f64, value(o))))
        .collect()
}

/// Every operation a task performs.
fn task_ops(task: &str) -> Vec<Op> {
    match task {
        "well-known" => vec![Op::WellKnown],
        "provision" => vec![Op::Provision],
        _ => vec![Op::NewSession, Op::Evidence, Op::Delete, Op::VerifyFlow],
    }
}

fn short(op: Op) -> &'static str {
    match op {
        Op::WellKnown => "GET well-known",
        Op::Provision => "POST submit",
        Op::NewSession => "POST newSession",
        Op::Evidence => "POST evidence",
        Op::Delete => "DELETE session",
        Op::VerifyFlow => "whole flow",
    }
}

/// Draws the plots of any report into `dir`.
pub(crate) fn plots(report: &RunReport, dir: &Path, name: &str) {
    match report.kind.as_str() {
        "run" => run_plots(report, dir, name),
        "store-weight" => crate::weight::plots(report, dir, name),
        "scale-out" => crate::scaleout::plots(report, dir, name),
        "fleet" => crate::fleet::plots(report, dir, name),
        other => eprintln!("no plots for reports of kind {other}"),
    }
}

fn run_plots(report: &RunReport, dir: &Path, name: &str) {
    let mut tasks: Vec<String> = Vec::new();
    for p in &report.phases {
        if !tasks.contains(&p.task) {
            tasks.push(p.task.clone());
        }
    }
    for task in &tasks {
        let ops = task_ops(task);
        let throughput = Panel {
            title: format!("{task}: requests/s"),
            x_label: "concurrent users".into(),
            y_label: "requests/s".into(),
            log_x: true,
            series: ops
                .iter()
                .map(|op| Series {
                    name: short(*op).to_owned(),
                    points: series_by_users(report, task, op.name(), |o| o.rps),
                })
                .collect(),
        };
        let latency = Panel {
            title: format!("{task}: latency"),
            x_label: "concurrent users".into(),
            y_label: "ms".into(),
            log_x: true,
            series: ops
                .iter()
                .flat_map(|op| {
                    [
                        Series {
                            name: format!("{} p50", short(*op)),
                            points: series_by_users(report, task, op.name(), |o| o.p50_ms),
                        },
                        Series {
                            name: format!("{} p95", short(*op)),
                            points: series_by_users(report, task, op.name(), |o| o.p95_ms),
                        },
                    ]
                })
                .filter(|s| {
                    ops.len() == 1 || s.name.starts_with("whole") || s.name.ends_with("p95")
                })
                .collect(),
        };
        try_figure(
            &dir.join(format!("{name}-{task}.png")),
            &[throughput, latency],
        );
    }
}

/// `compare`: one figure per task, one series per report.
pub(crate) fn compare(paths: &[PathBuf], labels: &[String], out: &OutArgs) -> anyhow::Result<()> {
    let reports: Vec<RunReport> = paths
        .iter()
        .map(|p| RunReport::read(p))
        .collect::<anyhow::Result<_>>()?;
    let label = |i: usize| {
        labels.get(i).cloned().unwrap_or_else(|| {
            paths
                .get(i)
                .and_then(|p| p.file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    };
    let name = out.name_or("compare");
    let mut tasks: Vec<String> = Vec::new();
    for r in &reports {
        for p in &r.phases {
            if !tasks.contains(&p.task) {
                tasks.push(p.task.clone());
            }
        }
    }
    for task in &tasks {
        let op = task_ops(task).pop().unwrap_or(Op::VerifyFlow);
        let per = |value: &dyn Fn(&crate::stats::OpReport) -> f64| -> Vec<Series> {
            reports
                .iter()
                .enumerate()
                .map(|(i, r)| Series {
                    name: label(i),
                    points: series_by_users(r, task, op.name(), value),
                })
                .collect()
        };
        let unit = if op == Op::VerifyFlow {
            "flows/s"
        } else {
            "requests/s"
        };
        let figure = [
            Panel {
                title: format!("{task}: throughput"),
                x_label: "concurrent users".into(),
                y_label: unit.into(),
                log_x: true,
                series: per(&|o| o.rps),
            },
            Panel {
                title: format!("{task}: p95 latency"),
                x_label: "concurrent users".into(),
                y_label: "ms".into(),
                log_x: true,
                series: per(&|o| o.p95_ms),
            },
        ];
        if !out.no_plots {
            try_figure(&out.out.join(format!("{name}-{task}.png")), &figure);
        }
        for (i, r) in reports.iter().enumerate() {
            for p in r.phases.iter().filter(|p| &p.task == task) {
                if let Some(o) = p.op(op.name()) {
                    say(&format!(
                        "{:<24} {:<11} {:>5} users {:>8.0} {unit}  p50 {:>7.2} ms  p95 {:>7.2} ms  {} failures",
                        label(i),
                        task,
                        p.users,
                        o.rps,
                        o.p50_ms,
                        o.p95_ms,
                        p.failures
                    ));
                }
            }
        }
    }
    Ok(())
}
