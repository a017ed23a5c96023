//! The [`Trust`] interface over gRPC, both directions of the status mapping.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Status};
use tracing::Instrument as _;
use vouch_proto::trust as pb;
use vouch_proto::trust::trust_client::TrustClient;

use crate::{
    AttestationOutcome, AttestationRequest, AttestationStatus, Bytes, CreatedPolicy,
    DEFAULT_TENANT, MediaType, Policy, PolicyAdmin, PolicyId, PolicyName, ServiceState,
    ServiceStatus, SubmitOutcome, Trust, TrustError,
};

/// gRPC metadata key carrying the server's suggested back-off, in seconds.
pub const RETRY_AFTER_METADATA: &str = "retry-after";

/// Tuning for [`GrpcTrust`].
#[derive(Debug, Clone)]
pub struct GrpcTrustOptions {
    /// How long to wait for a TCP connection to a trust instance.
    pub connect_timeout: Duration,
    /// Deadline for each call.
    pub request_timeout: Duration,
    /// How long media types and the EAR key are cached. They only change
    /// when trust is redeployed, so a short cache removes a round trip from
    /// every session.
    pub metadata_ttl: Duration,
    /// First wait after trust could not be reached.
    pub backoff_first: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
    /// Mutual TLS: with it, trust URLs must be `https://`; without it,
    /// `http://`.
    pub tls: Option<TrustTls>,
}

/// Mutual TLS to trust: the CA that trust's certificate must chain to, and
/// the certificate chain and key this client presents, all PEM.
#[derive(Clone)]
pub struct TrustTls {
    /// PEM CA certificate(s).
    pub ca_pem: Vec<u8>,
    /// PEM certificate chain presented to trust, leaf first.
    pub cert_pem: Vec<u8>,
    /// PEM private key of that certificate (PKCS#8, SEC1 or PKCS#1).
    pub key_pem: Vec<u8>,
    /// The name trust's certificate is verified against, instead of the
    /// host of each URL.
    pub server_name: Option<String>,
}

impl std::fmt::Debug for TrustTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("TrustTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TrustTls {
    fn client_config(&self) -> ClientTlsConfig {
        let config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem));
        match &self.server_name {
            Some(name) => config.domain_name(name.clone()),
            None => config,
        }
    }
}

impl Default for GrpcTrustOptions {
    fn default() -> Self {
        GrpcTrustOptions {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            metadata_ttl: Duration::from_secs(30),
            backoff_first: Duration::from_millis(50),
            backoff_max: Duration::from_secs(1),
            tls: None,
        }
    }
}

struct Cached<T> {
    slot: RwLock<Option<(Instant, T)>>,
    ttl: Duration,
}

impl<T: Clone> Cached<T> {
    fn new(ttl: Duration) -> Self {
        Cached {
            slot: RwLock::new(None),
            ttl,
        }
    }

    fn get(&self) -> Option<T> {
        let guard = self.slot.read().ok()?;
        match &*guard {
            Some((at, value)) if at.elapsed() < self.ttl => Some(value.clone()),
            _ => None,
        }
    }

    fn put(&self, value: T) {
        if let Ok(mut guard) = self.slot.write() {
            *guard = Some((Instant::now(), value));
        }
    }
}

/// Exponential back-off after trust could not be reached at all.
///
/// While it runs, calls fail at once with `Unavailable` and the remaining
/// wait as `Retry-After`, instead of each request (and each readiness probe)
/// opening a connection to a trust that is not there.
struct Backoff {
    state: std::sync::Mutex<(u32, Option<Instant>)>,
    first: Duration,
    max: Duration,
}

