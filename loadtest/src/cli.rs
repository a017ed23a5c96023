//! Command line and the shared set-up of every command.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use clap::{Args, Parser, Subcommand};

use crate::client::{Conn, Endpoint};
use crate::report::say;
use crate::tasks::{Task, provisioned, submit_corim_as};
use crate::topology::{Kind, Spec, default_vouch_bin};

/// Load generator and performance report for Vouch.
///
/// Reproduces the trials of Veraison's Locust study on AWS (user ramps,
/// instance counts, store weight, scale-out) and the edge-fleet scale
/// method, and writes JSON reports and PNG plots.
#[derive(Debug, Parser)]
#[command(name = "vouch-loadtest", version, about)]
pub(crate) struct Cli {
    /// Worker threads of the generator's runtime (default: one per core).
    #[arg(long, global = true)]
    pub(crate) threads: Option<usize>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Trial 1 and 2: a ramp of concurrent users over the study's tasks.
    Run(Box<RunArgs>),
    /// Trial 3: verification at growing store weights.
    StoreWeight(Box<WeightArgs>),
    /// Trial 4: add and remove verification instances during a run.
    ScaleOut(Box<ScaleOutArgs>),
    /// Edge-fleet scale: provision, call home and re-attest N attesters.
    Fleet(Box<FleetArgs>),
    /// The crypto-only ceiling alone.
    Ceiling {
        /// How long to measure, s.
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
        /// Whose flow.
        #[arg(long, value_enum, default_value = "psa")]
        scheme: crate::devices::SchemeKind,
    },
    /// Overlays `run` reports (e.g. embedded vs split, 1 vs 3 instances).
    Compare {
        /// Reports written by `run`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Series names, in the order of the reports.
        #[arg(long, value_delimiter = ',')]
        labels: Vec<String>,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Re-draws the plots of a report.
    Plot {
        /// A report written by any command.
        report: PathBuf,
        #[command(flatten)]
        out: OutArgs,
    },
}

/// The deployment under test.
#[derive(Debug, Args, Clone)]
pub(crate) struct TargetArgs {
    /// Which deployment to start (or `external` to use URLs).
    #[arg(long, value_enum, default_value = "child")]
    pub(crate) target: Kind,
    /// The `vouch` binary (default: next to this one).
    #[arg(long)]
    pub(crate) vouch_bin: Option<PathBuf>,
    /// Front-end instances of each kind (split).
    #[arg(long, default_value_t = 1)]
    pub(crate) instances: usize,
    /// Put haproxy in front of the front ends (split).
    #[arg(long)]
    pub(crate) lb: bool,
    /// Verification base URL (external).
    #[arg(long)]
    pub(crate) verification_url: Option<String>,
    /// Provisioning base URL (external).
    #[arg(long)]
    pub(crate) provisioning_url: Option<String>,
    /// Extra `vouch serve` flag for every Vouch process (repeatable).
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub(crate) server_args: Vec<String>,
    /// Per-request timeout, s.
    #[arg(long, default_value_t = 30.0)]
    pub(crate) timeout_secs: f64,
}

impl TargetArgs {
    pub(crate) fn spec(&self) -> Spec {
        Spec {
            kind: self.target,
            vouch_bin: self.vouch_bin.clone().unwrap_or_else(default_vouch_bin),
            instances: self.instances.max(1),
            lb_slots: self.lb.then_some(self.instances.max(1)),
            verification_url: self.verification_url.clone(),
            provisioning_url: self.provisioning_url.clone(),
            extra_args: self.server_args.clone(),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs.max(0.1))
    }
}

/// Where reports go.
#[derive(Debug, Args, Clone)]
pub(crate) struct OutArgs {
    /// Output directory for JSON and PNG.
    #[arg(long, default_value = "loadtest/reports/tmp")]
    pub(crate) out: PathBuf,
    /// Base name of the files (default: the command's).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Skip the PNG plots.
    #[arg(long)]
    pub(crate) no_plots: bool,
}

impl OutArgs {
    pub(crate) fn name_or(&self, default: &str) -> String {
        self.name.clone().unwrap_or_else(|| default.to_owned())
    }
}

/// `run`: Trials 1 and 2.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) out: OutArgs,
    /// Concurrent users at each step of the ramp.
    #[arg(long, value_delimiter = ',', default_value = "10,100,200,1000")]
    pub(crate) users: Vec<usize>,
    /// Length of each (step, task) phase, s.
    #[arg(long, default_value_t = 4.0)]
    pub(crate) step_secs: f64,
    /// Tasks, each run alone at every step (as the study does).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "well-known,provision,verify"
    )]
    pub(crate) tasks: Vec<Task>,
    /// Simulated devices that attest (round robin).
    #[arg(long, default_value_t = 1000)]
    pub(crate) devices: usize,
    /// Crypto-only ceiling measured first in the same run, s (0: skip).
    #[arg(long, default_value_t = 3.0)]
    pub(crate) ceiling_secs: f64,
    /// Unrecorded verification warm-up before the ramp, s.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) warmup_secs: f64,
    /// Exit non-zero if any request failed.
    #[arg(long)]
    pub(crate) fail_on_error: bool,
    /// The scheme the attesters speak in the verify task (the ceiling is
    /// that scheme's flow too).
    #[arg(long, value_enum, default_value = "psa")]
    pub(crate) scheme: crate::devices::SchemeKind,
    /// A Rego policy to create and activate for the scheme through the
    /// management API before the ramp (embedded targets), to measure what
    /// evaluating it costs.
    #[arg(long)]
    pub(crate) policy: Option<PathBuf>,
}

