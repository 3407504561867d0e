//! `jobrun explain`: every trigger kind in plain English, and what DST does to it in three
//! zones. Always `--from`, so exact.

use crate::harness::Test;

fn explain(args: &[&str]) -> Test {
    Test::new().args(["explain"]).args(args.iter().copied())
}

#[test]
fn a_fixed_time_job_in_new_york_runs_at_three_on_the_spring_forward_day() {
    explain(&["30 2 * * *", "--tz", "America/New_York", "--from", "2027-01-01T00:00:00Z", "-n", "2"])
        .expect(
            0,
            "
            cron \"30 2 * * *\"
              at 02:30 every day in America/New_York

            next fires:
              2027-01-01 02:30:00-05:00  in 7h 30m
              2027-01-02 02:30:00-05:00  in 1d 7h

            clock changes in the coming year (to 2027-12-31):
              2027-03-14 02:30 does not exist in America/New_York; this job runs at 03:00 that day
              2027-11-07: clocks go back from 02:00 to 01:00 in America/New_York; no time of this job is repeated
            ",
            "",
        );
}

#[test]
fn a_fixed_time_job_in_the_repeated_hour_runs_in_the_first_pass() {
    explain(&["30 1 * * *", "--tz", "America/New_York", "--from", "2027-01-01T00:00:00Z", "-n", "1"])
        .expect(
            0,
            "
            cron \"30 1 * * *\"
              at 01:30 every day in America/New_York

            next fires:
              2027-01-01 01:30:00-05:00  in 6h 30m

            clock changes in the coming year (to 2027-12-31):
              2027-03-14: clocks jump from 02:00 to 03:00 in America/New_York; no time of this job is skipped
              2027-11-07 01:30 happens twice; it runs in the first pass only
            ",
            "",
        );
}

#[test]
fn other_jobs_in_london_skip_the_gap_and_run_in_both_passes() {
    explain(&["*/15 * * * *", "--tz", "Europe/London", "--from", "2027-01-01T00:00:00Z", "-n", "2"])
        .expect(
            0,
            "
            cron \"*/15 * * * *\"
              every 15 minutes every day in Europe/London

            next fires:
              2027-01-01 00:15:00+00:00  in 15m
              2027-01-01 00:30:00+00:00  in 30m

            clock changes in the coming year (to 2028-01-01):
              2027-03-28 01:00, 01:15, 01:30 and 01:45 do not exist in Europe/London (clocks jump from 01:00 to 02:00); those fires do not happen
              2027-10-31 01:00, 01:15, 01:30 and 01:45 happen twice (clocks go back from 02:00 to 01:00 in Europe/London); it runs in both passes
            ",
            "",
        );
}

#[test]
fn lord_howes_half_hour_shift() {
    explain(&["0 2 * * *", "--tz", "Australia/Lord_Howe", "--from", "2027-01-01T00:00:00Z", "-n", "1"])
        .expect(
            0,
            "
            cron \"0 2 * * *\"
              at 02:00 every day in Australia/Lord_Howe

            next fires:
              2027-01-02 02:00:00+11:00  in 15h

            clock changes in the coming year (to 2028-01-01):
              2027-04-04: clocks go back from 02:00 to 01:30 in Australia/Lord_Howe; no time of this job is repeated
              2027-10-03 02:00 does not exist in Australia/Lord_Howe; this job runs at 02:30 that day
            ",
            "",
        );
}

#[test]
fn intervals_count_real_time() {
    for expr in ["90s", "every 1m30s"] {
        explain(&[expr, "--from", "2027-01-01T00:00:00Z", "-n", "2"]).expect(
            0,
            "
            every 1m30s
              every 1m30s of real time, counted from the Unix epoch (1970-01-01 00:00:00 UTC)

            next fires:
              2027-01-01 00:01:30+00:00  in 1m 30s
              2027-01-01 00:03:00+00:00  in 3m

            clock changes in the coming year (to 2028-01-01):
              every counts real time: clock changes do not move its fires
            ",
            "",
        );
    }
}

