//! The trust service over gRPC.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;
use vouch_proto::trust as pb;
use vouch_proto::trust::trust_server::TrustServer;
use vouch_trust_api::{
    FleetAdmin, MediaType, PolicyAdmin, PolicyId, PolicyName, ServiceStatus, SubmitOutcome, Trust,
    attester_filter_from_message, attester_page_to_message, fleet_summary_to_message,
    policy_to_message, to_status, verdict_history_to_message,
};

use crate::TrustService;

/// The gRPC face of a [`TrustService`].
pub struct GrpcTrustServer {
    service: Arc<TrustService>,
}

impl GrpcTrustServer {
    /// Wraps the service.
    pub fn new(service: Arc<TrustService>) -> Self {
        GrpcTrustServer { service }
    }
}

fn media_type_list(types: &[MediaType]) -> pb::MediaTypeList {
    pb::MediaTypeList {
        media_types: types.iter().map(|m| m.as_str().to_owned()).collect(),
    }
}

#[tonic::async_trait]
impl pb::trust_server::Trust for GrpcTrustServer {
    async fn get_service_state(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::ServiceState>, Status> {
        let state = self
            .service
            .service_state()
            .await
            .map_err(|e| to_status(&e))?;
        let status = match state.status {
            ServiceStatus::Down => pb::ServiceStatus::Down,
            ServiceStatus::Initializing => pb::ServiceStatus::Initializing,
            ServiceStatus::Ready => pb::ServiceStatus::Ready,
            ServiceStatus::Terminating => pb::ServiceStatus::Terminating,
        };
        Ok(Response::new(pb::ServiceState {
            status: status.into(),
            server_version: state.version,
        }))
    }

    async fn get_attestation(
        &self,
        request: Request<pb::AttestationRequest>,
    ) -> Result<Response<pb::AttestationResponse>, Status> {
        let request = request.into_inner();
        let nonce = vouch_trust_api::Nonce::new(request.nonce.to_vec())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let media_type = MediaType::parse(&request.media_type)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let outcome = self
            .service
            .attest(vouch_trust_api::AttestationRequest {
                media_type,
                evidence: request.evidence,
                nonce,
            })
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(pb::AttestationResponse {
            ear: outcome.ear,
            scheme: outcome.scheme,
            status: outcome.status.as_str().to_owned(),
        }))
    }

    async fn get_supported_verification_media_types(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::MediaTypeList>, Status> {
        let types = self
            .service
            .verification_media_types()
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(media_type_list(&types)))
    }

    async fn get_supported_provisioning_media_types(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::MediaTypeList>, Status> {
        let types = self
            .service
            .provisioning_media_types()
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(media_type_list(&types)))
    }

