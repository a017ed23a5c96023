//! RFC 7807 problem details, shaped like Veraison's.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// Media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response: `{"type":"about:blank","title":…,"status":…,"detail":…}`.
///
/// Veraison renders problems with Go's `moogar0880/problems`; the body here
/// has the same fields and the same titles (the HTTP reason phrase), so
/// clients that read `detail` keep working.
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    detail: Option<String>,
    retry_after: Option<Duration>,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Body<'a> {
    r#type: &'static str,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

impl Problem {
    /// A problem with a status and a human-readable detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            status,
            detail: Some(detail.into()),
            retry_after: None,
            headers: Vec::new(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 406 Not Acceptable, naming the only output format offered.
    pub fn not_acceptable(offer: &str) -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            format!("the only supported output format is {offer}"),
        )
    }

    /// 415 Unsupported Media Type, with an `Accept` header listing what is
    /// supported.
    pub fn unsupported_media_type<'a>(
        detail: impl Into<String>,
        supported: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let list = supported.into_iter().collect::<Vec<_>>().join(", ");
        let mut problem = Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail);
        if let Ok(value) = HeaderValue::from_str(&list) {
            problem.headers.push((header::ACCEPT, value));
        }
        problem
    }

    /// 503 Service Unavailable with `Retry-After`.
    pub fn unavailable(detail: impl Into<String>, retry_after: Duration) -> Self {
        let mut problem = Self::new(StatusCode::SERVICE_UNAVAILABLE, detail);
        problem.retry_after = Some(retry_after);
        problem
    }

    /// 500 Internal Server Error. Reserved for faults in Vouch itself.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, detail)
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The detail text.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = Body {
            r#type: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: self.detail.as_deref(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(retry_after) = self.retry_after {
            let secs = retry_after.as_secs().max(1);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn renders_like_veraison() {
        let response = Problem::bad_request("empty body").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(
            body_json(response).await,
            serde_json::json!({"type":"about:blank","title":"Bad Request","status":400,"detail":"empty body"})
        );
    }

    #[tokio::test]
    async fn unavailable_carries_retry_after() {
        let response = Problem::unavailable("busy", Duration::from_millis(200)).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn unsupported_media_type_lists_what_is_accepted() {
        let response = Problem::unsupported_media_type("no", ["a/b", "c/d; p=1"]).into_response();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(response.headers()[header::ACCEPT], "a/b, c/d; p=1");
    }
}
