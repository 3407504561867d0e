//! Stores written by older jobruns: read as they are, and migrated at the next start with
//! what they recorded intact (issue 10 added `failed_by` in version 2).

use rusqlite::Connection;

use super::{store_path, t};
use crate::store::schema::{APPLICATION_ID, CURRENT, MIGRATIONS};
use crate::store::{FailedBy, Outcome, Store};

/// A store as version 1 of the schema wrote it: runs that exited 0, exited 3, were killed,
/// timed out, failed to start, and one still running.
fn version_1_store(path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(MIGRATIONS[0]).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
    ))
    .unwrap();
    let (at, end) = (t(0).timestamp_micros(), t(1).timestamp_micros());
    conn.execute_batch(&format!(
        "INSERT INTO runs (job, scheduled, manual, recorded_at, started, ended, timed_out,
                           state, pid, exit_code, signal, message) VALUES
         ('ok', {at}, 0, {at}, {at}, {end}, 0, 'exited', NULL, 0, NULL, NULL),
         ('three', {at}, 0, {at}, {at}, {end}, 0, 'exited', NULL, 3, NULL, NULL),
         ('killed', {at}, 0, {at}, {at}, {end}, 0, 'signaled', NULL, NULL, 9, NULL),
         ('slow', {at}, 0, {at}, {at}, {end}, 1, 'exited', NULL, 0, NULL, NULL),
         ('broken', {at}, 0, {at}, NULL, {end}, 0, 'spawn_failed', NULL, NULL, NULL, 'no'),
         ('going', {at}, 1, {at}, {at}, NULL, 0, 'running', 4242, NULL, NULL, NULL);"
    ))
    .unwrap();
}

/// Each run's job, outcome and failure, oldest first.
fn judged(store: &Store) -> Vec<(String, Outcome, Option<FailedBy>)> {
    let mut rows = store.history(None, 10).unwrap();
    rows.reverse();
    rows.into_iter()
        .map(|r| (r.job, r.outcome, r.failed_by))
        .collect()
}

fn expected() -> Vec<(String, Outcome, Option<FailedBy>)> {
    vec![
        ("ok".into(), Outcome::Exited { code: 0 }, None),
        (
            "three".into(),
            Outcome::Exited { code: 3 },
            Some(FailedBy::Status),
        ),
        (
            "killed".into(),
            Outcome::Signaled { signal: 9 },
            Some(FailedBy::Status),
        ),
        (
            "slow".into(),
            Outcome::Exited { code: 0 },
            Some(FailedBy::Timeout),
        ),
        (
            "broken".into(),
            Outcome::SpawnFailed { error: "no".into() },
            None,
        ),
        ("going".into(), Outcome::Running { pid: 4242 }, None),
    ]
}

#[test]
fn a_version_1_store_is_read_as_it_is_judging_runs_as_version_1_did() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    version_1_store(&path);
    let before = std::fs::read(&path).unwrap();
    let store = Store::open_read(&path).unwrap().unwrap();
    assert_eq!(judged(&store), expected());
    assert!(store.check().unwrap().is_empty());
    drop(store);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "reading changes nothing"
    );
}

#[test]
fn a_version_1_store_is_migrated_at_the_next_start_with_its_runs_judged() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    version_1_store(&path);
    let store = Store::open_exclusive(&path, t(5)).unwrap();
    let version: i64 = store
        .sqlite()
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, CURRENT);
    assert_eq!(judged(&store), expected());
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_run_judged_by_its_jobs_rules_keeps_the_verdict() {
    let (_dir, mut store) = super::new_store();
    for (job, code, failed_by) in [("lenient", 3, None), ("strict", 0, Some(FailedBy::Stderr))] {
        let id = super::claim(&mut store, job, t(1));
        store.started(id, 1, t(1)).unwrap();
        store
            .finished_as(
                id,
                t(2),
                &Outcome::Exited { code },
                false,
                "",
                failed_by,
                None,
            )
            .unwrap();
    }
    let rows = judged(&store);
    assert_eq!(rows[0].2, None);
    assert_eq!(rows[1].2, Some(FailedBy::Stderr));
    assert!(store.check().unwrap().is_empty());
}
