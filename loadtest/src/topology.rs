//! The deployments under test, started and stopped by the generator:
//!
//! - `in-process`: the embedded default (`vouch::app::start`, SQLite,
//!   in-memory sessions) inside the generator's own runtime;
//! - `child`: the same embedded default as a `vouch serve` child process;
//! - `split`: one trust process on a fresh PostgreSQL database, memcached,
//!   and separate verification and provisioning processes, optionally
//!   several of each behind haproxy, with instances added and removed while
//!   a run goes on;
//! - `external`: URLs of a deployment someone else runs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::client::{Endpoint, wait_ready};
use crate::system::Watched;

/// A child process we started, stopped by its pid.
pub(crate) struct Proc {
    name: String,
    child: Child,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// SIGTERM, then wait (SIGKILL after `grace`).
    pub(crate) async fn stop(mut self, grace: Duration) {
        let pid = self.pid();
        if pid != 0 {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status()
                .await;
        }
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            eprintln!("{} did not stop within {grace:?}; killing it", self.name);
            let _ = self.child.kill().await;
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The `vouch` binary: next to this one (both come from the same
/// `cargo build --release`), unless told otherwise.
pub(crate) fn default_vouch_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("vouch")))
        .unwrap_or_else(|| PathBuf::from("vouch"))
}

/// Starts `vouch serve ARGS` and waits until it prints every listener in
/// `expect` (`verification`, `provisioning`, `trust (gRPC)`).
async fn spawn_vouch(
    bin: &Path,
    name: &str,
    args: &[String],
    expect: &[&str],
    log_dir: &Path,
) -> anyhow::Result<(Proc, BTreeMap<String, SocketAddr>)> {
    let log = std::fs::File::create(log_dir.join(format!("{name}.log")))
        .with_context(|| format!("creating the log of {name}"))?;
    let mut child = Command::new(bin)
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} for {name}", bin.display()))?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut found = BTreeMap::new();
    let wait = async {
        while found.len() < expect.len() {
            let Some(line) = lines.next_line().await? else {
                anyhow::bail!("{name} exited before it was listening (see {name}.log)");
            };
            for service in expect {
                let prefix = format!("vouch: {service} listening on http://");
                if let Some(addr) = line.strip_prefix(&prefix) {
                    found.insert((*service).to_owned(), addr.trim().parse()?);
                }
            }
        }
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .with_context(|| format!("{name} did not start within 60 s"))??;
    // Keep draining stdout so the child never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((
        Proc {
            name: name.to_owned(),
            child,
        },
        found,
    ))
}

/// Which deployment to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    /// Embedded default inside the generator's process.
    InProcess,
    /// Embedded default as a `vouch serve` child process.
    Child,
    /// Trust + PostgreSQL, memcached, separate front ends.
    Split,
    /// Someone else's deployment (`--verification-url`, `--provisioning-url`).
    External,
}

/// How to build a deployment.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    pub(crate) kind: Kind,
    pub(crate) vouch_bin: PathBuf,
    /// Front-end instances of each kind (split only).
    pub(crate) instances: usize,
    /// Slots behind the load balancer; `Some` puts haproxy in front.
    pub(crate) lb_slots: Option<usize>,
    pub(crate) verification_url: Option<String>,
    pub(crate) provisioning_url: Option<String>,
    /// Extra `vouch serve` flags for every Vouch process.
    pub(crate) extra_args: Vec<String>,
}

struct Split {
    bin: PathBuf,
    trust_url: String,
    sessions: String,
    extra: Vec<String>,
    verification_ports: Vec<u16>,
    verifications: Vec<Option<Proc>>,
    provisionings: Vec<Proc>,
    management: Option<Proc>,
    trust: Option<Proc>,
    memcached: Option<Proc>,
    lb: Option<Proc>,
    db: Option<vouch_store::testing::TestPostgres>,
}

enum Inner {
    InProcess {
        stop: CancellationToken,
        done: tokio::task::JoinHandle<anyhow::Result<()>>,
    },
    Child(Proc),
    Split(Box<Split>),
    External,
}

