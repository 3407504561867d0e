//! Pruning and checking.

use chrono::TimeDelta;

use super::{claim, new_store, raw_sql, run, t};
use crate::store::{Retention, Store};

fn ids(store: &Store, job: &str) -> Vec<i64> {
    store
        .history(Some(job), 1000)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect()
}

fn runs_only(max_runs_per_job: u32) -> Retention {
    Retention {
        max_runs_per_job: Some(max_runs_per_job),
        max_age: None,
    }
}

fn age_only(max_age: TimeDelta) -> Retention {
    Retention {
        max_runs_per_job: None,
        max_age: Some(max_age),
    }
}

#[test]
fn the_default_retention_is_1000_runs_and_90_days() {
    assert_eq!(
        Retention::default(),
        Retention {
            max_runs_per_job: Some(1000),
            max_age: Some(TimeDelta::days(90)),
        }
    );
}

#[test]
fn prune_keeps_each_jobs_newest_runs() {
    let (_dir, mut store) = new_store();
    for i in 0..10 {
        run(&mut store, "a", t(i), 0);
        if i < 2 {
            run(&mut store, "b", t(i), 0);
        }
    }
    let a_before = ids(&store, "a");
    assert_eq!(store.prune(&runs_only(3), t(100)).unwrap(), 7);
    assert_eq!(ids(&store, "a"), a_before[..3]);
    assert_eq!(ids(&store, "b").len(), 2);
    assert_eq!(store.prune(&runs_only(3), t(100)).unwrap(), 0);
}

#[test]
fn prune_deletes_runs_older_than_the_maximum_age() {
    let (_dir, mut store) = new_store();
    let old = run(&mut store, "a", t(0), 0);
    let recent = run(&mut store, "a", t(0) + TimeDelta::days(5), 0);
    let now = t(0) + TimeDelta::days(8);
    assert_eq!(store.prune(&age_only(TimeDelta::days(7)), now).unwrap(), 1);
    assert_eq!(ids(&store, "a"), [recent]);
    assert_ne!(old, recent);
    assert_eq!(store.prune(&Retention::default(), now).unwrap(), 0);
}

#[test]
fn prune_never_deletes_claimed_or_running_runs() {
    let (_dir, mut store) = new_store();
    let claimed = claim(&mut store, "a", t(0));
    let running = claim(&mut store, "a", t(1));
    store.started(running, 1, t(1)).unwrap();
    run(&mut store, "a", t(2), 0);
    let far_future = t(0) + TimeDelta::days(10_000);
    let deleted = store
        .prune(
            &Retention {
                max_runs_per_job: Some(0),
                max_age: Some(TimeDelta::zero()),
            },
            far_future,
        )
        .unwrap();
    assert_eq!(deleted, 1);
    let mut left = ids(&store, "a");
    left.sort_unstable();
    assert_eq!(left, [claimed, running]);
}

#[test]
fn run_ids_are_never_reused_after_pruning() {
    let (_dir, mut store) = new_store();
    let first = run(&mut store, "a", t(0), 0);
    store.prune(&runs_only(0), t(1)).unwrap();
    assert!(store.history(None, 10).unwrap().is_empty());
    let next = run(&mut store, "a", t(1), 0);
    assert!(next > first, "{next} after {first}");
}

#[test]
fn check_of_a_sound_store_finds_nothing() {
    let (_dir, mut store) = new_store();
    run(&mut store, "a", t(0), 0);
    claim(&mut store, "a", t(1));
    assert_eq!(store.check().unwrap(), Vec::<String>::new());
}

#[test]
fn check_finds_a_fire_recorded_twice_behind_the_stores_back() {
    let (_dir, mut store) = new_store();
    run(&mut store, "backup", t(60), 0);
    raw_sql(
        &store,
        "DROP INDEX runs_one_per_fire;
         INSERT INTO runs (job, scheduled, manual, recorded_at, state)
         SELECT job, scheduled, 0, recorded_at, 'claimed' FROM runs;",
    );
    let problems = store.check().unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0], "the index runs_one_per_fire is missing");
    assert_eq!(
        problems[1],
        format!(
            "job \"backup\" has 2 rows for its scheduled fire at {} (at most one is allowed)",
            t(60).to_rfc3339()
        )
    );
}

#[test]
fn check_finds_rows_inconsistent_with_their_outcome() {
    let (_dir, mut store) = new_store();
    let exited = run(&mut store, "a", t(0), 0);
    let claimed = claim(&mut store, "a", t(1));
    raw_sql(
        &store,
        &format!(
            "UPDATE runs SET signal = 9 WHERE id = {exited};
             UPDATE runs SET timed_out = 1 WHERE id = {claimed};
             INSERT INTO runs (job, scheduled, manual, recorded_at, state)
             VALUES ('a', 5, 0, 5, 'paused');"
        ),
    );
    let problems = store.check().unwrap();
    assert_eq!(
        problems,
        [
            format!("run {exited} (exited) has values in columns of other outcomes"),
            format!("run {claimed} (claimed) is marked as timed out"),
            format!("run {} has an unknown state \"paused\"", claimed + 1),
        ]
    );
}

#[test]
fn check_summarises_a_flood_of_bad_rows() {
    let (_dir, mut store) = new_store();
    for i in 0..105 {
        claim(&mut store, "a", t(i));
    }
    raw_sql(&store, "UPDATE runs SET pid = 1");
    let problems = store.check().unwrap();
    assert_eq!(problems.len(), 101);
    assert_eq!(problems[100], "... and 5 more inconsistent rows");
}
