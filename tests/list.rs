//! `jobrun list`: every job with its trigger, zone, state and next fire.
//! Next fires depend on the real clock, so the jobs here are chosen to have a fixed answer
//! (a one-off in 2099, a window in the past), and relative times are masked.

use crate::harness::{Test, texts, unindent};

const JOBS: &str = r#"
    [defaults]
    timezone = "Europe/Paris"

    [jobs.launch]
    at = "2099-12-24T18:00:00"
    command = ["./launch.sh", "--loud", "two words"]

    [jobs.old]
    every = "90s"
    end = 2020-01-01T00:00:00Z
    command = "echo done | wc -c"
    shell = true
    paused = true

    [jobs.combo]
    any = [{ cron = "0 9 * * MON" }, { all = [{ every = "1h" }, { at = "2099-01-01T00:00:00Z" }] }]
    timezone = "Asia/Kathmandu"
    command = ["true"]
"#;

/// The cells of each line (split at runs of two or more spaces), with the IN column's
/// relative times, which depend on today, replaced by "_".
fn cells(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .map(|cell| {
                    if cell.starts_with("in ") {
                        "_".to_owned()
                    } else {
                        cell.to_owned()
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn human_listing_shows_trigger_zone_state_next_and_command() {
    let test = Test::new().jobfile(JOBS).args(["list"]);
    let output = test.output();
    let (out, err) = texts(&output);
    assert_eq!(err, "");
    assert_eq!(output.status.code(), Some(0));
    let mut lines = cells(&out);
    let combo = lines.pop().expect("combo's row");
    // The combination's next fire is next Monday 09:00 in Kathmandu, whatever today is.
    assert_eq!(combo[0], "combo");
    assert!(combo[3].ends_with(" 09:00:00+05:45"), "{out}");
    let jobfile = test.path("jobrun.toml").display().to_string();
    let expected = format!(
        r#"
        jobfile: {jobfile}
        scheduler: not running (start one with `jobrun start`)
        NAME  TRIGGER  ZONE  NEXT  IN  LAST  COMMAND
        launch  at 2099-12-24T17:00:00+00:00  Europe/Paris  2099-12-24 18:00:00+01:00  _  -  ./launch.sh --loud 'two words'
        old  every 1m30s  Europe/Paris  paused  -  echo done | wc -c
        "#
    );
    assert_eq!(lines, cells(&unindent(&expected)));
}

#[test]
fn at_sixty_columns_the_listing_fits_by_cutting_and_dropping_columns() {
    let test = Test::new()
        .jobfile(JOBS)
        .args(["list"])
        .env("COLUMNS", "60");
    let (out, _) = test.status(0);
    for line in out.lines().skip(2) {
        assert!(line.chars().count() <= 60, "{line:?} is wider than 60");
    }
    let table: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(
        table[0],
        "NAME    NEXT                       IN             LAST"
    );
    assert!(
        table[1].starts_with("launch  2099-12-24 18:00:00+01:00  in "),
        "{}",
        table[1]
    );
    assert_eq!(
        table[2],
        "old     paused                                    -"
    );
}

#[test]
fn json_listing_has_stable_fields() {
    let (out, _) = Test::new().jobfile(JOBS).args(["list", "--json"]).status(0);
    let jobs: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let launch = &jobs[0];
    assert_eq!(launch["name"], "launch");
    assert_eq!(launch["trigger"], "at 2099-12-24T17:00:00+00:00");
    assert_eq!(launch["timezone"], "Europe/Paris");
    assert_eq!(launch["next"], "2099-12-24T18:00:00+01:00");
    assert_eq!(launch["paused"], false);
    assert_eq!(
        launch["command"],
        serde_json::json!(["./launch.sh", "--loud", "two words"])
    );
    assert_eq!(launch["shell"], false);
    assert_eq!(launch["executor"], "default");
    let old = &jobs[1];
    // Paused: no next fire.
    assert_eq!(old["next"], serde_json::Value::Null);
    assert_eq!(old["paused"], true);
    assert_eq!(old["command"], "echo done | wc -c");
    assert_eq!(old["shell"], true);
    assert_eq!(
        jobs[2]["trigger"],
        "any(cron \"0 9 * * MON\", all(every 1h, at 2099-01-01T00:00:00+00:00))"
    );
    assert_eq!(jobs.as_array().map(Vec::len), Some(3));
}

#[test]
fn plain_listing_is_one_name_per_line() {
    Test::new()
        .jobfile(JOBS)
        .args(["list", "--format", "plain"])
        .expect(0, "launch\nold\ncombo\n", "");
}

#[test]
fn an_empty_jobfile_says_how_to_add_a_job() {
    let test = Test::new()
        .file("jobrun.toml", "# nothing yet\n")
        .args(["list"]);
    let jobfile = test.path("jobrun.toml").display().to_string();
    test.expect(
        0,
        &format!(
            "jobfile: {jobfile}\n\
             scheduler: not running (start one with `jobrun start`)\n\
             no jobs in jobrun.toml (add one with `jobrun add`)\n"
        ),
        "",
    );
}

#[test]
fn the_header_says_whether_a_scheduler_runs_and_next_is_never_in_the_past_without_one() {
    let test = crate::store::every_second("echo $JOBRUN_SCHEDULED_AT >> tick", "");
    let mut jobrun = crate::store::start_until_ticked(&test);
    let (out, _) = texts(&test.command_with(&["list"]).output().expect("list"));
    let pid = jobrun.child.id();
    assert_eq!(
        out.lines().nth(1),
        Some(format!("scheduler: running (pid {pid})").as_str()),
        "{out}"
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    // The store's last fire is now behind; the next one is counted from now all the same.
    let last = test.lines("tick").len();
    assert!(crate::harness::wait_for(3.0, || {
        // Two seconds past the last fire the scheduler handled.
        std::thread::sleep(std::time::Duration::from_millis(50));
        crate::store::epoch(&test.lines("tick")[last - 1]) + 2 < chrono::Utc::now().timestamp()
    }));
    let (out, _) = texts(&test.command_with(&["list"]).output().expect("list"));
    assert_eq!(
        out.lines().nth(1),
        Some("scheduler: not running (start one with `jobrun start`)")
    );
    let row = cells(&out)[3].clone();
    assert_eq!(row[0], "tick");
    // IN: "in …" (masked as "_") or "now", never "… ago".
    assert!(row[4] == "_" || row[4] == "now", "{out}");
}