/// A running deployment.
pub(crate) struct Topology {
    pub(crate) verification: Arc<Endpoint>,
    pub(crate) provisioning: Arc<Endpoint>,
    /// The management listener (not on external targets).
    pub(crate) management: Option<Arc<Endpoint>>,
    pub(crate) watched: Watched,
    /// The watched process that hosts trust (its endorsement cache), when
    /// it is a process of its own: `vouch` for the embedded child, `trust`
    /// for the split topology. In-process and external targets have none.
    pub(crate) trust_process: Option<&'static str>,
    pub(crate) description: String,
    inner: Inner,
    data: tempfile::TempDir,
}

impl Topology {
    /// Starts the deployment `spec` describes and waits until it is ready.
    pub(crate) async fn start(spec: &Spec) -> anyhow::Result<Self> {
        let data = tempfile::Builder::new()
            .prefix("vouch-loadtest-")
            .tempdir()
            .context("creating a data directory")?;
        let watched = Watched::default();
        watched.add("loadtest", std::process::id());
        let topology = match spec.kind {
            Kind::InProcess => Self::in_process(data, watched).await?,
            Kind::Child => Self::child(spec, data, watched).await?,
            Kind::Split => Self::split(spec, data, watched).await?,
            Kind::External => {
                let v = spec
                    .verification_url
                    .as_deref()
                    .context("--verification-url is needed with --target external")?;
                let p = spec
                    .provisioning_url
                    .as_deref()
                    .context("--provisioning-url is needed with --target external")?;
                Topology {
                    verification: Endpoint::parse(v)?,
                    provisioning: Endpoint::parse(p)?,
                    management: None,
                    watched,
                    trust_process: None,
                    description: format!("external: {v}, {p}"),
                    inner: Inner::External,
                    data,
                }
            }
        };
        wait_ready(&topology.verification, Duration::from_secs(30)).await?;
        wait_ready(&topology.provisioning, Duration::from_secs(30)).await?;
        Ok(topology)
    }

