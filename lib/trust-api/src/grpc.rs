//! The [`Trust`] interface over gRPC, both directions of the status mapping.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};
use vouch_proto::trust as pb;
use vouch_proto::trust::trust_client::TrustClient;

use crate::{
    AttestationOutcome, AttestationRequest, Bytes, DEFAULT_TENANT, MediaType, ServiceState,
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
}

impl Default for GrpcTrustOptions {
    fn default() -> Self {
        GrpcTrustOptions {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(10),
            metadata_ttl: Duration::from_secs(30),
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

/// A [`Trust`] reached over gRPC. Connections are made lazily, so a front
/// end starts (and reports not-ready) while trust is still coming up.
/// Several URLs are load-balanced per request.
pub struct GrpcTrust {
    client: TrustClient<Channel>,
    verification_types: Cached<Arc<[MediaType]>>,
    provisioning_types: Cached<Arc<[MediaType]>>,
    ear_key: Cached<Arc<serde_json::Value>>,
}

impl GrpcTrust {
    /// Prepares a client for one or more trust URLs (`http://host:port`).
    pub fn connect_lazy(urls: &[String], options: &GrpcTrustOptions) -> Result<Self, TrustError> {
        let endpoints = urls
            .iter()
            .map(|url| {
                Endpoint::from_shared(url.clone())
                    .map(|e| {
                        e.connect_timeout(options.connect_timeout)
                            .timeout(options.request_timeout)
                            .tcp_nodelay(true)
                            .http2_keep_alive_interval(Duration::from_secs(20))
                            .keep_alive_while_idle(true)
                    })
                    .map_err(|e| {
                        TrustError::InvalidInput(format!("invalid trust URL {url:?}: {e}"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let channel = match endpoints.as_slice() {
            [] => return Err(TrustError::InvalidInput("no trust URL given".into())),
            [one] => one.connect_lazy(),
            _ => Channel::balance_list(endpoints.into_iter()),
        };
        Ok(GrpcTrust {
            client: TrustClient::new(channel)
                .max_decoding_message_size(16 * 1024 * 1024)
                .max_encoding_message_size(64 * 1024 * 1024),
            verification_types: Cached::new(options.metadata_ttl),
            provisioning_types: Cached::new(options.metadata_ttl),
            ear_key: Cached::new(options.metadata_ttl),
        })
    }

    fn client(&self) -> TrustClient<Channel> {
        self.client.clone()
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
    async fn service_state(&self) -> Result<ServiceState, TrustError> {
        let state = self
            .client()
            .get_service_state(pb::Empty {})
            .await
            .map_err(from_status)?
            .into_inner();
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
        let response = self
            .client()
            .get_attestation(pb::AttestationRequest {
                tenant_id: DEFAULT_TENANT.to_owned(),
                evidence: request.evidence,
                media_type: request.media_type,
                nonce: Bytes::copy_from_slice(request.nonce.as_bytes()),
            })
            .await
            .map_err(from_status)?
            .into_inner();
        Ok(AttestationOutcome {
            ear: response.ear,
            scheme: response.scheme,
            status: response.status,
        })
    }

    async fn verification_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        if let Some(cached) = self.verification_types.get() {
            return Ok(cached);
        }
        let list = self
            .client()
            .get_supported_verification_media_types(pb::Empty {})
            .await
            .map_err(from_status)?
            .into_inner();
        let types = media_types(list)?;
        self.verification_types.put(types.clone());
        Ok(types)
    }

    async fn provisioning_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        if let Some(cached) = self.provisioning_types.get() {
            return Ok(cached);
        }
        let list = self
            .client()
            .get_supported_provisioning_media_types(pb::Empty {})
            .await
            .map_err(from_status)?
            .into_inner();
        let types = media_types(list)?;
        self.provisioning_types.put(types.clone());
        Ok(types)
    }

    async fn submit_endorsements(
        &self,
        media_type: &MediaType,
        data: Bytes,
    ) -> Result<SubmitOutcome, TrustError> {
        let response = self
            .client()
            .submit_endorsements(pb::SubmitEndorsementsRequest {
                media_type: media_type.as_str().to_owned(),
                data,
            })
            .await
            .map_err(from_status)?
            .into_inner();
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
            .client()
            .get_ear_signing_public_key(pb::Empty {})
            .await
            .map_err(from_status)?
            .into_inner();
        let jwk: serde_json::Value = serde_json::from_str(&key.jwk)
            .map_err(|e| TrustError::Internal(format!("trust sent a bad EAR key: {e}")))?;
        let jwk = Arc::new(jwk);
        self.ear_key.put(jwk.clone());
        Ok(jwk)
    }
}

/// Maps a gRPC status received from trust to a [`TrustError`].
pub fn from_status(status: Status) -> TrustError {
    match status.code() {
        Code::Unavailable | Code::ResourceExhausted | Code::DeadlineExceeded | Code::Aborted => {
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
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            TrustError::InvalidInput(status.message().to_owned())
        }
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
        TrustError::InvalidInput(message) => Status::invalid_argument(message.clone()),
        TrustError::Internal(message) => Status::internal(message.clone()),
    }
}

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
            TrustError::Internal("boom".into()),
        ];
        for case in cases {
            let back = from_status(to_status(&case));
            assert_eq!(format!("{back:?}"), format!("{case:?}"));
        }
    }

    #[test]
    fn unreachable_trust_is_unavailable() {
        let err = from_status(Status::unavailable("tcp connect error"));
        assert!(
            matches!(err, TrustError::Unavailable { retry_after, .. } if retry_after == TrustError::DEFAULT_RETRY_AFTER)
        );
    }
}
