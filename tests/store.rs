//! The state store end to end: one scheduler per store, what a `kill -9` leaves and the next
//! start cleans up, catch-up after downtime and a corrupt store (`history.rs` reads what it
//! records). Real processes and the real clock: each test waits on conditions (a log line,
//! a file, the wall clock passing a second), never on a fixed sleep.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::harness::{Background, Test, texts, wait_for};

/// Seconds since the Unix epoch of an RFC 3339 time, as jobrun writes them.
pub(crate) fn epoch(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("not RFC 3339 ({e}): {text:?}"))
        .timestamp()
}

/// The fire times (epoch seconds) a job appended as `$JOBRUN_SCHEDULED_AT`, one per line.
fn fires(test: &Test, name: &str) -> Vec<i64> {
    test.lines(name).iter().map(|l| epoch(l)).collect()
}

/// An epoch second as jobrun logs fire times of a UTC job.
fn rfc3339(second: i64) -> String {
    chrono::DateTime::from_timestamp(second, 0)
        .expect("in range")
        .to_rfc3339()
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

/// `jobrun history --json` with `args`, parsed; panics (with stderr) unless it exits 0.
pub(crate) fn history(test: &Test, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["history", "--json", "-n", "100000"];
    all.extend_from_slice(args);
    let output = test.command_with(&all).output().expect("run history");
    let (out, err) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "history failed: {err}");
    match serde_json::from_str(&out) {
        Ok(Value::Array(rows)) => rows,
        other => panic!("history --json is not an array: {other:?}\n{out}"),
    }
}

/// The scheduled (not manual) rows of one job.
fn scheduled_rows(rows: &[Value], job: &str) -> Vec<Value> {
    rows.iter()
        .filter(|r| r["job"] == job && r["manual"] == false)
        .cloned()
        .collect()
}

/// The seconds a row stands for: a `missed` row the range `first..=scheduled` (it stands for
/// `fires` fires), any other row its one fire.
fn seconds_of(row: &Value) -> Vec<i64> {
    let scheduled = epoch(row["scheduled"].as_str().expect("scheduled"));
    if row["state"] == "missed" {
        let first = epoch(row["first"].as_str().expect("first"));
        let fires = row["fires"].as_i64().expect("fires");
        assert_eq!(
            scheduled - first + 1,
            fires,
            "a missed row stands for every second from first to scheduled: {row}"
        );
        (first..=scheduled).collect()
    } else {
        vec![scheduled]
    }
}

/// Checks that the rows of an every-second job account for each second from its first
/// recorded fire to its last exactly once, and returns the rows by second.
pub(crate) fn accounted_once(rows: &[Value], job: &str) -> BTreeMap<i64, Value> {
    let mut by_second = BTreeMap::new();
    for row in scheduled_rows(rows, job) {
        for second in seconds_of(&row) {
            if let Some(earlier) = by_second.insert(second, row.clone()) {
                panic!("second {second} of {job} recorded twice:\n{earlier}\n{row}");
            }
        }
    }
    let (Some(first), Some(last)) = (by_second.keys().next(), by_second.keys().last()) else {
        panic!("no rows for {job}: {rows:?}");
    };
    let missing: Vec<i64> = (*first..=*last)
        .filter(|s| !by_second.contains_key(s))
        .collect();
    assert!(
        missing.is_empty(),
        "{job}: seconds without a row: {missing:?}"
    );
    by_second
}

/// Checks that no fire time appears twice among what a job appended.
fn each_once(fires: &[i64], name: &str) {
    let unique: BTreeSet<i64> = fires.iter().copied().collect();
    assert_eq!(
        unique.len(),
        fires.len(),
        "{name} ran a second twice: {fires:?}"
    );
}

/// The state store's path, from the `store=` field of the `scheduler_started` log line.
fn store_path(test: &Test, log: &str) -> PathBuf {
    let field = log
        .lines()
        .filter(|l| l.contains("scheduler_started"))
        .flat_map(str::split_whitespace)
        .find_map(|f| f.strip_prefix("store="))
        .unwrap_or_else(|| panic!("no store= in the log:\n{log}"));
    test.dir.path().join(field)
}

