//! Opening: creation and migration, the single-holder lock, and the files jobrun must refuse
//! without changing a byte.

use std::fs::{self, File};
use std::path::Path;

use rusqlite::Connection;

use super::{claim, new_store, reopen, store_path, t};
use crate::store::schema::{APPLICATION_ID, CURRENT};
use crate::store::{Store, StoreError};

fn pragma(store: &Store, name: &str) -> String {
    store
        .sqlite()
        .conn
        .query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(s) => s,
            other => format!("{other:?}"),
        })
        .unwrap()
}

#[test]
fn open_exclusive_creates_the_directories_and_a_current_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/jobs.sqlite");
    let store = Store::open_exclusive(&path, t(0)).unwrap();
    assert_eq!(store.path(), path);
    assert!(path.is_file());
    assert_eq!(pragma(&store, "user_version"), CURRENT.to_string());
    assert_eq!(pragma(&store, "application_id"), APPLICATION_ID.to_string());
    assert_eq!(pragma(&store, "journal_mode"), "wal");
    assert_eq!(pragma(&store, "synchronous"), "1", "NORMAL");
    assert_eq!(pragma(&store, "cache_size"), "-512");
    assert_eq!(pragma(&store, "busy_timeout"), "5000");
    let (pid, since): (i64, i64) = store
        .sqlite()
        .conn
        .query_row("SELECT pid, since FROM holder", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(pid, i64::from(std::process::id()));
    assert_eq!(since, t(0).timestamp_micros());
}

#[cfg(unix)]
#[test]
fn the_store_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _store) = new_store();
    let mode = fs::metadata(store_path(&dir)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn an_empty_file_is_migrated_from_version_0() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.sqlite");
    File::create(&path).unwrap();
    let mut store = Store::open_exclusive(&path, t(0)).unwrap();
    assert_eq!(pragma(&store, "user_version"), CURRENT.to_string());
    claim(&mut store, "backup", t(60));
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
}

#[test]
fn reopening_keeps_what_was_recorded_and_migrates_nothing() {
    let (dir, mut store) = new_store();
    claim(&mut store, "backup", t(60));
    drop(store);
    let store = reopen(&store_path(&dir));
    assert_eq!(pragma(&store, "user_version"), CURRENT.to_string());
    assert_eq!(store.history(None, 10).unwrap().len(), 1);
}

#[test]
fn a_second_open_exclusive_is_refused_with_the_holders_pid_until_the_first_is_dropped() {
    let (dir, first) = new_store();
    let path = store_path(&dir);
    let err = Store::open_exclusive(&path, t(1)).unwrap_err();
    match &err {
        StoreError::Locked { path: p, pid } => {
            assert_eq!(p, &path);
            assert_eq!(*pid, Some(std::process::id()));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "state store {} is in use by another jobrun start (pid {})",
            path.display(),
            std::process::id()
        )
    );
    // The refused attempt must not have disturbed the holder.
    assert!(first.history(None, 1).unwrap().is_empty());
    drop(first);
    reopen(&path);
}

#[test]
fn a_lock_held_through_another_open_file_is_refused() {
    // What another process's `jobrun start` looks like from here: a flock on its own
    // descriptor, which this process's registry knows nothing about.
    let (dir, store) = new_store();
    let path = store_path(&dir);
    drop(store);
    let other = File::open(&path).unwrap();
    other.lock().unwrap();
    let err = Store::open_exclusive(&path, t(1)).unwrap_err();
    assert!(
        matches!(err, StoreError::Locked { pid: Some(p), .. } if p == std::process::id()),
        "{err:?}"
    );
    drop(other);
    reopen(&path);
}

#[test]
fn a_holder_that_has_not_recorded_its_pid_yet_is_reported_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    let other = File::create(&path).unwrap();
    other.lock().unwrap();
    let err = Store::open_exclusive(&path, t(1)).unwrap_err();
    assert!(
        matches!(err, StoreError::Locked { pid: None, .. }),
        "{err:?}"
    );
    assert!(err.to_string().ends_with("(pid unknown)"), "{err}");
}

/// Opens `path` both ways and expects both to refuse it, leaving it byte-identical.
fn assert_refused_untouched(path: &Path, check: impl Fn(&StoreError)) {
    let before = fs::read(path).unwrap();
    let err = Store::open_exclusive(path, t(0)).unwrap_err();
    check(&err);
    assert_eq!(err.path(), path);
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(
        fs::read(path).unwrap(),
        before,
        "open_exclusive changed the file"
    );
    let err = Store::open_read(path).unwrap_err();
    check(&err);
    assert_eq!(
        fs::read(path).unwrap(),
        before,
        "open_read changed the file"
    );
    // The refusal released the lock: a second attempt gets the same answer, not Locked.
    check(&Store::open_exclusive(path, t(0)).unwrap_err());
}

