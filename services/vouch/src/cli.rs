//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::settings::{AuthMode, Overrides, Role, Settings};

/// Vouch: a fast, Veraison-compatible attestation verifier.
#[derive(Debug, Parser)]
#[command(name = "vouch", version, about)]
pub struct Cli {
    /// TOML configuration file (then `VOUCH_*` environment variables, then
    /// flags, take precedence).
    #[arg(long, global = true, env = "VOUCH_CONFIG")]
    pub config: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run services (all of them, on SQLite under ./vouch-data, by default).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(MigrateArgs),
    /// Mint test devices, CoRIMs and tokens (for demos and manual testing).
    #[command(subcommand)]
    Testkit(crate::testkit_cli::TestkitCommand),
    /// Exit 0 when the given endpoints are ready, 1 otherwise: a container
    /// health check for images without curl.
    Healthcheck(HealthcheckArgs),
    /// Helpers for the `[auth]` configuration.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Run a whole challenge-response against a verification service
    /// (session, evidence, verdict, delete) and print the verdict and trust
    /// vector; exit 0 when affirming, 3 when not, 1 on an error.
    Verify(Box<crate::client_cli::VerifyArgs>),
    /// Attestation results (EARs).
    #[command(subcommand)]
    Ear(crate::client_cli::EarCommand),
    /// CoRIMs.
    #[command(subcommand)]
    Corim(crate::corim_cli::CorimCommand),
    /// Evidence (attestation tokens).
    #[command(subcommand)]
    Evidence(crate::evidence_cli::EvidenceCommand),
}

/// Subcommands of `vouch auth`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Read a password from stdin (its first line) and print its argon2id
    /// hash, a PHC string for `password_hash` in `[[auth.users]]`:
    /// `printf '%s' "$PASSWORD" | vouch auth hash-password`
    HashPassword,
}

/// Flags of `vouch healthcheck`.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// A REST readiness URL that must answer 200, e.g.
    /// `http://127.0.0.1:8443/readyz`, or `https://…` with `--tls-ca`
    /// (repeatable)
    #[arg(long)]
    pub url: Vec<String>,
    /// A trust gRPC URL whose service state must be READY, e.g.
    /// `http://127.0.0.1:50051`, or `https://…` with the `--trust-tls-*`
    /// files (repeatable)
    #[arg(long)]
    pub trust_url: Vec<String>,
    /// Give up on each check after this many milliseconds
    #[arg(long, default_value_t = 2_000)]
    pub timeout_ms: u64,
    /// CA certificates (PEM) that the certificates of https `--url`s must
    /// chain to
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
    /// The name https `--url` certificates are verified against, instead of
    /// the URL's host (e.g. when checking 127.0.0.1)
    #[arg(long)]
    pub tls_server_name: Option<String>,
    /// For https `--trust-url`s: the CA trust's certificate chains to
    #[arg(long, env = "VOUCH_TRUST_TLS__CA")]
    pub trust_tls_ca: Option<PathBuf>,
    /// For https `--trust-url`s: the client certificate (PEM chain)
    #[arg(long, env = "VOUCH_TRUST_TLS__CERT")]
    pub trust_tls_cert: Option<PathBuf>,
    /// For https `--trust-url`s: the client certificate's key (PEM)
    #[arg(long, env = "VOUCH_TRUST_TLS__KEY")]
    pub trust_tls_key: Option<PathBuf>,
    /// For https `--trust-url`s: the name trust's certificate is verified
    /// against, instead of the URL's host
    #[arg(long, env = "VOUCH_TRUST_TLS__SERVER_NAME")]
    pub trust_tls_server_name: Option<String>,
}

