//! Retries (issue 10): attempts of one fire, and a planned retry that survives a restart.

use super::{assert_refused, new_store, reopen, store_path, t};
use crate::store::{Claim, FailedBy, Outcome, PlannedRetry};

fn attempt(job: &str, n: u32) -> Claim<'_> {
    Claim {
        job,
        scheduled: t(60),
        manual: false,
        attempt: n,
        attempts: 3,
    }
}

fn retry(n: u32, due: i64) -> PlannedRetry {
    PlannedRetry {
        job: "j".into(),
        scheduled: t(60),
        attempt: n,
        attempts: 3,
        due: t(due),
    }
}

#[test]
fn a_failed_attempt_and_its_retry_are_one_write_and_the_retrys_claim_takes_it_off() {
    let (dir, mut store) = new_store();
    let id = store.claim(&[attempt("j", 1)], t(60)).unwrap()[0];
    store.started(id, 7, t(60)).unwrap();
    let failed = Outcome::Exited { code: 1 };
    let status = Some(FailedBy::Status);
    store
        .finished_as(id, t(61), &failed, false, "", status, Some(&retry(2, 91)))
        .unwrap();
    drop(store);
    // Kept across a restart.
    let mut store = reopen(&store_path(&dir));
    assert_eq!(store.pending_retries().unwrap(), [retry(2, 91)]);
    let second = store.claim(&[attempt("j", 2)], t(91)).unwrap()[0];
    assert!(store.pending_retries().unwrap().is_empty());
    // Each attempt of a fire is handled once.
    assert_refused(
        store.claim(&[attempt("j", 2)], t(92)).unwrap_err(),
        "claim a run",
        "already handled",
    );
    let rows = store.history(Some("j"), 10).unwrap();
    assert_eq!(rows[0].id, second);
    assert_eq!((rows[0].attempt, rows[0].attempts), (2, 3));
    assert_eq!((rows[1].attempt, rows[1].attempts), (1, 3));
    assert_eq!(store.job_states().unwrap()["j"].last_fire, Some(t(60)));
    assert!(store.check().unwrap().is_empty());
}

#[test]
fn a_removed_jobs_planned_retry_is_forgotten_with_it() {
    let (_dir, mut store) = new_store();
    let id = store.claim(&[attempt("j", 1)], t(60)).unwrap()[0];
    store.started(id, 7, t(60)).unwrap();
    let failed = Outcome::Exited { code: 1 };
    store
        .finished_as(
            id,
            t(61),
            &failed,
            false,
            "",
            Some(FailedBy::Status),
            Some(&retry(2, 91)),
        )
        .unwrap();
    store.forget_jobs(&["j"]).unwrap();
    assert!(store.pending_retries().unwrap().is_empty());
}
