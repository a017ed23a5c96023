//! Challenge-response session stores: in-process with TTL, and memcached.
//!
//! The verification service keeps each challenge-response session (its JSON
//! body) between `newSession` and the evidence submission. Values are opaque
//! bytes and every entry carries an absolute expiry, so replacing a session
//! never extends its life silently.
//!
//! Two back ends implement [`SessionStore`]:
//!
//! - [`MemorySessionStore`]: in-process, bounded, per-entry expiry. Sessions
//!   are per process, so several replicas need sticky routing.
//! - [`MemcachedSessionStore`]: shared across replicas; keys are spread over
//!   the servers by a consistent [`HashRing`], and every failure to reach a
//!   server is [`SessionError::Unavailable`] so the HTTP layer can answer 503.
//!
//! Both offer an atomic conditional update: [`SessionStore::get_versioned`]
//! reads a session with its [`Version`], and
//! [`SessionStore::compare_and_swap`] replaces it only if nothing wrote it
//! since. The verification service claims a session with it, so that of
//! several simultaneous evidence submissions exactly one is appraised.

mod memcached;
mod memory;
mod ring;
#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;

pub use memcached::{
    DEFAULT_KEY_PREFIX, MemcachedOptions, MemcachedSessionStore, memcached_exptime,
    parse_memcached_url,
};
pub use memory::{DEFAULT_MEMORY_CAPACITY, MemorySessionStore};
pub use ring::{DEFAULT_VIRTUAL_NODES, HashRing};

/// Longest session id accepted, in bytes.
///
/// Memcached keys are limited to 250 bytes including the key prefix; session
/// ids are UUIDs (36 bytes) in practice.
pub const MAX_SESSION_ID_LEN: usize = 200;

/// Storage for challenge-response sessions.
#[async_trait::async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores (creates or replaces) a session that expires at `expires_at`.
    ///
    /// An `expires_at` that is not in the future removes the session instead.
    async fn put(&self, id: &str, value: Bytes, expires_at: SystemTime)
    -> Result<(), SessionError>;

    /// Returns the session, or `None` when it is unknown or expired.
    async fn get(&self, id: &str) -> Result<Option<Bytes>, SessionError>;

    /// Deleting an unknown or expired session is not an error.
    async fn delete(&self, id: &str) -> Result<(), SessionError>;

    /// Returns the session with its current [`Version`], or `None` when it
    /// is unknown or expired.
    async fn get_versioned(&self, id: &str) -> Result<Option<(Bytes, Version)>, SessionError>;

    /// Atomically replaces the session with `value` (expiring at
    /// `expires_at`) if, and only if, it is still at version `expected`:
    /// nothing stored, replaced or deleted it since the read that returned
    /// `expected`.
    ///
    /// Of several concurrent swaps from the same version, exactly one gets
    /// [`CasOutcome::Swapped`]; the others get [`CasOutcome::Conflict`]. A
    /// session that expired or was deleted meanwhile gives
    /// [`CasOutcome::Gone`] and is not recreated. An `expires_at` that is not
    /// in the future removes the session (still only at version `expected`).
    async fn compare_and_swap(
        &self,
        id: &str,
        expected: Version,
        value: Bytes,
        expires_at: SystemTime,
    ) -> Result<CasOutcome, SessionError>;

    /// Cheap liveness check for readiness probes.
    async fn ping(&self) -> Result<(), SessionError>;

    /// Whether the store answered a read or write within `window`.
    /// Readiness consults it when [`ping`](Self::ping) times out: a store
    /// that keeps answering real traffic is busy, not gone. Stores whose
    /// ping cannot time out (in-process) say `false`.
    fn answered_within(&self, _window: std::time::Duration) -> bool {
        false
    }

    /// Sessions this store has expired so far, where it can tell (the
    /// in-process store); `None` where expiry happens out of sight
    /// (memcached drops expired items itself).
    fn expired_total(&self) -> Option<u64> {
        None
    }

    /// Name of the backend, for logs ("memory", "memcached").
    fn backend(&self) -> &'static str;
}

/// The state of a stored session at one moment, as
/// [`SessionStore::get_versioned`] and [`SessionStore::compare_and_swap`]
/// report it. Every write to the session gives it a new version, so
/// comparing versions tells whether anything wrote it in between.
///
/// Opaque, and meaningful only to the store that issued it: a counter in
/// memory, memcached's CAS unique value in memcached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version(u64);

