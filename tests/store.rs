//! The state store end to end: one scheduler per store, what a `kill -9` leaves and the next
//! start cleans up, catch-up after downtime, `history`, `list`'s LAST column, manual runs and a
//! corrupt store. Real processes and the real clock: each test waits on conditions (a log line,
//! a file, the wall clock passing a second), never on a fixed sleep.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::harness::{Background, Test, texts, wait_for};

/// Seconds since the Unix epoch of an RFC 3339 time, as jobrun writes them.
fn epoch(text: &str) -> i64 {
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
fn history(test: &Test, args: &[&str]) -> Vec<Value> {
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
fn accounted_once(rows: &[Value], job: &str) -> BTreeMap<i64, Value> {
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
fn every_second(command: &str, options: &str) -> Test {
    Test::new()
        .jobfile(&format!(
            "[jobs.tick]\ncron = \"* * * * * *\"\ncommand = \"{command}\"\nshell = true\n{options}"
        ))
        .args(["start"])
}

/// Starts the test's `jobrun start` and waits until `tick` has appended its first line.
fn start_until_ticked(test: &Test) -> Background {
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

/// A jobfile of jobs with each kind of result, and one run of each but `never` through
/// `jobrun run`, as manual runs.
fn three_manual_runs() -> Test {
    let test = Test::new().jobfile(
        r#"
        [jobs.ok]
        cron = "@daily"
        command = "echo hello"
        shell = true

        [jobs.fail]
        cron = "@daily"
        command = "echo out; echo err >&2; exit 3"
        shell = true

        [jobs.term]
        cron = "@daily"
        command = "kill -TERM $$"
        shell = true

        [jobs.never]
        cron = "@daily"
        command = ["true"]
        "#,
    );
    for (job, code) in [("ok", 0), ("fail", 3), ("term", 143)] {
        let output = test.command_with(&["run", job]).output().expect("run");
        assert_eq!(output.status.code(), Some(code), "{:?}", texts(&output));
    }
    test
}

/// The rows of a human table (header and output-tail lines left out), each with the tail lines
/// printed under it.
fn table_rows(text: &str) -> Vec<(String, Vec<String>)> {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines().skip(1) {
        match (line.strip_prefix("    | "), rows.last_mut()) {
            (Some(tail), Some((_, tails))) => tails.push(tail.to_owned()),
            _ => rows.push((line.to_owned(), Vec::new())),
        }
    }
    rows
}

#[test]
fn history_shows_each_runs_result_and_the_tail_of_its_output() {
    let test = three_manual_runs();
    let (out, _) = test.args(["history"]).status(0);
    let header: Vec<&str> = out
        .lines()
        .next()
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["RUN", "JOB", "SCHEDULED", "STARTED", "DURATION", "RESULT"]
    );
    let rows = table_rows(&out);
    assert_eq!(rows.len(), 3, "{out}");
    let (ok, ok_tail) = &rows[0];
    assert!(ok.starts_with("1 ") && ok.contains("ok (manual)"), "{out}");
    assert!(ok.ends_with("  ok"), "{out}");
    assert_eq!(ok_tail, &["hello"]);
    let (fail, fail_tail) = &rows[1];
    assert!(
        fail.contains("fail (manual)") && fail.ends_with("  exit 3"),
        "{out}"
    );
    // stdout and stderr are read from two pipes: their lines may interleave either way.
    let mut fail_tail = fail_tail.clone();
    fail_tail.sort();
    assert_eq!(fail_tail, ["err", "out"], "{out}");
    let (term, term_tail) = &rows[2];
    assert!(term.ends_with("  killed by SIGTERM"), "{out}");
    assert!(term_tail.is_empty(), "{out}");
}

#[test]
fn history_n_keeps_the_newest_and_names_filter() {
    let test = three_manual_runs();
    let plain = |args: &[&str]| -> Vec<Vec<String>> {
        let mut all = vec!["history", "--format", "plain"];
        all.extend_from_slice(args);
        let output = test.command_with(&all).output().expect("history");
        assert_eq!(output.status.code(), Some(0), "{:?}", texts(&output));
        texts(&output)
            .0
            .lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()
    };
    let ids_and_jobs = |rows: &[Vec<String>]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                assert_eq!(r.len(), 5, "id, job, scheduled, state, detail: {r:?}");
                (r[0].clone(), r[1].clone())
            })
            .collect()
    };
    let all = plain(&[]);
    assert_eq!(
        all.iter()
            .map(|r| (r[1].as_str(), r[3].as_str(), r[4].as_str()))
            .collect::<Vec<_>>(),
        [
            ("ok", "exited", "0"),
            ("fail", "exited", "3"),
            ("term", "signaled", "SIGTERM")
        ]
    );
    assert!(all.iter().all(|r| r[2].ends_with("+00:00")), "{all:?}");
    assert_eq!(
        ids_and_jobs(&plain(&["-n", "2"])),
        [("2".into(), "fail".into()), ("3".into(), "term".into())]
    );
    assert_eq!(
        ids_and_jobs(&plain(&["fail"])),
        [("2".into(), "fail".into())]
    );
    assert_eq!(
        ids_and_jobs(&plain(&["term", "ok"])),
        [("1".into(), "ok".into()), ("3".into(), "term".into())]
    );
    assert_eq!(
        ids_and_jobs(&plain(&["term", "ok", "-n", "1"])),
        [("3".into(), "term".into())]
    );
    assert!(plain(&["never"]).is_empty());
}

