//! The path walk of `trust.rs`: symlinks and `..` as the kernel takes them, loops, missing
//! steps, directories others can write, and who is checked at all.

use super::*;
use std::os::unix::fs::symlink;

fn me() -> Trust {
    Trust::of_process(false)
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_path_is_resolved_through_symlinks_and_dot_dot_as_the_kernel_does() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    fs::create_dir_all(base.join("real/sub")).unwrap();
    fs::write(base.join("real/jobrun.toml"), "").unwrap();
    // `link/..` is the parent of the link's target, not `base`.
    symlink(base.join("real/sub"), base.join("link")).unwrap();
    let found = check_path(&base.join("link/../jobrun.toml"), &me(), Last::File).unwrap();
    assert_eq!(found, Some(base.join("real/jobrun.toml")));
    symlink("real/jobrun.toml", base.join("relative")).unwrap();
    let found = check_path(&base.join("relative"), &me(), Last::File).unwrap();
    assert_eq!(found, Some(base.join("real/jobrun.toml")));
}

#[test]
fn missing_steps_and_files_where_directories_should_be_are_none() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();
    assert_eq!(
        check_path(&base.join("nope/x"), &me(), Last::File).unwrap(),
        None
    );
    fs::write(base.join("file"), "").unwrap();
    assert_eq!(
        check_path(&base.join("file/x"), &me(), Last::File).unwrap(),
        None
    );
    assert_eq!(
        check_path(&base.join("file"), &me(), Last::OwnDirectory).unwrap(),
        None
    );
}

#[test]
fn a_path_ending_in_dot_dot_has_its_last_step_judged_as_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    fs::create_dir_all(shared.join("sub")).unwrap();
    chmod(&shared, 0o1777);
    let refusal = check_path(&shared.join("sub/.."), &me(), Last::OwnDirectory).unwrap_err();
    assert_eq!(refusal.path, shared);
}

#[test]
fn a_symlink_loop_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    symlink(dir.path().join("b"), &a).unwrap();
    symlink(&a, dir.path().join("b")).unwrap();
    let refusal = check_path(&a, &me(), Last::File).unwrap_err();
    assert!(matches!(refusal.problem, Problem::Loop), "{refusal}");
}

#[test]
fn a_directory_others_can_write_is_refused_unless_sticky_but_the_last_one_even_then() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::create_dir(shared.join("state")).unwrap();
    fs::write(shared.join("jobrun.toml"), "").unwrap();
    chmod(&shared, 0o777);
    for (path, last) in [
        (shared.join("jobrun.toml"), Last::File),
        (shared.join("state"), Last::OwnDirectory),
    ] {
        let refusal = check_path(&path, &me(), last).unwrap_err();
        assert_eq!(refusal.path, shared);
        assert_eq!(
            refusal.to_string(),
            format!(
                "{} is writable by its group and others (mode 0777) without the sticky bit",
                shared.display()
            )
        );
        assert_eq!(
            refusal.fix(),
            Some(format!("chmod go-w {}", shared.display()))
        );
    }
    chmod(&shared, 0o1777);
    assert!(check_path(&shared.join("jobrun.toml"), &me(), Last::File).is_ok());
    assert!(check_path(&shared.join("state"), &me(), Last::OwnDirectory).is_ok());
    // The state directory itself may not be a shared one, sticky or not.
    let refusal = check_path(&shared, &me(), Last::OwnDirectory).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        format!(
            "{} is writable by its group and others (mode 0777)",
            shared.display()
        )
    );
}

#[test]
fn the_opt_out_and_ordinary_users_skip_the_jobfile_checks() {
    assert!(
        !Trust {
            uid: 0,
            trust_jobfile: true
        }
        .checks_jobfile()
    );
    assert!(
        !Trust {
            uid: 1000,
            trust_jobfile: false
        }
        .checks_jobfile()
    );
    assert!(
        Trust {
            uid: 0,
            trust_jobfile: false
        }
        .checks_jobfile()
    );
}

#[test]
fn as_a_user_only_others_write_counts_and_root_and_the_user_are_trusted_owners() {
    let user = Trust {
        uid: 1000,
        trust_jobfile: false,
    };
    assert_eq!(user.others_write(), 0o002);
    assert_eq!(
        Trust {
            uid: 0,
            trust_jobfile: false
        }
        .others_write(),
        0o022
    );
    assert!(user.trusts_owner(0) && user.trusts_owner(1000) && !user.trusts_owner(1001));
}
