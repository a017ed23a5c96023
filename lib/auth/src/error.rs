//! Set-up errors and request refusals.

use std::time::Duration;

use http::{HeaderValue, StatusCode, header};
use vouch_http::Problem;

use crate::{REALM, Role, Scheme};

/// An authenticator that cannot be built, or a key set that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A role name that is neither `provisioner` nor `manager`.
    #[error("unknown role {0:?}: roles are `provisioner` and `manager`")]
    UnknownRole(String),
    /// A user without a name.
    #[error("a basic-auth user has an empty name")]
    EmptyUserName,
    /// A user name that cannot be sent in a Basic header.
    #[error("basic-auth user name {0:?} contains a colon")]
    ColonInUserName(String),
    /// The same user twice.
    #[error("basic-auth user {0:?} is listed twice")]
    DuplicateUser(String),
    /// Basic authentication without users would refuse everyone.
    #[error("basic auth needs at least one user")]
    NoUsers,
    /// A password hash that is not an argon2 PHC string.
    #[error(
        "password hash of user {user:?} is not an argon2 PHC string ($argon2id$v=19$…): {reason}"
    )]
    PasswordHash {
        /// The user.
        user: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Hashing a password failed.
    #[error("hashing the password failed: {0}")]
    Hashing(String),
    /// An empty password.
    #[error("the password is empty")]
    EmptyPassword,
    /// An issuer that is not an absolute http(s) URL.
    #[error("OIDC issuer {issuer:?} is not an http(s) URL: {reason}")]
    Issuer {
        /// The configured issuer.
        issuer: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An empty audience.
    #[error("the OIDC audience is empty")]
    EmptyAudience,
    /// The HTTP client for the issuer could not be built.
    #[error("building the HTTP client for the OIDC issuer failed: {0}")]
    HttpClient(String),
    /// Fetching the discovery document or the JWKS failed.
    #[error("fetching {url} failed: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The discovery document is unusable.
    #[error("the OIDC discovery document at {url} is unusable: {reason}")]
    Discovery {
        /// Where it came from.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The JWKS is not a JSON Web Key Set.
    #[error("the JWKS is not a JSON Web Key Set: {0}")]
    Jwks(String),
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No `Authorization` header.
    #[error("no credentials given")]
    Missing,
    /// An `Authorization` header in the wrong scheme or form.
    #[error("malformed credentials: {0}")]
    Malformed(String),
    /// An unknown user or a wrong password (never said which).
    #[error("wrong username or password")]
    BadPassword,
    /// A bearer token that does not verify.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// Authenticated, but without the role the API requires.
    #[error("{name} lacks the {role} role")]
    MissingRole {
        /// Who it was.
        name: String,
        /// The role required.
        role: Role,
    },
    /// The credentials cannot be checked now (the issuer's keys cannot be
    /// fetched); the client should retry.
    #[error("credentials cannot be checked now: {0}")]
    Unavailable(String),
}

/// How long a client should wait when credentials cannot be checked.
const RETRY_AFTER: Duration = Duration::from_secs(5);

impl Denied {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Denied::Missing
            | Denied::Malformed(_)
            | Denied::BadPassword
            | Denied::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Denied::MissingRole { .. } => StatusCode::FORBIDDEN,
            Denied::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The problem+json response, with the `WWW-Authenticate` challenge of
    /// `scheme` on 401s (RFC 7235) and, for bearer tokens, the RFC 6750
    /// error code.
    pub fn problem(&self, scheme: Scheme) -> Problem {
        let detail = match (self, scheme) {
            (Denied::Missing, Scheme::Basic) => "no Basic authorization given".to_owned(),
            (Denied::Missing, Scheme::Bearer) => "no Bearer token given".to_owned(),
            // The user name is the caller's own, but the role is what matters.
            (Denied::MissingRole { role, .. }, _) => {
                format!("the {role} role is required for this API")
            }
            (Denied::Unavailable(_), _) => {
                // The cause is logged; the client only needs to retry.
                "credentials cannot be checked now: the token issuer's keys are unavailable"
                    .to_owned()
            }
            (other, _) => other.to_string(),
        };
        let problem = match self {
            Denied::Unavailable(_) => Problem::unavailable(detail, RETRY_AFTER),
            _ => Problem::new(self.status(), detail),
        };
        match self.challenge(scheme) {
            Some(challenge) => problem.with_header(header::WWW_AUTHENTICATE, challenge),
            None => problem,
        }
    }

    fn challenge(&self, scheme: Scheme) -> Option<HeaderValue> {
        let value = match (scheme, self) {
            (_, Denied::Unavailable(_)) => return None,
            (Scheme::Basic, Denied::MissingRole { .. }) => return None,
            (Scheme::Basic, _) => format!("Basic realm=\"{REALM}\""),
            // RFC 6750 §3.1: no error code when no token was sent.
            (Scheme::Bearer, Denied::Missing) => format!("Bearer realm=\"{REALM}\""),
            (Scheme::Bearer, Denied::MissingRole { .. }) => {
                format!("Bearer realm=\"{REALM}\", error=\"insufficient_scope\"")
            }
            (Scheme::Bearer, _) => format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
        };
        HeaderValue::from_str(&value).ok()
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse as _;

    use super::*;

    async fn render(
        denied: Denied,
        scheme: Scheme,
    ) -> (StatusCode, Option<String>, serde_json::Value) {
        let response = denied.problem(scheme).into_response();
        let status = response.status();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            vouch_http::PROBLEM_JSON
        );
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, challenge, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn refusals_are_problems_with_challenges() {
        let (status, challenge, body) = render(Denied::Missing, Scheme::Basic).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge.as_deref(), Some("Basic realm=\"vouch\""));
        assert_eq!(body["title"], "Unauthorized");
        assert_eq!(body["detail"], "no Basic authorization given");

        let (status, challenge, _) = render(Denied::Missing, Scheme::Bearer).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"vouch\""));

        let (_, challenge, body) = render(
            Denied::InvalidToken("the token has expired".into()),
            Scheme::Bearer,
        )
        .await;
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"vouch\", error=\"invalid_token\"")
        );
        assert_eq!(body["detail"], "invalid token: the token has expired");

        let forbidden = Denied::MissingRole {
            name: "alice".into(),
            role: Role::Provisioner,
        };
        let (status, challenge, body) = render(forbidden.clone(), Scheme::Basic).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(challenge, None);
        assert_eq!(body["title"], "Forbidden");
        assert_eq!(
            body["detail"],
            "the provisioner role is required for this API"
        );
        let (_, challenge, _) = render(forbidden, Scheme::Bearer).await;
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"vouch\", error=\"insufficient_scope\"")
        );
    }

    #[tokio::test]
    async fn an_unreachable_issuer_is_503_with_retry_after_and_no_cause() {
        let denied = Denied::Unavailable("connection refused to 10.1.2.3".into());
        let response = denied.problem(Scheme::Bearer).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("10.1.2.3"));
    }
}