    async fn submit_endorsements(
        &self,
        request: Request<pb::SubmitEndorsementsRequest>,
    ) -> Result<Response<pb::SubmitEndorsementsResponse>, Status> {
        let request = request.into_inner();
        let media_type = MediaType::parse(&request.media_type)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let outcome = self
            .service
            .submit_endorsements(&media_type, request.data)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(match outcome {
            SubmitOutcome::Stored => pb::SubmitEndorsementsResponse {
                accepted: true,
                failure_reason: String::new(),
                duplicate: false,
            },
            SubmitOutcome::AlreadyStored => pb::SubmitEndorsementsResponse {
                accepted: true,
                failure_reason: String::new(),
                duplicate: true,
            },
            SubmitOutcome::Rejected(reason) => pb::SubmitEndorsementsResponse {
                accepted: false,
                failure_reason: reason,
                duplicate: false,
            },
        }))
    }

    async fn get_ear_signing_public_key(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::PublicKey>, Status> {
        let jwk = self
            .service
            .ear_public_key()
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(pb::PublicKey {
            jwk: jwk.to_string(),
        }))
    }

    async fn list_policy_schemes(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::PolicySchemes>, Status> {
        let schemes = self
            .service
            .policy_schemes()
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(pb::PolicySchemes { schemes }))
    }

    async fn create_policy(
        &self,
        request: Request<pb::CreatePolicyRequest>,
    ) -> Result<Response<pb::CreatePolicyResponse>, Status> {
        let request = request.into_inner();
        let name = PolicyName::parse(&request.name).map_err(|e| to_status(&e))?;
        let created = self
            .service
            .create_policy(&request.scheme, &name, &request.rules)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(pb::CreatePolicyResponse {
            policy: Some(policy_to_message(&created.policy)),
            created: created.created,
        }))
    }

    async fn activate_policy(
        &self,
        request: Request<pb::PolicyRef>,
    ) -> Result<Response<pb::Empty>, Status> {
        let request = request.into_inner();
        let id = policy_id(&request.id)?;
        self.service
            .activate_policy(&request.scheme, id)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn get_active_policy(
        &self,
        request: Request<pb::PolicyScheme>,
    ) -> Result<Response<pb::PolicyMessage>, Status> {
        let policy = self
            .service
            .active_policy(&request.into_inner().scheme)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(policy_to_message(&policy)))
    }

    async fn get_policy(
        &self,
        request: Request<pb::PolicyRef>,
    ) -> Result<Response<pb::PolicyMessage>, Status> {
        let request = request.into_inner();
        let id = policy_id(&request.id)?;
        let policy = self
            .service
            .policy(&request.scheme, id)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(policy_to_message(&policy)))
    }

    async fn list_policies(
        &self,
        request: Request<pb::ListPoliciesRequest>,
    ) -> Result<Response<pb::PolicyList>, Status> {
        let request = request.into_inner();
        let name = request
            .name
            .as_deref()
            .map(PolicyName::parse)
            .transpose()
            .map_err(|e| to_status(&e))?;
        let policies = self
            .service
            .policies(&request.scheme, name.as_ref())
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(pb::PolicyList {
            policies: policies.iter().map(policy_to_message).collect(),
        }))
    }

    async fn deactivate_policies(
        &self,
        request: Request<pb::PolicyScheme>,
    ) -> Result<Response<pb::Empty>, Status> {
        self.service
            .deactivate_policies(&request.into_inner().scheme)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn get_fleet_summary(
        &self,
        request: Request<pb::FleetSummaryRequest>,
    ) -> Result<Response<pb::FleetSummary>, Status> {
        let summary = self
            .service
            .fleet_summary(request.into_inner().stale_minutes)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(fleet_summary_to_message(&summary)))
    }

    async fn list_attesters(
        &self,
        request: Request<pb::ListAttestersRequest>,
    ) -> Result<Response<pb::AttesterList>, Status> {
        let filter =
            attester_filter_from_message(request.into_inner()).map_err(|e| to_status(&e))?;
        let page = FleetAdmin::attesters(self.service.as_ref(), &filter)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(attester_page_to_message(&page)))
    }

    async fn get_verdict_history(
        &self,
        request: Request<pb::VerdictHistoryRequest>,
    ) -> Result<Response<pb::VerdictHistory>, Status> {
        let history = self
            .service
            .verdict_history(request.into_inner().minutes)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(verdict_history_to_message(&history)))
    }
}

fn policy_id(bytes: &[u8]) -> Result<PolicyId, Status> {
    <[u8; 16]>::try_from(bytes)
        .map(PolicyId::from_bytes)
        .map_err(|_| {
            Status::invalid_argument(format!("a policy id is 16 bytes, not {}", bytes.len()))
        })
}

/// The trust service's name in the gRPC health service.
const TRUST_SERVICE_NAME: &str =
    <TrustServer<GrpcTrustServer> as tonic::server::NamedService>::NAME;

/// Aborts a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Limits for the gRPC server.
#[derive(Debug, Clone)]
pub struct GrpcLimits {
    /// Concurrent requests per connection (HTTP/2 streams).
    pub max_concurrent_streams: u32,
    /// Largest request message accepted (CoRIM submissions).
    pub max_message_bytes: usize,
}