fn is_corrupt(err: &StoreError) {
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("left untouched"), "{text}");
    assert!(text.contains("move it aside"), "{text}");
}

#[test]
fn a_file_that_is_not_sqlite_is_corrupt_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        (
            "garbage.sqlite",
            (0..8192u32).map(|i| (i * 7 + 3) as u8).collect::<Vec<_>>(),
        ),
        ("short.sqlite", b"not a db".to_vec()),
        (
            "text.sqlite",
            b"[jobs]\nbackup = { cron = \"0 3 * * *\" }\n".repeat(50),
        ),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, &bytes).unwrap();
        assert_refused_untouched(&path, is_corrupt);
        // SQLite never opened it for writing, so it made no WAL beside it.
        assert!(!dir.path().join(format!("{name}-wal")).exists());
    }
}

#[test]
fn an_sqlite_database_that_is_not_a_jobrun_store_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    let other = Connection::open(&path).unwrap();
    other
        .execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(other);
    assert_refused_untouched(&path, |err| {
        is_corrupt(err);
        assert!(
            err.to_string().contains("not a jobrun state store"),
            "{err}"
        );
    });
}

#[test]
fn a_store_from_a_newer_jobrun_is_refused_untouched() {
    let (dir, store) = new_store();
    let path = store_path(&dir);
    drop(store);
    let raw = Connection::open(&path).unwrap();
    raw.execute_batch(&format!("PRAGMA user_version = {}", CURRENT + 1))
        .unwrap();
    drop(raw);
    assert_refused_untouched(&path, |err| match err {
        StoreError::TooNew {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (CURRENT + 1, CURRENT));
            assert!(err.to_string().contains("newer jobrun"), "{err}");
        }
        other => panic!("expected TooNew, got {other:?}"),
    });
}

#[test]
fn a_jobrun_store_missing_a_table_is_corrupt() {
    let (dir, store) = new_store();
    let path = store_path(&dir);
    drop(store);
    Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE holder")
        .unwrap();
    assert_refused_untouched(&path, |err| {
        is_corrupt(err);
        assert!(err.to_string().contains("\"holder\""), "{err}");
    });
}

#[test]
fn an_unreadable_file_is_an_io_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, store) = new_store();
    let path = store_path(&dir);
    drop(store);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    // Root (or any process with CAP_DAC_OVERRIDE) reads the file anyway: asking the kernel
    // covers both, where a uid check would miss the capability.
    if File::open(&path).is_ok() {
        eprintln!("skipped: this process reads files whatever their permissions (root)");
        return;
    }
    for err in [
        Store::open_exclusive(&path, t(0)).unwrap_err(),
        Store::open_read(&path).unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
        assert_eq!(err.path(), path);
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_state_directory_that_cannot_be_created_is_an_io_error() {
    // A regular file where a directory should be: fails for root too.
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("state"), "a file").unwrap();
    let err = Store::open_exclusive(&store_path(&dir), t(0)).unwrap_err();
    match &err {
        StoreError::Io { path, action, .. } => {
            assert_eq!(path, &dir.path().join("state"));
            assert_eq!(*action, "create the state directory");
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("cannot create the state directory: "),
        "{err}"
    );
}

#[test]
fn a_directory_at_the_stores_path_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    fs::create_dir(&path).unwrap();
    let err = Store::open_exclusive(&path, t(0)).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert_eq!(err.path(), path);
}

#[test]
fn open_read_of_a_missing_store_is_none_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    assert!(Store::open_read(&path).unwrap().is_none());
    assert!(!path.exists());
    assert!(!dir.path().join("state").exists());
}

#[test]
fn open_read_of_an_empty_file_is_none() {
    // A scheduler that has just created the file and not yet its tables.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    File::create(&path).unwrap();
    assert!(Store::open_read(&path).unwrap().is_none());
    assert_eq!(fs::metadata(&path).unwrap().len(), 0);
}

#[test]
fn open_read_reads_while_a_scheduler_holds_and_writes_the_store() {
    let (dir, mut writer) = new_store();
    let path = store_path(&dir);
    claim(&mut writer, "backup", t(60));
    let reader = Store::open_read(&path).unwrap().unwrap();
    assert_eq!(reader.history(None, 10).unwrap().len(), 1);
    claim(&mut writer, "backup", t(120));
    assert_eq!(reader.history(None, 10).unwrap().len(), 2);
    // A reader never holds the lock: the writer's Store stays the only holder.
    assert!(matches!(
        Store::open_exclusive(&path, t(1)),
        Err(StoreError::Locked { .. })
    ));
}

#[test]
fn a_read_only_store_refuses_writes() {
    let (dir, writer) = new_store();
    drop(writer);
    let mut reader = Store::open_read(&store_path(&dir)).unwrap().unwrap();
    let err = reader
        .claim(&[super::scheduled("backup", t(60))], t(60))
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Io {
                action: "claim a run",
                ..
            }
        ),
        "{err:?}"
    );
}