    async fn in_process(data: tempfile::TempDir, watched: Watched) -> anyhow::Result<Self> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        let settings = vouch::settings::Settings {
            data_dir: data.path().join("vouch"),
            verification_addr: any,
            provisioning_addr: any,
            management_addr: any,
            trust_addr: any,
            ..vouch::settings::Settings::default()
        };
        let running = vouch::app::start(&settings).await?;
        let verification = running
            .verification
            .context("in-process verification address")?;
        let provisioning = running
            .provisioning
            .context("in-process provisioning address")?;
        let management = running.management.map(Endpoint::from_addr);
        let stop = running.shutdown_token();
        let done = tokio::spawn(running.wait());
        Ok(Topology {
            verification: Endpoint::from_addr(verification),
            provisioning: Endpoint::from_addr(provisioning),
            management,
            watched,
            trust_process: None,
            description:
                "embedded default, in the generator's process (SQLite, in-memory sessions)"
                    .to_owned(),
            inner: Inner::InProcess { stop, done },
            data,
        })
    }

    async fn child(spec: &Spec, data: tempfile::TempDir, watched: Watched) -> anyhow::Result<Self> {
        let mut args = vec![
            "--data-dir".to_owned(),
            data.path().join("vouch").display().to_string(),
            "--verification-addr".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--provisioning-addr".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--management-addr".to_owned(),
            "127.0.0.1:0".to_owned(),
            "--trust-addr".to_owned(),
            "127.0.0.1:0".to_owned(),
        ];
        args.extend(spec.extra_args.iter().cloned());
        let (proc, addrs) = spawn_vouch(
            &spec.vouch_bin,
            "vouch",
            &args,
            &["verification", "provisioning", "management"],
            data.path(),
        )
        .await?;
        watched.add("vouch", proc.pid());
        Ok(Topology {
            verification: Endpoint::from_addr(addrs["verification"]),
            provisioning: Endpoint::from_addr(addrs["provisioning"]),
            management: addrs.get("management").copied().map(Endpoint::from_addr),
            watched,
            trust_process: Some("vouch"),
            description:
                "embedded default, `vouch serve` child process (SQLite, in-memory sessions)"
                    .to_owned(),
            inner: Inner::Child(proc),
            data,
        })
    }

    async fn split(spec: &Spec, data: tempfile::TempDir, watched: Watched) -> anyhow::Result<Self> {
        let db = vouch_store::testing::TestPostgres::create()
            .await
            .context("PostgreSQL on 127.0.0.1:5432 is needed for the split topology")?;
        let memcached_port = free_port()?;
        let memcached_bin = vouch_sessions::testing::memcached_binary()
            .context("memcached is needed for the split topology")?;
        let mut mc = Command::new(memcached_bin);
        mc.args(vouch_sessions::testing::memcached_args(
            memcached_port,
            vouch_sessions::testing::MemcachedSize {
                memory_mib: 512,
                max_connections: 8192,
                threads: 1,
            },
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
        let memcached = Proc {
            name: "memcached".to_owned(),
            child: mc.spawn().context("starting memcached")?,
        };
        watched.add("memcached", memcached.pid());
        let mc_addr = format!("127.0.0.1:{memcached_port}");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&mc_addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let mut trust_args = vec![
            "--role".to_owned(),
            "trust".to_owned(),
            "--data-dir".to_owned(),
            data.path().join("trust").display().to_string(),
            "--database-url".to_owned(),
            db.url().to_owned(),
            "--trust-addr".to_owned(),
            "127.0.0.1:0".to_owned(),
        ];
        trust_args.extend(spec.extra_args.iter().cloned());
        let (trust, addrs) = spawn_vouch(
            &spec.vouch_bin,
            "trust",
            &trust_args,
            &["trust (gRPC)"],
            data.path(),
        )
        .await?;
        watched.add("trust", trust.pid());
        let trust_url = format!("http://{}", addrs["trust (gRPC)"]);

        let slots = spec.lb_slots.unwrap_or(spec.instances).max(spec.instances);
        let verification_ports: Vec<u16> = (0..slots)
            .map(|_| free_port())
            .collect::<anyhow::Result<_>>()?;
        let mut split = Split {
            bin: spec.vouch_bin.clone(),
            trust_url,
            sessions: format!("memcached://{mc_addr}"),
            extra: spec.extra_args.clone(),
            verification_ports: verification_ports.clone(),
            verifications: (0..slots).map(|_| None).collect(),
            provisionings: Vec::new(),
            management: None,
            trust: Some(trust),
            memcached: Some(memcached),
            lb: None,
            db: Some(db),
        };
        for slot in 0..spec.instances {
            split.add_verification(slot, data.path(), &watched).await?;
        }
        let mut provisioning_addrs = Vec::new();
        for i in 0..spec.instances {
            let port = free_port()?;
            let mut args = split.front_args("provisioning");
            args.extend([
                "--provisioning-addr".to_owned(),
                format!("127.0.0.1:{port}"),
            ]);
            let name = format!("provisioning-{i}");
            let (p, addrs) =
                spawn_vouch(&split.bin, &name, &args, &["provisioning"], data.path()).await?;
            watched.add(&name, p.pid());
            provisioning_addrs.push(addrs["provisioning"]);
            split.provisionings.push(p);
        }
        // One management process: the fleet status API reads through trust.
        let management_port = free_port()?;
        let mut management_args = split.front_args("management");
        management_args.extend([
            "--management-addr".to_owned(),
            format!("127.0.0.1:{management_port}"),
        ]);
        let (m, addrs) = spawn_vouch(
            &split.bin,
            "management",
            &management_args,
            &["management"],
            data.path(),
        )
        .await?;
        watched.add("management", m.pid());
        let management_addr = addrs["management"];
        split.management = Some(m);

        let (verification, provisioning, lb_note) = match spec.lb_slots {
            Some(_) => {
                let v_port = free_port()?;
                let p_port = free_port()?;
                let config =
                    haproxy_config(v_port, &verification_ports, p_port, &provisioning_addrs);
                let path = data.path().join("haproxy.cfg");
                std::fs::write(&path, config).context("writing haproxy.cfg")?;
                let lb = Command::new(haproxy_bin())
                    .arg("-db")
                    .arg("-f")
                    .arg(&path)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::from(
                        std::fs::File::create(data.path().join("haproxy.log"))
                            .context("creating haproxy.log")?,
                    ))
                    .kill_on_drop(true)
                    .spawn()
                    .context("starting haproxy (apt-get install haproxy)")?;
                let lb = Proc {
                    name: "haproxy".to_owned(),
                    child: lb,
                };
                watched.add("haproxy", lb.pid());
                split.lb = Some(lb);
                (
                    Endpoint::from_addr(SocketAddr::from(([127, 0, 0, 1], v_port))),
                    Endpoint::from_addr(SocketAddr::from(([127, 0, 0, 1], p_port))),
                    format!(", haproxy in front ({slots} verification slots)"),
                )
            }
            None => {
                let v = split
                    .verification_ports
                    .first()
                    .copied()
                    .context("no verification instance")?;
                let p = provisioning_addrs
                    .first()
                    .copied()
                    .context("no provisioning instance")?;
                (
                    Endpoint::from_addr(SocketAddr::from(([127, 0, 0, 1], v))),
                    Endpoint::from_addr(p),
                    String::new(),
                )
            }
        };
        let topology = Topology {
            verification,
            provisioning,
            management: Some(Endpoint::from_addr(management_addr)),
            watched,
            trust_process: Some("trust"),
            description: format!(
                "split: trust on PostgreSQL, memcached sessions, {} verification + {} provisioning + 1 management process(es){lb_note}",
                spec.instances, spec.instances
            ),
            inner: Inner::Split(Box::new(split)),
            data,
        };
        if spec.lb_slots.is_some() {
            // Let haproxy's first health checks mark the running slots up.
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        Ok(topology)
    }

    /// Starts a verification instance in `slot` (split with a balancer).
    pub(crate) async fn add_verification(&mut self, slot: usize) -> anyhow::Result<()> {
        let Inner::Split(split) = &mut self.inner else {
            anyhow::bail!("instances can only be added to the split topology");
        };
        split
            .add_verification(slot, self.data.path(), &self.watched)
            .await
    }

    /// Stops the verification instance in `slot` gracefully: it reports
    /// not-ready for `drain`, so the balancer stops sending it work, then
    /// finishes what it has and exits.
    pub(crate) async fn remove_verification(&mut self, slot: usize) -> anyhow::Result<()> {
        let Inner::Split(split) = &mut self.inner else {
            anyhow::bail!("instances can only be removed from the split topology");
        };
        let proc = split
            .verifications
            .get_mut(slot)
            .and_then(Option::take)
            .with_context(|| format!("no verification instance in slot {slot}"))?;
        self.watched.remove(&format!("verification-{slot}"));
        proc.stop(Duration::from_secs(30)).await;
        Ok(())
    }

    /// Lets the store finish what a bulk load leaves for later, so that a
    /// measurement after it sees the store's weight and not the catch-up:
    /// on PostgreSQL (split) `VACUUM (ANALYZE)` and `CHECKPOINT`, which
    /// autovacuum and the checkpointer would otherwise run during the next
    /// minutes (after 1,000,000 inserted trust anchors, lookups waited on
    /// `DataFileRead` beside them). SQLite has no such work.
    pub(crate) async fn settle_store(&self) -> anyhow::Result<()> {
        let Inner::Split(split) = &self.inner else {
            return Ok(());
        };
        let Some(db) = &split.db else {
            return Ok(());
        };
        let status = Command::new("psql")
            .arg(db.url())
            .args(["-q", "-c", "VACUUM (ANALYZE)", "-c", "CHECKPOINT"])
            .stdin(Stdio::null())
            .status()
            .await
            .context("running psql (apt-get install postgresql-client)")?;
        anyhow::ensure!(status.success(), "VACUUM and CHECKPOINT failed: {status}");
        Ok(())
    }

    /// Verification instances running now.
    pub(crate) fn verification_instances(&self) -> usize {
        match &self.inner {
            Inner::Split(s) => s.verifications.iter().filter(|v| v.is_some()).count(),
            _ => 1,
        }
    }

    /// Stops everything and removes the data.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        match self.inner {
            Inner::InProcess { stop, done } => {
                stop.cancel();
                done.await.context("joining the in-process server")??;
            }
            Inner::Child(proc) => proc.stop(Duration::from_secs(30)).await,
            Inner::Split(mut split) => {
                if let Some(lb) = split.lb.take() {
                    lb.stop(Duration::from_secs(5)).await;
                }
                for v in split.verifications.iter_mut().filter_map(Option::take) {
                    v.stop(Duration::from_secs(30)).await;
                }
                for p in split.provisionings.drain(..) {
                    p.stop(Duration::from_secs(30)).await;
                }
                if let Some(m) = split.management.take() {
                    m.stop(Duration::from_secs(30)).await;
                }
                if let Some(t) = split.trust.take() {
                    t.stop(Duration::from_secs(30)).await;
                }
                if let Some(m) = split.memcached.take() {
                    m.stop(Duration::from_secs(5)).await;
                }
                // Dropping the database handle drops the database.
                drop(split);
            }
            Inner::External => {}
        }
        drop(self.data);
        Ok(())
    }
}

