//! The Vouch management service: Veraison's policy management API.
//!
//! Appraisal policies are Rego rules stored per attestation scheme; at most
//! one per scheme is active, and trust applies it to every appraisal of that
//! scheme. The routes are Veraison's (`management/api/router.go`):
//!
//! - `POST /management/v1/policy/{scheme}[?name=N]`: store new rules
//!   (`application/vnd.veraison.policy.opa`), inactive; 201 with the policy.
//! - `POST /management/v1/policy/{scheme}/{uuid}/activate`: make it the
//!   scheme's one active policy; 200, empty.
//! - `GET /management/v1/policy/{scheme}`: the active policy.
//! - `GET /management/v1/policy/{scheme}/{uuid}`: one policy.
//! - `POST /management/v1/policies/{scheme}/deactivate`: none active; 200.
//! - `GET /management/v1/policies/{scheme}[?name=N]`: the scheme's policies.
//! - `GET /.well-known/veraison/management`: the schemes and the routes.
//!
//! The `/management/v1` routes need the `manager` role when
//! [`ManagementConfig::auth`] is not `none`; discovery and health stay open.
//! Errors are problem+json with Veraison's texts. What a request names is
//! checked by the [`PolicyAdmin`] (trust, in-process or over gRPC), and its
//! errors become HTTP in one place, [`vouch_http::trust::problem`]: an
//! unknown scheme or rules that do not compile are 400, a missing policy 404.
//!
//! Where Vouch differs from Veraison, on purpose:
//! - Rules that do not compile get 400 and nothing is stored (Veraison
//!   answers 400, then stores them anyway and appends a 201 body).
//! - Creating is idempotent: the same scheme, name and rules sent again
//!   (a client retrying after a lost answer) return the policy stored the
//!   first time, still with 201, instead of a second copy.
//! - The rules must be UTF-8, and the `Content-Type` may carry parameters
//!   (`; charset=utf-8`); Veraison compares the header as a whole string.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest as _, Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode, header};
use vouch_auth::{Authenticator, Role, require_role};
use vouch_http::health::{self, Health};
use vouch_http::limits::{self, Body, Limits};
use vouch_http::{Problem, negotiate};
use vouch_trust_api::{Policy, PolicyAdmin, PolicyId, PolicyName, Trust, TrustError};

/// Media type of the rules a policy is created from (Rego).
pub const RULES_MEDIA_TYPE: &str = "application/vnd.veraison.policy.opa";

/// Media type of one policy.
pub const POLICY_MEDIA_TYPE: &str = "application/vnd.veraison.policy+json";

/// Media type of a list of policies.
pub const POLICIES_MEDIA_TYPE: &str = "application/vnd.veraison.policies+json";

/// Media type of discovery documents.
pub const DISCOVERY_MEDIA_TYPE: &str = "application/vnd.veraison.discovery+json";

/// The routes the discovery document lists, in Veraison's spelling, in the
/// order Go's JSON encoder writes a map (sorted by key).
const API_ENDPOINTS: [(&str, &str); 6] = [
    (
        "activatePolicy",
        "/management/v1/policy/:scheme/:uuid/activate",
    ),
    ("createPolicy", "/management/v1/policy/:scheme"),
    (
        "deactivatePolicies",
        "/management/v1/policies/:scheme/deactivate",
    ),
    ("getActivePolicy", "/management/v1/policy/:scheme"),
    ("getPolicies", "/management/v1/policies/:scheme"),
    ("getPolicy", "/management/v1/policy/:scheme/:uuid"),
];

/// Settings of the management service.
#[derive(Debug, Clone)]
pub struct ManagementConfig {
    /// Concurrency, time and body-size bounds for the API routes.
    pub limits: Limits,
    /// Who may manage policies: callers need the `manager` role. The
    /// discovery document and health stay open, as in Veraison.
    pub auth: Authenticator,
}

impl Default for ManagementConfig {
    fn default() -> Self {
        ManagementConfig {
            limits: Limits {
                max_concurrency: 64,
                request_timeout: Duration::from_secs(30),
                max_body_bytes: 1024 * 1024,
                // Operators' requests: queue a burst (bounded by the
                // timeout) rather than refuse it.
                queue_when_busy: true,
            },
            auth: Authenticator::None,
        }
    }
}

