//! A small builder around the real binary, in the spirit of just's `tests/test.rs`: every test
//! gets its own temp dir and an environment with nothing of the developer's in it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

    pub(crate) fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).expect("read file")
    }

    /// The command, with a clean environment: TZ=UTC unless the test sets it, HOME and the XDG
    /// directories inside the temp dir, no JOBRUN_* variables.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"))
            .env("XDG_STATE_HOME", self.dir.path().join("home/.local/state"))
            .env("TZ", "UTC")
            .args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
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
