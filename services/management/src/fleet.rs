//! The fleet status API and its dashboard page.
//!
//! - `GET /fleet/v1/summary[?stale_minutes=N]`: attesters by scheme and
//!   status of their last verdict, and those not seen for N minutes
//!   (default 60).
//! - `GET /fleet/v1/attesters[?scheme&status&q&stale_minutes&cursor&limit]`:
//!   a page of attesters in (scheme, id) order; `next_cursor` continues.
//! - `GET /fleet/v1/history[?minutes=N]`: verdicts per minute over the last
//!   N minutes (default 60).
//! - `GET /fleet/`: the dashboard (static files built into the binary).
//!
//! The API needs the `manager` role when authentication is on; the page
//! holds no data and stays open, and asks for a token when the API wants
//! one. Answers are `application/json`; errors problem+json, a bad
//! parameter 400.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use vouch_http::Problem;
use vouch_http::openapi::{Status400, Status401, Status403, Status503};
use vouch_trust_api::{
    AttestationStatus, AttesterFilter, FleetSummary, MAX_ATTESTERS_PAGE, rfc3339_seconds,
};

use crate::{AppState, query_parameter, query_problem, trust_problem};

/// Media type of the fleet API's answers.
pub const FLEET_MEDIA_TYPE: &str = "application/json";

/// The "not seen for" threshold when none is given, in minutes.
const DEFAULT_STALE_MINUTES: u32 = 60;

/// Attesters per page when no limit is given.
const DEFAULT_PAGE: u32 = 100;

/// Minutes of history when none are given.
const DEFAULT_HISTORY_MINUTES: u32 = 60;

/// Every status, in the order the page shows them.
const STATUSES: [AttestationStatus; 4] = [
    AttestationStatus::Affirming,
    AttestationStatus::Warning,
    AttestationStatus::Contraindicated,
    AttestationStatus::None,
];

/// The parameters of a request: the first value of a name. An empty text
/// filter counts as absent, as Go's `c.Query` reads it.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Result<Self, Problem> {
        query.map(|Query(q)| Params(q)).map_err(query_problem)
    }

    fn get(&self, name: &str) -> Option<&str> {
        query_parameter(&self.0, name)
    }

    /// A whole-number parameter; present but empty is an error, not a
    /// default.
    fn number(&self, name: &str) -> Result<Option<u32>, Problem> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, text)| {
                text.parse::<u32>().map_err(|_| {
                    Problem::bad_request(format!("{name} must be a whole number, got {text:?}"))
                })
            })
            .transpose()
    }
}

fn json_response(body: &Value) -> Response {
    vouch_http::typed_response(StatusCode::OK, FLEET_MEDIA_TYPE, body.to_string())
}

/// All four statuses, zero where none.
fn status_counts(counts: &BTreeMap<AttestationStatus, u64>) -> Value {
    Value::Object(
        STATUSES
            .iter()
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    json!(counts.get(s).copied().unwrap_or(0)),
                )
            })
            .collect(),
    )
}

fn summary_json(summary: &FleetSummary) -> Value {
    let mut statuses = BTreeMap::new();
    let mut schemes: BTreeMap<&str, (u64, u64, BTreeMap<AttestationStatus, u64>)> = BTreeMap::new();
    for count in &summary.counts {
        *statuses.entry(count.status).or_default() += count.attesters;
        let scheme = schemes.entry(&count.scheme).or_default();
        scheme.0 += count.attesters;
        scheme.1 += count.stale;
        *scheme.2.entry(count.status).or_default() += count.attesters;
    }
    json!({
        "as_of": rfc3339_seconds(summary.as_of_us),
        "stale_minutes": summary.stale_minutes,
        "total": summary.counts.iter().map(|c| c.attesters).sum::<u64>(),
        "stale": summary.counts.iter().map(|c| c.stale).sum::<u64>(),
        "statuses": status_counts(&statuses),
        "schemes": schemes
            .into_iter()
            .map(|(scheme, (total, stale, statuses))| json!({
                "scheme": scheme,
                "total": total,
                "stale": stale,
                "statuses": status_counts(&statuses),
            }))
            .collect::<Vec<_>>(),
    })
}

