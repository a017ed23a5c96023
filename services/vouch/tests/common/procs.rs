//! Real processes for the topology tests: `vouch` in any role, memcached and
//! HAProxy, each on free loopback ports, killed when dropped (also when the
//! test panics), plus a fresh PostgreSQL database per cluster.
//!
//! Every `vouch` process of a [`Topology`] runs with TLS on its REST
//! listeners and mutual TLS between the front ends and trust, with the
//! certificates of [`pki`]; HAProxy re-encrypts (TLS from clients, TLS to
//! the verification processes).
//!
//! Children write stdout to a pipe read here (the `vouch: … listening on`
//! lines give their addresses) and stderr to a log file in the cluster's
//! temporary directory; a panicking test prints the tail of every log.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vouch_store::testing::TestPostgres;
use vouch_testkit::tls::TestPki;

/// The `vouch` binary cargo built for these tests.
pub const VOUCH: &str = env!("CARGO_BIN_EXE_vouch");

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the tests run in CI (`CI` set), where missing tools fail them.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Skips (returns `None`) loudly outside CI, fails in CI.
fn missing<T>(what: &str) -> Option<T> {
    assert!(!in_ci(), "{what}; CI must have it");
    eprintln!("SKIPPING topology test: {what}");
    None
}

/// The test PKI of this test binary: a CA, and one certificate for
/// `localhost` and `127.0.0.1` that every process serves and presents
/// (written under cargo's scratch directory for integration tests).
pub fn pki() -> &'static TestPki {
    static PKI: std::sync::OnceLock<TestPki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("vouch-test-pki-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the PKI directory");
        TestPki::create(&dir).expect("minting the test PKI")
    })
}

/// `vouch serve` flags for TLS on the REST listeners and mutual TLS to
/// trust, with [`pki`]'s certificate.
pub fn tls_args() -> Vec<String> {
    let pki = pki();
    let path = |p: &Path| p.display().to_string();
    vec![
        "--tls-cert".into(),
        path(&pki.cert_file),
        "--tls-key".into(),
        path(&pki.key_file),
        "--trust-tls-ca".into(),
        path(&pki.ca_file),
        "--trust-tls-cert".into(),
        path(&pki.cert_file),
        "--trust-tls-key".into(),
        path(&pki.key_file),
    ]
}

/// An HTTP client that trusts (only) [`pki`]'s CA.
pub fn https_client(timeout: Duration) -> reqwest::Client {
    https_client_builder()
        .timeout(timeout)
        .build()
        .expect("an https client")
}

/// A client builder that trusts (only) [`pki`]'s CA.
pub fn https_client_builder() -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(pki().ca.cert_pem().as_bytes()).expect("the CA");
    reqwest::Client::builder().tls_certs_only([ca])
}

/// A rustls client configuration that trusts [`pki`]'s CA, offering
/// HTTP/1.1, for tests that write requests by hand.
pub fn tls_client_config() -> Arc<vouch_tls::rustls::ClientConfig> {
    vouch_tls::client_config(&pki().ca_file, None, &[b"http/1.1"]).expect("a client configuration")
}

/// `vouch healthcheck` flags for https `--url`s and `--trust-url`s.
pub fn healthcheck_tls_args() -> Vec<String> {
    let pki = pki();
    let path = |p: &Path| p.display().to_string();
    vec![
        "--tls-ca".into(),
        path(&pki.ca_file),
        "--trust-tls-ca".into(),
        path(&pki.ca_file),
        "--trust-tls-cert".into(),
        path(&pki.cert_file),
        "--trust-tls-key".into(),
        path(&pki.key_file),
    ]
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a loopback port")
        .port()
}

fn find_binary(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(format!("{}_BIN", name.to_uppercase())) {
        return Some(PathBuf::from(path));
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .chain(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|dir| dir.join(name)),
        )
        .find(|p| p.is_file())
}