impl Split {
    fn front_args(&self, role: &str) -> Vec<String> {
        let mut args = vec![
            "--role".to_owned(),
            role.to_owned(),
            "--trust-url".to_owned(),
            self.trust_url.clone(),
        ];
        if role == "verification" {
            args.extend([
                "--sessions".to_owned(),
                self.sessions.clone(),
                // Report not-ready before closing, so the balancer's health
                // checks (every 500 ms, 2 failures) take it out first.
                "--drain-delay-ms".to_owned(),
                "2000".to_owned(),
            ]);
        }
        args.extend(self.extra.iter().cloned());
        args
    }

    async fn add_verification(
        &mut self,
        slot: usize,
        log_dir: &Path,
        watched: &Watched,
    ) -> anyhow::Result<()> {
        let port = *self
            .verification_ports
            .get(slot)
            .with_context(|| format!("no slot {slot}"))?;
        if self.verifications.get(slot).is_some_and(Option::is_some) {
            anyhow::bail!("slot {slot} already runs an instance");
        }
        let mut args = self.front_args("verification");
        args.extend([
            "--verification-addr".to_owned(),
            format!("127.0.0.1:{port}"),
        ]);
        let name = format!("verification-{slot}");
        let (p, _) = spawn_vouch(&self.bin, &name, &args, &["verification"], log_dir).await?;
        watched.add(&name, p.pid());
        wait_ready(
            &Endpoint::from_addr(SocketAddr::from(([127, 0, 0, 1], port))),
            Duration::from_secs(30),
        )
        .await?;
        if let Some(s) = self.verifications.get_mut(slot) {
            *s = Some(p);
        }
        Ok(())
    }
}