/// A page cursor: base64url of the last attester's scheme and id (a NUL
/// between them, which neither can hold).
fn cursor_of((scheme, id): &(String, String)) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{scheme}\0{id}"))
}

fn parse_cursor(text: &str) -> Result<(String, String), Problem> {
    let malformed = || Problem::bad_request("malformed cursor: pass next_cursor as it came");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    match text.split_once('\0') {
        Some((scheme, id)) if !scheme.is_empty() && !id.is_empty() => {
            Ok((scheme.to_owned(), id.to_owned()))
        }
        _ => Err(malformed()),
    }
}

fn parse_status(text: &str) -> Result<AttestationStatus, Problem> {
    AttestationStatus::parse(text).ok_or_else(|| {
        Problem::bad_request(format!(
            "unknown status {text:?}: one of affirming, warning, contraindicated, none"
        ))
    })
}

/// Counts of attesters by scheme and by the status of their last verdict.
#[utoipa::path(
    get,
    path = "/fleet/v1/summary",
    tag = "fleet",
    operation_id = "fleetSummary",
    params(("stale_minutes" = Option<u32>, Query, minimum = 1, maximum = 525600,
        description = "Count as stale the attesters not seen for this many minutes (default 60).")),
    responses(
        (status = 200, description = "The summary.", body = Object, content_type = "application/json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 503, response = Status503),
    ),
)]
pub(crate) async fn summary(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let params = Params::of(query)?;
    let stale_minutes = params
        .number("stale_minutes")?
        .unwrap_or(DEFAULT_STALE_MINUTES);
    let summary = state
        .fleet
        .fleet_summary(stale_minutes)
        .await
        .map_err(trust_problem)?;
    Ok(json_response(&summary_json(&summary)))
}