/// Whether a process of group `pgid` is alive (zombies, dead and waiting for init, are not).
fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            return false;
        };
        // The command name (field 2) is in parentheses and may hold spaces: read after it.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next();
        let group = fields.nth(1).and_then(|g| g.parse::<i32>().ok());
        group == Some(pgid) && state != Some("Z")
    })
}

/// `jobrun start` on one job, `tick`, that fires every second and runs `command` in the shell
/// (it should append to the file `tick`), with `options` (TOML lines) added to its table.
pub(crate) fn every_second(command: &str, options: &str) -> Test {
    Test::new()
        .jobfile(&format!(
            "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = \"{command}\"\nshell = true\n{options}"
        ))
        .args(["start"])
}

/// Starts the test's `jobrun start` and waits until `tick` has appended its first line.
pub(crate) fn start_until_ticked(test: &Test) -> Background {
    let jobrun = test.spawn();
    assert!(
        wait_for(5.0, || !test.lines("tick").is_empty()),
        "log:\n{}",
        jobrun.log()
    );
    jobrun
}

#[test]
fn a_second_start_is_refused_with_the_holders_pid_and_the_first_keeps_running() {
    let test = every_second("echo $JOBRUN_SCHEDULED_AT >> tick", "");
    let mut first = start_until_ticked(&test);
    let store = store_path(&test, &first.log());
    let second = test
        .command_with(&["start"])
        .output()
        .expect("second start");
    crate::harness::check(
        &second,
        1,
        "",
        &format!(
            "jobrun: error: state store {} is in use by another jobrun start (pid {})\n",
            store.display(),
            first.child.id()
        ),
    );
    assert!(
        matches!(first.child.try_wait(), Ok(None)),
        "the first scheduler died"
    );
    let before = test.lines("tick").len();
    assert!(
        wait_for(5.0, || test.lines("tick").len() > before + 1),
        "the first scheduler stopped firing; log:\n{}",
        first.log()
    );
    first.signal("TERM");
    assert_eq!(first.wait_exit(5.0), Some(0));
    each_once(&fires(&test, "tick"), "tick");
    assert_eq!(
        first.log().matches("scheduler_started").count(),
        1,
        "{}",
        first.log()
    );
}

#[test]
fn after_kill_9_the_next_start_ends_the_orphaned_run_and_records_it_interrupted() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.slow]
            cron = "* * * * * *"
            command = "echo $JOBRUN_SCHEDULED_AT >> fires; echo $$ >> groups; sleep 30"
            shell = true
            "#,
        )
        .args(["start", "--stop-grace", "0s"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(5.0, || !test.lines("groups").is_empty()),
        "log:\n{}",
        jobrun.log()
    );
    // The job's shell leads its own process group, so its pid is the group's id.
    let pgid: i32 = test.lines("groups")[0].parse().expect("pid");
    jobrun.signal("KILL");
    assert_eq!(jobrun.wait_exit(5.0), None, "killed by a signal");
    let killed_log = jobrun.log();
    assert!(
        group_alive(pgid),
        "the run died with jobrun, nothing left to test; log:\n{killed_log}"
    );

    let mut jobrun = test.spawn();
    jobrun.expect_log(
        5.0,
        &[
            "interrupted",
            "job=slow",
            "run=1",
            &format!("process group {pgid} was still running"),
        ],
    );
    assert!(
        wait_for(3.0, || !group_alive(pgid)),
        "the orphaned run's group survived the restart; log:\n{}",
        jobrun.log()
    );
    // A fire after the restart, so that the restart's own run is in the record too.
    assert!(
        wait_for(5.0, || test.lines("groups").len() >= 2),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0), "log:\n{}", jobrun.log());

    let fired = fires(&test, "fires");
    each_once(&fired, "slow");
    let rows = history(&test, &[]);
    let by_second = accounted_once(&rows, "slow");
    let interrupted = &rows[0];
    assert_eq!(interrupted["id"], 1, "{rows:?}");
    assert_eq!(interrupted["state"], "interrupted", "{interrupted}");
    assert_eq!(
        epoch(interrupted["scheduled"].as_str().expect("scheduled")),
        fired[0]
    );
    assert!(interrupted["started"].is_string(), "{interrupted}");
    assert!(interrupted["duration_ms"].is_null(), "{interrupted}");
    assert!(
        interrupted["message"]
            .as_str()
            .is_some_and(|m| m.contains(&format!("process group {pgid}"))),
        "{interrupted}"
    );
    // Every second that got a process got one row, and only those wrote to the file.
    for second in &fired {
        let state = &by_second[second]["state"];
        assert!(
            *state == "interrupted" || *state == "signaled",
            "second {second}: {state}"
        );
    }
    assert!(
        rows.iter()
            .all(|r| r["state"] != "claimed" && r["state"] != "running"),
        "rows left unfinished after a clean stop: {rows:?}"
    );
    assert!(
        killed_log.contains("started job=slow run=1"),
        "{killed_log}"
    );
}

