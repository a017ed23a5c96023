//! Layered configuration: built-in defaults, then an optional TOML file,
//! then `VOUCH_`-prefixed environment variables, then command-line flags.
//!
//! Nested keys use `__` in environment variables: `VOUCH_DB__MAX_CONNECTIONS=16`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A service this process can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every service, in one process.
    All,
    /// The trust service (gRPC).
    Trust,
    /// The verification front end (REST).
    Verification,
    /// The provisioning front end (REST).
    Provisioning,
    /// The policy management front end (REST).
    Management,
}

/// Database pool settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbSettings {
    /// Connections in this process's one pool. Size pools so that the sum
    /// over all processes stays under the server's `max_connections`.
    pub max_connections: u32,
    /// Connections kept open when idle.
    pub min_connections: u32,
    /// How long a request waits for a free connection before it is answered
    /// 503 with `Retry-After`.
    pub acquire_timeout_ms: u64,
    /// PostgreSQL `statement_timeout`, 0 for none.
    pub statement_timeout_ms: u64,
}

impl Default for DbSettings {
    fn default() -> Self {
        DbSettings {
            max_connections: 8,
            min_connections: 0,
            acquire_timeout_ms: 2_000,
            statement_timeout_ms: 5_000,
        }
    }
}

fn limits(
    max_concurrency: usize,
    request_timeout_ms: u64,
    max_body_bytes: usize,
    queue_when_busy: bool,
) -> vouch_http::limits::Limits {
    vouch_http::limits::Limits {
        max_concurrency,
        request_timeout: Duration::from_millis(request_timeout_ms),
        max_body_bytes,
        queue_when_busy,
    }
}

/// Verification front end settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationSettings {
    /// Session lifetime in seconds.
    pub session_ttl_secs: u64,
    /// Requests in progress at once; more get 503.
    pub max_concurrency: usize,
    /// Longest a request may take; longer ones get 503.
    pub request_timeout_ms: u64,
    /// Largest evidence body; larger ones get 413.
    pub max_body_bytes: usize,
}

impl Default for VerificationSettings {
    fn default() -> Self {
        VerificationSettings {
            session_ttl_secs: 150,
            max_concurrency: 2048,
            request_timeout_ms: 10_000,
            max_body_bytes: 256 * 1024,
        }
    }
}

impl VerificationSettings {
    /// As the HTTP layer wants them.
    pub fn limits(&self) -> vouch_http::limits::Limits {
        limits(
            self.max_concurrency,
            self.request_timeout_ms,
            self.max_body_bytes,
            false,
        )
    }
}

/// Provisioning front end settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProvisioningSettings {
    /// Requests in progress at once; more wait for a slot (bounded by the
    /// timeout, holding no body in memory meanwhile).
    pub max_concurrency: usize,
    /// Longest a request may take; longer ones get 503.
    pub request_timeout_ms: u64,
    /// Largest CoRIM body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Wait for a slot past `max_concurrency` instead of answering 503 at
    /// once: submissions are throughput work, and a supply-chain burst
    /// should be absorbed rather than refused.
    pub queue_when_busy: bool,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        ProvisioningSettings {
            max_concurrency: 64,
            request_timeout_ms: 60_000,
            max_body_bytes: 32 * 1024 * 1024,
            queue_when_busy: true,
        }
    }
}

impl ProvisioningSettings {
    /// As the HTTP layer wants them.
    pub fn limits(&self) -> vouch_http::limits::Limits {
        limits(
            self.max_concurrency,
            self.request_timeout_ms,
            self.max_body_bytes,
            self.queue_when_busy,
        )
    }
}

/// Management front end settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManagementSettings {
    /// Requests in progress at once; more wait for a slot (bounded by the
    /// timeout).
    pub max_concurrency: usize,
    /// Longest a request may take; longer ones get 503.
    pub request_timeout_ms: u64,
    /// Largest policy body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Wait for a slot past `max_concurrency` instead of answering 503 at
    /// once: operators' requests are rare, and a burst is better queued.
    pub queue_when_busy: bool,
}

impl Default for ManagementSettings {
    fn default() -> Self {
        ManagementSettings {
            max_concurrency: 64,
            request_timeout_ms: 30_000,
            max_body_bytes: 1024 * 1024,
            queue_when_busy: true,
        }
    }
}

impl ManagementSettings {
    /// As the HTTP layer wants them.
    pub fn limits(&self) -> vouch_http::limits::Limits {
        limits(
            self.max_concurrency,
            self.request_timeout_ms,
            self.max_body_bytes,
            self.queue_when_busy,
        )
    }
}

/// Trust service settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustSettings {
    /// Appraisals in progress at once; more are refused as unavailable.
    pub max_concurrent_appraisals: usize,
    /// Trust anchors cached per scheme.
    pub cache_trust_anchors: u64,
    /// Reference-value sets cached per scheme.
    pub cache_reference_values: u64,
    /// How often verdicts are written to the fleet status, in ms.
    pub fleet_flush_ms: u64,
}