/// A page of attesters with their last verdict, in (scheme, id) order.
#[utoipa::path(
    get,
    path = "/fleet/v1/attesters",
    tag = "fleet",
    operation_id = "fleetAttesters",
    params(
        ("scheme" = Option<String>, Query, description = "Only this scheme."),
        ("status" = Option<String>, Query, description = "Only this status: affirming, warning, contraindicated or none."),
        ("q" = Option<String>, Query, description = "Only ids starting with this (base64url)."),
        ("stale_minutes" = Option<u32>, Query, minimum = 1, maximum = 525600,
            description = "Only attesters not seen for this many minutes."),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor`."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Attesters per page (default 100)."),
    ),
    responses(
        (status = 200, description = "The page.", body = Object, content_type = "application/json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 503, response = Status503),
    ),
)]
pub(crate) async fn attesters(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let params = Params::of(query)?;
    let limit = params.number("limit")?.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_ATTESTERS_PAGE).contains(&limit) {
        return Err(Problem::bad_request(format!(
            "limit must be 1 to {MAX_ATTESTERS_PAGE}"
        )));
    }
    let filter = AttesterFilter {
        scheme: params.get("scheme").map(str::to_owned),
        status: params.get("status").map(parse_status).transpose()?,
        id_prefix: params.get("q").map(str::to_owned),
        stale_minutes: params.number("stale_minutes")?,
        after: params.get("cursor").map(parse_cursor).transpose()?,
        limit,
    };
    let page = state
        .fleet
        .attesters(&filter)
        .await
        .map_err(trust_problem)?;
    let body = json!({
        "attesters": page.attesters.iter().map(|a| json!({
            "scheme": a.scheme,
            "id": a.id,
            "status": a.status.as_str(),
            "trust_vector": a.trust_vector,
            "first_seen": rfc3339_seconds(a.first_seen_us),
            "last_seen": rfc3339_seconds(a.last_seen_us),
            "verdicts": a.appraisals,
        })).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(cursor_of),
    });
    Ok(json_response(&body))
}

/// Verdicts reached per minute, by scheme and status.
#[utoipa::path(
    get,
    path = "/fleet/v1/history",
    tag = "fleet",
    operation_id = "fleetHistory",
    params(("minutes" = Option<u32>, Query, minimum = 1, maximum = 43200,
        description = "How many minutes back, up to now (default 60).")),
    responses(
        (status = 200, description = "The history.", body = Object, content_type = "application/json"),
        (status = 400, response = Status400),
        (status = 401, response = Status401),
        (status = 403, response = Status403),
        (status = 503, response = Status503),
    ),
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let params = Params::of(query)?;
    let minutes = params.number("minutes")?.unwrap_or(DEFAULT_HISTORY_MINUTES);
    let history = state
        .fleet
        .verdict_history(minutes)
        .await
        .map_err(trust_problem)?;
    let body = json!({
        "as_of": rfc3339_seconds(history.as_of_us),
        "minutes": history.minutes,
        "points": history.points.iter().map(|p| json!({
            "minute": rfc3339_seconds(p.minute * 60_000_000),
            "scheme": p.scheme,
            "status": p.status.as_str(),
            "count": p.verdicts,
        })).collect::<Vec<_>>(),
    });
    Ok(json_response(&body))
}

/// What the page may load: only its own files and API, no inline code.
const PAGE_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'none'";

fn page_file(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The dashboard.
pub(crate) async fn page() -> Response {
    page_file(
        "text/html; charset=utf-8",
        include_str!("fleet_page/index.html"),
    )
}

/// The dashboard's script.
pub(crate) async fn page_script() -> Response {
    page_file(
        "text/javascript; charset=utf-8",
        include_str!("fleet_page/fleet.js"),
    )
}

/// The dashboard's style sheet.
pub(crate) async fn page_style() -> Response {
    page_file(
        "text/css; charset=utf-8",
        include_str!("fleet_page/fleet.css"),
    )
}

/// `/fleet` without its slash, so that the page's relative paths resolve.
pub(crate) async fn page_redirect() -> Redirect {
    Redirect::permanent("/fleet/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use vouch_trust_api::FleetCount;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let key = ("PSA_IOT".to_owned(), "AQID-_".to_owned());
        assert_eq!(parse_cursor(&cursor_of(&key)).unwrap(), key);
        for bad in ["!!", "AAAA", ""] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_summary_adds_up_per_scheme_and_status() {
        let count = |scheme: &str, status, attesters, stale| FleetCount {
            scheme: scheme.into(),
            status,
            attesters,
            stale,
        };
        let summary = FleetSummary {
            as_of_us: 1_796_083_200_000_000,
            stale_minutes: 60,
            counts: vec![
                count("CCA_SSD_PLATFORM", AttestationStatus::Warning, 2, 0),
                count("PSA_IOT", AttestationStatus::Affirming, 5, 1),
                count("PSA_IOT", AttestationStatus::Contraindicated, 1, 1),
            ],
        };
        assert_eq!(
            summary_json(&summary),
            json!({
                "as_of": "2026-12-01T00:00:00Z",
                "stale_minutes": 60,
                "total": 8,
                "stale": 2,
                "statuses": {"affirming": 5, "warning": 2, "contraindicated": 1, "none": 0},
                "schemes": [
                    {"scheme": "CCA_SSD_PLATFORM", "total": 2, "stale": 0,
                     "statuses": {"affirming": 0, "warning": 2, "contraindicated": 0, "none": 0}},
                    {"scheme": "PSA_IOT", "total": 6, "stale": 2,
                     "statuses": {"affirming": 5, "warning": 0, "contraindicated": 1, "none": 0}},
                ],
            })
        );
    }
}