/// What a restart after downtime did with an every-second job `tick`.
struct CatchUp {
    /// The newest fire handled before jobrun stopped.
    last: i64,
    /// The fires the job appended, in the order it did.
    fired: Vec<i64>,
    rows: Vec<Value>,
    /// The rows by the second they stand for (checked: each second from the first to the last
    /// exactly once).
    by_second: BTreeMap<i64, Value>,
    /// The restarted scheduler's log.
    log: String,
}

/// Runs `tick` (with `options`, TOML lines, added to its table) until it has fired, stops
/// jobrun with SIGTERM, waits until the fires of `last + 1` to `last + 3` have passed (at
/// least three seconds of downtime, however loaded the machine is), starts jobrun again until
/// it has run `last + 3` or a newer fire, and stops it cleanly.
fn catch_up(options: &str) -> CatchUp {
    let test = every_second("echo $JOBRUN_SCHEDULED_AT >> tick", options);
    let mut jobrun = start_until_ticked(&test);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0), "log:\n{}", jobrun.log());
    let last = history(&test, &[])
        .iter()
        .map(|r| epoch(r["scheduled"].as_str().expect("scheduled")))
        .max()
        .expect("rows after a run");

    let resume_at = last as f64 + 3.2;
    assert!(wait_for(10.0, || now() >= resume_at));
    let mut jobrun = test.spawn();
    assert!(
        wait_for(5.0, || fires(&test, "tick").iter().any(|&s| s >= last + 3)),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0), "log:\n{}", jobrun.log());

    let fired = fires(&test, "tick");
    each_once(&fired, "tick");
    let rows = history(&test, &[]);
    let by_second = accounted_once(&rows, "tick");
    CatchUp {
        last,
        fired,
        rows,
        by_second,
        log: jobrun.log(),
    }
}

#[test]
fn after_downtime_the_missed_fires_are_coalesced_into_one_run_of_the_newest() {
    let CatchUp {
        last,
        fired,
        rows,
        by_second,
        log,
    } = catch_up("");
    assert!(log.contains("coalesced job=tick"), "{log}");
    let coalesced: Vec<(i64, &Value)> = by_second
        .iter()
        .filter(|(_, r)| r["state"] == "coalesced")
        .map(|(s, r)| (*s, r))
        .collect();
    assert!(coalesced.len() >= 2, "{rows:?}");
    let into = epoch(coalesced[0].1["into"].as_str().expect("into"));
    let expected: Vec<i64> = (last + 1..into).collect();
    assert_eq!(
        coalesced.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        expected,
        "the whole gap, and only it, is coalesced into {into}: {rows:?}"
    );
    assert!(
        coalesced
            .iter()
            .all(|(_, r)| epoch(r["into"].as_str().expect("into")) == into),
        "{coalesced:?}"
    );
    assert_eq!(by_second[&into]["state"], "exited", "the newest fire ran");
    assert!(fired.contains(&into), "{fired:?}");
    assert!(
        fired.iter().all(|s| !expected.contains(s)),
        "a coalesced fire ran: {fired:?}"
    );
}

