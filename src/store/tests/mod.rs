//! The store's behaviour, written as specifications: opening, locking and refusing files
//! (`open`, `path`), a second process and a crash (`process`), recording runs (`runs`,
//! `lifecycle`), batches of starts and ends (`batch`), reading them back (`reads`), pruning
//! and checking (`upkeep`), checkpoints (`wal`), and a latency probe that prints percentiles
//! (`latency`, ignored by default), stores of older versions (`versions`), and what the
//! scheduling policies keep (`policies`).

mod admission;
mod batch;
mod conformance;
mod integrity;
mod latency;
mod lifecycle;
mod open;
mod path;
mod policies;
mod process;
mod reads;
mod retries;
mod runs;
mod shared;
mod upkeep;
mod versions;
mod wal;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tempfile::TempDir;

use super::{Claim, Outcome, RunRecord, Store, StoreError};

/// Polls `condition` every 50 ms until it holds or `bound` passes; whether it held.
/// Notices of a shared `store` until `found` says enough (bounded: the heartbeat thread writes
/// them).
fn notices_until(
    store: &mut Store,
    found: impl Fn(&[crate::store::postgres::Notice]) -> bool,
) -> Vec<crate::store::postgres::Notice> {
    let mut all = Vec::new();
    let done = wait(std::time::Duration::from_secs(10), || {
        all.extend(store.take_notices());
        found(&all)
    });
    assert!(done, "not told within 10 s: {all:?}");
    all
}

fn wait(bound: std::time::Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if condition() {
            return true;
        }
        if start.elapsed() > bound {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// 2026-01-01T00:00:00Z plus `secs` seconds.
fn t(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600 + secs, 0).expect("in range")
}

fn store_path(dir: &TempDir) -> PathBuf {
    dir.path()
        .join("state")
        .join("jobs-0123456789abcdef.sqlite")
}

/// A new exclusive store in a fresh temporary directory (kept alive by the returned TempDir).
fn new_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_exclusive(&store_path(&dir), t(0)).unwrap();
    (dir, store)
}

/// Opens the store again, as the next scheduler would. Not while another test is spawning: a
/// child between its spawn and its `exec` holds a copy of every descriptor of this process,
/// the store's locked one included, and the store would still look locked.
fn reopen(path: &Path) -> Store {
    let _no_spawns = crate::executor::all_children();
    Store::open_exclusive(path, t(0)).unwrap()
}

fn scheduled(job: &str, at: DateTime<Utc>) -> Claim<'_> {
    Claim {
        job,
        scheduled: at,
        manual: false,
        attempt: 1,
        attempts: 1,
    }
}

/// Claims one scheduled fire and returns its id.
fn claim(store: &mut Store, job: &str, at: DateTime<Utc>) -> i64 {
    store.claim(&[scheduled(job, at)], at).unwrap()[0]
}

/// A scheduled fire claimed, started and exited with `code`; returns its id.
fn run(store: &mut Store, job: &str, at: DateTime<Utc>, code: i32) -> i64 {
    let id = claim(store, job, at);
    store.started(id, 4242, at).unwrap();
    store
        .finished(id, at, &Outcome::Exited { code }, false, "")
        .unwrap();
    id
}

/// Runs one SQL statement behind the store's back, as another program could.
fn raw_sql(store: &Store, sql: &str) {
    store.sqlite().conn.execute_batch(sql).unwrap();
}

/// The store's only row.
fn only_row(store: &Store) -> RunRecord {
    let mut rows = store.history(None, 10).unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    rows.remove(0)
}

/// A refused request: `Io` with this action, and a message containing `words`.
fn assert_refused(err: StoreError, action: &str, words: &str) {
    match &err {
        StoreError::Io { action: a, .. } => assert_eq!(*a, action, "{err}"),
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(err.to_string().contains(words), "{err}");
}
