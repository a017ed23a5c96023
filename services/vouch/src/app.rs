//! Assembles the services a process runs and drives their lifecycle.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vouch_http::health::Health;
use vouch_sessions::SessionStore;
use vouch_store::EndorsementStore;
use vouch_trust::grpc::{GrpcLimits, GrpcServing};
use vouch_trust::{CacheLimits, FleetConfig, TrustConfig, TrustService};
use vouch_trust_api::{FleetAdmin, GrpcTrust, GrpcTrustOptions, PolicyAdmin, Trust};

use crate::settings::{GuardedApi, Role, Settings};

/// A running set of services.
pub struct Running {
    /// Verification REST address, when running.
    pub verification: Option<SocketAddr>,
    /// Provisioning REST address, when running.
    pub provisioning: Option<SocketAddr>,
    /// Management REST address, when running.
    pub management: Option<SocketAddr>,
    /// Trust gRPC address, when running.
    pub trust: Option<SocketAddr>,
    /// Trust's metrics address, when configured.
    pub trust_metrics: Option<SocketAddr>,
    /// The in-process trust service, when this process runs it.
    pub trust_service: Option<Arc<TrustService>>,
    /// Cancelled by whoever wants the process to stop (signal, test).
    stop: CancellationToken,
    /// Cancelled by [`Running::wait`] once draining is done: servers stop
    /// accepting and finish in-flight requests.
    shutdown: CancellationToken,
    healths: Vec<Arc<Health>>,
    tasks: JoinSet<anyhow::Result<()>>,
    store: Option<Arc<dyn EndorsementStore>>,
    drain_delay: Duration,
    tls: Vec<Arc<vouch_tls::ServerTls>>,
}

/// Pending connections the kernel queues per listener (capped by
/// `net.core.somaxconn`). tokio's default of 1,024 overflows when a fleet
/// of that many clients connects at once while the CPU is saturated: the
/// dropped SYNs are retried after 1 s, a p99 of over a second.
const LISTEN_BACKLOG: u32 = 8192;

fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    };
    socket
        .and_then(|socket| {
            // As std and tokio do, so a restart can rebind at once.
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(LISTEN_BACKLOG)
        })
        .with_context(|| format!("binding the {what} listener to {addr}"))
}

async fn open_sessions(settings: &Settings) -> anyhow::Result<Arc<dyn SessionStore>> {
    let spec = settings.sessions.trim();
    if spec.is_empty() || spec == "memory" {
        return Ok(Arc::new(vouch_sessions::MemorySessionStore::new()));
    }
    let servers = vouch_sessions::parse_memcached_url(spec)
        .with_context(|| format!("parsing the session store URL {spec:?}"))?;
    let store = vouch_sessions::MemcachedSessionStore::connect(
        &servers,
        vouch_sessions::MemcachedOptions::default(),
    )
    .await
    .with_context(|| format!("connecting to memcached at {spec}"))?;
    Ok(Arc::new(store))
}

/// The client side of mutual TLS to trust, from PEM files: checked here
/// (the key belongs to the certificate, the CA parses) so that a bad file
/// stops the start rather than every call later.
pub fn trust_client_tls(
    ca: &Path,
    cert: &Path,
    key: &Path,
    server_name: Option<String>,
) -> anyhow::Result<vouch_trust_api::TrustTls> {
    vouch_tls::load_ca(ca)?;
    vouch_tls::load_identity(cert, key)?;
    let read =
        |path: &Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    Ok(vouch_trust_api::TrustTls {
        ca_pem: read(ca)?,
        cert_pem: read(cert)?,
        key_pem: read(key)?,
        server_name,
    })
}