impl Backoff {
    fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            state: std::sync::Mutex::new((0, None)),
            first,
            max,
        }
    }

    fn check(&self) -> Result<(), TrustError> {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match state.1 {
            Some(until) if until > Instant::now() => Err(TrustError::Unavailable {
                reason: "trust service unreachable; waiting before the next attempt".to_owned(),
                retry_after: until.saturating_duration_since(Instant::now()),
            }),
            _ => Ok(()),
        }
    }

    fn failed(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let failures = state.0.saturating_add(1);
        let delay = self
            .first
            .saturating_mul(1 << failures.saturating_sub(1).min(16))
            .min(self.max);
        *state = (failures, Some(Instant::now() + delay));
    }

    fn succeeded(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *state = (0, None);
    }
}

/// A [`Trust`] reached over gRPC. Connections are made lazily, so a front
/// end starts (and reports not-ready) while trust is still coming up, and
/// retries with exponential back-off. Several URLs are load-balanced per
/// request.
pub struct GrpcTrust {
    client: TrustClient<InterceptedService<Channel, vouch_telemetry::Propagate>>,
    /// Only with a single endpoint: with several, the balancer routes around
    /// one that is down, and one failure must not stop the others.
    backoff: Option<Backoff>,
    verification_types: Cached<Arc<[MediaType]>>,
    provisioning_types: Cached<Arc<[MediaType]>>,
    ear_key: Cached<Arc<serde_json::Value>>,
    /// When trust last answered a call, for [`Trust::answered_within`].
    answered: Answered,
}

/// When trust last answered: milliseconds since the client was made (plus
/// one, so that zero means never), one relaxed atomic store per call.
/// (`vouch_sessions` keeps the same for memcached; the two crates share no
/// dependency to hold it.)
struct Answered {
    since: Instant,
    at_ms: std::sync::atomic::AtomicU64,
}

