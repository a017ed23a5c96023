//! How the front ends present the trust service: error mapping, readiness,
//! and discovery-document caching headers.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, header};
use vouch_trust_api::{MediaType, ServiceStatus, Trust, TrustError};

use crate::Problem;
use crate::health::ReadinessCheck;

/// The one place a [`TrustError`] becomes an HTTP problem.
pub fn problem(error: &TrustError) -> Problem {
    match error {
        TrustError::Unavailable {
            reason,
            retry_after,
        } => Problem::unavailable(format!("trust service unavailable: {reason}"), *retry_after),
        TrustError::UnsupportedMediaType {
            media_type,
            supported,
        } => Problem::unsupported_media_type(
            format!("no active plugin found for {media_type}"),
            supported.iter().map(String::as_str),
        ),
        TrustError::InvalidInput(message) => Problem::bad_request(message.clone()),
        TrustError::NotFound(message) => Problem::not_found(message.clone()),
        TrustError::Internal(message) => {
            tracing::error!(%message, "trust service failure");
            Problem::internal("trust service failure")
        }
    }
}

/// Reads a request's `Content-Type` and checks it against the media types
/// trust supports, with Veraison's texts: 415 with an `Accept` list when it
/// is missing or unsupported, 400 when it does not parse. `checker` names
/// the component in the 400 text (`verifier`, `provisioner`). Returns the
/// header as sent and its parsed form.
pub fn supported_content_type<'h>(
    headers: &'h HeaderMap,
    supported: &[MediaType],
    checker: &str,
) -> Result<(&'h str, MediaType), Problem> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let unsupported = || {
        Problem::unsupported_media_type(
            format!("no active plugin found for {raw}"),
            supported.iter().map(MediaType::as_str),
        )
    };
    if raw.is_empty() {
        return Err(unsupported());
    }
    let media_type = MediaType::parse(raw).map_err(|e| {
        Problem::bad_request(format!("could not check media type with {checker}: {e}"))
    })?;
    if !supported.contains(&media_type) {
        return Err(unsupported());
    }
    Ok((raw, media_type))
}

/// Readiness check: trust answers and reports `READY`.
pub struct TrustReady(pub Arc<dyn Trust>);

#[async_trait::async_trait]
impl ReadinessCheck for TrustReady {
    fn name(&self) -> &'static str {
        "trust"
    }

    async fn check(&self) -> Result<(), String> {
        match self.0.service_state().await {
            Ok(state) if state.status == ServiceStatus::Ready => Ok(()),
            Ok(state) => Err(format!("trust is {}", state.status.as_str())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn answered_recently(&self) -> bool {
        self.0.answered_within(crate::health::ANSWERED_RECENTLY)
    }
}

/// Adds Veraison's discovery caching headers: `Cache-Control: max-age` and
/// an `Expires` date.
pub fn add_discovery_cache_headers(response: &mut Response, max_age: Duration) {
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("max-age={}", max_age.as_secs())) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    let expires = time::OffsetDateTime::now_utc() + max_age;
    if let Ok(text) = expires.format(&time::format_description::well_known::Rfc2822) {
        // HTTP dates are RFC 7231 IMF-fixdate: RFC 2822 with "GMT".
        let text = text.replace("+0000", "GMT");
        if let Ok(v) = HeaderValue::from_str(&text) {
            headers.insert(header::EXPIRES, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;
    use http::StatusCode;

    use super::*;

    #[test]
    fn every_trust_error_has_one_http_status() {
        let cases = [
            (
                TrustError::unavailable("busy"),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                TrustError::UnsupportedMediaType {
                    media_type: "application/x".into(),
                    supported: vec!["a/b".into(), "c/d".into()],
                },
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                TrustError::InvalidInput("bad".into()),
                StatusCode::BAD_REQUEST,
            ),
            (
                TrustError::NotFound("no policy".into()),
                StatusCode::NOT_FOUND,
            ),
            (
                TrustError::Internal("boom".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            let response = problem(&error).into_response();
            assert_eq!(response.status(), status, "{error:?}");
            if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
                assert_eq!(response.headers()[header::ACCEPT], "a/b, c/d");
            }
        }
    }

    /// Whatever listens at trust's address may not be trust: a REST
    /// listener (a port mix-up, or a port reused after trust died) answers
    /// gRPC calls with a problem+json 404. The front end must see trust as
    /// unavailable (503, not ready), not fail with a 500.
    #[tokio::test]
    async fn a_rest_listener_at_trusts_address_is_unavailable_not_a_500() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new().fallback(crate::limits::not_found);
        tokio::spawn(async move { axum::serve(listener, router).await });
        let trust = vouch_trust_api::GrpcTrust::connect_lazy(
            &[format!("http://{addr}")],
            &vouch_trust_api::GrpcTrustOptions::default(),
        )
        .unwrap();
        let error = trust.verification_media_types().await.unwrap_err();
        assert!(
            error.to_string().contains("does not speak trust's gRPC"),
            "{error:?}"
        );
        let response = problem(&error).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        // Like an unreachable trust, it is retried after a back-off, and
        // readiness fails meanwhile.
        let ready = TrustReady(Arc::new(trust));
        let reason = ready.check().await.unwrap_err();
        assert!(reason.contains("unavailable"), "{reason}");
    }
}
