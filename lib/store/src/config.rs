//! Store configuration and backend selection.

use std::fmt;
use std::time::Duration;

use crate::error::StoreError;

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `memory:`: process-local, for tests.
    Memory,
    /// `sqlite:PATH` or `sqlite://PATH`: one file, single process.
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// Store settings. Build with [`StoreConfig::new`] and adjust fields with
/// struct-update syntax.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// Database URL: `sqlite:PATH`, `sqlite://PATH` (the file and its directory
    /// are created when missing), `postgres://…`, `postgresql://…` or `memory:`.
    pub url: String,
    /// Upper bound on pooled connections (default 8). See the crate docs on
    /// pool sizing; PostgreSQL adds one listener connection.
    pub max_connections: u32,
    /// Connections kept open when idle (default 0).
    pub min_connections: u32,
    /// How long an operation waits for a free connection before failing with
    /// [`StoreError::Unavailable`] (default 2 s).
    pub acquire_timeout: Duration,
    /// Idle connections above `min_connections` are closed after this long (default 10 min).
    pub idle_timeout: Option<Duration>,
    /// Connections are recycled after this long (default 30 min).
    pub max_lifetime: Option<Duration>,
    /// PostgreSQL `statement_timeout` for pooled connections (default 10 s;
    /// `None` keeps the server's setting).
    pub statement_timeout: Option<Duration>,
    /// SQLite busy timeout: how long a writer waits for the write lock (default 5 s).
    pub busy_timeout: Duration,
    /// Whether to test a connection with a round trip every time it leaves the
    /// pool (default `false`: it costs a round trip per query; a broken
    /// connection instead fails one operation, which is reported as
    /// [`StoreError::Unavailable`] and retried by the client).
    pub test_before_acquire: bool,
    /// Whether [`crate::connect`] applies the embedded migrations (default `true`).
    pub run_migrations: bool,
    /// Change-feed buffer per subscriber; a subscriber that falls further
    /// behind sees `Lagged` and must resynchronise (default 1024).
    pub change_feed_capacity: usize,
}

impl StoreConfig {
    /// Default settings for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(2),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            statement_timeout: Some(Duration::from_secs(10)),
            busy_timeout: Duration::from_secs(5),
            test_before_acquire: false,
            run_migrations: true,
            change_feed_capacity: 1024,
        }
    }

    /// The backend `url` selects.
    pub fn backend(&self) -> Result<Backend, StoreError> {
        let url = self.url.trim();
        if url == "memory:" || url == "memory://" {
            Ok(Backend::Memory)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "unsupported store URL {:?}: expected sqlite:, postgres://, postgresql:// or memory:",
                redact_url(url)
            )))
        }
    }

    /// Checks the settings that would otherwise fail obscurely inside the pool.
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.max_connections == 0 {
            return Err(StoreError::Config(
                "max_connections must be at least 1".into(),
            ));
        }
        if self.min_connections > self.max_connections {
            return Err(StoreError::Config(
                "min_connections must not exceed max_connections".into(),
            ));
        }
        if self.acquire_timeout.is_zero() {
            return Err(StoreError::Config(
                "acquire_timeout must be positive".into(),
            ));
        }
        if self.change_feed_capacity == 0 {
            return Err(StoreError::Config(
                "change_feed_capacity must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

// Hand-written so that a password in the URL never reaches a log line.
impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("statement_timeout", &self.statement_timeout)
            .field("busy_timeout", &self.busy_timeout)
            .field("test_before_acquire", &self.test_before_acquire)
            .field("run_migrations", &self.run_migrations)
            .field("change_feed_capacity", &self.change_feed_capacity)
            .finish()
    }
}

/// `url` with the password of its authority part (`user:password@`) replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_by_url_scheme() {
        let backend = |url: &str| StoreConfig::new(url).backend();
        assert_eq!(backend("memory:").unwrap(), Backend::Memory);
        assert_eq!(backend("sqlite:vouch.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            backend("sqlite:///var/lib/vouch/db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(backend("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert_eq!(backend("postgresql://u@h/db").unwrap(), Backend::Postgres);
        assert!(matches!(
            backend("mysql://u@h/db"),
            Err(StoreError::Config(_))
        ));
        assert!(matches!(backend(""), Err(StoreError::Config(_))));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://vouch:s3cret@db:5432/vouch?sslmode=require"),
            "postgres://vouch:***@db:5432/vouch?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://vouch@db/vouch"),
            "postgres://vouch@db/vouch"
        );
        assert_eq!(redact_url("sqlite:vouch.db"), "sqlite:vouch.db");
        let debug = format!("{:?}", StoreConfig::new("postgresql://a:b@c/d"));
        assert!(debug.contains("postgresql://a:***@c/d"), "{debug}");
        assert!(!debug.contains(":b@"), "{debug}");
        let error = StoreConfig::new("mysql://a:pw@h/d")
            .backend()
            .unwrap_err()
            .to_string();
        assert!(!error.contains("pw"), "{error}");
    }

    #[test]
    fn nonsensical_pool_settings_are_rejected() {
        let base = StoreConfig::new("memory:");
        assert!(base.validate().is_ok());
        for bad in [
            StoreConfig {
                max_connections: 0,
                ..base.clone()
            },
            StoreConfig {
                min_connections: 9,
                ..base.clone()
            },
            StoreConfig {
                acquire_timeout: Duration::ZERO,
                ..base.clone()
            },
            StoreConfig {
                change_feed_capacity: 0,
                ..base.clone()
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(StoreError::Config(_))),
                "{bad:?}"
            );
        }
    }
}
