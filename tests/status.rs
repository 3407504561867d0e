//! `jobrun status`: the live view in a real pseudo-terminal (tmux, driven with send-keys and
//! read with capture-pane), and the snapshot and JSON it prints elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{BIN, Test, wait_for};

/// A tmux server of the test's own (its socket in the test's directory), with one window
/// running `program` under `sh`; killed on drop.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(test: &Test, program: &str, cols: u16, rows: u16) -> Tmux {
        let tmux = Tmux {
            socket: test.path("tmux.sock"),
        };
        // The same clean environment as the harness gives jobrun.
        let env = format!(
            "env -i PATH='{}' HOME='{}' XDG_CONFIG_HOME='{}' XDG_STATE_HOME='{}' TZ=UTC TERM=xterm-256color",
            std::env::var("PATH").unwrap_or_default(),
            test.path("home").display(),
            test.path("home/.config").display(),
            test.path("home/.local/state").display(),
        );
        let script = format!(
            "cd '{}' && {env} sh -c '{program}; echo \"exit=$?\"; stty -a; sleep 60'",
            test.dir.path().display()
        );
        let status = tmux
            .command()
            .args(["new-session", "-d", "-s", "t", "-x"])
            .arg(cols.to_string())
            .arg("-y")
            .arg(rows.to_string())
            .arg(script)
            .status()
            .expect("tmux runs (install tmux; .ci/run does)");
        assert!(status.success());
        tmux
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket);
        cmd
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("tmux");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the screen satisfies `condition`; panics with the screen if it does not.
    fn wait_screen(&self, what: &str, mut condition: impl FnMut(&str) -> bool) -> String {
        let mut last = String::new();
        let found = wait_for(10.0, || {
            last = self.screen();
            condition(&last)
        });
        assert!(found, "{what}; the screen:\n{last}");
        last
    }

    /// Whether the pane is in the alternate screen, and whether its cursor shows.
    fn modes(&self) -> String {
        self.run(&[
            "display-message",
            "-p",
            "-t",
            "t",
            "#{alternate_on} #{cursor_flag}",
        ])
        .trim()
        .to_owned()
    }

    /// The pid of `jobrun status`: the child of the pane's shell.
    fn status_pid(&self) -> u32 {
        let shell = self.run(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        let shell = shell.trim();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("the shell's children");
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("jobrun status runs")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

const JOBS: &str = r#"
    [jobs.long]
    cron = "* * * * * *"
    command = ["sleep", "30"]
    timeout = "20s"

    [jobs.tick]
    every = "7s"
    command = ["true"]

    [jobs.quiet]
    every = "1h"
    command = ["true"]
    paused = true
"#;

/// The countdown of `tick` on the screen ("in 6s").
fn tick_countdown(screen: &str) -> Option<String> {
    let line = screen
        .lines()
        .find(|l| l.trim_start().starts_with("tick "))?;
    let start = line.find(" in ").or_else(|| line.find(" due"))?;
    Some(line[start..].split("  ").next()?.trim().to_owned())
}

fn bin() -> String {
    Path::new(BIN).display().to_string()
}

#[test]
fn the_live_view_shows_runs_and_ticking_countdowns_redraws_on_resize_and_quits_on_q() {
    let test = Test::new().jobfile(JOBS).args(["start"]);
    let scheduler = test.spawn();
    scheduler.expect_log(5.0, &["started job=long"]);
    let tmux = Tmux::start(&test, &format!("{} status", bin()), 100, 30);

    let screen = tmux.wait_screen("a running job", |s| {
        s.lines().any(|l| l.trim_start().starts_with("long  1 "))
    });
    let pid = scheduler.child.id();
    assert!(
        screen.contains(&format!("scheduler: running (pid {pid})")),
        "{screen}"
    );
    assert!(screen.contains("RUNNING\n  JOB   RUN  PID"), "{screen}");
    assert!(screen.contains("PAUSED\n  quiet"), "{screen}");
    assert_eq!(tmux.modes(), "1 0", "alternate screen, cursor hidden");
    let first = tick_countdown(&screen).expect("tick's countdown");
    tmux.wait_screen("the countdown changes", |s| {
        tick_countdown(s).is_some_and(|c| c != first)
    });

    // Narrower: the table drops its ZONE column and every line fits.
    tmux.run(&["resize-window", "-t", "t", "-x", "44", "-y", "30"]);
    let narrow = tmux.wait_screen("a redraw at 44 columns", |s| {
        s.contains("  JOB   TIME") && !s.contains("ZONE")
    });
    for line in narrow.lines() {
        assert!(line.chars().count() <= 44, "{line:?}\n{narrow}");
    }

    tmux.run(&["send-keys", "-t", "t", "q"]);
    let after = tmux.wait_screen("jobrun status exits and stty reports", |s| {
        s.contains("exit=") && s.contains("icanon")
    });
    assert!(after.contains("exit=0"), "{after}");
    // Cooked mode again (stty prints "icanon", not "-icanon"), the normal screen, a cursor.
    assert!(
        after.contains(" icanon ") && !after.contains("-icanon"),
        "{after}"
    );
    assert_eq!(tmux.modes(), "0 1");
}

#[test]
fn sigterm_restores_the_terminal_and_exits_143() {
    let test = Test::new().jobfile(JOBS);
    let tmux = Tmux::start(&test, &format!("{} status", bin()), 80, 24);
    tmux.wait_screen("the view", |s| s.contains("scheduler: not running"));
    assert_eq!(tmux.modes(), "1 0");
    let status = Command::new("kill")
        .args(["-TERM", &tmux.status_pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let after = tmux.wait_screen("jobrun status exits and stty reports", |s| {
        s.contains("exit=") && s.contains("icanon")
    });
    assert!(after.contains("exit=143"), "{after}");
    assert!(
        after.contains(" icanon ") && !after.contains("-icanon"),
        "{after}"
    );
    assert_eq!(tmux.modes(), "0 1");
}

const FIXED: &str = r#"
    [defaults]
    timezone = "Europe/Paris"

    [jobs.report]
    cron = "36 19 * * *"
    command = ["true"]

    [jobs.backup]
    cron = "0 3 * * *"
    command = ["true"]

    [jobs.off]
    every = "1h"
    command = ["true"]
    paused = true
"#;

#[test]
fn without_a_terminal_it_prints_one_snapshot() {
    let test = Test::new()
        .jobfile(FIXED)
        .args(["status", "--from", "2027-01-01T00:00:00Z"]);
    let jobfile = test.path("jobrun.toml").display().to_string();
    test.expect(
        0,
        &format!(
            "
            jobrun status 2027-01-01 00:00:00+00:00
            jobfile: {jobfile}
            scheduler: not running (start one with `jobrun start`)

            RUNNING
              none

            NEXT FIRES
              JOB     TIME                       IN          ZONE
              backup  2027-01-01 03:00:00+01:00  in 2h       Europe/Paris
              report  2027-01-01 19:36:00+01:00  in 18h 36m  Europe/Paris

            RECENT FAILURES AND MISSES
              none

            PAUSED
              off
            "
        ),
        "",
    );
}

#[test]
fn json_gives_the_same_snapshot() {
    let test =
        Test::new()
            .jobfile(FIXED)
            .args(["status", "--json", "--from", "2027-01-01T00:00:00Z"]);
    let jobfile = test.path("jobrun.toml").display().to_string();
    test.expect(
        0,
        &format!(
            r#"
            {{
              "jobfile": "{jobfile}",
              "scheduler_pid": null,
              "now": "2027-01-01T00:00:00+00:00",
              "running": [],
              "next": [
                {{
                  "job": "backup",
                  "time": "2027-01-01T03:00:00+01:00",
                  "timezone": "Europe/Paris",
                  "unix": 1798768800,
                  "in_seconds": 7200
                }},
                {{
                  "job": "report",
                  "time": "2027-01-01T19:36:00+01:00",
                  "timezone": "Europe/Paris",
                  "unix": 1798828560,
                  "in_seconds": 66960
                }}
              ],
              "recent_problems": [],
              "paused": [
                "off"
              ]
            }}
            "#
        ),
        "",
    );
}

#[test]
fn failures_and_a_running_scheduler_show_in_the_snapshot() {
    let test = Test::new().jobfile(
        r#"
        [jobs.fail]
        cron = "@daily"
        command = ["sh", "-c", "exit 3"]
        "#,
    );
    let output = test.command_with(&["run", "fail"]).output().expect("run");
    assert_eq!(output.status.code(), Some(3));
    let json = test
        .command_with(&["status", "--json"])
        .output()
        .expect("status");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(value["recent_problems"][0]["job"], "fail");
    assert_eq!(value["recent_problems"][0]["result"], "exit 3");
    assert_eq!(value["recent_problems"][0]["run"], 1);
}

#[test]
fn a_chained_job_shows_at_its_upstreams_next_fire_as_next_and_list_show_it() {
    let jobfile = "[defaults]\ntimezone = \"UTC\"\n\
                   [jobs.backup]\ncron = \"0 3 * * *\"\ncommand = [\"true\"]\n\
                   [jobs.report]\nafter = \"backup\"\ncommand = [\"true\"]\n";
    let test = Test::new()
        .jobfile(jobfile)
        .args(["status", "--from", "2027-01-01T00:00:00Z"]);
    let (out, _) = test.status(0);
    assert!(
        out.contains("  report (after backup)  2027-01-01 03:00:00+00:00  in 3h"),
        "{out}"
    );
    let test =
        Test::new()
            .jobfile(jobfile)
            .args(["status", "--json", "--from", "2027-01-01T00:00:00Z"]);
    let snapshot: serde_json::Value = serde_json::from_str(&test.status(0).0).expect("JSON");
    let report = &snapshot["next"][1];
    assert_eq!(report["job"], "report");
    assert_eq!(report["after"], "after backup");
    assert_eq!(report["unix"], snapshot["next"][0]["unix"]);
    // A job with a time of its own has no "after".
    assert!(snapshot["next"][0].get("after").is_none());
}