#[derive(Clone)]
struct AppState {
    admin: Arc<dyn PolicyAdmin>,
    trust: Arc<dyn Trust>,
}

/// The readiness state for this service: trust must answer.
pub fn health(trust: Arc<dyn Trust>) -> Arc<Health> {
    Health::new(vec![Arc::new(vouch_http::trust::TrustReady(trust))])
}

/// The service's routes, health endpoints included. `admin` stores and
/// activates policies; `trust` reports the service state for discovery.
pub fn router(
    admin: Arc<dyn PolicyAdmin>,
    trust: Arc<dyn Trust>,
    config: ManagementConfig,
    health: Arc<Health>,
) -> Router<()> {
    let ManagementConfig { limits, auth } = config;
    let mut api = Router::new()
        .route(
            "/management/v1/policy/{scheme}",
            post(create_policy).get(active_policy),
        )
        .route("/management/v1/policy/{scheme}/{uuid}", get(one_policy))
        .route(
            "/management/v1/policy/{scheme}/{uuid}/activate",
            post(activate_policy),
        )
        .route("/management/v1/policies/{scheme}", get(list_policies))
        .route(
            "/management/v1/policies/{scheme}/deactivate",
            post(deactivate_policies),
        );
    if auth.is_enabled() {
        // On the /management/v1 routes only, and inside the limits: the
        // timeout covers the credential check, and the concurrency bound
        // caps the argon2 work a flood can cause. Only headers are read, so
        // a refused body is never read nor stored.
        api = api.route_layer(require_role(auth, Role::Manager));
    }
    let api = api
        .route("/.well-known/veraison/management", get(well_known))
        .method_not_allowed_fallback(limits::method_not_allowed)
        .with_state(AppState { admin, trust });
    limits::apply(api, &limits)
        .merge(health::routes(health))
        .fallback(limits::not_found)
}

fn trust_problem(error: TrustError) -> Problem {
    vouch_http::trust::problem(&error)
}

fn path_problem(rejection: PathRejection) -> Problem {
    Problem::bad_request(rejection.body_text())
}

fn query_problem(rejection: QueryRejection) -> Problem {
    Problem::bad_request(rejection.body_text())
}

/// Refuses a client that accepts none of `offer` (406), as Veraison does.
fn negotiate(headers: &HeaderMap, offer: &str) -> Result<(), Problem> {
    if negotiate::accepts(headers, offer) {
        Ok(())
    } else {
        Err(Problem::not_acceptable(offer))
    }
}

/// The first `name` parameter, as Go's `c.Query("name")` reads it; empty
/// counts as absent.
fn name_parameter(query: &[(String, String)]) -> Option<&str> {
    query
        .iter()
        .find(|(key, _)| key == "name")
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

fn parse_id(text: &str) -> Result<PolicyId, Problem> {
    PolicyId::parse(text).ok_or_else(|| Problem::bad_request(format!("bad UUID {text:?}")))
}

/// Whether the request's rules are Rego: the media type must be
/// [`RULES_MEDIA_TYPE`] (parameters such as a charset are tolerated).
fn is_rules(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(RULES_MEDIA_TYPE))
}

async fn create_policy(
    State(state): State<AppState>,
    scheme: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    request: Request,
) -> Result<Response, Problem> {
    // Veraison's order: output format, rules format, scheme, body.
    negotiate(request.headers(), POLICY_MEDIA_TYPE)?;
    if !is_rules(request.headers()) {
        return Err(Problem::bad_request(format!(
            "the only supported rules format is {RULES_MEDIA_TYPE}"
        )));
    }
    let Path(scheme) = scheme.map_err(path_problem)?;
    let Query(query) = query.map_err(query_problem)?;
    let name = match name_parameter(&query) {
        Some(name) => PolicyName::parse(name).map_err(trust_problem)?,
        None => PolicyName::default(),
    };
    // Read only now, so that a request refused above never has its body read.
    let Body(body) = Body::from_request(request, &state).await?;
    if body.is_empty() {
        return Err(Problem::bad_request("empty body"));
    }
    let rules = std::str::from_utf8(&body)
        .map_err(|e| Problem::bad_request(format!("the policy rules are not UTF-8: {e}")))?;
    let created = state
        .admin
        .create_policy(&scheme, &name, rules)
        .await
        .map_err(trust_problem)?;
    let policy = &created.policy;
    if created.created {
        tracing::info!(%scheme, id = %policy.id, name = %policy.name, "policy stored");
    } else {
        tracing::info!(%scheme, id = %policy.id, name = %policy.name, "identical policy already stored");
    }
    Ok(vouch_http::typed_response(
        StatusCode::CREATED,
        POLICY_MEDIA_TYPE,
        policy.to_json().to_string(),
    ))
}

