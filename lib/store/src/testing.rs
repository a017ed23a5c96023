//! Throw-away databases for tests (feature `testing`).
//!
//! [`TestPostgres`] creates a uniquely named database on a real PostgreSQL
//! server and drops it (`WITH (FORCE)`) when dropped; [`TestSqlite`] is a
//! database file in a temporary directory. Nothing depends on fixed ports or
//! leaves state behind.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

use crate::StoreConfig;
use crate::config::redact_url;

/// Environment variable naming the PostgreSQL server (any database on it) to
/// create test databases on.
pub const POSTGRES_URL_ENV: &str = "VOUCH_TEST_POSTGRES_URL";

/// Used when [`POSTGRES_URL_ENV`] is unset.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

const ADMIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A fresh PostgreSQL database, dropped when this value is dropped.
#[derive(Debug)]
pub struct TestPostgres {
    admin_url: String,
    name: String,
    url: String,
}

impl TestPostgres {
    /// Creates a database named `vouch_test_<random>`.
    ///
    /// Returns `None`, after saying so loudly on stderr, when the server
    /// cannot be reached, so that developers without PostgreSQL can still run
    /// the other tests.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached and the `CI` environment variable is
    /// set (CI must not skip silently), or when it is reachable but refuses to
    /// create the database.
    pub async fn create() -> Option<Self> {
        let admin_url =
            std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let mut admin = match admin_connect(&admin_url).await {
            Ok(admin) => admin,
            Err(reason) => {
                let message = format!(
                    "PostgreSQL at {} is unreachable ({reason}); set {POSTGRES_URL_ENV} to a reachable server",
                    redact_url(&admin_url)
                );
                if running_in_ci() {
                    panic!("{message}");
                }
                eprintln!("SKIPPING PostgreSQL test: {message}");
                return None;
            }
        };
        let name = format!("vouch_test_{}", uuid::Uuid::new_v4().simple());
        // The name is generated above from hex digits only.
        let create = AssertSqlSafe(format!("CREATE DATABASE \"{name}\""));
        if let Err(error) = admin.execute(create).await {
            panic!("creating test database {name} failed: {error}");
        }
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    /// URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Name of the test database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Store settings for the test database: small pool, short timeouts.
    pub fn config(&self) -> StoreConfig {
        test_config(&self.url)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop cannot await, and may run inside (or outside) a runtime, so the
        // cleanup gets its own thread and runtime.
        let cleanup = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => return Err(error.to_string()),
            };
            runtime.block_on(async {
                let mut admin = admin_connect(&admin_url).await?;
                // FORCE ends any connection a failed test left open.
                let drop =
                    AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                let result = admin
                    .execute(drop)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                let _ = admin.close().await;
                result
            })
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("dropping test database {} failed: {error}", self.name),
            Err(_) => eprintln!("dropping test database {} panicked", self.name),
        }
    }
}

/// A SQLite database file in a temporary directory, removed when dropped.
#[derive(Debug)]
pub struct TestSqlite {
    dir: tempfile::TempDir,
    url: String,
}

impl TestSqlite {
    /// Creates the temporary directory; the database file is created by the
    /// store on first connect.
    pub fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("vouch-store-test-")
            .tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("vouch.db").display());
        Ok(Self { dir, url })
    }

    /// URL of the database file.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The temporary directory.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Store settings for the test database: small pool, short timeouts.
    pub fn config(&self) -> StoreConfig {
        test_config(&self.url)
    }
}

fn test_config(url: &str) -> StoreConfig {
    StoreConfig {
        max_connections: 4,
        ..StoreConfig::new(url)
    }
}

async fn admin_connect(url: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(ADMIN_CONNECT_TIMEOUT, PgConnection::connect(url)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {ADMIN_CONNECT_TIMEOUT:?}")),
    }
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| !matches!(value.trim(), "" | "0" | "false"))
}

/// `url` with its database (the path) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.find('?').map_or("", |start| &tail[start..]);
    format!("{scheme}://{authority}/{database}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_swapped_in_the_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "t2"),
            "postgresql://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "t3"),
            "postgres://h:5432/t3"
        );
        assert_eq!(
            with_database("postgres://h?x=1", "t4"),
            "postgres://h/t4?x=1"
        );
    }
}