impl Answered {
    fn millis(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn now(&self) {
        self.at_ms.store(
            self.millis().saturating_add(1),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn within(&self, window: Duration) -> bool {
        let at = self.at_ms.load(std::sync::atomic::Ordering::Relaxed);
        at != 0
            && self.millis().saturating_sub(at - 1)
                <= u64::try_from(window.as_millis()).unwrap_or(u64::MAX)
    }
}

impl GrpcTrust {
    /// Prepares a client for one or more trust URLs (`http://host:port`,
    /// or `https://host:port` with [`GrpcTrustOptions::tls`]).
    pub fn connect_lazy(urls: &[String], options: &GrpcTrustOptions) -> Result<Self, TrustError> {
        let endpoints = urls
            .iter()
            .map(|url| {
                let invalid = |e: &dyn std::fmt::Display| {
                    TrustError::InvalidInput(format!("invalid trust URL {url:?}: {e}"))
                };
                let endpoint = Endpoint::from_shared(url.clone())
                    .map(|e| {
                        e.connect_timeout(options.connect_timeout)
                            .timeout(options.request_timeout)
                            .tcp_nodelay(true)
                            .http2_keep_alive_interval(Duration::from_secs(20))
                            .keep_alive_while_idle(true)
                    })
                    .map_err(|e| invalid(&e))?;
                // tonic would quietly speak plain HTTP/2 to an http URL even
                // with TLS configured: refuse the mix instead.
                let https = endpoint.uri().scheme_str() == Some("https");
                match &options.tls {
                    Some(tls) if https => endpoint
                        .tls_config(tls.client_config())
                        .map_err(|e| invalid(&e)),
                    Some(_) => Err(invalid(&"mutual TLS is configured, so it must be https")),
                    None if https => Err(invalid(&"https needs a TLS configuration")),
                    None => Ok(endpoint),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let single = endpoints.len() == 1;
        let channel = match endpoints.as_slice() {
            [] => return Err(TrustError::InvalidInput("no trust URL given".into())),
            [one] => one.connect_lazy(),
            _ => Channel::balance_list(endpoints.into_iter()),
        };
        Ok(GrpcTrust {
            client: TrustClient::with_interceptor(channel, vouch_telemetry::Propagate)
                .max_decoding_message_size(16 * 1024 * 1024)
                .max_encoding_message_size(64 * 1024 * 1024),
            backoff: single.then(|| Backoff::new(options.backoff_first, options.backoff_max)),
            verification_types: Cached::new(options.metadata_ttl),
            provisioning_types: Cached::new(options.metadata_ttl),
            ear_key: Cached::new(options.metadata_ttl),
            answered: Answered {
                since: Instant::now(),
                at_ms: std::sync::atomic::AtomicU64::new(0),
            },
        })
    }

    /// Runs one call, honouring and updating the back-off.
    pub(crate) async fn call<T, F, Fut>(&self, f: F) -> Result<T, TrustError>
    where
        F: FnOnce(TrustClient<InterceptedService<Channel, vouch_telemetry::Propagate>>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        if let Some(backoff) = &self.backoff {
            backoff.check()?;
        }
        // A CLIENT span around the call; the interceptor sends its context
        // to trust (disabled, and free, when traces are off).
        let span = tracing::debug_span!(
            target: vouch_telemetry::SPAN_TARGET,
            "trust call",
            otel.kind = "client",
            rpc.system = "grpc",
        );
        let result = f(self.client.clone()).instrument(span).await;
        if result.is_ok() {
            self.answered.now();
        }
        if let Some(backoff) = &self.backoff {
            match &result {
                Err(status) if is_unreachable(status) => backoff.failed(),
                _ => backoff.succeeded(),
            }
        }
        result.map(tonic::Response::into_inner).map_err(from_status)
    }
}

fn media_types(list: pb::MediaTypeList) -> Result<Arc<[MediaType]>, TrustError> {
    list.media_types
        .iter()
        .map(|m| {
            MediaType::parse(m)
                .map_err(|e| TrustError::Internal(format!("trust sent a bad media type: {e}")))
        })
        .collect()
}

#[async_trait::async_trait]
impl Trust for GrpcTrust {
    fn answered_within(&self, window: Duration) -> bool {
        self.answered.within(window)
    }

    async fn service_state(&self) -> Result<ServiceState, TrustError> {
        let state = self
            .call(|mut c| async move { c.get_service_state(pb::Empty {}).await })
            .await?;
        let status = match pb::ServiceStatus::try_from(state.status) {
            Ok(pb::ServiceStatus::Ready) => ServiceStatus::Ready,
            Ok(pb::ServiceStatus::Initializing) => ServiceStatus::Initializing,
            Ok(pb::ServiceStatus::Terminating) => ServiceStatus::Terminating,
            _ => ServiceStatus::Down,
        };
        Ok(ServiceState {
            status,
            version: state.server_version,
        })
    }

    async fn attest(&self, request: AttestationRequest) -> Result<AttestationOutcome, TrustError> {
        let message = pb::AttestationRequest {
            tenant_id: DEFAULT_TENANT.to_owned(),
            evidence: request.evidence,
            media_type: request.media_type.as_str().to_owned(),
            nonce: Bytes::copy_from_slice(request.nonce.as_bytes()),
        };
        let response = self
            .call(|mut c| async move { c.get_attestation(message).await })
            .await?;
        let status = AttestationStatus::parse(&response.status).ok_or_else(|| {
            TrustError::Internal(format!(
                "trust answered an unknown status {:?}",
                response.status
            ))
        })?;
        Ok(AttestationOutcome {
            ear: response.ear,
            scheme: response.scheme,
            status,
        })
    }

    async fn verification_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        if let Some(cached) = self.verification_types.get() {
            return Ok(cached);
        }
        let list = self
            .call(
                |mut c| async move { c.get_supported_verification_media_types(pb::Empty {}).await },
            )
            .await?;
        let types = media_types(list)?;
        self.verification_types.put(types.clone());
        Ok(types)
    }

    async fn provisioning_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        if let Some(cached) = self.provisioning_types.get() {
            return Ok(cached);
        }
        let list = self
            .call(
                |mut c| async move { c.get_supported_provisioning_media_types(pb::Empty {}).await },
            )
            .await?;
        let types = media_types(list)?;
        self.provisioning_types.put(types.clone());
        Ok(types)
    }

    async fn submit_endorsements(
        &self,
        media_type: &MediaType,
        data: Bytes,
    ) -> Result<SubmitOutcome, TrustError> {
        let message = pb::SubmitEndorsementsRequest {
            media_type: media_type.as_str().to_owned(),
            data,
        };
        let response = self
            .call(|mut c| async move { c.submit_endorsements(message).await })
            .await?;
        Ok(match (response.accepted, response.duplicate) {
            (true, true) => SubmitOutcome::AlreadyStored,
            (true, false) => SubmitOutcome::Stored,
            (false, _) => SubmitOutcome::Rejected(response.failure_reason),
        })
    }

    async fn ear_public_key(&self) -> Result<Arc<serde_json::Value>, TrustError> {
        if let Some(cached) = self.ear_key.get() {
            return Ok(cached);
        }
        let key = self
            .call(|mut c| async move { c.get_ear_signing_public_key(pb::Empty {}).await })
            .await?;
        let jwk: serde_json::Value = serde_json::from_str(&key.jwk)
            .map_err(|e| TrustError::Internal(format!("trust sent a bad EAR key: {e}")))?;
        let jwk = Arc::new(jwk);
        self.ear_key.put(jwk.clone());
        Ok(jwk)
    }
}

/// A policy as the trust protocol carries it.
pub fn policy_to_message(policy: &Policy) -> pb::PolicyMessage {
    pb::PolicyMessage {
        id: Bytes::copy_from_slice(policy.id.as_bytes()),
        scheme: policy.scheme.clone(),
        name: policy.name.clone(),
        rules: policy.rules.clone(),
        active: policy.active,
        created_at_us: policy.created_at_us,
        version: policy.version,
    }
}

/// A policy from the trust protocol; a malformed id is trust's fault.
pub fn policy_from_message(message: pb::PolicyMessage) -> Result<Policy, TrustError> {
    let id = <[u8; 16]>::try_from(message.id.as_ref()).map_err(|_| {
        TrustError::Internal(format!(
            "trust sent a policy id of {} bytes",
            message.id.len()
        ))
    })?;
    Ok(Policy {
        id: PolicyId::from_bytes(id),
        scheme: message.scheme,
        name: message.name,
        rules: message.rules,
        active: message.active,
        created_at_us: message.created_at_us,
        version: message.version,
    })
}

fn policy_ref(scheme: &str, id: PolicyId) -> pb::PolicyRef {
    pb::PolicyRef {
        scheme: scheme.to_owned(),
        id: Bytes::copy_from_slice(id.as_bytes()),
    }
}

fn scheme_message(scheme: &str) -> pb::PolicyScheme {
    pb::PolicyScheme {
        scheme: scheme.to_owned(),
    }
}

#[async_trait::async_trait]
impl PolicyAdmin for GrpcTrust {
    async fn policy_schemes(&self) -> Result<Vec<String>, TrustError> {
        let list = self
            .call(|mut c| async move { c.list_policy_schemes(pb::Empty {}).await })
            .await?;
        Ok(list.schemes)
    }

    async fn create_policy(
        &self,
        scheme: &str,
        name: &PolicyName,
        rules: &str,
    ) -> Result<CreatedPolicy, TrustError> {
        let message = pb::CreatePolicyRequest {
            scheme: scheme.to_owned(),
            name: name.as_str().to_owned(),
            rules: rules.to_owned(),
        };
        let response = self
            .call(|mut c| async move { c.create_policy(message).await })
            .await?;
        let policy = response
            .policy
            .ok_or_else(|| TrustError::Internal("trust sent no policy".to_owned()))?;
        Ok(CreatedPolicy {
            policy: policy_from_message(policy)?,
            created: response.created,
        })
    }

    async fn activate_policy(&self, scheme: &str, id: PolicyId) -> Result<(), TrustError> {
        let message = policy_ref(scheme, id);
        self.call(|mut c| async move { c.activate_policy(message).await })
            .await?;
        Ok(())
    }

    async fn active_policy(&self, scheme: &str) -> Result<Policy, TrustError> {
        let message = scheme_message(scheme);
        let policy = self
            .call(|mut c| async move { c.get_active_policy(message).await })
            .await?;
        policy_from_message(policy)
    }

    async fn policy(&self, scheme: &str, id: PolicyId) -> Result<Policy, TrustError> {
        let message = policy_ref(scheme, id);
        let policy = self
            .call(|mut c| async move { c.get_policy(message).await })
            .await?;
        policy_from_message(policy)
    }

    async fn policies(
        &self,
        scheme: &str,
        name: Option<&PolicyName>,
    ) -> Result<Vec<Policy>, TrustError> {
        let message = pb::ListPoliciesRequest {
            scheme: scheme.to_owned(),
            name: name.map(|n| n.as_str().to_owned()),
        };
        let list = self
            .call(|mut c| async move { c.list_policies(message).await })
            .await?;
        list.policies.into_iter().map(policy_from_message).collect()
    }

    async fn deactivate_policies(&self, scheme: &str) -> Result<(), TrustError> {
        let message = scheme_message(scheme);
        self.call(|mut c| async move { c.deactivate_policies(message).await })
            .await?;
        Ok(())
    }
}

/// Whether a status means trust could not be reached at all, as opposed to
/// trust answering that it is busy: the trust server always attaches
/// `retry-after` to its own `Unavailable` answers; the transport does not.
fn is_unreachable(status: &Status) -> bool {
    (matches!(status.code(), Code::Unavailable | Code::Cancelled)
        && status.metadata().get(RETRY_AFTER_METADATA).is_none())
        || transport_failure(status).is_some()
        || not_grpc(status)
}

/// Whether tonic made `status` up because the answer was not gRPC at all:
/// no `grpc-status` from the peer, or a body that is not gRPC frames. Then
/// whatever listens at trust's address is not trust (a REST listener, a
/// web server, a proxy's error page): for the front end, trust is
/// unavailable, not failing. Trust's own statuses always carry
/// `grpc-status` and its own message. (tonic's wording; a unit test in
/// `vouch-http` pins it with a real REST listener.)
fn not_grpc(status: &Status) -> bool {
    let message = status.message();
    message.starts_with("grpc-status header missing")
        || message.starts_with("protocol error: received message with invalid compression flag")
}

/// When `status` was made by this client's transport rather than sent by
/// trust, the chain of causes. A status trust sends arrives in trailers and
/// carries no source error; tonic attaches the cause to one it makes
/// itself: `Unknown` for an I/O or transport error (trust closed the
/// connection, or refused this client's certificate after the handshake),
/// `Internal` for an HTTP/2 connection error (a plaintext client reading a
/// TLS server's bytes as frames gets a frame-size or protocol error).
fn transport_failure(status: &Status) -> Option<String> {
    let mut transport = false;
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(status);
    while let Some(error) = source {
        transport |= error.is::<tonic::transport::Error>()
            || error.is::<std::io::Error>()
            || error.is::<h2::Error>();
        causes.push(error.to_string());
        source = error.source();
    }
    transport.then(|| causes.join(": "))
}

/// Maps a gRPC status received from trust to a [`TrustError`].
pub fn from_status(status: Status) -> TrustError {
    if let Some(causes) = transport_failure(&status) {
        return TrustError::Unavailable {
            reason: format!("trust unreachable: {causes}"),
            retry_after: TrustError::DEFAULT_RETRY_AFTER,
        };
    }
    if not_grpc(&status) {
        return TrustError::Unavailable {
            reason: format!(
                "the server at trust's address does not speak trust's gRPC: {}",
                status.message()
            ),
            retry_after: TrustError::DEFAULT_RETRY_AFTER,
        };
    }
    match status.code() {
        // Cancelled reaches a client only from its transport: the
        // connection went away under the call (trust stopped, or refused
        // this client's certificate after the handshake). Retryable.
        Code::Unavailable
        | Code::ResourceExhausted
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::Cancelled => {
            let retry_after = status
                .metadata()
                .get(RETRY_AFTER_METADATA)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(TrustError::DEFAULT_RETRY_AFTER);
            TrustError::Unavailable {
                reason: status.message().to_owned(),
                retry_after,
            }
        }
        Code::InvalidArgument if status.metadata().get(SUPPORTED_METADATA).is_some() => {
            let supported = status
                .metadata()
                .get_all(SUPPORTED_METADATA)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect();
            TrustError::UnsupportedMediaType {
                media_type: status.message().to_owned(),
                supported,
            }
        }
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            TrustError::InvalidInput(status.message().to_owned())
        }
        Code::NotFound => TrustError::NotFound(status.message().to_owned()),
        _ => TrustError::Internal(status.message().to_owned()),
    }
}

/// Maps a [`TrustError`] to the gRPC status the trust server sends.
pub fn to_status(error: &TrustError) -> Status {
    match error {
        TrustError::Unavailable {
            reason,
            retry_after,
        } => {
            let mut status = Status::unavailable(reason.clone());
            if let Ok(value) = retry_after.as_secs().max(1).to_string().parse() {
                status.metadata_mut().insert(RETRY_AFTER_METADATA, value);
            }
            status
        }
        TrustError::UnsupportedMediaType {
            media_type,
            supported,
        } => {
            // The message carries the media type; each supported type
            // travels as one metadata value, whose presence marks the
            // error as this variant.
            let mut status = Status::invalid_argument(media_type.clone());
            for s in supported {
                if let Ok(value) = s.parse() {
                    status.metadata_mut().append(SUPPORTED_METADATA, value);
                }
            }
            if status.metadata().get(SUPPORTED_METADATA).is_none()
                && let Ok(value) = "".parse()
            {
                status.metadata_mut().insert(SUPPORTED_METADATA, value);
            }
            status
        }
        TrustError::InvalidInput(message) => Status::invalid_argument(message.clone()),
        TrustError::NotFound(message) => Status::not_found(message.clone()),
        TrustError::Internal(message) => Status::internal(message.clone()),
    }
}

/// gRPC metadata listing the supported media types of an
/// [`TrustError::UnsupportedMediaType`].
const SUPPORTED_METADATA: &str = "vouch-supported-media-type";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_round_trips() {
        let cases = [
            TrustError::Unavailable {
                reason: "pool exhausted".into(),
                retry_after: Duration::from_secs(3),
            },
            TrustError::InvalidInput("bad".into()),
            TrustError::NotFound("no policy".into()),
            TrustError::UnsupportedMediaType {
                media_type: "application/x".into(),
                supported: vec!["application/psa-attestation-token".into(), "a/b".into()],
            },
            TrustError::Internal("boom".into()),
        ];
        for case in cases {
            let back = from_status(to_status(&case));
            assert_eq!(format!("{back:?}"), format!("{case:?}"));
        }
    }

    #[test]
    fn back_off_grows_then_resets() {
        let backoff = Backoff::new(Duration::from_millis(40), Duration::from_millis(100));
        assert!(backoff.check().is_ok());
        backoff.failed();
        let Err(TrustError::Unavailable { retry_after, .. }) = backoff.check() else {
            panic!("expected to be backing off");
        };
        assert!(retry_after <= Duration::from_millis(40));
        backoff.failed();
        backoff.failed();
        let Err(TrustError::Unavailable { retry_after, .. }) = backoff.check() else {
            panic!("expected to be backing off");
        };
        assert!(
            retry_after > Duration::from_millis(40) && retry_after <= Duration::from_millis(100)
        );
        backoff.succeeded();
        assert!(backoff.check().is_ok());
    }

    #[tokio::test]
    async fn an_absent_trust_is_retried_with_back_off() {
        // Nothing listens on this port once the listener is dropped.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let trust = GrpcTrust::connect_lazy(
            &[format!("http://127.0.0.1:{port}")],
            &GrpcTrustOptions {
                backoff_first: Duration::from_secs(5),
                backoff_max: Duration::from_secs(10),
                ..GrpcTrustOptions::default()
            },
        )
        .unwrap();
        let first = trust.service_state().await.unwrap_err();
        assert!(matches!(first, TrustError::Unavailable { .. }), "{first:?}");
        // The second call does not touch the network: it is inside the back-off.
        let started = Instant::now();
        let Err(TrustError::Unavailable {
            reason,
            retry_after,
        }) = trust.service_state().await
        else {
            panic!("expected unavailable");
        };
        assert!(started.elapsed() < Duration::from_millis(50));
        assert!(
            reason.contains("waiting before the next attempt"),
            "{reason}"
        );
        assert!(retry_after > Duration::from_secs(4));
        // Failures are no answers: readiness gets no cover from them.
        assert!(!trust.answered_within(Duration::from_secs(60)));
    }

    #[test]
    fn an_answer_counts_for_its_window_only() {
        let answered = Answered {
            since: Instant::now(),
            at_ms: std::sync::atomic::AtomicU64::new(0),
        };
        assert!(!answered.within(Duration::from_secs(3600)));
        answered.now();
        assert!(answered.within(Duration::from_secs(3600)));
        // An answer as old as the process is outside a zero window once a
        // millisecond has passed.
        std::thread::sleep(Duration::from_millis(5));
        assert!(!answered.within(Duration::ZERO));
    }

    #[test]
    fn trust_saying_it_is_busy_is_not_unreachable() {
        assert!(!is_unreachable(&to_status(&TrustError::unavailable(
            "pool exhausted"
        ))));
        assert!(is_unreachable(&Status::unavailable("tcp connect error")));
    }

    #[test]
    fn unreachable_trust_is_unavailable() {
        let err = from_status(Status::unavailable("tcp connect error"));
        assert!(
            matches!(err, TrustError::Unavailable { retry_after, .. } if retry_after == TrustError::DEFAULT_RETRY_AFTER)
        );
    }

    #[test]
    fn a_connection_lost_under_a_call_is_unavailable_not_internal() {
        // What tonic makes of a connection that trust closed, or whose
        // client certificate trust refused after the handshake.
        let cancelled = Status::cancelled("operation was canceled");
        assert!(is_unreachable(&cancelled));
        assert!(matches!(
            from_status(cancelled),
            TrustError::Unavailable { .. }
        ));
        let lost = Status::from_error(Box::new(std::io::Error::other(
            "received fatal alert: CertificateRequired",
        )));
        assert_eq!(lost.code(), Code::Unknown);
        assert!(is_unreachable(&lost));
        let TrustError::Unavailable { reason, .. } = from_status(lost) else {
            panic!("not unavailable");
        };
        assert!(reason.contains("CertificateRequired"), "{reason}");
        // An HTTP/2 connection error: what a front end without TLS gets
        // from a trust that requires it (tonic makes it `Internal`).
        let mut broken = Status::internal("h2 protocol error: frame with invalid size");
        broken.set_source(std::sync::Arc::new(h2::Error::from(
            h2::Reason::FRAME_SIZE_ERROR,
        )));
        assert!(is_unreachable(&broken));
        assert!(matches!(
            from_status(broken),
            TrustError::Unavailable { .. }
        ));
        // An Unknown or Internal status trust itself sent stays an
        // internal error.
        assert!(matches!(
            from_status(Status::internal("bug")),
            TrustError::Internal(_)
        ));
        let sent = Status::unknown("panic in a handler");
        assert!(!is_unreachable(&sent));
        assert!(matches!(from_status(sent), TrustError::Internal(_)));
    }
}
