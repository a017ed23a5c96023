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
use http::{HeaderMap, StatusCode, header};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_auth::{Authenticator, Role, require_role};
use vouch_http::health::Health;
use vouch_http::limits::{Body, Limits};
use vouch_http::openapi::{
    Documented, Status400, Status401, Status403, Status404, Status406, Status413, Status503,
};
use vouch_http::{Problem, negotiate};
use vouch_trust_api::{FleetAdmin, Policy, PolicyAdmin, PolicyId, PolicyName, Trust, TrustError};

mod fleet;

pub use fleet::FLEET_MEDIA_TYPE;

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
    fleet: Arc<dyn FleetAdmin>,
}

/// What the management service calls: trust, in-process or over gRPC, in
/// its three roles.
#[derive(Clone)]
pub struct Backends {
    /// Stores and activates policies.
    pub admin: Arc<dyn PolicyAdmin>,
    /// Reports the service state for discovery and readiness.
    pub trust: Arc<dyn Trust>,
    /// Reads the fleet status.
    pub fleet: Arc<dyn FleetAdmin>,
}

/// The readiness state for this service: trust must answer.
pub fn health(trust: Arc<dyn Trust>) -> Arc<Health> {
    Health::new(vec![Arc::new(vouch_http::trust::TrustReady(trust))])
}

/// The service's routes, health endpoints included. `admin` stores and
/// activates policies; `trust` reports the service state for discovery.
pub fn router(backends: Backends, config: ManagementConfig, health: Arc<Health>) -> Router<()> {
    documented(backends, config, health).router
}

/// The service's routes, health endpoints included, with their OpenAPI
/// document.
pub fn documented(backends: Backends, config: ManagementConfig, health: Arc<Health>) -> Documented {
    let ManagementConfig { limits, auth } = config;
    let mut api = OpenApiRouter::new()
        .routes(routes!(create_policy, active_policy))
        .routes(routes!(one_policy))
        .routes(routes!(activate_policy))
        .routes(routes!(list_policies))
        .routes(routes!(deactivate_policies))
        .routes(routes!(fleet::summary))
        .routes(routes!(fleet::attesters))
        .routes(routes!(fleet::history));
    if auth.is_enabled() {
        // On the /management/v1 routes only, and inside the limits: the
        // timeout covers the credential check, and the concurrency bound
        // caps the argon2 work a flood can cause. Only headers are read, so
        // a refused body is never read nor stored.
        api = api.route_layer(require_role(auth, Role::Manager));
    }
    // The dashboard holds no data: it stays open, and asks for a token
    // when the API it calls wants one.
    let Backends {
        admin,
        trust,
        fleet,
    } = backends;
    let api = api
        .routes(routes!(well_known))
        .route("/fleet", axum::routing::get(fleet::page_redirect))
        .route("/fleet/", axum::routing::get(fleet::page))
        .route("/fleet/index.html", axum::routing::get(fleet::page))
        .route("/fleet/fleet.js", axum::routing::get(fleet::page_script))
        .route("/fleet/fleet.css", axum::routing::get(fleet::page_style))
        .with_state(AppState {
            admin,
            trust,
            fleet,
        });
    Documented::service(api, &limits, health)
}

/// The path of the routes about a scheme's policies.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Only its parameters are used; the handlers parse the path.
struct SchemePath {
    /// The attestation scheme (as the discovery document lists them).
    scheme: String,
}

/// The path of the routes about one policy.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Only its parameters are used; the handlers parse the path.
struct PolicyPath {
    /// The attestation scheme (as the discovery document lists them).
    scheme: String,
    /// The policy id.
    #[param(format = Uuid)]
    uuid: String,
}

