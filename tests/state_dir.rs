//! Issue 12, finding 3: jobrun keeps its state only in a directory of its user's, reached
//! through nothing another user controls, and never opens its store through a symlink. The
//! tests that give files to `nobody` need root (CI runs as root).

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use crate::harness::{Test, output_within, texts, wait_for};
use crate::trust::{chmod, give_to_nobody, is_root, nobody};

const JOB: &str = "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = [\"touch\", \"tick\"]\n";

/// `jobrun start` with these arguments exits 1 with an error starting with `message`, and
/// `victim` (where another user pointed jobrun) stays as it was.
fn start_refused(test: &Test, args: &[&str], message: &str, victim: &Path) {
    let mut all = args.to_vec();
    all.push("start");
    let output = output_within(test, &all, 5.0);
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(message),
        "expected {message:?}\n got {err:?}"
    );
    assert_eq!(
        fs::read_dir(victim).map(Iterator::count).unwrap_or(0),
        0,
        "{err}"
    );
}

#[test]
fn the_state_directory_is_created_private() {
    let test = Test::new().file("jobrun.toml", JOB).args(["start"]);
    let mut jobrun = test.spawn();
    let state = test.path("home/.local/state/jobrun");
    assert!(
        wait_for(4.0, || test.path("tick").exists()),
        "{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let mode = fs::metadata(&state)
        .expect("state dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn root_refuses_a_state_directory_another_user_controls() {
    if !is_root() {
        return;
    }
    let test = Test::new().file("jobrun.toml", JOB);
    let victim = test.path("victim");
    fs::create_dir(&victim).expect("mkdir");
    let nobody = nobody();

    // XDG_STATE_HOME/jobrun is a symlink another user planted.
    let xdg = test.path("home/.local/state");
    fs::create_dir_all(&xdg).expect("mkdir");
    symlink(&victim, xdg.join("jobrun")).expect("symlink");
    give_to_nobody(&xdg.join("jobrun"));
    start_refused(
        &test,
        &[],
        &format!(
            "jobrun: error: refusing state directory {}: {} is a symlink owned by nobody (uid {nobody})",
            xdg.join("jobrun").display(),
            xdg.join("jobrun").display()
        ),
        &victim,
    );

    // --state-dir names a directory that another user owns, or a link another user owns.
    give_to_nobody(&victim);
    let flag = victim.display().to_string();
    start_refused(
        &test,
        &["--state-dir", &flag],
        &format!(
            "jobrun: error: refusing state directory {flag}: {flag} is owned by nobody (uid {nobody}), not root"
        ),
        &victim,
    );
    let link = test.path("state-link");
    symlink(&victim, &link).expect("symlink");
    give_to_nobody(&link);
    let flag = link.display().to_string();
    start_refused(
        &test,
        &["--state-dir", &flag],
        &format!("jobrun: error: refusing state directory {flag}: {flag} is a symlink"),
        &victim,
    );
}

#[test]
fn a_symlink_planted_at_the_stores_name_is_not_followed() {
    let test = Test::new().file("jobrun.toml", JOB);
    let state = test.path("state");
    fs::create_dir(&state).expect("mkdir");
    chmod(&state, 0o700);
    // Learn the store's name from a first start, then put a dangling link in its place.
    let name = {
        let mut jobrun = test.command_with(&["--state-dir", "state", "start"]);
        let mut child = jobrun
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        assert!(wait_for(4.0, || fs::read_dir(&state)
            .map(|d| d.count() > 0)
            .unwrap_or(false)));
        let _ = child.kill();
        let _ = child.wait();
        fs::read_dir(&state)
            .expect("state")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .find(|n| n.to_string_lossy().ends_with(".sqlite"))
            .expect("store file")
    };
    for entry in fs::read_dir(&state).expect("state") {
        fs::remove_file(entry.expect("entry").path()).expect("rm");
    }
    let target = test.path("victim/owned.sqlite");
    symlink(&target, state.join(&name)).expect("symlink");
    if is_root() {
        give_to_nobody(&state.join(&name));
    }
    let output = test
        .command_with(&["--state-dir", "state", "start"])
        .output()
        .expect("run");
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.ends_with("it is a symlink, and jobrun opens its store only as a file of its own\n"),
        "{err}"
    );
    assert!(!target.exists());
}

/// A run started by `jobrun --state-dir DIR` is told DIR (absolute) in `JOBRUN_STATE_DIR`, so
/// a job that calls jobrun (`jobrun history`) reads the store its scheduler writes.
#[test]
fn runs_are_told_the_state_dir_given_on_the_command_line() {
    let test = Test::new().jobfile(
        r#"
        [jobs.where]
        cron = "@daily"
        command = ["sh", "-c", "echo \"$JOBRUN_STATE_DIR\""]
        "#,
    );
    let output = test
        .command_with(&["--state-dir", "state", "run", "where"])
        .output()
        .unwrap();
    let (out, err) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(out.trim(), test.path("state").display().to_string());
    // The store is there, where the run was told.
    assert!(
        fs::read_dir(test.path("state")).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".sqlite")),
        "no store in state/"
    );
}
