//! `jobrun next`: the preview users check their schedules with. Always `--from`, so exact.

use crate::harness::{Test, wait_for};

const TWO_JOBS: &str = r#"
    [defaults]
    timezone = "America/New_York"

    [jobs.backup]
    cron = "30 2 * * *"
    command = ["true"]

    [jobs.tick]
    every = "6h"
    command = ["true"]
"#;

#[test]
fn merges_the_jobs_fires_in_time_order_across_spring_forward() {
    // 02:30 does not exist in New York on 2026-03-08: the fixed-time job runs once at 03:00 EDT.
    Test::new()
        .jobfile(TWO_JOBS)
        .args(["next", "-n", "3", "--from", "2026-03-07T12:00:00Z"])
        .expect(
            0,
            "
        TIME                       JOB     ZONE              IN
        2026-03-07 13:00:00-05:00  tick    America/New_York  in 6h
        2026-03-07 19:00:00-05:00  tick    America/New_York  in 12h
        2026-03-08 01:00:00-05:00  tick    America/New_York  in 18h
        2026-03-08 03:00:00-04:00  backup  America/New_York  in 19h
        2026-03-09 02:30:00-04:00  backup  America/New_York  in 1d 18h
        2026-03-10 02:30:00-04:00  backup  America/New_York  in 2d 18h
        ",
            "",
        );
}

#[test]
fn plain_prints_one_rfc3339_timestamp_per_line() {
    Test::new()
        .jobfile(TWO_JOBS)
        .args([
            "next",
            "backup",
            "-n",
            "2",
            "--from",
            "2026-03-07T12:00:00Z",
            "--format",
            "plain",
        ])
        .expect(
            0,
            "
        2026-03-08T03:00:00-04:00
        2026-03-09T02:30:00-04:00
        ",
            "",
        );
}

#[test]
fn json_names_the_job_zone_and_unix_time() {
    Test::new()
        .jobfile(TWO_JOBS)
        .args([
            "next",
            "backup",
            "-n",
            "1",
            "--from",
            "2026-03-07T12:00:00Z",
            "--json",
        ])
        .expect(
            0,
            r#"
        [
          {
            "job": "backup",
            "time": "2026-03-08T03:00:00-04:00",
            "timezone": "America/New_York",
            "unix": 1772953200
          }
        ]
        "#,
            "",
        );
}

#[test]
fn adhoc_cron_preview_runs_both_passes_of_fall_back_for_wildcard_hours() {
    Test::new()
        .args([
            "next",
            "--cron",
            "*/30 * * * *",
            "--tz",
            "America/New_York",
            "--from",
            "2026-11-01T04:50:00Z",
            "-n",
            "5",
            "--format",
            "plain",
        ])
        .expect(
            0,
            "
            2026-11-01T01:00:00-04:00
            2026-11-01T01:30:00-04:00
            2026-11-01T01:00:00-05:00
            2026-11-01T01:30:00-05:00
            2026-11-01T02:00:00-05:00
            ",
            "",
        );
}

#[test]
fn adhoc_fixed_time_job_runs_once_in_the_first_pass_of_fall_back() {
    Test::new()
        .args([
            "next",
            "--cron",
            "30 1 * * *",
            "--tz",
            "America/New_York",
            "--from",
            "2026-10-31T12:00:00Z",
            "-n",
            "2",
            "--format",
            "plain",
        ])
        .expect(
            0,
            "
            2026-11-01T01:30:00-04:00
            2026-11-02T01:30:00-05:00
            ",
            "",
        );
}

#[test]
fn adhoc_from_without_offset_is_read_in_the_given_zone() {
    Test::new()
        .args([
            "next",
            "--cron",
            "0 9 * * MON-FRI",
            "--tz",
            "Asia/Kathmandu",
            "--from",
            "2026-11-27T09:00:00",
            "-n",
            "2",
            "--format",
            "plain",
        ])
        .expect(
            0,
            "
            2026-11-30T09:00:00+05:45
            2026-12-01T09:00:00+05:45
            ",
            "",
        );
}

#[test]
fn adhoc_every_and_at() {
    Test::new()
        .args([
            "next",
            "--every",
            "90s",
            "--from",
            "2026-01-01T00:00:00Z",
            "-n",
            "2",
            "--format",
            "plain",
        ])
        .expect(
            0,
            "2026-01-01T00:01:30+00:00\n2026-01-01T00:03:00+00:00\n",
            "",
        );
    Test::new()
        .args([
            "next",
            "--at",
            "2026-12-24T18:00:00",
            "--tz",
            "Europe/Paris",
            "--from",
            "2026-01-01T00:00:00Z",
            "-n",
            "3",
        ])
        .expect(
            0,
            "TIME                       IN\n2026-12-24 18:00:00+01:00  in 357d 17h\n",
            "",
        );
}

#[test]
fn paused_jobs_are_left_out_unless_named() {
    let test = Test::new().jobfile(
        r#"
        [jobs.on]
        cron = "0 12 * * *"
        command = ["true"]

        [jobs.off]
        cron = "0 13 * * *"
        command = ["true"]
        paused = true
        "#,
    );
    test.args(["next", "-n", "1", "--from", "2026-01-01T00:00:00Z"])
        .expect(
            0,
            "
        TIME                       JOB  ZONE  IN
        2026-01-01 12:00:00+00:00  on   UTC   in 12h
        (1 paused job not shown: off; name a job to preview it anyway)
        ",
            "",
        );
    Test::new()
        .file(
            "jobrun.toml",
            "[jobs.off]\ncron = \"0 13 * * *\"\ncommand = [\"true\"]\npaused = true\n",
        )
        .args([
            "next",
            "off",
            "-n",
            "1",
            "--from",
            "2026-01-01T00:00:00Z",
            "--format",
            "plain",
        ])
        .expect(0, "2026-01-01T13:00:00+00:00\n", "");
}

