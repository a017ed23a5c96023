//! OpenTelemetry traces of a Vouch process.
//!
//! Off unless an OTLP endpoint is configured (`--otlp-endpoint`, or
//! `OTEL_EXPORTER_OTLP_ENDPOINT`). When on, [`Telemetry::start`] returns a
//! `tracing` layer that exports Vouch's spans over OTLP/gRPC in batches,
//! and installs the W3C trace-context propagator, so that:
//!
//! - a REST front end continues a client's trace (`traceparent`) in its
//!   request span ([`set_parent_from_headers`]),
//! - the gRPC client to trust sends the current span's context in the call's
//!   metadata ([`Propagate`], a tonic interceptor),
//! - trust continues it in its server span ([`ServerSpanLayer`], a Tower
//!   layer, so the span covers the whole call),
//!
//! and one trace shows a verification from the client through the front end
//! into trust's appraisal steps.
//!
//! Spans are created at `DEBUG` on the [`SPAN_TARGET`] target, which only
//! the export layer enables: with export off (and the default log filter)
//! they are disabled at their call sites and cost a relaxed load each.

use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// The target of every span Vouch exports.
pub const SPAN_TARGET: &str = "vouch::span";

/// Why tracing could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter could not be built (a malformed endpoint).
    #[error("setting up the OTLP exporter for {endpoint}: {reason}")]
    Exporter {
        /// The endpoint configured.
        endpoint: String,
        /// What the exporter said.
        reason: String,
    },
}

/// Running trace export; [`shutdown`](Self::shutdown) flushes what is
/// batched.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Starts exporting to `endpoint` (`http://host:4317`) under the OTel
    /// `service.name` `service`. Returns the layer to add to the
    /// subscriber; it sees only Vouch's spans. Must run inside a tokio
    /// runtime (the exporter's channel lives there).
    pub fn start<S>(
        endpoint: &str,
        service: &str,
    ) -> Result<(Self, impl Layer<S> + Send + Sync + 'static), TelemetryError>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| TelemetryError::Exporter {
                endpoint: endpoint.to_owned(),
                reason: e.to_string(),
            })?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name(service.to_owned())
                    .build(),
            )
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let layer = tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("vouch"))
            .with_filter(Targets::new().with_target(SPAN_TARGET, tracing::Level::DEBUG));
        Ok((Telemetry { provider }, layer))
    }

    /// Exports what is batched and stops. Blocks (the exporter waits for
    /// its last batch); call it from a blocking context.
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            eprintln!("vouch: flushing traces at shutdown: {e}");
        }
    }
}

#[cfg(test)]
struct HeaderInjector<'a>(&'a mut http::HeaderMap);

#[cfg(test)]
impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Makes `span` continue the trace `headers` carry (`traceparent`), if any.
/// Without a propagator installed (export off) it does nothing.
pub fn set_parent_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    if span.is_disabled() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    // Fails only when the span is already started elsewhere; nothing to do.
    let _ = span.set_parent(parent);
}

/// Writes the current span's trace context into `headers` (`traceparent`),
/// as the interceptor does into gRPC metadata.
#[cfg(test)]
fn inject_current(headers: &mut http::HeaderMap) {
    inject_into(&mut HeaderInjector(headers));
}

/// Writes the current span's trace context through `injector`; nothing
/// when the span is disabled (traces off).
fn inject_into(injector: &mut dyn Injector) {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return;
    }
    let context = span.context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, injector);
    });
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// A tonic client interceptor sending the current span's trace context.
#[derive(Debug, Clone, Copy, Default)]
pub struct Propagate;

impl tonic::service::Interceptor for Propagate {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        inject_into(&mut MetadataInjector(request.metadata_mut()));
        Ok(request)
    }
}

/// A Tower layer for a gRPC server: each call runs in a `SERVER` span named
/// by its method (`/vouch.trust.v1.Trust/GetAttestation`), continuing the
/// caller's trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerSpanLayer;

impl<S> tower::Layer<S> for ServerSpanLayer {
    type Service = ServerSpan<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerSpan { inner }
    }
}

/// See [`ServerSpanLayer`].
#[derive(Debug, Clone)]
pub struct ServerSpan<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for ServerSpan<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tracing::instrument::Instrumented<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        use tracing::Instrument as _;
        let span = tracing::debug_span!(
            target: SPAN_TARGET,
            "grpc",
            otel.name = request.uri().path(),
            otel.kind = "server",
            rpc.system = "grpc",
        );
        set_parent_from_headers(&span, request.headers());
        self.inner.call(request).instrument(span)
    }
}

#[cfg(test)]
mod tests;
