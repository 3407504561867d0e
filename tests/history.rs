//! What the state store shows: `history` in its formats, `list`'s LAST column, and manual runs
//! recorded beside a running scheduler. Real processes and the real clock, like `store.rs`,
//! whose helpers these tests share.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::harness::{Test, texts, wait_for};
use crate::store::{accounted_once, epoch, every_second, history, start_until_ticked};

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
        ["RUN", "JOB", "SCHEDULED", "DELAY", "DURATION", "RESULT"]
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
        "failed",
        "failed_by",
        "attempt",
        "attempts",
        "pid",
        "message",
        "fires",
        "first",
        "late_by_ms",
        "into",
        "replaced_by",
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
        for unset in [
            "pid",
            "message",
            "fires",
            "first",
            "late_by_ms",
            "into",
            "replaced_by",
        ] {
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
    // Past the two lines naming the jobfile and the scheduler.
    let mut lines = out.lines().skip(2);
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
