use std::time::Duration;

/// Why the trust service could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TrustError {
    /// Temporarily unable to serve: overload, a dependency is down, or the
    /// service is still starting. Callers answer 503 with `Retry-After`.
    #[error("trust service unavailable: {reason}")]
    Unavailable {
        /// What is unavailable.
        reason: String,
        /// How long the client should wait before retrying.
        retry_after: Duration,
    },
    /// No scheme handles the media type. Front ends answer 415 with the
    /// supported types.
    #[error("unsupported media type {media_type}")]
    UnsupportedMediaType {
        /// The media type as given.
        media_type: String,
        /// The media types that are supported for this operation.
        supported: Vec<String>,
    },
    /// The request itself is malformed.
    #[error("invalid request: {0}")]
    InvalidInput(String),
    /// What the request names does not exist (a policy, a scheme's
    /// policies). Front ends answer 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The service failed in a way retrying will not fix.
    #[error("trust service error: {0}")]
    Internal(String),
}

impl TrustError {
    /// The default back-off a client is told to observe.
    pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

    /// An [`TrustError::Unavailable`] with the default back-off.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        TrustError::Unavailable {
            reason: reason.into(),
            retry_after: Self::DEFAULT_RETRY_AFTER,
        }
    }
}
