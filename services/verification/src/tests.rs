//! The evidence handler against a scripted trust: single use under
//! concurrency, and what each trust answer leaves the session in.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{Request, StatusCode};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;
use vouch_sessions::{MemorySessionStore, SessionStore};
use vouch_trust_api::{
    AttestationOutcome, AttestationRequest, AttestationStatus, MediaType, ServiceState,
    ServiceStatus, SubmitOutcome, Trust, TrustError,
};

use crate::{SESSION_MEDIA_TYPE, VerificationConfig, health, router};

const TOKEN_MT: &str = "application/psa-attestation-token";

/// A trust that answers `attest` from a script (then with an EAR naming the
/// nonce), optionally waiting at a gate first.
struct FakeTrust {
    media_types: Arc<[MediaType]>,
    script: Mutex<VecDeque<Result<AttestationOutcome, TrustError>>>,
    /// Each appraisal takes a permit; none are added until the test says.
    gate: Option<Arc<Semaphore>>,
    delay: Duration,
    calls: AtomicUsize,
}

impl FakeTrust {
    fn new() -> Self {
        FakeTrust {
            media_types: Arc::from([MediaType::parse(TOKEN_MT).unwrap()]),
            script: Mutex::new(VecDeque::new()),
            gate: None,
            delay: Duration::ZERO,
            calls: AtomicUsize::new(0),
        }
    }

    fn then(self, answer: Result<AttestationOutcome, TrustError>) -> Self {
        self.script.lock().unwrap().push_back(answer);
        self
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Trust for FakeTrust {
    async fn service_state(&self) -> Result<ServiceState, TrustError> {
        Ok(ServiceState {
            status: ServiceStatus::Ready,
            version: "test".to_owned(),
        })
    }

    async fn attest(&self, request: AttestationRequest) -> Result<AttestationOutcome, TrustError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        tokio::time::sleep(self.delay).await;
        let scripted = self.script.lock().unwrap().pop_front();
        scripted.unwrap_or_else(|| {
            Ok(AttestationOutcome {
                ear: format!("ear-for-{}", request.nonce.to_base64url()),
                scheme: "PSA_IOT".to_owned(),
                status: AttestationStatus::Affirming,
            })
        })
    }

    async fn verification_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        Ok(self.media_types.clone())
    }

    async fn provisioning_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        Ok(Arc::from([]))
    }

    async fn submit_endorsements(
        &self,
        _media_type: &MediaType,
        _data: Bytes,
    ) -> Result<SubmitOutcome, TrustError> {
        Err(TrustError::Internal("not in this test".to_owned()))
    }

    async fn ear_public_key(&self) -> Result<Arc<serde_json::Value>, TrustError> {
        Ok(Arc::new(serde_json::json!({})))
    }
}

struct TestService {
    router: Router,
    trust: Arc<FakeTrust>,
    sessions: Arc<MemorySessionStore>,
}

fn service_with(trust: FakeTrust, config: VerificationConfig) -> TestService {
    let trust = Arc::new(trust);
    let sessions = Arc::new(MemorySessionStore::new());
    let store: Arc<dyn SessionStore> = sessions.clone();
    let health = health(trust.clone(), store.clone());
    TestService {
        router: router(trust.clone(), store, config, health),
        trust,
        sessions,
    }
}

fn service(trust: FakeTrust) -> TestService {
    service_with(trust, VerificationConfig::default())
}

struct Answer {
    status: StatusCode,
    content_type: String,
    retry_after: Option<String>,
    location: Option<String>,
    body: serde_json::Value,
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let header = |name| {
        parts
            .headers
            .get(name)
            .map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let content_type = header(http::header::CONTENT_TYPE).unwrap_or_default();
    let retry_after = header(http::header::RETRY_AFTER);
    let location = header(http::header::LOCATION);
    let status = parts.status;
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        content_type,
        retry_after,
        location,
        body,
    }
}

impl TestService {
    /// Creates a session; returns its path and nonce.
    async fn new_session(&self) -> (String, String) {
        let answer = send(
            &self.router,
            Request::post("/challenge-response/v1/newSession")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED);
        let nonce = answer.body["nonce"].as_str().unwrap().to_owned();
        // `Location: session/<id>`, relative to the API root.
        let path = format!("/challenge-response/v1/{}", answer.location.unwrap());
        (path, nonce)
    }

    async fn submit(&self, path: &str, evidence: &'static [u8]) -> Answer {
        send(
            &self.router,
            Request::post(path)
                .header(http::header::CONTENT_TYPE, TOKEN_MT)
                .body(Body::from(evidence))
                .unwrap(),
        )
        .await
    }