/// Starts the services `settings` asks for. Listeners are bound before
/// this returns, so the addresses are final (port 0 picks free ports).
pub async fn start(settings: &Settings) -> anyhow::Result<Running> {
    let shutdown = CancellationToken::new();
    let drain_timeout = Duration::from_millis(settings.drain_timeout_ms);
    let mut tasks = JoinSet::new();
    let mut healths = Vec::new();
    let mut running_trust = None;
    let mut trust_addr = None;
    let mut store = None;
    // Every TLS configuration of this process, reloaded together on SIGHUP.
    let mut tls = Vec::new();
    let rest_tls = settings
        .tls
        .files()
        .map(|files| vouch_tls::ServerTls::load(files, vouch_tls::ALPN_HTTP))
        .transpose()
        .context("loading the TLS certificate of the REST listeners (--tls-cert, --tls-key)")?;
    tls.extend(rest_tls.clone());
    let trust_tls = &settings.trust_tls;
    // One registry for the whole process: every REST listener serves all
    // of it, each service's series told apart by their `service` label.
    let metrics = if settings.metrics.enabled {
        vouch_metrics::Metrics::new()
    } else {
        vouch_metrics::Metrics::disabled()
    };
    let mut trust_metrics_addr = None;
    let observe = vouch_http::observe::Observe {
        metrics: metrics.clone(),
    };

    // The policy admin and the fleet status are the trust service itself,
    // in-process or over the same gRPC client the front ends use.
    let (trust, admin, fleet): (Arc<dyn Trust>, Arc<dyn PolicyAdmin>, Arc<dyn FleetAdmin>) =
        if settings.runs(Role::Trust) {
            std::fs::create_dir_all(&settings.data_dir).with_context(|| {
                format!(
                    "creating the data directory {}",
                    settings.data_dir.display()
                )
            })?;
            let opened = vouch_store::connect(&settings.store_config())
                .await
                .context("opening the endorsement store")?;
            let key = match &settings.ear_key {
                Some(path) => vouch_trust::load_signing_key(path)?,
                None => vouch_trust::load_or_create_signing_key(&settings.data_dir)?,
            };
            let service = TrustService::new(
                opened.clone(),
                vouch_trust::default_schemes(),
                key,
                TrustConfig {
                    max_concurrent_appraisals: settings.trust.max_concurrent_appraisals,
                    cache: CacheLimits {
                        trust_anchors: settings.trust.cache_trust_anchors,
                        reference_values: settings.trust.cache_reference_values,
                    },
                    corim_signers: crate::signers::load(&settings.corim)?,
                    metrics: metrics.clone(),
                    fleet: FleetConfig {
                        flush_interval: Duration::from_millis(settings.trust.fleet_flush_ms.max(1)),
                        ..FleetConfig::default()
                    },
                    ..TrustConfig::default()
                },
            )?;
            let mut serving =
                GrpcServing::bind(settings.trust_addr, service.clone(), GrpcLimits::default())
                    .await
                    .with_context(|| {
                        format!("binding the trust listener to {}", settings.trust_addr)
                    })?;
            if let (Some(ca), Some(cert), Some(key)) =
                (&trust_tls.ca, &trust_tls.cert, &trust_tls.key)
            {
                let server = vouch_tls::ServerTls::load(
                vouch_tls::ServerTlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                    client_ca: Some(ca.clone()),
                },
                vouch_tls::ALPN_GRPC,
            )
            .context(
                "loading the trust TLS files (--trust-tls-ca, --trust-tls-cert, --trust-tls-key)",
            )?;
                tls.push(server.clone());
                serving = serving.with_tls(server);
            }
            trust_addr = Some(serving.local_addr()?);
            let token = shutdown.clone();
            tasks.spawn(async move {
                serving
                    .run(token, drain_timeout)
                    .await
                    .context("serving trust")
            });
            if let Some(addr) = settings.metrics.trust_addr
                && metrics.is_enabled()
            {
                let listener = bind(addr, "trust metrics")?;
                trust_metrics_addr = Some(listener.local_addr()?);
                let router = vouch_http::metrics::metrics_routes(&metrics)
                    .fallback(vouch_http::limits::not_found);
                let token = shutdown.clone();
                tasks.spawn(async move {
                    vouch_http::serve::serve(listener, router, token, drain_timeout)
                        .await
                        .context("serving trust metrics")
                });
            }
            store = Some(opened);
            running_trust = Some(service.clone());
            let admin: Arc<dyn PolicyAdmin> = service.clone();
            let fleet: Arc<dyn FleetAdmin> = service.clone();
            (service, admin, fleet)
        } else {
            let client_tls = match (&trust_tls.ca, &trust_tls.cert, &trust_tls.key) {
            (Some(ca), Some(cert), Some(key)) => Some(
                trust_client_tls(ca, cert, key, trust_tls.server_name.clone()).context(
                    "loading the trust TLS files (--trust-tls-ca, --trust-tls-cert, --trust-tls-key)",
                )?,
            ),
            _ => None,
        };
            let client = Arc::new(GrpcTrust::connect_lazy(
                &settings.trust_urls(),
                &GrpcTrustOptions {
                    tls: client_tls,
                    ..GrpcTrustOptions::default()
                },
            )?);
            let admin: Arc<dyn PolicyAdmin> = client.clone();
            let fleet: Arc<dyn FleetAdmin> = client.clone();
            (client, admin, fleet)
        };

    // What this build's trust takes, for the OpenAPI documents' request
    // bodies (a front end's document is written before trust is reached).
    let (evidence_types, corim_types) = vouch_trust::advertised_media_types(
        vouch_trust::default_schemes(),
        settings.corim.require_signed,
    )
    .map_err(|e| anyhow::anyhow!("listing the media types of the schemes: {e}"))?;

    let mut verification_addr = None;
    if settings.runs(Role::Verification) {
        let sessions = open_sessions(settings).await?;
        let health = vouch_verification::health(trust.clone(), sessions.clone());
        let router = vouch_verification::documented(
            trust.clone(),
            sessions,
            vouch_verification::VerificationConfig {
                session_ttl: Duration::from_secs(settings.verification.session_ttl_secs),
                limits: settings.verification.limits(),
                metrics: metrics.clone(),
                ..Default::default()
            },
            health.clone(),
        );
        let mut router = router;
        let evidence_types: Vec<String> = evidence_types
            .iter()
            .cloned()
            .chain(vouch_cmw::CMW_MEDIA_TYPES.iter().map(|t| (*t).to_owned()))
            .collect();
        vouch_http::openapi::set_request_media_types(
            &mut router.api,
            "/challenge-response/v1/session/{id}",
            utoipa::openapi::HttpMethod::Post,
            &evidence_types,
        );
        let router = vouch_http::observe::listener(router, &observe, "verification");
        let listener = bind(settings.verification_addr, "verification")?;
        verification_addr = Some(listener.local_addr()?);
        let token = shutdown.clone();
        let tls = rest_tls.clone();
        tasks.spawn(async move {
            vouch_tls::serve(listener, router, tls, token, drain_timeout)
                .await
                .context("serving verification")
        });
        healths.push(health);
    }

    let mut provisioning_addr = None;
    if settings.runs(Role::Provisioning) {
        for warning in settings.auth_warnings() {
            tracing::warn!("{warning}");
        }
        let auth = settings
            .auth
            .authenticator(GuardedApi::Provisioning)
            .context("setting up provisioning authentication")?;
        tracing::info!(mode = auth.mode(), "provisioning authentication");
        if let vouch_auth::Authenticator::Oidc(oidc) = &auth {
            // Fetch the issuer's keys now rather than on the first token; a
            // failure is logged, and retried when a token comes.
            let oidc = oidc.clone();
            tokio::spawn(async move {
                let _ = oidc.refresh().await;
            });
        }
        let health = vouch_provisioning::health(trust.clone());
        let router = vouch_provisioning::documented(
            trust.clone(),
            vouch_provisioning::ProvisioningConfig {
                limits: settings.provisioning.limits(),
                auth,
                ..Default::default()
            },
            health.clone(),
        );
        let mut router = router;
        vouch_http::openapi::set_request_media_types(
            &mut router.api,
            "/endorsement-provisioning/v1/submit",
            utoipa::openapi::HttpMethod::Post,
            &corim_types,
        );
        let router = vouch_http::observe::listener(router, &observe, "provisioning");
        let listener = bind(settings.provisioning_addr, "provisioning")?;
        provisioning_addr = Some(listener.local_addr()?);
        let token = shutdown.clone();
        let tls = rest_tls.clone();
        tasks.spawn(async move {
            vouch_tls::serve(listener, router, tls, token, drain_timeout)
                .await
                .context("serving provisioning")
        });
        healths.push(health);
    }

    let mut management_addr = None;
    if settings.runs(Role::Management) {
        let auth = settings
            .auth
            .authenticator(GuardedApi::Management)
            .context("setting up management authentication")?;
        tracing::info!(mode = auth.mode(), "management authentication");
        if !settings.runs(Role::Provisioning) {
            // Provisioning logs them otherwise; they cover both APIs.
            for warning in settings.auth_warnings() {
                tracing::warn!("{warning}");
            }
        }
        if let vouch_auth::Authenticator::Oidc(oidc) = &auth {
            // As for provisioning: fetch the issuer's keys now.
            let oidc = oidc.clone();
            tokio::spawn(async move {
                let _ = oidc.refresh().await;
            });
        }
        let health = vouch_management::health(trust.clone());
        let router = vouch_management::documented(
            vouch_management::Backends {
                admin,
                trust: trust.clone(),
                fleet,
            },
            vouch_management::ManagementConfig {
                limits: settings.management.limits(),
                auth,
            },
            health.clone(),
        );
        let router = vouch_http::observe::listener(router, &observe, "management");
        let listener = bind(settings.management_addr, "management")?;
        management_addr = Some(listener.local_addr()?);
        let token = shutdown.clone();
        let tls = rest_tls.clone();
        tasks.spawn(async move {
            vouch_tls::serve(listener, router, tls, token, drain_timeout)
                .await
                .context("serving management")
        });
        healths.push(health);
    }

    Ok(Running {
        verification: verification_addr,
        provisioning: provisioning_addr,
        management: management_addr,
        trust: trust_addr,
        trust_metrics: trust_metrics_addr,
        trust_service: running_trust,
        stop: CancellationToken::new(),
        shutdown,
        healths,
        tasks,
        store,
        drain_delay: Duration::from_millis(settings.drain_delay_ms),
        tls,
    })
}