/// `haproxy` from the PATH, or where Debian installs it (`/usr/sbin` is not
/// on every user's PATH).
fn haproxy_bin() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("haproxy"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file());
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/haproxy"))
}

/// haproxy in HTTP mode with keep-alive on both sides, round robin, and
/// health checks on `/readyz` every 500 ms (down after 2 failures, up
/// after 1 success). Empty slots are simply down until an instance starts.
fn haproxy_config(v_port: u16, v_slots: &[u16], p_port: u16, p_addrs: &[SocketAddr]) -> String {
    let mut cfg = String::from(
        "global\n    maxconn 9000\n    nbthread 1\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    \
         timeout server 60s\n    timeout http-keep-alive 60s\n    option http-keep-alive\n    \
         retries 3\n    option redispatch\n    http-reuse safe\n\n",
    );
    cfg.push_str(&format!(
        "frontend verification\n    bind 127.0.0.1:{v_port}\n    default_backend verification\n\n\
         backend verification\n    balance roundrobin\n    option httpchk GET /readyz\n    \
         default-server check inter 500ms fall 2 rise 1\n"
    ));
    for (i, port) in v_slots.iter().enumerate() {
        cfg.push_str(&format!("    server v{i} 127.0.0.1:{port}\n"));
    }
    cfg.push_str(&format!(
        "\nfrontend provisioning\n    bind 127.0.0.1:{p_port}\n    default_backend provisioning\n\n\
         backend provisioning\n    balance roundrobin\n    option httpchk GET /readyz\n    \
         default-server check inter 500ms fall 2 rise 1\n"
    ));
    for (i, addr) in p_addrs.iter().enumerate() {
        cfg.push_str(&format!("    server p{i} {addr}\n"));
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_config_lists_every_slot() {
        let cfg = haproxy_config(
            8000,
            &[8001, 8002, 8003],
            9000,
            &["127.0.0.1:9001".parse().unwrap()],
        );
        assert!(cfg.contains("bind 127.0.0.1:8000"));
        assert!(cfg.contains("server v2 127.0.0.1:8003"));
        assert!(cfg.contains("server p0 127.0.0.1:9001"));
        assert!(cfg.contains("option httpchk GET /readyz"));
    }
}
