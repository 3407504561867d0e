//! A small builder around the real binary, in the spirit of just's `tests/test.rs`: every test
//! gets its own temp dir and an environment with nothing of the developer's in it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_jobrun");

/// Removes the common leading indentation and the first newline, so expected output can be
/// written indented inside the test.
pub(crate) fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: String = text
        .lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    if text.ends_with('\n') || !out.is_empty() {
        out.push('\n');
    }
    // A trailing line of only indentation (before the closing quote) is not content.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

pub(crate) struct Test {
    pub(crate) dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
}

impl Test {
    pub(crate) fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
        }
    }

    /// Writes `jobrun.toml` in the test's directory (where jobrun finds it by default).
    pub(crate) fn jobfile(self, text: &str) -> Test {
        self.file("jobrun.toml", &unindent(text))
    }

    pub(crate) fn file(self, name: &str, contents: &str) -> Test {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create dirs");
        }
        fs::write(path, contents).expect("write file");
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Test
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Test {
        self.env.push((key.into(), value.into()));
        self
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The lines of a file in the test's directory (none if it does not exist yet), such as
    /// one that jobs append to.
    pub(crate) fn lines(&self, name: &str) -> Vec<String> {
        fs::read_to_string(self.path(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).expect("read file")
    }

    /// The command, with a clean environment: TZ=UTC unless the test sets it, HOME and the XDG
    /// directories inside the temp dir, no JOBRUN_* variables.
    pub(crate) fn command(&self) -> Command {
        self.command_with(&self.args)
    }

    /// [`Test::command`] with other arguments than the test's: a second jobrun in the same
    /// directory and environment, e.g. an edit beside a `spawn`ed `jobrun start`.
    pub(crate) fn command_with<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"))
            .env("XDG_STATE_HOME", self.dir.path().join("home/.local/state"))
            .env("TZ", "UTC")
            .args(args);
        // The zone database the tests' caller chose: `TZDIR=/an/empty/dir cargo test` runs
        // every test on the compiled-in rules.
        if let Some(tzdir) = std::env::var_os("TZDIR") {
            cmd.env("TZDIR", tzdir);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts one jobrun per argument list, all at once, and checks that each exits 0: for
    /// concurrent edits, which must all land.
    pub(crate) fn all_succeed_at_once(&self, runs: &[Vec<String>]) {
        let children: Vec<_> = runs
            .iter()
            .map(|args| {
                self.command_with(args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn jobrun")
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().expect("wait");
            assert_eq!(
                output.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }

    pub(crate) fn output(&self) -> Output {
        let mut cmd = self.command();
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.output().expect("run jobrun")
    }

    /// Runs and checks exit code, stdout and stderr exactly (after `unindent`).
    pub(crate) fn expect(&self, code: i32, stdout: &str, stderr: &str) -> Output {
        let output = self.output();
        check(&output, code, &unindent(stdout), &unindent(stderr));
        output
    }

    /// Runs and checks the exit code only; returns stdout and stderr.
    pub(crate) fn status(&self, code: i32) -> (String, String) {
        let output = self.output();
        let (out, err) = texts(&output);
        assert_eq!(
            output.status.code(),
            Some(code),
            "exit code\n--- stdout\n{out}\n--- stderr\n{err}"
        );
        (out, err)
    }
}

pub(crate) fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub(crate) fn check(output: &Output, code: i32, stdout: &str, stderr: &str) {
    let (out, err) = texts(output);
    let mut problems = Vec::new();
    if output.status.code() != Some(code) {
        problems.push(format!(
            "exit code: expected {code}, got {:?}",
            output.status.code()
        ));
    }
    if out != stdout {
        problems.push(format!(
            "stdout differs\n--- expected\n{stdout}--- actual\n{out}---"
        ));
    }
    if err != stderr {
        problems.push(format!(
            "stderr differs\n--- expected\n{stderr}--- actual\n{err}---"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether `path` holds exactly `contents` (or does not exist when `contents` is None).
pub(crate) fn assert_file(path: &Path, contents: Option<&str>) {
    match contents {
        Some(expected) => assert_eq!(
            fs::read_to_string(path).expect("file exists"),
            expected,
            "{}",
            path.display()
        ),
        None => assert!(!path.exists(), "{} should not exist", path.display()),
    }
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; true if it held. For
/// real-time tests: wait on the state you expect, never a fixed sleep.
pub(crate) fn wait_for(seconds: f64, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
    loop {
        if condition() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs `args` and returns its output, or panics if it does not end within `seconds` (the
/// process is killed first, so a regression fails the test instead of hanging it).
pub(crate) fn output_within(test: &Test, args: &[&str], seconds: f64) -> Output {
    let mut child = test
        .command_with(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jobrun");
    let started = Instant::now();
    let ended = wait_for(seconds, || matches!(child.try_wait(), Ok(Some(_))));
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
        panic!("jobrun {args:?} still running after {seconds}s");
    }
    let output = child.wait_with_output().expect("output");
    assert!(started.elapsed() < Duration::from_secs_f64(seconds));
    output
}

/// A `jobrun` running in the background (`jobrun start`), its log going to a file in the
/// test's directory. Killed on drop if the test did not stop it.
pub(crate) struct Background {
    pub(crate) child: std::process::Child,
    log: PathBuf,
}

impl Test {
    pub(crate) fn spawn(&self) -> Background {
        self.spawn_with_env(&[])
    }

    /// [`Test::spawn`] with more environment variables, for one start among several (a
    /// restart in another boot, say). Each start's log replaces the last one's.
    pub(crate) fn spawn_with_env(&self, env: &[(&str, &str)]) -> Background {
        let log = self.path("jobrun.log");
        let file = fs::File::create(&log).expect("create log");
        let mut command = self.command();
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn jobrun");
        Background { child, log }
    }
}

impl Test {
    /// `jobrun ARGS…` in the background with its log in the file `log` of the test's
    /// directory: one of several schedulers at once.
    pub(crate) fn spawn_named(&self, log: &str, args: &[&str]) -> Background {
        let log = self.path(log);
        let file = fs::File::create(&log).expect("create log");
        let child = self
            .command_with(args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn jobrun");
        Background { child, log }
    }
}

impl Background {
    pub(crate) fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for a log line containing all of `parts`; panics with the log if none comes.
    pub(crate) fn expect_log(&self, seconds: f64, parts: &[&str]) {
        let found = wait_for(seconds, || {
            self.log()
                .lines()
                .any(|l| parts.iter().all(|p| l.contains(p)))
        });
        assert!(
            found,
            "no log line with {parts:?} within {seconds}s; log:\n{}",
            self.log()
        );
    }

    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for jobrun to exit (bounded) and returns its exit code.
    pub(crate) fn wait_exit(&mut self, seconds: f64) -> Option<i32> {
        let mut code = None;
        let exited = wait_for(seconds, || match self.child.try_wait() {
            Ok(Some(status)) => {
                code = status.code();
                true
            }
            _ => false,
        });
        assert!(
            exited,
            "jobrun did not exit within {seconds}s; log:\n{}",
            self.log()
        );
        code
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether process `pid` still exists (zombies count as gone: they hold no resources but a
/// slot, and are checked separately).
pub(crate) fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