/// `store-weight`: Trial 3.
#[derive(Debug, Args)]
pub(crate) struct WeightArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) out: OutArgs,
    /// Stored endorsements (trust anchors) to measure at, ascending.
    #[arg(long, value_delimiter = ',', default_value = "0,10000,100000,1000000")]
    pub(crate) weights: Vec<usize>,
    /// Concurrent users during the measurement.
    #[arg(long, default_value_t = 200)]
    pub(crate) users: usize,
    /// Steady-state (cached) measurement at each weight, s.
    #[arg(long, default_value_t = 10.0)]
    pub(crate) step_secs: f64,
    /// Devices attested in the steady state.
    #[arg(long, default_value_t = 1000)]
    pub(crate) devices: usize,
    /// Devices whose first attestation is measured in each round at each
    /// weight (fresh ones every round; 5,000 made phases of about a second,
    /// shorter than the machine's noise).
    #[arg(long, default_value_t = 20_000)]
    pub(crate) cold: usize,
    /// Trust anchors per filler CoRIM.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) corim_size: usize,
    /// Steady phases at each weight, on the measured deployment and on the
    /// empty reference beside it, alternating (A B B A …).
    #[arg(long, default_value_t = 4)]
    pub(crate) rounds: usize,
}

/// `scale-out`: Trial 4.
#[derive(Debug, Args)]
pub(crate) struct ScaleOutArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) out: OutArgs,
    /// Concurrent users.
    #[arg(long, default_value_t = 50)]
    pub(crate) users: usize,
    /// Length of the run, s (instances change at 1/6, 2/6, 4/6, 5/6).
    #[arg(long, default_value_t = 60.0)]
    pub(crate) secs: f64,
    /// Devices that attest.
    #[arg(long, default_value_t = 1000)]
    pub(crate) devices: usize,
}