async fn wait_for_port(addr: SocketAddr, what: &str, child: &mut Proc) {
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Some(status) = child.try_wait() {
            panic!(
                "{what} exited with {status} before listening on {addr}\n{}",
                child.log_tail()
            );
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {addr}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A child process, killed and reaped when dropped.
pub struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
    stdout: Arc<Mutex<Vec<String>>>,
    exited: Option<ExitStatus>,
}

impl Proc {
    /// Spawns `command` with stdout captured line by line and stderr going
    /// to `log`.
    fn spawn(name: &str, mut command: Command, log: PathBuf) -> Proc {
        let log_file = std::fs::File::create(&log).expect("creating a log file");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {name}: {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        if let Some(pipe) = child.stdout.take() {
            let lines = stdout.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Proc {
            name: name.to_owned(),
            child,
            log,
            stdout,
            exited: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Lines printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// The last lines of the stderr log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(40);
        format!(
            "--- last lines of {} ({}) ---\n{}",
            self.name,
            self.log.display(),
            lines[start..].join("\n")
        )
    }

    /// Sends a signal by name (`TERM`, `KILL`, `STOP`, `CONT`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{signal} {} failed", self.name);
    }

    /// Asks the process to shut down gracefully.
    pub fn terminate(&self) {
        self.signal("TERM");
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().expect("polling a child");
        }
        self.exited
    }

    /// Waits (without blocking the runtime) for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            self.exited = self.child.wait().ok();
        }
    }

    /// Waits for a stdout line containing `needle` and returns it.
    async fn wait_for_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(line) = self.stdout().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            if let Some(status) = self.try_wait() {
                // The reader thread may still hold the last lines.
                tokio::time::sleep(Duration::from_millis(50)).await;
                if let Some(line) = self.stdout().into_iter().find(|l| l.contains(needle)) {
                    return line;
                }
                panic!(
                    "{} exited with {status} before printing {needle:?}\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not print {needle:?}\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
        self.kill();
    }
}

/// A memcached server on a free loopback port.
pub struct Memcached {
    proc: Proc,
    pub addr: SocketAddr,
}

impl Memcached {
    /// Starts memcached; `None` (loudly) without the binary outside CI.
    pub async fn start(dir: &Path) -> Option<Memcached> {
        let Some(binary) = vouch_sessions::testing::memcached_binary() else {
            return missing("memcached is not installed");
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let mut command = Command::new(binary);
        command.args(vouch_sessions::testing::memcached_args(
            addr.port(),
            vouch_sessions::testing::MemcachedSize {
                memory_mib: 64,
                max_connections: 4096,
                threads: 2,
            },
        ));
        let mut proc = Proc::spawn("memcached", command, dir.join("memcached.log"));
        wait_for_port(addr, "memcached", &mut proc).await;
        Some(Memcached { proc, addr })
    }

    /// The `--sessions` value for this server.
    pub fn url(&self) -> String {
        format!("memcached://{}", self.addr)
    }

    /// The process, to stop or signal it.
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }
}

/// Whether HAProxy is installed; `None` (loudly) outside CI when it is not.
pub fn haproxy_binary() -> Option<PathBuf> {
    match find_binary("haproxy", &["/usr/sbin/haproxy"]) {
        Some(path) => Some(path),
        None => missing("haproxy is not installed (apt-get install haproxy)"),
    }
}

/// HAProxy in front of some verification processes, health-checking
/// `/readyz` the way a production load balancer does. It re-encrypts:
/// clients reach it over TLS with [`pki`]'s certificate, and it reaches
/// the backends (and their `/readyz`) over TLS, verifying them against the
/// CA. Terminating TLS here keeps it an HTTP balancer (`X-Served-By`,
/// health checks by status), which TCP pass-through would not.
pub struct Haproxy {
    proc: Proc,
    pub addr: SocketAddr,
}

impl Haproxy {
    /// Starts HAProxy balancing over `backends`, checking `/readyz` every
    /// `checks.inter_ms` and taking a backend out after `checks.fall` failed
    /// checks in a row (a draining backend's 503s are seen in about
    /// `fall` × `inter_ms`). A check has `inter_ms` to connect (TLS
    /// included) and answer. Each response names the backend that served it
    /// in `X-Served-By`. Returns once a backend is in rotation (`/readyz`
    /// answers 200 through it).
    pub async fn start(binary: &Path, dir: &Path, backends: &[SocketAddr], checks: Checks) -> Self {
        let Checks { inter_ms, fall } = checks;
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let pki = pki();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, b)| {
                format!(
                    "    server v{i} {b} check ssl verify required ca-file {} verifyhost localhost sni str(localhost)\n",
                    pki.ca_file.display()
                )
            })
            .collect();
        // HAProxy wants the certificate chain and its key in one file.
        let crt = dir.join("haproxy.pem");
        std::fs::write(
            &crt,
            format!("{}{}", pki.node.chain_pem(), pki.node.key_pem()),
        )
        .expect("writing haproxy.pem");
        let crt = crt.display();
        let config = format!(
            "global\n\
             \x20   maxconn 8192\n\
             defaults\n\
             \x20   mode http\n\
             \x20   timeout connect 2s\n\
             \x20   timeout client 60s\n\
             \x20   timeout server 60s\n\
             \x20   timeout check 3s\n\
             \x20   timeout http-keep-alive 10s\n\
             frontend vouch\n\
             \x20   bind {addr} ssl crt {crt}\n\
             \x20   maxconn 8192\n\
             \x20   default_backend verification\n\
             backend verification\n\
             \x20   balance roundrobin\n\
             \x20   option httpchk GET /readyz\n\
             \x20   http-check expect status 200\n\
             \x20   http-response set-header X-Served-By %s\n\
             \x20   default-server inter {inter_ms}ms fastinter {inter_ms}ms downinter {inter_ms}ms fall {fall} rise 1 maxconn 2048\n\
             {servers}"
        );
        let path = dir.join("haproxy.cfg");
        std::fs::write(&path, config).expect("writing haproxy.cfg");
        let mut command = Command::new(binary);
        // -db: stay in the foreground, so that killing the child kills HAProxy.
        command.arg("-db").arg("-f").arg(&path);
        let mut proc = Proc::spawn("haproxy", command, dir.join("haproxy.log"));
        wait_for_port(addr, "haproxy", &mut proc).await;
        let haproxy = Haproxy { proc, addr };
        wait_for_status(
            &https_client(Duration::from_secs(5)),
            &format!("{}/readyz", haproxy.url()),
            200,
            Duration::from_secs(10),
        )
        .await;
        haproxy
    }

    /// `https://addr`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The process.
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }
}

