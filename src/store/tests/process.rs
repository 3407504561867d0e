//! Two processes: a scheduler in a child process holds the store, the test is the second
//! `jobrun start`; then the child dies abruptly (SIGABRT, as good as `kill -9` for the store:
//! no destructor runs) and what it committed must all be there.
//!
//! The child is this test binary again, running the ignored `child_holds_the_store` with the
//! store's path in an environment variable.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{claim, store_path, t};
use crate::store::{Outcome, Store, StoreError};

const CHILD_STORE: &str = "JOBRUN_TEST_CHILD_STORE";

#[test]
#[ignore = "the child half of a_scheduler_that_dies_releases_the_store_and_keeps_its_commits"]
fn child_holds_the_store() {
    let Some(path) = std::env::var_os(CHILD_STORE) else {
        return;
    };
    let mut store = Store::open_exclusive(path.as_ref(), t(0)).unwrap();
    crate::store::tests::run(&mut store, "done", t(1), 0);
    let id = claim(&mut store, "running", t(2));
    store.started(id, 31337, t(2)).unwrap();
    println!("ready {id}");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    std::process::abort();
}

#[test]
fn a_scheduler_that_dies_releases_the_store_and_keeps_its_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "store::tests::process::child_holds_the_store",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_STORE, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // libtest prints "test NAME ... " before the test's own output, on the same line. A
    // thread reads, so that a child that never gets ready fails the test instead of hanging it.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (ready, report) = mpsc::channel();
    std::thread::spawn(move || {
        let id = stdout.lines().map_while(Result::ok).find_map(|line| {
            line.rsplit_once("ready ")
                .and_then(|(_, id)| id.trim().parse::<i64>().ok())
        });
        let _ = ready.send(id);
    });
    let Ok(Some(running_id)) = report.recv_timeout(Duration::from_secs(30)) else {
        let _ = child.kill();
        panic!("the child did not report that it holds the store");
    };

    let err = Store::open_exclusive(&path, t(10)).unwrap_err();
    assert!(
        matches!(err, StoreError::Locked { pid: Some(pid), .. } if pid == child.id()),
        "{err:?}"
    );
    let reader = Store::open_read(&path).unwrap().unwrap();
    assert_eq!(reader.history(None, 10).unwrap().len(), 2);
    drop(reader);

    child.stdin.take().unwrap().write_all(b"die\n").unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());

    let store = Store::open_exclusive(&path, t(20)).unwrap();
    let rows = store.history(None, 10).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].outcome, Outcome::Exited { code: 0 });
    let left = store.unfinished().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, running_id);
    assert_eq!(left[0].outcome, Outcome::Running { pid: 31337 });
    assert!(store.check().unwrap().is_empty());
}