impl Default for GrpcLimits {
    fn default() -> Self {
        GrpcLimits {
            max_concurrent_streams: 1024,
            max_message_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Binds the trust gRPC server; serve it with [`GrpcServing::run`].
pub struct GrpcServing {
    listener: TcpListener,
    service: Arc<TrustService>,
    limits: GrpcLimits,
    tls: Option<Arc<vouch_tls::ServerTls>>,
}

impl GrpcServing {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(
        addr: SocketAddr,
        service: Arc<TrustService>,
        limits: GrpcLimits,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(GrpcServing {
            listener,
            service,
            limits,
            tls: None,
        })
    }

    /// Serves over TLS with `tls` (built with [`vouch_tls::ALPN_GRPC`]);
    /// with a client CA in it, every caller must present a certificate
    /// chaining to that CA (mutual TLS). `tls` may be reloaded meanwhile.
    pub fn with_tls(mut self, tls: Arc<vouch_tls::ServerTls>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Where the server listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled, then reports NOT_SERVING,
    /// finishes in-flight calls (at most `drain_timeout`) and returns.
    pub async fn run(
        self,
        shutdown: CancellationToken,
        drain_timeout: Duration,
    ) -> Result<(), tonic::transport::Error> {
        let (reporter, health_service) = tonic_health::server::health_reporter();
        reporter.set_serving::<TrustServer<GrpcTrustServer>>().await;
        reporter
            .set_service_status("", ServingStatus::Serving)
            .await;

        // The standard health service follows the trust service's state:
        // NOT_SERVING as soon as draining starts or the store is down.
        let mut statuses = self.service.subscribe_status();
        let mirror_reporter = reporter.clone();
        let mirror = tokio::spawn(async move {
            loop {
                let status = if *statuses.borrow_and_update() == ServiceStatus::Ready {
                    ServingStatus::Serving
                } else {
                    ServingStatus::NotServing
                };
                mirror_reporter
                    .set_service_status(TRUST_SERVICE_NAME, status)
                    .await;
                mirror_reporter.set_service_status("", status).await;
                if statuses.changed().await.is_err() {
                    return;
                }
            }
        });
        let _mirror = AbortOnDrop(mirror);

        let trust = TrustServer::new(GrpcTrustServer::new(self.service.clone()))
            .max_decoding_message_size(self.limits.max_message_bytes)
            .max_encoding_message_size(self.limits.max_message_bytes);
        let service = self.service.clone();
        let signal = shutdown.clone();
        let stop = async move {
            signal.cancelled().await;
            service.start_draining();
            reporter
                .set_not_serving::<TrustServer<GrpcTrustServer>>()
                .await;
            reporter
                .set_service_status("", ServingStatus::NotServing)
                .await;
        };
        let router = tonic::transport::Server::builder()
            .layer(vouch_telemetry::ServerSpanLayer)
            .tcp_nodelay(true)
            .max_concurrent_streams(self.limits.max_concurrent_streams)
            .http2_keepalive_interval(Some(Duration::from_secs(20)))
            .add_service(health_service)
            .add_service(trust);
        match self.tls {
            Some(tls) => {
                // Handshakes run off the accept loop, each with a deadline
                // (and the accepted sockets get TCP_NODELAY there).
                let incoming = vouch_tls::TlsListener::new(
                    self.listener,
                    tls,
                    vouch_tls::AcceptOptions::default(),
                );
                let server = router.serve_with_incoming_shutdown(incoming, stop);
                bounded(server, shutdown, drain_timeout).await
            }
            None => {
                // The builder's `tcp_nodelay` only applies to listeners tonic
                // binds itself; with Nagle on, a unary reply waits for the
                // client's delayed ACK (40 ms on Linux).
                let incoming = tonic::transport::server::TcpIncoming::from(self.listener)
                    .with_nodelay(Some(true));
                let server = router.serve_with_incoming_shutdown(incoming, stop);
                bounded(server, shutdown, drain_timeout).await
            }
        }
    }
}

/// Awaits `server` but gives up `drain_timeout` after `shutdown` fires.
async fn bounded(
    server: impl std::future::Future<Output = Result<(), tonic::transport::Error>>,
    shutdown: CancellationToken,
    drain_timeout: Duration,
) -> Result<(), tonic::transport::Error> {
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(drain_timeout).await;
        } => {
            tracing::warn!(?drain_timeout, "gRPC calls did not finish in time; closing");
            Ok(())
        }
    }
}