#[test]
fn a_date_time_fires_once() {
    explain(&[
        "at 2027-03-14T02:30:00",
        "--tz",
        "Europe/Paris",
        "--from",
        "2027-01-01T00:00:00Z",
    ])
    .expect(
        0,
        "
            at 2027-03-14T01:30:00+00:00
              once, at 2027-03-14 02:30:00+01:00 (Europe/Paris)

            next fires:
              2027-03-14 02:30:00+01:00  in 72d 1h

            clock changes in the coming year (to 2028-01-01):
              at names one instant: clock changes do not move it
            ",
        "",
    );
}

const COMBINED: &str = r#"
    [defaults]
    timezone = "Europe/Paris"

    [jobs.office]
    all = [{ cron = "*/30 * * * *" }, { cron = "* 9-10 * * MON-FRI" }]
    command = ["true"]

    [jobs.either]
    any = [{ cron = "30 2 * * SUN" }, { every = "12h" }]
    command = ["true"]
    paused = true
"#;

#[test]
fn all_reads_each_part_and_says_what_dst_does_to_each() {
    Test::new()
        .jobfile(COMBINED)
        .args(["explain", "office", "--from", "2027-03-26T00:00:00Z", "-n", "3"])
        .expect(
            0,
            "
            job office: all(cron \"*/30 * * * *\", cron \"* 9-10 * * MON-FRI\")
              whenever all of these fire at the same moment: (1) every 30 minutes every day; (2) every minute from 09:00 through 10:59 on weekdays in Europe/Paris

            next fires:
              2027-03-26 09:00:00+01:00  in 8h
              2027-03-26 09:30:00+01:00  in 8h 30m
              2027-03-26 10:00:00+01:00  in 9h

            clock changes in the coming year (to 2028-03-25):
              (1) 2027-03-28 02:00 and 02:30 do not exist in Europe/Paris (clocks jump from 02:00 to 03:00); those fires do not happen
              (1) 2027-10-31 02:00 and 02:30 happen twice (clocks go back from 03:00 to 02:00 in Europe/Paris); it runs in both passes
              (2) 2027-03-28: clocks jump from 02:00 to 03:00 in Europe/Paris; no time of this job is skipped
              (2) 2027-10-31: clocks go back from 03:00 to 02:00 in Europe/Paris; no time of this job is repeated
            ",
            "",
        );
}

#[test]
fn any_of_a_paused_job_says_it_is_paused() {
    Test::new()
        .jobfile(COMBINED)
        .args(["explain", "either", "--from", "2027-03-26T00:00:00Z", "-n", "2"])
        .expect(
            0,
            "
            job either: any(cron \"30 2 * * SUN\", every 12h)
              whenever any of these fires: (1) at 02:30 on Sundays; (2) every 12h of real time, counted from the Unix epoch (1970-01-01 00:00:00 UTC) in Europe/Paris
              (either is paused: it does not fire until resumed)

            next fires:
              2027-03-26 13:00:00+01:00  in 12h
              2027-03-27 01:00:00+01:00  in 1d

            clock changes in the coming year (to 2028-03-25):
              (1) 2027-03-28 02:30 does not exist in Europe/Paris; this job runs at 03:00 that day
              (1) 2027-10-31 02:30 happens twice; it runs in the first pass only
              (2) every counts real time: clock changes do not move its fires
            ",
            "",
        );
}

#[test]
fn neither_trigger_nor_job_is_an_error_naming_every_form() {
    Test::new().jobfile(COMBINED).args(["explain", "ofice"]).expect(
        2,
        "",
        "
        jobrun: error: EXPR: expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with seconds first), found 1; expected a cron expression (\"30 2 * * *\"), an interval (\"90s\"), a date-time (\"2026-12-24T18:00:00\") or a job's name, found \"ofice\"
        ",
    );
}

#[test]
fn list_verbose_adds_the_explanation() {
    let (out, _) = Test::new()
        .jobfile(COMBINED)
        .args(["list", "--verbose"])
        .status(0);
    let header = out.lines().nth(2).expect("header");
    assert!(header.starts_with("NAME    TRIGGER"), "{out}");
    assert!(header.contains("  EXPLANATION  "), "{out}");
    assert!(
        out.contains("  whenever any of these fires: (1) at 02:30 on Sundays; (2) every 12h"),
        "{out}"
    );
}
