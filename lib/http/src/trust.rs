//! How the front ends present the trust service: error mapping, readiness,
//! and discovery-document caching headers.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use http::{HeaderValue, header};
use vouch_trust_api::{ServiceStatus, Trust, TrustError};

use crate::Problem;
use crate::health::ReadinessCheck;

/// The one place a [`TrustError`] becomes an HTTP problem.
pub fn problem(error: &TrustError) -> Problem {
    match error {
        TrustError::Unavailable {
            reason,
            retry_after,
        } => Problem::unavailable(format!("trust service unavailable: {reason}"), *retry_after),
        TrustError::InvalidInput(message) => Problem::bad_request(message.clone()),
        TrustError::Internal(message) => {
            tracing::error!(%message, "trust service failure");
            Problem::internal("trust service failure")
        }
    }
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