/// How HAProxy checks its backends' `/readyz`.
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// Milliseconds between checks, and each check's budget.
    pub inter_ms: u64,
    /// Failed checks in a row that take a backend out of rotation.
    pub fall: u32,
}

/// A `vouch serve` process.
pub struct Vouch {
    proc: Proc,
    /// Trust gRPC address, when it runs trust.
    pub trust: Option<SocketAddr>,
    /// Verification REST address, when it runs verification.
    pub verification: Option<SocketAddr>,
    /// Provisioning REST address, when it runs provisioning.
    pub provisioning: Option<SocketAddr>,
    /// Management REST address, when it runs management.
    pub management: Option<SocketAddr>,
}

fn parse_addr(line: &str) -> SocketAddr {
    let url = line
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    url.parse()
        .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"))
}

impl Vouch {
    /// Starts `vouch serve` with `args`, without waiting for it. The
    /// environment is cleared of `VOUCH_*` settings so that only `args` and
    /// `env` configure it.
    pub fn spawn(name: &str, log_dir: &Path, args: &[String], env: &[(&str, &str)]) -> Proc {
        let mut command = Command::new(VOUCH);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("VOUCH_") {
                command.env_remove(key);
            }
        }
        let log_level = std::env::var("VOUCH_TEST_CHILD_LOG").unwrap_or_else(|_| "warn".into());
        command.env("VOUCH_LOG", log_level);
        command.arg("serve").args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        let log = log_dir.join(format!("{name}.log"));
        Proc::spawn(name, command, log)
    }

    /// Waits until `proc` listens for every one of `roles`.
    pub async fn listening_of(mut proc: Proc, roles: &[&str]) -> Self {
        let mut vouch = Vouch {
            trust: None,
            verification: None,
            provisioning: None,
            management: None,
            proc: {
                for role in roles {
                    let needle = match *role {
                        "trust" => "trust (gRPC) listening on ",
                        "verification" => "verification listening on ",
                        "management" => "management listening on ",
                        _ => "provisioning listening on ",
                    };
                    proc.wait_for_line(needle).await;
                }
                proc
            },
        };
        for line in vouch.proc.stdout() {
            if line.contains("trust (gRPC) listening on ") {
                vouch.trust = Some(parse_addr(&line));
            } else if line.contains("verification listening on ") {
                vouch.verification = Some(parse_addr(&line));
            } else if line.contains("provisioning listening on ") {
                vouch.provisioning = Some(parse_addr(&line));
            } else if line.contains("management listening on ") {
                vouch.management = Some(parse_addr(&line));
            }
        }
        vouch
    }

    /// The process.
    pub fn proc(&mut self) -> &mut Proc {
        &mut self.proc
    }

    /// `https://` URL of the verification listener.
    pub fn verification_url(&self) -> String {
        format!("https://{}", self.verification.expect("runs verification"))
    }

    /// `https://` URL of the provisioning listener.
    pub fn provisioning_url(&self) -> String {
        format!("https://{}", self.provisioning.expect("runs provisioning"))
    }

    /// `https://` URL of the management listener.
    pub fn management_url(&self) -> String {
        format!("https://{}", self.management.expect("runs management"))
    }

    /// Sends SIGTERM and waits for a clean exit (status 0 and `stopped`).
    pub async fn stop(mut self, timeout: Duration) {
        self.proc.terminate();
        let status = self.proc.wait_exit(timeout).await;
        assert!(
            status.is_some_and(|s| s.success()),
            "{} did not exit cleanly within {timeout:?}: {status:?}\n{}",
            self.proc.name,
            self.proc.log_tail()
        );
    }
}