    async fn get(&self, path: &str) -> Answer {
        send(
            &self.router,
            Request::get(path).body(Body::empty()).unwrap(),
        )
        .await
    }

    async fn delete(&self, path: &str) -> StatusCode {
        send(
            &self.router,
            Request::delete(path).body(Body::empty()).unwrap(),
        )
        .await
        .status
    }
}

fn ear_for(nonce: &str) -> serde_json::Value {
    serde_json::Value::String(format!("ear-for-{nonce}"))
}

fn assert_conflict(answer: &Answer) {
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.body);
    assert_eq!(answer.content_type, "application/problem+json");
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(detail.contains("already has evidence"), "{detail}");
}

/// Polls the session until it leaves `processing`.
async fn settled(service: &TestService, path: &str) -> Answer {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answer = service.get(path).await;
        if answer.body["status"] != "processing" {
            return answer;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "session stuck in processing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_one_of_many_concurrent_submissions_is_appraised() {
    // A slow appraisal keeps the winner inside trust while the others
    // arrive, which is when a read-check-write handler let them all through.
    let mut trust = FakeTrust::new();
    trust.delay = Duration::from_millis(50);
    let service = Arc::new(service(trust));
    for _ in 0..3 {
        let (path, nonce) = service.new_session().await;
        let calls_before = service.trust.calls();
        let start = Arc::new(tokio::sync::Barrier::new(40));
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let (service, path, start) = (service.clone(), path.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    service.submit(&path, b"\x01\x02").await
                })
            })
            .collect();
        let mut ok = Vec::new();
        for task in tasks {
            let answer = task.await.unwrap();
            if answer.status == StatusCode::OK {
                ok.push(answer);
            } else {
                assert_conflict(&answer);
            }
        }
        assert_eq!(ok.len(), 1, "exactly one submission may be appraised");
        assert_eq!(ok[0].content_type, SESSION_MEDIA_TYPE);
        assert_eq!(ok[0].body["status"], "complete");
        assert_eq!(ok[0].body["result"], ear_for(&nonce));
        assert_eq!(
            service.trust.calls() - calls_before,
            1,
            "trust saw one appraisal"
        );
        let stored = service.get(&path).await;
        assert_eq!(stored.body, ok[0].body);
    }
}

#[tokio::test]
async fn trust_unavailable_leaves_the_session_waiting_and_a_retry_succeeds() {
    let service = service(
        FakeTrust::new()
            .then(Err(TrustError::Unavailable {
                reason: "overloaded".to_owned(),
                retry_after: Duration::from_secs(3),
            }))
            .then(Err(TrustError::InvalidInput("bad request".to_owned())))
            .then(Err(TrustError::UnsupportedMediaType {
                media_type: TOKEN_MT.to_owned(),
                supported: vec![],
            })),
    );
    let (path, nonce) = service.new_session().await;
    let waiting = service.get(&path).await.body;
    assert_eq!(waiting["status"], "waiting");

    let answer = service.submit(&path, b"\x01").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.content_type, "application/problem+json");
    assert_eq!(answer.retry_after.as_deref(), Some("3"));
    // Back to exactly what it was: waiting, no evidence.
    assert_eq!(service.get(&path).await.body, waiting);

    // Other answers that decide nothing release the session too.
    assert_eq!(
        service.submit(&path, b"\x01").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(service.get(&path).await.body, waiting);
    assert_eq!(
        service.submit(&path, b"\x01").await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(service.get(&path).await.body, waiting);

    let answer = service.submit(&path, b"\x01").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["status"], "complete");
    assert_eq!(answer.body["result"], ear_for(&nonce));
    assert_eq!(answer.body["evidence"]["value"], "AQ==");
    assert_eq!(service.trust.calls(), 4);
    assert_conflict(&service.submit(&path, b"\x01").await);
}

#[tokio::test]
async fn an_internal_trust_failure_fails_the_session() {
    let service = service(FakeTrust::new().then(Err(TrustError::Internal("boom".to_owned()))));
    let (path, _) = service.new_session().await;
    let answer = service.submit(&path, b"\x01").await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        answer.body["detail"],
        "error encountered while processing evidence"
    );
    let stored = service.get(&path).await.body;
    assert_eq!(stored["status"], "failed");
    assert_eq!(stored["evidence"]["type"], TOKEN_MT);
    let answer = service.submit(&path, b"\x01").await;
    assert_conflict(&answer);
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("(it is failed)")
    );
}