impl Version {
    /// A version from the store's own representation (for implementations
    /// of [`SessionStore`]).
    pub const fn from_raw(raw: u64) -> Self {
        Version(raw)
    }

    /// The store's own representation.
    pub const fn into_raw(self) -> u64 {
        self.0
    }
}

/// What [`SessionStore::compare_and_swap`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum CasOutcome {
    /// The session was at the expected version and now holds the new
    /// value, at the version given. (When the swap removed the session, for
    /// an expiry in the past, the version matches nothing any more.)
    Swapped(Version),
    /// Something else wrote the session since the expected version was
    /// read; nothing was changed.
    Conflict,
    /// The session no longer exists (expired, deleted or evicted); nothing
    /// was stored.
    Gone,
}

/// The store operation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionOp {
    /// Storing a session.
    Put,
    /// Reading a session.
    Get,
    /// Deleting a session.
    Delete,
    /// Replacing a session only if it is still at a given version.
    CompareAndSwap,
    /// Checking that the back end is reachable.
    Ping,
    /// Setting up the connection to the back end.
    Connect,
}

impl fmt::Display for SessionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionOp::Put => "put",
            SessionOp::Get => "get",
            SessionOp::Delete => "delete",
            SessionOp::CompareAndSwap => "compare-and-swap",
            SessionOp::Ping => "ping",
            SessionOp::Connect => "connect",
        })
    }
}

/// Boxed source error of a back-end failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the session stores.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The back end could not be reached or did not answer in time; callers
    /// should answer 503 and may retry later.
    #[error("session store unavailable ({op}): {source}")]
    Unavailable {
        /// The operation that failed.
        op: SessionOp,
        /// What went wrong.
        #[source]
        source: BoxError,
    },
    /// The back end understood the request and refused it (for example a
    /// value larger than the server accepts).
    #[error("session store rejected the request ({op}): {source}")]
    Rejected {
        /// The operation that failed.
        op: SessionOp,
        /// What went wrong.
        #[source]
        source: BoxError,
    },
    /// The session id is empty, too long, or has characters that are not
    /// printable ASCII.
    #[error("invalid session id: {0}")]
    InvalidId(&'static str),
    /// A `memcached://` URL could not be parsed.
    #[error("invalid memcached URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The store options are inconsistent.
    #[error("invalid session store configuration: {0}")]
    InvalidConfig(String),
}

impl SessionError {
    /// Whether the error means the back end is unreachable (HTTP 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, SessionError::Unavailable { .. })
    }
}

/// Checks a session id: 1 to [`MAX_SESSION_ID_LEN`] bytes of printable ASCII
/// without spaces, so the same ids work on every back end.
pub fn validate_session_id(id: &str) -> Result<(), SessionError> {
    if id.is_empty() {
        return Err(SessionError::InvalidId("empty"));
    }
    if id.len() > MAX_SESSION_ID_LEN {
        return Err(SessionError::InvalidId("longer than 200 bytes"));
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SessionError::InvalidId(
            "contains spaces, control or non-ASCII characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_validated() {
        assert!(validate_session_id("5c5bd88b-7d3a-11ee-b962-0242ac120002").is_ok());
        assert!(matches!(
            validate_session_id(""),
            Err(SessionError::InvalidId(_))
        ));
        assert!(validate_session_id("has space").is_err());
        assert!(validate_session_id("tab\t").is_err());
        assert!(validate_session_id("ünïcode").is_err());
        assert!(validate_session_id(&"a".repeat(MAX_SESSION_ID_LEN)).is_ok());
        assert!(validate_session_id(&"a".repeat(MAX_SESSION_ID_LEN + 1)).is_err());
    }

    #[test]
    fn unavailable_is_flagged_for_503() {
        let err = SessionError::Unavailable {
            op: SessionOp::Get,
            source: "connection refused".into(),
        };
        assert!(err.is_unavailable());
        assert_eq!(
            err.to_string(),
            "session store unavailable (get): connection refused"
        );
        assert!(!SessionError::InvalidId("empty").is_unavailable());
    }
}