#[test]
fn history_json_has_every_documented_field() {
    let test = three_manual_runs();
    let rows = history(&test, &[]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let fields: BTreeSet<&str> = [
        "id",
        "job",
        "manual",
        "scheduled",
        "started",
        "ended",
        "duration_ms",
        "state",
        "exit_code",
        "signal",
        "timed_out",
        "pid",
        "message",
        "fires",
        "first",
        "late_by_ms",
        "into",
        "output",
    ]
    .into();
    for row in &rows {
        let keys: BTreeSet<&str> = row
            .as_object()
            .expect("an object per run")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, fields, "{row}");
        assert_eq!(row["manual"], true, "{row}");
        assert_eq!(row["timed_out"], false, "{row}");
        assert!(row["duration_ms"].as_i64().is_some_and(|d| d >= 0), "{row}");
        let scheduled = epoch(row["scheduled"].as_str().expect("scheduled"));
        let started = epoch(row["started"].as_str().expect("started"));
        let ended = epoch(row["ended"].as_str().expect("ended"));
        assert!(scheduled <= started && started <= ended, "{row}");
        for unset in ["pid", "message", "fires", "first", "late_by_ms", "into"] {
            assert!(row[unset].is_null(), "{unset}: {row}");
        }
    }
    let (ok, fail, term) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(
        (ok["id"].as_i64(), ok["job"].as_str()),
        (Some(1), Some("ok"))
    );
    assert_eq!(ok["state"], "exited");
    assert_eq!(ok["exit_code"], 0);
    assert_eq!(ok["output"], "hello\n");
    assert_eq!(fail["state"], "exited");
    assert_eq!(fail["exit_code"], 3);
    assert!(fail["signal"].is_null());
    let output = fail["output"].as_str().expect("output");
    assert!(
        output == "out\nerr\n" || output == "err\nout\n",
        "{output:?}"
    );
    assert_eq!(term["state"], "signaled");
    assert_eq!(term["signal"], "SIGTERM");
    assert!(term["exit_code"].is_null());
    // A NAME narrows the JSON too.
    let only = history(&test, &["fail"]);
    assert_eq!(only, std::slice::from_ref(fail));
}

#[test]
fn history_without_a_store_says_so_and_creates_nothing() {
    let test = Test::new()
        .jobfile("[jobs.a]\ncron = \"@daily\"\ncommand = [\"true\"]\n")
        .args(["--state-dir", "state", "history"]);
    let (out, err) = test.status(0);
    assert_eq!(err, "");
    let prefix = "no runs recorded for jobrun.toml (state store state/jobrun-";
    assert!(
        out.starts_with(prefix) && out.ends_with(".sqlite)\n") && out.lines().count() == 1,
        "{out}"
    );
    assert!(
        !test.path("state").exists(),
        "history created the state dir"
    );
    // The default place (XDG_STATE_HOME, inside the test dir) stays empty as well.
    let output = test.command_with(&["history"]).output().expect("history");
    let (out, _) = texts(&output);
    assert_eq!(output.status.code(), Some(0));
    assert!(out.starts_with("no runs recorded for jobrun.toml"), "{out}");
    assert!(!test.path("home/.local/state").exists());
    let output = test
        .command_with(&["history", "--json"])
        .output()
        .expect("history");
    assert_eq!(texts(&output).0, "[]\n");
}

