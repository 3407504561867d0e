//! The WAL: checkpointed by the background thread, removed when the store closes.

use std::fs;
use std::time::{Duration, Instant};

use super::{new_store, run, store_path, t};

fn wal_of(path: &std::path::Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

#[test]
fn the_background_thread_checkpoints_the_wal_into_the_database() {
    let (dir, mut store) = new_store();
    let path = store_path(&dir);
    let before = fs::metadata(&path).unwrap().len();
    // 50 runs are 150 one-row writes: two wake-ups of the thread, and well below the writer's
    // own backstop, so only the thread can have copied pages into the database file.
    for i in 0..50 {
        run(&mut store, "a", t(i), 0);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while fs::metadata(&path).unwrap().len() == before {
        assert!(Instant::now() < deadline, "no checkpoint within 5 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn closing_the_store_checkpoints_and_removes_the_wal() {
    let (dir, mut store) = new_store();
    let path = store_path(&dir);
    run(&mut store, "a", t(0), 0);
    assert!(wal_of(&path).exists());
    drop(store);
    assert!(!wal_of(&path).exists());
    let reader = crate::store::Store::open_read(&path).unwrap().unwrap();
    assert_eq!(reader.history(None, 10).unwrap().len(), 1);
}