impl Default for TrustSettings {
    fn default() -> Self {
        TrustSettings {
            max_concurrent_appraisals: 4096,
            cache_trust_anchors: 2_000_000,
            cache_reference_values: 100_000,
            fleet_flush_ms: 1_000,
        }
    }
}

/// Who may sign CoRIMs (`application/rim+cose`), and whether unsigned
/// CoRIMs are accepted. Read by the trust role, which opens every CoRIM.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorimSettings {
    /// PEM file of `PUBLIC KEY` blocks, or a JWK / JWK Set file: keys that
    /// may sign CoRIMs directly.
    pub signer_keys: Option<PathBuf>,
    /// PEM file of CA certificates: a signed CoRIM's `x5chain` must chain
    /// to one of the self-signed ones (the others serve as intermediates).
    pub signer_roots: Option<PathBuf>,
    /// Refuse unsigned CoRIMs (recommended in production).
    pub require_signed: bool,
}

/// TLS on the REST listeners (`[tls]`). Without a certificate and key they
/// speak plain HTTP.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM private key: PKCS#8, SEC1 or PKCS#1.
    pub key: Option<PathBuf>,
}

/// OpenTelemetry trace export.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpSettings {
    /// Where to export traces over OTLP/gRPC (`http://collector:4317`);
    /// off unless set. `OTEL_EXPORTER_OTLP_ENDPOINT` is read when this is
    /// not set.
    pub endpoint: Option<String>,
    /// The traces' `service.name`; `OTEL_SERVICE_NAME` when set, else
    /// `vouch` followed by the roles (`vouch-trust`, `vouch-verification`).
    pub service_name: Option<String>,
}

/// Prometheus metrics.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Record metrics and serve `GET /metrics` on every REST listener.
    pub enabled: bool,
    /// Where trust serves `GET /metrics` over plain HTTP: trust speaks only
    /// gRPC, so a process running trust without a REST role (the split
    /// topology) needs this to be scraped. Off unless set.
    pub trust_addr: Option<SocketAddr>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            trust_addr: None,
        }
    }
}

impl TlsSettings {
    /// The files, when TLS is on.
    pub fn files(&self) -> Option<vouch_tls::ServerTlsFiles> {
        Some(vouch_tls::ServerTlsFiles {
            cert: self.cert.clone()?,
            key: self.key.clone()?,
            client_ca: None,
        })
    }
}

/// Mutual TLS between the front ends and trust over gRPC (`[trust_tls]`).
/// The trust service presents `cert` and requires a client certificate
/// chaining to `ca`; front ends verify trust against `ca` and present
/// `cert`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustTlsSettings {
    /// PEM CA certificate(s) both sides' certificates chain to.
    pub ca: Option<PathBuf>,
    /// This process's PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// Its PEM private key: PKCS#8, SEC1 or PKCS#1.
    pub key: Option<PathBuf>,
    /// The name front ends verify trust's certificate against, instead of
    /// the host of each trust URL (e.g. when the URLs are pod addresses).
    pub server_name: Option<String>,
}

impl TrustTlsSettings {
    /// Whether mutual TLS is on (validation ensures all three files then).
    pub fn enabled(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some()
    }
}

/// How callers of a guarded API (provisioning, management) authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// No authentication. For loopback only: never expose provisioning so.
    #[default]
    None,
    /// HTTP basic authentication against the argon2 hashes of `auth.users`.
    Basic,
    /// OIDC bearer tokens (Keycloak): roles from `realm_access.roles`.
    Oidc,
}

impl AuthMode {
    /// As the flag and the file spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Basic => "basic",
            AuthMode::Oidc => "oidc",
        }
    }
}

/// A basic-auth user.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthUser {
    /// The user name.
    pub name: String,
    /// An argon2 PHC string, from `vouch auth hash-password`.
    pub password_hash: String,
    /// `provisioner` and/or `manager`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Overrides of `[auth]` for one API (`[auth.provisioning]`,
/// `[auth.management]`); what is not set comes from `[auth]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthOverride {
    /// The mode for this API.
    pub mode: Option<AuthMode>,
    /// The OIDC issuer for this API.
    pub oidc_issuer: Option<String>,
    /// The OIDC audience for this API.
    pub oidc_audience: Option<String>,
}

/// Authentication of the provisioning and management APIs. Verification,
/// the `.well-known` documents and health are always open.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// `none` (default), `basic` or `oidc`.
    pub mode: AuthMode,
    /// OIDC issuer URL, exactly as tokens carry it in `iss` (Keycloak:
    /// `https://host/realms/veraison`); its keys are found through
    /// `{issuer}/.well-known/openid-configuration`.
    pub oidc_issuer: Option<String>,
    /// A value the tokens' `aud` must contain.
    pub oidc_audience: Option<String>,
    /// Users for `basic`.
    pub users: Vec<AuthUser>,
    /// Overrides for the provisioning API.
    pub provisioning: AuthOverride,
    /// Overrides for the management API.
    pub management: AuthOverride,
}

