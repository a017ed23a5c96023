//! Request handlers. Check order and error texts follow Veraison's
//! `verification/api/handler.go`, so clients see the same answers.

use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use tracing::Instrument as _;
use vouch_http::Problem;
use vouch_http::limits::Body;
use vouch_http::negotiate;
use vouch_http::openapi::{
    Status400, Status404, Status406, Status409, Status413, Status415, Status503,
};
use vouch_sessions::{CasOutcome, SessionError, Version};
use vouch_trust_api::{AttestationRequest, Bytes, MediaType, Nonce, NonceError, TrustError};

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
    vouch_http::typed_response(status, SESSION_MEDIA_TYPE, body)
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

/// The first value of query parameter `name`, as Go's `c.Query` (and so
/// Veraison) reads it; empty counts as absent. A later repetition neither
/// replaces nor hides a bad first value.
fn first<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

fn nonce_from_query(query: &[(String, String)]) -> Result<Nonce, NonceError> {
    let nonce = first(query, "nonce");
    let size = first(query, "nonceSize");
    match (nonce, size) {
        (Some(_), Some(_)) => Err(NonceError::Exclusive),
        (Some(n), None) => Nonce::from_base64url(n),
        (None, Some(s)) => Nonce::random_of_size(s),
        (None, None) => Nonce::random(Nonce::DEFAULT_LEN),
    }
}

/// The path of a session's routes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // Only its parameters are used; the handlers parse the path.
struct SessionPath {
    /// The session id.
    id: uuid::Uuid,
}

/// Opens a challenge-response session and returns its nonce.
#[utoipa::path(
    post,
    path = "/challenge-response/v1/newSession",
    tag = "verification",
    operation_id = "newSession",
    params(
        ("nonce" = Option<String>, Query, pattern = "^([A-Za-z0-9_-]{11,86}={0,2})?$", description = "The challenge, base64url (unpadded or padded), 8 to 64 bytes; empty counts as absent. Exclusive with `nonceSize`."),
        ("nonceSize" = Option<String>, Query, pattern = "^(|[89]|[1-5][0-9]|6[0-4])$",
            description = "Length of a random challenge, 8 to 64 bytes (default 32); empty counts as absent, as in Veraison. Exclusive with `nonce`."),
    ),
    responses(
        (status = 201, description = "The session, `waiting` for evidence.", body = Session,
            content_type = "application/vnd.veraison.challenge-response-session+json",
            headers(("location" = String, description = "The session, relative: `session/{id}`."))),
        (status = 400, response = Status400),
        (status = 406, response = Status406),
        (status = 503, response = Status503),
    ),
)]
pub(crate) async fn new_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
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
    state.config.metrics.session_created();
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

/// Veraison's CMW step: evidence sent as a CMW record (`application/cmw`,
/// `…+cbor`, `…+json` and the `vnd.veraison` spellings) is appraised as the
/// media type and bytes the record wraps; a CMW collection passes through
/// unchanged (and then finds no scheme).
fn unwrap_cmw(mut headers: HeaderMap, evidence: Bytes) -> Result<(HeaderMap, Bytes), Problem> {
    let Some(essence) = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .filter(|e| vouch_cmw::is_cmw_media_type(e))
    else {
        return Ok((headers, evidence));
    };
    match vouch_cmw::unwrap(essence, &evidence) {
        Ok(vouch_cmw::Unwrapped::Record { media_type, value }) => {
            let inner = http::HeaderValue::from_str(&media_type).map_err(|_| {
                Problem::bad_request(format!(
                    "could not unwrap the CMW: its media type {media_type:?} is not a valid header value"
                ))
            })?;
            headers.insert(http::header::CONTENT_TYPE, inner);
            Ok((headers, Bytes::from(value)))
        }
        Ok(vouch_cmw::Unwrapped::Collection) => Ok((headers, evidence)),
        Err(e) => Err(Problem::bad_request(format!(
            "could not unwrap the CMW: {e}"
        ))),
    }
}

