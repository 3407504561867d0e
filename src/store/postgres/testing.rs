//! Test support, shared by the unit tests and the integration tests (which can reach only the
//! library's public items): the one place that finds the PostgreSQL server tests use, and a
//! throw-away database on it per test, so that tests run in parallel.
//!
//! The server is `$JOBRUN_TEST_PG_URL` (e.g. `postgres://postgres@127.0.0.1:55432/postgres`,
//! a user allowed to create databases). Without it, a PostgreSQL test is skipped with one line
//! on stderr, so that `cargo test` passes on a machine without PostgreSQL; with
//! `JOBRUN_TEST_PG_REQUIRED=1` (CI) it fails instead, saying how to provide one.

use super::{PgEnvironment, Target};

/// The server's URL.
pub const URL_ENV: &str = "JOBRUN_TEST_PG_URL";
/// Set to `1`: a missing server fails the PostgreSQL tests instead of skipping them.
pub const REQUIRED_ENV: &str = "JOBRUN_TEST_PG_REQUIRED";

/// A database made for one test, dropped (with its connections) when this is dropped.
pub struct TestDatabase {
    admin: Target,
    name: String,
    url: String,
}

impl TestDatabase {
    /// A new, empty database on the test server; `None` (after printing why) when no server
    /// is configured and none is required. Panics when one is required and missing or
    /// unreachable.
    pub fn create() -> Option<TestDatabase> {
        let required = std::env::var(REQUIRED_ENV).is_ok_and(|v| v == "1");
        let Some(url) = std::env::var(URL_ENV).ok().filter(|u| !u.is_empty()) else {
            assert!(
                !required,
                "{REQUIRED_ENV}=1 but {URL_ENV} is not set: start a PostgreSQL server and set \
                 {URL_ENV}=postgres://USER@HOST:PORT/postgres (a user that may create databases)"
            );
            eprintln!("skipped: no PostgreSQL (set {URL_ENV})");
            return None;
        };
        let admin = Target::parse(&url, &PgEnvironment::default())
            .unwrap_or_else(|e| panic!("{URL_ENV}: {e}"));
        let name = format!("jobrun_test_{:016x}", fastrand::u64(..));
        let mut client = super::connect(&admin, std::path::Path::new(admin.redacted()))
            .unwrap_or_else(|e| panic!("{URL_ENV}: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&url, &name);
        Some(TestDatabase { admin, name, url })
    }

    /// The URL of the test's database (with whatever password the server URL had).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its settings.
    pub fn target(&self) -> Target {
        Target::parse(&self.url, &PgEnvironment::default()).expect("parsed before")
    }
}

impl TestDatabase {
    /// Ends every connection to the test's database, as a server restart or a network cut
    /// does, and returns how many there were; the server itself stays up for the other tests.
    pub fn cut_connections(&self) -> u64 {
        let mut client = super::connect(&self.admin, std::path::Path::new(self.admin.redacted()))
            .unwrap_or_else(|e| panic!("{URL_ENV}: {e}"));
        client
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            )
            .map(|rows| rows.len() as u64)
            .unwrap_or_else(|e| panic!("cannot cut the connections to {}: {e}", self.name))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut client) =
            super::connect(&self.admin, std::path::Path::new(self.admin.redacted()))
        {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `url` with its database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_part_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:1/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:1/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t2"), "postgres://h/t2");
    }
}
