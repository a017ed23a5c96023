//! The edge-fleet scale method: for fleets of growing size, the time to
//! provision every attester, the time for every attester's first
//! attestation ("call home"), steady re-attestation at once per attester
//! per period, and the CPU and memory of each process. The result is the
//! time per attester at each size and whether it stays flat (linear total
//! time).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{FleetArgs, provision_all};
use crate::plot::{Panel, Series, try_figure};
use crate::report::{PhaseReport, RunReport, say};
use crate::run::finish_phase;
use crate::stats::{Op, Recorder};
use crate::system::{Sampler, Watched};
use crate::tasks::{Shared, Task, User};
use crate::topology::{Kind, Spec, Topology};

const FLEET_SEED: u64 = 0;

/// Sleeps until `due`, then records how late the wake-up was in
/// `worst_late` (µs) if it is the worst so far.
async fn wait_until(due: tokio::time::Instant, worst_late: &AtomicU64) {
    tokio::time::sleep_until(due).await;
    let late = tokio::time::Instant::now().saturating_duration_since(due);
    worst_late.fetch_max(
        u64::try_from(late.as_micros()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

/// What the fleet status API showed after call home: how long until the
/// summary counted every attester (the recorder writes in batches), and
/// the summary's latency then.
struct SummaryTiming {
    recorded_s: f64,
    p50_ms: f64,
    max_ms: f64,
}

/// Times `GET /fleet/v1/summary` on the management listener once it counts
/// `attesters` (at most `limit` after call home): 21 requests, one at a
/// time.
async fn time_summary(
    management: &Arc<crate::client::Endpoint>,
    attesters: usize,
    limit: Duration,
) -> anyhow::Result<SummaryTiming> {
    let mut conn = crate::client::Conn::new(management.clone(), Duration::from_secs(30));
    let mut get = async || {
        let started = Instant::now();
        let answer = conn
            .send(
                http::Method::GET,
                "/fleet/v1/summary",
                None,
                Default::default(),
            )
            .await
            .map_err(|f| anyhow::anyhow!("fleet summary: {f}"))?;
        let took = started.elapsed();
        anyhow::ensure!(
            answer.status == http::StatusCode::OK,
            "fleet summary answered {}",
            answer.status
        );
        let summary: serde_json::Value = serde_json::from_slice(&answer.body)?;
        anyhow::Ok((summary["total"].as_u64().unwrap_or(0), took))
    };
    let started = Instant::now();
    loop {
        let (total, _) = get().await?;
        if total >= attesters as u64 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "the fleet summary counted {total} of {attesters} attesters after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recorded_s = started.elapsed().as_secs_f64();
    let mut samples = Vec::new();
    for _ in 0..21 {
        samples.push(get().await?.1);
    }
    samples.sort();
    Ok(SummaryTiming {
        recorded_s,
        p50_ms: samples[samples.len() / 2].as_secs_f64() * 1000.0,
        max_ms: samples[samples.len() - 1].as_secs_f64() * 1000.0,
    })
}

/// splitmix64: a small, seedable generator for reproducible jitter.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Every attester attests once, `concurrency` at a time, each starting at a
/// random time in `[0, jitter]`. Returns the phase and the worst lateness
/// of a start (when concurrency, not jitter, set the pace).
async fn call_home(
    shared: &Arc<Shared>,
    concurrency: usize,
    jitter: Duration,
    watched: &Watched,
) -> (PhaseReport, Duration) {
    let n = shared.devices.len();
    let mut seed = 0x5eed_u64;
    let mut schedule: Vec<(Duration, usize)> = (0..n)
        .map(|i| {
            let r = (splitmix(&mut seed) >> 11) as f64 / (1u64 << 53) as f64;
            (jitter.mul_f64(r), i)
        })
        .collect();
    schedule.sort_unstable();
    let schedule = Arc::new(schedule);
    let _ = shared.recorder.take_phase();
    let sampler = Sampler::start(watched.clone());
    let started = tokio::time::Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let worst_late = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (shared, next, schedule, worst_late) = (
            shared.clone(),
            next.clone(),
            schedule.clone(),
            worst_late.clone(),
        );
        workers.spawn(async move {
            let mut user = User::new(shared);
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(at, device)) = schedule.get(k) else {
                    break;
                };
                wait_until(started + at, &worst_late).await;
                let _ = user.verify(device).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let (elapsed, ops) = shared.recorder.take_phase();
    let usage = sampler.finish().await;
    let phase = finish_phase(
        format!("{n} attesters: call home"),
        concurrency,
        Task::Verify,
        elapsed,
        ops,
        usage,
    );
    (
        phase,
        Duration::from_micros(worst_late.load(Ordering::Relaxed)),
    )
}

/// Open-loop re-attestation: attester `k mod n` is due at `k / rate`, for
/// `length`. Starts that cannot keep up show as lateness.
async fn steady(
    shared: &Arc<Shared>,
    period: Duration,
    length: Duration,
    concurrency: usize,
    watched: &Watched,
) -> (PhaseReport, Duration, f64) {
    let n = shared.devices.len().max(1);
    let rate = n as f64 / period.as_secs_f64().max(1e-3);
    let _ = shared.recorder.take_phase();
    let sampler = Sampler::start(watched.clone());
    let started = tokio::time::Instant::now();
    let end = started + length;
    let next = Arc::new(AtomicU64::new(0));
    let worst_late = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (shared, next, worst_late) = (shared.clone(), next.clone(), worst_late.clone());
        workers.spawn(async move {
            let mut user = User::new(shared);
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let due = started + Duration::from_secs_f64(k as f64 / rate);
                if due >= end {
                    break;
                }
                wait_until(due, &worst_late).await;
                let _ = user.verify(usize::try_from(k).unwrap_or(0) % n).await;
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let (elapsed, ops) = shared.recorder.take_phase();
    let usage = sampler.finish().await;
    let phase = finish_phase(
        format!(
            "{n} attesters: steady, once per {:.0} s",
            period.as_secs_f64()
        ),
        concurrency,
        Task::Verify,
        elapsed,
        ops,
        usage,
    );
    (
        phase,
        Duration::from_micros(worst_late.load(Ordering::Relaxed)),
        rate,
    )
}

/// The short name a report gives a deployment kind.
fn target_name(kind: Kind) -> &'static str {
    match kind {
        Kind::InProcess => "in-process",
        Kind::Child => "embedded",
        Kind::Split => "split",
        Kind::External => "external",
    }
}

/// Resident memory of the process hosting trust, MiB, if it has its own.
fn trust_rss_mib(topology: &Topology) -> Option<f64> {
    topology
        .trust_process
        .and_then(|name| topology.watched.rss_mib(name))
}

/// Runs the fleet-scale method.
pub(crate) async fn run(args: FleetArgs) -> anyhow::Result<i32> {
    let mut report = RunReport::new("fleet");
    let mut sizes = args.attesters.clone();
    sizes.sort_unstable();
    let largest = sizes.last().copied().unwrap_or(0).max(1);
    let kinds = if args.targets.is_empty() {
        vec![args.target.target]
    } else {
        args.targets.clone()
    };
    let started = Instant::now();
    let all =
        tokio::task::spawn_blocking(move || crate::devices::mint(FLEET_SEED, largest)).await??;
    let mint_s = started.elapsed().as_secs_f64();
    say(&format!(
        "minted {largest} attester keys in {mint_s:.1} s (generator side, not counted below)"
    ));
    let all = Arc::new(all);
    let timeout = args.target.timeout();
    let mut rows = Vec::new();
    for kind in kinds {
        let spec = Spec {
            kind,
            ..args.target.spec()
        };
        let mut target_rows = Vec::new();
        for &n in &sizes {
            let row = one_size(&args, &spec, &all, n, timeout, &mut report).await?;
            target_rows.push(row);
        }
        linearity(&mut target_rows);
        rows.extend(target_rows);
    }
    report.results.insert("mint_s".into(), mint_s.into());
    report.results.insert("sizes".into(), rows.into());
    let name = args.out.name_or("fleet");
    report.write(&args.out.out, &name)?;
    if !args.out.no_plots {
        plots(&report, &args.out.out, &name);
    }
    Ok(0)
}

/// One fleet size on a fresh deployment: provision, call home, the fleet
/// summary, the memory trust kept, and (if asked) steady re-attestation.
/// Pushes the phases onto `report` and returns the size's row.
async fn one_size(
    args: &FleetArgs,
    spec: &Spec,
    all: &Arc<Vec<vouch_testkit::psa::Device>>,
    n: usize,
    timeout: Duration,
    report: &mut RunReport,
) -> anyhow::Result<serde_json::Value> {
    let target = target_name(spec.kind);
    let devices: Arc<Vec<_>> = Arc::new(all.iter().take(n).cloned().collect());
    let corim_size = args.corim_size;
    let for_corims = devices.clone();
    let built = Instant::now();
    let corims =
        tokio::task::spawn_blocking(move || crate::devices::corims(&for_corims, corim_size))
            .await?;
    let corim_build_s = built.elapsed().as_secs_f64();
    let corim_count = corims.len();

    let topology = Topology::start(spec).await?;
    if !report.targets.contains(&topology.description) {
        report.targets.push(topology.description.clone());
    }
    say(&format!("== {n} attesters on {}", topology.description));
    let outcome = async {
        let provision = provision_all(
            &topology.provisioning,
            corims,
            args.provision_concurrency,
            timeout,
        )
        .await?;
        say(&format!(
            "   provisioned {n} attesters ({corim_count} CoRIMs) in {:.2} s",
            provision.as_secs_f64()
        ));
        // Provisioning only invalidates trust's cache: every attester's
        // first attestation below is a miss that fills it.
        let rss_before = trust_rss_mib(&topology);
        let recorder = Arc::new(Recorder::new(Op::VerifyFlow));
        let shared = Shared::new(
            recorder,
            topology.verification.clone(),
            topology.provisioning.clone(),
            crate::devices::PsaAttesters::shared(devices.clone()),
            None,
            timeout,
        );
        let (mut home, home_late) = call_home(
            &shared,
            args.concurrency,
            Duration::from_millis(args.jitter_ms),
            &topology.watched,
        )
        .await;
        home.extra.insert("attesters".into(), n.into());
        home.extra.insert("mode".into(), "call-home".into());
        home.extra.insert("target".into(), target.into());
        let summary = match &topology.management {
            Some(management) => Some(time_summary(management, n, Duration::from_secs(120)).await?),
            None => None,
        };
        // After the summary counted everyone, so the fleet recorder's
        // batches are written and gone: what stays is the cache.
        let rss_after = trust_rss_mib(&topology);
        let steady_result = if args.steady_secs > 0.0 {
            let (mut p, late, rate) = steady(
                &shared,
                Duration::from_secs_f64(args.period_secs),
                Duration::from_secs_f64(args.steady_secs),
                args.concurrency,
                &topology.watched,
            )
            .await;
            p.extra.insert("attesters".into(), n.into());
            p.extra.insert("mode".into(), "steady".into());
            p.extra.insert("target".into(), target.into());
            Some((p, late, rate))
        } else {
            None
        };
        anyhow::Ok((
            provision,
            home,
            home_late,
            summary,
            rss_before.zip(rss_after),
            steady_result,
        ))
    }
    .await;
    topology.stop().await?;
    let (provision, home, home_late, summary, rss, steady_result) = outcome?;

    let flow = |p: &PhaseReport| p.op(Op::VerifyFlow.name()).cloned();
    let home_flow = flow(&home);
    let bytes_per_attester = rss.map(|(before, after)| (after - before) * MIB / n as f64);
    let mut row = json!({
        "target": target,
        "attesters": n,
        "corims": corim_count,
        "corim_build_s": corim_build_s,
        "provision_s": provision.as_secs_f64(),
        "provision_per_s": n as f64 / provision.as_secs_f64().max(1e-9),
        "provision_ms_per_attester": provision.as_secs_f64() * 1000.0 / n as f64,
        "call_home_s": home.seconds,
        "call_home_ms_per_attester": home.seconds * 1000.0 / n as f64,
        "call_home_flows_per_s": home.tasks_per_s,
        "call_home_p50_ms": home_flow.as_ref().map(|f| f.p50_ms),
        "call_home_p95_ms": home_flow.as_ref().map(|f| f.p95_ms),
        "call_home_p99_ms": home_flow.as_ref().map(|f| f.p99_ms),
        "call_home_failures": home.failures,
        "call_home_worst_start_lateness_ms": home_late.as_secs_f64() * 1000.0,
        "provision_plus_call_home_s": provision.as_secs_f64() + home.seconds,
        "call_home_usage": home.usage,
        "fleet_summary_recorded_s": summary.as_ref().map(|s| s.recorded_s),
        "fleet_summary_p50_ms": summary.as_ref().map(|s| s.p50_ms),
        "fleet_summary_max_ms": summary.as_ref().map(|s| s.max_ms),
        "trust_rss_before_call_home_mib": rss.map(|r| r.0),
        "trust_rss_after_call_home_mib": rss.map(|r| r.1),
        "trust_bytes_per_cached_attester": bytes_per_attester,
    });
    say(&format!(
        "   call home: {:.2} s ({:.3} ms per attester, {:.0} flows/s), {} failures",
        home.seconds,
        home.seconds * 1000.0 / n as f64,
        home.tasks_per_s,
        home.failures
    ));
    if let Some(summary) = &summary {
        say(&format!(
            "   fleet status: every attester counted {:.2} s after call home; summary p50 {:.2} ms, max {:.2} ms",
            summary.recorded_s, summary.p50_ms, summary.max_ms
        ));
    }
    if let (Some((before, after)), Some(per)) = (rss, bytes_per_attester) {
        say(&format!(
            "   trust's memory: {before:.0} MiB before call home, {after:.0} MiB after: {per:.0} bytes per cached attester"
        ));
    }
    report.phases.push(home);
    if let Some((p, late, rate)) = steady_result {
        let f = flow(&p);
        if let Some(obj) = row.as_object_mut() {
            obj.insert("steady_target_per_s".into(), rate.into());
            obj.insert("steady_achieved_per_s".into(), p.tasks_per_s.into());
            obj.insert("steady_p50_ms".into(), f.as_ref().map(|f| f.p50_ms).into());
            obj.insert("steady_p95_ms".into(), f.as_ref().map(|f| f.p95_ms).into());
            obj.insert("steady_p99_ms".into(), f.as_ref().map(|f| f.p99_ms).into());
            obj.insert("steady_failures".into(), p.failures.into());
            obj.insert(
                "steady_worst_start_lateness_ms".into(),
                (late.as_secs_f64() * 1000.0).into(),
            );
            obj.insert(
                "steady_usage".into(),
                serde_json::to_value(&p.usage).unwrap_or_default(),
            );
        }
        say(&format!(
            "   steady: target {rate:.0}/s, achieved {:.0}/s, p95 {:.1} ms, worst start lateness {:.0} ms, {} failures",
            p.tasks_per_s,
            f.as_ref().map(|f| f.p95_ms).unwrap_or(0.0),
            late.as_secs_f64() * 1000.0,
            p.failures
        ));
        report.phases.push(p);
    }
    Ok(row)
}

const MIB: f64 = 1024.0 * 1024.0;

/// The deployment a report row was measured on; reports from before
/// `--targets` ran the embedded default only.
fn row_target(row: &serde_json::Value) -> &str {
    row["target"].as_str().unwrap_or("embedded")
}

/// Growth exponent between consecutive sizes: time ∝ N^k, so k ≈ 1 is
/// linear and k > 1 is worse than linear.
fn linearity(rows: &mut [serde_json::Value]) {
    for key in ["provision_s", "call_home_s"] {
        let mut prev: Option<(f64, f64)> = None;
        for row in rows.iter_mut() {
            let n = row["attesters"].as_f64().unwrap_or(0.0);
            let t = row[key].as_f64().unwrap_or(0.0);
            if let (Some((n0, t0)), Some(obj)) = (prev, row.as_object_mut())
                && n > n0
                && t0 > 0.0
                && t > 0.0
            {
                let k = (t / t0).ln() / (n / n0).ln();
                obj.insert(format!("{key}_growth_exponent"), k.into());
                say(&format!(
                    "{}: {key}: from {n0:.0} to {n:.0} attesters grows as N^{k:.2}",
                    obj.get("target").and_then(|t| t.as_str()).unwrap_or("")
                ));
            }
            prev = Some((n, t));
        }
    }
}

/// The fleet figure: rates, time per attester (flat = linear total time),
/// the summary's latency and trust's memory per cached attester, against
/// fleet size, a line per deployment.
pub(crate) fn plots(report: &RunReport, dir: &Path, name: &str) {
    let rows = report
        .results
        .get("sizes")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let mut targets: Vec<String> = Vec::new();
    for r in &rows {
        let t = row_target(r).to_owned();
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    let pts = |target: &str, key: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| row_target(r) == target)
            .filter_map(|r| Some((r["attesters"].as_f64()?, r[key].as_f64()?)))
            .collect()
    };
    // A line per deployment and key, named "deployment: what".
    let lines = |keys: &[(&str, &str)]| -> Vec<Series> {
        targets
            .iter()
            .flat_map(|t| {
                keys.iter().map(move |(key, what)| Series {
                    name: if what.is_empty() {
                        t.clone()
                    } else {
                        format!("{t}: {what}")
                    },
                    points: pts(t, key),
                })
            })
            .filter(|s| !s.points.is_empty())
            .collect()
    };
    let panel = |title: &str, y_label: &str, series: Vec<Series>| Panel {
        title: title.into(),
        x_label: "attesters".into(),
        y_label: y_label.into(),
        log_x: true,
        series,
    };
    let mut memory = lines(&[(
        "trust_bytes_per_cached_attester",
        "RSS growth over call home ÷ N",
    )]);
    for target in &targets {
        let marginal = marginal_bytes(&rows, target);
        if !marginal.is_empty() {
            memory.push(Series {
                name: format!("{target}: between sizes"),
                points: marginal,
            });
        }
    }
    // Below 10,000 attesters the fixed costs of a fresh deployment swamp
    // the per-attester figure (100 kB "per attester" at 100).
    for series in &mut memory {
        series.points.retain(|&(n, _)| n >= 10_000.0);
    }
    memory.retain(|series| !series.points.is_empty());
    if let Some(largest) = rows
        .iter()
        .filter_map(|r| r["attesters"].as_f64())
        .reduce(f64::max)
    {
        memory.push(Series {
            name: "target: 1 KiB".into(),
            points: vec![(10_000.0, 1024.0), (largest.max(10_000.0), 1024.0)],
        });
    }
    try_figure(
        &dir.join(format!("{name}.png")),
        &[
            panel(
                "provisioning rate",
                "attesters/s",
                lines(&[("provision_per_s", "")]),
            ),
            panel(
                "first-attestation rate (call home)",
                "flows/s",
                lines(&[("call_home_flows_per_s", "")]),
            ),
            panel(
                "time per attester (flat = linear)",
                "ms per attester",
                lines(&[
                    ("provision_ms_per_attester", "provision"),
                    ("call_home_ms_per_attester", "call home"),
                ]),
            ),
            panel(
                "fleet summary latency (p50)",
                "ms",
                lines(&[("fleet_summary_p50_ms", "")]),
            ),
            panel(
                "trust memory per cached attester (fleets ≥ 10,000)",
                "bytes",
                memory,
            ),
            panel(
                "peak RSS per process (call home, steady)",
                "MiB",
                rss_series(&rows),
            ),
        ],
    );
}

/// Trust's memory per cached attester between consecutive sizes of one
/// deployment: the growth of its resident memory after call home over the
/// growth of the fleet, at the larger size. Each size runs on a fresh
/// deployment, so this leaves out the fixed costs (threads, buffers, SQLite's
/// page cache) that dominate the per-size figure of a small fleet.
fn marginal_bytes(rows: &[serde_json::Value], target: &str) -> Vec<(f64, f64)> {
    let sizes: Vec<(f64, f64)> = rows
        .iter()
        .filter(|r| row_target(r) == target)
        .filter_map(|r| {
            Some((
                r["attesters"].as_f64()?,
                r["trust_rss_after_call_home_mib"].as_f64()?,
            ))
        })
        .collect();
    sizes
        .windows(2)
        .filter(|w| w[1].0 > w[0].0)
        .map(|w| (w[1].0, (w[1].1 - w[0].1) * MIB / (w[1].0 - w[0].0)))
        .collect()
}

/// A line per deployment and process: the peak resident memory over call
/// home and steady re-attestation.
fn rss_series(rows: &[serde_json::Value]) -> Vec<Series> {
    let mut names: Vec<(String, String)> = Vec::new();
    for r in rows {
        let target = row_target(r).to_owned();
        if let Some(p) = r["call_home_usage"]["processes"].as_object() {
            for k in p.keys() {
                let key = (target.clone(), k.clone());
                if !names.contains(&key) {
                    names.push(key);
                }
            }
        }
    }
    names
        .into_iter()
        .map(|(target, name)| Series {
            points: rows
                .iter()
                .filter(|r| row_target(r) == target)
                .filter_map(|r| {
                    let steady = r["steady_usage"]["processes"][&name]["peak_rss_mib"].as_f64();
                    let home = r["call_home_usage"]["processes"][&name]["peak_rss_mib"].as_f64();
                    let rss = match (steady, home) {
                        (Some(a), Some(b)) => a.max(b),
                        (a, b) => a.or(b)?,
                    };
                    Some((r["attesters"].as_f64()?, rss))
                })
                .collect(),
            name: format!("{target}: {name}"),
        })
        .collect()
}