/// Flags of `vouch serve`. Each has an environment variable (shown in
/// `--help` and the README); flags win over the environment.
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Service to run; repeat for several [env: VOUCH_ROLE=all]
    #[arg(long, value_enum)]
    pub role: Vec<Role>,
    /// Data directory for the embedded database and generated EAR key
    /// [env: VOUCH_DATA_DIR=./vouch-data]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Verification REST address [env: VOUCH_VERIFICATION_ADDR=127.0.0.1:8443]
    #[arg(long)]
    pub verification_addr: Option<SocketAddr>,
    /// Provisioning REST address [env: VOUCH_PROVISIONING_ADDR=127.0.0.1:9443]
    #[arg(long)]
    pub provisioning_addr: Option<SocketAddr>,
    /// Management REST address [env: VOUCH_MANAGEMENT_ADDR=127.0.0.1:10443]
    #[arg(long)]
    pub management_addr: Option<SocketAddr>,
    /// Trust gRPC address [env: VOUCH_TRUST_ADDR=127.0.0.1:50051]
    #[arg(long)]
    pub trust_addr: Option<SocketAddr>,
    /// Trust service URL(s) for front ends running without a local trust,
    /// comma-separated [env: VOUCH_TRUST_URL]
    #[arg(long)]
    pub trust_url: Option<String>,
    /// EAR signing key, JWK or PKCS#8 PEM [env: VOUCH_EAR_KEY]
    #[arg(long)]
    pub ear_key: Option<PathBuf>,
    /// Database URL: sqlite:…, postgres://… or memory: [env: VOUCH_DATABASE_URL]
    #[arg(long)]
    pub database_url: Option<String>,
    /// Session store: memory or memcached://host:port[,host:port…] [env: VOUCH_SESSIONS=memory]
    #[arg(long)]
    pub sessions: Option<String>,
    /// Connections in this process's database pool [env: VOUCH_DB__MAX_CONNECTIONS=8]
    #[arg(long)]
    pub db_max_connections: Option<u32>,
    /// Wait for a pooled connection before answering 503, in ms
    /// [env: VOUCH_DB__ACQUIRE_TIMEOUT_MS=2000]
    #[arg(long)]
    pub db_acquire_timeout_ms: Option<u64>,
    /// On SIGTERM, keep serving (not-ready) this long before closing
    /// listeners, in ms [env: VOUCH_DRAIN_DELAY_MS=0]
    #[arg(long)]
    pub drain_delay_ms: Option<u64>,
    /// Log format: text or json [env: VOUCH_LOG_FORMAT=text]
    #[arg(long)]
    pub log_format: Option<String>,
    /// Keys trusted to sign CoRIMs: a PEM file of public keys, or a JWK /
    /// JWK Set [env: VOUCH_CORIM__SIGNER_KEYS]
    #[arg(long)]
    pub corim_signer_keys: Option<PathBuf>,
    /// CA certificates (PEM) a signed CoRIM's x5chain must chain to
    /// [env: VOUCH_CORIM__SIGNER_ROOTS]
    #[arg(long)]
    pub corim_signer_roots: Option<PathBuf>,
    /// Refuse unsigned CoRIMs [env: VOUCH_CORIM__REQUIRE_SIGNED=false]
    #[arg(long)]
    pub require_signed_corims: bool,
    /// Record no metrics and serve no `/metrics` [env: VOUCH_METRICS__ENABLED=true]
    #[arg(long)]
    pub no_metrics: bool,
    /// Export traces over OTLP/gRPC to this collector
    /// (`http://collector:4317`); off unless set
    /// [env: VOUCH_OTLP__ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT]
    #[arg(long)]
    pub otlp_endpoint: Option<String>,
    /// Serve trust's `/metrics` (plain HTTP) on this address, for a process
    /// that runs trust without a REST role [env: VOUCH_METRICS__TRUST_ADDR]
    #[arg(long)]
    pub trust_metrics_addr: Option<SocketAddr>,
    /// Authentication of provisioning (role provisioner) and management
    /// (role manager); verification stays open [env: VOUCH_AUTH__MODE=none]
    #[arg(long, value_enum)]
    pub auth: Option<AuthMode>,
    /// OIDC issuer URL as tokens carry it in `iss`, e.g.
    /// https://keycloak:8443/realms/veraison [env: VOUCH_AUTH__OIDC_ISSUER]
    #[arg(long)]
    pub oidc_issuer: Option<String>,
    /// Audience the OIDC tokens must name [env: VOUCH_AUTH__OIDC_AUDIENCE]
    #[arg(long)]
    pub oidc_audience: Option<String>,
    /// TLS certificate chain (PEM) of the REST listeners, which then speak
    /// HTTPS; reloaded on SIGHUP [env: VOUCH_TLS__CERT]
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM: PKCS#8, SEC1 or PKCS#1) of --tls-cert [env: VOUCH_TLS__KEY]
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS between front ends and trust: the CA (PEM) every peer's
    /// certificate must chain to [env: VOUCH_TRUST_TLS__CA]
    #[arg(long)]
    pub trust_tls_ca: Option<PathBuf>,
    /// This process's certificate chain (PEM) for mutual TLS to trust: trust
    /// serves it, front ends present it [env: VOUCH_TRUST_TLS__CERT]
    #[arg(long)]
    pub trust_tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --trust-tls-cert [env: VOUCH_TRUST_TLS__KEY]
    #[arg(long)]
    pub trust_tls_key: Option<PathBuf>,
    /// Name to verify trust's certificate against instead of each trust
    /// URL's host [env: VOUCH_TRUST_TLS__SERVER_NAME]
    #[arg(long)]
    pub trust_tls_server_name: Option<String>,
}

