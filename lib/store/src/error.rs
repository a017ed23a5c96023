//! The store's error type and the transient/permanent classification of
//! database errors.

use std::fmt;

use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// The store operation that failed, carried by [`StoreError::Unavailable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Opening the pool or the change-feed listener.
    Connect,
    /// Applying migrations.
    Migrate,
    /// [`crate::EndorsementStore::submit`].
    Submit,
    /// [`crate::EndorsementStore::trust_anchor`] or [`crate::EndorsementStore::reference_values`].
    Lookup,
    /// [`crate::EndorsementStore::stats`].
    Stats,
    /// [`crate::EndorsementStore::ping`].
    Ping,
    /// [`crate::PolicyStore::add_policy`].
    AddPolicy,
    /// [`crate::PolicyStore::activate_policy`].
    ActivatePolicy,
    /// [`crate::PolicyStore::deactivate_policies`].
    DeactivatePolicies,
    /// [`crate::PolicyStore::active_policy`], [`crate::PolicyStore::policy`]
    /// or [`crate::PolicyStore::policies`].
    PolicyLookup,
    /// [`crate::FleetStore::record_verdicts`].
    RecordVerdicts,
    /// [`crate::FleetStore::fleet_counts`], [`crate::FleetStore::attesters`]
    /// or [`crate::FleetStore::verdict_history`].
    FleetLookup,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Migrate => "migrate",
            Self::Submit => "submit",
            Self::Lookup => "lookup",
            Self::Stats => "stats",
            Self::Ping => "ping",
            Self::AddPolicy => "add policy",
            Self::ActivatePolicy => "activate policy",
            Self::DeactivatePolicies => "deactivate policies",
            Self::PolicyLookup => "policy lookup",
            Self::RecordVerdicts => "record verdicts",
            Self::FleetLookup => "fleet lookup",
        })
    }
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The configuration is unusable (unknown URL scheme, impossible pool sizes).
    #[error("invalid store configuration: {0}")]
    Config(String),
    /// Opening the database failed for a reason retrying will not fix
    /// (bad URL, authentication, missing database).
    #[error("connecting to the store failed")]
    Connect(#[source] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migrating the store failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// The submission breaks a store limit (sizes, empty keys); nothing was stored.
    #[error("invalid submission: {0}")]
    InvalidSubmission(String),
    /// Storing a submission failed; nothing was stored.
    #[error("submitting endorsements failed")]
    Submit(#[source] sqlx::Error),
    /// A trust-anchor or reference-value lookup failed.
    #[error("looking up endorsements failed")]
    Lookup(#[source] sqlx::Error),
    /// Reading the row counts failed.
    #[error("reading store statistics failed")]
    Stats(#[source] sqlx::Error),
    /// The readiness check failed.
    #[error("store readiness check failed")]
    Ping(#[source] sqlx::Error),
    /// A policy operation failed for a reason retrying will not fix; nothing
    /// was changed.
    #[error("{operation} failed")]
    Policy {
        /// What was being attempted.
        operation: Operation,
        /// The underlying cause.
        #[source]
        source: sqlx::Error,
    },
    /// A fleet-status operation failed for a reason retrying will not fix.
    #[error("{operation} failed")]
    Fleet {
        /// What was being attempted.
        operation: Operation,
        /// The underlying cause.
        #[source]
        source: sqlx::Error,
    },
    /// No connection was free within the acquire timeout, or the database is
    /// down, overloaded or busy. Transient: answer `503` with `Retry-After`.
    #[error("store unavailable during {operation}")]
    Unavailable {
        /// What was being attempted.
        operation: Operation,
        /// The underlying cause.
        #[source]
        source: sqlx::Error,
    },
}

impl StoreError {
    /// Whether this error is transient (worth a `503` and a retry).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// Wraps a database error from `operation`, sorting transient failures
    /// into [`StoreError::Unavailable`].
    pub(crate) fn from_sqlx(operation: Operation, source: sqlx::Error) -> Self {
        if is_transient(&source) {
            return Self::Unavailable { operation, source };
        }
        match operation {
            Operation::Connect => Self::Connect(source),
            Operation::Migrate => Self::Migrate(sqlx::migrate::MigrateError::Execute(source)),
            Operation::Submit => Self::Submit(source),
            Operation::Lookup => Self::Lookup(source),
            Operation::Stats => Self::Stats(source),
            Operation::Ping => Self::Ping(source),
            Operation::AddPolicy
            | Operation::ActivatePolicy
            | Operation::DeactivatePolicies
            | Operation::PolicyLookup => Self::Policy { operation, source },
            Operation::RecordVerdicts | Operation::FleetLookup => Self::Fleet { operation, source },
        }
    }

    /// Wraps a migration error, sorting transient failures into [`StoreError::Unavailable`].
    pub(crate) fn from_migrate(source: sqlx::migrate::MigrateError) -> Self {
        match source {
            sqlx::migrate::MigrateError::Execute(inner) if is_transient(&inner) => {
                Self::Unavailable {
                    operation: Operation::Migrate,
                    source: inner,
                }
            }
            other => Self::Migrate(other),
        }
    }
}

/// Whether `error` is about the database's availability rather than the request.
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                pg_code_is_transient(pg.code())
            } else if db.try_downcast_ref::<SqliteError>().is_some() {
                db.code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .is_some_and(sqlite_code_is_transient)
            } else {
                false
            }
        }
        _ => false,
    }
}