/// Submits evidence for the session and appraises it at once; the session
/// comes back `complete` with the EAR in `result`, or `failed`.
#[utoipa::path(
    post,
    path = "/challenge-response/v1/session/{id}",
    tag = "verification",
    operation_id = "submitEvidence",
    params(SessionPath),
    request_body(
        description = "The evidence, in one of the media types the session's `accept` lists \
            (or a CMW wrapping one).",
        content_type = "application/octet-stream",
        content = vouch_http::openapi::Binary,
    ),
    responses(
        (status = 200, description = "The appraised session.", body = Session,
            content_type = "application/vnd.veraison.challenge-response-session+json"),
        (status = 400, response = Status400),
        (status = 404, response = Status404),
        (status = 406, response = Status406),
        (status = 409, response = Status409),
        (status = 413, response = Status413),
        (status = 415, response = Status415),
        (status = 503, response = Status503),
    ),
)]
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
    let (headers, evidence) = unwrap_cmw(headers, evidence)?;
    let supported = state
        .trust
        .verification_media_types()
        .await
        .map_err(|e| vouch_http::trust::problem(&e))?;
    let (raw_type, media_type) =
        vouch_http::trust::supported_content_type(&headers, &supported, "verifier")?;
    let id = parse_session_id(&id, &uri)?;
    let key = session_key(&id);
    let (stored, version) = state
        .sessions
        .get_versioned(&key)
        .await
        .map_err(|e| sessions_problem(&e))?
        .ok_or_else(|| not_found(&id))?;
    let mut session = Session::from_json(&stored).map_err(|e| corrupt_problem(&e))?;
    if session.status != Status::Waiting {
        // Veraison lets evidence overwrite a finished session; a session's
        // nonce is a one-time challenge, so Vouch refuses.
        return Err(already_has_evidence(&id, Some(session.status)));
    }
    let nonce = session.nonce().map_err(|e| corrupt_problem(&e))?;
    let expires_at = session.expires_at().map_err(|e| corrupt_problem(&e))?;
    if expires_at <= SystemTime::now() {
        // Memcached keeps an entry until the whole second after its expiry;
        // the published expiry is what counts.
        return Err(not_found(&id));
    }

    // Claim the session before appraising: move it from `waiting` to
    // `processing` only if nobody wrote it since it was read. Of several
    // simultaneous submissions exactly one wins; checking the status and
    // writing the result afterwards would let all of them through. The
    // claim keeps the session's own expiry, so it can never outlive it.
    session.status = Status::Processing;
    session.set_evidence(raw_type, &evidence);
    let claimed = match state
        .sessions
        .compare_and_swap(&key, version, session.to_json(), expires_at)
        .await
        .map_err(|e| sessions_problem(&e))?
    {
        CasOutcome::Swapped(claimed) => claimed,
        CasOutcome::Conflict => return Err(already_has_evidence(&id, None)),
        CasOutcome::Gone => return Err(not_found(&id)),
    };
    let claim = Claim {
        state,
        id,
        key,
        waiting: stored,
        version: claimed,
        expires_at,
    };
    let request = AttestationRequest {
        media_type,
        evidence,
        nonce,
    };
    // The appraisal and the write that ends the claim run in a task of their
    // own: a request timeout or a client that hangs up drops this future,
    // and must not leave the session claimed with nobody to finish it. It
    // stays in the request's span, so its call to trust joins the trace.
    tokio::spawn(claim.appraise(session, request).in_current_span())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, session = %id, "appraisal task failed");
            Problem::internal("error encountered while processing evidence")
        })?
}

/// 409 for evidence sent to a session that already has some: `status` is
/// what the session was found in, `None` when another submission claimed it
/// between our read and our claim.
fn already_has_evidence(id: &uuid::Uuid, status: Option<Status>) -> Problem {
    let state = match status {
        Some(status) => format!("it is {}", status.as_str()),
        None => "another submission claimed it first".to_owned(),
    };
    Problem::new(
        StatusCode::CONFLICT,
        format!(
            "session {id} already has evidence ({state}); evidence can only be submitted once, \
             to a waiting session"
        ),
    )
}

/// A session this request moved to `processing`: only its holder writes it
/// until the claim ends, as `complete`, `failed`, or back to `waiting`.
///
/// If the process dies before that (or the session store fails both the
/// final write and the release), the session stays `processing` and refuses
/// evidence until its published expiry, when it disappears from every
/// backend like any other session: the claim was stored with that expiry
/// and nothing extends it.
struct Claim {
    state: AppState,
    id: uuid::Uuid,
    key: String,
    /// The session as it was before the claim, to put back when nothing was
    /// decided.
    waiting: bytes::Bytes,
    /// The version the claim wrote; every later write is conditional on it,
    /// so a session deleted meanwhile is not brought back.
    version: Version,
    expires_at: SystemTime,
}