/// Flags of `vouch migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Database URL [env: VOUCH_DATABASE_URL]
    #[arg(long)]
    pub database_url: Option<String>,
    /// Data directory, for the default SQLite database [env: VOUCH_DATA_DIR]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

fn display(path: &std::path::Path) -> config::Value {
    config::Value::from(path.display().to_string())
}

impl ServeArgs {
    fn overrides(&self) -> Overrides {
        let mut o: Overrides = Vec::new();
        if !self.role.is_empty() {
            let roles: Vec<&str> = self
                .role
                .iter()
                .map(|r| match r {
                    Role::All => "all",
                    Role::Trust => "trust",
                    Role::Verification => "verification",
                    Role::Provisioning => "provisioning",
                    Role::Management => "management",
                })
                .collect();
            o.push(("role", config::Value::from(roles)));
        }
        if let Some(v) = &self.data_dir {
            o.push(("data_dir", display(v)));
        }
        for (key, addr) in [
            ("verification_addr", self.verification_addr),
            ("provisioning_addr", self.provisioning_addr),
            ("management_addr", self.management_addr),
            ("trust_addr", self.trust_addr),
        ] {
            if let Some(a) = addr {
                o.push((key, config::Value::from(a.to_string())));
            }
        }
        if let Some(v) = &self.trust_url {
            o.push(("trust_url", config::Value::from(v.clone())));
        }
        if let Some(v) = &self.ear_key {
            o.push(("ear_key", display(v)));
        }
        if let Some(v) = &self.database_url {
            o.push(("database_url", config::Value::from(v.clone())));
        }
        if let Some(v) = &self.sessions {
            o.push(("sessions", config::Value::from(v.clone())));
        }
        if let Some(v) = self.db_max_connections {
            o.push(("db.max_connections", config::Value::from(v)));
        }
        if let Some(v) = self.db_acquire_timeout_ms {
            o.push(("db.acquire_timeout_ms", config::Value::from(v)));
        }
        if let Some(v) = self.drain_delay_ms {
            o.push(("drain_delay_ms", config::Value::from(v)));
        }
        if let Some(v) = &self.log_format {
            o.push(("log_format", config::Value::from(v.clone())));
        }
        if let Some(v) = &self.corim_signer_keys {
            o.push(("corim.signer_keys", display(v)));
        }
        if let Some(v) = &self.corim_signer_roots {
            o.push(("corim.signer_roots", display(v)));
        }
        if self.require_signed_corims {
            o.push(("corim.require_signed", config::Value::from(true)));
        }
        if self.no_metrics {
            o.push(("metrics.enabled", config::Value::from(false)));
        }
        if let Some(e) = &self.otlp_endpoint {
            o.push(("otlp.endpoint", config::Value::from(e.clone())));
        }
        if let Some(a) = self.trust_metrics_addr {
            o.push(("metrics.trust_addr", config::Value::from(a.to_string())));
        }
        if let Some(mode) = self.auth {
            o.push(("auth.mode", config::Value::from(mode.as_str())));
        }
        if let Some(v) = &self.oidc_issuer {
            o.push(("auth.oidc_issuer", config::Value::from(v.clone())));
        }
        if let Some(v) = &self.oidc_audience {
            o.push(("auth.oidc_audience", config::Value::from(v.clone())));
        }
        for (key, path) in [
            ("tls.cert", &self.tls_cert),
            ("tls.key", &self.tls_key),
            ("trust_tls.ca", &self.trust_tls_ca),
            ("trust_tls.cert", &self.trust_tls_cert),
            ("trust_tls.key", &self.trust_tls_key),
        ] {
            if let Some(v) = path {
                o.push((key, display(v)));
            }
        }
        if let Some(v) = &self.trust_tls_server_name {
            o.push(("trust_tls.server_name", config::Value::from(v.clone())));
        }
        o
    }
}