impl Running {
    /// The TLS configurations of this process's listeners (REST and trust),
    /// for [`vouch_tls::reload_all`] on SIGHUP; empty without TLS.
    pub fn tls_configs(&self) -> Vec<Arc<vouch_tls::ServerTls>> {
        self.tls.clone()
    }

    /// A token that, when cancelled, starts a graceful shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Runs until a server fails or the shutdown token is cancelled, then
    /// shuts down gracefully: report not-ready, keep serving for the drain
    /// delay, stop accepting, let in-flight requests finish, close the store.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut failure = None;
        tokio::select! {
            () = self.stop.cancelled() => {}
            Some(joined) = self.tasks.join_next() => {
                failure = Some(match joined {
                    Ok(Ok(())) => anyhow::anyhow!("a server stopped unexpectedly"),
                    Ok(Err(e)) => e,
                    Err(e) => anyhow::anyhow!("a server task failed: {e}"),
                });
            }
        }
        for health in &self.healths {
            health.start_draining();
        }
        if let Some(trust) = &self.trust_service {
            trust.start_draining();
        }
        if failure.is_none() && !self.drain_delay.is_zero() {
            tracing::info!(delay = ?self.drain_delay, "draining: reporting not-ready before closing listeners");
            tokio::time::sleep(self.drain_delay).await;
        }
        self.shutdown.cancel();
        while let Some(joined) = self.tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %format!("{e:#}"), "server stopped with an error")
                }
                Err(e) => tracing::error!(error = %e, "server task failed"),
            }
        }
        // Served verdicts still waiting for the fleet status go in before
        // the store closes.
        if let Some(trust) = &self.trust_service
            && !trust.finish_fleet().await
        {
            tracing::warn!("some verdicts could not be written to the fleet status");
        }
        if let Some(store) = &self.store {
            store.close().await;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
