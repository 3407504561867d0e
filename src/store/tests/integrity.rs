//! A damaged store is refused when a scheduler opens it (issue 12), and what that check costs.
//!
//! The cost is measured by an ignored test, whose figures are for reading:
//!
//!     cargo test --release --lib store::tests::integrity -- --ignored --nocapture

use std::fs;
use std::path::Path;
use std::time::Instant;

use rusqlite::{Connection, OpenFlags};

use super::{new_store, raw_sql, reopen, store_path, t};
use crate::store::{Store, StoreError};

/// `runs` rows like a scheduler's (exited, with an output tail of `tail` bytes), written in one
/// transaction behind the store's back, for `jobs` jobs.
fn fill(store: &Store, runs: usize, jobs: usize, tail: usize) {
    let output = "x".repeat(tail);
    raw_sql(store, "BEGIN");
    {
        let mut insert = store
            .sqlite()
            .conn
            .prepare(
                "INSERT INTO runs (job, scheduled, manual, recorded_at, started, ended, state, \
                 exit_code, output_tail) VALUES (?1, ?2, 0, ?2, ?2, ?2, 'exited', 0, ?3)",
            )
            .unwrap();
        for i in 0..runs {
            let at = t(i64::try_from(i).unwrap()).timestamp_micros();
            insert
                .execute(rusqlite::params![format!("job{}", i % jobs), at, output])
                .unwrap();
        }
    }
    raw_sql(store, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);");
}

/// Overwrites 40 bytes at the start of the page that roots the `runs_by_age` index: its page
/// header and the pointers to its cells. Opening the store reads nothing of that index, so
/// before the check a scheduler came up and failed at every write (issue 12).
fn flip_index_root(path: &Path) {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'runs_by_age'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let mut bytes = fs::read(path).unwrap();
    let at = usize::try_from((root - 1) * page_size).unwrap();
    for b in &mut bytes[at..at + 40] {
        *b ^= 0xa5;
    }
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_store_with_flipped_bytes_is_refused_by_a_scheduler_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store = Store::open_exclusive(&path, t(0)).unwrap();
    fill(&store, 2000, 10, 200);
    drop(store);
    flip_index_root(&path);
    let before = fs::read(&path).unwrap();
    // Not while another test is spawning: see `reopen`.
    let err = {
        let _no_spawns = crate::executor::all_children();
        Store::open_exclusive(&path, t(1)).unwrap_err()
    };
    match &err {
        StoreError::Corrupt { detail, .. } => {
            assert!(
                detail.starts_with("SQLite's quick_check found it damaged: "),
                "{detail}"
            );
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(err.to_string().contains("it was left untouched"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before, "not a byte written");
}

#[test]
fn a_sound_store_opens() {
    let (dir, store) = new_store();
    fill(&store, 100, 3, 50);
    drop(store);
    drop(reopen(&store_path(&dir)));
}

#[test]
#[ignore = "a measurement, not a check: run it in release with --nocapture"]
fn cost_of_the_checks_at_100_000_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let store = Store::open_exclusive(&path, t(0)).unwrap();
    // The default retention (1000 runs a job) with 100 jobs, tails of 1 KiB (the kept tail is
    // at most 4 KiB; most jobs print less).
    fill(&store, 100_000, 100, 1024);
    drop(store);
    let size = fs::metadata(&path).unwrap().len();
    for pragma in [
        "quick_check",
        "integrity_check",
        "quick_check",
        "integrity_check",
    ] {
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let start = Instant::now();
        let result: String = conn
            .query_row(&format!("PRAGMA {pragma}"), [], |r| r.get(0))
            .unwrap();
        eprintln!(
            "{pragma}: {:?} on {} MB, {result}",
            start.elapsed(),
            size / 1_000_000
        );
    }
    let start = Instant::now();
    drop(Store::open_exclusive(&path, t(1)).unwrap());
    eprintln!("open_exclusive (with quick_check): {:?}", start.elapsed());
}
