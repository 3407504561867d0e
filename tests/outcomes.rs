//! How runs end and what jobrun does about it (issue 10): real-time signals, failure rules,
//! hooks, retries, pings and metrics, with real processes and the real clock.

use crate::harness::{Test, wait_for};

/// `SIGRTMIN+n` as the C library numbers it, which is what `kill -s RTMIN+n` sends.
fn rtmin(n: i32) -> i32 {
    libc::SIGRTMIN() + n
}

/// Issue 10: the run was reaped but lost, and `jobrun run` never returned.
#[test]
fn run_reports_a_real_time_signal_by_name_and_exits_128_plus_its_number() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.rt]
            at = "2030-01-01T00:00:00Z"
            command = "echo before; kill -s RTMIN+2 $$"
            shell = true
            "#,
        )
        .args(["run", "rt"]);
    let mut jobrun = test.spawn();
    assert_eq!(jobrun.wait_exit(10.0), Some(128 + rtmin(2)));
    let log = jobrun.log();
    assert!(
        log.contains("finished job=rt run=1 status=\"killed by SIGRTMIN+2\""),
        "{log}"
    );
    let history = test.command_with(&["history"]).output().expect("history");
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(text.contains("killed by SIGRTMIN+2"), "{text}");
}

/// Issue 10: under `start` the lost run kept its `max_instances` count for good, so every
/// later fire was skipped, and SIGTERM left the loop re-arming a deadline in the past.
#[test]
fn start_frees_the_slot_of_a_run_a_real_time_signal_ended_and_stops_on_sigterm() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.rt]
            every = "1s"
            command = "kill -s RTMIN $$"
            shell = true
            "#,
        )
        .args(["start", "--stop-grace", "1s"]);
    let mut jobrun = test.spawn();
    let ended = |log: &str| {
        log.lines()
            .filter(|l| l.contains("finished job=rt") && l.contains("killed by SIGRTMIN\""))
            .count()
    };
    assert!(
        wait_for(6.0, || ended(&jobrun.log()) >= 2),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    let log = jobrun.log();
    assert!(!log.contains("skipped"), "{log}");
    assert!(log.contains("scheduler_stopped"), "{log}");
}

/// The output of `jobrun history --json` as a list of objects.
fn history_json(test: &Test) -> Vec<serde_json::Value> {
    let output = test
        .command_with(&["history", "--json"])
        .output()
        .expect("history");
    serde_json::from_slice(&output.stdout).expect("history --json")
}

#[test]
fn success_exit_codes_make_a_nonzero_exit_a_success_in_run_history_and_log() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.sync]
            at = "2030-01-01T00:00:00Z"
            command = ["sh", "-c", "exit 3"]
            success_exit_codes = [0, 3]

            [jobs.other]
            at = "2030-01-01T00:00:00Z"
            command = ["sh", "-c", "exit 4"]
            success_exit_codes = [0, 3]
            "#,
        )
        .args(["run", "sync"]);
    let (_, err) = test.status(0);
    assert!(
        err.contains("status=\"exit 3\"") && err.contains("result=ok"),
        "{err}"
    );
    let output = test.command_with(&["run", "other"]).output().unwrap();
    assert_eq!(output.status.code(), Some(4));
    let history = test.command_with(&["history"]).output().unwrap();
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(text.contains("ok (exit 3)"), "{text}");
    assert!(text.contains("exit 4"), "{text}");
    let rows = history_json(&test);
    assert_eq!(rows[0]["failed"], false);
    assert_eq!(rows[0]["failed_by"], serde_json::Value::Null);
    assert_eq!(rows[1]["failed"], true);
    assert_eq!(rows[1]["failed_by"], "status");
}

#[test]
fn fail_on_stderr_from_the_defaults_makes_a_run_that_wrote_to_stderr_fail() {
    let test = Test::new()
        .jobfile(
            r#"
            [defaults]
            fail_on_stderr = true

            [jobs.warn]
            at = "2030-01-01T00:00:00Z"
            command = "echo disk almost full >&2"
            shell = true

            [jobs.quiet]
            at = "2030-01-01T00:00:00Z"
            command = "echo all good"
            shell = true
            "#,
        )
        .args(["run", "warn"]);
    let (_, err) = test.status(1);
    assert!(
        err.contains("result=failed reason=\"wrote to stderr\""),
        "{err}"
    );
    let quiet = test.command_with(&["run", "quiet"]).output().unwrap();
    assert_eq!(quiet.status.code(), Some(0));
    let history = test.command_with(&["history"]).output().unwrap();
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(text.contains("failed: wrote to stderr (exit 0)"), "{text}");
    let rows = history_json(&test);
    assert_eq!(rows[0]["failed_by"], "stderr");
    assert_eq!(rows[1]["failed"], false);
}