/// An API that `[auth]` guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardedApi {
    /// `/endorsement-provisioning/v1/*` (role `provisioner`).
    Provisioning,
    /// `/management/v1/*` (role `manager`).
    Management,
}

impl GuardedApi {
    fn name(self) -> &'static str {
        match self {
            GuardedApi::Provisioning => "provisioning",
            GuardedApi::Management => "management",
        }
    }
}

/// `[auth]` with one API's overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveAuth {
    /// The mode.
    pub mode: AuthMode,
    /// The OIDC issuer.
    pub oidc_issuer: Option<String>,
    /// The OIDC audience.
    pub oidc_audience: Option<String>,
}

impl AuthSettings {
    /// The settings that apply to `api`.
    pub fn effective(&self, api: GuardedApi) -> EffectiveAuth {
        let o = match api {
            GuardedApi::Provisioning => &self.provisioning,
            GuardedApi::Management => &self.management,
        };
        EffectiveAuth {
            mode: o.mode.unwrap_or(self.mode),
            oidc_issuer: o.oidc_issuer.clone().or_else(|| self.oidc_issuer.clone()),
            oidc_audience: o
                .oidc_audience
                .clone()
                .or_else(|| self.oidc_audience.clone()),
        }
    }

    /// The authenticator for `api`: checks the users' hashes and roles, or
    /// the issuer URL. Fetches nothing.
    pub fn authenticator(
        &self,
        api: GuardedApi,
    ) -> Result<vouch_auth::Authenticator, SettingsError> {
        let effective = self.effective(api);
        let invalid = |e: vouch_auth::AuthError| {
            SettingsError::Invalid(format!("auth for {}: {e}", api.name()))
        };
        match effective.mode {
            AuthMode::None => Ok(vouch_auth::Authenticator::None),
            AuthMode::Basic => vouch_auth::Authenticator::basic(
                self.users
                    .iter()
                    .map(|u| vouch_auth::User {
                        name: u.name.clone(),
                        password_hash: u.password_hash.clone(),
                        roles: u.roles.clone(),
                    })
                    .collect(),
            )
            .map_err(invalid),
            AuthMode::Oidc => {
                let (Some(issuer), Some(audience)) =
                    (effective.oidc_issuer, effective.oidc_audience)
                else {
                    return Err(SettingsError::Invalid(format!(
                        "auth for {}: oidc needs --oidc-issuer and --oidc-audience",
                        api.name()
                    )));
                };
                vouch_auth::Authenticator::oidc(vouch_auth::OidcConfig::new(issuer, audience))
                    .map_err(invalid)
            }
        }
    }
}