/// A stored policy, as Veraison renders it.
#[derive(utoipa::ToSchema)]
#[schema(as = Policy)]
#[allow(dead_code)] // Only its schema is used; `Policy::to_json` renders it.
struct PolicyDocument {
    /// The policy's id.
    uuid: String,
    /// When it was stored, RFC 3339 with microseconds.
    ctime: String,
    /// Its name (`default` unless one was given).
    name: String,
    /// Always `opa`: the rules are Rego.
    #[schema(example = "opa")]
    r#type: String,
    /// The Rego rules.
    rules: String,
    /// Whether it is the scheme's active policy.
    active: bool,
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

/// The first value of the query parameter `key`, as Go's `c.Query(key)`
/// reads it; empty counts as absent.
fn query_parameter<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
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

/// Stores new rules for a scheme, inactive (idempotent: the same scheme,
/// name and rules return the stored policy).
#[utoipa::path(
    post,
    path = "/management/v1/policy/{scheme}",
    tag = "management",
    operation_id = "createPolicy",
    params(SchemePath,
        ("name" = Option<String>, Query, description = "The policy's name (default `default`).")),
    request_body(description = "Rego rules.", content_type = "application/vnd.veraison.policy.opa", content = String),
    responses(
        (status = 201, description = "The stored policy.", body = PolicyDocument, content_type = "application/vnd.veraison.policy+json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 406, response = Status406),
        (status = 413, response = Status413),
        (status = 503, response = Status503),
    ),
)]
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
    let name = match query_parameter(&query, "name") {
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

/// Makes the policy the scheme's one active policy.
#[utoipa::path(
    post,
    path = "/management/v1/policy/{scheme}/{uuid}/activate",
    tag = "management",
    operation_id = "activatePolicy",
    params(PolicyPath),
    responses(
        (status = 200, description = "Activated."),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 404, response = Status404),
        (status = 503, response = Status503),
    ),
)]
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

/// The scheme's active policy.
#[utoipa::path(
    get,
    path = "/management/v1/policy/{scheme}",
    tag = "management",
    operation_id = "getActivePolicy",
    params(SchemePath),
    responses(
        (status = 200, description = "The active policy.", body = PolicyDocument, content_type = "application/vnd.veraison.policy+json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 404, response = Status404),
        (status = 406, response = Status406),
        (status = 503, response = Status503),
    ),
)]
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

/// One policy of the scheme.
#[utoipa::path(
    get,
    path = "/management/v1/policy/{scheme}/{uuid}",
    tag = "management",
    operation_id = "getPolicy",
    params(PolicyPath),
    responses(
        (status = 200, description = "The policy.", body = PolicyDocument, content_type = "application/vnd.veraison.policy+json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 404, response = Status404),
        (status = 406, response = Status406),
        (status = 503, response = Status503),
    ),
)]
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

/// The scheme's policies, optionally those of one name.
#[utoipa::path(
    get,
    path = "/management/v1/policies/{scheme}",
    tag = "management",
    operation_id = "getPolicies",
    params(SchemePath,
        ("name" = Option<String>, Query, description = "Only the policies of this name.")),
    responses(
        (status = 200, description = "The policies.", body = Vec<PolicyDocument>, content_type = "application/vnd.veraison.policies+json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 404, description = "The scheme has no policies (of that name), as in Veraison.",
            body = vouch_http::openapi::ProblemDocument, content_type = "application/problem+json"),
        (status = 406, response = Status406),
        (status = 503, response = Status503),
    ),
)]
async fn list_policies(
    State(state): State<AppState>,
    headers: HeaderMap,
    scheme: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    negotiate(&headers, POLICIES_MEDIA_TYPE)?;
    let Path(scheme) = scheme.map_err(path_problem)?;
    let Query(query) = query.map_err(query_problem)?;
    let name = query_parameter(&query, "name")
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

/// Leaves the scheme with no active policy.
#[utoipa::path(
    post,
    path = "/management/v1/policies/{scheme}/deactivate",
    tag = "management",
    operation_id = "deactivatePolicies",
    params(SchemePath),
    responses(
        (status = 200, description = "Deactivated."),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 404, response = Status404),
        (status = 503, response = Status503),
    ),
)]
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

/// The management discovery document: schemes, routes, service state.
#[utoipa::path(
    get,
    path = "/.well-known/veraison/management",
    tag = "management",
    operation_id = "managementDiscovery",
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
