//! OpenTelemetry traces across the split topology: an OTLP/gRPC receiver
//! runs inside the test, a verification front end and a trust process
//! export to it (`--otlp-endpoint`), and one verification shows up as one
//! trace: the front end's request span, its call to trust, trust's server
//! span (a child of that call, across the process boundary) and the
//! appraisal steps, continuing the trace the client started.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::procs::{self, Topology};
use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};

const STOP: Duration = Duration::from_secs(15);

/// One span as received: the exporting service and the span's ids.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    kind: i32,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
}

#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<Received>>>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref()?.value.clone())
                .map(|v| match v {
                    AnyValue::StringValue(s) => s,
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(Received {
                        service: service.clone(),
                        name: span.name,
                        kind: span.kind,
                        trace_id: hex::encode(span.trace_id),
                        span_id: hex::encode(span.span_id),
                        parent_span_id: hex::encode(span.parent_span_id),
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// OTLP span kinds.
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_verification_is_one_trace_from_the_client_through_trust() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let otlp = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(receiver.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let export = ["--otlp-endpoint", otlp.as_str()];
    let trust = topology.trust(&export).await;
    let t = [trust.trust.unwrap()];
    let verification = topology.verification(&t, &export).await;
    let provisioning = topology.provisioning(&t, &[]).await;
    let client = procs::https_client(Duration::from_secs(30));
    let device = Device::generate().unwrap();
    provision_ok_at(
        &client,
        &provisioning.provisioning_url(),
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;

    // The client starts the trace.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace_id}-{client_span}-01");
    let base = verification.verification_url();
    let (session_url, nonce) = open_session_at(&client, &base, "").await;
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    let response = client
        .post(&session_url)
        .header("Content-Type", PSA_TOKEN_MT)
        .header("traceparent", &traceparent)
        .body(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session: serde_json::Value = response.json().await.unwrap();
    assert_eq!(session["status"], "complete", "{session}");

    // A graceful stop exports what is batched.
    verification.stop(STOP).await;
    trust.stop(STOP).await;
    provisioning.stop(STOP).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let spans = loop {
        let spans: Vec<Received> = receiver
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.trace_id == trace_id)
            .cloned()
            .collect();
        if spans.iter().any(|s| s.name == "ear") || Instant::now() > deadline {
            break spans;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let find = |service: &str, name: &str| {
        spans
            .iter()
            .find(|s| s.service == service && s.name == name)
            .unwrap_or_else(|| panic!("no span {name:?} from {service} in trace: {spans:#?}"))
            .clone()
    };

    let request = find(
        "vouch-verification",
        "POST /challenge-response/v1/session/{id}",
    );
    assert_eq!(request.kind, SERVER);
    assert_eq!(
        request.parent_span_id, client_span,
        "continues the client's trace"
    );
    let call = find("vouch-verification", "trust call");
    assert_eq!(call.kind, CLIENT);
    assert_eq!(call.parent_span_id, request.span_id);
    let served = find("vouch-trust", "/vouch.trust.v1.Trust/GetAttestation");
    assert_eq!(served.kind, SERVER);
    assert_eq!(
        served.parent_span_id, call.span_id,
        "trust's span is a child of the front end's call, across processes"
    );
    let appraisal = find("vouch-trust", "appraisal");
    assert_eq!(appraisal.parent_span_id, served.span_id);
    for step in [
        "decode",
        "trust-anchor lookup",
        "signature",
        "reference-value lookup",
        "matching",
        "policy",
        "ear",
    ] {
        assert_eq!(
            find("vouch-trust", step).parent_span_id,
            appraisal.span_id,
            "{step}"
        );
    }
    // The session's creation, without a traceparent, is a trace of its own.
    assert!(
        receiver
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.name == "POST /challenge-response/v1/newSession" && s.trace_id != trace_id)
    );
    server.abort();
}