/// What logging and tracing need kept alive until the command ends.
struct Observability {
    /// Flushes queued log lines when dropped.
    _logs: tracing_appender::non_blocking::WorkerGuard,
    /// Trace export, when an OTLP endpoint is set.
    traces: Option<vouch_telemetry::Telemetry>,
}

impl Observability {
    /// Exports the traces still batched (blocking, at most the exporter's
    /// timeout), then flushes the logs.
    fn finish(self) {
        if let Some(traces) = self.traces {
            traces.shutdown();
        }
    }
}

/// Starts logging as `settings` say, and trace export when an OTLP
/// endpoint is set (inside `runtime`, where the exporter's connection
/// lives), then warns of `VOUCH_` variables that name no setting. Lines go
/// to stderr through a writer thread (a write per access log line on the
/// request path cost 11 % of the flow rate).
fn init_tracing(
    settings: &Settings,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Observability> {
    use tracing_subscriber::prelude::*;
    let format = settings.log_format.as_str();
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOUCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Not lossy: when the queue is full, loggers wait rather than drop lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    // Each layer has its own filter: the log filter does not see the spans
    // only the trace export enables, so logs look the same either way.
    let logs = if format == "json" {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(writer)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_filter(filter)
            .boxed()
    };
    let registry = tracing_subscriber::registry().with(logs);
    let mut traces = None;
    let export = match &settings.otlp.endpoint {
        Some(endpoint) => {
            let _runtime = runtime.enter();
            let (telemetry, layer) =
                vouch_telemetry::Telemetry::start(endpoint, &settings.trace_service_name())?;
            traces = Some(telemetry);
            Some(layer)
        }
        None => None,
    };
    registry.with(export).init();
    if let Some(endpoint) = &settings.otlp.endpoint {
        tracing::info!(%endpoint, service = %settings.trace_service_name(), "exporting traces over OTLP");
    }
    if !settings.ignored_variables.is_empty() {
        tracing::warn!(
            variables = %settings.ignored_variables.join(","),
            "ignoring VOUCH_ environment variables that name no setting"
        );
    }
    Ok(Observability {
        _logs: guard,
        traces,
    })
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Command::Serve(args) => {
            let settings = Settings::load(cli.config.as_deref(), args.overrides())?;
            let observability = init_tracing(&settings, &runtime)?;
            let served = runtime.block_on(serve(settings));
            observability.finish();
            served
        }
        Command::Migrate(args) => {
            let mut overrides: Overrides = Vec::new();
            if let Some(v) = &args.database_url {
                overrides.push(("database_url", config::Value::from(v.clone())));
            }
            if let Some(v) = &args.data_dir {
                overrides.push(("data_dir", display(v)));
            }
            let settings = Settings::load(cli.config.as_deref(), overrides)?;
            let _observability = init_tracing(&settings, &runtime)?;
            runtime.block_on(async {
                if settings.database_url.is_none() {
                    std::fs::create_dir_all(&settings.data_dir)?;
                }
                vouch_store::migrate(&settings.store_config())
                    .await
                    .context("migrating the database")?;
                announce(&format!(
                    "migrations applied to {}",
                    redact(&settings.database_url())
                ));
                Ok(())
            })
        }
        Command::Testkit(command) => crate::testkit_cli::run(command),
        Command::Healthcheck(args) => runtime.block_on(healthcheck(&args)),
        Command::Verify(args) => {
            if runtime.block_on(crate::client_cli::verify(*args))? {
                Ok(())
            } else {
                // Verified, and not affirming: not an error, a verdict.
                let _ = std::io::Write::flush(&mut std::io::stdout());
                std::process::exit(3)
            }
        }
        Command::Ear(command) => runtime.block_on(crate::client_cli::ear(command)),
        Command::Corim(command) => crate::corim_cli::run(command, &runtime),
        Command::Evidence(command) => crate::evidence_cli::evidence(command),
        Command::Auth(AuthCommand::HashPassword) => {
            let hash = hash_password_from(std::io::stdin().lock())?;
            print_line(&hash);
            Ok(())
        }
    }
}