#[test]
fn without_coalescing_each_fire_missed_during_downtime_runs() {
    let CatchUp {
        last,
        mut fired,
        rows,
        by_second,
        ..
    } = catch_up("coalesce = false\nmax_instances = 10\n");
    // Catch-up runs start together and may append in any order.
    fired.sort_unstable();
    let consecutive: Vec<i64> = (fired[0]..=fired[fired.len() - 1]).collect();
    assert_eq!(fired, consecutive, "every second ran, the gap included");
    assert!(fired.contains(&(last + 1)) && fired.contains(&(last + 3)));
    assert!(
        by_second.values().all(|r| r["state"] == "exited"),
        "{rows:?}"
    );
}

#[test]
fn fires_older_than_the_misfire_grace_are_recorded_as_one_missed_range() {
    let CatchUp {
        last,
        fired,
        rows,
        log,
        ..
    } = catch_up("misfire_grace = \"1s\"\n");
    let first = format!("first={}", rfc3339(last + 1));
    assert!(
        log.lines()
            .any(|l| l.contains("missed job=tick") && l.contains(&first)),
        "{log}"
    );
    let missed: Vec<&Value> = rows.iter().filter(|r| r["state"] == "missed").collect();
    assert_eq!(missed.len(), 1, "one row for the whole range: {rows:?}");
    let missed = missed[0];
    assert_eq!(
        epoch(missed["first"].as_str().expect("first")),
        last + 1,
        "{missed}"
    );
    // last + 1 and last + 2 were more than a second late when jobrun came back.
    assert!(missed["fires"].as_i64().is_some_and(|n| n >= 2), "{missed}");
    assert!(
        missed["late_by_ms"].as_i64().is_some_and(|ms| ms > 1000),
        "{missed}"
    );
    let range = seconds_of(missed);
    assert!(
        fired.iter().all(|s| !range.contains(s)),
        "a missed fire ran: {fired:?}"
    );
}

#[test]
fn a_corrupt_store_is_refused_by_name_and_left_byte_for_byte() {
    let test = Test::new()
        .jobfile("[jobs.a]\ncron = \"@daily\"\ncommand = [\"true\"]\n")
        .args(["start"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(5.0, &["scheduler_started"]);
    let store = store_path(&test, &jobrun.log());
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let dir = store.parent().expect("a state dir").to_path_buf();
    let file_name = store
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    for entry in fs::read_dir(&dir).expect("state dir").flatten() {
        fs::remove_file(entry.path()).expect("clear the state dir");
    }
    let listing = || -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&dir)
            .expect("state dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    // Plain garbage, and garbage behind SQLite's own 16-byte magic.
    let mut damaged_header = b"SQLite format 3\0".to_vec();
    damaged_header.extend((0..8000_u32).map(|i| (i * 37 + 11).to_le_bytes()[0]));
    let garbage: Vec<u8> = (0..5000_u32)
        .map(|i| (i * 7919 % 251).to_le_bytes()[0])
        .collect();
    for bytes in [garbage, damaged_header] {
        fs::write(&store, &bytes).expect("write garbage");
        for command in ["start", "history", "list"] {
            let output = test.command_with(&[command]).output().expect("jobrun");
            let (out, err) = texts(&output);
            // `list` still lists the jobfile's jobs, with a warning; the others refuse.
            let (code, prefix) = if command == "list" {
                assert!(out.contains("a "), "{out}");
                (0, "warning")
            } else {
                (1, "error")
            };
            assert_eq!(output.status.code(), Some(code), "{command}: {out}{err}");
            assert!(
                err.starts_with(&format!(
                    "jobrun: {prefix}: state store {} is unusable: ",
                    store.display()
                )) && err.contains("left untouched")
                    && err.lines().count() == 1,
                "{command}: {err}"
            );
            assert_eq!(fs::read(&store).expect("store"), bytes, "{command}");
            assert_eq!(listing(), std::slice::from_ref(&file_name), "{command}");
        }
    }
}
