//! Request handlers. Check order and error texts follow Veraison's
//! `verification/api/handler.go`, so clients see the same answers.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use vouch_http::Problem;
use vouch_http::limits::Body;
use vouch_http::negotiate;
use vouch_sessions::SessionError;
use vouch_trust_api::{AttestationRequest, MediaType, Nonce, NonceError, TrustError};

use crate::session::{CorruptSession, Session, Status};
use crate::{AppState, DISCOVERY_MEDIA_TYPE, SESSION_MEDIA_TYPE};

/// Veraison's hard-coded tenant, part of its error texts.
const TENANT: &str = "0";

/// Session-store failures are transient from the client's point of view.
fn sessions_problem(error: &SessionError) -> Problem {
    tracing::warn!(%error, "session store failure");
    Problem::unavailable(
        format!("session store unavailable: {error}"),
        Duration::from_secs(1),
    )
}

fn corrupt_problem(error: &CorruptSession) -> Problem {
    tracing::error!(%error, "corrupt session");
    Problem::internal(error.to_string())
}

fn session_response(status: StatusCode, body: bytes::Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SESSION_MEDIA_TYPE),
    );
    response
}

fn check_accept(headers: &HeaderMap) -> Result<(), Problem> {
    if negotiate::accepts(headers, SESSION_MEDIA_TYPE) {
        Ok(())
    } else {
        Err(Problem::not_acceptable(SESSION_MEDIA_TYPE))
    }
}

fn parse_session_id(id: &str, uri: &Uri) -> Result<uuid::Uuid, Problem> {
    uuid::Uuid::parse_str(id).map_err(|e| {
        Problem::bad_request(format!(
            "invalid session id ({}) in path segment: {e}",
            uri.path()
        ))
    })
}

fn not_found(id: &uuid::Uuid) -> Problem {
    Problem::not_found(format!(
        "session not found for (id, tenant)=({id}, {TENANT})"
    ))
}

fn session_key(id: &uuid::Uuid) -> String {
    id.hyphenated().to_string()
}

fn nonce_from_query(query: &HashMap<String, String>) -> Result<Nonce, NonceError> {
    let nonce = query.get("nonce").filter(|v| !v.is_empty());
    let size = query.get("nonceSize").filter(|v| !v.is_empty());
    match (nonce, size) {
        (Some(_), Some(_)) => Err(NonceError::Exclusive),
        (Some(n), None) => Nonce::from_base64url(n),
        (None, Some(s)) => Nonce::random_of_size(s),
        (None, None) => Nonce::random(Nonce::DEFAULT_LEN),
    }
}

