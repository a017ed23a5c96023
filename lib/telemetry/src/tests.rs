use opentelemetry::trace::TraceContextExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

use super::*;

/// A subscriber with the same filtered bridge layer `start` builds, over a
/// provider that exports nowhere: spans get real OTel contexts.
fn with_bridge(f: impl FnOnce()) {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("test"))
        .with_filter(Targets::new().with_target(SPAN_TARGET, tracing::Level::DEBUG));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, f);
}

fn trace_id(span: &tracing::Span) -> String {
    span.context().span().span_context().trace_id().to_string()
}

#[test]
fn a_trace_crosses_headers_from_client_to_server_span() {
    with_bridge(|| {
        let client = tracing::debug_span!(target: SPAN_TARGET, "client");
        let mut headers = http::HeaderMap::new();
        client.in_scope(|| inject_current(&mut headers));
        let traceparent = headers["traceparent"].to_str().unwrap().to_owned();
        assert!(
            traceparent.contains(&trace_id(&client)),
            "{traceparent} does not carry {}",
            trace_id(&client)
        );

        let server = tracing::debug_span!(target: SPAN_TARGET, "server");
        set_parent_from_headers(&server, &headers);
        assert_eq!(trace_id(&server), trace_id(&client));
    });
}

#[test]
fn a_clients_traceparent_is_continued_and_garbage_is_ignored() {
    with_bridge(|| {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        );
        let span = tracing::debug_span!(target: SPAN_TARGET, "request");
        set_parent_from_headers(&span, &headers);
        assert_eq!(trace_id(&span), "4bf92f3577b34da6a3ce929d0e0e4736");

        headers.insert("traceparent", http::HeaderValue::from_static("nonsense"));
        let span = tracing::debug_span!(target: SPAN_TARGET, "request");
        set_parent_from_headers(&span, &headers);
        assert_ne!(trace_id(&span), "4bf92f3577b34da6a3ce929d0e0e4736");
    });
}

#[test]
fn without_export_nothing_is_injected() {
    // No subscriber with the bridge: the span is disabled.
    let span = tracing::debug_span!(target: SPAN_TARGET, "client");
    let mut headers = http::HeaderMap::new();
    span.in_scope(|| inject_current(&mut headers));
    assert!(headers.is_empty());
}
