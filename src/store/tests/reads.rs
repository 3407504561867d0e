//! Reading back: history, each job's last outcome, and rows that do not make sense.

use super::{claim, new_store, raw_sql, run, t};
use crate::store::{Decision, Outcome, StoreError};

#[test]
fn history_is_newest_first_limited_and_filtered_by_job() {
    let (_dir, mut store) = new_store();
    let mut ids = Vec::new();
    for i in 0..6 {
        let job = if i % 2 == 0 { "even" } else { "odd" };
        ids.push(run(&mut store, job, t(i), 0));
    }
    let all: Vec<i64> = store
        .history(None, 100)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, ids.iter().rev().copied().collect::<Vec<_>>());
    let newest: Vec<i64> = store
        .history(None, 2)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(newest, [ids[5], ids[4]]);
    let odd: Vec<i64> = store
        .history(Some("odd"), 2)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(odd, [ids[5], ids[3]]);
    assert!(store.history(Some("none"), 10).unwrap().is_empty());
    assert!(store.history(None, 0).unwrap().is_empty());
    assert_eq!(store.history(None, usize::MAX).unwrap().len(), 6);
}

#[test]
fn last_outcomes_give_each_jobs_newest_row_that_is_not_claimed() {
    let (_dir, mut store) = new_store();
    run(&mut store, "ended-then-claimed", t(1), 3);
    claim(&mut store, "ended-then-claimed", t(2));
    claim(&mut store, "only-claimed", t(1));
    let running = claim(&mut store, "running", t(1));
    store.started(running, 7, t(1)).unwrap();
    store
        .decide(
            &[Decision {
                job: "missed",
                scheduled: t(5),
                outcome: Outcome::Missed {
                    late_by_ms: 5,
                    fires: 1,
                    first: t(5),
                },
            }],
            t(6),
        )
        .unwrap();
    // Enough jobs that a per-job lookup is exercised, not one lucky row.
    for i in 0..50 {
        run(
            &mut store,
            &format!("job-{i:02}"),
            t(i),
            i32::try_from(i).unwrap(),
        );
    }
    let last = store.last_outcomes().unwrap();
    assert_eq!(last.len(), 53);
    assert!(!last.contains_key("only-claimed"));
    assert_eq!(
        last["ended-then-claimed"].outcome,
        Outcome::Exited { code: 3 }
    );
    assert_eq!(last["running"].outcome, Outcome::Running { pid: 7 });
    assert!(matches!(last["missed"].outcome, Outcome::Missed { .. }));
    assert_eq!(last["job-42"].outcome, Outcome::Exited { code: 42 });
    assert_eq!(last["job-42"].job, "job-42");
}

#[test]
fn an_empty_store_reads_as_empty() {
    let (_dir, store) = new_store();
    assert!(store.history(None, 10).unwrap().is_empty());
    assert!(store.last_outcomes().unwrap().is_empty());
    assert!(store.job_states().unwrap().is_empty());
    assert!(store.unfinished().unwrap().is_empty());
    assert!(store.check().unwrap().is_empty());
}

#[test]
fn a_row_changed_behind_the_stores_back_is_reported_not_half_read() {
    let (_dir, mut store) = new_store();
    let id = run(&mut store, "a", t(1), 0);
    raw_sql(
        &store,
        &format!("UPDATE runs SET exit_code = NULL WHERE id = {id}"),
    );
    let err = store.history(None, 10).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("run {id} (exited) has no exit code")),
        "{err}"
    );

    raw_sql(
        &store,
        &format!("UPDATE runs SET exit_code = 'zero' WHERE id = {id}"),
    );
    assert!(matches!(
        store.history(None, 10),
        Err(StoreError::Corrupt { .. })
    ));
}
