//! The Vouch provisioning service: Veraison's endorsement submission API.
//!
//! - `POST /endorsement-provisioning/v1/submit` takes a CoRIM under one of
//!   the media types the trust service supports and answers with a
//!   provisioning-session document: `success`, or `failed` with a reason.
//! - `GET /.well-known/veraison/provisioning` lists those media types.
//!
//! Submitting needs the `provisioner` role when
//! [`ProvisioningConfig::auth`] is not `none`; discovery and health stay open.
//!
//! Bad CoRIMs are answered 200 with `status: failed`, as Veraison clients
//! expect. Unlike Veraison, a trust service that cannot be reached gives
//! 503 with `Retry-After` instead of a 200 that hides the failure.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_auth::{Authenticator, Role, require_role};
use vouch_http::health::Health;
use vouch_http::limits::{Body, Limits};
use vouch_http::openapi::{
    Documented, Status400, Status401, Status403, Status406, Status413, Status415, Status503,
};
use vouch_http::{Problem, negotiate};
use vouch_trust_api::{MediaType, SubmitOutcome, Trust, TrustError};

/// Media type of the provisioning-session response.
pub const PROVISIONING_SESSION_MEDIA_TYPE: &str =
    "application/vnd.veraison.provisioning-session+json";

/// Media type of discovery documents.
pub const DISCOVERY_MEDIA_TYPE: &str = "application/vnd.veraison.discovery+json";

/// Settings of the provisioning service.
#[derive(Debug, Clone)]
pub struct ProvisioningConfig {
    /// `Cache-Control: max-age` of the discovery document.
    pub discovery_max_age: Duration,
    /// Concurrency, time and body-size bounds for the API routes.
    pub limits: Limits,
    /// Who may submit: callers need the `provisioner` role. The discovery
    /// document and health stay open, as in Veraison.
    pub auth: Authenticator,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        ProvisioningConfig {
            discovery_max_age: Duration::from_secs(60),
            limits: Limits {
                max_concurrency: 64,
                request_timeout: Duration::from_secs(60),
                max_body_bytes: 32 * 1024 * 1024,
                queue_when_busy: true,
            },
            auth: Authenticator::None,
        }
    }
}

#[derive(Clone)]
struct AppState {
    trust: Arc<dyn Trust>,
    config: Arc<ProvisioningConfig>,
}

/// The readiness state for this service: trust must answer.
pub fn health(trust: Arc<dyn Trust>) -> Arc<Health> {
    Health::new(vec![Arc::new(vouch_http::trust::TrustReady(trust))])
}

/// The service's routes, health endpoints included.
pub fn router(trust: Arc<dyn Trust>, config: ProvisioningConfig, health: Arc<Health>) -> Router {
    documented(trust, config, health).router
}

/// The service's routes, health endpoints included, with their OpenAPI
/// document.
pub fn documented(
    trust: Arc<dyn Trust>,
    config: ProvisioningConfig,
    health: Arc<Health>,
) -> Documented {
    let limits = config.limits.clone();
    let (schemas, paths, mut submit_route) = routes!(submit);
    if config.auth.is_enabled() {
        // Inside the limits: the timeout covers the credential check, and
        // the concurrency bound caps the argon2 work a flood can cause. Only
        // headers are read, so a refused body is never read nor stored.
        submit_route =
            submit_route.route_layer(require_role(config.auth.clone(), Role::Provisioner));
    }
    let state = AppState {
        trust,
        config: Arc::new(config),
    };
    let api = OpenApiRouter::new()
        .routes((schemas, paths, submit_route))
        .routes(routes!(well_known))
        .with_state(state);
    Documented::service(api, &limits, health)
}