/// The argon2 hash of the first line of `input` (without its line end).
fn hash_password_from(input: impl std::io::BufRead) -> anyhow::Result<String> {
    use std::io::BufRead as _;

    let mut line = String::new();
    // A password is short; don't read a runaway stream whole.
    input
        .take(64 * 1024)
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    anyhow::ensure!(
        !password.is_empty(),
        "no password on stdin: printf '%s' \"$PASSWORD\" | vouch auth hash-password"
    );
    Ok(vouch_auth::hash_password(password.as_bytes())?)
}

#[expect(clippy::print_stdout, reason = "the hash is the command's output")]
fn print_line(line: &str) {
    println!("{line}");
}

/// Checks every endpoint of `args`; the error names the first that is not ready.
async fn healthcheck(args: &HealthcheckArgs) -> anyhow::Result<()> {
    use vouch_trust_api::Trust as _;

    if args.url.is_empty() && args.trust_url.is_empty() {
        anyhow::bail!("nothing to check: give --url or --trust-url");
    }
    let timeout = std::time::Duration::from_millis(args.timeout_ms);
    let https = match &args.tls_ca {
        Some(ca) => Some(Https {
            config: vouch_tls::client_config(ca, None, &[b"http/1.1"])?,
            server_name: args.tls_server_name.clone(),
        }),
        None => None,
    };
    let trust_tls = match (
        &args.trust_tls_ca,
        &args.trust_tls_cert,
        &args.trust_tls_key,
    ) {
        // Only trust URLs need the files (which may come from the
        // environment of a process that has them for other reasons).
        _ if args.trust_url.is_empty() => None,
        (Some(ca), Some(cert), Some(key)) => Some(crate::app::trust_client_tls(
            ca,
            cert,
            key,
            args.trust_tls_server_name.clone(),
        )?),
        (None, None, None) => None,
        _ => anyhow::bail!(
            "mutual TLS to trust needs --trust-tls-ca, --trust-tls-cert and --trust-tls-key"
        ),
    };
    for url in &args.url {
        let status = tokio::time::timeout(timeout, http_get_status(url, https.as_ref()))
            .await
            .map_err(|_| anyhow::anyhow!("{url}: no answer within {timeout:?}"))??;
        anyhow::ensure!(status == 200, "{url} answered {status}");
    }
    for url in &args.trust_url {
        let options = vouch_trust_api::GrpcTrustOptions {
            connect_timeout: timeout,
            request_timeout: timeout,
            tls: trust_tls.clone(),
            ..Default::default()
        };
        let trust = vouch_trust_api::GrpcTrust::connect_lazy(std::slice::from_ref(url), &options)?;
        let state = trust
            .service_state()
            .await
            .with_context(|| format!("asking {url} for its state"))?;
        anyhow::ensure!(
            state.status == vouch_trust_api::ServiceStatus::Ready,
            "{url} is {}",
            state.status.as_str()
        );
    }
    Ok(())
}

/// How `vouch healthcheck` verifies https URLs.
struct Https {
    config: std::sync::Arc<vouch_tls::rustls::ClientConfig>,
    server_name: Option<String>,
}

