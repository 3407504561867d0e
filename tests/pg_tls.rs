//! Issue 15: the PostgreSQL store over TLS, against a real server (a cluster of the test's own,
//! whose certificate is for `localhost` and signed by a CA of its own): `require` encrypts,
//! `verify-full` checks the chain against `sslrootcert` and the name against the host, and a
//! failure says what failed.

use crate::harness::{Test, texts};
use crate::pg_cluster::Cluster;

/// `jobrun --store URL history`: its exit code and stderr.
fn history(test: &Test, url: &str) -> (Option<i32>, String) {
    let output = test
        .command_with(&["--store", url, "history"])
        .output()
        .expect("run jobrun history");
    let (_, err) = texts(&output);
    (output.status.code(), err)
}

#[test]
fn sslmode_require_and_verify_full_against_a_real_server() {
    let test = Test::new().jobfile("[jobs.a]\nevery = \"1h\"\ncommand = [\"true\"]\n");
    let Some(db) = Cluster::start(&test.path("pg")) else {
        return;
    };
    let Some(root) = db.root_cert() else {
        assert!(
            std::env::var("JOBRUN_TEST_PG_REQUIRED").as_deref() != Ok("1"),
            "no TLS certificate for the test cluster: install openssl"
        );
        eprintln!("skipped: no openssl to make the test cluster's certificates");
        return;
    };
    let root = root.display().to_string();
    let port = db.port();
    let at =
        |host: &str, query: &str| format!("postgres://postgres@{host}:{port}/postgres?{query}");

    // Encrypted, server unauthenticated (as libpq's `require`).
    let (code, err) = history(&test, &at("localhost", "sslmode=require"));
    assert_eq!(code, Some(0), "{err}");
    // The chain and the name checked: only a certificate from that CA, for that name, passes.
    let verified = format!("sslmode=verify-full&sslrootcert={root}");
    let (code, err) = history(&test, &at("localhost", &verified));
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = history(&test, &at("127.0.0.1", &verified));
    assert_ne!(code, Some(0));
    assert!(
        err.contains("not valid for name \"127.0.0.1\""),
        "wrong name not told: {err}"
    );
    // Without a root file, the Mozilla roots: a private CA is unknown.
    let (code, err) = history(&test, &at("localhost", "sslmode=verify-full"));
    assert_ne!(code, Some(0));
    assert!(err.contains("UnknownIssuer"), "unknown CA not told: {err}");
    // A root file that is not PEM is refused before connecting, naming it.
    let bogus = test.path("jobrun.toml").display().to_string();
    let query = format!("sslmode=verify-full&sslrootcert={bogus}");
    let (code, err) = history(&test, &at("localhost", &query));
    assert_ne!(code, Some(0));
    assert!(err.contains("sslrootcert") && err.contains(&bogus), "{err}");
}