pub(crate) async fn new_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    check_accept(&headers)?;
    let nonce = nonce_from_query(&query).map_err(|e| match e {
        NonceError::Random => Problem::internal(format!("failed handling nonce request: {e}")),
        e => Problem::bad_request(format!("failed handling nonce request: {e}")),
    })?;
    let accept = state
        .trust
        .verification_media_types()
        .await
        .map_err(|e| vouch_http::trust::problem(&e))?;
    let (session, expires_at) = Session::new(&nonce, state.config.session_ttl, &accept);
    let id = uuid::Uuid::new_v4();
    let body = session.to_json();
    state
        .sessions
        .put(&session_key(&id), body.clone(), expires_at)
        .await
        .map_err(|e| sessions_problem(&e))?;
    let mut response = session_response(StatusCode::CREATED, body);
    if let Ok(location) = HeaderValue::from_str(&format!("session/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The stored session JSON, or 404.
async fn fetch(state: &AppState, id: &uuid::Uuid) -> Result<bytes::Bytes, Problem> {
    state
        .sessions
        .get(&session_key(id))
        .await
        .map_err(|e| sessions_problem(&e))?
        .ok_or_else(|| not_found(id))
}

pub(crate) async fn submit_evidence(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Body(evidence): Body,
) -> Result<Response, Problem> {
    check_accept(&headers)?;
    if evidence.is_empty() {
        return Err(Problem::bad_request(
            "unable to read evidence from the request body",
        ));
    }
    let supported = state
        .trust
        .verification_media_types()
        .await
        .map_err(|e| vouch_http::trust::problem(&e))?;
    let (raw_type, _) =
        vouch_http::trust::supported_content_type(&headers, &supported, "verifier")?;
    let id = parse_session_id(&id, &uri)?;
    let mut session =
        Session::from_json(&fetch(&state, &id).await?).map_err(|e| corrupt_problem(&e))?;
    if session.status != Status::Waiting {
        // Veraison lets evidence overwrite a finished session; a session's
        // nonce is a one-time challenge, so Vouch refuses.
        return Err(Problem::new(
            StatusCode::CONFLICT,
            format!(
                "session {id} is {}; evidence can only be submitted to a waiting session",
                session.status.as_str()
            ),
        ));
    }
    let nonce = session.nonce().map_err(|e| corrupt_problem(&e))?;
    let expires_at = session.expires_at().map_err(|e| corrupt_problem(&e))?;
    let outcome = state
        .trust
        .attest(AttestationRequest {
            media_type: raw_type.to_owned(),
            evidence: evidence.clone(),
            nonce,
        })
        .await;
    session.set_evidence(raw_type, &evidence);
    match outcome {
        Ok(outcome) => {
            session.status = Status::Complete;
            session.result = Some(outcome.ear);
        }
        // Nothing was decided: leave the session waiting so the attester
        // can retry after the back-off.
        Err(e @ TrustError::Unavailable { .. }) => return Err(vouch_http::trust::problem(&e)),
        Err(TrustError::InvalidInput(message)) => {
            return Err(Problem::unsupported_media_type(
                message,
                supported.iter().map(MediaType::as_str),
            ));
        }
        Err(e @ TrustError::Internal(_)) => {
            tracing::error!(error = %e, session = %id, "appraisal failed");
            session.status = Status::Failed;
            let _ = state
                .sessions
                .put(&session_key(&id), session.to_json(), expires_at)
                .await;
            return Err(Problem::internal(
                "error encountered while processing evidence",
            ));
        }
    }
    let body = session.to_json();
    state
        .sessions
        .put(&session_key(&id), body.clone(), expires_at)
        .await
        .map_err(|e| sessions_problem(&e))?;
    Ok(session_response(StatusCode::OK, body))
}

pub(crate) async fn get_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    check_accept(&headers)?;
    let id = parse_session_id(&id, &uri)?;
    Ok(session_response(StatusCode::OK, fetch(&state, &id).await?))
}

pub(crate) async fn delete_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<StatusCode, Problem> {
    let id = parse_session_id(&id, &uri)?;
    state
        .sessions
        .delete(&session_key(&id))
        .await
        .map_err(|e| sessions_problem(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn well_known(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    // Veraison answers 406 to `Accept: application/json` here; a discovery
    // document is JSON, so Vouch serves it.
    if !negotiate::accepts_any(&headers, &[DISCOVERY_MEDIA_TYPE, "application/json"]) {
        return Err(Problem::not_acceptable(DISCOVERY_MEDIA_TYPE));
    }
    let trust_problem = |e: TrustError| vouch_http::trust::problem(&e);
    let key = state.trust.ear_public_key().await.map_err(trust_problem)?;
    let types = state
        .trust
        .verification_media_types()
        .await
        .map_err(trust_problem)?;
    let trust_state = state.trust.service_state().await.map_err(trust_problem)?;
    let body = serde_json::json!({
        "ear-verification-key": *key,
        "media-types": types.iter().map(MediaType::as_str).collect::<Vec<_>>(),
        "version": trust_state.version,
        "service-state": trust_state.status.as_str(),
        "api-endpoints": {
            "newChallengeResponseSession": "/challenge-response/v1/newSession"
        }
    });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(DISCOVERY_MEDIA_TYPE),
    );
    vouch_http::trust::add_discovery_cache_headers(&mut response, state.config.discovery_max_age);
    Ok(response)
}