/// The host of `host:port` or `[v6]:port`.
fn host_of(authority: &str) -> &str {
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    }
}

/// The status code of `GET url` (`http://host:port/path`, or `https://…`
/// verified with `https`).
async fn http_get_status(url: &str, https: Option<&Https>) -> anyhow::Result<u16> {
    let (rest, tls) = if let Some(rest) = url.strip_prefix("http://") {
        (rest, None)
    } else if let Some(rest) = url.strip_prefix("https://") {
        let tls = https.with_context(|| format!("{url}: https URLs need --tls-ca"))?;
        (rest, Some(tls))
    } else {
        anyhow::bail!("{url}: only http:// and https:// URLs can be checked");
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("connecting to {authority}"))?;
    match tls {
        None => http_status_over(stream, url, authority, path).await,
        Some(tls) => {
            let name = tls
                .server_name
                .as_deref()
                .unwrap_or_else(|| host_of(authority));
            let stream = vouch_tls::connect(stream, name, tls.config.clone()).await?;
            http_status_over(stream, url, authority, path).await
        }
    }
}

/// Sends `GET path` on `stream` and reads the status code.
async fn http_status_over(
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    url: &str,
    authority: &str,
    path: &str,
) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    // The status line is all we need: "HTTP/1.1 200 OK".
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        let n = stream.read(&mut head[read..]).await?;
        anyhow::ensure!(n > 0, "{url}: connection closed before a status line");
        read += n;
    }
    let line = String::from_utf8_lossy(&head[..read]);
    line.strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("{url}: not an HTTP status line: {line:?}"))
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[expect(
    clippy::print_stdout,
    reason = "operators read where services listen on stdout"
)]
fn announce(line: &str) {
    println!("vouch: {line}");
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let running = crate::app::start(&settings).await?;
    // Before the listeners are announced, so that whoever waits for those
    // lines may send SIGHUP at once.
    let tls = running.tls_configs();
    if !tls.is_empty() {
        reload_tls_on_sighup(tls);
    }
    let rest = if settings.tls.files().is_some() {
        "https"
    } else {
        "http"
    };
    let grpc = if settings.trust_tls.enabled() {
        "https"
    } else {
        "http"
    };
    if let Some(addr) = running.trust {
        announce(&format!("trust (gRPC) listening on {grpc}://{addr}"));
    }
    if let Some(addr) = running.verification {
        announce(&format!("verification listening on {rest}://{addr}"));
    }
    if let Some(addr) = running.provisioning {
        announce(&format!("provisioning listening on {rest}://{addr}"));
    }
    if let Some(addr) = running.management {
        announce(&format!("management listening on {rest}://{addr}"));
    }
    if running.trust.is_some() {
        announce(&format!(
            "endorsement store: {}",
            redact(&settings.database_url())
        ));
    }
    let token = running.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received");
        token.cancel();
    });
    running.wait().await?;
    announce("stopped");
    Ok(())
}

