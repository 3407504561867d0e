//! A run's life: claimed, started, ended (or failed to start), and what an earlier scheduler
//! left unfinished; writes out of that order are refused.

use super::{assert_refused, claim, new_store, only_row, reopen, run, store_path, t};
use crate::store::{MAX_TAIL, Outcome, Store};

#[test]
fn unfinished_lists_what_an_earlier_scheduler_left_oldest_first() {
    let (dir, mut store) = new_store();
    let path = store_path(&dir);
    run(&mut store, "done", t(1), 0);
    let claimed = claim(&mut store, "a", t(2));
    let running = claim(&mut store, "b", t(3));
    store.started(running, 99, t(3)).unwrap();
    // This scheduler's own runs are not "left behind".
    assert!(store.unfinished().unwrap().is_empty());
    drop(store); // the scheduler dies

    let mut store = reopen(&path);
    let own = claim(&mut store, "c", t(4));
    let left: Vec<i64> = store.unfinished().unwrap().iter().map(|r| r.id).collect();
    assert_eq!(left, [claimed, running]);
    // A reader sees every run in flight, this scheduler's included.
    let reader = Store::open_read(&path).unwrap().unwrap();
    assert_eq!(reader.unfinished().unwrap().len(), 3);

    for id in left {
        store
            .mark_interrupted(id, t(10), "jobrun stopped while it ran")
            .unwrap();
    }
    assert!(store.unfinished().unwrap().is_empty());
    let rows = store.history(None, 10).unwrap();
    let b = rows.iter().find(|r| r.id == running).unwrap();
    assert_eq!(
        b.outcome,
        Outcome::Interrupted {
            note: "jobrun stopped while it ran".into()
        }
    );
    assert_eq!((b.started, b.ended), (Some(t(3)), Some(t(10))));
    assert_eq!(
        reader
            .unfinished()
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [own]
    );
}

#[test]
fn a_run_only_moves_forward() {
    let (_dir, mut store) = new_store();
    let exited = Outcome::Exited { code: 0 };
    assert_refused(
        store.started(12345, 1, t(0)).unwrap_err(),
        "record a run's start",
        "there is no run 12345",
    );
    let id = claim(&mut store, "a", t(1));
    assert_refused(
        store.finished(id, t(2), &exited, false, "").unwrap_err(),
        "record a run's end",
        "is claimed, not running",
    );
    store.started(id, 5, t(1)).unwrap();
    assert_refused(
        store.started(id, 5, t(1)).unwrap_err(),
        "record a run's start",
        "is running, not claimed",
    );
    assert_refused(
        store.spawn_failed(id, t(1), "x").unwrap_err(),
        "record a failed start",
        "is running, not claimed",
    );
    assert_refused(
        store
            .finished(id, t(2), &Outcome::Claimed, false, "")
            .unwrap_err(),
        "record a run's end",
        "exited or signaled",
    );
    store.finished(id, t(2), &exited, false, "").unwrap();
    assert_refused(
        store.finished(id, t(3), &exited, false, "").unwrap_err(),
        "record a run's end",
        "is exited, not running",
    );
    assert_refused(
        store.mark_interrupted(id, t(3), "x").unwrap_err(),
        "mark a run as interrupted",
        "is exited, not claimed or running",
    );
    assert_eq!(only_row(&store).outcome, exited);
}

#[test]
fn the_output_tail_is_cut_to_its_last_max_tail_bytes() {
    let (_dir, mut store) = new_store();
    let id = claim(&mut store, "a", t(1));
    store.started(id, 1, t(1)).unwrap();
    let output = format!("{}{}", "début ".repeat(2000), "the end\n");
    store
        .finished(id, t(2), &Outcome::Exited { code: 1 }, false, &output)
        .unwrap();
    let tail = only_row(&store).output_tail;
    assert!(
        tail.len() <= MAX_TAIL && tail.len() > MAX_TAIL - 4,
        "{}",
        tail.len()
    );
    assert!(output.ends_with(&tail));
    assert!(tail.ends_with("the end\n"));
}