/// What a submission answers (Veraison's provisioning session).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only its schema is used; the handler builds the JSON.
struct SubmitResult {
    /// `success` (stored, or stored before) or `failed` (refused).
    #[schema(example = "success")]
    status: String,
    /// RFC 3339 time of the answer.
    expiry: String,
    /// Why the CoRIM was refused.
    #[schema(rename = "failure-reason")]
    failure_reason: Option<String>,
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc())
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Submits endorsements (a CoRIM, unsigned or signed) for trust to store.
#[utoipa::path(
    post,
    path = "/endorsement-provisioning/v1/submit",
    tag = "provisioning",
    operation_id = "submitEndorsements",
    request_body(
        description = "A CoRIM in one of the media types the discovery document lists.",
        content_type = "application/corim-unsigned+cbor",
        content = vouch_http::openapi::Binary,
    ),
    responses(
        (status = 200, description = "Stored (`success`), or refused with the reason (`failed`).",
            body = SubmitResult, content_type = "application/vnd.veraison.provisioning-session+json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 406, response = Status406),
        (status = 413, response = Status413),
        (status = 415, response = Status415),
        (status = 503, response = Status503),
    ),
)]
async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, Problem> {
    if !negotiate::accepts(&headers, PROVISIONING_SESSION_MEDIA_TYPE) {
        return Err(Problem::not_acceptable(PROVISIONING_SESSION_MEDIA_TYPE));
    }
    let supported = state
        .trust
        .provisioning_media_types()
        .await
        .map_err(|e| vouch_http::trust::problem(&e))?;
    let (_, media_type) =
        vouch_http::trust::supported_content_type(&headers, &supported, "provisioner")?;
    if body.is_empty() {
        return Err(Problem::bad_request("empty body"));
    }
    let outcome = state
        .trust
        .submit_endorsements(&media_type, body)
        .await
        .map_err(|e| vouch_http::trust::problem(&e))?;
    let body = match outcome {
        SubmitOutcome::Stored | SubmitOutcome::AlreadyStored => serde_json::json!({
            "status": "success",
            "expiry": now_rfc3339(),
        }),
        SubmitOutcome::Rejected(reason) => {
            tracing::info!(%reason, "CoRIM refused");
            serde_json::json!({
                "status": "failed",
                "expiry": now_rfc3339(),
                "failure-reason": format!(
                    "submit endorsement returned error: submit endorsements failed: {reason}"
                ),
            })
        }
    };
    Ok(vouch_http::typed_response(
        StatusCode::OK,
        PROVISIONING_SESSION_MEDIA_TYPE,
        body.to_string(),
    ))
}

/// The provisioning discovery document: CoRIM media types and the service
/// state.
#[utoipa::path(
    get,
    path = "/.well-known/veraison/provisioning",
    tag = "provisioning",
    operation_id = "provisioningDiscovery",
    responses(
        (status = 200, description = "The discovery document.", body = Object,
            content_type = "application/vnd.veraison.discovery+json"),
        (status = 406, response = Status406),
        (status = 503, response = Status503),
    ),
)]
async fn well_known(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    if !negotiate::accepts_any(&headers, &[DISCOVERY_MEDIA_TYPE, "application/json"]) {
        return Err(Problem::not_acceptable(DISCOVERY_MEDIA_TYPE));
    }
    let trust_problem = |e: TrustError| vouch_http::trust::problem(&e);
    let types = state
        .trust
        .provisioning_media_types()
        .await
        .map_err(trust_problem)?;
    let trust_state = state.trust.service_state().await.map_err(trust_problem)?;
    let body = serde_json::json!({
        "media-types": types.iter().map(MediaType::as_str).collect::<Vec<_>>(),
        "version": trust_state.version,
        "service-state": trust_state.status.as_str(),
        "api-endpoints": {
            "provisioningSubmit": "/endorsement-provisioning/v1/submit"
        }
    });
    let mut response =
        vouch_http::typed_response(StatusCode::OK, DISCOVERY_MEDIA_TYPE, body.to_string());
    vouch_http::trust::add_discovery_cache_headers(&mut response, state.config.discovery_max_age);
    Ok(response)
}
