//! The way to the store (issue 12): a private state directory, and no symlink at the store's
//! name, for every way of opening it.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};

use super::{store_path, t};
use crate::store::{Store, StoreError};

#[test]
fn the_state_directory_and_its_missing_parents_are_created_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/jobs.sqlite");
    drop(Store::open_exclusive(&path, t(0)).unwrap());
    for created in ["a", "a/b"] {
        let mode = fs::metadata(dir.path().join(created))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "{created}");
    }
}

#[test]
fn a_state_directory_others_can_write_is_refused_by_every_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    drop(Store::open_exclusive(&path, t(0)).unwrap());
    let state = path.parent().unwrap();
    fs::set_permissions(state, fs::Permissions::from_mode(0o1777)).unwrap();
    let refused = |result: Result<(), StoreError>| match result {
        Err(StoreError::Untrusted { dir, .. }) => assert_eq!(dir, state),
        other => panic!("expected Untrusted, got {other:?}"),
    };
    refused(Store::open_exclusive(&path, t(1)).map(drop));
    refused(Store::open_read(&path).map(drop));
    refused(Store::open_shared(&path).map(drop));
    let err = Store::open_read(&path).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "refusing state directory {}: {} is writable by",
            state.display(),
            state.display()
        )),
        "{err}"
    );
}

#[test]
fn a_symlink_at_the_stores_name_is_refused_and_its_target_never_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    fs::create_dir(path.parent().unwrap()).unwrap();
    let target = dir.path().join("elsewhere.sqlite");
    symlink(&target, &path).unwrap();
    for err in [
        Store::open_exclusive(&path, t(0)).unwrap_err(),
        Store::open_read(&path).unwrap_err(),
        Store::open_shared(&path).unwrap_err(),
    ] {
        assert!(
            err.to_string().ends_with(
                ": it is a symlink, and jobrun opens its store only as a file of its own"
            ),
            "{err}"
        );
    }
    assert!(!target.exists());
}