/// Reloads the TLS certificates (and the mutual-TLS CA) on every SIGHUP;
/// a reload that fails logs why and keeps the certificates in use. Only
/// installed when TLS is on, so that SIGHUP otherwise keeps its default.
fn reload_tls_on_sighup(tls: Vec<std::sync::Arc<vouch_tls::ServerTls>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered here, synchronously: from now on SIGHUP is ours.
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; TLS certificates will not be reloaded");
                return;
            }
        };
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading TLS certificates");
                vouch_tls::reload_all(&tls);
            }
        });
    }
    #[cfg(not(unix))]
    drop(tls);
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only SIGINT stops vouch");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact("postgres://vouch:s3cret@db:5432/vouch"),
            "postgres://vouch:***@db:5432/vouch"
        );
        assert_eq!(
            redact("postgres://postgres@db/x"),
            "postgres://postgres@db/x"
        );
        assert_eq!(
            redact("sqlite://./vouch-data/vouch.db"),
            "sqlite://./vouch-data/vouch.db"
        );
    }

    #[test]
    fn the_command_line_parses() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "vouch",
            "serve",
            "--role",
            "trust",
            "--role",
            "verification",
            "--db-max-connections",
            "4",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        let o = args.overrides();
        assert!(o.iter().any(|(k, _)| *k == "role"));
        assert!(o.iter().any(|(k, _)| *k == "db.max_connections"));
        let cli = Cli::try_parse_from([
            "vouch",
            "serve",
            "--role",
            "management",
            "--management-addr",
            "0.0.0.0:10444",
            "--trust-url",
            "trust:50051",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        let s = Settings::load(None, args.overrides()).unwrap();
        assert_eq!(s.role, [Role::Management]);
        assert_eq!(s.management_addr.to_string(), "0.0.0.0:10444");
    }

    #[test]
    fn auth_flags_become_settings() {
        let cli = Cli::try_parse_from([
            "vouch",
            "serve",
            "--auth",
            "oidc",
            "--oidc-issuer",
            "https://kc.example/realms/veraison",
            "--oidc-audience",
            "vouch",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        let s = Settings::load(None, args.overrides()).unwrap();
        assert_eq!(s.auth.mode, AuthMode::Oidc);
        assert_eq!(
            s.auth.oidc_issuer.as_deref(),
            Some("https://kc.example/realms/veraison")
        );
        assert_eq!(s.auth.oidc_audience.as_deref(), Some("vouch"));
        assert!(Cli::try_parse_from(["vouch", "serve", "--auth", "ldap"]).is_err());
    }

    #[test]
    fn tls_flags_become_settings() {
        let cli = Cli::try_parse_from([
            "vouch",
            "serve",
            "--tls-cert",
            "/etc/vouch/tls.crt",
            "--tls-key",
            "/etc/vouch/tls.key",
            "--trust-tls-ca",
            "/etc/vouch/ca.crt",
            "--trust-tls-cert",
            "/etc/vouch/node.crt",
            "--trust-tls-key",
            "/etc/vouch/node.key",
            "--trust-tls-server-name",
            "trust.internal",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        let s = Settings::load(None, args.overrides()).unwrap();
        let files = s.tls.files().unwrap();
        assert_eq!(files.cert, PathBuf::from("/etc/vouch/tls.crt"));
        assert_eq!(files.key, PathBuf::from("/etc/vouch/tls.key"));
        assert_eq!(s.trust_tls.ca, Some(PathBuf::from("/etc/vouch/ca.crt")));
        assert_eq!(s.trust_tls.cert, Some(PathBuf::from("/etc/vouch/node.crt")));
        assert_eq!(s.trust_tls.key, Some(PathBuf::from("/etc/vouch/node.key")));
        assert_eq!(s.trust_tls.server_name.as_deref(), Some("trust.internal"));
        // One without the other stops the start.
        let cli = Cli::try_parse_from(["vouch", "serve", "--tls-cert", "/c"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert!(Settings::load(None, args.overrides()).is_err());
    }

    #[test]
    fn hosts_of_authorities() {
        assert_eq!(host_of("127.0.0.1:8443"), "127.0.0.1");
        assert_eq!(host_of("verification.example:8443"), "verification.example");
        assert_eq!(host_of("[::1]:8443"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }

    #[tokio::test]
    async fn hash_password_reads_the_first_line_and_hashes_it() {
        let hash = hash_password_from(&b"s3cret\r\nignored\n"[..]).unwrap();
        let auth = vouch_auth::Authenticator::basic(vec![vouch_auth::User {
            name: "ops".into(),
            password_hash: hash,
            roles: vec!["provisioner".into()],
        }])
        .unwrap();
        let vouch_auth::Authenticator::Basic(basic) = auth else {
            panic!("basic");
        };
        assert!(basic.authenticate("ops", b"s3cret").await.is_ok());
        assert!(basic.authenticate("ops", b"s3cret\r").await.is_err());
        assert!(hash_password_from(&b"\n"[..]).is_err());
        assert!(hash_password_from(&b""[..]).is_err());
        assert!(
            Cli::try_parse_from(["vouch", "auth", "hash-password"]).is_ok(),
            "the subcommand parses"
        );
    }
}
