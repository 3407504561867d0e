//! What the scheduling policies keep (issue 11): boots, where chains start, the ends chained
//! jobs follow, replaced runs; and a store of schema version 1 read and migrated.

use std::path::Path;

use super::{claim, new_store, raw_sql, reopen, run, store_path, t};
use crate::store::{Boot, Claim, Outcome, Store, StoreError};

#[test]
fn a_boot_is_new_once_and_keeps_the_instant_it_was_first_seen() {
    let (dir, mut store) = new_store();
    assert_eq!(
        store.note_boot("boot-a", t(10)).unwrap(),
        Boot {
            at: t(10),
            new: true
        }
    );
    assert_eq!(
        store.note_boot("boot-a", t(20)).unwrap(),
        Boot {
            at: t(10),
            new: false
        }
    );
    drop(store);
    // A restart of jobrun in the same boot, then a reboot.
    let mut store = reopen(&store_path(&dir));
    assert!(!store.note_boot("boot-a", t(30)).unwrap().new);
    assert_eq!(
        store.note_boot("boot-b", t(40)).unwrap(),
        Boot {
            at: t(40),
            new: true
        }
    );
    assert!(!store.note_boot("boot-b", t(50)).unwrap().new);
}

#[test]
fn chains_start_where_a_job_has_no_last_fire_only() {
    let (_dir, mut store) = new_store();
    store
        .set_schedules(&[("fresh", "after a"), ("known", "after a")])
        .unwrap();
    claim(&mut store, "known", t(5));
    store.start_chains(&["fresh", "known"], t(60)).unwrap();
    let states = store.job_states().unwrap();
    assert_eq!(states["fresh"].last_fire, Some(t(60)));
    assert_eq!(states["known"].last_fire, Some(t(5)));
}

#[test]
fn ended_after_gives_the_scheduled_ends_of_the_named_jobs_in_the_order_they_ended() {
    let (_dir, mut store) = new_store();
    let early = run(&mut store, "a", t(10), 0);
    let late_b = run(&mut store, "b", t(40), 1);
    let late_a = run(&mut store, "a", t(30), 0);
    run(&mut store, "other", t(35), 0);
    // Still going, a manual run, a fire that never started, one that could not start.
    let going = claim(&mut store, "a", t(50));
    store.started(going, 7, t(50)).unwrap();
    let manual = store
        .claim(
            &[Claim {
                job: "a",
                scheduled: t(45),
                manual: true,
                attempt: 1,
                attempts: 1,
            }],
            t(45),
        )
        .unwrap()[0];
    store.started(manual, 8, t(45)).unwrap();
    store
        .finished(manual, t(46), &Outcome::Exited { code: 0 }, false, "")
        .unwrap();
    claim(&mut store, "b", t(55));
    let failed = claim(&mut store, "b", t(60));
    store
        .spawn_failed(failed, t(60), "no such program")
        .unwrap();
    let ended: Vec<i64> = store
        .ended_after(&["a", "b"], t(10))
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ended, [late_a, late_b, failed]);
    assert!(
        !ended.contains(&early),
        "ended at the bound itself: not after it"
    );
}

#[test]
fn a_replaced_run_names_the_run_that_replaced_it() {
    let (_dir, mut store) = new_store();
    let old = run(&mut store, "sync", t(10), 0);
    let new = claim(&mut store, "sync", t(20));
    store.mark_replaced(old, new).unwrap();
    let history = store.history(Some("sync"), 10).unwrap();
    assert_eq!(history[1].replaced_by, Some(new));
    assert_eq!(history[0].replaced_by, None);
    // Only an ended run can have been replaced.
    match store.mark_replaced(new, old) {
        Err(e @ StoreError::Io { .. }) => {
            assert!(e.to_string().contains("is claimed"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_row_marked_replaced_that_did_not_run_is_reported_as_damage() {
    let (_dir, mut store) = new_store();
    let id = claim(&mut store, "sync", t(10));
    raw_sql(
        &store,
        &format!("UPDATE runs SET replaced_by = 1 WHERE id = {id}"),
    );
    let err = store.history(None, 10).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("is marked as replaced"), "{err}");
}

/// `tests/data/state-v1.sqlite`: a store written by jobrun before schema version 2 (a
/// scheduler ran `tick` every second and `fail` every two seconds for a few seconds, then
/// `jobrun run tick`), copied into a fresh directory.
fn version_1_store() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobrun.sqlite");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/state-v1.sqlite");
    std::fs::copy(fixture, &path).unwrap();
    (dir, path)
}

#[test]
fn a_version_1_store_is_read_as_it_is_and_migrated_by_the_scheduler() {
    let (_dir, path) = version_1_store();
    let before = std::fs::read(&path).unwrap();
    let read = Store::open_read(&path).unwrap().unwrap();
    let history = read.history(None, 100).unwrap();
    assert_eq!(history.len(), 5);
    assert!(history.iter().all(|r| r.replaced_by.is_none()));
    assert_eq!(
        history.iter().filter(|r| r.job == "fail").count(),
        1,
        "{history:#?}"
    );
    assert!(read.check().unwrap().is_empty());
    drop(read);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "reading migrates nothing"
    );

    let mut store = Store::open_exclusive(&path, t(0)).unwrap();
    let version: i64 = store
        .sqlite()
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, crate::store::schema::CURRENT);
    assert_eq!(store.history(None, 100).unwrap(), history);
    assert!(store.note_boot("boot-a", t(0)).unwrap().new);
    assert!(store.check().unwrap().is_empty());
}

#[test]
fn a_failed_attempt_that_a_retry_follows_is_no_end_for_chained_jobs() {
    use crate::store::{FailedBy, PlannedRetry};
    let (_dir, mut store) = new_store();
    let attempt = |n: u32, at: i64| Claim {
        job: "up",
        scheduled: t(at),
        manual: false,
        attempt: n,
        attempts: 2,
    };
    let failed = Outcome::Exited { code: 1 };
    let retry = |at: i64| PlannedRetry {
        job: "up".into(),
        scheduled: t(at),
        attempt: 2,
        attempts: 2,
        due: t(at + 30),
    };
    // The fire at 10 failed, was retried at 40 and the retry succeeded; the fire at 100
    // failed and its retry is still to come.
    let first = store.claim(&[attempt(1, 10)], t(10)).unwrap()[0];
    store.started(first, 7, t(10)).unwrap();
    let status = Some(FailedBy::Status);
    store
        .finished_as(first, t(11), &failed, false, "", status, Some(&retry(10)))
        .unwrap();
    let second = store.claim(&[attempt(2, 10)], t(40)).unwrap()[0];
    store.started(second, 8, t(40)).unwrap();
    store
        .finished_as(
            second,
            t(41),
            &Outcome::Exited { code: 0 },
            false,
            "",
            None,
            None,
        )
        .unwrap();
    let pending = store.claim(&[attempt(1, 100)], t(100)).unwrap()[0];
    store.started(pending, 9, t(100)).unwrap();
    store
        .finished_as(
            pending,
            t(101),
            &failed,
            false,
            "",
            status,
            Some(&retry(100)),
        )
        .unwrap();
    let ended = store.ended_after(&["up"], t(0)).unwrap();
    let ids: Vec<i64> = ended.iter().map(|r| r.id).collect();
    assert_eq!(ids, [second]);
    assert!(ended[0].succeeded());
}