/// SQLSTATEs that mean "try again later": connection exceptions (08…),
/// insufficient resources (53…, e.g. 53300 `too many clients`), operator
/// intervention (57…: shutdown, statement timeout) and transaction rollbacks
/// (40…: serialization failure, deadlock).
fn pg_code_is_transient(sqlstate: &str) -> bool {
    ["08", "53", "57", "40"]
        .iter()
        .any(|class| sqlstate.starts_with(class))
}

/// SQLite primary result codes SQLITE_BUSY (5) and SQLITE_LOCKED (6),
/// including their extended forms (the low byte is the primary code).
fn sqlite_code_is_transient(extended: i32) -> bool {
    matches!(extended & 0xff, 5 | 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeouts_are_unavailable_and_name_the_operation() {
        let error = StoreError::from_sqlx(Operation::Lookup, sqlx::Error::PoolTimedOut);
        assert!(error.is_unavailable());
        assert_eq!(error.to_string(), "store unavailable during lookup");
        let error = StoreError::from_sqlx(Operation::Submit, sqlx::Error::PoolClosed);
        assert!(matches!(
            error,
            StoreError::Unavailable {
                operation: Operation::Submit,
                ..
            }
        ));
    }

    #[test]
    fn permanent_errors_keep_their_operation_variant() {
        let error = StoreError::from_sqlx(Operation::Lookup, sqlx::Error::RowNotFound);
        assert!(matches!(error, StoreError::Lookup(_)));
        assert!(!error.is_unavailable());
        let error = StoreError::from_sqlx(Operation::Stats, sqlx::Error::Protocol("x".into()));
        assert!(matches!(error, StoreError::Stats(_)));
        let error = StoreError::from_sqlx(Operation::ActivatePolicy, sqlx::Error::RowNotFound);
        assert!(matches!(
            error,
            StoreError::Policy {
                operation: Operation::ActivatePolicy,
                ..
            }
        ));
        assert_eq!(error.to_string(), "activate policy failed");
        let error = StoreError::from_sqlx(Operation::AddPolicy, sqlx::Error::PoolTimedOut);
        assert_eq!(error.to_string(), "store unavailable during add policy");
    }

    #[test]
    fn sqlstate_classes() {
        for transient in ["53300", "08006", "57P01", "57014", "40001", "40P01"] {
            assert!(pg_code_is_transient(transient), "{transient}");
        }
        for permanent in ["23505", "42P01", "28P01", "3D000"] {
            assert!(!pg_code_is_transient(permanent), "{permanent}");
        }
    }

    #[test]
    fn sqlite_busy_and_locked_are_transient() {
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT (517), SQLITE_LOCKED, SQLITE_LOCKED_SHAREDCACHE (262).
        for code in [5, 517, 6, 262] {
            assert!(sqlite_code_is_transient(code), "{code}");
        }
        // SQLITE_CONSTRAINT_PRIMARYKEY (1555), SQLITE_ERROR (1), SQLITE_CORRUPT (11).
        for code in [1555, 1, 11] {
            assert!(!sqlite_code_is_transient(code), "{code}");
        }
    }
}
