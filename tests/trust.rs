//! Issue 12, finding 2: as root, a jobfile that another user can change is refused, at start
//! and at every reload. These tests need root (CI runs as root) to give files to `nobody`; as
//! another user they say so and pass without checking anything.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;

use crate::harness::{Test, texts, wait_for};

const JOB: &str = "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = [\"touch\", \"tick\"]\n";

pub(crate) fn is_root() -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        eprintln!("not root: the trust rules apply to root only, skipped");
    }
    root
}

pub(crate) fn nobody() -> u32 {
    nix::unistd::User::from_name("nobody")
        .ok()
        .flatten()
        .map_or(65534, |u| u.uid.as_raw())
}

pub(crate) fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

pub(crate) fn give_to_nobody(path: &Path) {
    let status = Command::new("chown")
        .args(["-h", &nobody().to_string()])
        .arg(path)
        .status()
        .expect("chown");
    assert!(status.success());
}

/// `jobrun check` refuses the jobfile naming `at` and the opt-out, and accepts it with it.
fn refused_then_trusted(test: &Test, jobfile: &str, reason: &str) {
    let output = test
        .command_with(&["--jobfile", jobfile, "check"])
        .output()
        .expect("run");
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "jobrun: error: refusing jobfile {jobfile}: {reason}; "
        )),
        "{err}"
    );
    assert!(
        err.contains("pass --trust-jobfile (or set JOBRUN_TRUST_JOBFILE=1) to run it anyway"),
        "{err}"
    );
    let trusted = test
        .command_with(&["--jobfile", jobfile, "--trust-jobfile", "check"])
        .output()
        .expect("run");
    assert_eq!(trusted.status.code(), Some(0), "{}", texts(&trusted).1);
    let by_env = test
        .command_with(&["--jobfile", jobfile, "check"])
        .env("JOBRUN_TRUST_JOBFILE", "1")
        .output()
        .expect("run");
    assert_eq!(by_env.status.code(), Some(0), "{}", texts(&by_env).1);
}

#[test]
fn root_refuses_a_jobfile_others_can_write() {
    if !is_root() {
        return;
    }
    let test = Test::new().file("jobrun.toml", JOB);
    let path = test.path("jobrun.toml");
    let shown = path.display().to_string();
    chmod(&path, 0o666);
    refused_then_trusted(
        &test,
        &shown,
        &format!("{shown} is writable by its group and others (mode 0666)"),
    );
    chmod(&path, 0o664);
    refused_then_trusted(
        &test,
        &shown,
        &format!("{shown} is writable by its group (mode 0664)"),
    );
    chmod(&path, 0o644);
    give_to_nobody(&path);
    refused_then_trusted(
        &test,
        &shown,
        &format!("{shown} is owned by nobody (uid {}), not root", nobody()),
    );
}

#[test]
fn root_refuses_a_jobfile_in_a_directory_others_can_write_unless_it_is_sticky() {
    if !is_root() {
        return;
    }
    let test = Test::new().file("shared/jobrun.toml", JOB);
    let dir = test.path("shared");
    let jobfile = test.path("shared/jobrun.toml").display().to_string();
    chmod(&dir, 0o777);
    refused_then_trusted(
        &test,
        &jobfile,
        &format!(
            "{} is writable by its group and others (mode 0777) without the sticky bit",
            dir.display()
        ),
    );
    // Sticky, like /tmp: others may add files, not replace root's.
    chmod(&dir, 0o1777);
    let output = test
        .command_with(&["--jobfile", &jobfile, "check"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{}", texts(&output).1);
    // But a symlink there that another user owns could be pointed anywhere.
    let link = test.path("shared/link.toml");
    symlink(test.path("shared/jobrun.toml"), &link).expect("symlink");
    give_to_nobody(&link);
    let link = link.display().to_string();
    refused_then_trusted(
        &test,
        &link,
        &format!(
            "{link} is a symlink owned by nobody (uid {}), who can point it anywhere",
            nobody()
        ),
    );
}

#[test]
fn a_running_root_scheduler_refuses_a_reload_of_a_jobfile_others_can_write() {
    if !is_root() {
        return;
    }
    let test = Test::new().file("jobrun.toml", JOB).args(["start"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(4.0, || test.path("tick").exists()),
        "{}",
        jobrun.log()
    );
    // The attack of the issue: the file becomes world-writable and gains a job.
    let path = test.path("jobrun.toml");
    chmod(&path, 0o666);
    fs::write(
        &path,
        format!("{JOB}[jobs.evil]\ncron = \"* * * * * *\"\ncommand = [\"touch\", \"evil\"]\n"),
    )
    .expect("write");
    jobrun.expect_log(
        3.0,
        &[
            "reload_failed",
            "refusing jobfile",
            "writable by its group and others",
            "keeping=\"the last good jobfile\"",
        ],
    );
    fs::remove_file(test.path("tick")).expect("rm tick");
    assert!(
        wait_for(4.0, || test.path("tick").exists()),
        "{}",
        jobrun.log()
    );
    assert!(!test.path("evil").exists(), "{}", jobrun.log());
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
}
