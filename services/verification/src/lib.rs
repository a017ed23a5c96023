//! The Vouch verification service: Veraison's challenge-response REST API.
//!
//! - `POST /challenge-response/v1/newSession[?nonce=…|?nonceSize=…]` creates
//!   a session (201, `Location: session/<uuid>`).
//! - `POST /challenge-response/v1/session/{id}` submits evidence; the trust
//!   service appraises it synchronously and the session comes back with the
//!   signed EAR.
//! - `GET` / `DELETE /challenge-response/v1/session/{id}`.
//! - `GET /.well-known/veraison/verification` publishes the media types and
//!   the EAR verification key.
//!
//! The service is stateless apart from its session store, which is
//! in-process by default and memcached when several instances share sessions.
//! It never decodes evidence itself: it validates HTTP and hands bytes to
//! [`Trust`].

mod handlers;
mod session;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_http::health::{self, Health};
use vouch_http::limits::Limits;
use vouch_http::openapi::Documented;
use vouch_sessions::SessionStore;
use vouch_trust_api::Trust;

pub use session::{EvidenceBlob, Session, Status};

/// Media type of the session resource.
pub const SESSION_MEDIA_TYPE: &str = "application/vnd.veraison.challenge-response-session+json";

/// Media type of discovery documents.
pub const DISCOVERY_MEDIA_TYPE: &str = "application/vnd.veraison.discovery+json";

/// Settings of the verification service.
#[derive(Debug, Clone)]
pub struct VerificationConfig {
    /// How long a session lives (Veraison: 150 s).
    pub session_ttl: Duration,
    /// `Cache-Control: max-age` of the discovery document.
    pub discovery_max_age: Duration,
    /// Concurrency, time and body-size bounds for the API routes.
    pub limits: Limits,
    /// The process's metrics: sessions created, completed and expired.
    pub metrics: vouch_metrics::Metrics,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        VerificationConfig {
            session_ttl: Duration::from_secs(150),
            discovery_max_age: Duration::from_secs(60),
            limits: Limits {
                max_body_bytes: 256 * 1024,
                ..Limits::default()
            },
            metrics: vouch_metrics::Metrics::disabled(),
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    trust: Arc<dyn Trust>,
    sessions: Arc<dyn SessionStore>,
    config: Arc<VerificationConfig>,
}

/// Session-store readiness check.
pub struct SessionsReady(pub Arc<dyn SessionStore>);

#[async_trait::async_trait]
impl health::ReadinessCheck for SessionsReady {
    fn name(&self) -> &'static str {
        "sessions"
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }

    fn answered_recently(&self) -> bool {
        self.0.answered_within(health::ANSWERED_RECENTLY)
    }
}

/// The readiness state for this service: trust and the session store.
pub fn health(trust: Arc<dyn Trust>, sessions: Arc<dyn SessionStore>) -> Arc<Health> {
    Health::new(vec![
        Arc::new(vouch_http::trust::TrustReady(trust)),
        Arc::new(SessionsReady(sessions)),
    ])
}

/// The service's routes, health endpoints included.
pub fn router(
    trust: Arc<dyn Trust>,
    sessions: Arc<dyn SessionStore>,
    config: VerificationConfig,
    health: Arc<Health>,
) -> Router {
    documented(trust, sessions, config, health).router
}

/// The service's routes, health endpoints included, with their OpenAPI
/// document.
pub fn documented(
    trust: Arc<dyn Trust>,
    sessions: Arc<dyn SessionStore>,
    config: VerificationConfig,
    health: Arc<Health>,
) -> Documented {
    let limits = config.limits.clone();
    if sessions.expired_total().is_some() {
        let sessions = sessions.clone();
        config
            .metrics
            .register_sessions_expired(move || sessions.expired_total().unwrap_or(0));
    }
    let state = AppState {
        trust,
        sessions,
        config: Arc::new(config),
    };
    let api = OpenApiRouter::new()
        .routes(routes!(handlers::new_session))
        .routes(routes!(
            handlers::submit_evidence,
            handlers::get_session,
            handlers::delete_session
        ))
        .routes(routes!(handlers::well_known))
        .with_state(state);
    Documented::service(api, &limits, health)
}