impl Claim {
    async fn appraise(
        self,
        mut session: Session,
        request: AttestationRequest,
    ) -> Result<Response, Problem> {
        match self.state.trust.attest(request).await {
            Ok(outcome) => {
                session.status = Status::Complete;
                session.result = Some(outcome.ear);
                let body = session.to_json();
                self.finish(body.clone()).await?;
                self.state.config.metrics.session_completed();
                Ok(session_response(StatusCode::OK, body))
            }
            Err(e @ TrustError::Internal(_)) => {
                tracing::error!(error = %e, session = %self.id, "appraisal failed");
                session.status = Status::Failed;
                if let Err(problem) = self.finish(session.to_json()).await {
                    tracing::warn!(session = %self.id, ?problem, "could not record the failure");
                }
                Err(Problem::internal(
                    "error encountered while processing evidence",
                ))
            }
            // Nothing was decided (overload, unsupported type, bad request):
            // put the session back to waiting so the attester can retry.
            Err(e) => {
                self.release().await;
                Err(vouch_http::trust::problem(&e))
            }
        }
    }

    /// Ends the claim with the appraised session.
    async fn finish(&self, body: bytes::Bytes) -> Result<(), Problem> {
        match self
            .state
            .sessions
            .compare_and_swap(&self.key, self.version, body, self.expires_at)
            .await
        {
            Ok(CasOutcome::Swapped(_)) => Ok(()),
            // Deleted or expired during the appraisal. The evidence was
            // appraised against a nonce that was live when claimed, so the
            // attester still gets its answer; nothing is stored.
            Ok(CasOutcome::Gone) => {
                tracing::info!(session = %self.id, "session ended during its appraisal");
                Ok(())
            }
            // Only the claim's holder writes a claimed session; anything
            // else is a bug or a foreign writer, and must not be overwritten.
            Ok(CasOutcome::Conflict) => {
                tracing::error!(session = %self.id, "claimed session changed during appraisal");
                Err(Problem::internal(
                    "session changed while its evidence was appraised",
                ))
            }
            Err(e) => {
                // The result is not recorded: free the session so the 503
                // below can be acted on, if the store lets us.
                self.release().await;
                Err(sessions_problem(&e))
            }
        }
    }

    /// Puts the session back to `waiting`, as it was before the claim.
    async fn release(&self) {
        let outcome = self
            .state
            .sessions
            .compare_and_swap(
                &self.key,
                self.version,
                self.waiting.clone(),
                self.expires_at,
            )
            .await;
        match outcome {
            Ok(CasOutcome::Swapped(_) | CasOutcome::Gone) => {}
            Ok(CasOutcome::Conflict) => {
                tracing::warn!(session = %self.id, "claimed session changed before its release");
            }
            Err(error) => tracing::warn!(
                %error,
                session = %self.id,
                "could not put the session back to waiting; it refuses evidence until it expires"
            ),
        }
    }
}

/// The session as it stands.
#[utoipa::path(
    get,
    path = "/challenge-response/v1/session/{id}",
    tag = "verification",
    operation_id = "getSession",
    params(SessionPath),
    responses(
        (status = 200, description = "The session.", body = Session,
            content_type = "application/vnd.veraison.challenge-response-session+json"),
        (status = 400, response = Status400),
        (status = 404, response = Status404),
        (status = 406, response = Status406),
        (status = 503, response = Status503),
    ),
)]
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

/// Deletes the session (idempotent).
#[utoipa::path(
    delete,
    path = "/challenge-response/v1/session/{id}",
    tag = "verification",
    operation_id = "deleteSession",
    params(SessionPath),
    responses(
        (status = 204, description = "Deleted, or already gone."),
        (status = 400, response = Status400),
        (status = 503, response = Status503),
    ),
)]
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

/// The verification discovery document: evidence media types, the EAR
/// verification key and the service state.
#[utoipa::path(
    get,
    path = "/.well-known/veraison/verification",
    tag = "verification",
    operation_id = "verificationDiscovery",
    responses(
        (status = 200, description = "The discovery document.", body = Object,
            content_type = "application/vnd.veraison.discovery+json"),
        (status = 406, response = Status406),
        (status = 503, response = Status503),
    ),
)]
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
    let mut response =
        vouch_http::typed_response(StatusCode::OK, DISCOVERY_MEDIA_TYPE, body.to_string());
    vouch_http::trust::add_discovery_cache_headers(&mut response, state.config.discovery_max_age);
    Ok(response)
}