/// The LAST column of `jobrun list`, by job name.
fn last_column(out: &str) -> BTreeMap<String, String> {
    let mut lines = out.lines();
    let header = lines.next().expect("header");
    let from = header.find("LAST").expect("a LAST column");
    let to = header.find("COMMAND").expect("a COMMAND column");
    lines
        .map(|l| {
            let name = l.split_whitespace().next().expect("name").to_owned();
            (name, l[from..to].trim().to_owned())
        })
        .collect()
}

/// Whether `text` is `result (now)` or `result (… ago)`.
fn result_with_age(text: &str, result: &str) -> bool {
    text.strip_prefix(result)
        .and_then(|rest| rest.strip_prefix(" ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .is_some_and(|age| age == "now" || age.ends_with(" ago"))
}

#[test]
fn list_shows_each_jobs_last_result() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.good]
            cron = "* * * * * *"
            command = ["true"]

            [jobs.bad]
            cron = "* * * * * *"
            command = ["sh", "-c", "exit 3"]

            [jobs.idle]
            cron = "@yearly"
            command = ["true"]
            "#,
        )
        .args(["start"]);
    let mut jobrun = test.spawn();
    let results = || -> BTreeMap<String, Value> {
        let output = test
            .command_with(&["list", "--json"])
            .output()
            .expect("list");
        let jobs: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_default();
        jobs.into_iter()
            .map(|j| (j["name"].as_str().unwrap_or("").to_owned(), j))
            .collect()
    };
    assert!(
        wait_for(5.0, || {
            let jobs = results();
            jobs.get("good").is_some_and(|j| j["last_result"] == "ok")
                && jobs
                    .get("bad")
                    .is_some_and(|j| j["last_result"] == "exit 3")
        }),
        "{:?}\nlog:\n{}",
        results(),
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let jobs = results();
    assert!(jobs["good"]["last_scheduled"].is_string(), "{jobs:?}");
    assert!(jobs["idle"]["last_result"].is_null(), "{jobs:?}");
    assert!(jobs["idle"]["last_scheduled"].is_null(), "{jobs:?}");

    let output = test.command_with(&["list"]).output().expect("list");
    let (out, err) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let last = last_column(&out);
    assert!(result_with_age(&last["good"], "ok"), "{out}");
    assert!(result_with_age(&last["bad"], "exit 3"), "{out}");
    assert_eq!(last["idle"], "-", "{out}");
}

#[test]
fn a_manual_run_is_recorded_as_manual_also_while_a_scheduler_runs() {
    let test = every_second("echo $JOBRUN_RUN_ID >> tick", "");
    let mut jobrun = start_until_ticked(&test);
    let output = test.command_with(&["run", "tick"]).output().expect("run");
    let (_, err) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let manual_id = err
        .lines()
        .find(|l| l.contains("started job=tick"))
        .and_then(|l| l.split_whitespace().find_map(|f| f.strip_prefix("run=")))
        .unwrap_or_else(|| panic!("no started line: {err}"))
        .to_owned();
    let before = test.lines("tick").len();
    assert!(
        wait_for(5.0, || test.lines("tick").len() > before + 1),
        "the scheduler stopped firing after the manual run; log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));

    let rows = history(&test, &[]);
    let manual: Vec<&Value> = rows.iter().filter(|r| r["manual"] == true).collect();
    assert_eq!(manual.len(), 1, "{rows:?}");
    assert_eq!(manual[0]["id"].to_string(), manual_id);
    assert_eq!(manual[0]["state"], "exited");
    assert_eq!(manual[0]["exit_code"], 0);
    assert!(
        test.lines("tick").contains(&manual_id),
        "the manual run ran with its own run id"
    );
    // The scheduled fires around it are untouched: each second once, none lost.
    accounted_once(&rows, "tick");
    let (out, _) = test
        .command_with(&["history"])
        .output()
        .map_or_else(|e| panic!("history: {e}"), |o| texts(&o));
    assert!(out.contains("tick (manual)"), "{out}");
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