/// `NAME=value` lines of a file a hook wrote with `env`, as a map.
fn env_file(test: &Test, name: &str) -> std::collections::BTreeMap<String, String> {
    test.lines(name)
        .into_iter()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

#[test]
fn on_failure_gets_every_fact_of_the_run_and_its_output_file_is_removed_after() {
    let test = Test::new()
        .jobfile(
            r#"
            [defaults]
            on_failure = "env | grep ^JOBRUN_ > failure.env; cat \"$JOBRUN_OUTPUT_FILE\" > tail.txt"
            on_success = ["sh", "-c", "env | grep ^JOBRUN_ > success.env"]
            shell = true

            [jobs.backup]
            at = "2030-01-01T00:00:00Z"
            timezone = "Europe/Paris"
            command = "echo dumping; echo disk full >&2; exit 3"
            "#,
        )
        .args(["run", "backup"]);
    let (_, err) = test.status(3);
    let facts = env_file(&test, "failure.env");
    assert_eq!(facts["JOBRUN_JOB"], "backup", "{facts:?}");
    assert_eq!(facts["JOBRUN_RUN_ID"], "1", "{facts:?}");
    assert!(
        facts["JOBRUN_SCHEDULED_AT"].ends_with("+01:00"),
        "{facts:?}"
    );
    assert_eq!(facts["JOBRUN_STATUS"], "exit 3");
    assert_eq!(facts["JOBRUN_EXIT_CODE"], "3");
    assert!(!facts.contains_key("JOBRUN_SIGNAL"));
    assert!(
        facts["JOBRUN_DURATION_MS"].parse::<u64>().is_ok(),
        "{facts:?}"
    );
    assert_eq!(facts["JOBRUN_ATTEMPT"], "1");
    assert_eq!(test.lines("tail.txt"), ["dumping", "disk full"]);
    assert!(
        !std::path::Path::new(&facts["JOBRUN_OUTPUT_FILE"]).exists(),
        "removed after the hook"
    );
    assert!(!test.path("success.env").exists());
    assert!(
        err.contains("hook_started job=backup run=1 hook=on_failure"),
        "{err}"
    );
    assert!(
        err.contains("hook_finished job=backup run=1 hook=on_failure status=\"exit 0\""),
        "{err}"
    );
}

#[test]
fn on_success_runs_after_a_success_and_a_signal_is_named_for_on_failure() {
    let test = Test::new()
        .jobfile(
            r#"
            [defaults]
            on_failure = ["sh", "-c", "env | grep ^JOBRUN_ > failure.env"]
            on_success = ["sh", "-c", "env | grep ^JOBRUN_ > success.env"]

            [jobs.fine]
            at = "2030-01-01T00:00:00Z"
            command = ["true"]

            [jobs.killed]
            at = "2030-01-01T00:00:00Z"
            command = ["sh", "-c", "kill -s RTMIN+2 $$"]
            "#,
        )
        .args(["run", "fine"]);
    test.status(0);
    let success = env_file(&test, "success.env");
    assert_eq!(success["JOBRUN_STATUS"], "ok");
    assert_eq!(success["JOBRUN_EXIT_CODE"], "0");
    assert!(!test.path("failure.env").exists());
    let killed = test.command_with(&["run", "killed"]).output().unwrap();
    assert_eq!(killed.status.code(), Some(128 + rtmin(2)));
    let failure = env_file(&test, "failure.env");
    assert_eq!(failure["JOBRUN_STATUS"], "killed by SIGRTMIN+2");
    assert_eq!(failure["JOBRUN_SIGNAL"], "SIGRTMIN+2");
    assert!(!failure.contains_key("JOBRUN_EXIT_CODE"));
}

#[test]
fn a_hanging_hook_is_killed_at_its_timeout_while_the_job_keeps_firing_on_time() {
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.tick]
            cron = "* * * * * *"
            command = "echo $JOBRUN_SCHEDULED_AT $(date +%s.%N) >> ticks; exit 1"
            shell = true
            on_failure = ["sleep", "30"]
            hook_timeout = "1s"
            kill_after = "1s"
            "#,
        )
        .args(["start"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(8.0, &["hook_finished job=tick", "timed_out=true"]);
    assert!(
        wait_for(6.0, || test.lines("ticks").len() >= 5),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(10.0), Some(0));
    let log = jobrun.log();
    assert!(log.contains("timed_out job=tick.on_failure"), "{log}");
    assert!(!log.contains("skipped"), "{log}");
    for tick in test.lines("ticks") {
        let (scheduled, started) = tick.split_once(' ').unwrap();
        let scheduled = chrono::DateTime::parse_from_rfc3339(scheduled).unwrap();
        let late = started.parse::<f64>().unwrap() - scheduled.timestamp() as f64;
        assert!((0.0..0.5).contains(&late), "{late:.3}s late: {tick}\n{log}");
    }
}

/// An `at` trigger `seconds` from now, in RFC 3339 (whole seconds).
fn at_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn a_failed_fire_is_retried_until_it_succeeds_with_the_attempt_in_its_environment() {
    let test = Test::new()
        .jobfile(&format!(
            r#"
            [jobs.flaky]
            at = "{}"
            command = "echo $JOBRUN_ATTEMPT >> attempts; test $JOBRUN_ATTEMPT -ge 3"
            shell = true
            retries = 3
            retry_delay = "1s"
            on_failure = "echo $JOBRUN_ATTEMPT >> failed"
            on_success = "echo $JOBRUN_ATTEMPT >> succeeded"
            "#,
            at_in(2)
        ))
        .args(["start"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(12.0, || test.lines("succeeded").len() == 1),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
    assert_eq!(test.lines("attempts"), ["1", "2", "3"]);
    assert_eq!(test.lines("succeeded"), ["3"]);
    assert!(
        !test.path("failed").exists(),
        "on_failure only after the last attempt"
    );
    let log = jobrun.log();
    assert!(
        log.contains("retry_planned job=flaky run=1 attempt=2/4"),
        "{log}"
    );
    assert!(log.contains("attempt=3/4"), "{log}");
    let history = test.command_with(&["history"]).output().unwrap();
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(text.contains("exit 1 (attempt 1/4)"), "{text}");
    assert!(text.contains("exit 1 (attempt 2/4)"), "{text}");
    assert!(text.contains("ok (attempt 3/4)"), "{text}");
}

/// The retry is in the store: jobrun killed with SIGKILL between two attempts makes the
/// remaining ones after its restart, and on_failure follows the last.
#[test]
fn a_planned_retry_survives_kill_9_and_a_restart() {
    let test = Test::new()
        .jobfile(&format!(
            r#"
            [jobs.broken]
            at = "{}"
            command = "echo $JOBRUN_ATTEMPT >> attempts; exit 1"
            shell = true
            retries = 2
            retry_delay = "3s"
            on_failure = "echo $JOBRUN_ATTEMPT >> failed"
            "#,
            at_in(2)
        ))
        .args(["start"]);
    let mut first = test.spawn();
    first.expect_log(8.0, &["retry_planned job=broken", "attempt=2/3"]);
    first.child.kill().expect("SIGKILL");
    first.child.wait().expect("reaped");
    assert_eq!(test.lines("attempts"), ["1"]);
    let mut second = test.spawn();
    second.expect_log(5.0, &["scheduler_started", "retries=1"]);
    assert!(
        wait_for(15.0, || test.lines("failed").len() == 1),
        "log:\n{}",
        second.log()
    );
    second.signal("TERM");
    assert_eq!(second.wait_exit(5.0), Some(0));
    assert_eq!(test.lines("attempts"), ["1", "2", "3"]);
    assert_eq!(test.lines("failed"), ["3"]);
}

/// A request the test's HTTP server received: method, path with query, body.
type Request = (String, String, String);

/// An HTTP server on 127.0.0.1 for health pings: it answers `status` to every request and keeps
/// them; it serves at most 100 connections, then stops. Its address, and what it received.
fn ping_server(status: u16) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Request>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = std::sync::Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            // Requests on this connection, one after the other (keep-alive).
            loop {
                let mut first = String::new();
                if reader.read_line(&mut first).unwrap_or(0) == 0 {
                    break;
                }
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap_or(0);
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap_or(());
                let mut words = first.split_whitespace();
                let method = words.next().unwrap_or_default().to_owned();
                let path = words.next().unwrap_or_default().to_owned();
                keep.lock().unwrap().push((
                    method,
                    path,
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nOK");
                if writer.write_all(reply.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (address, received)
}

/// The `rid` of a ping's path.
fn rid(path: &str) -> &str {
    path.split_once("rid=").map_or("", |(_, r)| r)
}

#[test]
fn pings_mark_start_success_and_failure_with_a_run_id_and_the_output_as_body() {
    let (server, received) = ping_server(200);
    let test = Test::new()
        .jobfile(&format!(
            r#"
            [defaults]
            ping_url = "{server}/s3cr3t"

            [jobs.ok]
            at = "2030-01-01T00:00:00Z"
            command = ["echo", "all good"]

            [jobs.bad]
            at = "2030-01-01T00:00:00Z"
            command = ["sh", "-c", "echo broken >&2; exit 2"]
            "#
        ))
        .args(["run", "ok"]);
    let (_, err) = test.status(0);
    let bad = test.command_with(&["run", "bad"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got.iter().all(|(method, _, _)| method == "POST"), "{got:?}");
    assert!(got[0].1.starts_with("/s3cr3t/start?rid="), "{got:?}");
    assert!(got[1].1.starts_with("/s3cr3t?rid="), "{got:?}");
    assert_eq!(rid(&got[0].1), rid(&got[1].1));
    assert_eq!(rid(&got[0].1).len(), 36);
    assert_eq!(got[1].2, "all good\n");
    assert!(got[2].1.starts_with("/s3cr3t/start?rid="), "{got:?}");
    assert!(got[3].1.starts_with("/s3cr3t/fail?rid="), "{got:?}");
    assert_eq!(rid(&got[2].1), rid(&got[3].1));
    assert_ne!(rid(&got[0].1), rid(&got[2].1));
    assert_eq!(got[3].2, "broken\n");
    assert!(!err.contains("s3cr3t"), "{err}");
}

#[test]
fn a_ping_that_keeps_failing_is_logged_without_the_secret_part_of_its_url() {
    let (server, received) = ping_server(500);
    let test = Test::new()
        .jobfile(&format!(
            r#"
            [jobs.ok]
            at = "2030-01-01T00:00:00Z"
            command = ["true"]
            ping_url = "{server}/s3cr3t"
            "#
        ))
        .args(["run", "ok"]);
    let (_, err) = test.status(0);
    assert!(
        err.contains(&format!(
            "ping_failed job=ok run=1 ping=start url=\"{server}/…\""
        )) && err.contains("tries=3"),
        "{err}"
    );
    assert!(!err.contains("s3cr3t"), "{err}");
    // Three tries of the start, three of the success.
    assert_eq!(received.lock().unwrap().len(), 6);
}

/// A ping endpoint that accepts connections and never answers holds up no fire.
#[test]
fn an_endpoint_that_never_answers_costs_the_next_fire_nothing() {
    // Bound and listening, never accepting: connections wait in its backlog, unanswered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let test = Test::new()
        .jobfile(&format!(
            r#"
            [jobs.tick]
            cron = "* * * * * *"
            command = "echo $JOBRUN_SCHEDULED_AT $(date +%s.%N) >> ticks"
            shell = true
            ping_url = "http://{}/check"
            "#,
            silent.local_addr().unwrap()
        ))
        .args(["start"]);
    let mut jobrun = test.spawn();
    assert!(
        wait_for(8.0, || test.lines("ticks").len() >= 5),
        "log:\n{}",
        jobrun.log()
    );
    jobrun.signal("TERM");
    // Queued pings get a few seconds to go out at exit, then jobrun leaves them.
    assert_eq!(jobrun.wait_exit(15.0), Some(0));
    for tick in test.lines("ticks") {
        let (scheduled, started) = tick.split_once(' ').unwrap();
        let scheduled = chrono::DateTime::parse_from_rfc3339(scheduled).unwrap();
        let late = started.parse::<f64>().unwrap() - scheduled.timestamp() as f64;
        assert!((0.0..0.5).contains(&late), "{late:.3}s late: {tick}");
    }
    drop(silent);
}

/// `GET /metrics` from a `jobrun start --metrics`, parsed by a Prometheus text parser.
fn scrape(url: &str) -> prometheus_parse::Scrape {
    use std::io::{Read, Write};
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches("/metrics");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).expect("Prometheus text")
}

/// The value of a sample `metric{job=...}` (and `outcome=...` when given).
fn sample(
    scrape: &prometheus_parse::Scrape,
    metric: &str,
    job: &str,
    outcome: Option<&str>,
) -> f64 {
    let found = scrape.samples.iter().find(|s| {
        s.metric == metric
            && s.labels.get("job") == Some(job)
            && (outcome.is_none() || s.labels.get("outcome") == outcome)
    });
    match found.map(|s| &s.value) {
        Some(
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v),
        ) => *v,
        other => panic!("{metric}{{job={job}}}: {other:?} in {:#?}", scrape.samples),
    }
}

#[test]
fn metrics_scraped_while_jobrun_runs_match_its_history() {
    let at = at_in(2);
    let test = Test::new()
        .jobfile(&format!(
            r#"
            [jobs.ok]
            at = "{at}"
            command = ["echo", "fine"]

            [jobs.bad]
            at = "{at}"
            command = ["sh", "-c", "exit 4"]

            [jobs.later]
            every = "1h"
            command = ["true"]
            "#
        ))
        .args(["start", "--metrics", "127.0.0.1:0"]);
    let mut jobrun = test.spawn();
    jobrun.expect_log(5.0, &["scheduler_started", "metrics=http://127.0.0.1:"]);
    jobrun.expect_log(8.0, &["finished job=ok"]);
    jobrun.expect_log(8.0, &["finished job=bad"]);
    let log = jobrun.log();
    let url = log
        .split("metrics=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the metrics address in the log")
        .to_owned();
    let metrics = scrape(&url);
    let history = history_json(&test);
    for job in ["ok", "bad"] {
        let runs: Vec<_> = history.iter().filter(|r| r["job"] == job).collect();
        let failed = runs.iter().filter(|r| r["failed"] == true).count() as f64;
        let succeeded = runs.iter().filter(|r| r["failed"] == false).count() as f64;
        let scraped = |outcome| {
            metrics
                .samples
                .iter()
                .filter(|s| {
                    s.metric == "jobrun_runs_total"
                        && s.labels.get("job") == Some(job)
                        && s.labels.get("outcome") == Some(outcome)
                })
                .map(|s| match s.value {
                    prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                    _ => f64::NAN,
                })
                .sum::<f64>()
        };
        assert_eq!(scraped("success"), succeeded, "{job}");
        assert_eq!(scraped("failure"), failed, "{job}");
        assert_eq!(sample(&metrics, "jobrun_running_runs", job, None), 0.0);
    }
    assert_eq!(
        sample(&metrics, "jobrun_runs_total", "ok", Some("success")),
        1.0
    );
    let ended = chrono::DateTime::parse_from_rfc3339(
        history.iter().find(|r| r["job"] == "ok").unwrap()["ended"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let last_success = sample(
        &metrics,
        "jobrun_last_success_timestamp_seconds",
        "ok",
        None,
    );
    assert!(
        (last_success - ended.timestamp() as f64).abs() < 1.0,
        "{last_success} {ended}"
    );
    let next = test
        .command_with(&["next", "later", "-n", "1", "--format", "plain"])
        .output()
        .unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(String::from_utf8_lossy(&next.stdout).trim()).unwrap();
    let scraped_next = sample(
        &metrics,
        "jobrun_next_fire_timestamp_seconds",
        "later",
        None,
    );
    assert_eq!(scraped_next, next.timestamp() as f64);
    assert!(
        metrics
            .samples
            .iter()
            .any(|s| s.metric == "jobrun_build_info" && s.labels.get("version").is_some()),
        "{:#?}",
        metrics.samples
    );
    assert!(
        metrics.samples.iter().any(
            |s| s.metric == "jobrun_run_duration_seconds" && s.labels.get("job") == Some("bad")
        ),
        "{:#?}",
        metrics.samples
    );
    jobrun.signal("TERM");
    assert_eq!(jobrun.wait_exit(5.0), Some(0));
}