async fn activate_policy(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let Path((scheme, id)) = path.map_err(path_problem)?;
    let id = parse_id(&id)?;
    state
        .admin
        .activate_policy(&scheme, id)
        .await
        .map_err(trust_problem)?;
    tracing::info!(%scheme, %id, "policy activated");
    Ok(StatusCode::OK.into_response())
}

async fn active_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    scheme: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    negotiate(&headers, POLICY_MEDIA_TYPE)?;
    let Path(scheme) = scheme.map_err(path_problem)?;
    let policy = state
        .admin
        .active_policy(&scheme)
        .await
        .map_err(trust_problem)?;
    Ok(vouch_http::typed_response(
        StatusCode::OK,
        POLICY_MEDIA_TYPE,
        policy.to_json().to_string(),
    ))
}

async fn one_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    negotiate(&headers, POLICY_MEDIA_TYPE)?;
    let Path((scheme, id)) = path.map_err(path_problem)?;
    let id = parse_id(&id)?;
    let policy = state
        .admin
        .policy(&scheme, id)
        .await
        .map_err(trust_problem)?;
    Ok(vouch_http::typed_response(
        StatusCode::OK,
        POLICY_MEDIA_TYPE,
        policy.to_json().to_string(),
    ))
}

async fn list_policies(
    State(state): State<AppState>,
    headers: HeaderMap,
    scheme: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    negotiate(&headers, POLICIES_MEDIA_TYPE)?;
    let Path(scheme) = scheme.map_err(path_problem)?;
    let Query(query) = query.map_err(query_problem)?;
    let name = name_parameter(&query)
        .map(PolicyName::parse)
        .transpose()
        .map_err(trust_problem)?;
    let policies = state
        .admin
        .policies(&scheme, name.as_ref())
        .await
        .map_err(trust_problem)?;
    let body = serde_json::Value::Array(policies.iter().map(Policy::to_json).collect());
    Ok(vouch_http::typed_response(
        StatusCode::OK,
        POLICIES_MEDIA_TYPE,
        body.to_string(),
    ))
}

async fn deactivate_policies(
    State(state): State<AppState>,
    scheme: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let Path(scheme) = scheme.map_err(path_problem)?;
    state
        .admin
        .deactivate_policies(&scheme)
        .await
        .map_err(trust_problem)?;
    tracing::info!(%scheme, "policies deactivated");
    Ok(StatusCode::OK.into_response())
}

async fn well_known(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    if !negotiate::accepts_any(&headers, &[DISCOVERY_MEDIA_TYPE, "application/json"]) {
        return Err(Problem::not_acceptable(DISCOVERY_MEDIA_TYPE));
    }
    let schemes = state.admin.policy_schemes().await.map_err(trust_problem)?;
    let trust_state = state.trust.service_state().await.map_err(trust_problem)?;
    let endpoints: serde_json::Map<String, serde_json::Value> = API_ENDPOINTS
        .iter()
        .map(|(name, path)| ((*name).to_owned(), serde_json::Value::from(*path)))
        .collect();
    let body = serde_json::json!({
        "attestation-schemes": schemes,
        "version": trust_state.version,
        "service-state": trust_state.status.as_str(),
        "api-endpoints": endpoints,
    });
    // Veraison's management document carries no caching headers.
    Ok(vouch_http::typed_response(
        StatusCode::OK,
        DISCOVERY_MEDIA_TYPE,
        body.to_string(),
    ))
}

#[cfg(test)]
mod tests;