#[test]
fn jobs_without_a_zone_use_tz_from_the_environment() {
    Test::new()
        .env("TZ", "Australia/Lord_Howe")
        .file(
            "jobrun.toml",
            "[jobs.a]\ncron = \"15 2 * * *\"\ncommand = [\"true\"]\n",
        )
        .args([
            "next",
            "-n",
            "2",
            "--from",
            "2026-10-03T00:00:00Z",
            "--format",
            "plain",
        ])
        .expect(
            0,
            // Lord Howe moves from +10:30 to +11:00 at 02:00 on 2026-10-04; 02:15 is skipped.
            "2026-10-04T02:30:00+11:00\n2026-10-05T02:15:00+11:00\n",
            "",
        );
}

#[test]
fn window_and_one_off_jobs_stop_firing() {
    Test::new()
        .jobfile(
            r#"
            [jobs.once]
            at = "2026-06-01T12:00:00Z"
            command = ["true"]

            [jobs.window]
            every = "1d"
            start = 2026-06-01T00:00:00Z
            end = 2026-06-02T00:00:00Z
            command = ["true"]
            "#,
        )
        .args(["next", "--from", "2026-05-01T00:00:00Z", "--json"])
        .expect(
            0,
            r#"
            [
              {
                "job": "window",
                "time": "2026-06-01T00:00:00+00:00",
                "timezone": "UTC",
                "unix": 1780272000
              },
              {
                "job": "once",
                "time": "2026-06-01T12:00:00+00:00",
                "timezone": "UTC",
                "unix": 1780315200
              },
              {
                "job": "window",
                "time": "2026-06-02T00:00:00+00:00",
                "timezone": "UTC",
                "unix": 1780358400
              }
            ]
            "#,
            "",
        );
}

#[test]
fn unknown_names_are_reported_with_a_suggestion() {
    Test::new()
        .jobfile(TWO_JOBS)
        .args(["next", "bakup"])
        .expect(
            2,
            "",
            "jobrun: error: no job named \"bakup\" in jobrun.toml (did you mean \"backup\"?)\n",
        );
}

#[test]
fn plain_over_several_jobs_names_the_job_of_each_time() {
    // One job (or an ad-hoc trigger): bare timestamps; several: timestamp, tab, job.
    Test::new()
        .jobfile(TWO_JOBS)
        .args([
            "next",
            "-n",
            "2",
            "--from",
            "2026-03-07T12:00:00Z",
            "--format",
            "plain",
        ])
        .expect(
            0,
            "
        2026-03-07T13:00:00-05:00\ttick
        2026-03-07T19:00:00-05:00\ttick
        2026-03-08T03:00:00-04:00\tbackup
        2026-03-09T02:30:00-04:00\tbackup
        ",
            "",
        );
}

/// Starts `jobrun next` with these arguments, stdout piped, and returns the child and a
/// reader of its lines.
fn streaming(
    test: &Test,
    args: &[&str],
) -> (
    std::process::Child,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let mut child = test
        .command_with(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn jobrun next");
    let stdout = child.stdout.take().expect("stdout");
    (child, std::io::BufReader::new(stdout).lines())
}

#[test]
fn an_endless_preview_prints_at_once_and_ends_quietly_when_the_reader_goes() {
    // `jobrun next -n 18446744073709551615 | head -2` (issue 12, item 9).
    let test = Test::new();
    for format in ["human", "plain", "json"] {
        let (mut child, mut lines) = streaming(
            &test,
            &[
                "next",
                "--cron",
                "* * * * * *",
                "-n",
                "18446744073709551615",
                "--from",
                "2026-01-01T00:00:00Z",
                "--format",
                format,
            ],
        );
        let first: Vec<String> = lines.by_ref().take(2).map(|l| l.expect("line")).collect();
        assert_eq!(first.len(), 2, "{format}");
        drop(lines);
        let exited = wait_for(5.0, || matches!(child.try_wait(), Ok(Some(_))));
        if !exited {
            let _ = child.kill();
        }
        assert!(exited, "{format}: jobrun went on after its reader left");
        assert_eq!(child.wait().expect("status").code(), Some(0), "{format}");
    }
}

/// The peak resident memory of a process, in KiB (`VmHWM` of /proc/PID/status).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[test]
fn memory_stays_flat_however_many_fires_are_printed() {
    // 770 MB for 3,000,000 fires when everything was held in memory (issue 12, item 9).
    let test = Test::new();
    let (mut child, mut lines) = streaming(
        &test,
        &[
            "next",
            "--cron",
            "* * * * * *",
            "-n",
            "18446744073709551615",
            "--from",
            "2026-01-01T00:00:00Z",
        ],
    );
    let read = lines.by_ref().take(200_000).count();
    assert_eq!(read, 200_000);
    // jobrun is now blocked on the full pipe, having printed at least as much.
    let peak = peak_rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert!(peak < 30 * 1024, "peak RSS {peak} KiB after 200,000 fires");
}