/// Where a cluster's processes find each other and their shared state: a
/// fresh PostgreSQL database, a memcached, one EAR signing key for every
/// trust instance, and a directory for logs and data.
pub struct Topology {
    pub memcached: Memcached,
    pub pg: TestPostgres,
    pub ear_key: PathBuf,
    dir: tempfile::TempDir,
    names: std::sync::atomic::AtomicUsize,
}

impl Topology {
    /// A fresh database and memcached; `None` (loudly) when PostgreSQL or
    /// memcached is missing outside CI.
    pub async fn new() -> Option<Self> {
        let dir = tempfile::Builder::new()
            .prefix("vouch-topology-")
            .tempdir()
            .expect("temp dir");
        let pg = TestPostgres::create().await?;
        let memcached = Memcached::start(dir.path()).await?;
        // Every trust instance must sign with the same key, or an EAR's
        // verifier would depend on which instance appraised it.
        vouch_trust::load_or_create_signing_key(dir.path()).expect("EAR key");
        let ear_key = dir.path().join(vouch_trust::GENERATED_KEY_FILE);
        Some(Topology {
            memcached,
            pg,
            ear_key,
            dir,
            names: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The directory holding logs and data.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn name(&self, role: &str) -> String {
        let n = self.names.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        format!("{role}-{n}")
    }

    /// Arguments of a trust process on `database_url`.
    pub fn trust_args(&self, addr: SocketAddr, database_url: &str, name: &str) -> Vec<String> {
        let data = self.dir().join(name);
        let mut args: Vec<String> = vec![
            "--role".into(),
            "trust".into(),
            "--trust-addr".into(),
            addr.to_string(),
            "--database-url".into(),
            database_url.to_owned(),
            "--ear-key".into(),
            self.ear_key.display().to_string(),
            "--data-dir".into(),
            data.display().to_string(),
        ];
        args.extend(tls_args());
        args
    }

    /// Starts a trust process on a free port.
    pub async fn trust(&self, extra: &[&str]) -> Vouch {
        self.trust_at(SocketAddr::from(([127, 0, 0, 1], 0)), extra)
            .await
    }

    /// Starts a trust process on `addr` (e.g. to restart one on its port).
    pub async fn trust_at(&self, addr: SocketAddr, extra: &[&str]) -> Vouch {
        self.trust_on(self.pg.url(), addr, extra).await
    }

    /// Starts a trust process on `addr` using `database_url` (e.g. the
    /// test database through a [`TcpProxy`]).
    pub async fn trust_on(&self, database_url: &str, addr: SocketAddr, extra: &[&str]) -> Vouch {
        self.trust_with(database_url, addr, extra, &[]).await
    }

    /// Starts a trust process on the cluster's database with extra
    /// environment.
    pub async fn trust_env(&self, env: &[(&str, &str)]) -> Vouch {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        self.trust_with(self.pg.url(), any, &[], env).await
    }

    async fn trust_with(
        &self,
        database_url: &str,
        addr: SocketAddr,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Vouch {
        let name = self.name("trust");
        let mut args = self.trust_args(addr, database_url, &name);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let proc = Vouch::spawn(&name, self.dir(), &args, env);
        Vouch::listening_of(proc, &["trust"]).await
    }

    /// Arguments of a front end of `role` calling `trust`.
    pub fn front_args(&self, role: &str, trust: &[SocketAddr]) -> Vec<String> {
        let urls: Vec<String> = trust.iter().map(|a| format!("https://{a}")).collect();
        let any = "127.0.0.1:0".to_owned();
        let mut args = vec![
            "--role".into(),
            role.into(),
            "--trust-url".into(),
            urls.join(","),
            "--sessions".into(),
            self.memcached.url(),
            format!("--{role}-addr"),
            any,
        ];
        args.extend(tls_args());
        args
    }

    /// Starts a verification front end on a free port, calling `trust`.
    pub async fn verification(&self, trust: &[SocketAddr], extra: &[&str]) -> Vouch {
        self.front("verification", trust, extra, &[]).await
    }

    /// Starts a provisioning front end on a free port, calling `trust`.
    pub async fn provisioning(&self, trust: &[SocketAddr], extra: &[&str]) -> Vouch {
        self.front("provisioning", trust, extra, &[]).await
    }

    /// Starts a management front end on a free port, calling `trust`.
    pub async fn management(&self, trust: &[SocketAddr], extra: &[&str]) -> Vouch {
        self.front("management", trust, extra, &[]).await
    }

    /// Starts a front end with extra flags and environment.
    pub async fn front(
        &self,
        role: &str,
        trust: &[SocketAddr],
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Vouch {
        let name = self.name(role);
        let mut args = self.front_args(role, trust);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let proc = Vouch::spawn(&name, self.dir(), &args, env);
        Vouch::listening_of(proc, &[role]).await
    }

    /// Trust, verification and provisioning as three processes.
    pub async fn cluster(self) -> Cluster {
        let trust = self.trust(&[]).await;
        let addr = trust.trust.expect("trust address");
        let verification = self.verification(&[addr], &[]).await;
        let provisioning = self.provisioning(&[addr], &[]).await;
        Cluster {
            verification,
            provisioning,
            trust,
            topology: self,
        }
    }
}

/// Trust, verification and provisioning as separate processes on
/// PostgreSQL and memcached. Fields drop in order: front ends, trust, then
/// the database and memcached.
pub struct Cluster {
    pub verification: Vouch,
    pub provisioning: Vouch,
    pub trust: Vouch,
    pub topology: Topology,
}

impl Cluster {
    /// Stops every process gracefully, front ends first, and checks that
    /// each exits 0.
    pub async fn stop(self) {
        let timeout = Duration::from_secs(10);
        let Cluster {
            verification,
            provisioning,
            trust,
            topology,
        } = self;
        verification.stop(timeout).await;
        provisioning.stop(timeout).await;
        trust.stop(timeout).await;
        drop(topology);
    }
}

/// A TCP proxy whose plug can be pulled: [`TcpProxy::cut`] closes the
/// listener and every proxied connection at once, as a database outage
/// looks to its clients; [`TcpProxy::resume`] listens on the same port again.
pub struct TcpProxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    cut: Option<tokio_util::sync::CancellationToken>,
}

impl TcpProxy {
    /// Proxies a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let mut proxy = TcpProxy {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream,
            cut: None,
        };
        proxy.resume().await;
        proxy
    }

    /// Listens (again) and forwards connections.
    pub async fn resume(&mut self) {
        assert!(self.cut.is_none(), "the proxy is running");
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("binding the proxy");
        self.addr = listener.local_addr().unwrap();
        let token = tokio_util::sync::CancellationToken::new();
        let upstream = self.upstream;
        let stop = token.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((mut inbound, _)) = accepted else {
                    continue;
                };
                let stop = stop.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    }
                });
            }
        });
        self.cut = Some(token);
    }

    /// Closes the listener and every connection.
    pub fn cut(&mut self) {
        if let Some(token) = self.cut.take() {
            token.cancel();
        }
    }

    /// `url` (a `postgres://user@host:port/db` URL) with its host and port
    /// replaced by the proxy's.
    pub fn rewrite(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| format!("{user}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}{path}", self.addr)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Polls `url` until it answers `status`, returning how long that took.
pub async fn wait_for_status(
    client: &reqwest::Client,
    url: &str,
    status: u16,
    timeout: Duration,
) -> Duration {
    let start = Instant::now();
    loop {
        let got = client.get(url).send().await.map(|r| r.status().as_u16());
        if got.as_ref().is_ok_and(|s| *s == status) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "{url} did not answer {status} within {timeout:?} (last: {got:?})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