/// `fleet`: the edge-scale method.
#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    #[command(flatten)]
    pub(crate) target: TargetArgs,
    #[command(flatten)]
    pub(crate) out: OutArgs,
    /// Fleet sizes.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000,100000")]
    pub(crate) attesters: Vec<usize>,
    /// Run the sizes on each of these deployments, one after the other, in
    /// one report (e.g. `child,split`); default: `--target` alone.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) targets: Vec<Kind>,
    /// Attestations in flight at once during call home.
    #[arg(long, default_value_t = 200)]
    pub(crate) concurrency: usize,
    /// Each attester calls home at a random time in [0, jitter], ms.
    #[arg(long, default_value_t = 0)]
    pub(crate) jitter_ms: u64,
    /// Steady re-attestation (once per attester per minute), s (0: skip).
    #[arg(long, default_value_t = 60.0)]
    pub(crate) steady_secs: f64,
    /// Re-attestation period of each attester, s.
    #[arg(long, default_value_t = 60.0)]
    pub(crate) period_secs: f64,
    /// Trust anchors per provisioning CoRIM.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) corim_size: usize,
    /// Provisioning requests in flight at once.
    #[arg(long, default_value_t = 2)]
    pub(crate) provision_concurrency: usize,
}

/// Posts PSA `corims` with `concurrency` connections; any failure is an
/// error.
pub(crate) async fn provision_all(
    endpoint: &Arc<Endpoint>,
    corims: Vec<Bytes>,
    concurrency: usize,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let media_type = crate::devices::corim_media_type();
    let typed = corims.into_iter().map(|c| (media_type, c)).collect();
    provision_typed(endpoint, typed, concurrency, timeout).await
}

/// Posts (media type, CoRIM) pairs with `concurrency` connections; any
/// failure is an error.
pub(crate) async fn provision_typed(
    endpoint: &Arc<Endpoint>,
    corims: Vec<(&'static str, Bytes)>,
    concurrency: usize,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(corims));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let queue = queue.clone();
        let mut conn = Conn::new(endpoint.clone(), timeout.max(Duration::from_secs(120)));
        workers.spawn(async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((media_type, corim)) = next else {
                    return Ok::<(), anyhow::Error>(());
                };
                let answer = submit_corim_as(&mut conn, media_type, corim)
                    .await
                    .map_err(|f| anyhow::anyhow!("provisioning failed: {f}"))?;
                if provisioned(&answer).is_err() {
                    anyhow::bail!(
                        "provisioning answered {}: {}",
                        answer.status,
                        String::from_utf8_lossy(&answer.body)
                    );
                }
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        joined.context("provisioning worker")??;
    }
    Ok(started.elapsed())
}

/// Mints `count` devices from `first_seed` and reports how long it took.
pub(crate) fn mint_devices(
    first_seed: u64,
    count: usize,
) -> anyhow::Result<Vec<vouch_testkit::psa::Device>> {
    let started = Instant::now();
    let devices = crate::devices::mint(first_seed, count)?;
    say(&format!(
        "minted {count} device keys in {:.2} s (generator side)",
        started.elapsed().as_secs_f64()
    ));
    Ok(devices)
}

/// Runs a parsed command line; returns the process exit code.
pub(crate) fn main(cli: Cli) -> anyhow::Result<i32> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = cli.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = builder.build().context("starting the runtime")?;
    match cli.command {
        Command::Run(args) => runtime.block_on(crate::commands::run(*args)),
        Command::StoreWeight(args) => runtime.block_on(crate::weight::run(*args)),
        Command::ScaleOut(args) => runtime.block_on(crate::scaleout::run(*args)),
        Command::Fleet(args) => runtime.block_on(crate::fleet::run(*args)),
        Command::Ceiling { secs, scheme } => {
            let c = crate::ceiling::measure(Duration::from_secs_f64(secs.max(0.1)), scheme)?;
            say(&format!(
                "crypto-only ceiling: {:.0} flows/s on {} threads (verify {:.0}/s/core, EAR sign {:.0}/s/core)",
                c.flows_per_s, c.threads, c.verify_per_s_per_core, c.sign_per_s_per_core
            ));
            Ok(0)
        }
        Command::Compare {
            reports,
            labels,
            out,
        } => crate::commands::compare(&reports, &labels, &out).map(|()| 0),
        Command::Plot { report, out } => {
            let r = crate::report::RunReport::read(&report)?;
            let name = out.name.clone().unwrap_or_else(|| {
                report
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| r.kind.clone())
            });
            crate::commands::plots(&r, &out.out, &name);
            Ok(0)
        }
    }
}