#[tokio::test]
async fn a_session_being_appraised_shows_processing_and_refuses_evidence() {
    let mut trust = FakeTrust::new();
    let gate = Arc::new(Semaphore::new(0));
    trust.gate = Some(gate.clone());
    let service = Arc::new(service(trust));
    let (path, nonce) = service.new_session().await;
    let first = {
        let (service, path) = (service.clone(), path.clone());
        tokio::spawn(async move { service.submit(&path, b"\x01\x02").await })
    };
    while service.trust.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let during = service.get(&path).await.body;
    assert_eq!(during["status"], "processing");
    assert_eq!(during["evidence"]["value"], "AQI=");
    assert!(during.get("result").is_none());
    let answer = service.submit(&path, b"\x03").await;
    assert_conflict(&answer);
    assert!(
        answer.body["detail"]
            .as_str()
            .unwrap()
            .contains("(it is processing)")
    );

    gate.add_permits(1);
    let answer = first.await.unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["result"], ear_for(&nonce));
    assert_eq!(service.get(&path).await.body["status"], "complete");
    assert_eq!(service.trust.calls(), 1);
}

#[tokio::test]
async fn a_request_timeout_does_not_strand_the_claim() {
    // The appraisal outlives the request: the client gets 503 from the
    // timeout layer, and the session still reaches `complete`.
    let mut trust = FakeTrust::new();
    trust.delay = Duration::from_millis(400);
    let mut config = VerificationConfig::default();
    config.limits.request_timeout = Duration::from_millis(100);
    let service = service_with(trust, config);
    let (path, nonce) = service.new_session().await;
    let answer = service.submit(&path, b"\x01").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    let stored = settled(&service, &path).await.body;
    assert_eq!(stored["status"], "complete");
    assert_eq!(stored["result"], ear_for(&nonce));

    // Likewise a 503 from trust after the client has gone: the session is
    // released, not left processing.
    let mut trust = FakeTrust::new().then(Err(TrustError::unavailable("busy")));
    trust.delay = Duration::from_millis(400);
    let mut config = VerificationConfig::default();
    config.limits.request_timeout = Duration::from_millis(100);
    let service = service_with(trust, config);
    let (path, _) = service.new_session().await;
    assert_eq!(
        service.submit(&path, b"\x01").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(settled(&service, &path).await.body["status"], "waiting");
}

#[tokio::test]
async fn a_session_deleted_during_appraisal_stays_deleted() {
    let mut trust = FakeTrust::new();
    let gate = Arc::new(Semaphore::new(0));
    trust.gate = Some(gate.clone());
    let service = Arc::new(service(trust));
    let (path, nonce) = service.new_session().await;
    let first = {
        let (service, path) = (service.clone(), path.clone());
        tokio::spawn(async move { service.submit(&path, b"\x01").await })
    };
    while service.trust.calls() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(service.delete(&path).await, StatusCode::NO_CONTENT);
    gate.add_permits(1);
    // The attester still gets the appraisal of its evidence...
    let answer = first.await.unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["result"], ear_for(&nonce));
    // ...but the session is not brought back.
    assert_eq!(service.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_session_past_its_published_expiry_takes_no_evidence() {
    // Memcached may keep an entry up to a second past its expiry; the
    // session's own `expiry` decides.
    let service = service(FakeTrust::new());
    let (path, _) = service.new_session().await;
    let id = path.rsplit('/').next().unwrap();
    let mut stored: serde_json::Value =
        serde_json::from_slice(&service.sessions.get(id).await.unwrap().unwrap()).unwrap();
    stored["expiry"] = "2020-01-01T00:00:00Z".into();
    service
        .sessions
        .put(
            id,
            serde_json::to_vec(&stored).unwrap().into(),
            std::time::SystemTime::now() + Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(
        service.submit(&path, b"\x01").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(service.trust.calls(), 0);
}

/// Veraison reads a repeated query parameter's first value (Go's
/// `c.Query`); a later, empty repetition must not hide a bad first one.
#[tokio::test]
async fn a_repeated_nonce_parameter_counts_by_its_first_value() {
    let service = service(FakeTrust::new());
    let new_session = |query: &str| {
        Request::post(format!("/challenge-response/v1/newSession?{query}"))
            .body(Body::empty())
            .unwrap()
    };
    let answer = send(&service.router, new_session("nonceSize=abc&nonceSize=")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    let answer = send(&service.router, new_session("nonceSize=16&nonceSize=99")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    let nonce = answer.body["nonce"].as_str().unwrap();
    assert_eq!(nonce.trim_end_matches('=').len(), 22, "16 bytes: {nonce}");
}