/// Everything `vouch serve` can be told.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Services to run.
    pub role: Vec<Role>,
    /// Where the embedded database and the generated EAR key live.
    pub data_dir: PathBuf,
    /// Verification REST listen address.
    pub verification_addr: SocketAddr,
    /// Provisioning REST listen address.
    pub provisioning_addr: SocketAddr,
    /// Management REST listen address.
    pub management_addr: SocketAddr,
    /// Trust gRPC listen address.
    pub trust_addr: SocketAddr,
    /// Trust URLs the front ends call when trust runs elsewhere
    /// (comma-separated; requests are balanced across them).
    pub trust_url: Option<String>,
    /// EAR signing key file (JWK or PKCS#8 PEM). Without one, a key is
    /// generated on first start and kept in the data directory.
    pub ear_key: Option<PathBuf>,
    /// `sqlite:…`, `postgres://…` or `memory:`. Defaults to SQLite in the
    /// data directory.
    pub database_url: Option<String>,
    /// Session store: `memory` or `memcached://host:port[,host:port…]`.
    pub sessions: String,
    /// Database pool.
    pub db: DbSettings,
    /// Verification front end.
    pub verification: VerificationSettings,
    /// Provisioning front end.
    pub provisioning: ProvisioningSettings,
    /// Management front end.
    pub management: ManagementSettings,
    /// Trust service.
    pub trust: TrustSettings,
    /// CoRIM signers.
    pub corim: CorimSettings,
    /// Authentication of provisioning and management.
    pub auth: AuthSettings,
    /// TLS on the REST listeners.
    pub tls: TlsSettings,
    /// Mutual TLS between the front ends and trust.
    pub trust_tls: TrustTlsSettings,
    /// Prometheus metrics.
    pub metrics: MetricsSettings,
    /// OpenTelemetry trace export.
    pub otlp: OtlpSettings,
    /// On SIGTERM, how long to keep serving while reporting not-ready, so
    /// load balancers stop sending new work first.
    pub drain_delay_ms: u64,
    /// After that, how long in-flight requests get to finish.
    pub drain_timeout_ms: u64,
    /// Log output: `text` or `json`.
    pub log_format: String,
    /// `VOUCH_` environment variables that name no setting (logged at
    /// start, since a typo such as `VOUCH_DB_MAX_CONNECTIONS` lands here).
    #[serde(skip)]
    pub ignored_variables: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            role: vec![Role::All],
            data_dir: PathBuf::from("./vouch-data"),
            verification_addr: SocketAddr::from(([127, 0, 0, 1], 8443)),
            provisioning_addr: SocketAddr::from(([127, 0, 0, 1], 9443)),
            management_addr: SocketAddr::from(([127, 0, 0, 1], 10443)),
            trust_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            trust_url: None,
            ear_key: None,
            database_url: None,
            sessions: "memory".to_owned(),
            db: DbSettings::default(),
            verification: VerificationSettings::default(),
            provisioning: ProvisioningSettings::default(),
            management: ManagementSettings::default(),
            trust: TrustSettings::default(),
            corim: CorimSettings::default(),
            auth: AuthSettings::default(),
            tls: TlsSettings::default(),
            trust_tls: TrustTlsSettings::default(),
            metrics: MetricsSettings::default(),
            otlp: OtlpSettings::default(),
            drain_delay_ms: 0,
            drain_timeout_ms: 20_000,
            log_format: "text".to_owned(),
            ignored_variables: Vec::new(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file, environment or flags do not parse.
    #[error("reading configuration failed: {0}")]
    Load(#[from] config::ConfigError),
    /// The values contradict each other.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Command-line values that override the file and environment.
pub type Overrides = Vec<(&'static str, config::Value)>;

/// `VOUCH_` variables read elsewhere: the log filter (by the tracing
/// subscriber) and the configuration file (by the CLI).
const READ_ELSEWHERE: &[&str] = &["VOUCH_LOG", "VOUCH_CONFIG"];

/// The top-level settings, as they are spelled after `VOUCH_` (upper
/// case) in the environment. Kept equal to the fields of [`Settings`] by a
/// test.
const SETTING_NAMES: &[&str] = &[
    "role",
    "data_dir",
    "verification_addr",
    "provisioning_addr",
    "management_addr",
    "trust_addr",
    "trust_url",
    "ear_key",
    "database_url",
    "sessions",
    "db",
    "verification",
    "provisioning",
    "management",
    "trust",
    "corim",
    "auth",
    "tls",
    "trust_tls",
    "metrics",
    "otlp",
    "drain_delay_ms",
    "drain_timeout_ms",
    "log_format",
];

/// Splits `VOUCH_` variables into settings and the rest. Only variables
/// whose first segment names a setting are read: other `VOUCH_` variables
/// are common and harmless (the log filter, the config path, the test
/// vectors, and Kubernetes' service links such as `VOUCH_SERVICE_HOST`
/// for a Service named `vouch`), so refusing them would stop a pod from
/// starting. The rest are returned so that near misses can be logged.
fn split_variables(
    vars: impl Iterator<Item = (String, String)>,
) -> (config::Map<String, String>, Vec<String>) {
    let mut settings = config::Map::new();
    let mut ignored = Vec::new();
    for (key, value) in vars {
        let Some(name) = key.strip_prefix("VOUCH_") else {
            continue;
        };
        let top = name.split("__").next().unwrap_or_default();
        if SETTING_NAMES.contains(&top.to_ascii_lowercase().as_str()) {
            settings.insert(key, value);
        } else if !READ_ELSEWHERE.contains(&key.as_str()) {
            ignored.push(key);
        }
    }
    ignored.sort();
    (settings, ignored)
}

impl Settings {
    /// Loads defaults ← `file` ← `VOUCH_*` environment ← `overrides`.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Self, SettingsError> {
        Self::load_from(file, std::env::vars(), overrides)
    }

    /// [`Settings::load`] with the environment given.
    fn load_from(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
        overrides: Overrides,
    ) -> Result<Self, SettingsError> {
        let env: Vec<(String, String)> = env.collect();
        // OpenTelemetry's own variables, as every OTel SDK reads them.
        let env_otel: Vec<(String, String)> = env
            .iter()
            .filter(|(k, _)| k == "OTEL_EXPORTER_OTLP_ENDPOINT" || k == "OTEL_SERVICE_NAME")
            .cloned()
            .collect();
        let (variables, ignored) = split_variables(env.into_iter());
        let mut builder = config::Config::builder();
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("VOUCH")
                .prefix_separator("_")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("role")
                .source(Some(variables)),
        );
        for (key, value) in overrides {
            builder = builder.set_override(key, value)?;
        }
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.apply_otel_variables(env_otel);
        settings.validate()?;
        settings.ignored_variables = ignored;
        Ok(settings)
    }

    /// Fills the OTLP settings left unset from OpenTelemetry's standard
    /// variables.
    fn apply_otel_variables(&mut self, env: Vec<(String, String)>) {
        for (key, value) in env {
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "OTEL_EXPORTER_OTLP_ENDPOINT" if self.otlp.endpoint.is_none() => {
                    self.otlp.endpoint = Some(value);
                }
                "OTEL_SERVICE_NAME" if self.otlp.service_name.is_none() => {
                    self.otlp.service_name = Some(value);
                }
                _ => {}
            }
        }
    }

    /// The traces' `service.name`: as set, else `vouch` and the roles.
    pub fn trace_service_name(&self) -> String {
        if let Some(name) = &self.otlp.service_name {
            return name.clone();
        }
        if self.runs(Role::All) {
            return "vouch".to_owned();
        }
        let mut name = "vouch".to_owned();
        for role in &self.role {
            // The role as `--role` spells it.
            if let Some(value) = clap::ValueEnum::to_possible_value(role) {
                name.push('-');
                name.push_str(value.get_name());
            }
        }
        name
    }

    fn validate(&self) -> Result<(), SettingsError> {
        if let Some(endpoint) = &self.otlp.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(SettingsError::Invalid(format!(
                "otlp.endpoint must be an http:// or https:// URL (OTLP/gRPC, e.g. \
                 http://collector:4317), not `{endpoint}`"
            )));
        }
        if self.role.is_empty() {
            return Err(SettingsError::Invalid("no role to run".into()));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(SettingsError::Invalid(format!(
                "log_format must be `text` or `json`, not `{}`",
                self.log_format
            )));
        }
        if self.db.max_connections == 0 {
            return Err(SettingsError::Invalid(
                "db.max_connections must be at least 1".into(),
            ));
        }
        if self.runs(Role::Provisioning) {
            // A bad hash, an unknown role or a missing issuer stops the
            // start, rather than every request later.
            self.auth.authenticator(GuardedApi::Provisioning)?;
        }
        if self.runs(Role::Management) {
            self.auth.authenticator(GuardedApi::Management)?;
        }
        let runs_trust = self.runs(Role::Trust);
        let runs_front = self.runs(Role::Verification)
            || self.runs(Role::Provisioning)
            || self.runs(Role::Management);
        if runs_front && !runs_trust && self.trust_url.is_none() {
            return Err(SettingsError::Invalid(
                "front ends without a local trust service need --trust-url".into(),
            ));
        }
        self.validate_tls(runs_front && !runs_trust)
    }

    /// TLS files come in pairs (and for mutual TLS, with the CA), and the
    /// trust URLs' scheme must match whether mutual TLS is on.
    fn validate_tls(&self, calls_trust: bool) -> Result<(), SettingsError> {
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(SettingsError::Invalid(
                "TLS needs both a certificate and its key (--tls-cert and --tls-key)".into(),
            ));
        }
        let t = &self.trust_tls;
        if t.enabled() && (t.ca.is_none() || t.cert.is_none() || t.key.is_none()) {
            return Err(SettingsError::Invalid(
                "mutual TLS to trust needs a CA, a certificate and its key \
                 (--trust-tls-ca, --trust-tls-cert and --trust-tls-key)"
                    .into(),
            ));
        }
        if calls_trust {
            for url in self.trust_urls() {
                if t.enabled() && !url.starts_with("https://") {
                    return Err(SettingsError::Invalid(format!(
                        "trust URL {url} is not https while mutual TLS to trust is configured"
                    )));
                }
                if !t.enabled() && url.starts_with("https://") {
                    return Err(SettingsError::Invalid(format!(
                        "trust URL {url} is https: give --trust-tls-ca, --trust-tls-cert \
                         and --trust-tls-key"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Warnings for listeners that expose a guarded API without
    /// authentication anywhere but loopback.
    pub fn auth_warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.runs(Role::Provisioning)
            && !self.provisioning_addr.ip().is_loopback()
            && self.auth.effective(GuardedApi::Provisioning).mode == AuthMode::None
        {
            warnings.push(format!(
                "provisioning listens on {} with auth `none`: anyone who can reach it can \
                 provision trust anchors and reference values. Set `--auth basic|oidc`, \
                 or listen on loopback only",
                self.provisioning_addr
            ));
        }
        if self.runs(Role::Management)
            && !self.management_addr.ip().is_loopback()
            && self.auth.effective(GuardedApi::Management).mode == AuthMode::None
        {
            warnings.push(format!(
                "management listens on {} with auth `none`: anyone who can reach it can \
                 replace the appraisal policies. Set `--auth basic|oidc`, or listen on \
                 loopback only",
                self.management_addr
            ));
        }
        warnings
    }

    /// Whether this process runs `role`.
    pub fn runs(&self, role: Role) -> bool {
        self.role.contains(&Role::All) || self.role.contains(&role)
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("vouch.db").display()
            )
        })
    }

    /// Trust URLs for the front ends; those without a scheme get `https://`
    /// with mutual TLS on, `http://` otherwise.
    pub fn trust_urls(&self) -> Vec<String> {
        let scheme = if self.trust_tls.enabled() {
            "https"
        } else {
            "http"
        };
        self.trust_url
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.contains("://") {
                    s.to_owned()
                } else {
                    format!("{scheme}://{s}")
                }
            })
            .collect()
    }

    /// Store settings for this process's one pool.
    pub fn store_config(&self) -> vouch_store::StoreConfig {
        let mut config = vouch_store::StoreConfig::new(self.database_url());
        config.max_connections = self.db.max_connections;
        config.min_connections = self.db.min_connections.min(self.db.max_connections);
        config.acquire_timeout = Duration::from_millis(self.db.acquire_timeout_ms);
        config.statement_timeout = (self.db.statement_timeout_ms > 0)
            .then(|| Duration::from_millis(self.db.statement_timeout_ms));
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_everything_on_loopback_with_sqlite() {
        let s = Settings::load_from(None, std::iter::empty(), Vec::new()).unwrap();
        assert!(s.runs(Role::Trust) && s.runs(Role::Verification) && s.runs(Role::Provisioning));
        assert!(s.verification_addr.ip().is_loopback());
        assert!(s.database_url().starts_with("sqlite://"));
        assert_eq!(s.db.max_connections, 8);
    }

    #[test]
    fn file_then_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vouch.toml");
        std::fs::write(
            &path,
            "role = [\"trust\"]\nsessions = \"memory\"\n[db]\nmax_connections = 3\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&path),
            std::iter::empty(),
            vec![("db.max_connections", config::Value::from(5_u32))],
        )
        .unwrap();
        assert_eq!(s.role, vec![Role::Trust]);
        assert_eq!(s.db.max_connections, 5);
    }

    #[test]
    fn front_ends_alone_need_a_trust_url() {
        let err = Settings::load_from(
            None,
            std::iter::empty(),
            vec![("role", config::Value::from(vec!["verification"]))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("--trust-url"), "{err}");
        let s = Settings::load_from(
            None,
            std::iter::empty(),
            vec![
                ("role", config::Value::from(vec!["verification"])),
                ("trust_url", config::Value::from("127.0.0.1:1,http://h:2")),
            ],
        )
        .unwrap();
        assert_eq!(s.trust_urls(), ["http://127.0.0.1:1", "http://h:2"]);
    }

    fn env(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn trace_export_reads_opentelemetrys_variables_after_vouchs_own() {
        let s = Settings::load_from(None, std::iter::empty(), Vec::new()).unwrap();
        assert_eq!(s.otlp.endpoint, None);
        assert_eq!(s.trace_service_name(), "vouch");

        let s = Settings::load_from(
            None,
            env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4317"),
                ("OTEL_SERVICE_NAME", "edge-verifier"),
            ]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(s.otlp.endpoint.as_deref(), Some("http://otel:4317"));
        assert_eq!(s.trace_service_name(), "edge-verifier");
        assert!(s.ignored_variables.is_empty());

        let s = Settings::load_from(
            None,
            env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4317"),
                ("VOUCH_OTLP__ENDPOINT", "http://vouch-otel:4317"),
                ("VOUCH_ROLE", "trust"),
            ]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(s.otlp.endpoint.as_deref(), Some("http://vouch-otel:4317"));
        assert_eq!(s.trace_service_name(), "vouch-trust");

        let err = Settings::load_from(
            None,
            env(&[("VOUCH_OTLP__ENDPOINT", "otel:4317")]),
            Vec::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("otlp.endpoint"), "{err}");
    }

    #[test]
    fn setting_names_are_the_fields_of_settings() {
        let value = serde_json::to_value(Settings::default()).unwrap();
        let mut fields: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names = SETTING_NAMES.to_vec();
        fields.sort_unstable();
        names.sort_unstable();
        assert_eq!(fields, names);
    }

    #[test]
    fn the_environment_sets_known_settings_and_other_vouch_variables_are_ignored() {
        let s = Settings::load_from(
            None,
            env(&[
                ("VOUCH_DB__MAX_CONNECTIONS", "3"),
                ("VOUCH_SESSIONS", "memcached://m:11211"),
                ("VOUCH_LOG", "debug"),
                ("VOUCH_CONFIG", "/etc/vouch.toml"),
                ("VOUCH_VECTORS", "/vectors"),
                ("VOUCH_SERVICE_HOST", "10.0.0.1"),
                ("VOUCH_PORT_8443_TCP", "tcp://10.0.0.1:8443"),
                ("VOUCH_DB_MAX_CONNECTIONS", "99"),
                ("PATH", "/bin"),
            ]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(s.db.max_connections, 3);
        assert_eq!(s.sessions, "memcached://m:11211");
        assert_eq!(
            s.ignored_variables,
            [
                "VOUCH_DB_MAX_CONNECTIONS",
                "VOUCH_PORT_8443_TCP",
                "VOUCH_SERVICE_HOST",
                "VOUCH_VECTORS",
            ]
        );
    }

    #[test]
    fn a_known_setting_with_an_unknown_nested_key_is_refused() {
        let err = Settings::load_from(None, env(&[("VOUCH_DB__MAX_CONECTIONS", "3")]), Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("max_conections"), "{err}");
    }

    #[test]
    fn auth_is_none_by_default_and_warns_only_off_loopback() {
        let s = Settings::load_from(None, std::iter::empty(), Vec::new()).unwrap();
        assert_eq!(s.auth.mode, AuthMode::None);
        assert!(s.auth_warnings().is_empty());
        let exposed = Settings::load_from(
            None,
            std::iter::empty(),
            vec![("provisioning_addr", config::Value::from("0.0.0.0:9443"))],
        )
        .unwrap();
        let warnings = exposed.auth_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("0.0.0.0:9443"), "{}", warnings[0]);
        // A process without provisioning has nothing to warn about.
        let trust_only = Settings::load_from(
            None,
            std::iter::empty(),
            vec![
                ("provisioning_addr", config::Value::from("0.0.0.0:9443")),
                ("role", config::Value::from(vec!["trust"])),
            ],
        )
        .unwrap();
        assert!(trust_only.auth_warnings().is_empty());
    }

    #[test]
    fn management_runs_by_default_on_10443_and_warns_off_loopback_without_auth() {
        let s = Settings::load_from(None, std::iter::empty(), Vec::new()).unwrap();
        assert!(s.runs(Role::Management));
        assert_eq!(s.management_addr, SocketAddr::from(([127, 0, 0, 1], 10443)));
        assert_eq!(s.management.limits().max_body_bytes, 1024 * 1024);
        let exposed = Settings::load_from(
            None,
            env(&[("VOUCH_MANAGEMENT__MAX_BODY_BYTES", "4096")]),
            vec![("management_addr", config::Value::from("0.0.0.0:10443"))],
        )
        .unwrap();
        assert_eq!(exposed.management.max_body_bytes, 4096);
        let warnings = exposed.auth_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("management listens on 0.0.0.0:10443"),
            "{}",
            warnings[0]
        );
        // Management alone is a front end: it needs a trust URL, and its
        // own auth is checked at start.
        let alone = |extra: &[(&str, &str)]| {
            let mut vars = vec![("VOUCH_ROLE", "management")];
            vars.extend_from_slice(extra);
            Settings::load_from(None, env(&vars), Vec::new())
        };
        let err = alone(&[]).unwrap_err();
        assert!(err.to_string().contains("--trust-url"), "{err}");
        let err = alone(&[
            ("VOUCH_TRUST_URL", "trust:50051"),
            ("VOUCH_AUTH__MANAGEMENT__MODE", "oidc"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("auth for management"), "{err}");
        let s = alone(&[("VOUCH_TRUST_URL", "trust:50051")]).unwrap();
        assert!(s.runs(Role::Management) && !s.runs(Role::Provisioning));
        // Guarded by basic auth, an exposed listener is no warning.
        let guarded = Settings::load_from(
            None,
            std::iter::empty(),
            vec![
                ("management_addr", config::Value::from("0.0.0.0:10443")),
                ("auth.management.mode", config::Value::from("oidc")),
                (
                    "auth.oidc_issuer",
                    config::Value::from("https://kc.example/realms/v"),
                ),
                ("auth.oidc_audience", config::Value::from("vouch")),
            ],
        )
        .unwrap();
        assert!(guarded.auth_warnings().is_empty());
    }

    #[test]
    fn auth_from_a_file_with_per_api_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vouch.toml");
        let hash = vouch_auth::hash_password(b"pw").unwrap();
        std::fs::write(
            &path,
            format!(
                "provisioning_addr = \"0.0.0.0:9443\"\n\
                 [auth]\nmode = \"oidc\"\noidc_issuer = \"https://kc.example/realms/veraison\"\n\
                 oidc_audience = \"vouch\"\n\
                 [[auth.users]]\nname = \"ops\"\npassword_hash = \"{hash}\"\nroles = [\"manager\"]\n\
                 [auth.management]\nmode = \"basic\"\n"
            ),
        )
        .unwrap();
        let s = Settings::load_from(Some(&path), std::iter::empty(), Vec::new()).unwrap();
        assert!(s.auth_warnings().is_empty());
        assert_eq!(
            s.auth.effective(GuardedApi::Provisioning),
            EffectiveAuth {
                mode: AuthMode::Oidc,
                oidc_issuer: Some("https://kc.example/realms/veraison".into()),
                oidc_audience: Some("vouch".into()),
            }
        );
        assert_eq!(
            s.auth.effective(GuardedApi::Management).mode,
            AuthMode::Basic
        );
        assert_eq!(
            s.auth
                .authenticator(GuardedApi::Provisioning)
                .unwrap()
                .mode(),
            "oidc"
        );
        assert_eq!(
            s.auth.authenticator(GuardedApi::Management).unwrap().mode(),
            "basic"
        );
        // Flags override the file's mode; the environment reaches nested keys.
        let s = Settings::load_from(
            Some(&path),
            env(&[("VOUCH_AUTH__PROVISIONING__OIDC_AUDIENCE", "vouch-prov")]),
            vec![("auth.mode", config::Value::from("none"))],
        )
        .unwrap();
        assert_eq!(s.auth.mode, AuthMode::None);
        assert_eq!(
            s.auth.provisioning.oidc_audience.as_deref(),
            Some("vouch-prov")
        );
    }

    #[test]
    fn unusable_auth_stops_the_start() {
        let err = Settings::load_from(
            None,
            std::iter::empty(),
            vec![("auth.mode", config::Value::from("oidc"))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("--oidc-issuer"), "{err}");
        let err = Settings::load_from(
            None,
            std::iter::empty(),
            vec![("auth.mode", config::Value::from("basic"))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("at least one user"), "{err}");
        let err = Settings::load_from(
            None,
            std::iter::empty(),
            vec![
                ("auth.mode", config::Value::from("oidc")),
                ("auth.oidc_issuer", config::Value::from("keycloak:8080")),
                ("auth.oidc_audience", config::Value::from("vouch")),
            ],
        )
        .unwrap_err();
        assert!(err.to_string().contains("not an http(s) URL"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vouch.toml");
        std::fs::write(
            &path,
            "[auth]\nmode = \"basic\"\n[[auth.users]]\nname = \"a\"\npassword_hash = \"plain\"\n",
        )
        .unwrap();
        let err = Settings::load_from(Some(&path), std::iter::empty(), Vec::new()).unwrap_err();
        assert!(err.to_string().contains("argon2"), "{err}");
        std::fs::write(&path, "[auth]\nmode = \"kerberos\"\n").unwrap();
        assert!(Settings::load_from(Some(&path), std::iter::empty(), Vec::new()).is_err());
    }

    #[test]
    fn tls_files_come_in_pairs_and_trust_urls_follow_mutual_tls() {
        let s = Settings::load_from(
            None,
            env(&[
                ("VOUCH_TLS__CERT", "/etc/vouch/tls.crt"),
                ("VOUCH_TLS__KEY", "/etc/vouch/tls.key"),
            ]),
            Vec::new(),
        )
        .unwrap();
        let files = s.tls.files().unwrap();
        assert_eq!(files.cert, Path::new("/etc/vouch/tls.crt"));
        assert!(files.client_ca.is_none());
        assert!(Settings::default().tls.files().is_none());
        let err =
            Settings::load_from(None, env(&[("VOUCH_TLS__CERT", "/c")]), Vec::new()).unwrap_err();
        assert!(err.to_string().contains("--tls-key"), "{err}");
        let err = Settings::load_from(None, std::iter::empty(), vec![("tls.key", "/k".into())])
            .unwrap_err();
        assert!(err.to_string().contains("--tls-cert"), "{err}");

        // Mutual TLS to trust: all three files, and https trust URLs.
        let front = |extra: &[(&str, &str)]| {
            let mut vars = vec![
                ("VOUCH_ROLE", "verification"),
                ("VOUCH_TRUST_URL", "trust-0:50051,https://trust-1:50051"),
            ];
            vars.extend_from_slice(extra);
            Settings::load_from(None, env(&vars), Vec::new())
        };
        let s = front(&[
            ("VOUCH_TRUST_TLS__CA", "/ca.pem"),
            ("VOUCH_TRUST_TLS__CERT", "/front.pem"),
            ("VOUCH_TRUST_TLS__KEY", "/front.key"),
            ("VOUCH_TRUST_TLS__SERVER_NAME", "trust.internal"),
        ])
        .unwrap();
        assert!(s.trust_tls.enabled());
        assert_eq!(s.trust_tls.server_name.as_deref(), Some("trust.internal"));
        assert_eq!(
            s.trust_urls(),
            ["https://trust-0:50051", "https://trust-1:50051"]
        );
        let err = front(&[("VOUCH_TRUST_TLS__CA", "/ca.pem")]).unwrap_err();
        assert!(err.to_string().contains("--trust-tls-cert"), "{err}");
        // An https URL without mutual TLS, and an http one with it.
        let err = front(&[]).unwrap_err();
        assert!(err.to_string().contains("https://trust-1:50051"), "{err}");
        let err = Settings::load_from(
            None,
            env(&[
                ("VOUCH_ROLE", "provisioning"),
                ("VOUCH_TRUST_URL", "http://trust:50051"),
                ("VOUCH_TRUST_TLS__CA", "/ca.pem"),
                ("VOUCH_TRUST_TLS__CERT", "/front.pem"),
                ("VOUCH_TRUST_TLS__KEY", "/front.key"),
            ]),
            Vec::new(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not https"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vouch.toml");
        std::fs::write(&path, "verfication_addr = \"127.0.0.1:1\"\n").unwrap();
        assert!(Settings::load_from(Some(&path), std::iter::empty(), Vec::new()).is_err());
    }
}
